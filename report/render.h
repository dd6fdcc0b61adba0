/*
 * render.h: a struct report made readable: terminal table (render_text.c),
 * GitHub-flavoured Markdown (render_md.c), one self-contained HTML page
 * with the pipeline drawn as SVG (render_html.c).
 *
 * The renderers only read the report (and a verdict, for compare/gate);
 * they write to a caller's FILE and return 0 or -EIO when the stream
 * failed.  Whether colour is used is the caller's decision (cmd_use_color):
 * library code never looks at the terminal or the environment.
 *
 * What every rendering shows: stages in pipeline order with
 * their share of the measured time, count, bytes, total time, per request,
 * per byte; the stage's metrics (counters where measured); a footnote for
 * every unavailable cell, with the reason; the line "bytes became memory
 * at: copy (N bytes, M calls)"; environment, options, capture and the
 * replay's verification.  Over several trials each number is the median.
 */
#ifndef PKTMEM_REPORT_RENDER_H
#define PKTMEM_REPORT_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "report/report.h"

struct verdict;

struct render_opts {
	bool color;		/* ANSI colour (text only) */
};

/* ---- the numbers every renderer shows (render_text.c) ---- */

#define RENDER_MAX_NOTES 64

struct render_stage {
	bool available, time_available;
	int fn;			/* footnote for the stage's unavailable cells, 0 none */
	double count, bytes, time_ns;	/* medians over trials */
	double share;		/* of the summed available stage time, 0..1 */
	double per_req_ns;	/* time / requests; < 0 when no requests */
	double per_byte_ns;	/* time / payload bytes; < 0 when no bytes */
};

struct render_view {
	const struct report *r;
	double requests;	/* replay requests (median), else capture's */
	double payload_bytes;
	double total_ns;	/* sum of available stage times */
	struct render_stage st[RS__N];
	int nnotes;
	const char *note[RENDER_MAX_NOTES];	/* footnote texts, [i] is number i+1 */
	char note_buf[RENDER_MAX_NOTES][REPORT_REASON + 48];
	int verified;		/* trials verified: all 1, any failed 0 */
	const char *verify_msg;	/* first failing trial's message, or trial 0's */
};

/* Fills v from r (which must outlive v). */
void render_view_build(struct render_view *v, const struct report *r);
/* Footnote number for text (deduplicated), 0 when the table is full. */
int render_view_note(struct render_view *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Lines every rendering of one report has, composed once.  The copy
 * line, "bytes became memory at: copy (N bytes, M calls)", between em
 * ("" or "**"); an unmeasured copy stage cites its footnote as fn_open,
 * the number and "]" ("[": "[3]", "[^": "[^3]"). */
void render_copy_line(FILE *f, const struct render_view *v, const char *em, const char *fn_open);
/* The replay line after "replay: " (trial 0): flows, segments,
 * retransmits, server drops, requests/s; false when r has no trial. */
bool render_replay_line(char *buf, size_t size, const struct report *r);
/* Why metric m of stage st (trial 0) has no value: its reason, the
 * stage's, or "not measured". */
const char *render_metric_reason(const struct stage_result *st, const struct metric *m);

/* Human units, 3 significant digits: "2.76 ms", "829 kB", "0.0533". */
char *render_fmt_ns(char *buf, size_t size, double ns);
char *render_fmt_bytes(char *buf, size_t size, double bytes);
/* A stage's bytes cell: "-" for stages that move no bytes in the model
 * (irq, softirq, handler), never a zero that was not measured. */
char *render_stage_bytes(char *buf, size_t size, int stage, double bytes);
char *render_fmt_num(char *buf, size_t size, double v);
/* A metric value with its unit: "1536 bytes", "2.30 us". */
char *render_fmt_metric(char *buf, size_t size, double v, const char *unit);

/* Rendering to a file atomically: render into memory, then write it with
 * io_write_file_atomic() ("-" = stdout).  A failed render leaves no
 * file.  render_mem_commit() frees the buffer either way. */
struct render_mem {
	FILE *f;
	char *buf;
	size_t len;
};
FILE *render_mem_open(struct render_mem *m);	/* NULL: -errno in errno */
int render_mem_commit(struct render_mem *m, const char *path, int render_rc);

/* ---- one report ---- */
int render_text(FILE *f, const struct report *r, const struct render_opts *o);
/* Writes first, then text word-wrapped at the table's width (100
 * columns), each further line indented by indent columns; runs of spaces
 * in text become one.  For other terminal output that keeps that width
 * (the replay summary). */
void render_wrap(FILE *f, const char *first, const char *text, size_t indent);
int render_md(FILE *f, const struct report *r);
int render_html(FILE *f, const struct report *r);

/* ---- two reports side by side, deltas per stage (pktmem report A B) ---- */
int render_text_pair(FILE *f, const struct report *a, const struct report *b,
		     const struct render_opts *o);
int render_md_pair(FILE *f, const struct report *a, const struct report *b);

/* ---- a verdict (pktmem compare, gate) ---- */
int render_verdict_text(FILE *f, const struct verdict *vd, const struct render_opts *o);
int render_verdict_md(FILE *f, const struct verdict *vd);
int render_verdict_tap(FILE *f, const struct verdict *vd);

#endif
