/*
 * report.c: the result model "pktmem.report/1": construction, the
 * environment probe, summaries over trials, and JSON (jansson) writing
 * (atomic); json_read.c reads it back.  The layout of the JSON file is
 * documented field by field in docs/report-schema.md; keep the two in step.
 */
#include "report/report.h"
#include "report/report-int.h"
#include "lib/io.h"
#include "lib/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *const stage_names[RS__N] = {
	[RS_IRQ] = "irq", [RS_SOFTIRQ] = "softirq", [RS_COPY] = "copy",
	[RS_PARSE] = "parse", [RS_ALLOC] = "alloc", [RS_HANDLER] = "handler",
	[RS_WRITE] = "write",
};

static const char *const class_names[] = {
	[MC_EXACT] = "exact", [MC_COUNT] = "count", [MC_HW] = "hw",
	[MC_TIMING] = "timing", [MC_INFO] = "info",
};
#define NCLASSES ((int)(sizeof(class_names) / sizeof(class_names[0])))

const char *report_stage_name(enum report_stage s)
{
	return (unsigned)s < RS__N ? stage_names[s] : "?";
}

int report_stage_from_name(const char *name)
{
	int i;

	for (i = 0; i < RS__N; i++)
		if (!strcmp(name, stage_names[i]))
			return i;
	return -1;
}

const char *report_class_name(enum metric_class c)
{
	return (int)c >= 0 && (int)c < NCLASSES ? class_names[c] : "?";
}

int report_class_from_name(const char *name)
{
	int i;

	for (i = 0; i < NCLASSES; i++)
		if (!strcmp(name, class_names[i]))
			return i;
	return -1;
}

const char *report_strerror(int err)
{
	switch (err) {
	case REPORT_E_SCHEMA: return "not a pktmem.report/1 file (schema name or version)";
	case REPORT_E_INVALID: return "missing field or wrong type";
	case REPORT_E_SYNTAX: return "not valid JSON (truncated?)";
	case REPORT_E_VERSION: return "a pktmem report of another schema version";
	default: return strerror(err < 0 ? -err : err);
	}
}

void report_setstr(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

struct report *report_new(size_t ntrials)
{
	struct report *r = calloc(1, sizeof(*r));
	size_t t;
	int s;

	if (!r)
		return NULL;
	if (ntrials) {
		r->trial = calloc(ntrials, sizeof(*r->trial));
		if (!r->trial) {
			free(r);
			return NULL;
		}
	}
	r->ntrials = ntrials;
	SETSTR(r->schema, REPORT_SCHEMA);
	/* A stage is unmeasured until the profiler says otherwise: a report
	 * never claims a zero it did not measure. */
	for (t = 0; t < ntrials; t++)
		for (s = 0; s < RS__N; s++)
			stage_set_unavailable(&r->trial[t].stage[s], "not measured");
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	free(r->trial);
	free(r);
}

struct metric *stage_add_metric(struct stage_result *st, const char *name,
				const char *unit, enum metric_class cls)
{
	struct metric *m;

	if (st->nmetrics >= REPORT_MAX_METRICS)
		return NULL;
	m = &st->metric[st->nmetrics++];
	memset(m, 0, sizeof(*m));
	SETSTR(m->name, name);
	SETSTR(m->unit, unit);
	m->cls = cls;
	m->lower_is_better = true;
	m->available = true;
	return m;
}

static int cmp_usym(const void *a, const void *b)
{
	const struct report_usym *x = a, *y = b;

	if (x->samples != y->samples)
		return x->samples > y->samples ? -1 : 1;
	return strcmp(x->name, y->name);
}

bool report_usyms_merge(const struct report *r, struct report_usyms *out)
{
	struct report_usym all[REPORT_MAX_USYMS * 16];
	size_t n = 0, t, i, j;
	bool any = false;

	memset(out, 0, sizeof(*out));
	for (t = 0; t < r->ntrials; t++) {
		const struct report_usyms *u = &r->trial[t].usyms;

		if (!u->present)
			continue;
		if (!any) {
			*out = *u;	/* reason, source, note of the first */
			out->samples = out->user_samples = out->resolved = out->symbolize_ns = 0;
			out->unwind_ns = 0;
			out->ntop = 0;
			out->available = false;
			any = true;
		}
		if (!u->available)
			continue;
		if (!out->available) {
			out->available = true;
			out->reason[0] = 0;
			SETSTR(out->source, u->source);
			SETSTR(out->note, u->note);
		}
		out->samples += u->samples;
		out->user_samples += u->user_samples;
		out->resolved += u->resolved;
		out->symbolize_ns += u->symbolize_ns;
		out->unwind_ns += u->unwind_ns;
		for (i = 0; i < u->ntop && i < REPORT_MAX_USYMS; i++) {
			for (j = 0; j < n; j++)
				if (!strcmp(all[j].name, u->top[i].name) &&
				    !strcmp(all[j].module, u->top[i].module))
					break;
			if (j == n) {
				if (n >= sizeof(all) / sizeof(all[0]))
					continue;
				all[n++] = u->top[i];
				all[j].samples = 0;
			}
			all[j].samples += u->top[i].samples;
		}
	}
	if (!any)
		return false;
	qsort(all, n, sizeof(all[0]), cmp_usym);
	for (i = 0; i < n && i < REPORT_MAX_USYMS; i++) {
		out->top[i] = all[i];
		out->top[i].share = out->user_samples ?
			100.0 * (double)all[i].samples / (double)out->user_samples : 0;
	}
	out->ntop = i;
	return true;
}

const struct metric *stage_find_metric(const struct stage_result *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nmetrics; i++)
		if (!strcmp(st->metric[i].name, name))
			return &st->metric[i];
	return NULL;
}

