/*
 * report.c: 'pktmem report': render a saved JSON report as a terminal
 * table, Markdown or HTML; two reports side by side with deltas per stage.
 */
#include "cmd/cmd.h"
#include "lib/opts.h"
#include "report/render.h"
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

static int load(const char *path, struct report **r)
{
	char err[512];
	int rc = report_read_json(path, r, err, sizeof(err));

	if (rc < 0)
		cmd_error("report", "'%s': %s", path, err[0] ? err : report_strerror(rc));
	return rc;
}

static int out_file(const char *what, const char *path, int rc_render, struct render_mem *m)
{
	int rc = render_mem_commit(m, path, rc_render);

	if (rc < 0)
		cmd_error("report", "writing %s '%s': %s", what, path, report_strerror(rc));
	return rc;
}

int cmd_report(int argc, char **argv)
{
	const char *md = NULL, *html = NULL, *json = NULL, *color = "auto";
	bool text = false;
	const struct opt opts[] = {
		OPT_BOOL(0, "text", &text, "the terminal table on standard output (also with --md etc.)"),
		OPT_STRING(0, "md", &md, "FILE", "GitHub-flavoured Markdown"),
		OPT_STRING(0, "html", &html, "FILE", "one self-contained HTML page with the pipeline figure"),
		OPT_STRING(0, "json", &json, "FILE", "the report again, validated and normalised"),
		OPT_STRING(0, "color", &color, "WHEN",
			   "auto (default: a terminal and no NO_COLOR), always, never"),
		OPT_END(),
	};
	const struct opt_cmd cmd = {
		.name = "report",
		.usage =
		"usage: pktmem report RUN.json [--text] [--md FILE] [--html FILE] [--json FILE]\n"
		"       pktmem report A.json B.json [--text] [--md FILE]\n",
		.intro =
		"\n"
		"Renders a saved report (pktmem.report/1).  Without an output option the\n"
		"terminal table goes to standard output.  FILE may be '-' for standard\n"
		"output; files are written atomically (no half file on failure).\n"
		"\n",
		.opts = opts,
		.outro =
		"\n"
		"Two reports: the stages side by side, deltas of total and per-request time.\n"
		"exit: 0 ok, 2 usage error or an unreadable/invalid report\n",
		.help_col = 16,
	};
	struct report *a = NULL, *b = NULL;
	struct render_opts ro = { 0 };
	struct render_mem m;
	int first, rc = EXIT_OK;

	first = cmd_parse_options(&cmd, argc, argv, &rc);
	if (first < 0)
		return rc;
	if (first >= argc || argc - first > 2)
		return cmd_error("report", "%s; see 'pktmem report --help'",
				 first >= argc ? "no report given" : "at most two reports");
	if (!strcmp(color, "always"))
		ro.color = true;
	else if (!strcmp(color, "auto"))
		ro.color = cmd_use_color(stdout);
	else if (strcmp(color, "never"))
		return cmd_error("report", "--color '%s': want auto, always or never", color);
	if (!md && !html && !json)
		text = true;

	if (load(argv[first], &a) < 0)
		return EXIT_USAGE;
	if (argc - first == 2 && load(argv[first + 1], &b) < 0) {
		report_free(a);
		return EXIT_USAGE;
	}
	if (b && (html || json)) {
		rc = cmd_error("report", "--html and --json take one report");
		goto out;
	}
	if (md) {
		if (!render_mem_open(&m)) {
			rc = cmd_error("report", "out of memory");
			goto out;
		}
		if (out_file("Markdown", md, b ? render_md_pair(m.f, a, b) : render_md(m.f, a), &m) < 0)
			rc = EXIT_USAGE;
	}
	if (html) {
		if (!render_mem_open(&m)) {
			rc = cmd_error("report", "out of memory");
			goto out;
		}
		if (out_file("HTML", html, render_html(m.f, a), &m) < 0)
			rc = EXIT_USAGE;
	}
	if (json) {
		int w = report_write_json(a, json);

		if (w < 0)
			rc = cmd_error("report", "writing JSON '%s': %s", json, report_strerror(w));
	}
	if (text) {
		int w = b ? render_text_pair(stdout, a, b, &ro) : render_text(stdout, a, &ro);

		if (w < 0 && rc == EXIT_OK)
			rc = EXIT_USAGE;
	}
out:
	report_free(a);
	report_free(b);
	return rc;
}
