/*
 * render_html.c: one self-contained HTML page (no scripts, fonts, images
 * or styles from anywhere else; a Content-Security-Policy of
 * default-src 'none' makes a browser refuse any request).  Its centrepiece
 * is the receive path drawn as inline SVG: wire -> ring -> irq -> softirq
 * -> socket buffer -> copy -> parse -> alloc (-> handler -> write), each
 * measured stage a band whose width is its share of the measured time, the
 * copy band orange, unavailable stages hatched with the reason on hover.
 *
 * Test hooks (tests/t8200): every stage band is a <rect class="band"> with
 * data-stage (name) and data-share (0..1, or "n/a"); available bands'
 * widths are exactly share * data-scale of the <svg id="pipeline">.
 */
#include "report/render.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SVG_W 1000.0
#define SVG_H 190.0
#define JUNCTION_W 64.0		/* wire, ring, socket buffer: not timed */
#define UNAVAIL_W 48.0		/* hatched stage of unknown share */
#define GAP 4.0
#define BAND_Y 56.0
#define BAND_H 64.0

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *stage_fill(int s)
{
	static const char *const fill[RS__N] = {
		[RS_IRQ] = "#7a9cc6", [RS_SOFTIRQ] = "#4f7cac", [RS_COPY] = "#f28c28",
		[RS_PARSE] = "#5e9e6e", [RS_ALLOC] = "#8a6fb0", [RS_HANDLER] = "#9aa5b1",
		[RS_WRITE] = "#6b8f9e",
	};
	return fill[s];
}

/* The pipeline order of the figure: junctions are negative. */
enum { J_WIRE = -1, J_RING = -2, J_SOCKBUF = -3 };
static const int figure_order[] = {
	J_WIRE, J_RING, RS_IRQ, RS_SOFTIRQ, J_SOCKBUF, RS_COPY, RS_PARSE, RS_ALLOC,
	RS_HANDLER, RS_WRITE,
};
#define NFIG ((int)(sizeof(figure_order) / sizeof(figure_order[0])))

static const char *junction_name(int j)
{
	return j == J_WIRE ? "wire" : j == J_RING ? "ring" : "socket buffer";
}

