/* plan.c: the replay plan model; see plan.h. */
#include "replay/plan.h"

#include "replay/tcpgen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1u << 20)

struct plan_chunk {
	struct plan_chunk *next;
	size_t used, cap;
	uint8_t data[];
};

/* n bytes, 16-aligned, from the plan's chunks: freed only with the plan. */
static void *plan_alloc(struct plan *p, size_t n)
{
	struct plan_chunk *c = p->chunks;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > CHUNK ? n : CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = p->chunks;
		p->chunks = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

struct plan *plan_new(void)
{
	return calloc(1, sizeof(struct plan));
}

void plan_free(struct plan *p)
{
	struct plan_chunk *c, *n;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nflows; i++)
		free(p->flow[i]->seg);
	for (c = p->chunks; c; c = n) {
		n = c->next;
		free(c);
	}
	free(p->flow);
	free(p);
}

struct plan_flow *plan_add_flow(struct plan *p, const struct plan_flow *proto)
{
	struct plan_flow *f;

	if (p->nflows == p->cap_flows) {
		size_t cap = p->cap_flows ? p->cap_flows * 2 : 64;
		struct plan_flow **nf = realloc(p->flow, cap * sizeof(*nf));

		if (!nf)
			return NULL;
		p->flow = nf;
		p->cap_flows = cap;
	}
	f = plan_alloc(p, sizeof(*f));
	if (!f)
		return NULL;
	*f = *proto;
	f->seg = NULL;
	f->nseg = f->cap_seg = 0;
	f->bytes = 0;
	p->flow[p->nflows++] = f;
	if (!p->first_ts_ns || (f->first_ts_ns && f->first_ts_ns < p->first_ts_ns))
		p->first_ts_ns = f->first_ts_ns;
	return f;
}

int plan_add_data(struct plan *p, struct plan_flow *f, uint64_t off,
		  const uint8_t *data, size_t n, uint64_t ts_ns)
{
	struct plan_seg *s;
	uint8_t *copy;

	if (!n)
		return 0;
	if (f->truncated || off != f->bytes) {
		/* after a hole, or not contiguous: never replayed */
		if (!f->truncated) {
			f->truncated = true;
			f->gap_off = f->bytes;
			f->gap_len = off > f->bytes ? off - f->bytes : 0;
		}
		f->lost_bytes += n;
		return 0;
	}
	if (f->nseg == f->cap_seg) {
		uint32_t cap = f->cap_seg ? f->cap_seg * 2 : 8;
		struct plan_seg *ns = realloc(f->seg, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		f->seg = ns;
		f->cap_seg = cap;
	}
	copy = plan_alloc(p, n);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, n);
	s = &f->seg[f->nseg++];
	s->off = off;
	s->ts_ns = ts_ns;
	s->data = copy;
	s->len = (uint32_t)n;
	s->sum = tcpgen_sum(copy, n, 0);
	f->bytes += n;
	if (n > p->max_seg_len)
		p->max_seg_len = (uint32_t)n;
	if (ts_ns > p->last_ts_ns)
		p->last_ts_ns = ts_ns;
	return 0;
}

void plan_add_gap(struct plan_flow *f, uint64_t off, uint64_t len)
{
	if (f->truncated)
		return;
	if (off <= f->bytes) {
		f->truncated = true;
		f->gap_off = off;
		f->gap_len = len;
	}
}

void plan_finish(struct plan *p)
{
	size_t i;

	p->segments = p->bytes = 0;
	for (i = 0; i < p->nflows; i++) {
		struct plan_flow *f = p->flow[i];

		if (f->skip == PLAN_OK && f->nseg == 0)
			f->skip = f->truncated && f->gap_off == 0 ? PLAN_SKIP_GAP_AT_START
								  : PLAN_SKIP_NO_DATA;
		if (f->skip != PLAN_OK)
			continue;
		p->segments += f->nseg;
		p->bytes += f->bytes;
	}
}

const char *plan_skip_name(enum plan_skip s)
{
	switch (s) {
	case PLAN_OK: return "ok";
	case PLAN_SKIP_NO_DATA: return "no client payload";
	case PLAN_SKIP_GAP_AT_START: return "first client bytes not captured";
	case PLAN_SKIP_LIMIT: return "beyond --limit-flows";
	}
	return "?";
}
