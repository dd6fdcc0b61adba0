/*
 * ioloop.h: the I/O loops that drive the server's connections (--io).
 *
 * One neutral entry point, back-ends in their own files (as redis's ae.c
 * with ae_epoll.c):
 *
 *   blocking  ioloop_blocking.c  a thread per connection, plain read/write
 *             (the classic threaded server);
 *   epoll     ioloop_epoll.c     non-blocking sockets on one level-triggered
 *             epoll loop (the Go netpoller model);
 *   uring     ioloop_uring.c     io_uring (liburing) with registered buffers.
 *
 * Each loop accepts from the server's listener, enforces the header
 * deadlines the handler sets, checks *stop at least every 100 ms, and
 * closes every connection it holds before returning.  The loops drive the
 * server through its private interface (server-int.h); this header is
 * what the server and the commands see: the entry points and the probe.
 */
#ifndef PKTMEM_CORE_IOLOOP_H
#define PKTMEM_CORE_IOLOOP_H

#include <signal.h>

#include "core/server.h"

#define IOLOOP_TICK_MS 100	/* longest sleep between looks at *stop */

int ioloop_run(struct server *s, enum server_io io, volatile sig_atomic_t *stop);

int ioloop_blocking_run(struct server *s, volatile sig_atomic_t *stop);
int ioloop_epoll_run(struct server *s, volatile sig_atomic_t *stop);
int ioloop_uring_run(struct server *s, volatile sig_atomic_t *stop);
/* 0 when this kernel and process can use io_uring, else -errno; why in
 * *reason ("io_uring_disabled is 2", "io_uring_queue_init: ENOSYS"). */
int ioloop_uring_probe(const char **reason);

#endif