void stage_set_unavailable(struct stage_result *st, const char *fmt, ...)
{
	va_list ap;

	st->available = false;
	st->time_available = false;
	va_start(ap, fmt);
	vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
	va_end(ap);
}

/* ---- summaries ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_sorted(const double *v, size_t n)
{
	if (n == 0)
		return 0;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void report_stat_of(double *v, size_t n, struct report_stat *out)
{
	double *dev;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->n = n;
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	out->min = v[0];
	out->max = v[n - 1];
	out->median = median_sorted(v, n);
	dev = malloc(n * sizeof(*dev));
	if (!dev)
		return;		/* mad stays 0: only a summary */
	for (i = 0; i < n; i++)
		dev[i] = fabs(v[i] - out->median);
	qsort(dev, n, sizeof(*dev), cmp_double);
	out->mad = median_sorted(dev, n);
	free(dev);
}

/* A trial's value for a summary; false when that trial has none. */
typedef bool (*trial_value_fn)(const struct stage_result *st, const char *name, double *v);

static bool stage_time_value(const struct stage_result *st, const char *name, double *v)
{
	(void)name;
	*v = st->time_ns;
	return st->available && st->time_available;
}

static bool metric_value(const struct stage_result *st, const char *name, double *v)
{
	const struct metric *m = stage_find_metric(st, name);

	*v = m ? m->value : 0;
	return m && m->available;
}

/* The summary over the trials where value() has one for stage s. */
static int stat_over_trials(const struct report *r, enum report_stage s, trial_value_fn value,
			    const char *name, struct report_stat *out)
{
	double *v;
	size_t t, n = 0;

	memset(out, 0, sizeof(*out));
	if ((unsigned)s >= RS__N)
		return -EINVAL;
	if (!r->ntrials)
		return -ENOENT;
	v = malloc(r->ntrials * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (t = 0; t < r->ntrials; t++)
		if (value(&r->trial[t].stage[s], name, &v[n]))
			n++;
	report_stat_of(v, n, out);
	free(v);
	return n ? 0 : -ENOENT;
}

int report_stage_time_stat(const struct report *r, enum report_stage s,
			   struct report_stat *out)
{
	return stat_over_trials(r, s, stage_time_value, NULL, out);
}

int report_metric_stat(const struct report *r, enum report_stage s,
		       const char *name, struct report_stat *out)
{
	return stat_over_trials(r, s, metric_value, name, out);
}

/* ---- JSON writing --------------------------------------------------------- */

static json_t *jnum_or_null(bool ok, double v)
{
	return ok && isfinite(v) ? json_real(v) : json_null();
}

static json_t *juint_or_null(bool ok, uint64_t v)
{
	return ok ? json_integer((json_int_t)v) : json_null();
}

static json_t *metric_json(const struct metric *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(m->name));
	json_object_set_new(o, "unit", json_string(m->unit));
	json_object_set_new(o, "class", json_string(report_class_name(m->cls)));
	json_object_set_new(o, "lower_is_better", json_boolean(m->lower_is_better));
	json_object_set_new(o, "available", json_boolean(m->available));
	json_object_set_new(o, "value", jnum_or_null(m->available, m->value));
	json_object_set_new(o, "source", json_string(m->source));
	json_object_set_new(o, "reason", json_string(m->available ? "" : m->reason));
	if (m->tolerance > 0)
		json_object_set_new(o, "tolerance", json_real(m->tolerance));
	return o;
}

