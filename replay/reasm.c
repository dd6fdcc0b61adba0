/*
 * reasm.c: TCP reassembly (see reasm.h for the contract).
 *
 * Flows live in a chained hash table keyed by the 4-tuple (hashed in a
 * canonical order so both directions land in the same bucket) and on an
 * LRU list ordered by last packet, which makes the idle sweep and the
 * max_flows eviction O(1) per packet.
 *
 * Each direction keeps next_off (the next stream offset to deliver) and a
 * sorted list of disjoint buffered pieces ahead of it.  A segment is cut
 * into the pieces nobody has seen yet (the first copy of a byte wins):
 * pieces at next_off are delivered straight from the packet, without a
 * copy; pieces ahead of a hole are copied into the list.
 */
#include "replay/reasm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * A flow closed by FIN/RST stays as a tombstone to absorb its last ACK or
 * a repeated RST (they follow within a round trip), for at most
 * TOMB_NS of capture time and at most TOMB_MAX of them at once, so the
 * memory they hold does not grow with the rate of connections.
 */
#define TOMB_NS  (10ULL * 1000000000ULL)	/* 10 s, ns */
#define TOMB_MAX 16384

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

/* One buffered piece: bytes [off, off+len) of a direction, data follows
 * (or, for bytes cut by snaplen, nothing: missing). */
struct seg {
	struct seg *next;
	uint64_t off;
	uint32_t len;
	bool missing;
	uint8_t data[];
};

struct dstate {
	bool base_known;
	uint32_t base_seq;	/* sequence number of stream offset 0 */
	uint64_t next_off;	/* next offset to deliver */
	struct seg *head, *tail;
	uint64_t buf_bytes;	/* charged against max_reorder_bytes */
	bool fin;
	uint64_t fin_off;	/* offset just past the last byte, when fin */
};

struct flow {
	struct flow_info info;		/* handed to the consumer */
	struct flow *hnext;		/* hash chain */
	struct flow *lprev, *lnext;	/* LRU list, oldest first */
	struct flow *tprev, *tnext;	/* tombstones, oldest close first */
	uint64_t closed_ns;
	uint64_t hash;
	uint64_t last_ns;		/* last packet, capture time */
	bool closed;			/* tombstone after FIN/RST */
	struct dstate d[2];
};

struct reasm {
	struct reasm_config cfg;
	struct reasm_ops ops;
	void *ctx;
	struct flow **buckets;
	size_t nbuckets;		/* power of two */
	size_t nflows;			/* in the table, tombstones included */
	struct flow *lru_head, *lru_tail;
	struct flow *tomb_head, *tomb_tail;
	size_t ntombs;
	uint64_t now_ns;		/* latest capture time seen */
	uint64_t buffered;		/* reorder bytes in all flows */
	uint64_t next_id;
	struct reasm_totals t;
};

