/* load.c: captures -> plan; see load.h. */
#include "replay/load.h"

#include "replay/capture.h"
#include "replay/httpx.h"
#include "replay/reasm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct lflow {
	struct plan_flow *pf;
	struct httpx_stream *hx;
	uint64_t requests, rejected;
};

struct loader {
	struct plan *plan;
	const struct load_cfg *cfg;
	struct load_info *info;
	uint64_t id_base;	/* flow numbers of earlier captures */
	int64_t ts_shift;	/* ns added to this capture's times */
	int err;
};

/* A request counts when the server will see all of it and parse it. */
static void on_req(void *ctx, const struct httpx_req *rq)
{
	struct lflow *lf = ctx;

	if (rq->error_status)
		lf->rejected++;
	else if (rq->complete && !rq->cut_by_gap)
		lf->requests++;
}

static void on_open(void *ctx, struct flow_info *f)
{
	struct loader *L = ctx;
	struct plan_flow proto = { 0 };
	struct lflow *lf;

	f->user = NULL;
	L->info->flows++;
	if (L->cfg->limit_flows && L->plan->nflows >= L->cfg->limit_flows) {
		L->info->flows_beyond_limit++;
		return;
	}
	lf = calloc(1, sizeof(*lf));
	if (!lf) {
		L->err = -ENOMEM;
		return;
	}
	proto.id = L->id_base + f->id;
	proto.family = f->family;
	memcpy(proto.caddr, f->caddr, 16);
	memcpy(proto.saddr, f->saddr, 16);
	proto.cport = f->cport;
	proto.sport = f->sport;
	proto.first_ts_ns = (uint64_t)((int64_t)f->first_ts_ns + L->ts_shift);
	lf->pf = plan_add_flow(L->plan, &proto);
	if (!lf->pf) {
		free(lf);
		L->err = -ENOMEM;
		return;
	}
	if (httpx_stream_new(&lf->hx, NULL, on_req, lf) < 0)
		lf->hx = NULL;
	else if (!f->syn_seen)
		httpx_stream_midstream(lf->hx);
	f->user = lf;
}

static void on_data(void *ctx, struct flow_info *f, int dir, uint64_t off,
		    const uint8_t *p, size_t n, uint64_t ts_ns)
{
	struct loader *L = ctx;
	struct lflow *lf = f->user;
	int err;

	if (!lf)
		return;
	if (lf->hx) {
		if (dir == DIR_C2S && !lf->pf->truncated)
			httpx_stream_data(lf->hx, off, p, n, ts_ns);
		else if (dir == DIR_S2C)
			httpx_stream_server_data(lf->hx, n);
	}
	if (dir != DIR_C2S)
		return;
	err = plan_add_data(L->plan, lf->pf, off, p, n,
			    (uint64_t)((int64_t)ts_ns + L->ts_shift));
	if (err < 0)
		L->err = err;
}

static void on_gap(void *ctx, struct flow_info *f, int dir, uint64_t off, uint64_t len)
{
	struct lflow *lf = f->user;

	(void)ctx;
	if (!lf || dir != DIR_C2S)
		return;
	/* the replay stops at the first hole: what httpx saw up to here is
	 * what the server will see */
	plan_add_gap(lf->pf, off, len);
}

static void on_close(void *ctx, struct flow_info *f)
{
	struct loader *L = ctx;
	struct lflow *lf = f->user;

	if (!lf)
		return;
	lf->pf->client_fin = f->dir[DIR_C2S].fin;
	if (lf->hx) {
		/* a request still open at the end is incomplete: not counted */
		httpx_stream_end(lf->hx);
		lf->pf->requests = lf->requests;
		lf->pf->requests_known = !httpx_stream_stats(lf->hx)->not_http;
		L->info->requests += lf->requests;
		L->info->requests_rejected += lf->rejected;
		if (lf->rejected) {
			lf->pf->requests_known = false;	/* the server closes early */
			lf->pf->expect_close = true;
		}
		httpx_stream_free(lf->hx);
	}
	(void)L;
	free(lf);
	f->user = NULL;
}

static const struct reasm_ops ops = { on_open, on_data, on_gap, on_close };

int load_captures(struct plan *plan, const char *const *paths, size_t npaths,
		  const struct load_cfg *cfg, struct load_info *info,
		  char *err, size_t errlen)
{
	struct loader L;
	size_t i;
	int rc = 0;

	memset(info, 0, sizeof(*info));
	memset(&L, 0, sizeof(L));
	L.plan = plan;
	L.cfg = cfg;
	L.info = info;
	info->requests_known = true;
	for (i = 0; i < npaths && rc == 0; i++) {
		struct capture *cap = NULL;
		struct reasm *r = NULL;
		struct cap_pkt pkt;
		char cerr[256] = "";
		bool first = true;
		int n, k;

		rc = capture_open(&cap, paths[i], cfg->filter, cerr, sizeof(cerr));
		if (rc < 0) {
			snprintf(err, errlen, "'%s': %s", paths[i], cerr);
			break;
		}
		rc = reasm_new(&r, NULL, &ops, &L);
		if (rc < 0) {
			snprintf(err, errlen, "reassembly: %s", strerror(-rc));
			capture_free(cap);
			break;
		}
		while ((n = capture_next(cap, &pkt)) > 0) {
			if (pkt.skip != CAP_SKIP_NONE)
				continue;
			if (first) {
				/* this capture starts 1 ms after the previous one ends */
				if (plan->last_ts_ns)
					L.ts_shift = (int64_t)(plan->last_ts_ns + 1000000) - (int64_t)pkt.ts_ns;
				first = false;
			}
			if ((rc = reasm_feed(r, &pkt)) < 0 || (rc = L.err) < 0)
				break;
		}
		if (n < 0 && rc == 0) {
			rc = n;
			snprintf(err, errlen, "'%s': %s", paths[i], capture_error(cap));
		}
		reasm_finish(r);
		if (rc == 0 && L.err < 0)
			rc = L.err;
		if (rc < 0 && !err[0])
			snprintf(err, errlen, "'%s': %s", paths[i], strerror(-rc));
		{
			const struct capture_stats *cs = capture_stats(cap);

			info->packets += cs->packets;
			info->tcp_packets += cs->tcp;
			info->bytes += cs->bytes;
			info->missing_bytes += cs->missing_bytes;
			for (k = 1; k < CAP_SKIP__N; k++)
				info->skipped_packets += cs->skipped[k];
		}
		L.id_base += reasm_totals(r)->flows;
		reasm_free(r);
		capture_free(cap);
	}
	plan_finish(plan);
	return rc;
}
