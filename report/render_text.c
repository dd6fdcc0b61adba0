/*
 * render_text.c: the terminal rendering (the default of 'pktmem replay'),
 * and the view every renderer shares: medians over trials, shares,
 * per-request and per-byte costs, footnotes for unavailable cells.
 * Fits 100 columns.  Colour only when the caller says so.
 */
#include "report/render.h"
#include "lib/io.h"
#include "report/verdict.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 100
#define BAR 20			/* share bar cells */

/* ANSI SGR; the copy stage in orange (256-colour 208) as in the figure. */
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_BAR "\033[36m"
#define C_COPY "\033[38;5;208m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_OFF "\033[0m"

static double median_of(double *v, size_t n)
{
	struct report_stat st;

	report_stat_of(v, n, &st);
	return st.median;
}

int render_view_note(struct render_view *v, const char *fmt, ...)
{
	char buf[sizeof(v->note_buf[0])];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; i < v->nnotes; i++)
		if (!strcmp(v->note[i], buf))
			return i + 1;
	if (v->nnotes >= RENDER_MAX_NOTES)
		return 0;
	memcpy(v->note_buf[v->nnotes], buf, sizeof(buf));
	v->note[v->nnotes] = v->note_buf[v->nnotes];
	return ++v->nnotes;
}

void render_view_build(struct render_view *v, const struct report *r)
{
	size_t n = r->ntrials ? r->ntrials : 1, t, k;
	double *tmp = calloc(n, sizeof(double));
	int s;

	memset(v, 0, sizeof(*v));
	v->r = r;
	v->verified = 1;
	v->verify_msg = r->ntrials ? r->trial[0].replay.verify_msg : "";
	for (t = 0; t < r->ntrials; t++)
		if (!r->trial[t].replay.verified && v->verified) {
			v->verified = 0;
			v->verify_msg = r->trial[t].replay.verify_msg;
		}
	if (!tmp)
		return;
	for (t = 0, k = 0; t < r->ntrials; t++)
		if (r->trial[t].replay.requests)
			tmp[k++] = (double)r->trial[t].replay.requests;
	v->requests = k ? median_of(tmp, k) : (double)r->cap.requests;
	for (t = 0, k = 0; t < r->ntrials; t++)
		if (r->trial[t].replay.bytes)
			tmp[k++] = (double)r->trial[t].replay.bytes;
	v->payload_bytes = k ? median_of(tmp, k) : (double)r->cap.payload_bytes;

	for (s = 0; s < RS__N; s++) {
		struct render_stage *rs = &v->st[s];
		const char *reason = NULL;

		for (t = 0; t < r->ntrials; t++) {
			const struct stage_result *st = &r->trial[t].stage[s];

			if (st->available) {
				rs->available = true;
				if (st->time_available)
					rs->time_available = true;
			} else if (!reason) {
				reason = st->reason;
			}
		}
		if (!rs->available) {
			rs->fn = render_view_note(v, "%s: %s", report_stage_name(s),
						  reason && *reason ? reason : "not measured");
			continue;
		}
		for (t = 0, k = 0; t < r->ntrials; t++)
			if (r->trial[t].stage[s].available)
				tmp[k++] = (double)r->trial[t].stage[s].count;
		rs->count = median_of(tmp, k);
		for (t = 0, k = 0; t < r->ntrials; t++)
			if (r->trial[t].stage[s].available)
				tmp[k++] = (double)r->trial[t].stage[s].bytes;
		rs->bytes = median_of(tmp, k);
		if (!rs->time_available) {
			rs->fn = render_view_note(v, "%s: time not measured%s%s", report_stage_name(s),
						  r->trial[0].stage[s].source[0] ? "; counted by " : "",
						  r->trial[0].stage[s].source);
			continue;
		}
		for (t = 0, k = 0; t < r->ntrials; t++) {
			const struct stage_result *st = &r->trial[t].stage[s];

			if (st->available && st->time_available)
				tmp[k++] = st->time_ns;
		}
		rs->time_ns = median_of(tmp, k);
		v->total_ns += rs->time_ns;
		rs->per_req_ns = v->requests > 0 ? rs->time_ns / v->requests : -1;
		rs->per_byte_ns = v->payload_bytes > 0 ? rs->time_ns / v->payload_bytes : -1;
	}
	for (s = 0; s < RS__N; s++)
		if (v->st[s].time_available)
			v->st[s].share = v->total_ns > 0 ? v->st[s].time_ns / v->total_ns : 0;
	free(tmp);
}