static json_t *stage_json(enum report_stage s, const struct stage_result *st)
{
	json_t *o = json_object(), *ms = json_array();
	bool a = st->available, ta = st->available && st->time_available;
	bool h = ta && st->has_hist;
	size_t i;

	json_object_set_new(o, "name", json_string(report_stage_name(s)));
	json_object_set_new(o, "available", json_boolean(a));
	json_object_set_new(o, "reason", json_string(a ? "" : st->reason));
	json_object_set_new(o, "source", json_string(st->source));
	json_object_set_new(o, "note", json_string(st->note));
	json_object_set_new(o, "time_available", json_boolean(ta));
	json_object_set_new(o, "count", juint_or_null(a, st->count));
	json_object_set_new(o, "bytes", juint_or_null(a, st->bytes));
	json_object_set_new(o, "time_ns", jnum_or_null(ta, st->time_ns));
	json_object_set_new(o, "mean_ns", jnum_or_null(ta && st->count, st->count ? st->time_ns / (double)st->count : 0));
	json_object_set_new(o, "has_hist", json_boolean(h));
	json_object_set_new(o, "p50_ns", jnum_or_null(h, st->p50_ns));
	json_object_set_new(o, "p90_ns", jnum_or_null(h, st->p90_ns));
	json_object_set_new(o, "p99_ns", jnum_or_null(h, st->p99_ns));
	json_object_set_new(o, "max_ns", jnum_or_null(h, st->max_ns));
	if (h) {
		json_t *ha = json_array();

		for (i = 0; i < REPORT_HIST_BUCKETS; i++)
			json_array_append_new(ha, json_integer((json_int_t)st->hist[i]));
		json_object_set_new(o, "hist", ha);
	} else {
		json_object_set_new(o, "hist", json_null());
	}
	for (i = 0; i < st->nmetrics; i++)
		json_array_append_new(ms, metric_json(&st->metric[i]));
	json_object_set_new(o, "metrics", ms);
	return o;
}

#define JU64(v) json_integer((json_int_t)(v))

/* target.alloc.window: the interposer counts from the moment the port
 * first accepted (after the probe) to the stop, so the server's start-up
 * allocations are not counted. */
#define ALLOC_WINDOW "from the first accepted probe to the stop"

static json_t *target_responses_json(const struct replay_target_responses *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "available", json_boolean(r->available));
	if (!r->available)
		json_object_set_new(o, "reason", json_string(r->reason));
	json_object_set_new(o, "total", JU64(r->total));
	json_object_set_new(o, "1xx", JU64(r->status_1xx));
	json_object_set_new(o, "2xx", JU64(r->status_2xx));
	json_object_set_new(o, "3xx", JU64(r->status_3xx));
	json_object_set_new(o, "4xx", JU64(r->status_4xx));
	json_object_set_new(o, "5xx", JU64(r->status_5xx));
	json_object_set_new(o, "other", JU64(r->other));
	json_object_set_new(o, "bytes", JU64(r->bytes));
	json_object_set_new(o, "unframed", JU64(r->unframed));
	json_object_set_new(o, "capture_drops", JU64(r->capture_drops));
	return o;
}

static json_t *target_alloc_json(const struct replay_target_alloc *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "available", json_boolean(a->available));
	if (!a->available)
		json_object_set_new(o, "reason", json_string(a->reason));
	json_object_set_new(o, "window", json_string(ALLOC_WINDOW));
	json_object_set_new(o, "processes", JU64(a->processes));
	json_object_set_new(o, "allocations", JU64(a->allocations));
	json_object_set_new(o, "malloc", JU64(a->malloc));
	json_object_set_new(o, "calloc", JU64(a->calloc));
	json_object_set_new(o, "realloc", JU64(a->realloc));
	json_object_set_new(o, "aligned", JU64(a->aligned));
	json_object_set_new(o, "free", JU64(a->free));
	json_object_set_new(o, "bytes", JU64(a->bytes));
	return o;
}

