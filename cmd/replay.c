/*
 * replay.c: 'pktmem replay CAPTURE...': the options (one table, parser and
 * --help), the text summary, the report's files and the exit code; the
 * run itself is run/run.h's.
 */
#include "cmd/cmd.h"

#include "cmd/replay_text.h"
#include "lib/io.h"
#include "lib/opts.h"
#include "report/render.h"
#include "report/report.h"
#include "run/run.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The one stop flag: SIGINT/SIGTERM stop sending; the server child
 * inherits the handler and stops on the engine's SIGTERM. */
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* --- progress on a terminal --- */

static void progress(void *arg, uint64_t done, uint64_t total)
{
	int width = 30, fill = total ? (int)(done * (uint64_t)width / total) : 0;

	(void)arg;
	fprintf(stderr, "\r[%.*s%*s] %" PRIu64 "/%" PRIu64 " flows", fill,
		"##############################", width - fill, "", done, total);
	fflush(stderr);
}

static void warn(void *arg, const char *msg)
{
	(void)arg;
	cmd_warn("replay", "%s", msg);
}

/* The files the user asked for. */
struct outputs {
	const char *json;		/* --json (and its older name --report) */
	const char *summary_json;	/* --summary-json */
	const char *folded;		/* --folded */
	bool quiet;
};

/* Fills the report, prints the stage table, writes --json (json_fd >= 0:
 * the real standard output for --json -, stdout being stderr meanwhile)
 * and --folded.  Returns 0, or EXIT_USAGE when a file asked for could not
 * be written. */
static int print_report(struct run *run, const struct outputs *out, int json_fd)
{
	struct render_opts ro = { .color = json_fd < 0 && cmd_use_color(stdout) };
	struct report *rep = report_new(1);
	int rc, ret = 0;

	if (!rep)
		return out->json ? cmd_error("replay", "out of memory: no report") : 0;
	snprintf(rep->tool_version, sizeof(rep->tool_version), "%s", pktmem_version());
	snprintf(rep->git_rev, sizeof(rep->git_rev), "%s", pktmem_git_rev());
	run_report(run, rep);
	putchar('\n');
	if (render_text(stdout, rep, &ro) < 0)
		cmd_warn("replay", "writing the stage table failed");
	if (json_fd >= 0 && (fflush(stdout) != 0 || dup2(json_fd, STDOUT_FILENO) < 0))
		ret = cmd_error("replay", "--json -: %s", strerror(errno));
	if (out->json && !ret && (rc = report_write_json(rep, out->json)) < 0)
		ret = cmd_error("replay", "writing '%s': %s", out->json, report_strerror(rc));
	if (out->folded) {
		FILE *f = fopen(out->folded, "w");

		rc = f ? run_write_folded(run, f) : -errno;
		if (f && fclose(f) != 0 && rc == 0)
			rc = -errno;
		if (rc < 0)
			ret = cmd_error("replay", "--folded '%s': %s", out->folded, strerror(-rc));
	}
	report_free(rep);
	return ret;
}

/* After the replay: the summary, the report, the verdict's messages, the
 * exit code. */
static int finish(struct run *run, const struct run_cfg *cfg, const struct outputs *out)
{
	const struct run_view *v = run_view(run);
	const struct engine_result *r = v->result;
	int rc, erc, json_fd = -1, wfail;
	uint64_t i;

	/* --json -: standard output is the report's, the text goes to stderr */
	if (out->json && !strcmp(out->json, "-")) {
		fflush(stdout);
		json_fd = dup(STDOUT_FILENO);
		if (json_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			rc = cmd_error("replay", "--json -: dup: %s", strerror(errno));
			goto out;
		}
	}
	replay_print_text(cfg, v);
	wfail = print_report(run, out, json_fd);
	if (v->peer_error)
		cmd_error("replay", "%s", v->peer_error);
	for (i = 0; i < r->nfailures && i < 64; i++)
		cmd_error("replay", "verify: %s", r->failures[i].msg);
	if (r->copy_failed)
		cmd_error("replay", "verify: %s", r->copy_msg);
	if (r->nfailures > 64)
		cmd_error("replay", "verify: ... and %" PRIu64 " more flows", r->nfailures - 64);
	rc = v->summary->verified && !v->peer_error ? EXIT_OK : EXIT_VERDICT;
	if (out->summary_json && (erc = run_write_summary(run, out->summary_json)) < 0)
		rc = cmd_error("replay", "writing '%s': %s", out->summary_json, strerror(-erc));
	if (wfail)
		rc = EXIT_USAGE;
out:
	if (json_fd >= 0)
		close(json_fd);
	return rc;
}

