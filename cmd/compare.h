/*
 * compare.h: what 'pktmem compare' shares with 'pktmem gate' (both in
 * cmd/): the options they both take, loading a report with the right exit
 * code, and the verdict emitted in every requested form.
 */
#ifndef PKTMEM_CMD_COMPARE_H
#define PKTMEM_CMD_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/opts.h"
#include "report/render.h"
#include "report/report.h"
#include "report/verdict.h"

/* --threshold, --metric, --md, --json, --tap, --strict, --seed, --color.
 * The --metric patterns are copies this struct owns. */
struct compare_opts {
	struct verdict_opts vo;		/* threshold and seed set here; only/nonly by compare_verdict */
	char **metric;			/* --metric patterns (fnmatch), repeated or comma-separated */
	size_t nmetric;
	const char *md, *json;		/* --md FILE, --json FILE ("-": stdout), or NULL */
	const char *color;		/* --color WHEN: "auto" (default), "always", other: never */
	bool tap, strict;
};

void compare_opts_init(struct compare_opts *co);
void compare_opts_release(struct compare_opts *co);

/* OPT_CALLBACKs: --threshold into the double at o->value; --metric into
 * the struct compare_opts at o->value. */
int compare_opt_threshold(const struct opt *o, const char *arg, char *err, size_t errlen);
int compare_opt_metric(const struct opt *o, const char *arg, char *err, size_t errlen);

/* The table entries of the shared options, help included (NULL: listed
 * by the command's own OPT_TEXT); co is a struct compare_opts *. */
#define COMPARE_OPTS(co, h) \
	OPT_CALLBACK(0, "threshold", &(co)->vo.threshold, "T", compare_opt_threshold, \
		     (h) ? "minimum timing effect: '10%' (default), '0.1' or '10'" : NULL), \
	OPT_CALLBACK(0, "metric", (co), "NAME", compare_opt_metric, \
		     (h) ? "only these metrics (repeat or comma-separate; a stage name,\n" \
			   "a metric name or a pattern like 'copy.*')" : NULL), \
	OPT_STRING(0, "md", &(co)->md, "FILE", \
		   (h) ? "Markdown summary for a pull request ('-': stdout, no table)" : NULL), \
	OPT_STRING(0, "json", &(co)->json, "FILE", \
		   (h) ? "the verdict as JSON (pktmem.verdict/1)" : NULL), \
	OPT_BOOL(0, "tap", &(co)->tap, \
		 (h) ? "one TAP line per metric on stdout instead of the table" : NULL), \
	OPT_BOOL(0, "strict", &(co)->strict, \
		 (h) ? "an inconclusive verdict exits 4 instead of 0" : NULL), \
	OPT_U64(0, "seed", &(co)->vo.seed, "N", 0, UINT64_MAX, \
		(h) ? "bootstrap seed (default fixed: verdicts are reproducible)" : NULL), \
	OPT_STRING(0, "color", &(co)->color, "WHEN", (h) ? "auto, always, never" : NULL)

/* Reads path; on failure prints "pktmem: CMD: WHAT 'path': reason" and sets
 * *ex to EXIT_USAGE (bad input) or EXIT_NOT_COMPARABLE (another schema
 * version).  Returns report_read_json()'s code. */
int compare_load(const char *cmd, const char *what, const char *path, struct report **r, int *ex);

/* The verdict of cur against base with co's options: the table or TAP on
 * stdout, the --md/--json files.  Returns the exit code: 0 pass, 1
 * regression, 2 a usage or output error (--metric matching nothing
 * included), 3 not comparable, 4 inconclusive with --strict. */
int compare_verdict(const char *cmd, const struct report *base, const struct report *cur,
		    struct compare_opts *co);

#endif
