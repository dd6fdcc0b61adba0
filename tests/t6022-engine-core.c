/* t6022: replay into the core server (core/server.h): requests are counted
 * and compared per flow; a flow with a request the framer rejects
 * (duplicate Content-Length) is closed early by the server and reported as
 * expected, not as a delivery failure; a wrong expectation fails loudly. */
#include "tests/tap.h"
#include "tests/replay_util.h"

#include "core/server.h"

static volatile sig_atomic_t stop;

static int run_core(void *arg, struct stats_block *st, const char *listen,
		    volatile sig_atomic_t *stp)
{
	struct server_config sc;

	(void)arg;
	server_config_default(&sc);
	sc.listen = listen;
	return server_run(&sc, st, stp);
}

static struct plan_flow *text_flow(struct plan *p, uint64_t id, const char *const *segs)
{
	struct plan_flow proto = { 0 }, *f;
	uint64_t off = 0;

	proto.id = id;
	proto.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.9", proto.caddr);
	proto.cport = (uint16_t)(50000 + id);
	proto.sport = 80;
	proto.first_ts_ns = 1000000000ull;
	f = plan_add_flow(p, &proto);
	for (; *segs; segs++) {
		plan_add_data(p, f, off, (const uint8_t *)*segs, strlen(*segs), 1000000000ull + off);
		off += strlen(*segs);
	}
	return f;
}

int main(void)
{
	static const char *const good[] = {
		"GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /b HTTP/1.1\r\nHost: x\r\nContent-Le", "ngth: 7\r\n\r\n{\"a\":1}",
		"GET /c HTTP/1.1\r\nHost: x\r\n\r\nGET /d HTTP/1.1\r\nHost: x\r\n\r\n",
		NULL };
	static const char *const smuggle[] = {
		"POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"GET /after HTTP/1.1\r\nHost: x\r\n\r\n",
		NULL };
	struct engine_cfg cfg;
	struct engine_result r;
	struct plan *p = plan_new();
	struct plan_flow *fg, *fs;
	char err[256];
	enum engine_via v;

	plan_lazy();
	fg = text_flow(p, 1, good);
	fg->requests = 4;
	fg->requests_known = true;
	fs = text_flow(p, 2, smuggle);
	fs->expect_close = true;
	plan_finish(p);

	memset(&cfg, 0, sizeof(cfg));
	cfg.server.run = run_core;
	cfg.server.counts_requests = true;
	for (v = ENGINE_MMAP; v <= ENGINE_SOCKET; v++) {
		if (v != ENGINE_SOCKET && !ru_is_root()) {
			skip("via %s needs root", engine_via_name(v));
			continue;
		}
		cfg.via = v;
		ok(engine_run(p, &cfg, &r, &stop, err, sizeof(err)) == 0, "via %s: runs", engine_via_name(v));
		if (!ok(r.verified, "via %s: 4 requests counted, the rejected flow closed as expected",
			engine_via_name(v)))
			diag("  %s", r.nfailures ? r.failures[0].msg : "?");
		is_int(r.server_requests, 4, "via %s: the server parsed the 4 good requests", engine_via_name(v));
		is_int(r.flows_rejected, 1, "via %s: one flow closed early, as predicted", engine_via_name(v));
		engine_result_release(&r);
	}
	/* a wrong request count must fail, naming the flow */
	fg->requests = 5;
	cfg.via = ru_is_root() ? ENGINE_MMAP : ENGINE_SOCKET;
	engine_run(p, &cfg, &r, &stop, err, sizeof(err));
	ok(!r.verified && r.nfailures == 1 && strstr(r.failures[0].msg, "flow 1") &&
	   strstr(r.failures[0].msg, "parsed 4 requests, the capture has 5"),
	   "a request-count mismatch fails and names the flow");
	engine_result_release(&r);
	/* a 200 KiB header: the server answers 431 and, lingering before it
	 * closes (RFC 9112 9.6), still reads every byte: delivery verified,
	 * the 4xx counted */
	{
		static char seg[1001];
		static const char *segs[202];
		struct plan *q = plan_new();
		int i;

		memset(seg, 'a', 1000);
		segs[0] = "GET /big HTTP/1.1\r\nX: ";
		for (i = 1; i <= 200; i++)
			segs[i] = seg;
		segs[201] = NULL;
		text_flow(q, 3, segs);
		plan_finish(q);
		err[0] = 0;
		if (engine_run(q, &cfg, &r, &stop, err, sizeof(err)) < 0)
			diag("engine: %s", err);
		ok(r.verified && r.server_bytes_read == 200022 && r.server_responses_4xx == 1,
		   "an oversized header: 4xx answered, every byte still read and verified");
		diag("  verified %d, failures %llu, server read %llu: %s", r.verified,
		     (unsigned long long)r.nfailures, (unsigned long long)r.server_bytes_read,
		     r.nfailures ? r.failures[0].msg : "");
		engine_result_release(&r);
		plan_free(q);
	}
	plan_free(p);
	return exit_status();
}
