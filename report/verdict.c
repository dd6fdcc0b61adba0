/*
 * verdict.c: regression verdicts between two reports.  The decision rules
 * are in verdict.h; the reasoning behind them in docs/report.md.
 */
#include "report/verdict.h"
#include "lib/io.h"

#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_MAX_N 50		/* exact U distribution up to 50 trials a side */

void verdict_opts_default(struct verdict_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->threshold = 0.10;
	o->alpha = 0.01;
	o->count_slack = 0.10;
	o->hw_tolerance = 0.02;
	o->exact_tolerance = 1e-9;
	o->boot_iters = 2000;
	o->boot_level = 0.05;
	o->seed = 0x706b746d656d0001ULL;	/* "pktmem" 1: any fixed value */
}

const char *verdict_status_name(enum verdict_status s)
{
	switch (s) {
	case VS_PASS: return "pass";
	case VS_IMPROVED: return "improved";
	case VS_INFO: return "info";
	case VS_SKIP: return "skipped";
	case VS_WARN: return "warning";
	case VS_ACK: return "acknowledged";
	case VS_INCONCLUSIVE: return "inconclusive";
	case VS_FAIL: return "FAIL";
	case VS_NOT_COMPARABLE: return "not comparable";
	}
	return "?";
}

/* ---- statistics -------------------------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Exact P(U >= u) under H0 for sizes m (x) and n (y), no ties; U counts
 * pairs with y > x.  c(m,n,u) = c(m,n-1,u-m) + c(m-1,n,u): the largest of
 * all m+n values is a y (beating all m x's) or an x (beating none).
 * Counts are doubles: C(100,50) ~ 1e29 loses only low bits. */
static double mw_exact_upper(size_t m, size_t n, double u_obs)
{
	size_t umax = m * n, i, j, u;
	double *prev = NULL, *cur = NULL, tot = 0, tail = 0;
	size_t stride = umax + 1;

	prev = calloc((n + 1) * stride, sizeof(double));
	cur = calloc((n + 1) * stride, sizeof(double));
	if (!prev || !cur) {
		free(prev);
		free(cur);
		return -1;
	}
	for (i = 0; i <= m; i++) {
		for (j = 0; j <= n; j++) {
			double *c = cur + j * stride;

			memset(c, 0, stride * sizeof(double));
			if (i == 0 || j == 0) {
				c[0] = 1;
				continue;
			}
			for (u = 0; u <= i * j; u++) {
				double v = prev[j * stride + u];	/* c(i-1, j, u) */

				if (u >= i)
					v += cur[(j - 1) * stride + u - i];	/* c(i, j-1, u-i) */
				c[u] = v;
			}
		}
		{
			double *t = prev;

			prev = cur;
			cur = t;
		}
	}
	for (u = 0; u <= umax; u++) {
		double c = prev[n * stride + u];

		tot += c;
		if ((double)u >= u_obs - 1e-9)
			tail += c;
	}
	free(prev);
	free(cur);
	return tot > 0 ? tail / tot : 1;
}

