/*
 * t8300: verdict logic on synthetic reports: exact-count change
 * fails, no change passes, a 20% timing shift with moderate noise fails,
 * pure noise passes; not comparable; acknowledged regressions; advisory
 * timings from another machine; the statistics themselves; and the
 * calibration: <= 1% false positives over 1000 null comparisons and >= 95%
 * detection of a 20% shift at the default 5 trials, seeded, deterministic.
 *
 * "Moderate noise" here is lognormal with sd 3% per trial and stage, the
 * trial-to-trial spread measured for stage totals on a quiet 2-vCPU VM.
 */
#include "tests/tap.h"
#include "tests/synth-report.h"
#include "report/verdict.h"

static const struct verdict_item *item(const struct verdict *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nitems; i++)
		if (!strcmp(v->item[i].name, name))
			return &v->item[i];
	return NULL;
}

static struct report *ra, *rb;	/* reused by run(): 5 trials each */

/* Sets copy.syscalls_per_request (a timing-sensitive count) in r's trials. */
static void set_syscalls(struct report *r, const double *vals)
{
	size_t t, i;

	for (t = 0; t < r->ntrials; t++) {
		struct stage_result *st = &r->trial[t].stage[RS_COPY];

		for (i = 0; i < st->nmetrics; i++)
			if (!strcmp(st->metric[i].name, "syscalls_per_request"))
				st->metric[i].value = vals[t];
	}
}

/* copy.cycles_per_request made available (a machine with a PMU): base in
 * every trial of a, cur in every trial of b. */
static void set_cycles(struct report *r, double value)
{
	size_t t, i;

	for (t = 0; t < r->ntrials; t++) {
		struct stage_result *st = &r->trial[t].stage[RS_COPY];

		for (i = 0; i < st->nmetrics; i++)
			if (!strcmp(st->metric[i].name, "cycles_per_request")) {
				st->metric[i].available = true;
				st->metric[i].reason[0] = 0;
				st->metric[i].value = value;
			}
	}
}

static struct verdict *run_hw(const struct synth_spec *a, double base, double cur)
{
	struct synth_rng rng = { 78 };
	struct verdict *v = NULL;

	if (!synth_fill(ra, a, &rng) || !synth_fill(rb, a, &rng))
		bail_out("synth_fill failed");
	set_cycles(ra, base);
	set_cycles(rb, cur);
	if (verdict_compare(ra, rb, NULL, &v) < 0)
		bail_out("verdict_compare failed");
	return v;
}

/* A count compared with a's 2 syscalls per request when b's trials are vals. */
static struct verdict *run_count(const struct synth_spec *a, const double *vals)
{
	struct synth_rng rng = { 77 };
	struct verdict *v = NULL;

	if (!synth_fill(ra, a, &rng) || !synth_fill(rb, a, &rng))
		bail_out("synth_fill failed");
	set_syscalls(rb, vals);
	if (verdict_compare(ra, rb, NULL, &v) < 0)
		bail_out("verdict_compare failed");
	return v;
}

static struct verdict *run(const struct synth_spec *a, const struct synth_spec *b, uint64_t seed)
{
	struct synth_rng rng = { seed };
	struct verdict *v = NULL;

	if (!synth_fill(ra, a, &rng) || !synth_fill(rb, b, &rng) || verdict_compare(ra, rb, NULL, &v) < 0)
		bail_out("verdict_compare failed");
	return v;
}

