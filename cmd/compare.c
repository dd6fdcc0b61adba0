/*
 * compare.c: 'pktmem compare BASE.json NEW.json': the regression verdict
 * between two reports (report/verdict.h has the rules).
 */
#include "cmd/cmd.h"
#include "cmd/compare.h"
#include "report/render.h"
#include "report/report.h"
#include "report/verdict.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* "10%", "10" -> 0.10; "0.1" -> 0.10. */
static int parse_fraction(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (*end == '%' && end[1] == '\0')
		v /= 100;
	else if (*end != '\0')
		return -1;
	else if (v >= 1)
		v /= 100;
	if (v <= 0 || v >= 10)
		return -1;
	*out = v;
	return 0;
}

void compare_opts_init(struct compare_opts *co)
{
	memset(co, 0, sizeof(*co));
	verdict_opts_default(&co->vo);
	co->color = "auto";
}

void compare_opts_release(struct compare_opts *co)
{
	while (co->nmetric)
		free(co->metric[--co->nmetric]);
	free(co->metric);
	co->metric = NULL;
}

int compare_opt_threshold(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	if (parse_fraction(arg, o->value) < 0) {
		snprintf(err, errlen, "--threshold '%s': want a percentage like 10%%", arg);
		return -1;
	}
	return 0;
}

int compare_opt_metric(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	struct compare_opts *co = o->value;
	const char *p = arg;
	size_t len;

	for (; *p; p += len) {
		char **n;

		p += strspn(p, ",");
		len = strcspn(p, ",");
		if (!len)
			break;
		n = realloc(co->metric, (co->nmetric + 1) * sizeof(*n));
		if (!n || !(n[co->nmetric] = strndup(p, len))) {
			if (n)
				co->metric = n;
			snprintf(err, errlen, "--metric: out of memory");
			return -1;
		}
		co->metric = n;
		co->nmetric++;
	}
	return 0;
}

/* Loads a report; exit code for a failure in *ex (2 bad input, 3 another
 * schema version). */
int compare_load(const char *cmd, const char *what, const char *path, struct report **r, int *ex)
{
	char err[512];
	int rc = report_read_json(path, r, err, sizeof(err));

	if (rc < 0) {
		*ex = rc == REPORT_E_VERSION ? EXIT_NOT_COMPARABLE : EXIT_USAGE;
		cmd_error(cmd, "%s '%s': %s%s", what, path, err[0] ? err : report_strerror(rc),
			  rc == REPORT_E_VERSION ? ": not comparable" : "");
	}
	return rc;
}

/* Writes the verdict's outputs and maps it to the exit code. */
static int emit(const char *cmd, const struct verdict *v, const struct compare_opts *co,
		const struct render_opts *ro)
{
	const char *md = co->md, *json = co->json;
	struct render_mem m;
	int rc = EXIT_OK, w;

	/* "--md -" or "--json -" owns standard output: no table there then */
	if (co->tap)
		w = render_verdict_tap(stdout, v);
	else if ((md && !strcmp(md, "-")) || (json && !strcmp(json, "-")))
		w = 0;
	else
		w = render_verdict_text(stdout, v, ro);
	if (w < 0)
		rc = EXIT_USAGE;
	if (md) {
		if (!render_mem_open(&m))
			return cmd_error(cmd, "out of memory");
		w = render_mem_commit(&m, md, render_verdict_md(m.f, v));
		if (w < 0)
			rc = cmd_error(cmd, "writing Markdown '%s': %s", md, report_strerror(w));
	}
	if (json) {
		w = verdict_write_json(v, json);
		if (w < 0)
			rc = cmd_error(cmd, "writing JSON '%s': %s", json, report_strerror(w));
	}
	if (rc)
		return rc;
	switch (v->overall) {
	case VS_NOT_COMPARABLE:
		cmd_error(cmd, "not comparable: %s", v->not_comparable);
		return EXIT_NOT_COMPARABLE;
	case VS_FAIL:
		return EXIT_VERDICT;
	case VS_INCONCLUSIVE:
		if (co->strict)
			return EXIT_INCONCLUSIVE;
		cmd_warn(cmd, "inconclusive: large effects without enough evidence; run more trials "
			 "(--strict makes this exit 4)");
		return EXIT_OK;
	default:
		return EXIT_OK;
	}
}

int compare_verdict(const char *cmd, const struct report *base, const struct report *cur,
		    struct compare_opts *co)
{
	struct render_opts ro = { 0 };
	struct verdict *v = NULL;
	int rc;

	ro.color = !strcmp(co->color, "always") ||
		   (!strcmp(co->color, "auto") && cmd_use_color(stdout));
	co->vo.only = (const char *const *)co->metric;
	co->vo.nonly = co->nmetric;
	if (verdict_compare(base, cur, &co->vo, &v) < 0)
		return cmd_error(cmd, "out of memory");
	if (co->nmetric && v->overall != VS_NOT_COMPARABLE && v->nitems == 0)
		rc = cmd_error(cmd, "--metric matched no metric");
	else
		rc = emit(cmd, v, co, &ro);
	verdict_free(v);
	return rc;
}

int cmd_compare(int argc, char **argv)
{
	struct compare_opts co;
	const struct opt opts[] = {
		COMPARE_OPTS(&co, true),
		OPT_END(),
	};
	const struct opt_cmd cmd = {
		.name = "compare",
		.usage =
		"usage: pktmem compare BASE.json NEW.json [--threshold 10%] [--metric NAME]...\n"
		"                      [--md FILE] [--json FILE] [--tap] [--strict] [--seed N]\n",
		.intro =
		"\n"
		"Is NEW a regression against BASE?  Per metric, by its class:\n"
		"  exact   (bytes copied, allocations, parse calls per request) must not change;\n"
		"  count   (syscalls, packets, softirqs per request) fail only when every new\n"
		"          trial is worse than the baseline median by more than 10%;\n"
		"  hw      (instructions, cycles) within 2%; skipped without a PMU;\n"
		"  timing  (ns per stage, requests/s) fail when a one-sided Mann-Whitney test\n"
		"          is significant at 0.01 (Holm-corrected) AND the bootstrap lower bound\n"
		"          of the median ratio exceeds the threshold.  With 5 vs 5 trials only\n"
		"          complete separation reaches p = 1/252.  A baseline from another\n"
		"          machine makes timing verdicts advisory (warnings).\n"
		"A regression listed in the baseline's \"acknowledged\" array is a warning.\n"
		"\n",
		.opts = opts,
		.outro =
		"\n"
		"exit: 0 pass (warnings allowed), 1 regression, 2 usage or bad input,\n"
		"      3 not comparable (capture, options or schema version differ),\n"
		"      4 inconclusive with --strict\n",
		.help_col = 18,
	};
	struct report *base = NULL, *cur = NULL;
	int first, rc, ex = EXIT_USAGE;

	compare_opts_init(&co);
	first = cmd_parse_options(&cmd, argc, argv, &rc);
	if (first < 0)
		goto out;
	if (argc - first != 2) {
		rc = cmd_error("compare", "want two reports, BASE.json NEW.json; see 'pktmem compare --help'");
		goto out;
	}
	if (compare_load("compare", "baseline", argv[first], &base, &ex) < 0 ||
	    compare_load("compare", "new report", argv[first + 1], &cur, &ex) < 0) {
		rc = ex;
		goto out;
	}
	rc = compare_verdict("compare", base, cur, &co);
out:
	report_free(base);
	report_free(cur);
	compare_opts_release(&co);
	return rc;
}