FILE *render_mem_open(struct render_mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	return m->f;
}

int render_mem_commit(struct render_mem *m, const char *path, int render_rc)
{
	int rc = render_rc;

	if (m->f && fclose(m->f) != 0 && rc >= 0)
		rc = -EIO;
	m->f = NULL;
	if (rc >= 0)
		rc = io_write_file_atomic(path, m->buf ? m->buf : "", m->len);
	free(m->buf);
	m->buf = NULL;
	return rc;
}

/* ---- number formatting ---- */

static char *sig3(char *buf, size_t size, double x, const char *unit)
{
	double a = fabs(x);

	if (a == 0)
		snprintf(buf, size, "0%s%s", *unit ? " " : "", unit);
	else if (a >= 100 || fabs(x - round(x)) < 1e-9 * (a > 1 ? a : 1))
		snprintf(buf, size, "%.0f%s%s", x, *unit ? " " : "", unit);
	else if (a >= 10)
		snprintf(buf, size, "%.1f%s%s", x, *unit ? " " : "", unit);
	else if (a >= 1)
		snprintf(buf, size, "%.2f%s%s", x, *unit ? " " : "", unit);
	else
		snprintf(buf, size, "%.3g%s%s", x, *unit ? " " : "", unit);
	return buf;
}

char *render_fmt_ns(char *buf, size_t size, double ns)
{
	double a = fabs(ns);

	if (a >= 1e9)
		return sig3(buf, size, ns / 1e9, "s");
	if (a >= 1e6)
		return sig3(buf, size, ns / 1e6, "ms");
	if (a >= 1e3)
		return sig3(buf, size, ns / 1e3, "us");
	return sig3(buf, size, ns, "ns");
}

char *render_stage_bytes(char *buf, size_t size, int stage, double bytes)
{
	if (stage == RS_IRQ || stage == RS_SOFTIRQ || stage == RS_HANDLER) {
		snprintf(buf, size, "-");
		return buf;
	}
	return render_fmt_bytes(buf, size, bytes);
}

char *render_fmt_bytes(char *buf, size_t size, double b)
{
	double a = fabs(b);

	if (a >= 1e9)
		return sig3(buf, size, b / 1e9, "GB");
	if (a >= 1e6)
		return sig3(buf, size, b / 1e6, "MB");
	if (a >= 1e4)
		return sig3(buf, size, b / 1e3, "kB");
	return sig3(buf, size, b, "B");
}

char *render_fmt_num(char *buf, size_t size, double x)
{
	if (fabs(x) >= 1e7)
		snprintf(buf, size, "%.3g", x);
	else if (x == round(x))
		snprintf(buf, size, "%.0f", x);
	else
		sig3(buf, size, x, "");
	return buf;
}

char *render_fmt_metric(char *buf, size_t size, double x, const char *unit)
{
	char n[48];

	if (!strcmp(unit, "ns"))
		return render_fmt_ns(buf, size, x);
	render_fmt_num(n, sizeof(n), x);
	snprintf(buf, size, "%s %s", n, unit);
	return buf;
}

/* ---- text output ---- */

