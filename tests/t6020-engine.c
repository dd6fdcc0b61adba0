/* t6020: the replay engine end to end against the sink (a plain kernel
 * listener): IPv4 and IPv6 flows through mmap, raw and socket, exact bytes
 * and contents; no RST from the replaying side's kernel. */
#include "tests/tap.h"
#include "tests/replay_util.h"

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

	memset(&cfg, 0, sizeof(cfg));
	srv = ru_server_setup(&cfg, false);
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
