/*
 * gate.c: 'pktmem gate': replay a capture N times (after a warm-up), merge
 * the trials into one report, compare it with a baseline and emit the
 * verdict, for CI.  With --against, a second build is measured in the same
 * job, trials interleaved (ABBA...), and serves as the baseline.
 *
 * Each trial runs the build's own 'replay --json FILE CAPTURE' in a child
 * process: a trial's kernel state (namespaces, sockets, perf events) dies
 * with it, and the same code path measures this build and another one.
 */
#include "cmd/cmd.h"
#include "cmd/compare.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PASS 16

static const char usage_text[] =
	"usage: pktmem gate --baseline BASE.json [--trials N] [--update-baseline]\n"
	"                   [--against OTHER_PKTMEM] [--report FILE] [compare options]\n"
	"                   [replay options] CAPTURE\n"
	"\n"
	"Replays CAPTURE N times (default 5) after one warm-up run, with this build's\n"
	"'replay --json', merges the trials into one report, compares it with the\n"
	"baseline like 'pktmem compare' and exits with the verdict.\n"
	"\n"
	"  --baseline FILE     the baseline report (pktmem.report/1)\n"
	"  --trials N          measured trials (default 5; 5 vs 5 is the least that\n"
	"                      can show a timing regression at alpha 0.01)\n"
	"  --warmup N          discarded runs first (default 1)\n"
	"  --update-baseline   write the merged trials to --baseline (keeping its\n"
	"                      acknowledged regressions) instead of comparing\n"
	"  --against PKTMEM    measure another build in the same job, trials\n"
	"                      interleaved, and use it as the baseline\n"
	"  --pktmem PATH       the build to measure (default: this one)\n"
	"  --report FILE       where the merged report goes (default\n"
	"                      pktmem-gate-report.json; 'none' to skip)\n"
	"  --keep              keep the per-trial reports (their directory is printed)\n"
	"compare options: --threshold T, --metric NAME, --md FILE, --json FILE, --tap,\n"
	"                 --strict, --seed N, --color WHEN (see 'pktmem compare --help')\n"
	"replay options passed on: --via, --io, --deser, --speed, --filter,\n"
	"                 --concurrency, --server, --loop, --limit-flows,\n"
	"                 --test-extra-alloc (test-only: one more allocation per request)\n"
	"\n"
	"exit: 0 pass (warnings allowed), 1 regression or a trial failed verification,\n"
	"      2 usage, bad input or a trial that did not run, 3 not comparable,\n"
	"      4 inconclusive with --strict\n";

struct gate {
	const char *self, *other, *capture;
	const char *pass[MAX_PASS * 2];
	int npass;
	char dir[PATH_MAX];
	int keep;
};

/* Runs BIN replay --json OUT [pass...] CAPTURE; its stdout (the table)
 * goes to /dev/null, its stderr stays ours.  Returns the exit status,
 * or -errno when it could not run. */
