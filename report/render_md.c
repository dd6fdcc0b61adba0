/*
 * render_md.c: GitHub-flavoured Markdown, the same content as the terminal
 * table, for tickets and CI comments.  Links to nothing external.
 */
#include "report/render.h"
#include "report/verdict.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Table cells: '|' would end the cell, newlines the row. */
static void cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else if (*s == '<')
			fputs("&lt;", f);
		else
			fputc(*s, f);
	}
}

static void na(char *b, size_t size, int fn)
{
	if (fn)
		snprintf(b, size, "n/a [^%d]", fn);
	else
		snprintf(b, size, "n/a");
}

/* A share bar in text, as GitHub renders no inline styles. */
static void share_bar(FILE *f, double share)
{
	int cells = (int)(share * 10 + 0.5), i;

	fputs("`", f);
	for (i = 0; i < 10; i++)
		fputs(i < cells ? "█" : "·", f);
	fputs("`", f);
}

static void md_stage_table(FILE *f, const struct render_view *v)
{
	char b[64], b2[64], b3[64];
	int s;

	fprintf(f, "| stage | share | | count | bytes | total | per request | per byte |\n");
	fprintf(f, "|---|---|--:|--:|--:|--:|--:|--:|\n");
	for (s = 0; s < RS__N; s++) {
		const struct render_stage *rs = &v->st[s];

		fprintf(f, "| %s%s%s | ", s == RS_COPY ? "**" : "", report_stage_name(s),
			s == RS_COPY ? "**" : "");
		if (rs->time_available) {
			share_bar(f, rs->share);
			fprintf(f, " | %.1f%% | ", rs->share * 100);
		} else {
			na(b, sizeof(b), rs->fn);
			fprintf(f, " | %s | ", b);
		}
		if (rs->available)
			fprintf(f, "%s | %s | ", render_fmt_num(b, sizeof(b), rs->count),
				render_stage_bytes(b2, sizeof(b2), (int)s, rs->bytes));
		else {
			na(b, sizeof(b), rs->fn);
			fprintf(f, "%s | %s | ", b, b);
		}
		if (rs->time_available) {
			fprintf(f, "%s | ", render_fmt_ns(b, sizeof(b), rs->time_ns));
			fprintf(f, "%s | ", rs->per_req_ns >= 0 ? render_fmt_ns(b, sizeof(b), rs->per_req_ns) : "-");
			fprintf(f, "%s |\n", rs->per_byte_ns >= 0 ? render_fmt_ns(b, sizeof(b), rs->per_byte_ns) : "-");
		} else {
			na(b, sizeof(b), rs->fn);
			fprintf(f, "%s | %s | %s |\n", b, b, b);
		}
	}
	fprintf(f, "| *measured* | | | | | %s | %s | %s |\n\n",
		render_fmt_ns(b, sizeof(b), v->total_ns),
		v->requests > 0 ? render_fmt_ns(b2, sizeof(b2), v->total_ns / v->requests) : "-",
		v->payload_bytes > 0 ? render_fmt_ns(b3, sizeof(b3), v->total_ns / v->payload_bytes) : "-");
}

/* Metric rows (trial 0's metrics, medians over trials); unavailable ones
 * cite a footnote added to v. */
static void md_metrics(FILE *f, struct render_view *v)
{
	const struct report *r = v->r;
	char b[64];
	int s;

	fprintf(f, "### Metrics\n\n| stage | metric | value | class | source |\n|---|---|--:|---|---|\n");
	for (s = 0; s < RS__N; s++) {
		const struct stage_result *st0 = &r->trial[0].stage[s];
		size_t k;

		for (k = 0; k < st0->nmetrics; k++) {
			const struct metric *m = &st0->metric[k];
			struct report_stat stat;

			fprintf(f, "| %s | `%s` | ", report_stage_name(s), m->name);
			if (report_metric_stat(r, s, m->name, &stat) == 0) {
				fprintf(f, "%s", render_fmt_metric(b, sizeof(b), stat.median, m->unit));
			} else {
				na(b, sizeof(b), render_view_note(v, "%s", render_metric_reason(st0, m)));
				fputs(b, f);
			}
			fprintf(f, " | %s | ", report_class_name(m->cls));
			cell(f, m->available ? m->source : "");
			fprintf(f, " |\n");
		}
	}
	fputc('\n', f);
}

/* The server's top user-space functions by sampling, when sampled. */
static void md_usyms(FILE *f, const struct report *r)
{
	struct report_usyms u;
	size_t k;

	if (!report_usyms_merge(r, &u))
		return;
	fprintf(f, "### User symbols (server, sampled)\n\n");
	if (!u.available) {
		fprintf(f, "unavailable: ");
		cell(f, u.reason);
		fprintf(f, "\n\n");
		return;
	}
	fprintf(f, "%llu user-space samples of the server, %llu in a named function "
		"(self samples; ", (unsigned long long)u.user_samples,
		(unsigned long long)u.resolved);
	cell(f, u.source);
	fprintf(f, ").\n\n| share | samples | function | module |\n|--:|--:|---|---|\n");
	for (k = 0; k < u.ntop; k++) {
		fprintf(f, "| %.1f%% | %llu | `", u.top[k].share,
			(unsigned long long)u.top[k].samples);
		cell(f, u.top[k].name);
		fprintf(f, "` | ");
		cell(f, u.top[k].module);
		fprintf(f, " |\n");
	}
	fputc('\n', f);
	if (u.note[0]) {
		fprintf(f, "Note: ");
		cell(f, u.note);
		fprintf(f, "\n\n");
	}
}

