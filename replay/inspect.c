/*
 * inspect.c: the inspect engine (see inspect.h).
 *
 * Each flow carries a struct fstate (flow_info.user) with its client
 * stream's request extractor; the extractor is freed when reasm closes the
 * flow, and the flow's figures are folded into the totals then, so
 * nothing per flow outlives the flow except the first max_flow_rows rows.
 */
#include "replay/inspect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Per-flow state of flows just closed, kept for the next ones: a flow's
 * framer costs ~20 KiB of allocations, and captures open and close
 * thousands of flows a second. */
#define POOL_MAX 64

struct engine {
	struct inspect_result *r;
	struct fstate *pool[POOL_MAX];
	int npool;
	size_t max_rows;
	size_t rows_cap;
	int err;		/* first allocation failure, negative errno */
};

struct fstate {
	struct engine *e;
	struct httpx_stream *hx;
	uint64_t requests;
};

static const char *const end_names[] = {
	[FLOW_END_OPEN] = "open",
	[FLOW_END_FIN] = "fin",
	[FLOW_END_RST] = "rst",
	[FLOW_END_IDLE] = "idle",
	[FLOW_END_EVICTED] = "evicted",
	[FLOW_END_REUSED] = "reused",
};

const char *inspect_end_name(enum flow_end e)
{
	return (unsigned)e <= FLOW_END_REUSED ? end_names[e] : "?";
}

static const char *const skip_names[CAP_SKIP__N] = {
	[CAP_SKIP_NONE] = "none",
	[CAP_SKIP_LINKTYPE] = "linktype",
	[CAP_SKIP_NOT_IP] = "not-ip",
	[CAP_SKIP_FRAGMENT] = "fragment",
	[CAP_SKIP_NOT_TCP] = "not-tcp",
	[CAP_SKIP_SHORT] = "short",
	[CAP_SKIP_FILTER] = "filter",
};

const char *inspect_skip_name(enum cap_skip s)
{
	return (unsigned)s < CAP_SKIP__N ? skip_names[s] : "?";
}

