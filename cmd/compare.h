/*
 * compare.h: what 'pktmem compare' shares with 'pktmem gate' (both in
 * cmd/, owned by the report helper): loading a report with the right exit
 * code and emitting a verdict in every requested form.
 */
#ifndef PKTMEM_CMD_COMPARE_H
#define PKTMEM_CMD_COMPARE_H

#include "report/render.h"
#include "report/report.h"
#include "report/verdict.h"

/* Reads path; on failure prints "pktmem: CMD: WHAT 'path': reason" and sets
 * *ex to EXIT_USAGE (bad input) or EXIT_NOT_COMPARABLE (another schema
 * version).  Returns report_read_json()'s code. */
int compare_load(const char *cmd, const char *what, const char *path, struct report **r, int *ex);
/* Table or TAP on stdout, --md/--json files; returns the exit code for v
 * (0 pass, 1 regression, 3 not comparable, 4 inconclusive when strict). */
int compare_emit(const char *cmd, const struct verdict *v, const char *md, const char *json,
		 int tap, int strict, const struct render_opts *ro);
/* "10%", "10", "0.1" -> 0.10; -1 when not a percentage. */
int compare_parse_fraction(const char *s, double *out);

#endif