/* Stage notes, the replay line and the verification. */
static void md_run(FILE *f, const struct render_view *v)
{
	const struct report *r = v->r;
	char line[256];
	int s;

	fprintf(f, "### Run\n\n");
	for (s = 0; s < RS__N; s++) {
		const char *note = r->ntrials ? r->trial[0].stage[s].note : "";

		if (*note) {
			fprintf(f, "- note: %s: ", report_stage_name(s));
			cell(f, note);
			fputc('\n', f);
		}
	}
	if (render_replay_line(line, sizeof(line), r))
		fprintf(f, "- replay: %s\n", line);
	fprintf(f, "- verification: %s: ", v->verified ? "passed" : "**FAILED**");
	cell(f, v->verify_msg);
	fprintf(f, "\n\n");
}

static void md_env(FILE *f, const struct report *r)
{
	fprintf(f, "### Environment\n\n| | |\n|---|---|\n");
	fprintf(f, "| kernel | "); cell(f, r->env.kernel);
	fprintf(f, " |\n| CPU | "); cell(f, r->env.cpu_model);
	fprintf(f, " × %d |\n| PMU | %s", r->env.cores, r->env.pmu ? "yes" : "no: ");
	if (!r->env.pmu)
		cell(f, r->env.pmu_reason);
	fprintf(f, " |\n| privileges | "); cell(f, r->env.privileges);
	fprintf(f, " |\n| perf_event_paranoid | %d |\n| clock source | ", r->env.perf_event_paranoid);
	cell(f, r->env.clocksource);
	fprintf(f, " |\n| host | "); cell(f, r->env.hostname);
	fprintf(f, " |\n| fingerprint | `%.16s` |\n| pktmem | %s (git `%s`), %s |\n",
		r->env.fingerprint, r->tool_version, r->git_rev, r->created);
}

int render_md(FILE *f, const struct report *r)
{
	struct render_view *v = malloc(sizeof(*v));
	char b[64];
	int i;

	if (!v)
		return -ENOMEM;
	render_view_build(v, r);
	fprintf(f, "## pktmem report: `");
	cell(f, r->cap.path);
	fprintf(f, "`\n\n");
	fprintf(f, "%.0f requests, %s payload, %llu flows; via `%s`, io `%s`, deser `%s`, speed `%s`; "
		"%zu trial%s%s. Capture sha256 `%.12s`.\n\n",
		v->requests, render_fmt_bytes(b, sizeof(b), v->payload_bytes),
		(unsigned long long)r->cap.flows, r->opt.via, r->opt.io, r->opt.deser, r->opt.speed,
		r->ntrials, r->ntrials == 1 ? "" : "s", r->ntrials > 1 ? " (medians)" : "",
		r->cap.sha256);
	md_stage_table(f, v);
	render_copy_line(f, v, "**", "[^");
	fputc('\n', f);
	if (r->ntrials)
		md_metrics(f, v);
	md_usyms(f, r);
	md_run(f, v);
	md_env(f, r);
	if (v->nnotes)
		fputc('\n', f);
	for (i = 0; i < v->nnotes; i++) {
		fprintf(f, "[^%d]: ", i + 1);
		cell(f, v->note[i]);
		fputc('\n', f);
	}
	free(v);
	return ferror(f) ? -EIO : 0;
}