/* --- the options --- */

/* One of the words argh lists ("mmap|raw|socket"): its index into an
 * int; refused as "--via 'x': want mmap, raw or socket". */
static int cb_choice(const struct opt *o, const char *arg, char *err, size_t errlen);

/* --profile: the profiler's own parser (profile_mode_parse); a word it
 * does not know is refused with the words argh lists. */
static int cb_profile(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	enum profile_mode m;

	if (profile_mode_parse(arg, &m) < 0)
		return cb_choice(o, arg, err, errlen);
	*(int *)o->value = (int)m;
	return 0;
}

static int cb_choice(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	const char *w = o->argh, *bar;
	size_t n = strlen(arg), len, at;
	int i;

	for (i = 0; w; i++, w = bar ? bar + 1 : NULL) {
		bar = strchr(w, '|');
		len = bar ? (size_t)(bar - w) : strlen(w);
		if (len == n && !strncmp(w, arg, n)) {
			*(int *)o->value = i;
			return 0;
		}
	}
	at = (size_t)snprintf(err, errlen, "--%s '%s': want ", o->long_name, arg);
	for (w = o->argh; w && at < errlen; w = bar ? bar + 1 : NULL) {
		bar = strchr(w, '|');
		len = bar ? (size_t)(bar - w) : strlen(w);
		at += (size_t)snprintf(err + at, errlen - at, "%s%.*s", w == o->argh ? "" :
				       bar ? ", " : " or ", (int)len, w);
	}
	return -1;
}

static int cb_speed(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	struct run_cfg *c = o->value;
	char *end;
	double v;

	c->speed = arg;
	if (!strcmp(arg, "max")) {
		c->timing = PEER_MAX;
		return 0;
	}
	v = strtod(arg, &end);
	if (end == arg || (*end && strcmp(end, "x")) || !(v > 0) || v > 1e6)
		return snprintf(err, errlen, "--speed '%s': want max, 1x or a factor like 2x", arg), -1;
	c->timing = PEER_SCALED;
	c->speed_factor = v;
	return 0;
}

static int cb_pps(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	double *pps = o->value;
	char *end;

	*pps = strtod(arg, &end);
	if (end == arg || *end || !(*pps > 0))
		return snprintf(err, errlen, "--pps '%s': want a positive rate", arg), -1;
	return 0;
}

/* A count in [min, max] into a uint32_t (a uint64_t when max is
 * UINT64_MAX: "a positive count"); the range names the unit for --resegment. */
static int cb_range(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	uint64_t v;

	if (opts_parse_u64(arg, o->min, o->max, &v) < 0) {
		if (o->max == UINT64_MAX)
			snprintf(err, errlen, "--%s '%s': want a positive count", o->long_name, arg);
		else
			snprintf(err, errlen, "--%s '%s': want %" PRIu64 "..%" PRIu64 "%s", o->long_name,
				 arg, o->min, o->max, !strcmp(o->long_name, "resegment") ? " bytes" : "");
		return -1;
	}
	if (o->max == UINT64_MAX)
		*(uint64_t *)o->value = v;
	else
		*(uint32_t *)o->value = (uint32_t)v;
	return 0;
}

/* "2.5" -> 2500 ms; seconds above 0 up to an hour. */
static int cb_secs(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	char *end;
	double secs = strtod(arg, &end);

	if (end == arg || *end || !(secs > 0) || secs > 3600)
		return snprintf(err, errlen, "--%s '%s': want seconds, 0..3600", o->long_name, arg), -1;
	*(uint32_t *)o->value = (uint32_t)(secs * 1000);
	return 0;
}