/* ---- keys and hashing ---- */

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static uint64_t mix64(uint64_t h)
{
	/* splitmix64 finaliser: cheap and spreads low-entropy port bits */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static uint64_t hash_end(const uint8_t *a, uint16_t port, size_t alen)
{
	uint64_t h = port, w;
	size_t i;

	for (i = 0; i < alen; i += 4) {
		uint32_t v;
		memcpy(&v, a + i, 4);
		w = v;
		h = mix64(h ^ (w << 16) ^ (w >> 7));
	}
	return h;
}

/* Symmetric: the same for both directions of a flow. */
static uint64_t flow_hash(const struct cap_pkt *p)
{
	size_t alen = addr_len(p->family);
	uint64_t a = hash_end(p->src, p->sport, alen);
	uint64_t b = hash_end(p->dst, p->dport, alen);

	return mix64((a + b) ^ (a ^ b) << 1 ^ (uint64_t)p->family);
}

/* Which direction pkt goes in flow f, or -1 when it is not f's. */
static int flow_match(const struct flow *f, const struct cap_pkt *p)
{
	size_t alen = addr_len(p->family);
	const struct flow_info *i = &f->info;

	if (i->family != p->family)
		return -1;
	if (p->sport == i->cport && p->dport == i->sport &&
	    !memcmp(p->src, i->caddr, alen) && !memcmp(p->dst, i->saddr, alen))
		return DIR_C2S;
	if (p->sport == i->sport && p->dport == i->cport &&
	    !memcmp(p->src, i->saddr, alen) && !memcmp(p->dst, i->caddr, alen))
		return DIR_S2C;
	return -1;
}

/* ---- table and LRU ---- */

static void lru_unlink(struct reasm *r, struct flow *f)
{
	if (f->lprev)
		f->lprev->lnext = f->lnext;
	else
		r->lru_head = f->lnext;
	if (f->lnext)
		f->lnext->lprev = f->lprev;
	else
		r->lru_tail = f->lprev;
	f->lprev = f->lnext = NULL;
}

static void lru_append(struct reasm *r, struct flow *f)
{
	f->lprev = r->lru_tail;
	f->lnext = NULL;
	if (r->lru_tail)
		r->lru_tail->lnext = f;
	else
		r->lru_head = f;
	r->lru_tail = f;
}

static int table_grow(struct reasm *r)
{
	size_t n = r->nbuckets ? r->nbuckets * 2 : 1024, i;
	struct flow **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return -ENOMEM;
	for (i = 0; i < r->nbuckets; i++) {
		struct flow *f = r->buckets[i], *next;
		for (; f; f = next) {
			next = f->hnext;
			f->hnext = nb[f->hash & (n - 1)];
			nb[f->hash & (n - 1)] = f;
		}
	}
	free(r->buckets);
	r->buckets = nb;
	r->nbuckets = n;
	return 0;
}

static void tomb_unlink(struct reasm *r, struct flow *f)
{
	if (f->tprev)
		f->tprev->tnext = f->tnext;
	else
		r->tomb_head = f->tnext;
	if (f->tnext)
		f->tnext->tprev = f->tprev;
	else
		r->tomb_tail = f->tprev;
	f->tprev = f->tnext = NULL;
	r->ntombs--;
}

static void table_remove(struct reasm *r, struct flow *f)
{
	struct flow **pp = &r->buckets[f->hash & (r->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == f) {
			*pp = f->hnext;
			break;
		}
	lru_unlink(r, f);
	if (f->closed)
		tomb_unlink(r, f);
	r->nflows--;
}

static void dstate_clear(struct reasm *r, struct dstate *d)
{
	struct seg *s = d->head, *next;

	for (; s; s = next) {
		next = s->next;
		free(s);
	}
	d->head = d->tail = NULL;
	r->buffered -= d->buf_bytes;
	d->buf_bytes = 0;
}

static void flow_destroy(struct reasm *r, struct flow *f)
{
	table_remove(r, f);
	dstate_clear(r, &f->d[0]);
	dstate_clear(r, &f->d[1]);
	free(f);
}

/* ---- delivery ---- */

static void emit_gap(struct reasm *r, struct flow *f, int dir, uint64_t off,
		     uint64_t len)
{
	if (!len)
		return;
	f->info.dir[dir].gaps++;
	f->info.dir[dir].gap_bytes += len;
	if (r->ops.gap)
		r->ops.gap(r->ctx, &f->info, dir, off, len);
}

static void emit_data(struct reasm *r, struct flow *f, int dir, uint64_t off,
		      const uint8_t *p, size_t n, uint64_t ts)
{
	if (!n)
		return;
	f->info.dir[dir].payload_bytes += n;
	if (r->ops.data)
		r->ops.data(r->ctx, &f->info, dir, off, p, n, ts);
}

/* Delivers buffered pieces that now start at next_off. */
static void drain(struct reasm *r, struct flow *f, int dir, uint64_t ts)
{
	struct dstate *d = &f->d[dir];
	struct seg *s;

	while ((s = d->head) && s->off <= d->next_off) {
		/* pieces are disjoint and were all ahead of next_off when
		 * buffered, so s->off == next_off here */
		if (s->missing)
			emit_gap(r, f, dir, s->off, s->len);
		else
			emit_data(r, f, dir, s->off, s->data, s->len, ts);
		d->next_off = s->off + s->len;
		d->head = s->next;
		if (!d->head)
			d->tail = NULL;
		if (!s->missing) {
			uint64_t c = s->len + sizeof(*s);
			d->buf_bytes -= c;
			r->buffered -= c;
		}
		free(s);
	}
}

/* Everything buffered goes out now, holes as gaps (close, cap). */
static void flush_holes(struct reasm *r, struct flow *f, int dir, uint64_t ts,
			bool to_fin)
{
	struct dstate *d = &f->d[dir];

	while (d->head) {
		emit_gap(r, f, dir, d->next_off, d->head->off - d->next_off);
		d->next_off = d->head->off;
		drain(r, f, dir, ts);
	}
	if (to_fin && d->fin && d->fin_off > d->next_off) {
		emit_gap(r, f, dir, d->next_off, d->fin_off - d->next_off);
		d->next_off = d->fin_off;
	}
}

static int buffer_piece(struct reasm *r, struct flow *f, int dir,
			struct seg **pp, uint64_t off, const uint8_t *p,
			uint32_t n)
{
	struct dstate *d = &f->d[dir];
	struct seg *s = malloc(sizeof(*s) + (p ? n : 0));

	if (!s)
		return -ENOMEM;
	s->off = off;
	s->len = n;
	s->missing = !p;
	if (p) {
		memcpy(s->data, p, n);
		d->buf_bytes += n + sizeof(*s);
		r->buffered += n + sizeof(*s);
		if (r->buffered > r->t.reorder_bytes_peak)
			r->t.reorder_bytes_peak = r->buffered;
	}
	s->next = *pp;
	*pp = s;
	if (!s->next)
		d->tail = s;
	return 0;
}

/*
 * Bytes [off, off+n) of direction dir (p NULL: cut by snaplen).  Adds to
 * *fresh the bytes nobody had seen and to *queued those buffered ahead of
 * a hole.
 */
static int take_range(struct reasm *r, struct flow *f, int dir, uint64_t off,
		      const uint8_t *p, uint64_t n, uint64_t ts,
		      uint64_t *fresh, uint64_t *queued)
{
	struct dstate *d = &f->d[dir];
	const uint64_t off0 = off;
	uint64_t end = off + n;
	struct seg **pp, *s;

#define AT(x) (p ? p + ((x) - off0) : NULL)
	if (d->fin && end > d->fin_off)
		end = d->fin_off;
	if (off < d->next_off)
		off = d->next_off;
	/* In order: straight from the packet, then whatever it unblocked;
	 * bytes a buffered piece already holds are skipped (first copy). */
	while (off < end && off == d->next_off) {
		uint64_t stop = end;
		if (d->head && d->head->off < stop)
			stop = d->head->off;
		if (p)
			emit_data(r, f, dir, off, AT(off), stop - off, ts);
		else
			emit_gap(r, f, dir, off, stop - off);
		*fresh += stop - off;
		d->next_off = stop;
		drain(r, f, dir, ts);
		off = d->next_off;
	}
	if (off >= end)
		return 0;

	/* Ahead of a hole: buffer the pieces not already buffered.  Most
	 * out-of-order segments land after the last piece: start there. */
	if (d->tail && off >= d->tail->off + d->tail->len)
		pp = &d->tail->next;
	else
		pp = &d->head;
	while (off < end) {
		uint64_t stop, m;
		int rc;

		s = *pp;
		if (s && s->off + s->len <= off) {
			pp = &s->next;
			continue;
		}
		if (s && s->off <= off) {	/* covered by s */
			off = s->off + s->len;
			pp = &s->next;
			continue;
		}
		stop = s && s->off < end ? s->off : end;
		/* a piece is at most 4 GiB - 64 KiB: seg.len is 32-bit */
		m = stop - off > 0xffff0000u ? 0xffff0000u : stop - off;
		rc = buffer_piece(r, f, dir, pp, off, AT(off), (uint32_t)m);
		if (rc < 0)
			return rc;
		pp = &(*pp)->next;
		*fresh += m;
		*queued += m;
		off += m;
	}
#undef AT
	return 0;
}

/* A FIN at fin_off: buffered bytes past it cannot be data. */
static void trim_after_fin(struct reasm *r, struct dstate *d)
{
	struct seg **pp = &d->head, *s;

	d->tail = NULL;
	while ((s = *pp)) {
		if (s->off >= d->fin_off) {
			*pp = s->next;
			if (!s->missing) {
				d->buf_bytes -= s->len + sizeof(*s);
				r->buffered -= s->len + sizeof(*s);
			}
			free(s);
			continue;
		}
		if (s->off + s->len > d->fin_off) {
			uint32_t cut = (uint32_t)(s->off + s->len - d->fin_off);
			s->len -= cut;
			if (!s->missing) {
				d->buf_bytes -= cut;
				r->buffered -= cut;
			}
		}
		d->tail = s;
		pp = &s->next;
	}
}

/* ---- flow life ---- */

static void flow_close(struct reasm *r, struct flow *f, enum flow_end end,
		       bool tombstone)
{
	flush_holes(r, f, DIR_C2S, f->last_ns, true);
	flush_holes(r, f, DIR_S2C, f->last_ns, true);
	f->info.end = end;
	r->t.flows_open_now--;
	if (r->ops.close)
		r->ops.close(r->ctx, &f->info);
	f->info.user = NULL;
	if (tombstone) {
		f->closed = true;
		f->closed_ns = f->last_ns;
		dstate_clear(r, &f->d[0]);
		dstate_clear(r, &f->d[1]);
		f->tprev = r->tomb_tail;
		f->tnext = NULL;
		if (r->tomb_tail)
			r->tomb_tail->tnext = f;
		else
			r->tomb_head = f;
		r->tomb_tail = f;
		r->ntombs++;
	} else {
		flow_destroy(r, f);
	}
}

static void flow_retire(struct reasm *r, struct flow *f, enum flow_end end)
{
	if (f->closed)
		flow_destroy(r, f);
	else
		flow_close(r, f, end, false);
}

/* Score how much a port looks like a server's (higher: more). */
static int port_score(uint16_t port)
{
	/* ports commonly served that are not below 1024 */
	static const uint16_t known[] = {
		1080, 1433, 2375, 3000, 3128, 3306, 4000, 5000, 5432, 5601,
		5672, 6379, 8000, 8008, 8080, 8081, 8088, 8443, 8888, 9000,
		9090, 9200, 11211, 27017,
	};
	size_t i;

	if (port < 1024)
		return 3;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i] == port)
			return 2;
	/* Linux ephemeral ports start at 32768 (ip_local_port_range) */
	return port < 32768 ? 1 : 0;
}

