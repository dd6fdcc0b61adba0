/*
 * server.h: the core server: the connection handler and its entry points.
 *
 * A connection's bytes go through the stages of stats.h in order: the
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
 * the server's private interface (server-int.h).
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
	/* Test-only (--test-extra-alloc, which tests/t8500-gate.t's gate
	 * must catch): one extra allocation per deserialized request
	 * (deser_opts.extra_alloc). */
	int test_extra_alloc;
};

struct server;

void server_config_default(struct server_config *cfg);
/* Listens (so errors such as EADDRINUSE come back here) and fills
 * stats->port, server_pid, counter names; sets stats->ready once
 * listening.  stats must outlive the server.  On failure a one-line
 * reason naming the step ("bind 127.0.0.1:80: Permission denied") is in
 * errmsg (may be NULL) and in stats->start_error. */
int server_new(struct server **out, const struct server_config *cfg,
	       struct stats_block *stats, char *errmsg, size_t errlen);
uint16_t server_port(const struct server *s);
const char *server_name(const struct server *s);	/* "127.0.0.1:34567" */
/* Serves until *stop becomes non-zero (checked at least every 100 ms);
 * closes every connection before returning (the workers' stats sections
 * keep their sums: stats_snapshot() reads them).  0 or negative errno,
 * the failed step then in stats->start_error ("io_uring_queue_init:
 * Operation not permitted"). */
int server_serve(struct server *s, volatile sig_atomic_t *stop);
void server_free(struct server *s);
/* The three above in one call, for a forked child (no exec needed); a
 * failure's reason is in stats->start_error for the parent to print. */
int server_run(const struct server_config *cfg, struct stats_block *stats,
	       volatile sig_atomic_t *stop);
const char *server_strerror(int err);
const char *server_io_name(enum server_io io);
int server_io_parse(const char *name, enum server_io *io);

#endif
