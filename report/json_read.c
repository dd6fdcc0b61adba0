/*
 * json_read.c: reads a "pktmem.report/1" file back into a struct report,
 * validating as it goes: every field docs/report-schema.md calls required
 * must be there with its type, optional (additive) fields may be absent.
 * The first problem found stops the reading and becomes the one-line
 * message the caller prints ("field 'trials[0].stages[2].count' must be an
 * integer >= 0").  The writer is report.c; keep the two in step.
 */
#include "report/report.h"
#include "report/report-int.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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
	report_setstr(dst, size, json_string_value(v));
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
	p->capture_packets = opt_u64(d, o, "capture_packets");
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
		report_setstr(p->failure[i].msg, sizeof(p->failure[i].msg), json_string_value(m));
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
			report_setstr(p->counter[i].name, sizeof(p->counter[i].name), k);
			p->counter[i].delta = (int64_t)json_integer_value(v);
			p->ncounters = ++i;
		}
	}
}

/* An integer in [lo, hi]. */
static int get_int_in(struct rd *d, json_t *o, const char *key, int lo, int hi)
{
	json_t *v = need(d, o, key);
	char want[64];

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(want, sizeof(want), "an integer from %d to %d", lo, hi);
		type_err(d, key, want);
		return 0;
	}
	return (int)json_integer_value(v);
}

/* "aa:bb:cc:dd:ee:ff" (either case) into mac[6]. */
static void get_mac(struct rd *d, json_t *o, const char *key, uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";
	json_t *v = need(d, o, key);
	const char *s;
	int i;

	if (!v)
		return;
	s = json_is_string(v) ? json_string_value(v) : NULL;
	if (!s || json_string_length(v) != 17)
		return type_err(d, key, "a MAC address \"aa:bb:cc:dd:ee:ff\"");
	for (i = 0; i < 6; i++) {
		const char *hi = strchr(hex, tolower((unsigned char)s[3 * i]));
		const char *lo = strchr(hex, tolower((unsigned char)s[3 * i + 1]));

		if (!s[3 * i] || !hi || !s[3 * i + 1] || !lo || (i < 5 && s[3 * i + 2] != ':'))
			return type_err(d, key, "a MAC address \"aa:bb:cc:dd:ee:ff\"");
		mac[i] = (uint8_t)((hi - hex) << 4 | (lo - hex));
	}
}

/* Appends ".key" to d->where for the messages of a nested object; returns
 * the previous length, for where_pop. */
static size_t where_push(struct rd *d, const char *key)
{
	size_t wl = strlen(d->where);

	snprintf(d->where + wl, sizeof(d->where) - wl, ".%s", key);
	return wl;
}

static void where_pop(struct rd *d, size_t wl)
{
	d->where[wl] = '\0';
}

static void read_target_responses(struct rd *d, json_t *o, struct replay_target_responses *r)
{
	r->available = get_bool(d, o, "available");
	if (!r->available)
		get_str(d, o, "reason", r->reason, sizeof(r->reason));
	r->total = get_u64(d, o, "total", false);
	r->status_1xx = get_u64(d, o, "1xx", false);
	r->status_2xx = get_u64(d, o, "2xx", false);
	r->status_3xx = get_u64(d, o, "3xx", false);
	r->status_4xx = get_u64(d, o, "4xx", false);
	r->status_5xx = get_u64(d, o, "5xx", false);
	r->other = get_u64(d, o, "other", false);
	r->bytes = get_u64(d, o, "bytes", false);
	r->unframed = get_u64(d, o, "unframed", false);
	r->capture_drops = get_u64(d, o, "capture_drops", false);
}

/* "window" is a fixed sentence for readers of the file: not read. */
static void read_target_alloc(struct rd *d, json_t *o, struct replay_target_alloc *a)
{
	a->available = get_bool(d, o, "available");
	if (!a->available)
		get_str(d, o, "reason", a->reason, sizeof(a->reason));
	a->processes = get_u64(d, o, "processes", false);
	a->allocations = get_u64(d, o, "allocations", false);
	a->malloc = get_u64(d, o, "malloc", false);
	a->calloc = get_u64(d, o, "calloc", false);
	a->realloc = get_u64(d, o, "realloc", false);
	a->aligned = get_u64(d, o, "aligned", false);
	a->free = get_u64(d, o, "free", false);
	a->bytes = get_u64(d, o, "bytes", false);
}

