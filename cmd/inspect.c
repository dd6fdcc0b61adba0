/*
 * inspect.c: 'pktmem inspect CAPTURE...': what is in a capture.
 *
 * The engine is replay/inspect.c; this file parses options, renders the
 * result as text (one section per capture) or JSON (docs/inspect-json.md)
 * and picks the exit code: 0, or 2 for usage and input errors.
 */
#include "cmd/cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/opts.h"
#include "replay/inspect.h"

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end += *end == 'i' && end[1] == 'B' ? 2 : 1;
	if (*end || v == 0)
		return -1;
	*out = v;
	return 0;
}

static int opt_max_reorder(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	if (parse_size(arg, o->value) < 0) {
		snprintf(err, errlen, "--max-reorder: '%s' is not a size in bytes", arg);
		return -1;
	}
	return 0;
}

static int opt_flows(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	uint64_t v;

	if (parse_size(arg, &v) < 0 || v > 1000000) {
		snprintf(err, errlen, "--flows: '%s' is not a count from 1 to 1000000", arg);
		return -1;
	}
	*(size_t *)o->value = (size_t)v;
	return 0;
}

static void print_time(uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	char buf[64];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s.%06u UTC", buf, (unsigned)((ns % 1000000000ULL) / 1000));
}

static void anomalies(char *buf, size_t len, const struct flow_info *f)
{
	uint64_t retx = 0, ooo = 0, ovl = 0, gaps = 0, gapb = 0, trunc = 0;
	size_t n = 0;
	int d;

	for (d = 0; d < 2; d++) {
		retx += f->dir[d].retransmits;
		ooo += f->dir[d].out_of_order;
		ovl += f->dir[d].overlaps;
		gaps += f->dir[d].gaps;
		gapb += f->dir[d].gap_bytes;
		trunc += f->dir[d].truncated;
	}
	buf[0] = 0;
#define ADD(...) do { if (n < len) n += snprintf(buf + n, len - n, __VA_ARGS__); } while (0)
	if (retx)
		ADD("%sretx %" PRIu64, n ? ", " : "", retx);
	if (ooo)
		ADD("%sooo %" PRIu64, n ? ", " : "", ooo);
	if (ovl)
		ADD("%soverlap %" PRIu64, n ? ", " : "", ovl);
	if (gaps)
		ADD("%sgaps %" PRIu64 " (%" PRIu64 " B)", n ? ", " : "", gaps, gapb);
	if (trunc)
		ADD("%struncated %" PRIu64, n ? ", " : "", trunc);
	if (f->roles_guessed)
		ADD("%sno SYN", n ? ", " : "");
	if (!n)
		ADD("-");
#undef ADD
}

static int imax(int a, int b) { return a > b ? a : b; }

/* The flow table's cells: client, server, packets and payload each way. */
static void flow_cells(const struct flow_info *f, char cell[4][48])
{
	inspect_endpoint(cell[0], 48, f->family, f->caddr, f->cport);
	inspect_endpoint(cell[1], 48, f->family, f->saddr, f->sport);
	snprintf(cell[2], 48, "%" PRIu64 "/%" PRIu64, f->dir[0].packets, f->dir[1].packets);
	snprintf(cell[3], 48, "%" PRIu64 "/%" PRIu64, f->dir[0].payload_bytes,
		 f->dir[1].payload_bytes);
}