/* Display width of a UTF-8 string (every code point one column). */
static size_t dwidth(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Right-aligns s in w columns. */
static void rpad(FILE *f, const char *s, size_t w)
{
	size_t d = dwidth(s);

	while (d++ < w)
		fputc(' ', f);
	fputs(s, f);
}

static void lpad(FILE *f, const char *s, size_t w)
{
	size_t d = dwidth(s);

	fputs(s, f);
	while (d++ < w)
		fputc(' ', f);
}

/* Word-wraps text to WIDTH with a hanging indent, starting at column col
 * (what is already on the line). */
static void wrap_from(FILE *f, size_t col, const char *text, size_t indent)
{
	const char *p = text;

	while (*p) {
		const char *e = p;
		size_t w;

		while (*e && *e != ' ')
			e++;
		w = (size_t)(e - p);
		if (col > indent && col + 1 + w > WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent || (p != text)) {
			if (p != text) {
				fputc(' ', f);
				col++;
			}
		}
		fwrite(p, 1, w, f);
		col += w;
		p = e;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

void render_wrap(FILE *f, const char *first, const char *text, size_t indent)
{
	fputs(first, f);
	wrap_from(f, dwidth(first), text, indent);
}

static const char *na(char *buf, size_t size, int fn)
{
	if (fn)
		snprintf(buf, size, "n/a[%d]", fn);
	else
		snprintf(buf, size, "n/a");
	return buf;
}

static void bar(FILE *f, double share, bool avail, int s, const struct render_opts *o)
{
	int cells = avail ? (int)lround(share * BAR) : 0, i;

	if (o->color)
		fputs(!avail ? C_DIM : s == RS_COPY ? C_COPY : C_BAR, f);
	for (i = 0; i < BAR; i++)
		fputs(!avail ? "╌" : i < cells ? "█" : "·", f);
	if (o->color)
		fputs(C_OFF, f);
}

static void header(FILE *f, const struct report *r, const struct render_view *v,
		   const struct render_opts *o)
{
	char b1[32], b2[32];

	fprintf(f, "%spktmem report%s: '%s' (sha256 %.12s)\n", o->color ? C_BOLD : "",
		o->color ? C_OFF : "", r->cap.path, r->cap.sha256);
	fprintf(f, "%.0f requests, %s payload, %llu flows, %zu trial%s%s\n",
		v->requests, render_fmt_bytes(b1, sizeof(b1), v->payload_bytes),
		(unsigned long long)r->cap.flows, r->ntrials, r->ntrials == 1 ? "" : "s",
		r->ntrials > 1 ? " (medians)" : "");
	fprintf(f, "options: via %.16s, io %.16s, deser %.16s, speed %.32s%s%.60s\n", r->opt.via,
		r->opt.io, r->opt.deser, r->opt.speed, r->opt.filter[0] ? ", filter " : "", r->opt.filter);
	(void)b2;
}

static void env_lines(FILE *f, const struct report *r)
{
	char line[512];

	snprintf(line, sizeof(line), "%s; %s x %d; %s; %s; perf_event_paranoid %d; clock %s",
		 r->env.kernel, r->env.cpu_model, r->env.cores, r->env.pmu ? "PMU" : "no PMU",
		 r->env.privileges, r->env.perf_event_paranoid, r->env.clocksource);
	render_wrap(f, "machine: ", line, 9);
	fprintf(f, "pktmem %s (git %s), %s\n", r->tool_version, r->git_rev, r->created);
}

static void stage_table(FILE *f, const struct render_view *v, const struct render_opts *o)
{
	char b[64];
	int s;

	fprintf(f, "%s%-8s %-27s %9s %10s %9s %9s %9s%s\n", o->color ? C_BOLD : "",
		"stage", "share of measured time", "count", "bytes", "total", "per req",
		"per byte", o->color ? C_OFF : "");
	for (s = 0; s < RS__N; s++) {
		const struct render_stage *rs = &v->st[s];

		lpad(f, report_stage_name(s), 9);
		bar(f, rs->share, rs->time_available, s, o);
		fputc(' ', f);
		if (rs->time_available)
			snprintf(b, sizeof(b), "%.1f%%", rs->share * 100);
		else
			na(b, sizeof(b), rs->fn);
		rpad(f, b, 6);
		fputc(' ', f);
		if (rs->available) {
			rpad(f, render_fmt_num(b, sizeof(b), rs->count), 9);
			fputc(' ', f);
			rpad(f, render_stage_bytes(b, sizeof(b), (int)s, rs->bytes), 10);
		} else {
			rpad(f, na(b, sizeof(b), rs->fn), 9);
			fputc(' ', f);
			rpad(f, na(b, sizeof(b), rs->fn), 10);
		}
		if (rs->time_available) {
			fputc(' ', f);
			rpad(f, render_fmt_ns(b, sizeof(b), rs->time_ns), 9);
			fputc(' ', f);
			if (rs->per_req_ns >= 0)
				render_fmt_ns(b, sizeof(b), rs->per_req_ns);
			else
				snprintf(b, sizeof(b), "-");
			rpad(f, b, 9);
			fputc(' ', f);
			if (rs->per_byte_ns >= 0)
				render_fmt_ns(b, sizeof(b), rs->per_byte_ns);
			else
				snprintf(b, sizeof(b), "-");
			rpad(f, b, 9);
		} else {
			na(b, sizeof(b), rs->fn);
			fputc(' ', f);
			rpad(f, b, 9);
			fputc(' ', f);
			rpad(f, b, 9);
			fputc(' ', f);
			rpad(f, b, 9);
		}
		fputc('\n', f);
	}
	fprintf(f, "%-8s %27s %9s %10s ", "measured", "", "", "");
	rpad(f, render_fmt_ns(b, sizeof(b), v->total_ns), 9);
	fputc(' ', f);
	rpad(f, v->requests > 0 ? render_fmt_ns(b, sizeof(b), v->total_ns / v->requests) : "-", 9);
	fputc(' ', f);
	rpad(f, v->payload_bytes > 0 ? render_fmt_ns(b, sizeof(b), v->total_ns / v->payload_bytes) : "-", 9);
	fputc('\n', f);
}

void render_copy_line(FILE *f, const struct render_view *v, const char *em, const char *fn_open)
{
	const struct render_stage *c = &v->st[RS_COPY];

	if (c->available)
		fprintf(f, "%sbytes became memory at: copy (%.0f bytes, %.0f calls)%s\n", em,
			c->bytes, c->count, em);
	else
		fprintf(f, "%sbytes became memory at: copy (not measured %s%d])%s\n", em, fn_open,
			c->fn, em);
}

const char *render_metric_reason(const struct stage_result *st, const struct metric *m)
{
	return m->reason[0] ? m->reason : !st->available ? st->reason : "not measured";
}

bool render_replay_line(char *buf, size_t size, const struct report *r)
{
	const struct replay_summary *p;
	char drops[32], rps[32];

	if (!r->ntrials)
		return false;
	p = &r->trial[0].replay;
	/* --iface: the server's kernel is on another host, its drops were not
	 * read (never a zero that was not measured) */
	if (!strcmp(r->opt.io, "remote"))
		snprintf(drops, sizeof(drops), "n/a (remote)");
	else
		snprintf(drops, sizeof(drops), "%llu", (unsigned long long)p->server_drops);
	snprintf(buf, size, "%llu flows, %llu segments, %llu retransmits, %s server drops, "
		 "%s requests/s", (unsigned long long)p->flows, (unsigned long long)p->segments,
		 (unsigned long long)p->retransmits, drops,
		 render_fmt_num(rps, sizeof(rps), p->requests_per_s));
	return true;
}

/* Metric rows; mark unavailable ones with a footnote (notes added to v). */
static void metrics_text(FILE *f, struct render_view *v)
{
	const struct report *r = v->r;
	char b[64];
	int s;

	fprintf(f, "\n%-8s %-28s %16s  %-6s %s\n", "stage", "metric", "value", "class", "source");
	for (s = 0; s < RS__N; s++) {
		const struct stage_result *st0 = &r->trial[0].stage[s];
		size_t i;

		for (i = 0; i < st0->nmetrics; i++) {
			const struct metric *m = &st0->metric[i];
			struct report_stat stat;
			char src[40];

			fprintf(f, "%-8s %-28s ", report_stage_name(s), m->name);
			if (report_metric_stat(r, s, m->name, &stat) == 0) {
				rpad(f, render_fmt_metric(b, sizeof(b), stat.median, m->unit), 16);
			} else {
				int fn = render_view_note(v, "%s", render_metric_reason(st0, m));

				rpad(f, na(b, sizeof(b), fn), 16);
			}
			snprintf(src, sizeof(src), "%.36s", m->available ? m->source : "");
			if (strlen(m->available ? m->source : "") > 36)
				memcpy(src + 33, "...", 4);
			fprintf(f, "  %-6s %s\n", report_class_name(m->cls), src);
		}
	}
}

/* The server's top user-space functions by sampling: a short list. */
static void usyms_text(FILE *f, const struct report *r)
{
	struct report_usyms u;
	char line[600];
	size_t i;

	if (!report_usyms_merge(r, &u))
		return;
	fputc('\n', f);
	if (!u.available) {
		snprintf(line, sizeof(line), "unavailable: %s", u.reason);
		render_wrap(f, "user symbols: ", line, 14);
		return;
	}
	fprintf(f, "user symbols (the server's %llu user-space samples, %llu in a named "
		"function; self):\n", (unsigned long long)u.user_samples,
		(unsigned long long)u.resolved);
	for (i = 0; i < u.ntop && i < 5; i++) {
		const struct report_usym *e = &u.top[i];
		/* "libc.so.6+0x1234" names its module already */
		bool mod = e->module[0] && strncmp(e->name, e->module, strlen(e->module));

		fprintf(f, "  %5.1f%%  %6llu  %s%s%s%s\n", e->share, (unsigned long long)e->samples,
			e->name, mod ? " (" : "", mod ? e->module : "", mod ? ")" : "");
	}
	if (u.note[0])
		render_wrap(f, "note: ", u.note, 6);
}

int render_text(FILE *f, const struct report *r, const struct render_opts *o)
{
	struct render_view *v = malloc(sizeof(*v));
	struct render_opts def = { 0 };
	char line[600];
	int s, i;

	if (!v)
		return -ENOMEM;
	if (!o)
		o = &def;
	render_view_build(v, r);
	header(f, r, v, o);
	env_lines(f, r);
	fputc('\n', f);
	stage_table(f, v, o);
	fputc('\n', f);
	render_copy_line(f, v, "", "[");
	if (r->ntrials)
		metrics_text(f, v);
	usyms_text(f, r);

	fputc('\n', f);
	for (s = 0; s < RS__N; s++) {
		const char *note = r->ntrials ? r->trial[0].stage[s].note : "";

		if (*note) {
			snprintf(line, sizeof(line), "%s: %s", report_stage_name(s), note);
			render_wrap(f, "note: ", line, 6);
		}
	}
	if (render_replay_line(line, sizeof(line), r))
		fprintf(f, "replay: %s\n", line);
	snprintf(line, sizeof(line), "%s", v->verify_msg);
	/* the message starts after "verification: passed: " (22 columns; the
	 * colour codes take none), not at column 2 */
	fprintf(f, "verification: %s%s%s: ", o->color ? (v->verified ? C_GREEN : C_RED) : "",
		v->verified ? "passed" : "FAILED", o->color ? C_OFF : "");
	wrap_from(f, strlen("verification: passed: "), line, 14);
	if (!r->env.pmu && r->env.pmu_reason[0]) {
		snprintf(line, sizeof(line), "%s", r->env.pmu_reason);
		render_wrap(f, "hardware counters: ", line, 19);
	}
	if (v->nnotes)
		fputc('\n', f);
	for (i = 0; i < v->nnotes; i++) {
		char first[16];

		snprintf(first, sizeof(first), "[%d] ", i + 1);
		render_wrap(f, first, v->note[i], strlen(first));
	}
	free(v);
	return ferror(f) ? -EIO : 0;
}

/* ---- two reports ---- */

static void delta(char *b, size_t size, double a, double c)
{
	if (a > 0)
		snprintf(b, size, "%+.1f%%", (c / a - 1) * 100);
	else
		snprintf(b, size, "%s", c == a ? "0" : "new");
}

int render_text_pair(FILE *f, const struct report *a, const struct report *b,
		     const struct render_opts *o)
{
	struct render_view *va = malloc(sizeof(*va)), *vb = malloc(sizeof(*vb));
	struct render_opts def = { 0 };
	char x[64];
	int s, i;

	if (!va || !vb) {
		free(va);
		free(vb);
		return -ENOMEM;
	}
	if (!o)
		o = &def;
	render_view_build(va, a);
	render_view_build(vb, b);
	fprintf(f, "%spktmem report%s: A vs B\nA: '%s' (sha256 %.12s, %s, %zu trials)\n"
		"B: '%s' (sha256 %.12s, %s, %zu trials)\n", o->color ? C_BOLD : "", o->color ? C_OFF : "",
		a->cap.path, a->cap.sha256, a->created, a->ntrials, b->cap.path, b->cap.sha256,
		b->created, b->ntrials);
	if (strcmp(a->cap.sha256, b->cap.sha256))
		fprintf(f, "warning: different captures: per-request figures compare, totals may not\n");
	if (strcmp(a->env.fingerprint, b->env.fingerprint))
		fprintf(f, "warning: different machines (fingerprint): timings are not directly comparable\n");
	fprintf(f, "\n%s%-8s %10s %10s %8s  %10s %10s %8s  %7s %7s%s\n", o->color ? C_BOLD : "",
		"stage", "A total", "B total", "delta", "A per req", "B per req", "delta",
		"A share", "B share", o->color ? C_OFF : "");
	for (s = 0; s < RS__N; s++) {
		const struct render_stage *ra = &va->st[s], *rb = &vb->st[s];
		char na_a[16], na_b[16];

		/* footnote numbers: B's notes continue after A's */
		lpad(f, report_stage_name(s), 8);
		na(na_a, sizeof(na_a), ra->fn);
		na(na_b, sizeof(na_b), rb->fn ? rb->fn + va->nnotes : 0);
		fputc(' ', f);
		rpad(f, ra->time_available ? render_fmt_ns(x, sizeof(x), ra->time_ns) : na_a, 10);
		fputc(' ', f);
		rpad(f, rb->time_available ? render_fmt_ns(x, sizeof(x), rb->time_ns) : na_b, 10);
		fputc(' ', f);
		if (ra->time_available && rb->time_available)
			delta(x, sizeof(x), ra->time_ns, rb->time_ns);
		else
			snprintf(x, sizeof(x), "-");
		rpad(f, x, 8);
		fputs("  ", f);
		rpad(f, ra->time_available && ra->per_req_ns >= 0 ? render_fmt_ns(x, sizeof(x), ra->per_req_ns) : na_a, 10);
		fputc(' ', f);
		rpad(f, rb->time_available && rb->per_req_ns >= 0 ? render_fmt_ns(x, sizeof(x), rb->per_req_ns) : na_b, 10);
		fputc(' ', f);
		if (ra->time_available && rb->time_available && ra->per_req_ns >= 0 && rb->per_req_ns >= 0)
			delta(x, sizeof(x), ra->per_req_ns, rb->per_req_ns);
		else
			snprintf(x, sizeof(x), "-");
		rpad(f, x, 8);
		fputs("  ", f);
		if (ra->time_available)
			snprintf(x, sizeof(x), "%.1f%%", ra->share * 100);
		rpad(f, ra->time_available ? x : na_a, 7);
		fputc(' ', f);
		if (rb->time_available)
			snprintf(x, sizeof(x), "%.1f%%", rb->share * 100);
		rpad(f, rb->time_available ? x : na_b, 7);
		fputc('\n', f);
	}
	fprintf(f, "\nA: bytes became memory at: copy (%.0f bytes, %.0f calls)\n",
		va->st[RS_COPY].bytes, va->st[RS_COPY].count);
	fprintf(f, "B: bytes became memory at: copy (%.0f bytes, %.0f calls)\n",
		vb->st[RS_COPY].bytes, vb->st[RS_COPY].count);
	if (va->nnotes || vb->nnotes)
		fputc('\n', f);
	for (i = 0; i < va->nnotes + vb->nnotes; i++) {
		char first[24];

		snprintf(first, sizeof(first), "[%d] %s: ", i + 1, i < va->nnotes ? "A" : "B");
		render_wrap(f, first, i < va->nnotes ? va->note[i] : vb->note[i - va->nnotes], 4);
	}
	free(va);
	free(vb);
	return ferror(f) ? -EIO : 0;
}

/* ---- verdicts ---- */

static const char *status_color(enum verdict_status s)
{
	switch (s) {
	case VS_FAIL: return C_RED;
	case VS_INCONCLUSIVE: case VS_WARN: case VS_ACK: return C_YELLOW;
	case VS_PASS: case VS_IMPROVED: return C_GREEN;
	default: return C_DIM;
	}
}

int render_verdict_text(FILE *f, const struct verdict *vd, const struct render_opts *o)
{
	struct render_opts def = { 0 };
	size_t i;

	if (!o)
		o = &def;
	if (vd->overall == VS_NOT_COMPARABLE) {
		fprintf(f, "verdict: not comparable: %s\n", vd->not_comparable);
		return ferror(f) ? -EIO : 0;
	}
	fprintf(f, "%-30s %-12s %12s %12s %8s  %s\n", "metric", "status", "base", "new", "change",
		"why");
	for (i = 0; i < vd->nitems; i++) {
		const struct verdict_item *it = &vd->item[i];
		char bb[32] = "-", cb[32] = "-", ch[16] = "-", st[24];

		if (it->base.n && strcmp(it->unit, "trials"))
			render_fmt_metric(bb, sizeof(bb), it->base.median, it->unit);
		if (it->cur.n && strcmp(it->unit, "trials"))
			render_fmt_metric(cb, sizeof(cb), it->cur.median, it->unit);
		if (it->base.n && it->cur.n && it->base.median != 0 && strcmp(it->unit, "trials"))
			snprintf(ch, sizeof(ch), "%+.1f%%", it->change * 100);
		snprintf(st, sizeof(st), "%s", verdict_status_name(it->status));
		fprintf(f, "%-30s ", it->name);
		if (o->color)
			fputs(status_color(it->status), f);
		fprintf(f, "%-12s", st);
		if (o->color)
			fputs(C_OFF, f);
		fprintf(f, " %12s %12s %8s", bb, cb, ch);
		/* 79 columns so far: the reason on the same line when it fits
		 * in 100, else wrapped below */
		if (strlen(it->why) + 81 <= WIDTH)
			fprintf(f, "  %s\n", it->why);
		else if (it->status == VS_PASS || it->status == VS_INFO)
			fputc('\n', f);	/* a pass needs no essay: see --md, --json */
		else
			render_wrap(f, "\n    ", it->why, 4);
	}
	fprintf(f, "\n");
	if (o->color)
		fputs(status_color(vd->overall), f);
	fprintf(f, "verdict: %s", vd->overall == VS_WARN ? "pass with warnings" : verdict_status_name(vd->overall));
	if (o->color)
		fputs(C_OFF, f);
	{
		const int n[6] = { vd->nfail, vd->ninconclusive, vd->nwarn, vd->nack, vd->nskip, vd->npass };
		static const char *const what[6] = {
			"failed", "inconclusive", "warnings", "acknowledged", "skipped", "passed",
		};
		int k, first = 1;

		fputs(" (", f);
		for (k = 0; k < 6; k++)
			if (n[k]) {
				fprintf(f, "%s%d %s", first ? "" : ", ", n[k], what[k]);
				first = 0;
			}
		fprintf(f, "%s%zu vs %zu trials)\n", first ? "" : "; ", vd->base_trials, vd->cur_trials);
		if (vd->advisory_timing)
			fputs("baseline from another machine (fingerprint): timing verdicts are advisory\n", f);
	}
	return ferror(f) ? -EIO : 0;
}

int render_verdict_tap(FILE *f, const struct verdict *vd)
{
	size_t i;

	if (vd->overall == VS_NOT_COMPARABLE) {
		fprintf(f, "1..0 # SKIP not comparable: %s\n", vd->not_comparable);
		return ferror(f) ? -EIO : 0;
	}
	fprintf(f, "1..%zu\n", vd->nitems);
	for (i = 0; i < vd->nitems; i++) {
		const struct verdict_item *it = &vd->item[i];
		bool bad = it->status == VS_FAIL;

		fprintf(f, "%sok %zu - %s", bad ? "not " : "", i + 1, it->name);
		if (it->status == VS_SKIP || it->status == VS_INFO)
			fprintf(f, " # SKIP %s\n", it->why);
		else if (it->status == VS_INCONCLUSIVE)
			fprintf(f, " # TODO inconclusive: %s\n", it->why);
		else
			fprintf(f, ": %s: %s\n", verdict_status_name(it->status), it->why);
	}
	return ferror(f) ? -EIO : 0;
}