double verdict_mw_greater(const double *x, size_t nx, const double *y, size_t ny)
{
	struct { double v; int g; } *all;
	double u = 0, tie_term = 0, mean, var, z, N;
	size_t i, j, n = nx + ny;
	bool ties = false;

	if (nx == 0 || ny == 0)
		return 1;
	for (i = 0; i < nx; i++)
		for (j = 0; j < ny; j++)
			u += y[j] > x[i] ? 1 : y[j] == x[i] ? 0.5 : 0;

	/* Tie groups over the pooled sample. */
	all = malloc(n * sizeof(*all));
	if (!all)
		return 1;
	for (i = 0; i < nx; i++)
		all[i].v = x[i];
	for (i = 0; i < ny; i++)
		all[nx + i].v = y[i];
	{
		double *v = malloc(n * sizeof(double));

		if (!v) {
			free(all);
			return 1;
		}
		for (i = 0; i < n; i++)
			v[i] = all[i].v;
		qsort(v, n, sizeof(double), cmp_d);
		for (i = 0; i < n; ) {
			size_t k = i;

			while (k < n && v[k] == v[i])
				k++;
			if (k - i > 1) {
				double t = (double)(k - i);

				ties = true;
				tie_term += t * t * t - t;
			}
			i = k;
		}
		free(v);
	}
	free(all);

	if (!ties && nx <= EXACT_MAX_N && ny <= EXACT_MAX_N) {
		double p = mw_exact_upper(nx, ny, u);

		if (p >= 0)
			return p;
	}
	/* Normal approximation, tie-corrected variance, continuity 0.5. */
	N = (double)n;
	mean = (double)nx * (double)ny / 2;
	var = (double)nx * (double)ny / 12 * ((N + 1) - tie_term / (N * (N - 1)));
	if (var <= 0)
		return 1;
	z = (u - mean - 0.5) / sqrt(var);
	return 0.5 * erfc(z / M_SQRT2);
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double resample_median(const double *v, size_t n, double *tmp, uint64_t *s)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		double x = v[splitmix64(s) % n];

		/* insertion sort: n is a trial count */
		for (j = i; j > 0 && tmp[j - 1] > x; j--)
			tmp[j] = tmp[j - 1];
		tmp[j] = x;
	}
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

double verdict_boot_ratio_lower(const double *x, size_t nx, const double *y, size_t ny,
				int iters, double level, uint64_t seed)
{
	double *r, *tmp, lo;
	uint64_t s = seed;
	int i, k;

	if (nx == 0 || ny == 0 || iters <= 0)
		return NAN;
	r = malloc((size_t)iters * sizeof(double));
	tmp = malloc((nx > ny ? nx : ny) * sizeof(double));
	if (!r || !tmp) {
		free(r);
		free(tmp);
		return NAN;
	}
	for (i = 0; i < iters; i++) {
		double mx = resample_median(x, nx, tmp, &s);
		double my = resample_median(y, ny, tmp, &s);

		r[i] = mx > 0 ? my / mx : (my > 0 ? INFINITY : 1);
	}
	qsort(r, (size_t)iters, sizeof(double), cmp_d);
	k = (int)floor(level * iters);
	if (k >= iters)
		k = iters - 1;
	lo = r[k];
	free(r);
	free(tmp);
	return lo;
}

void verdict_holm(const double *p, size_t n, double *adj)
{
	size_t *idx, i, j;
	double run = 0;

	idx = malloc((n ? n : 1) * sizeof(*idx));
	if (!idx) {
		for (i = 0; i < n; i++)
			adj[i] = fmin(1, p[i] * (double)n);	/* Bonferroni: safe */
		return;
	}
	for (i = 0; i < n; i++)
		idx[i] = i;
	/* insertion sort of indices by p: the family is small */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && p[idx[j - 1]] > p[idx[j]]; j--) {
			size_t t = idx[j];

			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	for (i = 0; i < n; i++) {
		double a = fmin(1, (double)(n - i) * p[idx[i]]);

		run = fmax(run, a);
		adj[idx[i]] = run;
	}
	free(idx);
}

/* ---- building the verdict ---------------------------------------------- */

struct vals {
	double *v;
	size_t n;
	bool seen;		/* the metric exists in some trial */
	const char *reason;	/* first unavailable reason */
	const struct metric *first;
};

static void collect_metric(const struct report *r, int s, const char *name, struct vals *out)
{
	size_t t;

	memset(out, 0, sizeof(*out));
	out->v = calloc(r->ntrials ? r->ntrials : 1, sizeof(double));
	for (t = 0; t < r->ntrials && out->v; t++) {
		const struct stage_result *st = &r->trial[t].stage[s];
		const struct metric *m = stage_find_metric(st, name);

		if (!m)
			continue;
		out->seen = true;
		if (!out->first)
			out->first = m;
		if (m->available && st->available)
			out->v[out->n++] = m->value;
		else if (!out->reason)
			out->reason = !st->available ? st->reason : m->reason;
	}
}