static int flow_create(struct reasm *r, const struct cap_pkt *p, uint64_t h,
		       struct flow **out)
{
	struct flow *f;
	bool src_is_client;
	size_t alen = addr_len(p->family);
	int rc;

	if (r->nflows >= r->cfg.max_flows && r->lru_head)
		flow_retire(r, r->lru_head, FLOW_END_EVICTED);
	if (r->nflows + 1 > r->nbuckets && (rc = table_grow(r)) < 0)
		return rc;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;

	if ((p->flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		src_is_client = true;
		f->info.syn_seen = true;
	} else if ((p->flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
		src_is_client = false;
	} else {
		int ss = port_score(p->sport), ds = port_score(p->dport);
		f->info.roles_guessed = true;
		if (ss != ds)
			src_is_client = ss < ds;
		else if (p->sport != p->dport)
			src_is_client = p->sport > p->dport;
		else
			src_is_client = true;
	}
	f->info.id = ++r->next_id;
	f->info.family = p->family;
	memcpy(f->info.caddr, src_is_client ? p->src : p->dst, alen);
	memcpy(f->info.saddr, src_is_client ? p->dst : p->src, alen);
	f->info.cport = src_is_client ? p->sport : p->dport;
	f->info.sport = src_is_client ? p->dport : p->sport;
	f->info.wscale[0] = f->info.wscale[1] = -1;
	f->info.first_ts_ns = p->ts_ns;
	f->hash = h;
	f->hnext = r->buckets[h & (r->nbuckets - 1)];
	r->buckets[h & (r->nbuckets - 1)] = f;
	lru_append(r, f);
	r->nflows++;
	r->t.flows++;
	r->t.flows_open_now++;
	if (r->t.flows_open_now > r->t.flows_peak)
		r->t.flows_peak = r->t.flows_open_now;
	if (r->ops.open)
		r->ops.open(r->ctx, &f->info);
	*out = f;
	return 0;
}

/* Closes idle flows, oldest first (capture time); drops old tombstones. */
static void expire_idle(struct reasm *r)
{
	while (r->tomb_head && (r->ntombs > TOMB_MAX ||
				r->tomb_head->closed_ns + TOMB_NS < r->now_ns))
		flow_destroy(r, r->tomb_head);
	while (r->lru_head &&
	       r->lru_head->last_ns + r->cfg.idle_timeout_ns < r->now_ns)
		flow_retire(r, r->lru_head, FLOW_END_IDLE);
}

static bool dir_done(const struct dstate *d, const struct flow_dir_stats *s)
{
	return s->rst || (d->fin && !d->head && d->next_off >= d->fin_off);
}

int reasm_feed(struct reasm *r, const struct cap_pkt *p)
{
	uint64_t h = flow_hash(p), fresh = 0, queued = 0, seglen;
	int64_t off;
	struct flow *f;
	struct dstate *d;
	struct flow_dir_stats *st;
	uint32_t seq;
	int dir = -1, rc;
	bool syn = p->flags & TH_SYN, rst = p->flags & TH_RST;

	if (p->skip != CAP_SKIP_NONE)
		return -EINVAL;
	if (p->ts_ns > r->now_ns) {
		r->now_ns = p->ts_ns;
		expire_idle(r);
	}
	for (f = r->buckets[h & (r->nbuckets - 1)]; f; f = f->hnext)
		if (f->hash == h && (dir = flow_match(f, p)) >= 0)
			break;

	/* A new connection on a 4-tuple seen before: a new flow.  A SYN
	 * repeating the one we have (same ISN) is a retransmission. */
	if (f && syn && !(p->flags & TH_ACK)) {
		if (f->closed) {
			flow_destroy(r, f);
			f = NULL;
		} else if (!(dir == DIR_C2S && f->info.syn_seen &&
			     f->info.isn[DIR_C2S] == p->seq)) {
			flow_close(r, f, FLOW_END_REUSED, false);
			f = NULL;
		}
	}
	if (f && f->closed) {
		r->t.after_close++;
		f->last_ns = p->ts_ns;
		lru_unlink(r, f);
		lru_append(r, f);
		return 0;
	}
	if (!f) {
		if (rst && !syn && !p->payload_len && !p->payload_missing) {
			r->t.dropped_no_flow++;
			return 0;
		}
		if ((rc = flow_create(r, p, h, &f)) < 0)
			return rc;
		dir = flow_match(f, p);
	}
	f->last_ns = p->ts_ns;
	f->info.last_ts_ns = p->ts_ns;
	lru_unlink(r, f);
	lru_append(r, f);

	d = &f->d[dir];
	st = &f->info.dir[dir];
	st->packets++;
	seq = p->seq;
	if (syn) {
		/* The SYN fixes offset 0, unless data was taken before it
		 * (then it only records the ISN). */
		if (!d->base_known || (d->next_off == 0 && !d->head)) {
			d->base_known = true;
			d->base_seq = p->seq + 1;
		}
		f->info.isn[dir] = p->seq;
		if (dir == DIR_C2S && !(p->flags & TH_ACK))
			f->info.syn_seen = true;
		if (p->mss)
			f->info.mss[dir] = p->mss;
		f->info.wscale[dir] = p->wscale;
		seq++;	/* the SYN takes one sequence number (RFC 9293 §3.4) */
	} else if (!d->base_known) {
		d->base_known = true;
		d->base_seq = p->seq;
	}

	/* Stream offset of this segment's first byte: its distance from
	 * next_off's sequence number as a signed 32-bit value (serial
	 * arithmetic, RFC 1982), so the stream may wrap the 32-bit space.
	 * It can be negative for bytes before a mid-stream start. */
	off = (int64_t)d->next_off +
	      (int32_t)(seq - (d->base_seq + (uint32_t)d->next_off));
	seglen = (uint64_t)p->payload_len + p->payload_missing;
	if (seglen) {
		const uint8_t *pl = p->payload;
		int64_t o = off;
		uint64_t plen = p->payload_len, miss = p->payload_missing;

		st->data_segments++;
		if (miss) {
			st->truncated++;
			st->missing_bytes += miss;
		}
		if (o < 0) {	/* the part before offset 0 is old */
			uint64_t back = -o;
			if (back >= plen) {
				miss = back - plen >= miss ? 0 : miss - (back - plen);
				plen = 0;
			} else {
				pl += back;
				plen -= back;
			}
			o = 0;
		}
		if (plen && (rc = take_range(r, f, dir, o, pl, plen, p->ts_ns,
					     &fresh, &queued)) < 0)
			return rc;
		if (miss && (rc = take_range(r, f, dir, o + plen, NULL, miss,
					     p->ts_ns, &fresh, &queued)) < 0)
			return rc;
		if (!fresh)
			st->retransmits++;
		else if (fresh < seglen)
			st->overlaps++;
		if (queued)
			st->out_of_order++;
	}
	if ((p->flags & TH_FIN) && !d->fin) {
		int64_t fo = off + (int64_t)seglen;

		d->fin = true;
		st->fin = true;
		d->fin_off = fo < (int64_t)d->next_off ? d->next_off : (uint64_t)fo;
		trim_after_fin(r, d);
	}
	if (rst) {
		st->rst = true;
		flow_close(r, f, FLOW_END_RST, true);
		return 0;
	}
	/* The reorder cap: give up on the oldest hole. */
	while (d->buf_bytes > r->cfg.max_reorder_bytes && d->head) {
		emit_gap(r, f, dir, d->next_off, d->head->off - d->next_off);
		d->next_off = d->head->off;
		drain(r, f, dir, p->ts_ns);
	}
	if (dir_done(&f->d[0], &f->info.dir[0]) &&
	    dir_done(&f->d[1], &f->info.dir[1]))
		flow_close(r, f, FLOW_END_FIN, true);
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	const struct flow *x = *(struct flow *const *)a;
	const struct flow *y = *(struct flow *const *)b;

	return x->info.id < y->info.id ? -1 : x->info.id > y->info.id;
}

void reasm_finish(struct reasm *r)
{
	struct flow **v, *f;
	size_t n = 0, i;

	if (!r->nflows)
		return;
	/* close in flow id order so the consumer's output is stable */
	v = malloc(r->nflows * sizeof(*v));
	if (!v) {
		while (r->lru_head)
			flow_retire(r, r->lru_head, FLOW_END_OPEN);
		return;
	}
	for (f = r->lru_head; f; f = f->lnext)
		v[n++] = f;
	qsort(v, n, sizeof(*v), cmp_id);
	for (i = 0; i < n; i++) {
		f = v[i];
		if (f->closed)
			flow_destroy(r, f);
		else
			flow_close(r, f, f->d[0].fin && f->d[1].fin ?
				   FLOW_END_FIN : FLOW_END_OPEN, false);
	}
	free(v);
}

int reasm_new(struct reasm **out, const struct reasm_config *cfg,
	      const struct reasm_ops *ops, void *ctx)
{
	struct reasm *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->cfg.max_reorder_bytes = 4u << 20;
	r->cfg.idle_timeout_ns = 300ULL * 1000000000ULL;
	r->cfg.max_flows = 1u << 20;
	if (cfg) {
		if (cfg->max_reorder_bytes)
			r->cfg.max_reorder_bytes = cfg->max_reorder_bytes;
		if (cfg->idle_timeout_ns)
			r->cfg.idle_timeout_ns = cfg->idle_timeout_ns;
		if (cfg->max_flows)
			r->cfg.max_flows = cfg->max_flows;
	}
	if (ops)
		r->ops = *ops;
	r->ctx = ctx;
	if ((rc = table_grow(r)) < 0) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

const struct reasm_totals *reasm_totals(const struct reasm *r)
{
	return &r->t;
}

void reasm_free(struct reasm *r)
{
	if (!r)
		return;
	while (r->lru_head)
		flow_destroy(r, r->lru_head);
	free(r->buckets);
	free(r);
}
