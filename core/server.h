/*
 * server.h: the core server: the connection handler and its entry points.
 *
 * A connection's bytes go through the stages of DESIGN.md in order: the
 * read syscalls (copy), framing + HTTP parse (framing.h, http.h), the body
 * deserialized (deser.h, counting allocator), the handler building the
 * response ({"bytes":N,"fields":M}), and the write.  Each is timed with
 * CLOCK_MONOTONIC and, when the config carries perf_event attrs, counted
 * with a per-thread self-monitoring group; sums and histograms land in a
 * struct stats_block (stats.h) that another process can read.
 *
 * Errors on the wire: a framing/parse failure gets its status (400, 413,
 * 431, 501) with "Connection: close" and the connection is closed; a body
 * that is not valid JSON gets 400 but the connection stays open (framing
 * is intact, and a replayed capture's later requests must still arrive).
 * "--server echo" skips all of it and bounces the bytes back.
 *
 * Who owns what: the caller owns the config, the stats block and the stop
 * flag; struct server owns the listener, the connections and their fds.
 * The I/O loops (ioloop.h) own the threads and drive connections through
 * the sconn_*() calls below.
 */
#ifndef PKTMEM_CORE_SERVER_H
#define PKTMEM_CORE_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/deser.h"
#include "core/http.h"
#include "core/stats.h"

struct perf_event_attr;

enum server_io { SERVER_IO_BLOCKING = 0, SERVER_IO_EPOLL, SERVER_IO_URING };
enum server_kind { SERVER_HTTP = 0, SERVER_ECHO };

#define SERVER_DEFAULT_MAX_CONNS 4096
#define SERVER_DEFAULT_HEADER_TIMEOUT_MS 10000
/* After an error response: how long to read and discard what the client
 * still sends before closing, so our close does not RST the response away
 * (the "lingering close" of RFC 9112 §9.6). */
#define SERVER_LINGER_MS 1000

struct server_config {
	const char *listen;		/* "127.0.0.1:0", "[::1]:8080" */
	int backlog;			/* 0: LISTENER_DEFAULT_BACKLOG */
	enum server_io io;
	enum server_kind kind;
	enum deser_mode deser;		/* body deserializer (deser.h) */
	struct http_limits limits;	/* header, body limits (http.h) */
	unsigned max_conns;		/* live connections; more are accepted and closed */
	unsigned header_timeout_ms;	/* a request head must arrive within; 0 = never */
	/* Optional self-monitoring group: opened per thread (pid 0, cpu -1,
	 * PERF_FORMAT_GROUP), read around parse and deser; deltas summed into
	 * stats_stage.counter[i].  One that fails to open leaves -errno in
	 * stats_block.counter_error[i]; the others keep counting. */
	const struct perf_event_attr *counters;
	const char *const *counter_names;
	unsigned ncounters;		/* at most STATS_MAX_COUNTERS */
};

struct server;

void server_config_default(struct server_config *cfg);
/* Listens (so errors such as EADDRINUSE come back here, with a message in
 * errmsg) and fills stats->port, server_pid, counter names; sets
 * stats->ready once listening.  stats must outlive the server. */
int server_new(struct server **out, const struct server_config *cfg,
	       struct stats_block *stats, char *errmsg, size_t errlen);
uint16_t server_port(const struct server *s);
const char *server_name(const struct server *s);	/* "127.0.0.1:34567" */
/* Serves until *stop becomes non-zero (checked at least every 100 ms);
 * closes every connection before returning.  0 or negative errno. */
int server_serve(struct server *s, volatile sig_atomic_t *stop);
void server_free(struct server *s);
/* The three above in one call, for a forked child (no exec needed). */
int server_run(const struct server_config *cfg, struct stats_block *stats,
	       volatile sig_atomic_t *stop);
const char *server_strerror(int err);
const char *server_io_name(enum server_io io);
int server_io_parse(const char *name, enum server_io *io);

/* ---- for the I/O loops (ioloop_*.c) ---- */

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
unsigned server_live_conns(const struct server *s);

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

uint64_t server_now_ns(void);

#endif