/* Optional, additive (docs/report-schema.md): an --exec / --target run. */
static json_t *target_json(const struct replay_target *t)
{
	json_t *o = json_object();
	bool exec = t->kind == REPLAY_TARGET_EXEC;

	json_object_set_new(o, "kind", json_string(exec ? "exec" : "target"));
	json_object_set_new(o, exec ? "command" : "address",
			    json_string(exec ? t->command : t->address));
	if (t->netns[0])
		json_object_set_new(o, "netns", json_string(t->netns));
	json_object_set_new(o, "port", json_integer(t->port));
	json_object_set_new(o, "pid", json_integer(t->pid));
	json_object_set_new(o, "exited_early", json_boolean(t->exited_early));
	json_object_set_new(o, "responses", target_responses_json(&t->responses));
	json_object_set_new(o, "alloc", target_alloc_json(&t->alloc));
	return o;
}

/* Optional, additive (docs/report-schema.md): an --iface run. */
static json_t *iface_json(const struct replay_iface *f)
{
	json_t *o = json_object();
	const uint8_t *m = f->next_hop_mac;
	char mac[18];

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	json_object_set_new(o, "name", json_string(f->name));
	json_object_set_new(o, "server_ip", json_string(f->server_ip));
	json_object_set_new(o, "port", json_integer(f->port));
	json_object_set_new(o, "next_hop", json_string(f->next_hop));
	json_object_set_new(o, "gateway", json_boolean(f->gateway));
	json_object_set_new(o, "next_hop_mac", json_string(mac));
	json_object_set_new(o, "resolved_by_pktmem", json_boolean(f->resolved_by_pktmem));
	json_object_set_new(o, "neighbour_answers", JU64(f->neighbour_answers));
	json_object_set_new(o, "client_out_rsts", JU64(f->client_out_rsts));
	return o;
}

/* The replay summary; schema non-NULL puts a "schema" key first (the
 * summary file, report_write_summary_json), NULL leaves it out (a trial's
 * "replay" in a report). */
static json_t *replay_json(const struct replay_summary *p, const char *schema)
{
	json_t *o = json_object(), *fa, *ctr;
	size_t i;

	if (schema)
		json_object_set_new(o, "schema", json_string(schema));
	json_object_set_new(o, "via", json_string(p->via));
	json_object_set_new(o, "flows", json_integer((json_int_t)p->flows));
	json_object_set_new(o, "requests", json_integer((json_int_t)p->requests));
	json_object_set_new(o, "segments", json_integer((json_int_t)p->segments));
	json_object_set_new(o, "bytes", json_integer((json_int_t)p->bytes));
	json_object_set_new(o, "duration_ns", json_integer((json_int_t)p->duration_ns));
	json_object_set_new(o, "segments_per_s", json_real(p->segments_per_s));
	json_object_set_new(o, "mbit_per_s", json_real(p->mbit_per_s));
	json_object_set_new(o, "requests_per_s", json_real(p->requests_per_s));
	json_object_set_new(o, "retransmits", json_integer((json_int_t)p->retransmits));
	json_object_set_new(o, "server_drops", json_integer((json_int_t)p->server_drops));
	json_object_set_new(o, "skipped_flows", json_integer((json_int_t)p->skipped_flows));
	json_object_set_new(o, "verified", json_boolean(p->verified));
	json_object_set_new(o, "verify_msg", json_string(p->verify_msg));
	json_object_set_new(o, "interrupted", json_boolean(p->interrupted));
	json_object_set_new(o, "responses_2xx", json_integer((json_int_t)p->responses_2xx));
	json_object_set_new(o, "responses_4xx", json_integer((json_int_t)p->responses_4xx));
	json_object_set_new(o, "responses_5xx", json_integer((json_int_t)p->responses_5xx));
	/* optional, additive (docs/report-schema.md) */
	json_object_set_new(o, "truncated_flows", json_integer((json_int_t)p->truncated_flows));
	json_object_set_new(o, "server_bytes_read", json_integer((json_int_t)p->server_bytes_read));
	json_object_set_new(o, "server_requests", json_integer((json_int_t)p->server_requests));
	json_object_set_new(o, "requests_verified", json_boolean(p->requests_verified));
	if (p->capture_packets)
		json_object_set_new(o, "capture_packets", json_integer((json_int_t)p->capture_packets));
	json_object_set_new(o, "frames", json_integer((json_int_t)p->frames));
	json_object_set_new(o, "gap_p50_ns", json_integer((json_int_t)p->gap_p50_ns));
	json_object_set_new(o, "gap_p99_ns", json_integer((json_int_t)p->gap_p99_ns));
	json_object_set_new(o, "late_p99_ns", json_integer((json_int_t)p->late_p99_ns));
	json_object_set_new(o, "cpu_replayer_ns", json_integer((json_int_t)p->cpu_replayer_ns));
	json_object_set_new(o, "cpu_server_ns", json_integer((json_int_t)p->cpu_server_ns));
	json_object_set_new(o, "failures_total", json_integer((json_int_t)p->failures_total));
	fa = json_array();
	for (i = 0; i < p->nfailures && i < REPORT_MAX_FAILURES; i++)
		json_array_append_new(fa, json_pack("{s:I, s:I, s:s}", "flow",
						    (json_int_t)p->failure[i].flow, "loop",
						    (json_int_t)p->failure[i].loop, "msg",
						    p->failure[i].msg));
	json_object_set_new(o, "failures", fa);
	ctr = json_object();
	for (i = 0; i < p->ncounters && i < REPORT_MAX_COUNTERS; i++)
		json_object_set_new(ctr, p->counter[i].name, json_integer(p->counter[i].delta));
	json_object_set_new(o, "server_counters", ctr);
	if (p->target.present)
		json_object_set_new(o, "target", target_json(&p->target));
	if (p->iface.present)
		json_object_set_new(o, "iface", iface_json(&p->iface));
	return o;
}