void inspect_endpoint(char *buf, size_t len, int family, const uint8_t *addr,
		      uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

/* ---- callbacks ---- */

static void on_request(void *ctx, const struct httpx_req *q)
{
	struct fstate *fs = ctx;
	struct inspect_http *h = &fs->e->r->http;
	const char *name = q->method[0] ? q->method : "(unparsed)";
	int i;

	fs->requests++;
	h->requests++;
	if ((unsigned)q->framing < HTTPX_FRAMING__N)
		h->by_framing[q->framing]++;
	if (q->complete)
		h->complete++;
	else
		h->incomplete++;
	if (q->cut_by_gap)
		h->cut_by_gap++;
	if (q->error_status)
		h->errors++;
	if (q->pipelined)
		h->pipelined++;
	h->head_bytes += q->head_bytes;
	h->body_bytes += q->body_bytes;
	for (i = 0; i < h->nmethods; i++)
		if (!strcmp(h->methods[i].name, name))
			break;
	if (i == h->nmethods) {
		if (h->nmethods == INSPECT_MAX_METHODS) {
			h->other_methods++;
			return;
		}
		snprintf(h->methods[i].name, sizeof(h->methods[i].name), "%s", name);
		h->nmethods++;
	}
	h->methods[i].count++;
}

static void on_open(void *ctx, struct flow_info *f)
{
	struct engine *e = ctx;
	struct fstate *fs;

	if (e->npool) {
		fs = e->pool[--e->npool];
		fs->requests = 0;
		httpx_stream_reset(fs->hx);
		f->user = fs;
		if (!f->syn_seen)
			httpx_stream_midstream(fs->hx);
		return;
	}
	fs = calloc(1, sizeof(*fs));
	f->user = fs;
	if (!fs) {
		if (!e->err)
			e->err = -ENOMEM;
		return;
	}
	fs->e = e;
	if (httpx_stream_new(&fs->hx, NULL, on_request, fs) < 0) {
		fs->hx = NULL;
		if (!e->err)
			e->err = -ENOMEM;
		return;
	}
	if (!f->syn_seen)
		httpx_stream_midstream(fs->hx);
}

static void on_data(void *ctx, struct flow_info *f, int dir, uint64_t off,
		    const uint8_t *p, size_t n, uint64_t ts)
{
	struct fstate *fs = f->user;

	(void)ctx;
	if (!fs || !fs->hx)
		return;
	if (dir == DIR_C2S)
		httpx_stream_data(fs->hx, off, p, n, ts);
	else
		httpx_stream_server_data(fs->hx, n);
}

static void on_gap(void *ctx, struct flow_info *f, int dir, uint64_t off,
		   uint64_t len)
{
	struct fstate *fs = f->user;

	(void)ctx;
	if (fs && fs->hx && dir == DIR_C2S)
		httpx_stream_gap(fs->hx, off, len);
}

static void on_close(void *ctx, struct flow_info *f)
{
	struct engine *e = ctx;
	struct inspect_result *r = e->r;
	struct inspect_flow_totals *t = &r->tot;
	struct fstate *fs = f->user;
	bool not_http = false;
	int d;

	if (fs && fs->hx) {
		const struct httpx_stream_stats *hs;

		httpx_stream_end(fs->hx);
		hs = httpx_stream_stats(fs->hx);
		not_http = hs->not_http;
		r->http.partial_heads += hs->partial_heads;
		r->http.resyncs += hs->resyncs;
		r->http.skipped_bytes += hs->skipped_bytes;
		if (hs->not_http)
			r->http.not_http_flows++;
		if (hs->requests)
			r->http.flows++;
	}
	t->flows++;
	for (d = 0; d < 2; d++) {
		const struct flow_dir_stats *s = &f->dir[d];
		t->packets[d] += s->packets;
		t->payload_bytes[d] += s->payload_bytes;
		t->retransmits += s->retransmits;
		t->out_of_order += s->out_of_order;
		t->overlaps += s->overlaps;
		t->gaps += s->gaps;
		t->gap_bytes += s->gap_bytes;
		t->truncated += s->truncated;
		t->missing_bytes += s->missing_bytes;
	}
	if (f->roles_guessed)
		t->roles_guessed++;
	if ((unsigned)f->end <= FLOW_END_REUSED)
		t->by_end[f->end]++;

	/* rows in flow id order: ids are handed out in order of first packet
	 * but flows close in any order, so keep the lowest ids */
	if (e->max_rows) {
		struct inspect_flow_row row = { .f = *f, .not_http = not_http };
		size_t i;

		row.f.user = NULL;
		row.requests = fs ? fs->requests : 0;
		if (r->nrows < e->max_rows) {
			if (r->nrows == e->rows_cap) {
				size_t nc = e->rows_cap ? e->rows_cap * 2 : 16;
				void *nr;
				if (nc > e->max_rows)
					nc = e->max_rows;
				nr = realloc(r->rows, nc * sizeof(*r->rows));
				if (!nr) {
					if (!e->err)
						e->err = -ENOMEM;
					goto out;
				}
				r->rows = nr;
				e->rows_cap = nc;
			}
			i = r->nrows++;
		} else if (r->rows[r->nrows - 1].f.id > f->id) {
			i = r->nrows - 1;	/* the highest id makes room */
			r->rows_omitted++;
		} else {
			r->rows_omitted++;
			goto out;
		}
		while (i > 0 && r->rows[i - 1].f.id > f->id) {
			r->rows[i] = r->rows[i - 1];
			i--;
		}
		r->rows[i] = row;
	} else {
		r->rows_omitted++;
	}
out:
	if (fs && fs->hx && e->npool < POOL_MAX) {
		e->pool[e->npool++] = fs;
	} else if (fs) {
		httpx_stream_free(fs->hx);
		free(fs);
	}
	f->user = NULL;
}

static const struct reasm_ops rops = { on_open, on_data, on_gap, on_close };

static void pool_free(struct engine *e)
{
	while (e->npool) {
		struct fstate *fs = e->pool[--e->npool];
		httpx_stream_free(fs->hx);
		free(fs);
	}
}

static int cmp_method(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

int inspect_run(const char *path, const struct inspect_opts *o,
		struct inspect_result **out, char *err, size_t errlen)
{
	struct inspect_result *r = calloc(1, sizeof(*r));
	struct engine e = { .r = r, .max_rows = 50 };
	struct reasm_config rc = { 0 };
	struct capture *cap = NULL;
	struct reasm *ra = NULL;
	struct cap_pkt pkt;
	int rv;

	if (err && errlen)
		err[0] = 0;
	if (!r || !(r->path = strdup(path))) {
		rv = -ENOMEM;
		goto fail;
	}
	if (o && o->max_flow_rows)
		e.max_rows = o->max_flow_rows;
	if (o)
		rc.max_reorder_bytes = o->max_reorder_bytes;
	rv = capture_open(&cap, path, o ? o->filter : NULL, err, errlen);
	if (rv < 0)
		goto fail;
	rv = reasm_new(&ra, &rc, &rops, &e);
	if (rv < 0)
		goto fail;
	while ((rv = capture_next(cap, &pkt)) > 0) {
		if (pkt.skip != CAP_SKIP_NONE)
			continue;
		rv = reasm_feed(ra, &pkt);
		if (rv < 0 || e.err)
			break;
	}
	if (rv < 0 && !e.err) {
		if (err && errlen)
			snprintf(err, errlen, "%s", capture_error(cap));
		goto fail;
	}
	reasm_finish(ra);
	if (e.err) {
		rv = e.err;
		goto fail;
	}
	r->cap = *capture_stats(cap);
	r->reasm = *reasm_totals(ra);
	qsort(r->http.methods, r->http.nmethods, sizeof(r->http.methods[0]),
	      cmp_method);
	reasm_free(ra);
	capture_free(cap);
	pool_free(&e);
	*out = r;
	return 0;

fail:
	if (rv == -ENOMEM && err && errlen && !err[0])
		snprintf(err, errlen, "out of memory");
	/* close the flows still open: their per-flow state goes with them */
	if (ra)
		reasm_finish(ra);
	reasm_free(ra);
	capture_free(cap);
	pool_free(&e);
	inspect_result_free(r);
	return rv < 0 ? rv : -EIO;
}

void inspect_result_free(struct inspect_result *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->rows);
	free(r);
}

/* ---- JSON (docs/inspect-json.md) ---- */

static json_t *jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *dir_json(const struct flow_dir_stats *s)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:b}",
			 "packets", jint(s->packets),
			 "data_segments", jint(s->data_segments),
			 "payload_bytes", jint(s->payload_bytes),
			 "retransmits", jint(s->retransmits),
			 "overlaps", jint(s->overlaps),
			 "out_of_order", jint(s->out_of_order),
			 "gaps", jint(s->gaps),
			 "gap_bytes", jint(s->gap_bytes),
			 "truncated", jint(s->truncated),
			 "missing_bytes", jint(s->missing_bytes),
			 "fin", s->fin, "rst", s->rst);
}