static void print_text(const struct inspect_result *r)
{
	const struct capture_stats *c = &r->cap;
	const struct inspect_flow_totals *t = &r->tot;
	const struct inspect_http *h = &r->http;
	size_t i;
	int k, any;

	printf("file        %s (%s%s)\n", r->path, c->format, c->gzip ? ", gzip" : "");
	printf("link types  ");
	for (k = 0; k < c->nlinks && k < 8; k++)
		printf("%s%s (%" PRIu64 " packets)", k ? ", " : "",
		       capture_linktype_name(c->linktype[k]), c->link_packets[k]);
	printf("%s\n", c->nlinks ? "" : "-");
	printf("packets     %" PRIu64 " (%" PRIu64 " TCP), %" PRIu64 " bytes",
	       c->packets, c->tcp, c->bytes);
	if (c->truncated)
		printf(", %" PRIu64 " cut by snaplen (%" PRIu64 " payload bytes missing)",
		       c->truncated, c->missing_bytes);
	printf("\n");
	if (c->packets) {
		printf("time        ");
		print_time(c->first_ts_ns);
		printf(" + %.6f s\n", (c->last_ts_ns >= c->first_ts_ns ?
				       c->last_ts_ns - c->first_ts_ns : 0) / 1e9);
	}
	printf("skipped     ");
	for (k = 1, any = 0; k < CAP_SKIP__N; k++)
		if (c->skipped[k]) {
			printf("%s%s %" PRIu64, any ? ", " : "",
			       inspect_skip_name(k), c->skipped[k]);
			any = 1;
		}
	printf("%s\n", any ? "" : "none");
	printf("flows       %" PRIu64 " TCP (at most %" PRIu64 " alive at once)",
	       t->flows, r->reasm.flows_peak);
	if (t->roles_guessed)
		printf(", %" PRIu64 " without a captured SYN (roles by port)",
		       t->roles_guessed);
	printf("\n");
	printf("payload     %" PRIu64 " bytes client->server, %" PRIu64
	       " bytes server->client\n",
	       t->payload_bytes[DIR_C2S], t->payload_bytes[DIR_S2C]);
	printf("anomalies   retransmits %" PRIu64 ", out-of-order %" PRIu64
	       ", overlaps %" PRIu64 ", gaps %" PRIu64 " (%" PRIu64 " bytes), truncated %"
	       PRIu64 "\n", t->retransmits, t->out_of_order, t->overlaps, t->gaps,
	       t->gap_bytes, t->truncated);

	if (r->nrows) {
		/* columns as wide as this capture's widest cell (a first pass
		 * formats them to measure), so an IPv4 capture's table fits 100
		 * columns and an IPv6 one still lines up */
		int w[5] = { 6, 6, 12, 13, 3 };

		for (i = 0; i < r->nrows; i++) {
			char cell[5][48];

			flow_cells(&r->rows[i].f, cell);
			snprintf(cell[4], sizeof(cell[4]), "%s", inspect_end_name(r->rows[i].f.end));
			for (k = 0; k < 5; k++)
				w[k] = imax(w[k], (int)strlen(cell[k]));
		}
		printf("\n  %4s  %-*s  %-*s  %*s  %*s  %-*s  %s\n", "id", w[0], "client", w[1],
		       "server", w[2], "pkts c>s/s>c", w[3], "bytes c>s/s>c", w[4], "end", "anomalies");
		for (i = 0; i < r->nrows; i++) {
			const struct flow_info *f = &r->rows[i].f;
			char cell[4][48], an[160];

			flow_cells(f, cell);
			anomalies(an, sizeof(an), f);
			printf("  %4" PRIu64 "  %-*s  %-*s  %*s  %*s  %-*s  %s\n", f->id, w[0], cell[0],
			       w[1], cell[1], w[2], cell[2], w[3], cell[3], w[4], inspect_end_name(f->end),
			       an);
		}
		if (r->rows_omitted)
			printf("  ... %" PRIu64 " more flows\n", r->rows_omitted);
	}

	printf("\nhttp        %" PRIu64 " requests in %" PRIu64 " flows", h->requests,
	       h->flows);
	if (h->not_http_flows)
		printf(" (%" PRIu64 " flows not HTTP/1.x)", h->not_http_flows);
	printf("\n");
	if (h->requests) {
		printf("  methods   ");
		for (k = 0; k < h->nmethods; k++)
			printf("%s%s %" PRIu64, k ? ", " : "", h->methods[k].name,
			       h->methods[k].count);
		if (h->other_methods)
			printf(", other %" PRIu64, h->other_methods);
		printf("\n  framing   ");
		for (k = 0; k < HTTPX_FRAMING__N; k++)
			printf("%s%s %" PRIu64, k ? ", " : "",
			       httpx_framing_name(k), h->by_framing[k]);
		printf("\n  bytes     %" PRIu64 " head, %" PRIu64 " body\n",
		       h->head_bytes, h->body_bytes);
		printf("  requests  %" PRIu64 " complete, %" PRIu64 " incomplete (%"
		       PRIu64 " cut by gaps), %" PRIu64 " refused by the framer, %"
		       PRIu64 " pipelined\n", h->complete, h->incomplete,
		       h->cut_by_gap, h->errors, h->pipelined);
	}
	if (h->partial_heads || h->resyncs)
		printf("  streams   %" PRIu64 " heads cut short, %" PRIu64
		       " re-synchronised after gaps (%" PRIu64 " bytes skipped)\n",
		       h->partial_heads, h->resyncs, h->skipped_bytes);
}

