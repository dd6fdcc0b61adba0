/*
 * verdict.h: is NEW a regression against BASE?  The statistics behind
 * 'pktmem compare' and 'pktmem gate'.
 *
 * Every metric of every stage is compared by its class (report.h):
 *   exact   medians equal within a tiny tolerance (declared per metric, else
 *           1e-9 relative); any change fails: the build or capture behaves
 *           differently, update the baseline on purpose.
 *   count   timing-sensitive counts: worse than the baseline median by more
 *           than the slack (declared, else 10%) in EVERY new trial -> fail.
 *   hw      hardware counters: medians within a small tolerance (declared,
 *           else 2%); unavailable on either side -> skipped with the reason.
 *   timing  ns, rates over trials: a one-sided Mann-Whitney U test in the
 *           direction of "worse" (exact distribution without ties and for
 *           up to 50 trials a side, else the normal approximation with tie
 *           and continuity correction) AND a minimum effect: the seeded
 *           bootstrap lower bound (5th percentile, 2000 resamples) of the
 *           worse-direction ratio of medians must exceed 1 + threshold
 *           (default 10%; drawn only when the observed ratio of medians
 *           exceeds it, as the bound lies below that ratio).  Holm's correction runs over the family of
 *           timing metrics that pass the effect screen (see
 *           docs/report.md: with 5 vs 5 trials the smallest one-sided p
 *           is 1/252 = 0.004, so correcting over every stage would make a
 *           default gate unable to fail).  Effect large but p too big ->
 *           inconclusive (more trials would decide).  Baseline from another
 *           machine (env.fingerprint) -> timing verdicts are advisory.
 *   info    shown, never gated.
 * Not comparable (exit 3): capture sha256 or options differ.
 * A regression the baseline acknowledges (report.acknowledged) becomes a
 * warning carrying the acknowledged reason.
 *
 * verdict_compare() is deterministic: the same inputs and seed give the
 * same verdict, bit for bit.
 */
#ifndef PKTMEM_REPORT_VERDICT_H
#define PKTMEM_REPORT_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report.h"

enum verdict_status {
	VS_PASS = 0,
	VS_IMPROVED,		/* better beyond the threshold: still a pass */
	VS_INFO,		/* info metric: shown, not gated */
	VS_SKIP,		/* unavailable on a side: the reason says why */
	VS_WARN,		/* advisory timing regression, missing metric */
	VS_ACK,			/* regression acknowledged by the baseline */
	VS_INCONCLUSIVE,	/* effect large, evidence too weak */
	VS_FAIL,		/* regression */
	VS_NOT_COMPARABLE,	/* overall only */
};

struct verdict_opts {
	double threshold;	/* timing minimum effect, 0.10 = 10% */
	double alpha;		/* family-wise, 0.01 */
	double count_slack;	/* default slack of count metrics, 0.10 */
	double hw_tolerance;	/* default tolerance of hw metrics, 0.02 */
	double exact_tolerance;	/* default relative tolerance of exact, 1e-9 */
	int boot_iters;		/* bootstrap resamples, 2000 */
	double boot_level;	/* lower bound quantile, 0.05 */
	uint64_t seed;		/* bootstrap seed */
	const char *const *only; /* --metric filters (fnmatch patterns), NULL: all */
	size_t nonly;
};

struct verdict_item {
	char name[96];		/* "<stage>.<metric>" or "replay.<what>" */
	char unit[16];
	enum metric_class cls;
	bool lower_is_better;
	enum verdict_status status;
	struct report_stat base, cur;	/* over trials */
	double change;		/* median(cur)/median(base) - 1; 0 when base is 0 */
	double p;		/* timing: one-sided MW p, raw; < 0 n/a */
	double p_holm;		/* Holm-adjusted; < 0 when not in the family */
	double lower;		/* timing: bootstrap lower bound of the worse ratio; < 0 n/a */
	char why[320];		/* one line: what was decided and why */
};

struct verdict {
	enum verdict_status overall;
	char not_comparable[512];	/* why, when overall == VS_NOT_COMPARABLE */
	bool advisory_timing;		/* fingerprints differ */
	size_t base_trials, cur_trials;
	struct verdict_opts opt;
	size_t nitems;
	struct verdict_item *item;
	int nfail, nwarn, ninconclusive, nskip, nack, npass;
};

void verdict_opts_default(struct verdict_opts *o);
/* 0 and *out (free with verdict_free) or negative errno.  A verdict that
 * is not comparable is still a verdict (overall VS_NOT_COMPARABLE). */
int verdict_compare(const struct report *base, const struct report *cur,
		    const struct verdict_opts *o, struct verdict **out);
void verdict_free(struct verdict *v);
const char *verdict_status_name(enum verdict_status s);	/* "pass", "FAIL", ... */
/* JSON of the verdict, written atomically like a report ("-" = stdout). */
int verdict_write_json(const struct verdict *v, const char *path);

/* ---- the statistics, exposed for the calibration tests ---- */
/* One-sided p for "y tends to be greater than x" (Mann-Whitney U). */
double verdict_mw_greater(const double *x, size_t nx, const double *y, size_t ny);
/* Bootstrap lower bound (quantile `level`) of median(y*)/median(x*). */
double verdict_boot_ratio_lower(const double *x, size_t nx, const double *y, size_t ny,
				int iters, double level, uint64_t seed);
/* Holm step-down adjusted p-values of p[n] into adj[n]. */
void verdict_holm(const double *p, size_t n, double *adj);

#endif