static int cb_rx(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	int *v = o->value;

	if (!strcmp(arg, "v2") || !strcmp(arg, "2"))
		*v = 2;
	else if (!strcmp(arg, "v3") || !strcmp(arg, "3"))
		*v = 3;
	else
		return snprintf(err, errlen, "--rx-ring '%s': want v2 or v3", arg), -1;
	return 0;
}

/* --freq: the kernel refuses a frequency above
 * kernel.perf_event_max_sample_rate. */
static int cb_freq(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	uint64_t max = 100000, v;
	char mb[32];

	if (io_read_small("/proc/sys/kernel/perf_event_max_sample_rate", mb, sizeof(mb)) >= 0 &&
	    (io_rstrip(mb), opts_parse_u64(mb, 1, UINT64_MAX, &v) == 0))
		max = v < INT_MAX ? v : INT_MAX;
	if (opts_parse_u64(arg, 1, UINT64_MAX, &v) < 0)
		return snprintf(err, errlen, "--freq '%s': want samples per second, 1..%" PRIu64,
				arg, max), -1;
	if (v > max)
		return snprintf(err, errlen, "--freq %" PRIu64 ": above kernel.perf_event_max_sample_rate "
				"(%" PRIu64 "): lower it, or raise the sysctl", v, max), -1;
	*(int *)o->value = (int)v;
	return 0;
}

#define OPT_RANGE(l, v, a, lo, hi, h) \
	{ .type = OPT_T_CALLBACK, .long_name = (l), .value = (v), .argh = (a), .help = (h), \
	  .min = (lo), .max = (hi), .cb = cb_range }

static const char usage_line[] = "usage: pktmem replay [options] CAPTURE...\n";
static const char intro[] =
"\n"
"Replays the captures' TCP flows into the built-in server through a private\n"
"network namespace and veth pair (a live TCP peer: fresh connections, live\n"
"sequence numbers, the captured segment boundaries), then checks that the\n"
"server read exactly each flow's client bytes.\n"
"\n";
static const char outro[] =
"\n"
"exit: 0 replayed and verified, 1 verification failed or interrupted,\n"
"2 usage or input error (also: --exec's command never accepted connections)\n";

/* What the command line says. */
struct cli {
	struct run_cfg cfg;
	struct outputs out;
	int via;		/* enum engine_via; -1: not given */
	int server;		/* http, echo, sink */
	int profile;		/* enum profile_mode */
};

#define NOPTS 48

/* The options: parser and --help in one table (lib/opts.h), storing into
 * c. */