/* Optional, additive (docs/report-schema.md): the server's top user
 * symbols by sampling. */
static json_t *usyms_json(const struct report_usyms *u)
{
	json_t *o = json_object(), *top = json_array();
	size_t i;

	json_object_set_new(o, "available", json_boolean(u->available));
	json_object_set_new(o, "reason", json_string(u->reason));
	json_object_set_new(o, "source", json_string(u->source));
	json_object_set_new(o, "note", json_string(u->note));
	json_object_set_new(o, "samples", json_integer((json_int_t)u->samples));
	json_object_set_new(o, "user_samples", json_integer((json_int_t)u->user_samples));
	json_object_set_new(o, "resolved", json_integer((json_int_t)u->resolved));
	json_object_set_new(o, "symbolize_ns", json_integer((json_int_t)u->symbolize_ns));
	json_object_set_new(o, "unwind_ns", json_integer((json_int_t)u->unwind_ns));
	for (i = 0; i < u->ntop && i < REPORT_MAX_USYMS; i++)
		json_array_append_new(top, json_pack("{s:s, s:s, s:I, s:f}", "symbol", u->top[i].name,
						     "module", u->top[i].module, "samples",
						     (json_int_t)u->top[i].samples, "share",
						     u->top[i].share));
	json_object_set_new(o, "top", top);
	return o;
}

static json_t *stat_json(const struct report_stat *st)
{
	json_t *o = json_object();

	json_object_set_new(o, "median", json_real(st->median));
	json_object_set_new(o, "min", json_real(st->min));
	json_object_set_new(o, "max", json_real(st->max));
	json_object_set_new(o, "mad", json_real(st->mad));
	json_object_set_new(o, "n", json_integer((json_int_t)st->n));
	return o;
}

/* Derived, for readers of the file: the reader ignores it and recomputes. */
static json_t *summary_json(const struct report *r)
{
	json_t *o = json_object();
	int s;

	for (s = 0; s < RS__N; s++) {
		json_t *so = json_object(), *mo = json_object();
		struct report_stat st;
		size_t i;

		if (report_stage_time_stat(r, s, &st) == 0)
			json_object_set_new(so, "time_ns", stat_json(&st));
		else
			json_object_set_new(so, "time_ns", json_null());
		if (r->ntrials) {
			const struct stage_result *s0 = &r->trial[0].stage[s];

			for (i = 0; i < s0->nmetrics; i++)
				if (report_metric_stat(r, s, s0->metric[i].name, &st) == 0)
					json_object_set_new(mo, s0->metric[i].name, stat_json(&st));
		}
		json_object_set_new(so, "metrics", mo);
		json_object_set_new(o, report_stage_name(s), so);
	}
	return o;
}