int main(void)
{
	struct synth_spec a, b;
	struct verdict *v;
	const struct verdict_item *it;
	int i, fp = 0, det = 0, inconc = 0;

	plan_lazy();
	ra = report_new(5);
	rb = report_new(5);

	/* --- the statistics --- */
	{
		double x[5] = { 1, 2, 3, 4, 5 }, y[5] = { 6, 7, 8, 9, 10 };
		double p = verdict_mw_greater(x, 5, y, 5), adj[3];
		double pp[3] = { 0.01, 0.04, 0.03 };

		ok(fabs(p - 1.0 / 252) < 1e-12, "MW exact: complete separation 5 vs 5 gives p = 1/252 (got %g)", p);
		p = verdict_mw_greater(y, 5, x, 5);
		ok(fabs(p - 1.0) < 1e-12, "MW exact: the other direction gives p = 1 (got %g)", p);
		{
			double x3[3] = { 1, 2, 3 }, y3[3] = { 2.5, 4, 5 };
			/* U = pairs y>x: 2.5>1,2 ; 4>all ; 5>all = 2+3+3 = 8; P(U>=8) = 2/20 */
			p = verdict_mw_greater(x3, 3, y3, 3);
			ok(fabs(p - 0.1) < 1e-12, "MW exact: 3 vs 3, U = 8 gives p = 2/20 (got %g)", p);
		}
		{
			double xt[5] = { 1, 1, 2, 2, 3 }, yt[5] = { 3, 4, 4, 5, 5 };

			p = verdict_mw_greater(xt, 5, yt, 5);
			/* normal approximation with ties: U = 24.5, mean 12.5 */
			ok(p > 0.001 && p < 0.02, "MW with ties uses the normal approximation (p = %g)", p);
		}
		verdict_holm(pp, 3, adj);
		ok(fabs(adj[0] - 0.03) < 1e-12 && fabs(adj[2] - 0.06) < 1e-12 && fabs(adj[1] - 0.06) < 1e-12,
		   "Holm: 0.01,0.04,0.03 -> 0.03,0.06,0.06 (got %g,%g,%g)", adj[0], adj[1], adj[2]);
		{
			double lo1 = verdict_boot_ratio_lower(x, 5, y, 5, 2000, 0.05, 42);
			double lo2 = verdict_boot_ratio_lower(x, 5, y, 5, 2000, 0.05, 42);

			ok(lo1 == lo2, "bootstrap is deterministic for a seed (%g)", lo1);
			ok(lo1 > 1.0 && lo1 < 8.0 / 3, "bootstrap lower bound below the point ratio 8/3 (%g)", lo1);
		}
	}

	/* --- verdicts --- */
	synth_spec_default(&a);
	b = a;
	v = run(&a, &b, 1);
	is_int(v->overall == VS_PASS || v->overall == VS_WARN, 1, "no change: pass (%s)", verdict_status_name(v->overall));
	it = item(v, "copy.cycles_per_request");
	ok(it && it->status == VS_SKIP && strstr(it->why, "no PMU"), "hw counter without PMU skipped with the reason");
	ok(item(v, "irq.time_ns") != NULL, "a stage without a timing metric is gated on its total time (irq.time_ns)");
	ok(item(v, "copy.time_ns") == NULL, "a stage with a timing metric gets no implicit total (copy.time_ns)");
	verdict_free(v);

	/* timing-sensitive counts: fail only when every trial is beyond the
	 * slack (10%), never on one noisy trial */
	{
		static const double all[5] = { 2.5, 2.5, 2.5, 2.5, 2.5 },
				    most[5] = { 2.5, 2.5, 2.0, 2.5, 2.5 },
				    within[5] = { 2.1, 2.15, 2.1, 2.1, 2.1 };

		v = run_count(&a, all);
		it = item(v, "copy.syscalls_per_request");
		ok(it && it->status == VS_FAIL && v->overall == VS_FAIL,
		   "count 2 -> 2.5 in every trial: fail (%s)", it ? it->why : "missing");
		verdict_free(v);
		v = run_count(&a, most);
		it = item(v, "copy.syscalls_per_request");
		ok(it && it->status == VS_PASS, "count 2 -> 2.5 in 4 of 5 trials: pass (%s)",
		   it ? it->why : "missing");
		verdict_free(v);
		v = run_count(&a, within);
		it = item(v, "copy.syscalls_per_request");
		ok(it && it->status == VS_PASS, "count +5..7.5%% in every trial, within the slack: pass (%s)",
		   it ? it->why : "missing");
		verdict_free(v);
	}

	/* hardware counters where a PMU exists: a small tolerance (2%) */
	v = run_hw(&a, 1000, 1015);
	it = item(v, "copy.cycles_per_request");
	ok(it && it->status == VS_PASS, "hw counter +1.5%%: within the tolerance (%s)", it ? it->why : "missing");
	verdict_free(v);
	v = run_hw(&a, 1000, 1050);
	it = item(v, "copy.cycles_per_request");
	ok(it && it->status == VS_FAIL, "hw counter +5%%: fail (%s)", it ? it->why : "missing");
	verdict_free(v);

	b.allocs = 19;
	v = run(&a, &b, 2);
	it = item(v, "alloc.allocs_per_request");
	ok(v->overall == VS_FAIL && it && it->status == VS_FAIL, "exact count 18 -> 19: fail (%s)",
	   it ? it->why : "missing");
	verdict_free(v);

	b = a;
	b.shift[RS_COPY] = 0.20;
	v = run(&a, &b, 3);
	it = item(v, "copy.ns_per_request");
	ok(v->overall == VS_FAIL && it && it->status == VS_FAIL, "copy 20%% slower, 3%% noise: fail (%s)",
	   it ? it->why : "missing");
	it = item(v, "parse.ns_per_request");
	ok(it && it->status == VS_PASS, "the unchanged parse stage passes (%s)", it ? it->why : "missing");
	verdict_free(v);

	b.fingerprint = "0000000000000000000000000000000000000000000000000000000000000000";
	v = run(&a, &b, 3);
	it = item(v, "copy.ns_per_request");
	ok(v->overall == VS_WARN && it && it->status == VS_WARN && v->advisory_timing,
	   "the same shift against another machine's baseline: advisory warning (%s)", it ? it->why : "");
	verdict_free(v);

	b = a;
	b.shift[RS_COPY] = 0.20;
	{
		struct synth_rng rng = { 3 };
		struct report *xa = synth_report(&a, &rng), *xb = synth_report(&b, &rng);

		snprintf(xa->ack[0].metric, sizeof(xa->ack[0].metric), "copy.ns_per_request");
		snprintf(xa->ack[0].reason, sizeof(xa->ack[0].reason), "bigger reads on purpose (#42)");
		xa->nacks = 1;
		verdict_compare(xa, xb, NULL, &v);
		it = item(v, "copy.ns_per_request");
		ok(v->overall == VS_WARN && it && it->status == VS_ACK && strstr(it->why, "#42"),
		   "an acknowledged regression is a warning with its reason (%s)", it ? it->why : "");
		verdict_free(v);
		report_free(xa);
		report_free(xb);
	}

	b = a;
	b.cap_sha = "ffff0c4a9e7b3a2f8c6d0e1b4a7f9c2d3e5b8a1c4d7f0e3a6b9c2d5f8e1a4b7c";
	v = run(&a, &b, 4);
	ok(v->overall == VS_NOT_COMPARABLE && strstr(v->not_comparable, "sha256"),
	   "another capture: not comparable (%s)", v->not_comparable);
	verdict_free(v);
	b = a;
	b.via = "socket";
	v = run(&a, &b, 4);
	ok(v->overall == VS_NOT_COMPARABLE && strstr(v->not_comparable, "via"),
	   "other options: not comparable (%s)", v->not_comparable);
	verdict_free(v);

	/* --- calibration --- */
	b = a;
	for (i = 0; i < 1000; i++) {
		v = run(&a, &b, 1000 + (uint64_t)i);
		if (v->nfail)
			fp++;
		if (v->ninconclusive)
			inconc++;
		verdict_free(v);
	}
	ok(fp <= 10, "null: %d of 1000 comparisons fail (<= 1%%)", fp);
	diag("null: %d inconclusive of 1000", inconc);
	b.shift[RS_COPY] = 0.20;
	for (i = 0; i < 1000; i++) {
		v = run(&a, &b, 5000 + (uint64_t)i);
		it = item(v, "copy.ns_per_request");
		if (it && it->status == VS_FAIL)
			det++;
		verdict_free(v);
	}
	ok(det >= 950, "20%% shift in copy, 5 vs 5 trials, 3%% noise: detected in %d of 1000 (>= 95%%)", det);

	/* informational: how detection falls with noise (not asserted) */
	{
		static const double sig[] = { 0.01, 0.05, 0.08 };
		size_t k;

		for (k = 0; k < sizeof(sig) / sizeof(sig[0]); k++) {
			struct synth_spec na = a, nb = a;

			na.sigma = nb.sigma = sig[k];
			nb.shift[RS_COPY] = 0.20;
			for (i = 0, det = 0; i < 500; i++) {
				v = run(&na, &nb, 20000 + (uint64_t)i);
				it = item(v, "copy.ns_per_request");
				det += it && it->status == VS_FAIL;
				verdict_free(v);
			}
			diag("20%% shift, %.0f%% noise: detected in %d of 500", sig[k] * 100, det);
		}
	}

	/* a noisy machine (10% noise per trial) must not fail a build */
	b = a;
	b.sigma = a.sigma = 0.10;
	for (i = 0, fp = 0; i < 1000; i++) {
		v = run(&a, &b, 30000 + (uint64_t)i);
		fp += v->nfail > 0;
		verdict_free(v);
	}
	ok(fp <= 10, "null with 10%% noise: %d of 1000 comparisons fail (<= 1%%)", fp);
	a.sigma = 0.03;

	/* a pure 5% shift is below the 10% minimum effect: never a failure */
	b = a;
	b.shift[RS_PARSE] = 0.05;
	for (i = 0, fp = 0; i < 200; i++) {
		v = run(&a, &b, 9000 + (uint64_t)i);
		it = item(v, "parse.ns_per_request");
		if (it && it->status == VS_FAIL)
			fp++;
		verdict_free(v);
	}
	ok(fp <= 2, "a 5%% shift under the 10%% threshold fails at most 1%% (%d of 200)", fp);

	report_free(ra);
	report_free(rb);
	return exit_status();
}
