/*
 * server-int.h: the server's interface to its own I/O loops (ioloop_*.c),
 * private to core/server.c and the loops, as libpcap's pcap-int.h is to
 * its back-ends.  Nothing outside core/ includes it.
 *
 * A loop owns its threads; each thread makes a struct server_worker (its
 * read buffer, perf group, stats section and connection list), accepts
 * fds through server_accept_fd(), turns them into connections with
 * sconn_attach() and drives them with the sconn_*() calls: read, flush,
 * expire deadlines, linger, close.  Deadlines are CLOCK_MONOTONIC ns
 * (lib/time.h pm_now_ns()).
 */
#ifndef PKTMEM_CORE_SERVER_INT_H
#define PKTMEM_CORE_SERVER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/server.h"
#include "lib/time.h"

struct server_worker;	/* per thread: read buffer, perf group, timers */
struct sconn;		/* one accepted connection */

#define SERVER_READ_BUF (64 * 1024)	/* bytes per read syscall */

enum sconn_status {
	SCONN_OPEN = 0,		/* keep going */
	SCONN_FLUSH_CLOSE,	/* write what is queued, then close */
	SCONN_DONE,		/* close now */
};

int server_worker_new(struct server *s, struct server_worker **out);
void server_worker_free(struct server_worker *w);
/* The listener fd; accept through server_accept_fd(). */
int server_listen_fd(const struct server *s);
/* Accepts one connection's fd (TCP_NODELAY set); -EAGAIN when none is
 * waiting; -ECONNREFUSED when it was over max_conns (or out of fds) and
 * has been closed and counted in connections_refused. */
int server_accept_fd(struct server *s, int nonblock, struct sockaddr_storage *peer);
/* Makes an accepted fd a connection of worker w (the fd is the sconn's
 * from now on; NULL: out of memory, fd closed). */
struct sconn *sconn_attach(struct server_worker *w, int fd,
			   const struct sockaddr_storage *peer);
/* Gives back an fd from server_accept_fd() that never became an sconn. */
void server_drop_fd(struct server *s, int fd);

int sconn_fd(const struct sconn *c);
/* One read syscall into the worker's buffer, timed, fed to the handler. */
enum sconn_status sconn_read(struct server_worker *w, struct sconn *c);
/* Bytes that arrived by another route (io_uring): counted and handled. */
enum sconn_status sconn_input(struct server_worker *w, struct sconn *c,
			      const char *buf, size_t n, uint64_t read_ns);
/* Writes queued output: 0 all written, 1 some left (EAGAIN), < 0 error. */
int sconn_flush(struct server_worker *w, struct sconn *c);
/* Queued output, and telling the handler n bytes of it went out. */
size_t sconn_pending(const struct sconn *c, const char **p);
void sconn_wrote(struct server_worker *w, struct sconn *c, size_t n, uint64_t ns);
/* Nanosecond CLOCK_MONOTONIC deadline for this connection, 0 = none. */
uint64_t sconn_deadline(const struct sconn *c);
/* The deadline passed: queue a 408 if still waiting for a head. */
enum sconn_status sconn_expire(struct server_worker *w, struct sconn *c);
/* After SCONN_FLUSH_CLOSE was flushed: half-close and drain (lingering);
 * SCONN_DONE when there is nothing to wait for. */
enum sconn_status sconn_linger(struct server_worker *w, struct sconn *c);
void sconn_close(struct server_worker *w, struct sconn *c);
/* The worker's connections with deadlines, earliest first (single-thread
 * loops); NULL when none. */
struct sconn *server_worker_first_deadline(struct server_worker *w);
/* The worker's connections (for shutdown): the first, the one after. */
struct sconn *server_worker_any(struct server_worker *w);
struct sconn *sconn_next(struct sconn *c);
unsigned server_max_conns(const struct server *s);
void *sconn_loop_data(struct sconn *c);		/* slot for the loop's own use */
void sconn_set_loop_data(struct sconn *c, void *p);
/* A loop's step failed with -errno err: "what: <strerror>" becomes the
 * stats block's start_error (stats.h) unless one is there; returns err. */
int server_fail(struct server *s, const char *what, int err);

#endif