static void pipeline_svg(FILE *f, const struct render_view *v)
{
	double avail_w = SVG_W - 20 - GAP * (NFIG - 1), x = 10, scale;
	int i, nun = 0, row = 0;
	char b[64], b2[64];

	for (i = 0; i < NFIG; i++) {
		int s = figure_order[i];

		if (s < 0)
			avail_w -= JUNCTION_W;
		else if (!v->st[s].time_available) {
			avail_w -= UNAVAIL_W;
			nun++;
		}
	}
	scale = avail_w > 0 ? avail_w : 0;
	fprintf(f, "<svg id=\"pipeline\" viewBox=\"0 0 %.0f %.0f\" "
		"width=\"%.0f\" height=\"%.0f\" data-scale=\"%.3f\" role=\"img\" "
		"aria-label=\"receive path, each stage sized by its share of measured time\">\n",
		SVG_W, SVG_H, SVG_W, SVG_H, scale);
	fputs("<defs><pattern id=\"hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
	      "patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#eeeeee\"/>"
	      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#aaaaaa\" stroke-width=\"4\"/>"
	      "</pattern><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
	      "markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" "
	      "fill=\"#555555\"/></marker></defs>\n", f);
	fprintf(f, "<text x=\"10\" y=\"22\" class=\"cap\">request on the wire</text>"
		"<text x=\"%.0f\" y=\"22\" text-anchor=\"end\" class=\"cap\">memory the program touches</text>\n",
		SVG_W - 10);
	fprintf(f, "<line x1=\"10\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#555555\" "
		"stroke-width=\"2\" marker-end=\"url(#arrow)\"/>\n",
		BAND_Y + BAND_H / 2, SVG_W - 6, BAND_Y + BAND_H / 2);
	for (i = 0; i < NFIG; i++) {
		int s = figure_order[i];
		double w;
		const char *name;

		if (s < 0) {
			name = junction_name(s);
			w = JUNCTION_W;
			fprintf(f, "<rect class=\"junction\" data-stage=\"%s\" x=\"%.3f\" y=\"%.0f\" "
				"width=\"%.3f\" height=\"%.0f\" rx=\"8\" fill=\"#ffffff\" stroke=\"#555555\" "
				"stroke-dasharray=\"3 3\"><title>%s: not timed on its own</title></rect>\n",
				name, x, BAND_Y + 12, w, BAND_H - 24, name);
			fprintf(f, "<text x=\"%.3f\" y=\"%.0f\" text-anchor=\"middle\" class=\"jl\">%s</text>\n",
				x + w / 2, BAND_Y + BAND_H / 2 + 4, s == J_SOCKBUF ? "sk buf" : name);
		} else {
			const struct render_stage *rs = &v->st[s];

			name = report_stage_name(s);
			if (rs->time_available) {
				w = rs->share * scale;
				fprintf(f, "<rect class=\"band\" data-stage=\"%s\" data-share=\"%.6f\" "
					"x=\"%.3f\" y=\"%.0f\" width=\"%.3f\" height=\"%.0f\" fill=\"%s\">"
					"<title>%s: %.1f%% of measured time, %s total, %s per request</title></rect>\n",
					name, rs->share, x, BAND_Y, w, BAND_H, stage_fill(s), name,
					rs->share * 100, render_fmt_ns(b, sizeof(b), rs->time_ns),
					rs->per_req_ns >= 0 ? render_fmt_ns(b2, sizeof(b2), rs->per_req_ns) : "-");
				if (w >= 44)
					fprintf(f, "<text x=\"%.3f\" y=\"%.0f\" text-anchor=\"middle\" class=\"pct\">"
						"%.0f%%</text>\n", x + w / 2, BAND_Y + BAND_H / 2 + 5, rs->share * 100);
			} else {
				const char *why = rs->fn > 0 ? v->note[rs->fn - 1] : "not measured";

				w = UNAVAIL_W;
				fprintf(f, "<rect class=\"band unavailable\" data-stage=\"%s\" data-share=\"n/a\" "
					"x=\"%.3f\" y=\"%.0f\" width=\"%.3f\" height=\"%.0f\" fill=\"url(#hatch)\" "
					"stroke=\"#999999\"><title>", name, x, BAND_Y, w, BAND_H);
				esc(f, why);
				fputs("</title></rect>\n", f);
			}
			/* labels alternate between two rows so thin bands stay legible */
			fprintf(f, "<text x=\"%.3f\" y=\"%.0f\" text-anchor=\"middle\" class=\"sl%s\">%s%s</text>\n",
				x + w / 2, BAND_Y + BAND_H + 18 + 16 * (row++ % 2),
				s == RS_COPY ? " copy" : "", name, rs->time_available ? "" : " (n/a)");
		}
		x += w + GAP;
	}
	fputs("</svg>\n", f);
	(void)nun;
}

static void hist_svg(FILE *f, const struct report *r, int s)
{
	uint64_t h[REPORT_HIST_BUCKETS] = { 0 }, max = 0;
	int lo = -1, hi = -1, i;
	size_t t;
	double bw;
	char b[32], b2[32];

	for (t = 0; t < r->ntrials; t++) {
		const struct stage_result *st = &r->trial[t].stage[s];

		if (!st->available || !st->has_hist)
			continue;
		for (i = 0; i < REPORT_HIST_BUCKETS; i++)
			h[i] += st->hist[i];
	}
	for (i = 0; i < REPORT_HIST_BUCKETS; i++) {
		if (!h[i])
			continue;
		if (lo < 0)
			lo = i;
		hi = i;
		if (h[i] > max)
			max = h[i];
	}
	if (lo < 0)
		return;
	bw = 280.0 / (hi - lo + 1);
	fprintf(f, "<figure class=\"hist\"><figcaption>%s: duration per event (log2 buckets, "
		"all trials)</figcaption>\n<svg class=\"hist\" data-stage=\"%s\" "
		"viewBox=\"0 0 300 130\" width=\"300\" height=\"130\">\n",
		report_stage_name(s), report_stage_name(s));
	for (i = lo; i <= hi; i++) {
		double hh = max ? 90.0 * (double)h[i] / (double)max : 0;

		fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\">"
			"<title>%s..%s: %llu</title></rect>\n", 10 + (i - lo) * bw, 100 - hh,
			bw > 2 ? bw - 1 : bw, hh, stage_fill(s),
			render_fmt_ns(b, sizeof(b), i ? ldexp(1, i) : 0),
			render_fmt_ns(b2, sizeof(b2), ldexp(1, i + 1)), (unsigned long long)h[i]);
	}
	fprintf(f, "<text x=\"10\" y=\"118\" class=\"ax\">%s</text>", render_fmt_ns(b, sizeof(b), ldexp(1, lo)));
	fprintf(f, "<text x=\"290\" y=\"118\" text-anchor=\"end\" class=\"ax\">%s</text>\n",
		render_fmt_ns(b, sizeof(b), ldexp(1, hi + 1)));
	fputs("</svg></figure>\n", f);
}

