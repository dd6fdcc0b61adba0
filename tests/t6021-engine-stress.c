/* t6021: the peer under load and odd shapes: 150 concurrent flows, large
 * server responses (echo: window and ACK handling both ways), a flow with
 * a capture gap (replayed up to the hole, never past it), --resegment,
 * --pps pacing, and a server that is not there (RST). */
#include "tests/tap.h"
#include "tests/replay_util.h"

static volatile sig_atomic_t stop;

static int run(struct plan *p, struct engine_cfg *cfg, struct ru_server *srv,
	       struct engine_result *r, const char *what)
{
	char err[256] = "";
	int rc;

	ru_server_reset(srv);
	rc = engine_run(p, cfg, r, &stop, err, sizeof(err));
	if (!ok(rc == 0, "%s via %s: runs", what, engine_via_name(cfg->via)))
		diag("error: %s", err);
	if (!ok(r->verified, "%s via %s: verified", what, engine_via_name(cfg->via))) {
		uint64_t i;

		for (i = 0; i < r->nfailures && i < 5; i++)
			diag("  %s", r->failures[i].msg);
	}
	return rc;
}

int main(void)
{
	struct engine_cfg cfg;
	struct engine_result r;
	struct ru_server *srv;
	struct plan *p;
	enum engine_via via;
	uint32_t i;

	plan_lazy();
	memset(&cfg, 0, sizeof(cfg));
	srv = ru_server_setup(&cfg, false);
	via = ru_is_root() ? ENGINE_MMAP : ENGINE_SOCKET;
	if (via == ENGINE_SOCKET)
		diag("not root: the packet path is skipped, the socket path runs");
	cfg.via = via;

	/* 150 flows at once */
	p = plan_new();
	for (i = 0; i < 150; i++)
		ru_flow(p, i + 1, i % 3 ? AF_INET : AF_INET6, 8, 100, 1200, 100 + i);
	plan_finish(p);
	cfg.peer.concurrency = 200;
	run(p, &cfg, srv, &r, "150 concurrent flows");
	is_int(r.flows, 150, "150 flows replayed");
	is_int(r.peer.flows_ok, 150, "150 flows closed cleanly");
	engine_result_release(&r);
	/* the same through a narrow window of concurrency */
	cfg.peer.concurrency = 7;
	run(p, &cfg, srv, &r, "150 flows, 7 at a time");
	engine_result_release(&r);
	cfg.peer.concurrency = 0;
	plan_free(p);

	/* large responses: the echo server sends 4 MiB back on one flow while
	 * the peer keeps sending; the peer must ACK it all and respect the
	 * server's window */
	srv = ru_server_setup(&cfg, true);
	p = plan_new();
	ru_flow(p, 1, AF_INET, 3000, 1400, 1400, 7);
	ru_flow(p, 2, AF_INET6, 1000, 600, 1440, 8);
	plan_finish(p);
	run(p, &cfg, srv, &r, "echo of 5 MiB");
	is_int(r.peer.server_bytes, p->bytes, "every echoed byte was received and ACKed");
	engine_result_release(&r);
	plan_free(p);
	srv = ru_server_setup(&cfg, false);

	/* a flow with a hole: bytes after it are never sent */
	p = plan_new();
	{
		struct plan_flow *f = ru_flow(p, 1, AF_INET, 5, 500, 500, 9);
		uint8_t junk[300] = { 0 };

		plan_add_gap(f, 2500, 100);
		plan_add_data(p, f, 2600, junk, sizeof(junk), 2000000000ull);
		ru_flow(p, 2, AF_INET, 3, 10, 10, 10);
	}
	plan_finish(p);
	ok(p->flow[0]->truncated && p->flow[0]->bytes == 2500 && p->flow[0]->lost_bytes == 300,
	   "a gap cuts the plan at the hole (2500 planned, 300 lost)");
	run(p, &cfg, srv, &r, "a flow with a gap");
	is_int(r.flows_truncated, 1, "one flow reported truncated");
	is_int(r.server_bytes_read, 2530, "the server read the contiguous prefix only");
	engine_result_release(&r);
	plan_free(p);

	/* --resegment and --pps */
	p = plan_new();
	ru_flow(p, 1, AF_INET, 10, 1000, 1400, 11);
	ru_flow(p, 2, AF_INET6, 10, 1000, 1400, 12);
	plan_finish(p);
	cfg.peer.resegment = 100;
	run(p, &cfg, srv, &r, "resegment 100");
	ok(r.peer.splits > 0, "segments were split (%llu)", (unsigned long long)r.peer.splits);
	engine_result_release(&r);
	cfg.peer.resegment = 0;
	cfg.peer.timing = PEER_PPS;
	cfg.peer.pps = 20000;
	run(p, &cfg, srv, &r, "pps 20000");
	ok(r.peer.gap_samples == 19, "a gap measured between each of the 20 data segments");
	engine_result_release(&r);
	cfg.peer.timing = PEER_SCALED;
	cfg.peer.speed = 10;
	run(p, &cfg, srv, &r, "speed 10x");
	engine_result_release(&r);
	cfg.peer.timing = PEER_MAX;
	plan_free(p);
	return exit_status();
}
