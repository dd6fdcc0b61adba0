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
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: pktmem compare BASE.json NEW.json [--threshold 10%] [--metric NAME]...\n"
	"                      [--md FILE] [--json FILE] [--tap] [--strict] [--seed N]\n"
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
	"\n"
	"  --threshold T   minimum timing effect: '10%' (default), '0.1' or '10'\n"
	"  --metric NAME   only these metrics (repeat or comma-separate; a stage name,\n"
	"                  a metric name or a pattern like 'copy.*')\n"
	"  --md FILE       Markdown summary for a pull request ('-': stdout, no table)\n"
	"  --json FILE     the verdict as JSON (pktmem.verdict/1)\n"
	"  --tap           one TAP line per metric on stdout instead of the table\n"
	"  --strict        an inconclusive verdict exits 4 instead of 0\n"
	"  --seed N        bootstrap seed (default fixed: verdicts are reproducible)\n"
	"  --color WHEN    auto, always, never\n"
	"\n"
	"exit: 0 pass (warnings allowed), 1 regression, 2 usage or bad input,\n"
	"      3 not comparable (capture, options or schema version differ),\n"
	"      4 inconclusive with --strict\n";

/* "10%", "10" -> 0.10; "0.1" -> 0.10. */
int compare_parse_fraction(const char *s, double *out)
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
int compare_emit(const char *cmd, const struct verdict *v, const char *md, const char *json,
		 int tap, int strict, const struct render_opts *ro)
{
	struct render_mem m;
	int rc = EXIT_OK, w;

	/* "--md -" or "--json -" owns standard output: no table there then */
	if (tap)
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
		if (strict)
			return EXIT_INCONCLUSIVE;
		cmd_warn(cmd, "inconclusive: large effects without enough evidence; run more trials "
			 "(--strict makes this exit 4)");
		return EXIT_OK;
	default:
		return EXIT_OK;
	}
}

int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "threshold", required_argument, NULL, 't' },
		{ "metric", required_argument, NULL, 'M' },
		{ "md", required_argument, NULL, 'm' },
		{ "json", required_argument, NULL, 'j' },
		{ "tap", no_argument, NULL, 'T' },
		{ "strict", no_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "color", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *md = NULL, *json = NULL, *color = "auto";
	struct report *base = NULL, *cur = NULL;
	struct verdict_opts vo;
	struct verdict *v = NULL;
	struct render_opts ro = { 0 };
	char **only = NULL;
	size_t nonly = 0;
	int tap = 0, strict = 0, c, rc = EXIT_OK, ex = EXIT_USAGE;

	verdict_opts_default(&vo);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return cmd_finish_stdout("compare", EXIT_OK);
		case 't':
			if (compare_parse_fraction(optarg, &vo.threshold) < 0) {
				rc = cmd_error("compare", "--threshold '%s': want a percentage like 10%%", optarg);
				goto out;
			}
			break;
		case 'M': {
			char *save = NULL, *tok, *dup = strdup(optarg);

			for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				char **n = realloc(only, (nonly + 1) * sizeof(*n));

				if (!n)
					break;
				only = n;
				only[nonly++] = strdup(tok);
			}
			free(dup);
			break;
		}
		case 'm': md = optarg; break;
		case 'j': json = optarg; break;
		case 'T': tap = 1; break;
		case 's': strict = 1; break;
		case 'S': vo.seed = strtoull(optarg, NULL, 0); break;
		case 'c': color = optarg; break;
		default:
			rc = cmd_error("compare", "unknown option or missing argument '%s'; see 'pktmem compare --help'",
				       argv[optind - 1]);
			goto out;
		}
	}
	if (argc - optind != 2) {
		rc = cmd_error("compare", "want two reports, BASE.json NEW.json; see 'pktmem compare --help'");
		goto out;
	}
	ro.color = !strcmp(color, "always") || (!strcmp(color, "auto") && cmd_use_color(stdout));
	if (compare_load("compare", "baseline", argv[optind], &base, &ex) < 0 ||
	    compare_load("compare", "new report", argv[optind + 1], &cur, &ex) < 0) {
		rc = ex;
		goto out;
	}
	vo.only = (const char *const *)only;
	vo.nonly = nonly;
	if (verdict_compare(base, cur, &vo, &v) < 0) {
		rc = cmd_error("compare", "out of memory");
		goto out;
	}
	if (nonly && v->overall != VS_NOT_COMPARABLE && v->nitems == 0) {
		rc = cmd_error("compare", "--metric matched no metric");
		goto out;
	}
	rc = compare_emit("compare", v, md, json, tap, strict, &ro);
out:
	verdict_free(v);
	report_free(base);
	report_free(cur);
	while (nonly)
		free(only[--nonly]);
	free(only);
	return cmd_finish_stdout("compare", rc);
}