static void na_cell(FILE *f, int fn)
{
	if (fn)
		fprintf(f, "<td class=\"na\">n/a <a href=\"#fn%d\">[%d]</a></td>", fn, fn);
	else
		fputs("<td class=\"na\">n/a</td>", f);
}

static void row_kv(FILE *f, const char *k, const char *v)
{
	fprintf(f, "<tr><th>%s</th><td>", k);
	esc(f, v);
	fputs("</td></tr>\n", f);
}

/* The page's head (its only style sheet) and the report's title line. */
static void html_head(FILE *f, const struct render_view *v)
{
	const struct report *r = v->r;
	char b[96];

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>pktmem report: ", f);
	esc(f, r->cap.path);
	fputs("</title>\n<style>\n"
	      "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1060px}\n"
	      "h1{font-size:20px}h2{font-size:16px;margin-top:28px}\n"
	      "table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}\n"
	      "th:first-child,td:first-child,.kv td,.kv th,#metrics td:nth-child(2),#metrics th:nth-child(2),"
	      "#metrics td:nth-child(5),#metrics th:nth-child(5){text-align:left}\n"
	      ".na{color:#888}.copy{font-weight:bold;fill:#b45a00}.cap{font-size:12px;fill:#555}\n"
	      ".jl{font-size:11px;fill:#333}.sl{font-size:12px;fill:#222}.pct{font-size:12px;fill:#fff}\n"
	      ".ax{font-size:10px;fill:#555}figure.hist{display:inline-block;margin:8px}\n"
	      ".ok{color:#1a7f37}.bad{color:#cf222e;font-weight:bold}.line{font-size:16px;margin:12px 0}\n"
	      "</style></head><body>\n<h1>pktmem report: <code>", f);
	esc(f, r->cap.path);
	fprintf(f, "</code></h1>\n<p>%.0f requests, %s payload, %llu flows; via <code>", v->requests,
		render_fmt_bytes(b, sizeof(b), v->payload_bytes), (unsigned long long)r->cap.flows);
	esc(f, r->opt.via);
	fputs("</code>, io <code>", f);
	esc(f, r->opt.io);
	fputs("</code>, deser <code>", f);
	esc(f, r->opt.deser);
	fprintf(f, "</code>; %zu trial%s%s.</p>\n", r->ntrials,
		r->ntrials == 1 ? "" : "s", r->ntrials > 1 ? " (medians)" : "");
}

/* The pipeline figure and the copy line under it. */
static void html_figure(FILE *f, const struct render_view *v)
{
	fputs("<figure id=\"figure\">\n", f);
	pipeline_svg(f, v);
	fputs("<figcaption>Each band is a measured stage, its width its share of the measured time; "
	      "hatched: not measured here (hover for why). Dashed: not timed on their own.</figcaption>\n"
	      "</figure>\n", f);
	if (v->st[RS_COPY].available)
		fprintf(f, "<p class=\"line\"><b>bytes became memory at: copy (%.0f bytes, %.0f calls)</b></p>\n",
			v->st[RS_COPY].bytes, v->st[RS_COPY].count);
	else
		fprintf(f, "<p class=\"line\"><b>bytes became memory at: copy (not measured "
			"<a href=\"#fn%d\">[%d]</a>)</b></p>\n", v->st[RS_COPY].fn, v->st[RS_COPY].fn);
}