static void options(struct opt t[NOPTS], struct cli *c)
{
	const struct opt table[] = {
	OPT_CALLBACK(0, "via", &c->via, "mmap|raw|socket", cb_choice,
		     "transmit path: PACKET_MMAP TX ring (default),\n"
		     "AF_PACKET sendto per frame, or plain TCP sockets\n"
		     "over loopback (no privileges; chosen automatically\n"
		     "without CAP_NET_ADMIN/CAP_NET_RAW/CAP_SYS_ADMIN)"),
	OPT_CALLBACK(0, "speed", &c->cfg, "max|1x|Nx", cb_speed,
		     "as fast as possible (default), captured timing,\n"
		     "or N times faster (0.5x slower)"),
	OPT_CALLBACK(0, "pps", &c->cfg.pps, "N", cb_pps, "data segments per second"),
	OPT_RANGE("loop", &c->cfg.loops, "N", 1, 1000000,
		  "replay the captures N times (fresh connections)"),
	OPT_RANGE("limit-flows", &c->cfg.limit_flows, "N", 1, UINT64_MAX, "only the first N flows"),
	OPT_RANGE("concurrency", &c->cfg.concurrency, "N", 1, 65536,
		  "flows in flight at once (default 64)"),
	OPT_RANGE("resegment", &c->cfg.resegment, "MSS", 1, 65000,
		  "cut client payload into MSS-byte segments instead\n"
		  "of the captured boundaries"),
	OPT_STRING(0, "filter", &c->cfg.filter, "EXPR", "pcap filter applied to the captures"),
	/* one column short of the help's: a line of its own */
	OPT_TEXT("  --server http|echo|sink the server: the core HTTP server (default; frames,\n"
		 "                          parses, deserializes, answers), echo (sends every\n"
		 "                          byte back), sink (counts bytes, never parses)\n"),
	OPT_CALLBACK(0, "server", &c->server, "http|echo|sink", cb_choice, NULL),
	OPT_TEXT("  --io blocking|epoll|uring, --deser tree|arena|none\n"
		 "                          the core server's I/O loop and deserializer\n"),
	OPT_STRING(0, "io", &c->cfg.io, "blocking|epoll|uring", NULL),
	OPT_STRING(0, "deser", &c->cfg.deser, "tree|arena|none", NULL),
	OPT_CALLBACK(0, "rx-ring", &c->cfg.rx_version, "v2|v3", cb_rx,
		     "the peer's receive ring (default v3; v2 hands over\n"
		     "every frame at once, but loses frames under large\n"
		     "responses: docs/replay.md)"),
	OPT_BOOL(0, "qdisc-bypass", &c->cfg.qdisc_bypass, "PACKET_QDISC_BYPASS on the TX socket"),
	OPT_STRING(0, "json", &c->out.json, "FILE|-",
		   "write the full result: the stage table and the\n"
		   "replay summary (pktmem.report/1, what 'pktmem\n"
		   "report', 'compare' and 'gate' read), atomically;\n"
		   "'-': standard output, the text goes to stderr"),
	OPT_STRING(0, "report", &c->out.json, "FILE|-", NULL),	/* older name of --json */
	OPT_STRING(0, "summary-json", &c->out.summary_json, "FILE|-",
		   "write the replay summary alone (the report's\n"
		   "\"replay\" object, as in --json)"),
	OPT_CALLBACK(0, "profile", &c->profile, "off|counts|full", cb_profile,
		     "measure the stages: counting tracepoints (default),\n"
		     "plus timestamps, histograms and sampling, or nothing\n"
		     "(user stages still come from the server's clock)"),
	OPT_STRING(0, "events", &c->cfg.events, "LIST",
		   "hardware counters for the server's stages (libpfm4\n"
		   "or perf names; default cycles,instructions,\n"
		   "cache-misses,branch-misses where a PMU exists);\n"
		   "also read by BPF per softirq and read(), with\n"
		   "cpu-clock (on with --events, or --profile full\n"
		   "where a PMU exists)"),
	OPT_STRING(0, "folded", &c->out.folded, "FILE",
		   "folded stacks for flamegraph.pl, the server's and the\n"
		   "replayer's user frames named (--profile full)"),
	OPT_CALLBACK(0, "freq", &c->cfg.freq, "HZ", cb_freq,
		     "samples per second per CPU of --profile full (default\n"
		     "999; each costs the CPU it lands on, docs/profile.md)"),
	OPT_TEXT("  --iface IFACE --server-ip IP [--port N] [--client-net CIDR]\n"
		 "                          replay onto an existing interface, to a server on\n"
		 "                          another host (e.g. 'pktmem serve'): packet path\n"
		 "                          only, CAP_NET_RAW + CAP_NET_ADMIN; --port: the\n"
		 "                          server's port (default: each flow's captured one);\n"
		 "                          --client-net: number the clients in CIDR (default:\n"
		 "                          the captured addresses; docs/replay.md)\n"),
	OPT_STRING(0, "iface", &c->cfg.iface, "IFACE", NULL),
	OPT_STRING(0, "server-ip", &c->cfg.server_ip, "IP", NULL),
	OPT_STRING(0, "client-net", &c->cfg.client_net, "CIDR", NULL),
	OPT_STRING(0, "dump-frames", &c->cfg.dump_frames, "FILE",
		   "write every frame sent (packet path) to a pcap"),
	OPT_TEXT("  --exec 'CMD ARGS' --port N\n"
		 "                          replay into your own server instead: pktmem starts\n"
		 "                          CMD (/bin/sh -c) in the server namespace, waits until\n"
		 "                          port N accepts, replays, stops it; allocations are\n"
		 "                          counted by an LD_PRELOAD interposer (docs/exec.md)\n"),
	OPT_STRING(0, "exec", &c->cfg.exec, "'CMD ARGS'", NULL),
	OPT_RANGE("port", &c->cfg.port, "N", 1, 65535, NULL),
	OPT_TEXT("  --target HOST:PORT [--netns NAME]\n"
		 "                          replay (over TCP sockets) into a server you already\n"
		 "                          run, in network namespace NAME (/run/netns/NAME)\n"),
	OPT_STRING(0, "target", &c->cfg.target, "HOST:PORT", NULL),
	OPT_STRING(0, "netns", &c->cfg.netns, "NAME", NULL),
	OPT_CALLBACK(0, "ready-timeout", &c->cfg.ready_ms, "SECS", cb_secs,
		     "how long --exec/--target may take to accept (10)"),
	OPT_CALLBACK(0, "flow-timeout", &c->cfg.flow_timeout_ms, "SECS", cb_secs,
		     "socket path: give a flow up after SECS with no\n"
		     "progress (default 30; the packet path gives up\n"
		     "after its retransmissions)"),
	OPT_BOOL(0, "no-preload", &c->cfg.no_preload, "--exec without the allocation interposer"),
	OPT_BOOL('q', "quiet", &c->out.quiet, "no progress bar"),
	OPT_TEXT("testing:\n"),
	OPT_BOOL(0, "test-extra-alloc", &c->cfg.test_extra_alloc,
		 "the core server allocates once more per request\n"
		 "with a body (to watch 'pktmem gate' fail)"),
		OPT_END(),
	};

	_Static_assert(sizeof(table) <= NOPTS * sizeof(table[0]), "NOPTS too small");
	memcpy(t, table, sizeof(table));
}