static json_t *row_json(const struct inspect_flow_row *row)
{
	const struct flow_info *f = &row->f;
	char c[64], s[64];

	inspect_endpoint(c, sizeof(c), f->family, f->caddr, f->cport);
	inspect_endpoint(s, sizeof(s), f->family, f->saddr, f->sport);
	return json_pack("{s:o,s:s,s:s,s:s,s:b,s:b,s:s,s:o,s:o,s:o,s:b,s:o,s:o}",
			 "id", jint(f->id),
			 "family", f->family == AF_INET6 ? "ipv6" : "ipv4",
			 "client", c, "server", s,
			 "syn_seen", f->syn_seen,
			 "roles_guessed", f->roles_guessed,
			 "end", inspect_end_name(f->end),
			 "first_ns", jint(f->first_ts_ns),
			 "last_ns", jint(f->last_ts_ns),
			 "requests", jint(row->requests),
			 "not_http", row->not_http,
			 "c2s", dir_json(&f->dir[DIR_C2S]),
			 "s2c", dir_json(&f->dir[DIR_S2C]));
}

json_t *inspect_result_json(const struct inspect_result *r)
{
	const struct capture_stats *c = &r->cap;
	const struct inspect_flow_totals *t = &r->tot;
	const struct inspect_http *h = &r->http;
	json_t *root, *links, *skipped, *flows, *methods, *framing, *ends;
	size_t i;
	int k;

	links = json_array();
	for (k = 0; k < c->nlinks && k < 8; k++)
		json_array_append_new(links, json_pack("{s:s,s:i,s:o}",
			"name", capture_linktype_name(c->linktype[k]),
			"dlt", c->linktype[k],
			"packets", jint(c->link_packets[k])));
	skipped = json_object();
	for (k = 1; k < CAP_SKIP__N; k++)
		json_object_set_new(skipped, skip_names[k], jint(c->skipped[k]));
	flows = json_array();
	for (i = 0; i < r->nrows; i++)
		json_array_append_new(flows, row_json(&r->rows[i]));
	methods = json_object();
	for (k = 0; k < h->nmethods; k++)
		json_object_set_new(methods, h->methods[k].name,
				    jint(h->methods[k].count));
	if (h->other_methods)
		json_object_set_new(methods, "(other)", jint(h->other_methods));
	framing = json_object();
	for (k = 0; k < HTTPX_FRAMING__N; k++)
		json_object_set_new(framing, httpx_framing_name(k),
				    jint(h->by_framing[k]));
	ends = json_object();
	for (k = 0; k <= FLOW_END_REUSED; k++)
		json_object_set_new(ends, end_names[k], jint(t->by_end[k]));

	root = json_pack("{s:s,s:s,s:s,s:b,s:o,s:o,s:o,s:o,s:{s:o,s:o,s:o},"
			 "s:o,s:o,s:b,s:o}",
			 "schema", INSPECT_SCHEMA,
			 "file", r->path,
			 "format", c->format,
			 "gzip", c->gzip,
			 "link_types", links,
			 "packets", jint(c->packets),
			 "bytes", jint(c->bytes),
			 "tcp_packets", jint(c->tcp),
			 "time",
			   "first_ns", jint(c->first_ts_ns),
			   "last_ns", jint(c->last_ts_ns),
			   "span_ns", jint(c->last_ts_ns >= c->first_ts_ns ?
					   c->last_ts_ns - c->first_ts_ns : 0),
			 "truncated_packets", jint(c->truncated),
			 "missing_bytes", jint(c->missing_bytes),
			 "ended_mid_record", c->ended_mid_record,
			 "skipped", skipped);
	if (!root)
		return NULL;
	json_object_set_new(root, "reassembly", json_pack(
		"{s:o,s:o,s:o,s:o,s:o}",
		"flows", jint(r->reasm.flows),
		"flows_peak", jint(r->reasm.flows_peak),
		"reorder_bytes_peak", jint(r->reasm.reorder_bytes_peak),
		"dropped_no_flow", jint(r->reasm.dropped_no_flow),
		"after_close", jint(r->reasm.after_close)));
	json_object_set_new(root, "flow_totals", json_pack(
		"{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
		"flows", jint(t->flows),
		"packets_c2s", jint(t->packets[DIR_C2S]),
		"packets_s2c", jint(t->packets[DIR_S2C]),
		"payload_bytes_c2s", jint(t->payload_bytes[DIR_C2S]),
		"payload_bytes_s2c", jint(t->payload_bytes[DIR_S2C]),
		"retransmits", jint(t->retransmits),
		"out_of_order", jint(t->out_of_order),
		"overlaps", jint(t->overlaps),
		"gaps", jint(t->gaps),
		"gap_bytes", jint(t->gap_bytes),
		"truncated", jint(t->truncated),
		"missing_bytes", jint(t->missing_bytes),
		"roles_guessed", jint(t->roles_guessed),
		"end", ends));
	json_object_set_new(root, "flows", flows);
	json_object_set_new(root, "flows_omitted", jint(r->rows_omitted));
	json_object_set_new(root, "http", json_pack(
		"{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
		"flows", jint(h->flows),
		"not_http_flows", jint(h->not_http_flows),
		"requests", jint(h->requests),
		"by_method", methods,
		"by_framing", framing,
		"complete", jint(h->complete),
		"incomplete", jint(h->incomplete),
		"cut_by_gap", jint(h->cut_by_gap),
		"errors", jint(h->errors),
		"pipelined", jint(h->pipelined),
		"head_bytes", jint(h->head_bytes),
		"body_bytes", jint(h->body_bytes),
		"partial_heads", jint(h->partial_heads),
		"resyncs", jint(h->resyncs),
		"skipped_bytes", jint(h->skipped_bytes)));
	return root;
}