static int run_replay(const struct gate *g, const char *bin, const char *out)
{
	const char *argv[MAX_PASS * 2 + 8];
	int argc = 0, i, st;
	pid_t pid;

	argv[argc++] = bin;
	argv[argc++] = "replay";
	argv[argc++] = "--quiet";
	argv[argc++] = "--json";
	argv[argc++] = out;
	for (i = 0; i < g->npass; i++)
		argv[argc++] = g->pass[i];
	argv[argc++] = g->capture;
	argv[argc] = NULL;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		signal(SIGPIPE, SIG_DFL);
		execv(bin, (char *const *)argv);
		fprintf(stderr, "pktmem: gate: cannot run '%s': %s\n", bin, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* One trial of one build into *dst (appended).  0, or the exit code. */
static int trial(struct gate *g, const char *bin, const char *label, int idx,
		 struct report **dst, int measured)
{
	char path[PATH_MAX + 64], err[512];
	struct report *r = NULL, *m;
	int rc;

	snprintf(path, sizeof(path), "%s/%s-%02d.json", g->dir, label, idx);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\rpktmem: gate: %s %s %d ...", measured ? "trial" : "warm-up", label, idx);
	rc = run_replay(g, bin, path);
	if (rc < 0)
		return cmd_error("gate", "%s: cannot run '%s': %s", label, bin, strerror(-rc));
	if (report_read_json(path, &r, err, sizeof(err)) < 0) {
		if (rc == 0)
			cmd_error("gate", "%s trial %d: '%s replay' wrote no valid report: %s", label,
				  idx, bin, err);
		else
			cmd_error("gate", "%s trial %d: '%s replay' failed (exit %d) without a report",
				  label, idx, bin, rc);
		return EXIT_USAGE;
	}
	if (rc != 0 && rc != EXIT_VERDICT) {
		report_free(r);
		return cmd_error("gate", "%s trial %d: '%s replay' exited %d", label, idx, bin, rc);
	}
	/* exit 1 with a report: verification failed; the verdict says so */
	if (!measured) {
		report_free(r);
		return 0;
	}
	if (!*dst) {
		*dst = r;
		return 0;
	}
	if (strcmp((*dst)->cap.sha256, r->cap.sha256)) {
		report_free(r);
		return cmd_error("gate", "%s trial %d: the capture changed between trials", label, idx);
	}
	m = report_new((*dst)->ntrials + r->ntrials);
	if (!m) {
		report_free(r);
		return cmd_error("gate", "out of memory");
	}
	{
		struct trial *keep = m->trial;

		*m = **dst;	/* header: env, options, capture of the first trial */
		m->trial = keep;
		m->ntrials = (*dst)->ntrials + r->ntrials;
		memcpy(m->trial, (*dst)->trial, (*dst)->ntrials * sizeof(*m->trial));
		memcpy(m->trial + (*dst)->ntrials, r->trial, r->ntrials * sizeof(*m->trial));
	}
	report_free(*dst);
	report_free(r);
	*dst = m;
	return 0;
}

static int is_pass_opt(const char *name)
{
	static const char *const opts[] = {
		"via", "io", "deser", "speed", "filter", "concurrency", "server", "loop",
		"limit-flows", NULL,
	};
	int i;

	for (i = 0; opts[i]; i++)
		if (!strcmp(name, opts[i]))
			return 1;
	return 0;
}

int cmd_gate(int argc, char **argv)
{
	enum { O_BASE = 256, O_TRIALS, O_WARMUP, O_UPDATE, O_AGAINST, O_SELF, O_REPORT, O_KEEP,
	       O_THRESH, O_METRIC, O_MD, O_JSON, O_TAP, O_STRICT, O_SEED, O_COLOR, O_PASS, O_PASS0 };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "baseline", required_argument, NULL, O_BASE },
		{ "trials", required_argument, NULL, O_TRIALS },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "update-baseline", no_argument, NULL, O_UPDATE },
		{ "against", required_argument, NULL, O_AGAINST },
		{ "pktmem", required_argument, NULL, O_SELF },
		{ "report", required_argument, NULL, O_REPORT },
		{ "keep", no_argument, NULL, O_KEEP },
		{ "threshold", required_argument, NULL, O_THRESH },
		{ "metric", required_argument, NULL, O_METRIC },
		{ "md", required_argument, NULL, O_MD },
		{ "json", required_argument, NULL, O_JSON },
		{ "tap", no_argument, NULL, O_TAP },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "seed", required_argument, NULL, O_SEED },
		{ "color", required_argument, NULL, O_COLOR },
		{ "via", required_argument, NULL, O_PASS },
		{ "io", required_argument, NULL, O_PASS },
		{ "deser", required_argument, NULL, O_PASS },
		{ "speed", required_argument, NULL, O_PASS },
		{ "filter", required_argument, NULL, O_PASS },
		{ "concurrency", required_argument, NULL, O_PASS },
		{ "server", required_argument, NULL, O_PASS },
		{ "loop", required_argument, NULL, O_PASS },
		{ "limit-flows", required_argument, NULL, O_PASS },
		/* test-only: the core server allocates once more per request,
		 * so the gate's end-to-end test can watch it fail */
		{ "test-extra-alloc", no_argument, NULL, O_PASS0 },
		{ NULL, 0, NULL, 0 },
	};
	struct gate g = { 0 };
	const char *baseline = NULL, *report_path = "pktmem-gate-report.json", *md = NULL,
		   *json = NULL, *color = "auto";
	const char *only[32];
	struct report *cur = NULL, *base = NULL, *old = NULL;
	struct verdict_opts vo;
	struct verdict *v = NULL;
	struct render_opts ro = { 0 };
	char selfbuf[PATH_MAX];
	int trials = 5, warmup = 1, update = 0, tap = 0, strict = 0, c, li, i, rc = EXIT_OK;
	int ex = EXIT_USAGE;
	size_t nonly = 0;

	verdict_opts_default(&vo);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, &li)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return cmd_finish_stdout("gate", EXIT_OK);
		case O_BASE: baseline = optarg; break;
		case O_TRIALS:
			trials = atoi(optarg);
			if (trials < 1 || trials > 1000)
				return cmd_error("gate", "--trials '%s': want 1 to 1000", optarg);
			break;
		case O_WARMUP:
			warmup = atoi(optarg);
			if (warmup < 0 || warmup > 100)
				return cmd_error("gate", "--warmup '%s': want 0 to 100", optarg);
			break;
		case O_UPDATE: update = 1; break;
		case O_AGAINST: g.other = optarg; break;
		case O_SELF: g.self = optarg; break;
		case O_REPORT: report_path = optarg; break;
		case O_KEEP: g.keep = 1; break;
		case O_THRESH:
			if (compare_parse_fraction(optarg, &vo.threshold) < 0)
				return cmd_error("gate", "--threshold '%s': want a percentage like 10%%", optarg);
			break;
		case O_METRIC:
			if (nonly < sizeof(only) / sizeof(only[0]))
				only[nonly++] = optarg;
			break;
		case O_MD: md = optarg; break;
		case O_JSON: json = optarg; break;
		case O_TAP: tap = 1; break;
		case O_STRICT: strict = 1; break;
		case O_SEED: vo.seed = strtoull(optarg, NULL, 0); break;
		case O_COLOR: color = optarg; break;
		case O_PASS:
			if (g.npass >= MAX_PASS * 2 - 1 || !is_pass_opt(longopts[li].name))
				return cmd_error("gate", "too many replay options");
			/* "--via" and its value as two arguments: static storage
			 * for the option name is longopts' */
			{
				static char names[MAX_PASS][32];

				char *name = names[g.npass / 2];

				snprintf(name, sizeof(names[0]), "--%s", longopts[li].name);
				g.pass[g.npass++] = name;
			}
			g.pass[g.npass++] = optarg;
			break;
		case O_PASS0:
			if (g.npass >= MAX_PASS * 2 - 1)
				return cmd_error("gate", "too many replay options");
			g.pass[g.npass++] = "--test-extra-alloc";
			break;
		default:
			return cmd_error("gate", "unknown option or missing argument '%s'; see 'pktmem gate --help'",
					 argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cmd_error("gate", "want one capture; see 'pktmem gate --help'");
	g.capture = argv[optind];
	if (!baseline && !g.other)
		return cmd_error("gate", "--baseline FILE (or --against PKTMEM) is required");
	if (update && !baseline)
		return cmd_error("gate", "--update-baseline needs --baseline FILE");
	if (update && g.other)
		return cmd_error("gate", "--update-baseline and --against do not mix");
	if (access(g.capture, R_OK) < 0)
		return cmd_error("gate", "'%s': %s", g.capture, strerror(errno));
	if (!g.self) {
		ssize_t n = readlink("/proc/self/exe", selfbuf, sizeof(selfbuf) - 1);

		if (n < 0)
			return cmd_error("gate", "cannot find this pktmem (/proc/self/exe): %s; use --pktmem",
					 strerror(errno));
		selfbuf[n] = '\0';
		g.self = selfbuf;
	}
	ro.color = !strcmp(color, "always") || (!strcmp(color, "auto") && cmd_use_color(stdout));
	vo.only = only;
	vo.nonly = nonly;

	/* The baseline is read first: a bad one fails before minutes of replay. */
	if (baseline && !g.other) {
		if (access(baseline, F_OK) == 0 || !update) {
			if (compare_load("gate", "baseline", baseline, update ? &old : &base, &ex) < 0)
				return ex;
		}
	}

	snprintf(g.dir, sizeof(g.dir), "%s/pktmem-gate-XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(g.dir)) {
		rc = cmd_error("gate", "mkdtemp '%s': %s", g.dir, strerror(errno));
		goto out;
	}

	/* Warm-up, then trials; with --against interleaved A B B A A B ... so
	 * a drift in the machine's state falls on both builds alike. */
	for (i = 0; i < warmup + trials && rc == EXIT_OK; i++) {
		int measured = i >= warmup, k = i;	/* file names: warm-ups first */

		if (g.other && (i % 2)) {
			rc = trial(&g, g.self, "new", k, &cur, measured);
			if (rc == EXIT_OK)
				rc = trial(&g, g.other, "base", k, &base, measured);
		} else {
			if (g.other)
				rc = trial(&g, g.other, "base", k, &base, measured);
			if (rc == EXIT_OK)
				rc = trial(&g, g.self, "new", k, &cur, measured);
		}
	}
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	if (rc != EXIT_OK)
		goto out;

	if (strcmp(report_path, "none")) {
		int w = report_write_json(cur, report_path);

		if (w < 0) {
			rc = cmd_error("gate", "writing the report '%s': %s", report_path, report_strerror(w));
			goto out;
		}
	}
	if (update) {
		int w;

		if (old) {	/* the owner's acknowledgements stay */
			cur->nacks = old->nacks;
			memcpy(cur->ack, old->ack, sizeof(cur->ack));
		}
		w = report_write_json(cur, baseline);
		if (w < 0) {
			rc = cmd_error("gate", "writing the baseline '%s': %s", baseline, report_strerror(w));
			goto out;
		}
		printf("baseline '%s' updated: %zu trials of '%s'\n", baseline, cur->ntrials, g.capture);
		goto out;
	}
	if (g.other && baseline) {
		/* acknowledged regressions of a stored baseline still apply */
		if (compare_load("gate", "baseline", baseline, &old, &ex) == 0) {
			base->nacks = old->nacks;
			memcpy(base->ack, old->ack, sizeof(base->ack));
		}
	}
	if (verdict_compare(base, cur, &vo, &v) < 0) {
		rc = cmd_error("gate", "out of memory");
		goto out;
	}
	rc = compare_emit("gate", v, md, json, tap, strict, &ro);
out:
	if (g.dir[0] && strcmp(g.dir + strlen(g.dir) - 6, "XXXXXX")) {
		if (g.keep) {
			fprintf(stderr, "pktmem: gate: per-trial reports kept in '%s'\n", g.dir);
		} else {
			char path[PATH_MAX + 64];
			int k;

			for (k = 0; k < warmup + trials; k++) {
				snprintf(path, sizeof(path), "%s/new-%02d.json", g.dir, k);
				unlink(path);
				snprintf(path, sizeof(path), "%s/base-%02d.json", g.dir, k);
				unlink(path);
			}
			if (rmdir(g.dir) < 0)
				cmd_warn("gate", "'%s' left behind: %s", g.dir, strerror(errno));
		}
	}
	verdict_free(v);
	report_free(cur);
	report_free(base);
	report_free(old);
	return cmd_finish_stdout("gate", rc);
}