int cmd_replay(int argc, char **argv)
{
	static const char *const servers[] = { "http", "echo", "sink" };
	struct cli c = { .cfg = { .progress = progress, .warn = warn }, .via = -1,
			 .profile = PROFILE_COUNTS };
	struct opt table[NOPTS];
	const struct opt_cmd cmd = { "replay", usage_line, intro, table, outro };
	struct run_cfg *cfg = &c.cfg;
	struct run *run = NULL;
	struct sigaction sa;
	char err[512] = "";
	int first, rc;

	options(table, &c);
	first = cmd_parse_options(&cmd, argc, argv, &rc);
	if (first < 0)
		return rc;
	if (first >= argc) {
		opts_usage(&cmd, stderr);
		return cmd_error("replay", "no capture given");
	}
	cfg->via = c.via < 0 ? ENGINE_MMAP : (enum engine_via)c.via;
	cfg->via_set = c.via >= 0;
	cfg->server = servers[c.server];
	cfg->profile = (enum profile_mode)c.profile;
	if (c.out.quiet || !isatty(STDERR_FILENO))
		cfg->progress = NULL;
	cfg->folded = c.out.folded != NULL;
	cfg->writes_files = (c.out.json && strcmp(c.out.json, "-")) ||
			    (c.out.summary_json && strcmp(c.out.summary_json, "-")) || c.out.folded;
	if (run_new(&run, cfg, err, sizeof(err)) < 0)
		return cmd_error("replay", "%s", err);
	if (run_fallback(run))
		fprintf(stderr, "pktmem: replay: using --via socket: %s; run as root for the full "
			"veth path (sudo pktmem replay ...)\n", run_fallback(run));
	if (run_load(run, (const char *const *)argv + first, (size_t)(argc - first), err,
		     sizeof(err)) < 0) {
		rc = cmd_error("replay", "%s", err);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = run_replay(run, &stop_flag, err, sizeof(err));
	if (cfg->progress && run_view(run)->engine_ran)
		fprintf(stderr, "\r\033[K");
	rc = rc < 0 ? cmd_error("replay", "%s", err) : finish(run, cfg, &c.out);
out:
	run_free(run);
	return rc;
}