static void html_stages(FILE *f, const struct render_view *v)
{
	const struct report *r = v->r;
	char b[96];
	int s;

	fputs("<h2>Stages</h2>\n<table id=\"stages\"><tr><th>stage</th><th>share</th><th>count</th>"
	      "<th>bytes</th><th>total</th><th>per request</th><th>per byte</th><th>p50</th><th>p99</th></tr>\n", f);
	for (s = 0; s < RS__N; s++) {
		const struct render_stage *rs = &v->st[s];
		const struct stage_result *st0 = r->ntrials ? &r->trial[0].stage[s] : NULL;

		fprintf(f, "<tr data-stage=\"%s\"><td%s>%s</td>", report_stage_name(s),
			s == RS_COPY ? " class=\"copy\"" : "", report_stage_name(s));
		if (rs->time_available)
			fprintf(f, "<td>%.1f%%</td>", rs->share * 100);
		else
			na_cell(f, rs->fn);
		if (rs->available) {
			fprintf(f, "<td>%s</td>", render_fmt_num(b, sizeof(b), rs->count));
			fprintf(f, "<td>%s</td>", render_stage_bytes(b, sizeof(b), (int)s, rs->bytes));
		} else {
			na_cell(f, rs->fn);
			na_cell(f, rs->fn);
		}
		if (rs->time_available) {
			fprintf(f, "<td>%s</td>", render_fmt_ns(b, sizeof(b), rs->time_ns));
			fprintf(f, "<td>%s</td>", rs->per_req_ns >= 0 ? render_fmt_ns(b, sizeof(b), rs->per_req_ns) : "-");
			fprintf(f, "<td>%s</td>", rs->per_byte_ns >= 0 ? render_fmt_ns(b, sizeof(b), rs->per_byte_ns) : "-");
		} else {
			na_cell(f, rs->fn);
			na_cell(f, rs->fn);
			na_cell(f, rs->fn);
		}
		if (st0 && st0->available && st0->has_hist) {
			fprintf(f, "<td>%s</td>", render_fmt_ns(b, sizeof(b), st0->p50_ns));
			fprintf(f, "<td>%s</td>", render_fmt_ns(b, sizeof(b), st0->p99_ns));
		} else {
			fputs("<td class=\"na\">-</td><td class=\"na\">-</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* Metric rows; unavailable ones cite the footnotes render_html added. */
static void html_metrics(FILE *f, struct render_view *v)
{
	const struct report *r = v->r;
	char b[96];
	int s;

	fputs("<h2>Metrics</h2>\n<table id=\"metrics\"><tr><th>stage</th><th>metric</th><th>value</th>"
	      "<th>class</th><th>source</th></tr>\n", f);
	for (s = 0; s < RS__N && r->ntrials; s++) {
		const struct stage_result *st0 = &r->trial[0].stage[s];
		size_t k;

		for (k = 0; k < st0->nmetrics; k++) {
			const struct metric *m = &st0->metric[k];
			struct report_stat stat;

			fprintf(f, "<tr><td>%s</td><td><code>", report_stage_name(s));
			esc(f, m->name);
			fputs("</code></td>", f);
			if (report_metric_stat(r, s, m->name, &stat) == 0) {
				fputs("<td>", f);
				esc(f, render_fmt_metric(b, sizeof(b), stat.median, m->unit));
				fputs("</td>", f);
			} else {
				na_cell(f, render_view_note(v, "%s", render_metric_reason(st0, m)));
			}
			fprintf(f, "<td>%s</td><td>", report_class_name(m->cls));
			esc(f, m->available ? m->source : "");
			fputs("</td></tr>\n", f);
		}
	}
	fputs("</table>\n", f);
}

/* The server's top user-space functions by sampling, when sampled. */
static void html_usyms(FILE *f, const struct report *r)
{
	struct report_usyms u;
	size_t k;

	if (!report_usyms_merge(r, &u))
		return;
	fputs("<h2>User symbols (server, sampled)</h2>\n", f);
	if (!u.available) {
		fputs("<p id=\"usyms\" class=\"na\">unavailable: ", f);
		esc(f, u.reason);
		fputs("</p>\n", f);
		return;
	}
	fprintf(f, "<p>%llu user-space samples of the server, %llu in a named function "
		"(self samples; ", (unsigned long long)u.user_samples,
		(unsigned long long)u.resolved);
	esc(f, u.source);
	fputs(").</p>\n<table id=\"usyms\"><tr><th>share</th><th>samples</th>"
	      "<th>function</th><th>module</th></tr>\n", f);
	for (k = 0; k < u.ntop; k++) {
		fprintf(f, "<tr><td>%.1f%%</td><td>%llu</td><td><code>", u.top[k].share,
			(unsigned long long)u.top[k].samples);
		esc(f, u.top[k].name);
		fputs("</code></td><td>", f);
		esc(f, u.top[k].module);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (u.note[0]) {
		fputs("<p>", f);
		esc(f, u.note);
		fputs("</p>\n", f);
	}
}

/* The verification and the stages' notes. */
static void html_verification(FILE *f, const struct render_view *v)
{
	const struct report *r = v->r;
	int s;

	fprintf(f, "<h2>Verification</h2>\n<p id=\"verification\" class=\"%s\">%s: ",
		v->verified ? "ok" : "bad", v->verified ? "passed" : "FAILED");
	esc(f, v->verify_msg);
	fputs("</p>\n", f);
	for (s = 0; s < RS__N && r->ntrials; s++)
		if (r->trial[0].stage[s].note[0]) {
			fprintf(f, "<p>note: %s: ", report_stage_name(s));
			esc(f, r->trial[0].stage[s].note);
			fputs("</p>\n", f);
		}
}

static void html_env(FILE *f, const struct report *r)
{
	char b[96];

	fputs("<h2>Environment</h2>\n<table class=\"kv\" id=\"environment\">\n", f);
	row_kv(f, "kernel", r->env.kernel);
	snprintf(b, sizeof(b), "%.80s x %d", r->env.cpu_model, r->env.cores);
	row_kv(f, "CPU", b);
	row_kv(f, "PMU", r->env.pmu ? "yes" : r->env.pmu_reason);
	row_kv(f, "privileges", r->env.privileges);
	snprintf(b, sizeof(b), "%d", r->env.perf_event_paranoid);
	row_kv(f, "perf_event_paranoid", b);
	row_kv(f, "clock source", r->env.clocksource);
	row_kv(f, "host", r->env.hostname);
	row_kv(f, "fingerprint", r->env.fingerprint);
	row_kv(f, "capture sha256", r->cap.sha256);
	snprintf(b, sizeof(b), "%.30s (git %.40s)", r->tool_version, r->git_rev);
	row_kv(f, "pktmem", b);
	row_kv(f, "created", r->created);
	fputs("</table>\n", f);
}

int render_html(FILE *f, const struct report *r)
{
	struct render_view *v = malloc(sizeof(*v));
	int s, i;

	if (!v)
		return -ENOMEM;
	render_view_build(v, r);
	/* Metric footnotes first, so the figure's titles can cite them too. */
	for (s = 0; s < RS__N && r->ntrials; s++) {
		const struct stage_result *st0 = &r->trial[0].stage[s];
		size_t k;

		for (k = 0; k < st0->nmetrics; k++) {
			struct report_stat stat;
			const struct metric *m = &st0->metric[k];

			if (report_metric_stat(r, s, m->name, &stat) < 0)
				render_view_note(v, "%s", render_metric_reason(st0, m));
		}
	}
	html_head(f, v);
	html_figure(f, v);
	html_stages(f, v);
	html_metrics(f, v);
	html_usyms(f, r);
	fputs("<h2>Durations</h2>\n", f);
	for (s = 0; s < RS__N; s++)
		hist_svg(f, r, s);
	html_verification(f, v);
	html_env(f, r);
	if (v->nnotes) {
		fputs("<h2>Notes</h2>\n<ol id=\"notes\">\n", f);
		for (i = 0; i < v->nnotes; i++) {
			fprintf(f, "<li id=\"fn%d\">", i + 1);
			esc(f, v->note[i]);
			fputs("</li>\n", f);
		}
		fputs("</ol>\n", f);
	}
	fputs("</body></html>\n", f);
	free(v);
	return ferror(f) ? -EIO : 0;
}
