/*
 * report.c: the result model "pktmem.report/1": construction, the
 * environment probe, summaries over trials, and JSON (jansson) writing
 * (atomic) and reading (validating).  The layout of the JSON file is
 * documented field by field in docs/report-schema.md; keep the two in step.
 */
#include "report/report.h"
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

/* Copies src into a fixed field, always terminated, truncating. */
static void setstr(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}
#define SETSTR(field, src) setstr((field), sizeof(field), (src))

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
			setstr(out->source, sizeof(out->source), u->source);
			setstr(out->note, sizeof(out->note), u->note);
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

int report_stage_time_stat(const struct report *r, enum report_stage s,
			   struct report_stat *out)
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
	for (t = 0; t < r->ntrials; t++) {
		const struct stage_result *st = &r->trial[t].stage[s];

		if (st->available && st->time_available)
			v[n++] = st->time_ns;
	}
	report_stat_of(v, n, out);
	free(v);
	return n ? 0 : -ENOENT;
}

int report_metric_stat(const struct report *r, enum report_stage s,
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
	for (t = 0; t < r->ntrials; t++) {
		const struct metric *m = stage_find_metric(&r->trial[t].stage[s], name);

		if (m && m->available)
			v[n++] = m->value;
	}
	report_stat_of(v, n, out);
	free(v);
	return n ? 0 : -ENOENT;
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

static json_t *replay_json(const struct replay_summary *p)
{
	json_t *o = json_object(), *fa, *ctr;
	size_t i;

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
		json_object_set_new(to, "replay", replay_json(&r->trial[t].replay));
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

int report_write_json(const struct report *r, const char *path)
{
	json_t *root = report_json(r);
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

/* ---- JSON reading, validating ----------------------------------------- */

struct rd {
	char *err;
	size_t errlen;
	int failed;
	char where[128];	/* "trials[0].stages[2]" */
};

/* Messages quote the report's own strings, which may hold any character:
 * control characters become '?' so that the message stays one line. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static __attribute__((format(printf, 2, 3))) void rd_fail(struct rd *d, const char *fmt, ...)
{
	va_list ap;
	size_t n = 0;

	if (d->failed)
		return;
	d->failed = 1;
	if (!d->err || !d->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(d->err + n, d->errlen - n, fmt, ap);
	va_end(ap);
	one_line(d->err);
}

static const char *key_path(struct rd *d, const char *key, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", d->where, d->where[0] ? "." : "", key);
	return buf;
}

static json_t *need(struct rd *d, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	char kp[192];

	if (!v)
		rd_fail(d, "missing field '%s'", key_path(d, key, kp, sizeof(kp)));
	return v;
}

static void type_err(struct rd *d, const char *key, const char *want)
{
	char kp[192];

	rd_fail(d, "field '%s' must be %s", key_path(d, key, kp, sizeof(kp)), want);
}

static void get_str(struct rd *d, json_t *o, const char *key, char *dst, size_t size)
{
	json_t *v = need(d, o, key);

	if (!v)
		return;
	if (!json_is_string(v))
		return type_err(d, key, "a string");
	setstr(dst, size, json_string_value(v));
}

static bool get_bool(struct rd *d, json_t *o, const char *key)
{
	json_t *v = need(d, o, key);

	if (v && !json_is_boolean(v))
		type_err(d, key, "true or false");
	return v && json_is_true(v);
}

/* An integer >= 0; null allowed (then 0) when nullable. */
static uint64_t get_u64(struct rd *d, json_t *o, const char *key, bool nullable)
{
	json_t *v = need(d, o, key);

	if (!v)
		return 0;
	if (nullable && json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		type_err(d, key, nullable ? "an integer >= 0 or null" : "an integer >= 0");
		return 0;
	}
	return (uint64_t)json_integer_value(v);
}

static int get_int(struct rd *d, json_t *o, const char *key)
{
	json_t *v = need(d, o, key);

	if (v && !json_is_integer(v)) {
		type_err(d, key, "an integer");
		return 0;
	}
	return v ? (int)json_integer_value(v) : 0;
}

static double get_num(struct rd *d, json_t *o, const char *key, bool nullable)
{
	json_t *v = need(d, o, key);

	if (!v)
		return 0;
	if (nullable && json_is_null(v))
		return 0;
	if (!json_is_number(v)) {
		type_err(d, key, nullable ? "a number or null" : "a number");
		return 0;
	}
	return json_number_value(v);
}

static json_t *get_obj(struct rd *d, json_t *o, const char *key)
{
	json_t *v = need(d, o, key);

	if (v && !json_is_object(v)) {
		type_err(d, key, "an object");
		return NULL;
	}
	return v;
}

static json_t *get_arr(struct rd *d, json_t *o, const char *key)
{
	json_t *v = need(d, o, key);

	if (v && !json_is_array(v)) {
		type_err(d, key, "an array");
		return NULL;
	}
	return v;
}

static void read_metric(struct rd *d, json_t *o, struct metric *m)
{
	char cls[16] = "";
	json_t *tol;
	int c;

	get_str(d, o, "name", m->name, sizeof(m->name));
	get_str(d, o, "unit", m->unit, sizeof(m->unit));
	get_str(d, o, "class", cls, sizeof(cls));
	c = report_class_from_name(cls);
	if (!d->failed && c < 0) {
		char kp[192];

		rd_fail(d, "field '%s' must be one of exact, count, hw, timing, info (got '%s')",
			key_path(d, "class", kp, sizeof(kp)), cls);
	}
	m->cls = c < 0 ? MC_INFO : (enum metric_class)c;
	m->lower_is_better = get_bool(d, o, "lower_is_better");
	m->available = get_bool(d, o, "available");
	m->value = get_num(d, o, "value", !m->available);
	get_str(d, o, "source", m->source, sizeof(m->source));
	get_str(d, o, "reason", m->reason, sizeof(m->reason));
	tol = json_object_get(o, "tolerance");
	if (tol) {
		if (!json_is_number(tol) || json_number_value(tol) < 0)
			type_err(d, "tolerance", "a number >= 0");
		else
			m->tolerance = json_number_value(tol);
	}
}

static void read_stage(struct rd *d, json_t *o, struct stage_result *st)
{
	json_t *ms, *h;
	size_t i;

	st->available = get_bool(d, o, "available");
	get_str(d, o, "reason", st->reason, sizeof(st->reason));
	get_str(d, o, "source", st->source, sizeof(st->source));
	get_str(d, o, "note", st->note, sizeof(st->note));
	st->time_available = get_bool(d, o, "time_available") && st->available;
	st->count = get_u64(d, o, "count", !st->available);
	st->bytes = get_u64(d, o, "bytes", !st->available);
	st->time_ns = get_num(d, o, "time_ns", !st->time_available);
	st->has_hist = get_bool(d, o, "has_hist");
	st->p50_ns = get_num(d, o, "p50_ns", !st->has_hist);
	st->p90_ns = get_num(d, o, "p90_ns", !st->has_hist);
	st->p99_ns = get_num(d, o, "p99_ns", !st->has_hist);
	st->max_ns = get_num(d, o, "max_ns", !st->has_hist);
	h = need(d, o, "hist");
	if (h && st->has_hist) {
		if (!json_is_array(h) || json_array_size(h) != REPORT_HIST_BUCKETS) {
			type_err(d, "hist", "an array of 48 integers (log2 ns buckets)");
		} else {
			for (i = 0; i < REPORT_HIST_BUCKETS; i++) {
				json_t *b = json_array_get(h, i);

				if (!json_is_integer(b) || json_integer_value(b) < 0) {
					type_err(d, "hist", "an array of 48 integers (log2 ns buckets)");
					break;
				}
				st->hist[i] = (uint64_t)json_integer_value(b);
			}
		}
	} else if (h && !json_is_null(h)) {
		type_err(d, "hist", "null when has_hist is false");
	}
	ms = get_arr(d, o, "metrics");
	if (!ms)
		return;
	if (json_array_size(ms) > REPORT_MAX_METRICS) {
		type_err(d, "metrics", "an array of at most 24 metrics");
		return;
	}
	{
		size_t wl = strlen(d->where);

		for (i = 0; i < json_array_size(ms) && !d->failed; i++) {
			json_t *m = json_array_get(ms, i);

			snprintf(d->where + wl, sizeof(d->where) - wl, ".metrics[%zu]", i);
			if (!json_is_object(m)) {
				d->where[wl] = '\0';
				type_err(d, "metrics", "an array of objects");
				break;
			}
			read_metric(d, m, &st->metric[i]);
			st->nmetrics = i + 1;
		}
		d->where[wl] = '\0';
	}
}

/* An optional integer >= 0: absent is 0. */
static uint64_t opt_u64(struct rd *d, json_t *o, const char *key)
{
	return json_object_get(o, key) ? get_u64(d, o, key, false) : 0;
}

/* The replay summary's optional fields (additive; absent in older files). */
static void read_replay_extra(struct rd *d, json_t *o, struct replay_summary *p)
{
	json_t *fa = json_object_get(o, "failures"), *ctr = json_object_get(o, "server_counters");
	json_t *v;
	const char *k;
	size_t i;

	p->truncated_flows = opt_u64(d, o, "truncated_flows");
	p->server_bytes_read = opt_u64(d, o, "server_bytes_read");
	p->server_requests = opt_u64(d, o, "server_requests");
	if (json_object_get(o, "requests_verified"))
		p->requests_verified = get_bool(d, o, "requests_verified");
	p->frames = opt_u64(d, o, "frames");
	p->gap_p50_ns = opt_u64(d, o, "gap_p50_ns");
	p->gap_p99_ns = opt_u64(d, o, "gap_p99_ns");
	p->late_p99_ns = opt_u64(d, o, "late_p99_ns");
	p->cpu_replayer_ns = opt_u64(d, o, "cpu_replayer_ns");
	p->cpu_server_ns = opt_u64(d, o, "cpu_server_ns");
	p->failures_total = opt_u64(d, o, "failures_total");
	if (fa && !json_is_array(fa))
		return type_err(d, "failures", "an array of {flow, loop, msg}");
	for (i = 0; fa && i < json_array_size(fa) && i < REPORT_MAX_FAILURES; i++) {
		json_t *f = json_array_get(fa, i), *fl, *lp, *m;

		fl = json_object_get(f, "flow");
		lp = json_object_get(f, "loop");
		m = json_object_get(f, "msg");
		if (!json_is_integer(fl) || json_integer_value(fl) < 0 || !json_is_integer(lp) ||
		    json_integer_value(lp) < 0 || !json_is_string(m))
			return type_err(d, "failures", "an array of {flow, loop, msg}");
		p->failure[i].flow = (uint64_t)json_integer_value(fl);
		p->failure[i].loop = (uint32_t)json_integer_value(lp);
		setstr(p->failure[i].msg, sizeof(p->failure[i].msg), json_string_value(m));
		p->nfailures = i + 1;
	}
	if (ctr && !json_is_object(ctr))
		return type_err(d, "server_counters", "an object of integers");
	i = 0;
	if (ctr) {
		json_object_foreach(ctr, k, v) {
			if (!json_is_integer(v))
				return type_err(d, "server_counters", "an object of integers");
			if (i >= REPORT_MAX_COUNTERS)
				break;
			setstr(p->counter[i].name, sizeof(p->counter[i].name), k);
			p->counter[i].delta = (int64_t)json_integer_value(v);
			p->ncounters = ++i;
		}
	}
}

static void read_replay(struct rd *d, json_t *o, struct replay_summary *p)
{
	get_str(d, o, "via", p->via, sizeof(p->via));
	p->flows = get_u64(d, o, "flows", false);
	p->requests = get_u64(d, o, "requests", false);
	p->segments = get_u64(d, o, "segments", false);
	p->bytes = get_u64(d, o, "bytes", false);
	p->duration_ns = get_u64(d, o, "duration_ns", false);
	p->segments_per_s = get_num(d, o, "segments_per_s", false);
	p->mbit_per_s = get_num(d, o, "mbit_per_s", false);
	p->requests_per_s = get_num(d, o, "requests_per_s", false);
	p->retransmits = get_u64(d, o, "retransmits", false);
	p->server_drops = get_u64(d, o, "server_drops", false);
	p->skipped_flows = get_u64(d, o, "skipped_flows", false);
	p->verified = get_bool(d, o, "verified");
	get_str(d, o, "verify_msg", p->verify_msg, sizeof(p->verify_msg));
	p->interrupted = get_bool(d, o, "interrupted");
	p->responses_2xx = get_u64(d, o, "responses_2xx", false);
	p->responses_4xx = get_u64(d, o, "responses_4xx", false);
	p->responses_5xx = get_u64(d, o, "responses_5xx", false);
	read_replay_extra(d, o, p);
}

static void read_usyms(struct rd *d, json_t *o, struct report_usyms *u)
{
	json_t *top;
	size_t i;

	u->present = true;
	u->available = get_bool(d, o, "available");
	get_str(d, o, "reason", u->reason, sizeof(u->reason));
	get_str(d, o, "source", u->source, sizeof(u->source));
	if (json_object_get(o, "note"))
		get_str(d, o, "note", u->note, sizeof(u->note));
	u->samples = get_u64(d, o, "samples", false);
	u->user_samples = get_u64(d, o, "user_samples", false);
	u->resolved = get_u64(d, o, "resolved", false);
	u->symbolize_ns = opt_u64(d, o, "symbolize_ns");
	u->unwind_ns = opt_u64(d, o, "unwind_ns");
	top = get_arr(d, o, "top");
	for (i = 0; top && !d->failed && i < json_array_size(top) && i < REPORT_MAX_USYMS; i++) {
		json_t *e = json_array_get(top, i), *sy, *mo, *sa, *sh;

		sy = json_object_get(e, "symbol");
		mo = json_object_get(e, "module");
		sa = json_object_get(e, "samples");
		sh = json_object_get(e, "share");
		if (!json_is_string(sy) || !json_is_string(mo) || !json_is_integer(sa) ||
		    json_integer_value(sa) < 0 || !json_is_number(sh))
			return type_err(d, "top", "an array of {symbol, module, samples, share}");
		setstr(u->top[i].name, sizeof(u->top[i].name), json_string_value(sy));
		setstr(u->top[i].module, sizeof(u->top[i].module), json_string_value(mo));
		u->top[i].samples = (uint64_t)json_integer_value(sa);
		u->top[i].share = json_number_value(sh);
		u->ntop = i + 1;
	}
}

static void read_trial(struct rd *d, json_t *o, struct trial *tr)
{
	json_t *sa = get_arr(d, o, "stages"), *rp;
	bool seen[RS__N] = { false };
	size_t wl = strlen(d->where), i;

	if (sa) {
		for (i = 0; i < json_array_size(sa) && !d->failed; i++) {
			json_t *so = json_array_get(sa, i);
			char name[32] = "";
			int s;

			snprintf(d->where + wl, sizeof(d->where) - wl, ".stages[%zu]", i);
			if (!json_is_object(so)) {
				rd_fail(d, "'%s' must be an object", d->where);
				break;
			}
			get_str(d, so, "name", name, sizeof(name));
			s = d->failed ? 0 : report_stage_from_name(name);
			if (!d->failed && (s < 0 || seen[s])) {
				rd_fail(d, "'%s.name': %s stage '%s'", d->where,
					s < 0 ? "unknown" : "duplicate", name);
				break;
			}
			if (d->failed)
				break;
			seen[s] = true;
			read_stage(d, so, &tr->stage[s]);
		}
		d->where[wl] = '\0';
		for (i = 0; i < RS__N && !d->failed; i++)
			if (!seen[i])
				rd_fail(d, "'%s.stages': stage '%s' is missing", d->where,
					report_stage_name(i));
	}
	rp = get_obj(d, o, "replay");
	if (rp && !d->failed) {
		snprintf(d->where + wl, sizeof(d->where) - wl, ".replay");
		read_replay(d, rp, &tr->replay);
		d->where[wl] = '\0';
	}
	/* optional, additive */
	rp = json_object_get(o, "user_symbols");
	if (rp && !d->failed) {
		snprintf(d->where + wl, sizeof(d->where) - wl, ".user_symbols");
		if (!json_is_object(rp))
			rd_fail(d, "'%s' must be an object", d->where);
		else
			read_usyms(d, rp, &tr->usyms);
		d->where[wl] = '\0';
	}
}

static int read_root(struct rd *d, json_t *root, struct report **out)
{
	json_t *e, *op, *c, *trials, *acks;
	struct report *r = NULL;
	char schema[64] = "";
	size_t t;

	if (!json_is_object(root)) {
		rd_fail(d, "not a pktmem report: the top level must be an object");
		return REPORT_E_INVALID;
	}
	get_str(d, root, "schema", schema, sizeof(schema));
	if (d->failed)
		return REPORT_E_INVALID;
	if (strcmp(schema, REPORT_SCHEMA)) {
		if (!strncmp(schema, "pktmem.report/", 14)) {
			rd_fail(d, "schema '%s' is not supported (this pktmem reads %s)", schema, REPORT_SCHEMA);
			return REPORT_E_VERSION;
		}
		rd_fail(d, "schema '%s' is not a pktmem report (want %s)", schema, REPORT_SCHEMA);
		return REPORT_E_SCHEMA;
	}
	trials = get_arr(d, root, "trials");
	if (!trials)
		return REPORT_E_INVALID;
	if (json_array_size(trials) == 0) {
		rd_fail(d, "field 'trials' is empty: a report holds at least one trial");
		return REPORT_E_INVALID;
	}
	r = report_new(json_array_size(trials));
	if (!r)
		return -ENOMEM;
	get_str(d, root, "tool_version", r->tool_version, sizeof(r->tool_version));
	get_str(d, root, "git_rev", r->git_rev, sizeof(r->git_rev));
	get_str(d, root, "created", r->created, sizeof(r->created));

	e = get_obj(d, root, "env");
	if (e && !d->failed) {
		SETSTR(d->where, "env");
		get_str(d, e, "kernel", r->env.kernel, sizeof(r->env.kernel));
		get_str(d, e, "cpu_model", r->env.cpu_model, sizeof(r->env.cpu_model));
		r->env.cores = get_int(d, e, "cores");
		r->env.pmu = get_bool(d, e, "pmu");
		get_str(d, e, "pmu_reason", r->env.pmu_reason, sizeof(r->env.pmu_reason));
		get_str(d, e, "privileges", r->env.privileges, sizeof(r->env.privileges));
		r->env.perf_event_paranoid = get_int(d, e, "perf_event_paranoid");
		get_str(d, e, "clocksource", r->env.clocksource, sizeof(r->env.clocksource));
		get_str(d, e, "hostname", r->env.hostname, sizeof(r->env.hostname));
		get_str(d, e, "fingerprint", r->env.fingerprint, sizeof(r->env.fingerprint));
		d->where[0] = '\0';
	}
	op = get_obj(d, root, "opt");
	if (op && !d->failed) {
		SETSTR(d->where, "opt");
		get_str(d, op, "via", r->opt.via, sizeof(r->opt.via));
		get_str(d, op, "io", r->opt.io, sizeof(r->opt.io));
		get_str(d, op, "deser", r->opt.deser, sizeof(r->opt.deser));
		get_str(d, op, "speed", r->opt.speed, sizeof(r->opt.speed));
		get_str(d, op, "profile", r->opt.profile, sizeof(r->opt.profile));
		get_str(d, op, "events", r->opt.events, sizeof(r->opt.events));
		get_str(d, op, "filter", r->opt.filter, sizeof(r->opt.filter));
		r->opt.concurrency = get_int(d, op, "concurrency");
		d->where[0] = '\0';
	}
	c = get_obj(d, root, "cap");
	if (c && !d->failed) {
		SETSTR(d->where, "cap");
		get_str(d, c, "path", r->cap.path, sizeof(r->cap.path));
		get_str(d, c, "sha256", r->cap.sha256, sizeof(r->cap.sha256));
		r->cap.packets = get_u64(d, c, "packets", false);
		r->cap.flows = get_u64(d, c, "flows", false);
		r->cap.requests = get_u64(d, c, "requests", false);
		r->cap.payload_bytes = get_u64(d, c, "payload_bytes", false);
		r->cap.span_ns = get_u64(d, c, "span_ns", false);
		d->where[0] = '\0';
	}
	for (t = 0; t < r->ntrials && !d->failed; t++) {
		json_t *to = json_array_get(trials, t);

		snprintf(d->where, sizeof(d->where), "trials[%zu]", t);
		if (!json_is_object(to)) {
			rd_fail(d, "'%s' must be an object", d->where);
			break;
		}
		read_trial(d, to, &r->trial[t]);
	}
	d->where[0] = '\0';
	/* The summary is derived (recomputed from trials); only its type is
	 * checked. */
	if (!d->failed && json_object_get(root, "summary") &&
	    !json_is_object(json_object_get(root, "summary")))
		type_err(d, "summary", "an object");
	acks = json_object_get(root, "acknowledged");
	if (acks && !d->failed) {
		if (!json_is_array(acks) || json_array_size(acks) > REPORT_MAX_ACKS) {
			type_err(d, "acknowledged", "an array of at most 16 {metric, reason}");
		} else {
			for (t = 0; t < json_array_size(acks) && !d->failed; t++) {
				json_t *a = json_array_get(acks, t);

				snprintf(d->where, sizeof(d->where), "acknowledged[%zu]", t);
				if (!json_is_object(a)) {
					rd_fail(d, "'%s' must be an object", d->where);
					break;
				}
				get_str(d, a, "metric", r->ack[t].metric, sizeof(r->ack[t].metric));
				get_str(d, a, "reason", r->ack[t].reason, sizeof(r->ack[t].reason));
				if (!d->failed && !r->ack[t].reason[0])
					rd_fail(d, "'%s.reason' is empty: say why the regression is accepted",
						d->where);
				r->nacks = t + 1;
			}
			d->where[0] = '\0';
		}
	}
	if (d->failed) {
		report_free(r);
		return REPORT_E_INVALID;
	}
	*out = r;
	return 0;
}

/* Validates what json_load*() returned (NULL: je says why). */
static int read_loaded(json_t *root, const json_error_t *je, struct report **out,
		       char *err, size_t errlen)
{
	struct rd d = { .err = err, .errlen = errlen };
	int rc;

	if (!root) {
		if (err)
			snprintf(err, errlen, "not valid JSON%s: line %d column %d: %s",
				 json_error_code(je) == json_error_premature_end_of_input ? " (truncated)" : "",
				 je->line, je->column, je->text);
		if (err && errlen)
			one_line(err);
		return REPORT_E_SYNTAX;
	}
	rc = read_root(&d, root, out);
	json_decref(root);
	return rc;
}

int report_read_json(const char *path, struct report **out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	FILE *f;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	f = !strcmp(path, "-") ? stdin : fopen(path, "re");
	if (!f) {
		int e = errno;

		if (err)
			snprintf(err, errlen, "cannot read: %s", strerror(e));
		return -e;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	if (f != stdin)
		fclose(f);
	return read_loaded(root, &je, out, err, errlen);
}

int report_read_json_mem(const char *buf, size_t len, struct report **out, char *err,
			 size_t errlen)
{
	json_error_t je;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	return read_loaded(json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je), &je, out, err,
			   errlen);
}