/* replay.target (optional): an --exec or --target run. */
static void read_target(struct rd *d, json_t *o, struct replay_target *t)
{
	char kind[16] = "", kp[192];
	json_t *sub;
	size_t wl;

	t->present = true;
	get_str(d, o, "kind", kind, sizeof(kind));
	if (d->failed)
		return;
	if (!strcmp(kind, "exec")) {
		t->kind = REPLAY_TARGET_EXEC;
		get_str(d, o, "command", t->command, sizeof(t->command));
	} else if (!strcmp(kind, "target")) {
		t->kind = REPLAY_TARGET_ADDRESS;
		get_str(d, o, "address", t->address, sizeof(t->address));
	} else {
		return rd_fail(d, "field '%s' must be one of exec, target (got '%s')",
			       key_path(d, "kind", kp, sizeof(kp)), kind);
	}
	if (json_object_get(o, "netns"))
		get_str(d, o, "netns", t->netns, sizeof(t->netns));
	t->port = get_int_in(d, o, "port", 0, 65535);
	t->pid = get_int_in(d, o, "pid", 0, INT32_MAX);
	t->exited_early = get_bool(d, o, "exited_early");
	sub = get_obj(d, o, "responses");
	if (sub && !d->failed) {
		wl = where_push(d, "responses");
		read_target_responses(d, sub, &t->responses);
		where_pop(d, wl);
	}
	sub = get_obj(d, o, "alloc");
	if (sub && !d->failed) {
		wl = where_push(d, "alloc");
		read_target_alloc(d, sub, &t->alloc);
		where_pop(d, wl);
	}
}

/* replay.iface (optional): an --iface run. */
static void read_iface(struct rd *d, json_t *o, struct replay_iface *f)
{
	f->present = true;
	get_str(d, o, "name", f->name, sizeof(f->name));
	get_str(d, o, "server_ip", f->server_ip, sizeof(f->server_ip));
	f->port = get_int_in(d, o, "port", 0, 65535);
	get_str(d, o, "next_hop", f->next_hop, sizeof(f->next_hop));
	f->gateway = get_bool(d, o, "gateway");
	get_mac(d, o, "next_hop_mac", f->next_hop_mac);
	f->resolved_by_pktmem = get_bool(d, o, "resolved_by_pktmem");
	f->neighbour_answers = get_u64(d, o, "neighbour_answers", false);
	f->client_out_rsts = get_u64(d, o, "client_out_rsts", false);
}

/* The replay's optional objects, target and iface. */
static void read_replay_objects(struct rd *d, json_t *o, struct replay_summary *p)
{
	json_t *t = json_object_get(o, "target"), *f = json_object_get(o, "iface");
	size_t wl;

	if (t && !d->failed) {
		if (!json_is_object(t))
			return type_err(d, "target", "an object");
		wl = where_push(d, "target");
		read_target(d, t, &p->target);
		where_pop(d, wl);
	}
	if (f && !d->failed) {
		if (!json_is_object(f))
			return type_err(d, "iface", "an object");
		wl = where_push(d, "iface");
		read_iface(d, f, &p->iface);
		where_pop(d, wl);
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
	read_replay_objects(d, o, p);
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
		report_setstr(u->top[i].name, sizeof(u->top[i].name), json_string_value(sy));
		report_setstr(u->top[i].module, sizeof(u->top[i].module), json_string_value(mo));
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

/* The header objects: env, opt, cap. */
static void read_header(struct rd *d, json_t *root, struct report *r)
{
	json_t *e, *op, *c;

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
}

/* The baseline's acknowledged regressions (optional). */
static void read_acks(struct rd *d, json_t *root, struct report *r)
{
	json_t *acks = json_object_get(root, "acknowledged");
	size_t t;

	if (!acks || d->failed)
		return;
	if (!json_is_array(acks) || json_array_size(acks) > REPORT_MAX_ACKS)
		return type_err(d, "acknowledged", "an array of at most 16 {metric, reason}");
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
			rd_fail(d, "'%s.reason' is empty: say why the regression is accepted", d->where);
		r->nacks = t + 1;
	}
	d->where[0] = '\0';
}

static int read_root(struct rd *d, json_t *root, struct report **out)
{
	json_t *trials;
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

	read_header(d, root, r);
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
	read_acks(d, root, r);
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
