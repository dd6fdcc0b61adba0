/*
 * target_int.h: what target.c (the command, the probe, the report) and
 * target_wire.c (the server's responses read off the wire) share; private
 * to replay/target*.c, the API is target.h.
 */
#ifndef PKTMEM_REPLAY_TARGET_INT_H
#define PKTMEM_REPLAY_TARGET_INT_H

#include "preload/pktmem-alloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Written by the engine's child (target_run), read by the parent. */
struct target_shared {
	int32_t pid;
	int32_t exit_status;
	uint32_t exited_early;
	uint32_t started;		/* 1 once the port accepted */
	char err[320];
	uint64_t status[6], responses, response_bytes, parse_errors, stream_gaps;
	uint64_t capture_drops;
	uint32_t capture_failed;
	char capture_why[160];
	struct pktmem_alloc_counts a0, a1;	/* at the start and the end of the window */
	uint32_t window_closed;
};

struct rconn;

/* The response watcher: a packet socket and the thread reading it. */
struct target_wire {
	int fd;
	uint16_t port;
	struct target_shared *sh;
	volatile int quit;
	struct rconn **tab;
	uint32_t cap, n;
	pthread_t thr;
	bool running;
};

/* A packet socket on the server side (dev, or every device when NULL)
 * that sees what the server sends from port, read by a thread that frames
 * the responses into c->sh.  c->sh set and c->fd -1 before.  0, or -errno
 * with why filled. */
int target_wire_start(struct target_wire *c, const char *dev, uint16_t port,
		      char *why, size_t wn);
/* Stops the thread (after it drained what is queued), adds the socket's
 * drops to c->sh, frees the streams. */
void target_wire_stop(struct target_wire *c);

#endif
