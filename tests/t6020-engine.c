/* t6020: the replay engine end to end against the sink (a plain kernel
 * listener): IPv4 and IPv6 flows through mmap, raw and socket, exact bytes
 * and contents; no RST from the replaying side's kernel.  A server child
 * that does not start: the error names its reason (stats_block
 * start_error), and the hooks run where engine.h says. */
#include "tests/tap.h"
#include "tests/replay_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void run(struct plan *p, enum engine_via via, struct ru_server *srv,
		struct engine_cfg *cfg, const char *what)
{
	struct engine_result r;
	char err[256] = "";
	int rc;

	ru_server_reset(srv);
	cfg->via = via;
	rc = engine_run(p, cfg, &r, &stop, err, sizeof(err));
	if (!ok(rc == 0, "%s via %s: runs", what, engine_via_name(via)))
		diag("error: %s", err);
	if (!ok(r.verified, "%s via %s: every flow verified (bytes and contents)", what,
		engine_via_name(via))) {
		uint64_t i;

		for (i = 0; i < r.nfailures && i < 5; i++)
			diag("  %s", r.failures[i].msg);
	}
	is_int(r.flows, p->nflows * (cfg->peer.loops ? cfg->peer.loops : 1), "%s via %s: flows", what,
	       engine_via_name(via));
	is_int(r.server_bytes_read, p->bytes * (cfg->peer.loops ? cfg->peer.loops : 1),
	       "%s via %s: server read every planned byte", what, engine_via_name(via));
	if (via != ENGINE_SOCKET) {
		is_int(r.client_out_rsts, 0, "%s via %s: the replaying side's kernel sent no RST",
		       what, engine_via_name(via));
		is_int(r.wrong_format, 0, "%s via %s: no frame refused", what, engine_via_name(via));
	}
	engine_result_release(&r);
}

/* A server that cannot listen: says why, or leaves the engine to. */
static int fail_run(void *arg, struct stats_block *st, const char *listen,
		    volatile sig_atomic_t *stop_)
{
	(void)listen;
	(void)stop_;
	if (arg)
		snprintf(st->start_error, sizeof(st->start_error), "%s", (const char *)arg);
	return -EADDRINUSE;
}

/* A server that listens, then fails in its set-up after the listen (as
 * the io_uring loop does when the kernel refuses io_uring): says why. */
static int late_fail_run(void *arg, struct stats_block *st, const char *where,
			 volatile sig_atomic_t *stop_)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)arg;
	(void)where;
	(void)stop_;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	st->port = ntohs(sa.sin_port);
	__atomic_store_n(&st->ready, 1, __ATOMIC_RELEASE);
	snprintf(st->start_error, sizeof(st->start_error), "io_uring_queue_init: refused here");
	close(fd);
	return -EPERM;
}

