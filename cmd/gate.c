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
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PASS 16	/* replay options passed on */

/* One gate run: the builds, the capture, the replay options passed on to
 * every trial, the directory of the per-trial reports. */
struct gate {
	const char *self, *other, *capture;
	struct {
		const char *name;	/* long option, without "--" */
		const char *value;	/* NULL: a flag */
	} pass[MAX_PASS];
	int npass;
	bool keep;
	char dir[PATH_MAX];
	char selfbuf[PATH_MAX];		/* /proc/self/exe when no --pktmem */
};

/* The rest of the command line. */
struct gate_opts {
	const char *baseline;		/* --baseline FILE */
	const char *report_path;	/* --report FILE; "none": none */
	uint64_t trials, warmup;
	bool update;			/* --update-baseline */
	struct compare_opts co;
};

/* Runs BIN replay --json OUT [pass...] CAPTURE; its stdout (the table)
 * goes to /dev/null, its stderr stays ours.  Returns the exit status,
 * or -errno when it could not run. */
static int run_replay(const struct gate *g, const char *bin, const char *out)
{
	const char *argv[MAX_PASS * 2 + 8];
	char names[MAX_PASS][40];
	int argc = 0, i, st;
	pid_t pid;

	argv[argc++] = bin;
	argv[argc++] = "replay";
	argv[argc++] = "--quiet";
	argv[argc++] = "--json";
	argv[argc++] = out;
	for (i = 0; i < g->npass; i++) {
		snprintf(names[i], sizeof(names[i]), "--%s", g->pass[i].name);
		argv[argc++] = names[i];
		if (g->pass[i].value)
			argv[argc++] = g->pass[i].value;
	}
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

/* Appends r's trials to *dst (r is consumed); the header (env, options,
 * capture) stays the first trial's.  0, or the exit code. */
static int append_trials(struct report **dst, struct report *r, const char *label, int idx)
{
	struct report *m;
	struct trial *keep;

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
	keep = m->trial;
	*m = **dst;
	m->trial = keep;
	m->ntrials = (*dst)->ntrials + r->ntrials;
	memcpy(m->trial, (*dst)->trial, (*dst)->ntrials * sizeof(*m->trial));
	memcpy(m->trial + (*dst)->ntrials, r->trial, r->ntrials * sizeof(*m->trial));
	report_free(*dst);
	report_free(r);
	*dst = m;
	return 0;
}

/* One trial of one build, appended to *dst when measured.  0, or the
 * exit code. */
static int trial(struct gate *g, const char *bin, const char *label, int idx,
		 struct report **dst, int measured)
{
	char path[PATH_MAX + 64], err[512];
	struct report *r = NULL;
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
	return append_trials(dst, r, label, idx);
}

/* OPT_CALLBACK of the replay options gate passes on to every trial. */
static int opt_pass(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	struct gate *g = o->value;

	if (g->npass >= MAX_PASS) {
		snprintf(err, errlen, "too many replay options");
		return -1;
	}
	g->pass[g->npass].name = o->long_name;
	g->pass[g->npass].value = arg;
	g->npass++;
	return 0;
}

/* Fills g and go from argv and checks what can be checked before any
 * replay.  0, or -1 with the exit code in *rc. */
static int gate_options(int argc, char **argv, struct gate *g, struct gate_opts *go, int *rc)
{
	const struct opt opts[] = {
		OPT_STRING(0, "baseline", &go->baseline, "FILE", "the baseline report (pktmem.report/1)"),
		OPT_U64(0, "trials", &go->trials, "N", 1, 1000,
			"measured trials (default 5; 5 vs 5 is the least that\n"
			"can show a timing regression at alpha 0.01)"),
		OPT_U64(0, "warmup", &go->warmup, "N", 0, 100, "discarded runs first (default 1)"),
		OPT_BOOL(0, "update-baseline", &go->update,
			 "write the merged trials to --baseline (keeping its\n"
			 "acknowledged regressions) instead of comparing"),
		OPT_STRING(0, "against", &g->other, "PKTMEM",
			   "measure another build in the same job, trials\n"
			   "interleaved, and use it as the baseline"),
		OPT_STRING(0, "pktmem", &g->self, "PATH", "the build to measure (default: this one)"),
		OPT_STRING(0, "report", &go->report_path, "FILE",
			   "where the merged report goes (default\n"
			   "pktmem-gate-report.json; 'none' to skip)"),
		OPT_BOOL(0, "keep", &g->keep, "keep the per-trial reports (their directory is printed)"),
		OPT_TEXT("compare options: --threshold T, --metric NAME, --md FILE, --json FILE, --tap,\n"
			 "                 --strict, --seed N, --color WHEN (see 'pktmem compare --help')\n"),
		COMPARE_OPTS(&go->co, false),
		OPT_TEXT("replay options passed on: --via, --io, --deser, --speed, --filter,\n"
			 "                 --concurrency, --server, --loop, --limit-flows,\n"
			 "                 --test-extra-alloc (test-only: one more allocation per request)\n"),
		OPT_CALLBACK(0, "via", g, "MODE", opt_pass, NULL),
		OPT_CALLBACK(0, "io", g, "MODE", opt_pass, NULL),
		OPT_CALLBACK(0, "deser", g, "MODE", opt_pass, NULL),
		OPT_CALLBACK(0, "speed", g, "SPEED", opt_pass, NULL),
		OPT_CALLBACK(0, "filter", g, "EXPR", opt_pass, NULL),
		OPT_CALLBACK(0, "concurrency", g, "N", opt_pass, NULL),
		OPT_CALLBACK(0, "server", g, "KIND", opt_pass, NULL),
		OPT_CALLBACK(0, "loop", g, "N", opt_pass, NULL),
		OPT_CALLBACK(0, "limit-flows", g, "N", opt_pass, NULL),
		/* test-only: the core server allocates once more per request,
		 * so the gate's end-to-end test can watch it fail */
		OPT_CALLBACK(0, "test-extra-alloc", g, NULL, opt_pass, NULL),
		OPT_END(),
	};
	const struct opt_cmd cmd = {
		.name = "gate",
		.usage =
		"usage: pktmem gate --baseline BASE.json [--trials N] [--update-baseline]\n"
		"                   [--against OTHER_PKTMEM] [--report FILE] [compare options]\n"
		"                   [replay options] CAPTURE\n",
		.intro =
		"\n"
		"Replays CAPTURE N times (default 5) after one warm-up run, with this build's\n"
		"'replay --json', merges the trials into one report, compares it with the\n"
		"baseline like 'pktmem compare' and exits with the verdict.\n"
		"\n",
		.opts = opts,
		.outro =
		"\n"
		"exit: 0 pass (warnings allowed), 1 regression or a trial failed verification,\n"
		"      2 usage, bad input or a trial that did not run, 3 not comparable,\n"
		"      4 inconclusive with --strict\n",
		.help_col = 22,
	};
	int first = cmd_parse_options(&cmd, argc, argv, rc);
	ssize_t n;

	if (first < 0)
		return -1;
	if (argc - first != 1) {
		*rc = cmd_error("gate", "want one capture; see 'pktmem gate --help'");
		return -1;
	}
	g->capture = argv[first];
	if (!go->baseline && !g->other)
		*rc = cmd_error("gate", "--baseline FILE (or --against PKTMEM) is required");
	else if (go->update && !go->baseline)
		*rc = cmd_error("gate", "--update-baseline needs --baseline FILE");
	else if (go->update && g->other)
		*rc = cmd_error("gate", "--update-baseline and --against do not mix");
	else if (access(g->capture, R_OK) < 0)
		*rc = cmd_error("gate", "'%s': %s", g->capture, strerror(errno));
	else
		*rc = EXIT_OK;
	if (*rc != EXIT_OK || g->self)
		return *rc != EXIT_OK ? -1 : 0;
	n = readlink("/proc/self/exe", g->selfbuf, sizeof(g->selfbuf) - 1);
	if (n < 0) {
		*rc = cmd_error("gate", "cannot find this pktmem (/proc/self/exe): %s; use --pktmem",
				strerror(errno));
		return -1;
	}
	g->selfbuf[n] = '\0';
	g->self = g->selfbuf;
	return 0;
}

/* Warm-up, then trials; with --against interleaved A B B A A B ... so a
 * drift in the machine's state falls on both builds alike.  EXIT_OK, or
 * the exit code of the first trial that failed. */
static int run_trials(struct gate *g, int warmup, int trials, struct report **cur,
		      struct report **base)
{
	int i, rc = EXIT_OK;

	for (i = 0; i < warmup + trials && rc == EXIT_OK; i++) {
		int measured = i >= warmup;	/* file names: warm-ups first */

		if (g->other && (i % 2)) {
			rc = trial(g, g->self, "new", i, cur, measured);
			if (rc == EXIT_OK)
				rc = trial(g, g->other, "base", i, base, measured);
		} else {
			if (g->other)
				rc = trial(g, g->other, "base", i, base, measured);
			if (rc == EXIT_OK)
				rc = trial(g, g->self, "new", i, cur, measured);
		}
	}
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	return rc;
}

/* The merged trials become the baseline; the owner's acknowledged
 * regressions in the old one stay. */
static int update_baseline(struct gate *g, const char *path, struct report *cur,
			   const struct report *old)
{
	int w;

	if (old) {
		cur->nacks = old->nacks;
		memcpy(cur->ack, old->ack, sizeof(cur->ack));
	}
	w = report_write_json(cur, path);
	if (w < 0)
		return cmd_error("gate", "writing the baseline '%s': %s", path, report_strerror(w));
	printf("baseline '%s' updated: %zu trials of '%s'\n", path, cur->ntrials, g->capture);
	return EXIT_OK;
}

/* The per-trial reports and their directory go, unless --keep. */
static void remove_trials(const struct gate *g, int runs)
{
	char path[PATH_MAX + 64];
	int k;

	if (!g->dir[0] || !strcmp(g->dir + strlen(g->dir) - 6, "XXXXXX"))
		return;		/* never made */
	if (g->keep) {
		fprintf(stderr, "pktmem: gate: per-trial reports kept in '%s'\n", g->dir);
		return;
	}
	for (k = 0; k < runs; k++) {
		snprintf(path, sizeof(path), "%s/new-%02d.json", g->dir, k);
		unlink(path);
		snprintf(path, sizeof(path), "%s/base-%02d.json", g->dir, k);
		unlink(path);
	}
	if (rmdir(g->dir) < 0)
		cmd_warn("gate", "'%s' left behind: %s", g->dir, strerror(errno));
}

int cmd_gate(int argc, char **argv)
{
	struct gate g = { 0 };
	struct gate_opts go = { .report_path = "pktmem-gate-report.json", .trials = 5, .warmup = 1 };
	struct report *cur = NULL, *base = NULL, *old = NULL;
	const char *tmp = getenv("TMPDIR");
	int rc, ex = EXIT_USAGE;

	compare_opts_init(&go.co);
	if (gate_options(argc, argv, &g, &go, &rc) < 0)
		goto out;

	/* The baseline is read first: a bad one fails before minutes of replay. */
	if (go.baseline && !g.other && (access(go.baseline, F_OK) == 0 || !go.update) &&
	    compare_load("gate", "baseline", go.baseline, go.update ? &old : &base, &ex) < 0) {
		rc = ex;
		goto out;
	}
	snprintf(g.dir, sizeof(g.dir), "%s/pktmem-gate-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(g.dir)) {
		rc = cmd_error("gate", "mkdtemp '%s': %s", g.dir, strerror(errno));
		goto out;
	}
	rc = run_trials(&g, (int)go.warmup, (int)go.trials, &cur, &base);
	if (rc != EXIT_OK)
		goto out;
	if (strcmp(go.report_path, "none")) {
		int w = report_write_json(cur, go.report_path);

		if (w < 0) {
			rc = cmd_error("gate", "writing the report '%s': %s", go.report_path,
				       report_strerror(w));
			goto out;
		}
	}
	if (go.update) {
		rc = update_baseline(&g, go.baseline, cur, old);
		goto out;
	}
	/* acknowledged regressions of a stored baseline still apply */
	if (g.other && go.baseline && compare_load("gate", "baseline", go.baseline, &old, &ex) == 0) {
		base->nacks = old->nacks;
		memcpy(base->ack, old->ack, sizeof(base->ack));
	}
	rc = compare_verdict("gate", base, cur, &go.co);
out:
	remove_trials(&g, (int)(go.warmup + go.trials));
	report_free(cur);
	report_free(base);
	report_free(old);
	compare_opts_release(&go.co);
	return rc;
}