static json_t *report_json(const struct report *r)
{
	json_t *o = json_object(), *e = json_object(), *op = json_object(), *c = json_object();
	json_t *trials = json_array(), *acks = json_array();
	size_t t, i;
	int s;

	json_object_set_new(o, "schema", json_string(REPORT_SCHEMA));
	json_object_set_new(o, "tool_version", json_string(r->tool_version));
	json_object_set_new(o, "git_rev", json_string(r->git_rev));
	json_object_set_new(o, "created", json_string(r->created));

	json_object_set_new(e, "kernel", json_string(r->env.kernel));
	json_object_set_new(e, "cpu_model", json_string(r->env.cpu_model));
	json_object_set_new(e, "cores", json_integer(r->env.cores));
	json_object_set_new(e, "pmu", json_boolean(r->env.pmu));
	json_object_set_new(e, "pmu_reason", json_string(r->env.pmu_reason));
	json_object_set_new(e, "privileges", json_string(r->env.privileges));
	json_object_set_new(e, "perf_event_paranoid", json_integer(r->env.perf_event_paranoid));
	json_object_set_new(e, "clocksource", json_string(r->env.clocksource));
	json_object_set_new(e, "hostname", json_string(r->env.hostname));
	json_object_set_new(e, "fingerprint", json_string(r->env.fingerprint));
	json_object_set_new(o, "env", e);

	json_object_set_new(op, "via", json_string(r->opt.via));
	json_object_set_new(op, "io", json_string(r->opt.io));
	json_object_set_new(op, "deser", json_string(r->opt.deser));
	json_object_set_new(op, "speed", json_string(r->opt.speed));
	json_object_set_new(op, "profile", json_string(r->opt.profile));
	json_object_set_new(op, "events", json_string(r->opt.events));
	json_object_set_new(op, "filter", json_string(r->opt.filter));
	json_object_set_new(op, "concurrency", json_integer(r->opt.concurrency));
	json_object_set_new(o, "opt", op);

	json_object_set_new(c, "path", json_string(r->cap.path));
	json_object_set_new(c, "sha256", json_string(r->cap.sha256));
	json_object_set_new(c, "packets", json_integer((json_int_t)r->cap.packets));
	json_object_set_new(c, "flows", json_integer((json_int_t)r->cap.flows));
	json_object_set_new(c, "requests", json_integer((json_int_t)r->cap.requests));
	json_object_set_new(c, "payload_bytes", json_integer((json_int_t)r->cap.payload_bytes));
	json_object_set_new(c, "span_ns", json_integer((json_int_t)r->cap.span_ns));
	json_object_set_new(o, "cap", c);

	for (t = 0; t < r->ntrials; t++) {
		json_t *to = json_object(), *sa = json_array();

		for (s = 0; s < RS__N; s++)
			json_array_append_new(sa, stage_json(s, &r->trial[t].stage[s]));
		json_object_set_new(to, "stages", sa);
		json_object_set_new(to, "replay", replay_json(&r->trial[t].replay, NULL));
		if (r->trial[t].usyms.present)
			json_object_set_new(to, "user_symbols", usyms_json(&r->trial[t].usyms));
		json_array_append_new(trials, to);
	}
	json_object_set_new(o, "trials", trials);
	json_object_set_new(o, "summary", summary_json(r));
	for (i = 0; i < r->nacks; i++) {
		json_t *a = json_object();

		json_object_set_new(a, "metric", json_string(r->ack[i].metric));
		json_object_set_new(a, "reason", json_string(r->ack[i].reason));
		json_array_append_new(acks, a);
	}
	json_object_set_new(o, "acknowledged", acks);
	return o;
}

/* Dumps root (taken: freed here) as the report files are written: one
 * space of indent, keys in the order set, 15 significant digits, a final
 * newline; atomically ("-": stdout). */
static int write_doc(json_t *root, const char *path)
{
	char *text;
	size_t len;
	int rc;

	if (!root)
		return -ENOMEM;
	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	json_decref(root);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len++] = '\n';	/* json_dumps leaves room: replaces the NUL */
	rc = io_write_file_atomic(path, text, len);
	free(text);
	return rc;
}

int report_write_json(const struct report *r, const char *path)
{
	return write_doc(report_json(r), path);
}

int report_write_summary_json(const struct replay_summary *s, const char *path)
{
	return write_doc(replay_json(s, REPORT_SUMMARY_SCHEMA), path);
}