/* A server that listens and never stops on SIGTERM: the engine kills it. */
static int stuck_run(void *arg, struct stats_block *st, const char *where,
		     volatile sig_atomic_t *stop_)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)arg;
	(void)where;
	(void)stop_;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	signal(SIGTERM, SIG_IGN);
	st->port = ntohs(sa.sin_port);
	__atomic_store_n(&st->ready, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

struct hook_log {
	int forked, finished, complete;
	uint64_t finish_bytes;
};

static void log_forked(void *arg, int n)
{
	((struct hook_log *)arg)->forked = n;
}

static void log_finish(void *arg, const struct stats_block *const blocks[2])
{
	struct hook_log *h = arg;

	h->finished++;
	h->complete = blocks[0] && blocks[0]->finished;
	h->finish_bytes = (blocks[0] ? blocks[0]->bytes_read : 0) + (blocks[1] ? blocks[1]->bytes_read : 0);
}

/* A server the engine had to kill: finish() sees its block unfinished
 * (the profiler then leaves its stages unmeasured), and the run fails. */
static void killed_server(struct plan *p)
{
	struct engine_cfg cfg;
	struct engine_result r;
	struct hook_log h = { 0 };
	char err[256] = "";
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.via = ENGINE_SOCKET;
	cfg.server.run = stuck_run;
	cfg.verify_wait_ms = 200;
	cfg.hooks.finish = log_finish;
	cfg.hooks.arg = &h;
	rc = engine_run(p, &cfg, &r, &stop, err, sizeof(err));
	ok(h.finished == 1 && !h.complete && (rc < 0 || !r.verified),
	   "a server killed by the engine: its block is not finished, the run not verified (rc %d: %s)",
	   rc, err);
	engine_result_release(&r);
}

static void start_errors(struct plan *p)
{
	struct engine_cfg cfg;
	struct engine_result r;
	char err[256] = "";
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.via = ENGINE_SOCKET;
	cfg.server.run = fail_run;
	cfg.server.arg = (void *)"listen 127.0.0.1:0: no port today";
	rc = engine_run(p, &cfg, &r, &stop, err, sizeof(err));
	ok(rc == ENGINE_E_SERVER && !strcmp(err, "the server (IPv4) did not start listening: "
					    "listen 127.0.0.1:0: no port today"),
	   "a server that did not start: its own reason (%s)", err);
	engine_result_release(&r);
	cfg.server.arg = NULL;
	rc = engine_run(p, &cfg, &r, &stop, err, sizeof(err));
	ok(rc == ENGINE_E_SERVER && strstr(err, "did not start listening: ") &&
	   strstr(err, strerror(EADDRINUSE)), "a server that said nothing: its error (%s)", err);
	engine_result_release(&r);
	cfg.server.run = late_fail_run;
	rc = engine_run(p, &cfg, &r, &stop, err, sizeof(err));
	ok(rc == ENGINE_E_SERVER && !strcmp(err, "the server (IPv4) stopped: "
					    "io_uring_queue_init: refused here"),
	   "a server that failed after it listened: its reason, not a reset per flow (%s)", err);
	engine_result_release(&r);
}

int main(void)
{
	struct engine_cfg cfg;
	struct ru_server *srv;
	struct plan *p = plan_new();
	enum engine_via v;

	plan_lazy();
	ru_flow(p, 1, AF_INET, 40, 1, 1400, 1);
	ru_flow(p, 2, AF_INET, 3, 600, 600, 2);
	ru_flow(p, 3, AF_INET6, 40, 1, 1400, 3);
	ru_flow(p, 4, AF_INET, 1, 1, 1, 4);
	ru_flow(p, 5, AF_INET6, 20, 1000, 1440, 5);
	plan_finish(p);

	start_errors(p);
	memset(&cfg, 0, sizeof(cfg));
	srv = ru_server_setup(&cfg, false);
	{
		struct hook_log h = { 0 };

		cfg.hooks.forked = log_forked;
		cfg.hooks.finish = log_finish;
		cfg.hooks.arg = &h;
		run(p, ENGINE_SOCKET, srv, &cfg, "with hooks");
		ok(h.forked == 1 && h.finished == 1 && h.finish_bytes == p->bytes,
		   "hooks: forked(1), finish() once with the block still mapped (%llu bytes read)",
		   (unsigned long long)h.finish_bytes);
		ok(h.complete, "a server that returned: its block says finished");
		memset(&cfg.hooks, 0, sizeof(cfg.hooks));
	}
	killed_server(p);
	for (v = ENGINE_MMAP; v <= ENGINE_SOCKET; v++) {
		if (v != ENGINE_SOCKET && !ru_is_root()) {
			skip("via %s needs root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN)",
			     engine_via_name(v));
			continue;
		}
		run(p, v, srv, &cfg, "5 flows v4+v6");
	}
	/* loops: every pass gets fresh ports, the server sees each */
	cfg.peer.loops = 3;
	run(p, ru_is_root() ? ENGINE_MMAP : ENGINE_SOCKET, srv, &cfg, "3 loops");
	cfg.peer.loops = 0;
	/* the V2 RX ring too (V3 is the default) */
	if (ru_is_root()) {
		cfg.rx_version = 2;
		run(p, ENGINE_MMAP, srv, &cfg, "RX ring V2");
		cfg.rx_version = 0;
	}
	/* a server that stops reading after 1000 bytes: the run fails, naming
	 * the flow and how far it got */
	ru_server_reset(srv);
	srv->sink.close_after = 1000;
	cfg.via = ru_is_root() ? ENGINE_MMAP : ENGINE_SOCKET;
	{
		struct engine_result r;
		char err[256];

		engine_run(p, &cfg, &r, &stop, err, sizeof(err));
		ok(!r.verified && r.nfailures == 4, "a server closing after 1000 bytes: 4 flows fail (got %llu)",
		   (unsigned long long)r.nfailures);
		ok(r.nfailures && strstr(r.failures[0].msg, "flow 1 (client ") &&
		   (strstr(r.failures[0].msg, "reset by the server after") ||
		    strstr(r.failures[0].msg, "streams differ from byte offset")),
		   "the failure names the flow and the byte count");
		if (r.nfailures)
			diag("  %s", r.failures[0].msg);
		engine_result_release(&r);
	}
	plan_free(p);
	return exit_status();
}