int render_md_pair(FILE *f, const struct report *a, const struct report *b)
{
	struct render_view *va = malloc(sizeof(*va)), *vb = malloc(sizeof(*vb));
	char x[64], y[64];
	int s, i;

	if (!va || !vb) {
		free(va);
		free(vb);
		return -ENOMEM;
	}
	render_view_build(va, a);
	render_view_build(vb, b);
	fprintf(f, "## pktmem report: A vs B\n\n- A: `");
	cell(f, a->cap.path);
	fprintf(f, "` (sha256 `%.12s`, %s)\n- B: `", a->cap.sha256, a->created);
	cell(f, b->cap.path);
	fprintf(f, "` (sha256 `%.12s`, %s)\n", b->cap.sha256, b->created);
	if (strcmp(a->env.fingerprint, b->env.fingerprint))
		fprintf(f, "- warning: different machines: timings are not directly comparable\n");
	fprintf(f, "\n| stage | A total | B total | delta | A per request | B per request | delta |\n"
		   "|---|--:|--:|--:|--:|--:|--:|\n");
	for (s = 0; s < RS__N; s++) {
		const struct render_stage *ra = &va->st[s], *rb = &vb->st[s];
		char na_a[24], na_b[24];

		na(na_a, sizeof(na_a), ra->fn);
		na(na_b, sizeof(na_b), rb->fn ? rb->fn + va->nnotes : 0);
		fprintf(f, "| %s | %s | %s | ", report_stage_name(s),
			ra->time_available ? render_fmt_ns(x, sizeof(x), ra->time_ns) : na_a,
			rb->time_available ? render_fmt_ns(y, sizeof(y), rb->time_ns) : na_b);
		if (ra->time_available && rb->time_available && ra->time_ns > 0)
			fprintf(f, "%+.1f%% | ", (rb->time_ns / ra->time_ns - 1) * 100);
		else
			fprintf(f, "- | ");
		fprintf(f, "%s | %s | ",
			ra->time_available && ra->per_req_ns >= 0 ? render_fmt_ns(x, sizeof(x), ra->per_req_ns) : na_a,
			rb->time_available && rb->per_req_ns >= 0 ? render_fmt_ns(y, sizeof(y), rb->per_req_ns) : na_b);
		if (ra->time_available && rb->time_available && ra->per_req_ns > 0 && rb->per_req_ns >= 0)
			fprintf(f, "%+.1f%% |\n", (rb->per_req_ns / ra->per_req_ns - 1) * 100);
		else
			fprintf(f, "- |\n");
	}
	fprintf(f, "\n- A: bytes became memory at: copy (%.0f bytes, %.0f calls)\n",
		va->st[RS_COPY].bytes, va->st[RS_COPY].count);
	fprintf(f, "- B: bytes became memory at: copy (%.0f bytes, %.0f calls)\n",
		vb->st[RS_COPY].bytes, vb->st[RS_COPY].count);
	if (va->nnotes || vb->nnotes)
		fputc('\n', f);
	for (i = 0; i < va->nnotes + vb->nnotes; i++) {
		fprintf(f, "[^%d]: %s: ", i + 1, i < va->nnotes ? "A" : "B");
		cell(f, i < va->nnotes ? va->note[i] : vb->note[i - va->nnotes]);
		fputc('\n', f);
	}
	free(va);
	free(vb);
	return ferror(f) ? -EIO : 0;
}

int render_verdict_md(FILE *f, const struct verdict *vd)
{
	static const char *icon[] = {
		[VS_PASS] = "pass", [VS_IMPROVED] = "improved", [VS_INFO] = "info",
		[VS_SKIP] = "skipped", [VS_WARN] = "⚠️ warning", [VS_ACK] = "⚠️ acknowledged",
		[VS_INCONCLUSIVE] = "❔ inconclusive", [VS_FAIL] = "❌ **FAIL**",
		[VS_NOT_COMPARABLE] = "not comparable",
	};
	char bb[32], cb[32];
	size_t i;

	fprintf(f, "## pktmem gate: ");
	switch (vd->overall) {
	case VS_NOT_COMPARABLE:
		fprintf(f, "not comparable\n\n");
		cell(f, vd->not_comparable);
		fprintf(f, "\n");
		return ferror(f) ? -EIO : 0;
	case VS_FAIL: fprintf(f, "❌ regression\n\n"); break;
	case VS_INCONCLUSIVE: fprintf(f, "❔ inconclusive\n\n"); break;
	case VS_WARN: fprintf(f, "✅ pass with warnings\n\n"); break;
	default: fprintf(f, "✅ pass\n\n"); break;
	}
	fprintf(f, "%d failed, %d inconclusive, %d warnings, %d acknowledged, %d skipped, %d passed; "
		"%zu baseline vs %zu new trials; timing threshold %.0f%%, alpha %.2g (Holm)%s.\n\n",
		vd->nfail, vd->ninconclusive, vd->nwarn, vd->nack, vd->nskip, vd->npass,
		vd->base_trials, vd->cur_trials, vd->opt.threshold * 100, vd->opt.alpha,
		vd->advisory_timing ? "; **baseline from another machine: timings advisory**" : "");
	fprintf(f, "| metric | class | status | base | new | change | why |\n|---|---|---|--:|--:|--:|---|\n");
	for (i = 0; i < vd->nitems; i++) {
		const struct verdict_item *it = &vd->item[i];
		bool trials = !strcmp(it->unit, "trials");

		snprintf(bb, sizeof(bb), "-");
		snprintf(cb, sizeof(cb), "-");
		if (it->base.n && !trials)
			render_fmt_metric(bb, sizeof(bb), it->base.median, it->unit);
		if (it->cur.n && !trials)
			render_fmt_metric(cb, sizeof(cb), it->cur.median, it->unit);
		fprintf(f, "| `%s` | %s | %s | %s | %s | ", it->name, report_class_name(it->cls),
			icon[it->status], bb, cb);
		if (it->base.n && it->cur.n && it->base.median != 0 && !trials)
			fprintf(f, "%+.1f%%", it->change * 100);
		else
			fputc('-', f);
		fputs(" | ", f);
		cell(f, it->why);
		fputs(" |\n", f);
	}
	return ferror(f) ? -EIO : 0;
}