static void collect_time(const struct report *r, int s, const char *name, struct vals *out)
{
	size_t t;

	(void)name;
	memset(out, 0, sizeof(*out));
	out->v = calloc(r->ntrials ? r->ntrials : 1, sizeof(double));
	for (t = 0; t < r->ntrials && out->v; t++) {
		const struct stage_result *st = &r->trial[t].stage[s];

		out->seen = true;
		if (st->available && st->time_available)
			out->v[out->n++] = st->time_ns;
		else if (!out->reason)
			out->reason = st->available ? "time not measured" : st->reason;
	}
}

static void collect_rps(const struct report *r, int s, const char *name, struct vals *out)
{
	size_t t;

	(void)s;
	(void)name;
	memset(out, 0, sizeof(*out));
	out->seen = true;
	out->v = calloc(r->ntrials ? r->ntrials : 1, sizeof(double));
	for (t = 0; t < r->ntrials && out->v; t++)
		if (r->trial[t].replay.requests_per_s > 0)
			out->v[out->n++] = r->trial[t].replay.requests_per_s;
	if (!out->n)
		out->reason = "no requests/s recorded";
}

static __attribute__((format(printf, 2, 3))) void why(struct verdict_item *it, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(it->why, sizeof(it->why), fmt, ap);
	va_end(ap);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

static double stat_median(const double *v, size_t n, struct report_stat *st)
{
	double *c = malloc((n ? n : 1) * sizeof(double));

	if (!c) {
		memset(st, 0, sizeof(*st));
		return 0;
	}
	memcpy(c, v, n * sizeof(double));
	report_stat_of(c, n, st);
	free(c);
	return st->median;
}

/* "worse" as a positive number: for lower-is-better metrics cur - base. */
static double worse(const struct verdict_item *it, double base, double cur)
{
	return it->lower_is_better ? cur - base : base - cur;
}

static void judge_exact(struct verdict_item *it, double tol)
{
	double b = it->base.median, c = it->cur.median;
	double lim = tol * fabs(b) + 1e-12;

	if (fabs(c - b) <= lim) {
		it->status = VS_PASS;
		why(it, "unchanged (%.6g %s)", c, it->unit);
	} else {
		it->status = VS_FAIL;
		why(it, "changed: %.6g -> %.6g %s (%+.2f%%); exact metrics must not change "
			"(update the baseline if this is intended)",
		    b, c, it->unit, b != 0 ? (c / b - 1) * 100 : 100.0);
	}
}

static void judge_count(struct verdict_item *it, const struct vals *cur, double slack)
{
	double b = it->base.median, lim = fabs(b) * slack;
	size_t i, nworse = 0, nbetter = 0;

	for (i = 0; i < cur->n; i++) {
		double w = worse(it, b, cur->v[i]);

		if (w > lim + 1e-12)
			nworse++;
		else if (-w > lim + 1e-12)
			nbetter++;
	}
	if (cur->n && nworse == cur->n) {
		it->status = VS_FAIL;
		why(it, "worse than %.6g %s by more than the %.0f%% slack in every trial (%zu of %zu; median %.6g)",
		    b, it->unit, slack * 100, nworse, cur->n, it->cur.median);
	} else if (cur->n && nbetter == cur->n) {
		it->status = VS_IMPROVED;
		why(it, "better than %.6g %s beyond the %.0f%% slack in every trial (median %.6g)",
		    b, it->unit, slack * 100, it->cur.median);
	} else {
		it->status = VS_PASS;
		why(it, "within the %.0f%% slack (%zu of %zu trials beyond it)", slack * 100,
		    nworse, cur->n);
	}
}

static void judge_hw(struct verdict_item *it, double tol)
{
	double b = it->base.median, c = it->cur.median, w = worse(it, b, c);

	if (w > fabs(b) * tol + 1e-12) {
		it->status = VS_FAIL;
		why(it, "%.6g -> %.6g %s (%+.2f%%), beyond the %.1f%% tolerance",
		    b, c, it->unit, b ? (c / b - 1) * 100 : 100.0, tol * 100);
	} else {
		it->status = VS_PASS;
		why(it, "%.6g -> %.6g %s, within the %.1f%% tolerance", b, c, it->unit, tol * 100);
	}
}

/* Timing: p and lower bound now, the decision after Holm (finish_timing). */
static void measure_timing(struct verdict_item *it, const struct vals *base, const struct vals *cur,
			   const struct verdict_opts *o)
{
	uint64_t seed = o->seed ^ fnv1a(it->name);
	double point = it->lower_is_better ? it->cur.median / it->base.median
					   : it->base.median / it->cur.median;

	/* The bootstrap lower bound sits below the observed ratio of medians:
	 * when that ratio is within the threshold the effect screen fails
	 * anyway, and the 2000 resamples are not worth drawing. */
	if (!(point > 1 + o->threshold)) {
		it->p = it->lower_is_better ? verdict_mw_greater(base->v, base->n, cur->v, cur->n)
					    : verdict_mw_greater(cur->v, cur->n, base->v, base->n);
		it->lower = -1;
		return;
	}
	if (it->lower_is_better) {
		it->p = verdict_mw_greater(base->v, base->n, cur->v, cur->n);
		it->lower = verdict_boot_ratio_lower(base->v, base->n, cur->v, cur->n,
						     o->boot_iters, o->boot_level, seed);
	} else {
		/* higher is better (req/s): worse means smaller, ratio base/cur */
		it->p = verdict_mw_greater(cur->v, cur->n, base->v, base->n);
		it->lower = verdict_boot_ratio_lower(cur->v, cur->n, base->v, base->n,
						     o->boot_iters, o->boot_level, seed);
	}
	if (isnan(it->lower))
		it->lower = -1;
}

static double min_p(size_t m, size_t n)
{
	/* smallest one-sided exact p: 1 / C(m+n, m) */
	double c = 1;
	size_t i;

	for (i = 1; i <= m; i++)
		c = c * (double)(n + i) / (double)i;
	return 1 / c;
}

static void finish_timing(struct verdict *v, const struct verdict_opts *o)
{
	size_t i, nfam = 0, k;
	double *p, *adj;
	size_t *which;

	p = calloc(v->nitems + 1, sizeof(double));
	adj = calloc(v->nitems + 1, sizeof(double));
	which = calloc(v->nitems + 1, sizeof(size_t));
	if (!p || !adj || !which)
		goto out;
	for (i = 0; i < v->nitems; i++) {
		struct verdict_item *it = &v->item[i];

		if (it->cls != MC_TIMING || it->status != VS_PASS || it->p < 0)
			continue;
		if (it->lower > 1 + o->threshold) {
			which[nfam] = i;
			p[nfam++] = it->p;
		}
	}
	verdict_holm(p, nfam, adj);
	for (k = 0; k < nfam; k++)
		v->item[which[k]].p_holm = adj[k];

	for (i = 0; i < v->nitems; i++) {
		struct verdict_item *it = &v->item[i];
		double ch = it->change * 100, lo = (it->lower - 1) * 100;

		if (it->cls != MC_TIMING || it->status != VS_PASS || it->p < 0)
			continue;
		if (it->p_holm >= 0 && it->p_holm <= o->alpha) {
			it->status = v->advisory_timing ? VS_WARN : VS_FAIL;
			why(it, "%s%+.1f%% (bootstrap lower bound %+.1f%% > %.0f%%), p = %.4f (Holm %.4f over %zu) <= %.2g",
			    v->advisory_timing ? "advisory, baseline from another machine: " : "",
			    ch, lo, o->threshold * 100, it->p, it->p_holm, nfam, o->alpha);
		} else if (it->p_holm >= 0) {
			double mp = min_p(it->base.n, it->cur.n);

			it->status = v->advisory_timing ? VS_WARN : VS_INCONCLUSIVE;
			why(it, "%+.1f%% (lower bound %+.1f%% > %.0f%%) but p = %.4f (Holm %.4f over %zu) > %.2g "
				"with %zu vs %zu trials (smallest possible p %.4f): run more trials",
			    ch, lo, o->threshold * 100, it->p, it->p_holm, nfam, o->alpha,
			    it->base.n, it->cur.n, mp);
		} else {
			double imp_p;

			/* Not a regression.  Say "improved" only with the same
			 * strength of evidence a regression needs. */
			if (it->lower_is_better)
				imp_p = it->change < 0 ? 1 - it->p : 1;
			else
				imp_p = it->change > 0 ? 1 - it->p : 1;
			if (fabs(it->change) > o->threshold && imp_p <= o->alpha &&
			    ((it->lower_is_better && it->change < 0) || (!it->lower_is_better && it->change > 0))) {
				it->status = VS_IMPROVED;
				why(it, "%+.1f%%, better beyond the %.0f%% threshold", ch, o->threshold * 100);
			} else {
				if (it->lower < 0)
					why(it, "%+.1f%%: no regression beyond %.0f%% (p = %.3f)",
					    ch, o->threshold * 100, it->p);
				else
					why(it, "%+.1f%%: no regression beyond %.0f%% (lower bound %+.1f%%, p = %.3f)",
					    ch, o->threshold * 100, lo, it->p);
			}
		}
	}
out:
	free(p);
	free(adj);
	free(which);
}

static bool wanted(const struct verdict_opts *o, const char *name)
{
	const char *dot = strchr(name, '.');
	size_t i;

	if (!o->nonly)
		return true;
	for (i = 0; i < o->nonly; i++) {
		const char *pat = o->only[i];

		if (!fnmatch(pat, name, 0) || (dot && !strcmp(pat, dot + 1)) ||
		    (dot && strlen(pat) == (size_t)(dot - name) && !strncmp(pat, name, (size_t)(dot - name))))
			return true;
	}
	return false;
}

static int add_item(struct verdict *v, size_t *cap, const char *name)
{
	struct verdict_item *it;

	if (v->nitems == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct verdict_item *n = realloc(v->item, nc * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->item = n;
		*cap = nc;
	}
	it = &v->item[v->nitems++];
	memset(it, 0, sizeof(*it));
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->p = it->p_holm = it->lower = -1;
	return 0;
}

/* One metric: base and cur values gathered; decides all but timing. */
static void judge(struct verdict *v, struct verdict_item *it, const struct metric *decl,
		  const struct vals *b, const struct vals *c, const struct verdict_opts *o)
{
	double tol = decl && decl->tolerance > 0 ? decl->tolerance : -1;

	stat_median(b->v, b->n, &it->base);
	stat_median(c->v, c->n, &it->cur);
	it->change = it->base.median != 0 ? it->cur.median / it->base.median - 1 : 0;
	if (it->cls == MC_INFO) {
		it->status = VS_INFO;
		why(it, "shown, not gated");
		return;
	}
	if (!b->seen || !c->seen) {
		it->status = VS_WARN;
		why(it, "only in the %s report: not compared", b->seen ? "baseline" : "new");
		return;
	}
	if (!b->n || !c->n) {
		it->status = VS_SKIP;
		why(it, "unavailable in the %s report: %s", !b->n ? "baseline" : "new",
		    (!b->n ? b->reason : c->reason) ? (!b->n ? b->reason : c->reason) : "not measured");
		return;
	}
	switch (it->cls) {
	case MC_EXACT:
		judge_exact(it, tol >= 0 ? tol : o->exact_tolerance);
		break;
	case MC_COUNT:
		judge_count(it, c, tol >= 0 ? tol : o->count_slack);
		break;
	case MC_HW:
		judge_hw(it, tol >= 0 ? tol : o->hw_tolerance);
		break;
	case MC_TIMING:
		it->status = VS_PASS;	/* decided in finish_timing */
		measure_timing(it, b, c, o);
		break;
	case MC_INFO:
		break;
	}
	(void)v;
}

static int opts_differ(const struct report *a, const struct report *b, char *buf, size_t size)
{
	size_t n = 0;
	int k = 0;

#define OPT_S(f) if (strcmp(a->opt.f, b->opt.f)) { \
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s '%s' vs '%s'", \
				      k++ ? ", " : "", #f, a->opt.f, b->opt.f); if (n >= size) n = size - 1; }
	OPT_S(via) OPT_S(io) OPT_S(deser) OPT_S(speed) OPT_S(profile) OPT_S(events) OPT_S(filter)
#undef OPT_S
	if (a->opt.concurrency != b->opt.concurrency) {
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%sconcurrency %d vs %d",
				      k++ ? ", " : "", a->opt.concurrency, b->opt.concurrency);
	}
	return k;
}

static int stage_has_timing(const struct report *r, int s)
{
	size_t t, i;

	for (t = 0; t < r->ntrials; t++)
		for (i = 0; i < r->trial[t].stage[s].nmetrics; i++)
			if (r->trial[t].stage[s].metric[i].cls == MC_TIMING)
				return 1;
	return 0;
}

static const struct report_ack *find_ack(const struct report *base, const char *name)
{
	size_t i;

	for (i = 0; i < base->nacks; i++)
		if (!strcmp(base->ack[i].metric, name) || !fnmatch(base->ack[i].metric, name, 0))
			return &base->ack[i];
	return NULL;
}

/* The comparison under way: the verdict it fills and what it reads. */
struct cmp {
	struct verdict *v;
	size_t cap;		/* v->item's allocated length */
	const struct report *base, *cur;
	const struct verdict_opts *o;
};

/* How a compared quantity is gathered from a report and declared. */
typedef void (*collect_fn)(const struct report *r, int s, const char *name, struct vals *out);
struct quantity {
	collect_fn collect;
	const char *unit;	/* NULL: the metric's own declaration */
	enum metric_class cls;
	bool lower_is_better;
	bool if_measured;	/* no item when neither report has a value */
};

static const struct quantity q_metric = { collect_metric, NULL, MC_INFO, true, false };
/* A stage timed but without a declared timing metric: its total. */
static const struct quantity q_stage_time = { collect_time, "ns", MC_TIMING, true, true };
static const struct quantity q_rps = { collect_rps, "req/s", MC_TIMING, false, false };

/* Appends the item name with its unit and class: NULL when out of memory. */
static struct verdict_item *add_item_as(struct cmp *c, const char *name, const char *unit,
					enum metric_class cls, bool lower_is_better)
{
	struct verdict_item *it;

	if (add_item(c->v, &c->cap, name) < 0)
		return NULL;
	it = &c->v->item[c->v->nitems - 1];
	snprintf(it->unit, sizeof(it->unit), "%s", unit);
	it->cls = cls;
	it->lower_is_better = lower_is_better;
	return it;
}

/* One compared quantity: gathered from both reports, added as the item
 * name, judged.  For a stage's metric, mname is its name and m where it was
 * first seen (the declaration when the baseline has none). */
static int compare_one(struct cmp *c, const struct quantity *q, int s, const char *name,
		       const char *mname, const struct metric *m)
{
	const struct metric *decl = NULL;
	struct verdict_item *it;
	struct vals bv, cv;
	int rc = 0;

	q->collect(c->base, s, mname, &bv);
	q->collect(c->cur, s, mname, &cv);
	if (q->if_measured && !bv.n && !cv.n)
		goto out;
	if (!q->unit)
		decl = bv.first ? bv.first : m;
	it = decl ? add_item_as(c, name, decl->unit, decl->cls, decl->lower_is_better)
		  : add_item_as(c, name, q->unit, q->cls, q->lower_is_better);
	if (!it || !bv.v || !cv.v)
		rc = -ENOMEM;
	else
		judge(c->v, it, decl, &bv, &cv, c->o);
out:
	free(bv.v);
	free(cv.v);
	return rc;
}

/* A stage's metrics, named "<stage>.<metric>" in the baseline's order,
 * then those only in the new report; then its total time when no metric
 * of it is timing. */
static int compare_stage(struct cmp *c, int s)
{
	const struct report *src[2] = { c->base, c->cur };
	char name[96];
	size_t t, i, j;
	int k, rc = 0;

	for (k = 0; k < 2 && !rc; k++)
		for (t = 0; t < src[k]->ntrials && !rc; t++) {
			const struct stage_result *st = &src[k]->trial[t].stage[s];

			for (i = 0; i < st->nmetrics && !rc; i++) {
				snprintf(name, sizeof(name), "%s.%s", report_stage_name(s),
					 st->metric[i].name);
				for (j = 0; j < c->v->nitems; j++)
					if (!strcmp(c->v->item[j].name, name))
						break;
				if (j == c->v->nitems && wanted(c->o, name))
					rc = compare_one(c, &q_metric, s, name, st->metric[i].name,
							 &st->metric[i]);
			}
		}
	if (rc || stage_has_timing(c->base, s) || stage_has_timing(c->cur, s))
		return rc;
	snprintf(name, sizeof(name), "%s.time_ns", report_stage_name(s));
	return wanted(c->o, name) ? compare_one(c, &q_stage_time, s, name, NULL, NULL) : 0;
}

/* replay.verified: every new trial read exactly the capture. */
static int compare_verified(struct cmp *c)
{
	struct verdict_item *it = add_item_as(c, "replay.verified", "trials", MC_EXACT, true);
	const struct report *cur = c->cur;
	size_t bad = 0, first = 0, t;

	if (!it)
		return -ENOMEM;
	for (t = 0; t < cur->ntrials; t++)
		if (!cur->trial[t].replay.verified && !bad++)
			first = t;
	it->base.n = c->base->ntrials;
	it->cur.n = cur->ntrials;
	if (bad) {
		it->status = VS_FAIL;
		why(it, "%zu of %zu trials failed verification (trial %zu: %s)", bad,
		    cur->ntrials, first + 1, cur->trial[first].replay.verify_msg);
	} else {
		it->status = VS_PASS;
		why(it, "every trial's bytes and requests match the capture");
	}
	return 0;
}

/* Why base and cur cannot be compared, into v->not_comparable; false when
 * they can. */
static bool not_comparable(struct verdict *v, const struct report *base, const struct report *cur)
{
	char buf[400];

	if (strcmp(base->schema, cur->schema))
		snprintf(v->not_comparable, sizeof(v->not_comparable), "schema '%s' vs '%s'",
			 base->schema, cur->schema);
	else if (strcmp(base->cap.sha256, cur->cap.sha256))
		snprintf(v->not_comparable, sizeof(v->not_comparable),
			 "different captures: sha256 %.12s (%.200s) vs %.12s (%.200s)",
			 base->cap.sha256, base->cap.path, cur->cap.sha256, cur->cap.path);
	else if (opts_differ(base, cur, buf, sizeof(buf)))
		snprintf(v->not_comparable, sizeof(v->not_comparable), "different options: %.450s", buf);
	else
		return false;
	v->overall = VS_NOT_COMPARABLE;
	return true;
}

/* Acknowledged regressions become warnings; the counts and the overall
 * status. */
static void verdict_tally(struct verdict *v, const struct report *base)
{
	size_t i;

	for (i = 0; i < v->nitems; i++) {
		struct verdict_item *it = &v->item[i];
		const struct report_ack *a;

		if ((it->status == VS_FAIL || it->status == VS_INCONCLUSIVE) &&
		    (a = find_ack(base, it->name))) {
			char old[sizeof(it->why)];

			memcpy(old, it->why, sizeof(old));
			it->status = VS_ACK;
			snprintf(it->why, sizeof(it->why), "acknowledged (%.120s): %.180s", a->reason, old);
		}
		switch (it->status) {
		case VS_FAIL: v->nfail++; break;
		case VS_INCONCLUSIVE: v->ninconclusive++; break;
		case VS_WARN: v->nwarn++; break;
		case VS_ACK: v->nack++; break;
		case VS_SKIP: v->nskip++; break;
		default: v->npass++; break;
		}
	}
	v->overall = v->nfail ? VS_FAIL : v->ninconclusive ? VS_INCONCLUSIVE
		   : (v->nwarn || v->nack) ? VS_WARN : VS_PASS;
}

int verdict_compare(const struct report *base, const struct report *cur,
		    const struct verdict_opts *o, struct verdict **out)
{
	struct verdict_opts def;
	struct cmp c = { .base = base, .cur = cur };
	struct verdict *v;
	int s, rc = 0;

	if (!o) {
		verdict_opts_default(&def);
		o = &def;
	}
	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->opt = *o;
	v->opt.only = NULL;	/* not owned */
	v->opt.nonly = 0;
	v->base_trials = base->ntrials;
	v->cur_trials = cur->ntrials;
	if (not_comparable(v, base, cur)) {
		*out = v;
		return 0;
	}
	v->advisory_timing = strcmp(base->env.fingerprint, cur->env.fingerprint) != 0;

	c.v = v;
	c.o = o;
	for (s = 0; s < RS__N && !rc; s++)
		rc = compare_stage(&c, s);
	if (!rc && wanted(o, "replay.requests_per_s"))
		rc = compare_one(&c, &q_rps, 0, "replay.requests_per_s", NULL, NULL);
	if (!rc && wanted(o, "replay.verified"))
		rc = compare_verified(&c);
	if (rc) {
		verdict_free(v);
		return rc;
	}
	finish_timing(v, o);
	verdict_tally(v, base);
	*out = v;
	return 0;
}

void verdict_free(struct verdict *v)
{
	if (!v)
		return;
	free(v->item);
	free(v);
}

static json_t *stat_j(const struct report_stat *s)
{
	if (!s->n)
		return json_null();
	return json_pack("{s:f,s:f,s:f,s:f,s:I}", "median", s->median, "min", s->min,
			 "max", s->max, "mad", s->mad, "n", (json_int_t)s->n);
}

int verdict_write_json(const struct verdict *v, const char *path)
{
	json_t *o = json_object(), *items = json_array(), *op;
	char *text;
	size_t i, len;
	int rc;

	json_object_set_new(o, "schema", json_string("pktmem.verdict/1"));
	json_object_set_new(o, "overall", json_string(verdict_status_name(v->overall)));
	json_object_set_new(o, "not_comparable", json_string(v->not_comparable));
	json_object_set_new(o, "advisory_timing", json_boolean(v->advisory_timing));
	json_object_set_new(o, "base_trials", json_integer((json_int_t)v->base_trials));
	json_object_set_new(o, "new_trials", json_integer((json_int_t)v->cur_trials));
	op = json_pack("{s:f,s:f,s:f,s:f,s:f,s:i,s:f}", "threshold", v->opt.threshold,
		       "alpha", v->opt.alpha, "count_slack", v->opt.count_slack,
		       "hw_tolerance", v->opt.hw_tolerance, "exact_tolerance", v->opt.exact_tolerance,
		       "boot_iters", v->opt.boot_iters, "boot_level", v->opt.boot_level);
	json_object_set_new(o, "options", op);
	json_object_set_new(o, "counts", json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "fail", v->nfail,
						   "inconclusive", v->ninconclusive, "warning", v->nwarn,
						   "acknowledged", v->nack, "skipped", v->nskip, "pass", v->npass));
	for (i = 0; i < v->nitems; i++) {
		const struct verdict_item *it = &v->item[i];
		json_t *j = json_object();

		json_object_set_new(j, "name", json_string(it->name));
		json_object_set_new(j, "class", json_string(report_class_name(it->cls)));
		json_object_set_new(j, "unit", json_string(it->unit));
		json_object_set_new(j, "lower_is_better", json_boolean(it->lower_is_better));
		json_object_set_new(j, "status", json_string(verdict_status_name(it->status)));
		json_object_set_new(j, "base", stat_j(&it->base));
		json_object_set_new(j, "new", stat_j(&it->cur));
		json_object_set_new(j, "change", json_real(it->change));
		json_object_set_new(j, "p", it->p >= 0 ? json_real(it->p) : json_null());
		json_object_set_new(j, "p_holm", it->p_holm >= 0 ? json_real(it->p_holm) : json_null());
		json_object_set_new(j, "lower_bound_ratio", it->lower >= 0 && isfinite(it->lower)
				    ? json_real(it->lower) : json_null());
		json_object_set_new(j, "why", json_string(it->why));
		json_array_append_new(items, j);
	}
	json_object_set_new(o, "metrics", items);
	text = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len++] = '\n';
	rc = io_write_file_atomic(path, text, len);
	free(text);
	return rc;
}
