/*
 * t6060: a replay run through run/run.h, without the CLI: the bundled
 * capture (fixtures/demo.pcap) into the core server, on the socket path
 * (no privileges needed) and, as root, on the packet path; the summary
 * counts every flow and verifies every byte, and the report has its stage
 * rows.  Also: run_new() refuses a bad combination with the CLI's words.
 */
#include "run/run.h"
#include "tests/tap.h"

#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;

static void collect(void *arg, const char *msg)
{
	(void)arg;
	diag("warning: %s", msg);
}

static void one(const char *capture, enum engine_via via, bool via_set)
{
	struct run_cfg cfg = { .via = via, .via_set = via_set, .server = "http",
			       .profile = PROFILE_COUNTS, .warn = collect };
	const char *const caps[1] = { capture };
	const char *name = engine_via_name(via);
	const struct run_view *v;
	struct report *rep = report_new(1);
	struct run *run = NULL;
	char err[512] = "";
	int k, rows = 0;

	if (!rep)
		bail_out("no memory");
	if (!ok(run_new(&run, &cfg, err, sizeof(err)) == 0, "via %s: run_new", name))
		diag("  %s", err);
	if (!run)
		return;
	if (!ok(run_load(run, caps, 1, err, sizeof(err)) == 0, "via %s: run_load", name))
		diag("  %s", err);
	if (!ok(run_replay(run, &stop, err, sizeof(err)) == 0, "via %s: run_replay", name))
		diag("  %s", err);
	v = run_view(run);
	is_int(v->load->flows, 20, "via %s: the capture's 20 flows loaded", name);
	is_int(v->summary->flows, 20, "via %s: 20 flows replayed", name);
	ok(v->summary->verified, "via %s: verified (%s)", name, v->summary->verify_msg);
	is_int(v->summary->bytes, v->plan->bytes, "via %s: every planned byte sent", name);
	is_int(v->summary->server_bytes_read, v->plan->bytes, "via %s: the server read them all", name);
	ok(v->summary->requests_verified && v->summary->server_requests == v->summary->requests &&
	   v->summary->requests > 0, "via %s: the server parsed the capture's %llu requests", name,
	   (unsigned long long)v->summary->requests);
	is_str(v->summary->via, name, "via %s: the summary names the path", name);
	ok(run_report(run, rep) == 0, "via %s: run_report", name);
	/* a row is filled: measured, or unavailable with its reason */
	for (k = 0; k < RS__N; k++)
		rows += rep->trial[0].stage[k].available || rep->trial[0].stage[k].reason[0];
	is_int(rows, RS__N, "via %s: the report has every stage row", name);
	ok(rep->trial[0].stage[RS_PARSE].available &&
	   rep->trial[0].stage[RS_PARSE].count == v->summary->requests,
	   "via %s: the parse row counts the requests", name);
	ok(rep->trial[0].replay.verified && rep->trial[0].replay.flows == 20,
	   "via %s: the report's replay summary is the run's", name);
	is_int(strlen(rep->cap.sha256), 64, "via %s: the capture is hashed", name);
	is_str(rep->opt.io, "epoll", "via %s: effective options filled (io epoll)", name);
	report_free(rep);
	run_free(run);
}

int main(void)
{
	const char *src = getenv("PKTMEM_SRC");
	struct run_cfg bad = { .server = "http", .folded = true, .profile = PROFILE_COUNTS };
	struct run *run = NULL;
	char capture[4096], err[512] = "";

	plan_lazy();
	/* demo.pcap: 20 HTTP/1.1 flows, 200 requests (fixtures/README.md) */
	snprintf(capture, sizeof(capture), "%s/fixtures/demo.pcap", src ? src : ".");
	ok(run_new(&run, &bad, err, sizeof(err)) < 0 && !run &&
	   !strcmp(err, "--folded needs --profile full (stacks come from sampling)"),
	   "run_new refuses --folded without --profile full (%s)", err);
	bad.folded = false;
	bad.client_net = "10.0.0.0/24";
	ok(run_new(&run, &bad, err, sizeof(err)) < 0 && strstr(err, "--client-net goes with --iface"),
	   "run_new refuses --client-net alone (%s)", err);

	/* the packet path first: a run gives up its capabilities after its
	 * setup (engine_cfg.drop_caps), the socket path needs none */
	if (engine_packet_path_unavailable())
		skip("packet path: %s", engine_packet_path_unavailable());
	else
		one(capture, ENGINE_MMAP, true);
	one(capture, ENGINE_SOCKET, true);
	return exit_status();
}