/* Writes j to path atomically (temp file + rename), or to stdout for "-". */
static int write_json(const char *path, json_t *j)
{
	int rc = cmd_write_json(path, j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (rc < 0)
		return cmd_error("inspect", "'%s': writing: %s", path, strerror(-rc)), -1;
	return 0;
}

int cmd_inspect(int argc, char **argv)
{
	struct inspect_opts o = { 0 };
	const char *json_path = NULL;
	const struct opt opts[] = {
		OPT_STRING(0, "filter", &o.filter, "EXPR",
			   "only packets matching a BPF filter (pcap syntax)"),
		OPT_STRING(0, "json", &json_path, "FILE|-",
			   "the same as JSON (docs/inspect-json.md); '-' is stdout\n"
			   "and replaces the text"),
		OPT_CALLBACK(0, "max-reorder", &o.max_reorder_bytes, "BYTES", opt_max_reorder,
			     "reorder buffer per flow direction (default 4M;\n"
			     "suffixes k, m, g); a hole is given up beyond it"),
		OPT_CALLBACK(0, "flows", &o.max_flow_rows, "N", opt_flows,
			     "flows listed in detail (default 50)"),
		OPT_END(),
	};
	const struct opt_cmd cmd = {
		.name = "inspect",
		.usage =
		"usage: pktmem inspect CAPTURE... [--filter EXPR] [--json FILE|-]\n"
		"                      [--max-reorder BYTES] [--flows N]\n",
		.intro =
		"\n"
		"What is in a capture (pcap, pcapng, either gzipped): link types,\n"
		"packets, TCP flows and their anomalies (retransmissions, out-of-order,\n"
		"overlaps, gaps, truncation), HTTP/1.x requests by method and framing,\n"
		"and the traffic skipped, with reasons.\n"
		"\n",
		.opts = opts,
		.outro =
		"\n"
		"exit: 0 ok (a capture cut mid-record is read up to there, with a\n"
		"warning), 2 usage or input error\n",
		.help_col = 23,
	};
	json_t *all = NULL;
	int first, i, rc = EXIT_OK;

	/* captures and options in any order */
	first = cmd_parse_options(&cmd, argc, argv, &rc);
	if (first < 0)
		return rc;
	if (first >= argc) {
		opts_usage(&cmd, stderr);
		return EXIT_USAGE;
	}
	if (json_path) {
		all = json_array();
		if (!all)
			return cmd_error("inspect", "out of memory");
	}
	for (i = first; i < argc; i++) {
		struct inspect_result *r = NULL;
		char err[256];
		int e = inspect_run(argv[i], &o, &r, err, sizeof(err));

		if (e < 0) {
			/* err says what is wrong (the filter included), not
			 * which file: name it */
			cmd_error("inspect", "'%s': %s", argv[i],
				  err[0] ? err : strerror(-e));
			rc = EXIT_USAGE;
			break;
		}
		if (r->cap.ended_mid_record)
			cmd_warn("inspect", "'%s': capture ends in the middle of a record; "
				 "%" PRIu64 " records read", argv[i], r->cap.packets);
		if (!json_path || strcmp(json_path, "-")) {
			if (i > first)
				printf("\n");
			print_text(r);
		}
		if (all) {
			json_t *j = inspect_result_json(r);
			if (!j || json_array_append_new(all, j) < 0) {
				inspect_result_free(r);
				rc = cmd_error("inspect", "out of memory");
				break;
			}
		}
		inspect_result_free(r);
	}
	if (rc == EXIT_OK && all) {
		json_t *out;
		/* one capture: its object; several: an object with the list */
		if (json_array_size(all) == 1)
			out = json_incref(json_array_get(all, 0));
		else
			out = json_pack("{s:s,s:O}", "schema", INSPECT_SCHEMA,
					"captures", all);
		if (!out || write_json(json_path, out) < 0)
			rc = EXIT_USAGE;
		json_decref(out);
	}
	json_decref(all);
	return rc;
}
