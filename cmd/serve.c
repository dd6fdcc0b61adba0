/*
 * serve.c: 'pktmem serve': the core server alone on a port, for curl/wrk.
 *
 * The server runs in a second thread; the main thread owns the signals
 * (blocked everywhere, taken with sigtimedwait) so SIGUSR1 can print the
 * stage table without async-signal-safety games, and SIGINT/SIGTERM set the
 * stop flag the server polls.
 */
#include "cmd/cmd.h"
#include "core/privs.h"
#include "core/sandbox.h"
#include "lib/opts.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "core/ioloop.h"
#include "core/server.h"
#include "core/stats.h"

struct serve_thread {
	struct server *srv;
	volatile sig_atomic_t *stop;
	int rc;
	volatile int done;
};

static void *serve_main(void *arg)
{
	struct serve_thread *t = arg;

	t->rc = server_serve(t->srv, t->stop);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void peer_string(const struct stats_conn *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(c->family, c->addr, a, sizeof(a));
	if (c->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, c->port);
	else
		snprintf(buf, len, "%s:%u", a, c->port);
}

static void print_stats(FILE *f, const struct stats_block *b)
{
	unsigned i, k, open = 0;

	for (i = 0; i < b->nconns; i++)
		open += b->conn[i].state == 1;
	fprintf(f, "pktmem: serve: %llu requests, %llu bytes read; connections: %llu accepted, "
		   "%u open, %llu refused, %u untracked\n",
		(unsigned long long)b->requests, (unsigned long long)b->bytes_read,
		(unsigned long long)b->connections, open,
		(unsigned long long)b->connections_refused, b->conns_overflow);
	fprintf(f, "  responses: 2xx %llu, 4xx %llu, 5xx %llu\n",
		(unsigned long long)b->status[2], (unsigned long long)b->status[4],
		(unsigned long long)b->status[5]);
	fprintf(f, "  %-8s %10s %12s %9s %9s %9s %9s %10s %12s\n", "stage", "count",
		"total_ms", "mean_ns", "p50_ns", "p90_ns", "p99_ns", "max_ns", "bytes");
	for (i = 0; i < STATS_STAGE__N; i++) {
		const struct stats_stage *st = &b->stage[i];

		fprintf(f, "  %-8s %10llu %12.3f %9llu %9llu %9llu %9llu %10llu %12llu\n",
			stats_stage_name(i), (unsigned long long)st->count,
			(double)st->total_ns / 1e6,
			(unsigned long long)(st->count ? st->total_ns / st->count : 0),
			(unsigned long long)stats_percentile(st, 50),
			(unsigned long long)stats_percentile(st, 90),
			(unsigned long long)stats_percentile(st, 99),
			(unsigned long long)st->max_ns, (unsigned long long)st->bytes);
		for (k = 0; k < b->ncounters; k++)
			if (b->counter_error[k] == 0 && (i == STATS_PARSE || i == STATS_DESER))
				fprintf(f, "  %-8s   %s: %llu\n", "", b->counter_name[k],
					(unsigned long long)st->counter[k]);
	}
	for (k = 0; k < b->ncounters; k++)
		if (b->counter_error[k])
			fprintf(f, "  counter %s: unavailable: %s\n", b->counter_name[k],
				strerror(-b->counter_error[k]));
	fprintf(f, "  alloc: %llu allocations, %llu frees, %llu reallocs, %llu bytes, "
		   "peak %llu bytes live, %llu fields\n",
		(unsigned long long)b->alloc.allocs, (unsigned long long)b->alloc.frees,
		(unsigned long long)b->alloc.reallocs, (unsigned long long)b->alloc.bytes,
		(unsigned long long)b->alloc.peak_live_bytes,
		(unsigned long long)b->alloc.fields);
	fflush(f);
}

static json_t *stats_json(const struct stats_block *b, const char *listen,
			  const struct server_config *cfg)
{
	json_t *root = json_object(), *stages = json_object(), *conns = json_array();
	json_t *resp = json_object(), *alloc = json_object(), *cnt;
	unsigned i, k;

	json_object_set_new(root, "schema", json_string("pktmem-serve-stats/1"));
	json_object_set_new(root, "listen", json_string(listen));
	json_object_set_new(root, "io", json_string(server_io_name(cfg->io)));
	json_object_set_new(root, "server", json_string(cfg->kind == SERVER_ECHO ? "echo" : "http"));
	json_object_set_new(root, "deser", json_string(deser_mode_name(cfg->deser)));
	json_object_set_new(root, "requests", json_integer((json_int_t)b->requests));
	json_object_set_new(root, "bytes_read", json_integer((json_int_t)b->bytes_read));
	json_object_set_new(root, "connections", json_integer((json_int_t)b->connections));
	json_object_set_new(root, "connections_refused", json_integer((json_int_t)b->connections_refused));
	json_object_set_new(root, "conns_overflow", json_integer(b->conns_overflow));
	json_object_set_new(resp, "2xx", json_integer((json_int_t)b->status[2]));
	json_object_set_new(resp, "4xx", json_integer((json_int_t)b->status[4]));
	json_object_set_new(resp, "5xx", json_integer((json_int_t)b->status[5]));
	json_object_set_new(root, "responses", resp);
	for (i = 0; i < STATS_STAGE__N; i++) {
		const struct stats_stage *st = &b->stage[i];
		json_t *o = json_object();

		json_object_set_new(o, "count", json_integer((json_int_t)st->count));
		json_object_set_new(o, "bytes", json_integer((json_int_t)st->bytes));
		json_object_set_new(o, "total_ns", json_integer((json_int_t)st->total_ns));
		json_object_set_new(o, "mean_ns", json_integer((json_int_t)(st->count ? st->total_ns / st->count : 0)));
		json_object_set_new(o, "p50_ns", json_integer((json_int_t)stats_percentile(st, 50)));
		json_object_set_new(o, "p90_ns", json_integer((json_int_t)stats_percentile(st, 90)));
		json_object_set_new(o, "p99_ns", json_integer((json_int_t)stats_percentile(st, 99)));
		json_object_set_new(o, "max_ns", json_integer((json_int_t)st->max_ns));
		cnt = json_object();
		for (k = 0; k < b->ncounters; k++)
			if (b->counter_error[k] == 0)
				json_object_set_new(cnt, b->counter_name[k],
						    json_integer((json_int_t)st->counter[k]));
		json_object_set_new(o, "counters", cnt);
		json_object_set_new(stages, stats_stage_name(i), o);
	}
	json_object_set_new(root, "stages", stages);
	cnt = json_object();
	for (k = 0; k < b->ncounters; k++)
		json_object_set_new(cnt, b->counter_name[k],
				    b->counter_error[k] ? json_string(strerror(-b->counter_error[k]))
							: json_string("ok"));
	json_object_set_new(root, "counter_status", cnt);
	json_object_set_new(alloc, "allocs", json_integer((json_int_t)b->alloc.allocs));
	json_object_set_new(alloc, "frees", json_integer((json_int_t)b->alloc.frees));
	json_object_set_new(alloc, "reallocs", json_integer((json_int_t)b->alloc.reallocs));
	json_object_set_new(alloc, "bytes", json_integer((json_int_t)b->alloc.bytes));
	json_object_set_new(alloc, "peak_live_bytes", json_integer((json_int_t)b->alloc.peak_live_bytes));
	json_object_set_new(alloc, "fields", json_integer((json_int_t)b->alloc.fields));
	json_object_set_new(root, "alloc", alloc);
	for (i = 0; i < b->nconns; i++) {
		const struct stats_conn *c = &b->conn[i];
		json_t *o = json_object();
		char peer[80];

		peer_string(c, peer, sizeof(peer));
		json_object_set_new(o, "peer", json_string(peer));
		json_object_set_new(o, "state", json_string(c->state == 1 ? "open" : "closed"));
		json_object_set_new(o, "bytes_read", json_integer((json_int_t)c->bytes_read));
		json_object_set_new(o, "requests", json_integer((json_int_t)c->requests));
		json_object_set_new(o, "responses", json_integer((json_int_t)c->responses));
		json_object_set_new(o, "rejected", json_integer((json_int_t)c->rejected));
		json_object_set_new(o, "last_status", json_integer(c->last_status));
		json_array_append_new(conns, o);
	}
	json_object_set_new(root, "conns", conns);
	return root;
}

/* FILE.tmp then rename: a reader never sees half a file (cmd_write_json). */
static int write_json(const char *path, json_t *j)
{
	return cmd_write_json(path, j, JSON_INDENT(2));
}

/* Enough descriptors for max_conns plus a few: raise the soft limit. */
static void raise_nofile(unsigned max_conns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_conns + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* What the command line asks for. */
struct serve_opts {
	struct server_config cfg;
	const char *json_path;		/* --json FILE, or NULL */
	int ready_fd;			/* --ready-fd FD, or -1 */
};

static int opt_io(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	if (server_io_parse(arg, o->value) < 0) {
		snprintf(err, errlen, "--io '%s': not blocking, epoll or uring", arg);
		return -1;
	}
	return 0;
}

static int opt_deser(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	if (deser_mode_parse(arg, o->value) < 0) {
		snprintf(err, errlen, "--deser '%s': not tree, arena or none", arg);
		return -1;
	}
	return 0;
}

static int opt_server(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	enum server_kind *kind = o->value;

	if (!strcmp(arg, "http"))
		*kind = SERVER_HTTP;
	else if (!strcmp(arg, "echo"))
		*kind = SERVER_ECHO;
	else {
		snprintf(err, errlen, "--server '%s': not http or echo", arg);
		return -1;
	}
	return 0;
}

/* Seconds (fractions allowed) into whole milliseconds; a positive
 * timeout never rounds down to 0, which means none. */
static int opt_header_timeout(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	unsigned *ms = o->value;
	char *end;
	double sec;

	errno = 0;
	sec = strtod(arg, &end);
	if (!*arg || *end || errno || sec < 0 || sec > 86400) {
		snprintf(err, errlen, "--header-timeout '%s': not seconds (0 = none)", arg);
		return -1;
	}
	*ms = (unsigned)(sec * 1000 + 0.5);
	if (sec > 0 && !*ms)
		*ms = 1;
	return 0;
}

/* Fills so from argv.  0, or -1 with the exit code in *rc. */
static int serve_options(int argc, char **argv, struct serve_opts *so, int *rc)
{
	/* the numbers pass through uint64_t (OPT_U64); ready_fd UINT64_MAX: none */
	uint64_t max_conns, max_hdr, max_body, ready_fd = UINT64_MAX;
	struct server_config *cfg = &so->cfg;
	const struct opt opts[] = {
		OPT_STRING(0, "listen", &cfg->listen, "ADDR:PORT", NULL),
		OPT_CALLBACK(0, "io", &cfg->io, "MODE", opt_io, NULL),
		OPT_CALLBACK(0, "deser", &cfg->deser, "MODE", opt_deser, NULL),
		OPT_CALLBACK(0, "server", &cfg->kind, "KIND", opt_server, NULL),
		OPT_U64(0, "max-conns", &max_conns, "N", 1, 1000000, NULL),
		OPT_CALLBACK(0, "header-timeout", &cfg->header_timeout_ms, "SEC",
			     opt_header_timeout, NULL),
		OPT_U64(0, "max-header-bytes", &max_hdr, "N", 64, 1u << 30, NULL),
		OPT_U64(0, "max-body-bytes", &max_body, "N", 0, SIZE_MAX, NULL),
		OPT_STRING(0, "json", &so->json_path, "FILE", NULL),
		OPT_U64(0, "ready-fd", &ready_fd, "FD", 0, 65535, NULL),
		OPT_END(),
	};
	/* The synopsis names every option; the table lists none. */
	const struct opt_cmd cmd = {
		.name = "serve",
		.usage =
		"usage: pktmem serve [--listen ADDR:PORT] [--io blocking|epoll|uring]\n"
		"                    [--deser tree|arena|none] [--server http|echo]\n"
		"                    [--max-conns N] [--header-timeout SEC]\n"
		"                    [--max-header-bytes N] [--max-body-bytes N]\n"
		"                    [--json FILE] [--ready-fd FD]\n",
		.intro =
		"\n"
		"Runs pktmem's core server in the foreground (default 127.0.0.1:8080,\n"
		"--io epoll, --deser tree).  It answers every request with 200 and\n"
		"{\"bytes\":N,\"fields\":M}; bad requests get 400/413/431/501 and are closed.\n"
		"The bound address is printed on stderr; --ready-fd FD also gets the port.\n"
		"SIGUSR1 prints per-stage statistics on stderr; SIGINT/SIGTERM stop the\n"
		"server and print them; --json FILE writes them (atomically).\n",
		.opts = opts,
	};
	int first;

	server_config_default(cfg);
	cfg->listen = "127.0.0.1:8080";
	cfg->deser = DESER_TREE;
	so->json_path = NULL;
	max_conns = cfg->max_conns;
	max_hdr = cfg->limits.max_header_bytes;
	max_body = cfg->limits.max_body_bytes;
	first = cmd_parse_options(&cmd, argc, argv, rc);
	if (first < 0)
		return -1;
	if (first < argc) {
		*rc = cmd_error("serve", "'%s': unexpected argument", argv[first]);
		return -1;
	}
	cfg->max_conns = (unsigned)max_conns;
	cfg->limits.max_header_bytes = (size_t)max_hdr;
	cfg->limits.max_body_bytes = (size_t)max_body;
	so->ready_fd = ready_fd == UINT64_MAX ? -1 : (int)ready_fd;
	return 0;
}

/* Listening, without capabilities, under the seccomp filter, announced
 * on stderr and on --ready-fd.  EXIT_OK, or the exit code. */
static int serve_start(const struct serve_opts *so, struct stats_block *stats,
		       struct server **srv)
{
	const struct server_config *cfg = &so->cfg;
	char err[256];
	int o;

	o = server_new(srv, cfg, stats, err, sizeof(err));
	if (o < 0)
		return cmd_error("serve", "%s (%s)", err[0] ? err : strerror(-o), server_strerror(o));
	/* Bound and listening: nothing left needs a capability.  Hostile
	 * request bytes then meet a process that has none. */
	if (privs_effective() > 0 && (o = privs_drop_all()) < 0)
		cmd_warn("serve", "dropping capabilities: %s", strerror(-o));
	/* and the syscall filter the replay's server child has
	 * (core/sandbox.h); --json writes its file at the end */
	if ((o = sandbox_enter((cfg->io == SERVER_IO_URING ? SANDBOX_URING : 0) |
			       (so->json_path ? 0 : SANDBOX_NO_FS_WRITE))) < 0)
		cmd_warn("serve", "seccomp filter: %s: serving without it", strerror(-o));
	fprintf(stderr, "pktmem: serve: listening on %s (io %s, server %s, deser %s)\n",
		server_name(*srv), server_io_name(cfg->io),
		cfg->kind == SERVER_ECHO ? "echo" : "http", deser_mode_name(cfg->deser));
	fflush(stderr);
	if (so->ready_fd >= 0) {
		char line[16];
		int n = snprintf(line, sizeof(line), "%u\n", server_port(*srv));

		if (write(so->ready_fd, line, (size_t)n) != n)
			cmd_warn("serve", "--ready-fd %d: %s", so->ready_fd, strerror(errno));
		close(so->ready_fd);
	}
	return EXIT_OK;
}

/* The stage table on stderr and --json FILE, from one snapshot. */
static int serve_final_stats(const struct serve_opts *so, struct server *srv,
			     const struct stats_block *stats, struct stats_block *snap, int rc)
{
	json_t *j;
	int o;

	stats_snapshot(stats, snap);
	print_stats(stderr, snap);
	if (!so->json_path)
		return rc;
	j = stats_json(snap, server_name(srv), &so->cfg);
	o = j ? write_json(so->json_path, j) : -ENOMEM;
	json_decref(j);
	if (o < 0)
		rc = cmd_error("serve", "'%s': %s", so->json_path, strerror(-o));
	return rc;
}

/* The signals serve takes with sigtimedwait(): blocked from before the
 * port is announced (a SIGUSR1 sent the moment the port is known must not
 * meet its default action, which kills) until the process exits (one
 * arriving after the final table is left pending, not fatal). */
static void serve_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

/* Serves in a second thread; this one takes the signals: SIGUSR1 prints
 * the stage table, SIGINT/SIGTERM/SIGHUP stop the server.  Then the final
 * table and --json.  EXIT_OK, or the exit code.  The signals are blocked
 * already (serve_signals()), so the server thread inherits the mask. */
static int serve_until_signal(const struct serve_opts *so, struct server *srv,
			      const struct stats_block *stats, struct stats_block *snap)
{
	volatile sig_atomic_t stop = 0;
	struct serve_thread th = { .srv = srv, .stop = &stop };
	sigset_t set;
	pthread_t tid;
	int rc = EXIT_OK;

	serve_signals(&set);
	if (pthread_create(&tid, NULL, serve_main, &th) != 0)
		return cmd_error("serve", "pthread_create: %s", strerror(errno));
	while (!__atomic_load_n(&th.done, __ATOMIC_ACQUIRE)) {
		struct timespec tick = { 0, 100 * 1000000 };
		int sig = sigtimedwait(&set, NULL, &tick);

		if (sig == SIGUSR1) {
			stats_snapshot(stats, snap);
			print_stats(stderr, snap);
		} else if (sig > 0) {
			stop = 1;
			break;
		}
	}
	pthread_join(tid, NULL);
	if (th.rc < 0)
		rc = cmd_error("serve", "%s: %s", server_io_name(so->cfg.io), server_strerror(th.rc));
	return serve_final_stats(so, srv, stats, snap, rc);
}

int cmd_serve(int argc, char **argv)
{
	struct stats_block *stats = NULL, *snap = NULL;
	struct server *srv = NULL;
	struct serve_opts so;
	sigset_t sigs;
	int rc, o;

	if (serve_options(argc, argv, &so, &rc) < 0)
		return rc;
	serve_signals(&sigs);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (so.cfg.io == SERVER_IO_URING) {
		const char *why;

		if (ioloop_uring_probe(&why) < 0)
			return cmd_error("serve", "--io uring: %s; use --io epoll", why);
	}
	raise_nofile(so.cfg.max_conns);
	o = stats_create(&stats, 0);
	if (o < 0)
		return cmd_error("serve", "shared stats block: %s", strerror(-o));
	snap = malloc(stats_block_bytes(stats->conn_cap));
	if (!snap) {
		rc = cmd_error("serve", "out of memory");
		goto out;
	}
	rc = serve_start(&so, stats, &srv);
	if (rc == EXIT_OK)
		rc = serve_until_signal(&so, srv, stats, snap);
out:
	server_free(srv);
	free(snap);
	stats_destroy(stats);
	return rc;
}
