/*
 * target.h: replaying into a server pktmem did not build.
 *
 *   --exec 'CMD ARGS' --port N   pktmem starts CMD (through /bin/sh -c) in
 *                                the server namespace, waits until N
 *                                accepts, replays, stops it (SIGTERM, then
 *                                SIGKILL) and reaps it
 *   --target HOST:PORT [--netns NAME]
 *                                a server the user already runs, in the
 *                                named namespace (/run/netns/NAME) or in
 *                                pktmem's own; replayed over TCP sockets
 *
 * target_run() is an engine_server.run (engine.h): the engine forks it
 * into the server namespace (packet path) or leaves it in the caller's
 * (socket path).  There it starts the command in its own process group
 * (stdout sent to stderr, stdin /dev/null, SIGINT/SIGTERM back to their
 * defaults, PR_SET_PDEATHSIG so it dies with pktmem), probes the port with
 * connect() until it accepts, the command exits, or the deadline passes,
 * and then watches the server's responses on the wire until the engine
 * stops it.
 *
 * Verification without the built-in server's stats block: the engine
 * checks that the server's kernel ACKed every client byte of every flow
 * (engine_server.foreign).  Response codes: a packet socket in the server
 * namespace sees every TCP segment the server sends (PACKET_OUTGOING on the
 * server's veth end, or lo on the socket path), reassembles each
 * connection's response stream in sequence order and frames it (status
 * line, Content-Length, chunked, close-delimited; 1xx, 204 and 304 carry
 * no body), counting responses by class.  Limit: a response to HEAD
 * declares a body it does not carry; pktmem does not pair responses with
 * requests, so a capture with HEAD requests miscounts what follows them on
 * that connection (counted as parse errors when the framing breaks).
 *
 * Allocation counting (--exec only): LD_PRELOAD of libpktmem-alloc.so
 * (preload/) with a shared block passed by fd
 * (PKTMEM_ALLOC_FD).  The window is from the moment the port first
 * accepted (after the probe) to the stop, so start-up allocations are not
 * counted; per request = window totals / the capture's requests.  A
 * statically linked program (no PT_INTERP), a block no process mapped, or
 * a window without a single call give `unavailable` with the reason.
 *
 * Ownership: struct target owns its shared mappings and the memfd; the
 * command's processes are started and reaped by target_run() in the
 * engine's child.  Errors of the child come back through shared memory
 * (target_error()).
 */
#ifndef PKTMEM_REPLAY_TARGET_H
#define PKTMEM_REPLAY_TARGET_H

#include "lib/err.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/stats.h"

/* Module errors (negative, below the errno range: lib/err.h). */
enum {
	TARGET_E_EXITED = PM_E_TARGET - 1,	/* the command exited before it listened */
	TARGET_E_TIMEOUT = PM_E_TARGET - 2,	/* nothing accepted before the deadline */
	TARGET_E_ADDR = PM_E_TARGET - 3,		/* HOST:PORT is not an address and port */
	TARGET_E_NETNS = PM_E_TARGET - 4,		/* the named namespace does not exist */
};

struct target_cfg {
	const char *command;	/* --exec: run through /bin/sh -c; NULL for --target */
	uint16_t port;		/* where the server listens */
	const char *host;	/* --target: numeric IPv4/IPv6 address; NULL = 127.0.0.1 */
	uint32_t ready_ms;	/* deadline for the port to accept; 0 = 10000 */
	/* LD_PRELOAD interposer (libpktmem-alloc.so); NULL = no allocation
	 * counting (alloc_why says why when the caller knows) */
	const char *preload;
	const char *alloc_why;
	/* optional, called in the engine's child once the port accepted,
	 * before the replay starts: the command's pid and the processes it
	 * forked by then (nginx's workers), at most 8; with --target, the
	 * processes holding the listening socket (/proc/net/tcp{,6} inode ->
	 * /proc/PID/fd), or n = 0 and why when none is visible; the profiler
	 * attaches here. */
	int (*on_listening)(void *arg, const pid_t *pids, int n, const char *why);
	void *hook_arg;
};

/* What the run saw; counts are final once engine_run() returned. */
struct target_report {
	pid_t pid;			/* the command's (first) pid; 0 for --target */
	bool exited_early;		/* the command exited during the replay */
	int exit_status;		/* its wait status then */
	/* responses seen on the wire, by class: [1] 1xx ... [5] 5xx, [0]
	 * status codes outside 100..599 */
	uint64_t status[6];
	uint64_t responses;
	uint64_t response_bytes;	/* payload the server sent, first copies */
	uint64_t parse_errors;		/* response streams that could not be framed */
	uint64_t stream_gaps;		/* segments after a hole in a response stream */
	uint64_t capture_drops;		/* packets the packet socket lost */
	const char *capture_why;	/* NULL, or why response codes are unavailable */
	/* allocation window (see above) */
	bool alloc_available;
	const char *alloc_why;		/* when not available */
	uint64_t alloc_inits;		/* processes that loaded the interposer */
	uint64_t allocs;		/* malloc + calloc + realloc + aligned calls */
	uint64_t mallocs, callocs, reallocs, memaligns, frees;
	uint64_t alloc_bytes;		/* bytes requested */
};

struct target;

int target_new(struct target **out, const struct target_cfg *cfg);
void target_free(struct target *t);

/* engine_server.run: arg is the struct target. */
int target_run(void *arg, struct stats_block *st, const char *listen,
	       volatile sig_atomic_t *stop);

/* After engine_run(): what happened.  requests (the capture's) decides
 * whether a window without calls means "no libc malloc". */
void target_report(struct target *t, uint64_t requests, struct target_report *out);
/* The child's one-line error ("" when none), for a failed start. */
const char *target_error(const struct target *t);

/* Moves the calling process (single-threaded) into /run/netns/NAME. */
int target_enter_netns(const char *name);
/* "HOST:PORT" or "[V6]:PORT", numeric. */
int target_parse_hostport(const char *s, struct sockaddr_storage *sa, socklen_t *len,
			  char *host, size_t hostlen, uint16_t *port);

/* 1 if the command's program is a statically linked ELF (no PT_INTERP),
 * 0 if dynamic or not ELF (a script), negative when it cannot be found;
 * path gets the resolved program. */
int target_is_static(const char *command, char *path, size_t pathlen);

/* Where libpktmem-alloc.so is: $PKTMEM_PRELOAD, else next to the running
 * binary.  0 and path filled, or -ENOENT. */
int target_find_preload(char *path, size_t pathlen);

const char *target_strerror(int err);

#endif
