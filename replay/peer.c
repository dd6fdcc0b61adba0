/* peer.c: the live TCP peer, packet path (the socket path is peer_socket.c); see peer.h. */
#include "replay/peer.h"

#include "lib/time.h"
#include "replay/netns.h"
#include "replay/peer_sched.h"
#include "replay/tcpgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

/* Gap and lateness percentiles come from a uniform reservoir sample of
 * this many segments (Vitter's algorithm R): memory stays constant however
 * long the run, and 64 Ki samples put p99 within a few hundredths of a
 * percentile of the true one.  The maxima are tracked exactly. */
#define MAX_GAP_SAMPLES (1u << 16)
#define FLUSH_BATCH 64		/* frames queued before a sendto() kick */
#define OUR_WSCALE 7		/* we consume everything: advertise 8 MiB */

/* --- the (family, client address number, port) -> slot table --- */

struct ptab {
	uint64_t *key;		/* 0 = empty */
	int32_t *val;		/* slot, or -1 once the flow is over */
	uint32_t cap, n;
};

static uint32_t mix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (uint32_t)k;
}

static int ptab_grow(struct ptab *t)
{
	uint32_t cap = t->cap ? t->cap * 2 : 4096, i;
	uint64_t *k = calloc(cap, sizeof(*k));
	int32_t *v = calloc(cap, sizeof(*v));

	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < t->cap; i++) {
		uint32_t h;

		if (!t->key[i])
			continue;
		for (h = mix64(t->key[i]) & (cap - 1); k[h]; h = (h + 1) & (cap - 1))
			;
		k[h] = t->key[i];
		v[h] = t->val[i];
	}
	free(t->key);
	free(t->val);
	t->key = k;
	t->val = v;
	t->cap = cap;
	return 0;
}

static int32_t *ptab_find(struct ptab *t, uint64_t key)
{
	uint32_t h;

	if (!t->cap)
		return NULL;
	for (h = mix64(key) & (t->cap - 1); t->key[h]; h = (h + 1) & (t->cap - 1))
		if (t->key[h] == key)
			return &t->val[h];
	return NULL;
}

static int ptab_put(struct ptab *t, uint64_t key, int32_t val)
{
	uint32_t h;

	if ((t->n + 1) * 2 > t->cap && ptab_grow(t) < 0)
		return -ENOMEM;
	for (h = mix64(key) & (t->cap - 1); t->key[h]; h = (h + 1) & (t->cap - 1))
		;
	t->key[h] = key;
	t->val[h] = val;
	t->n++;
	return 0;
}

static void ptab_free(struct ptab *t)
{
	free(t->key);
	free(t->val);
}

static uint64_t flow_key(int family, uint32_t idx, uint16_t port)
{
	return 1ull << 40 | (uint64_t)(family == AF_INET6) << 32 | (uint64_t)idx << 16 | port;
}

/* --- shared scheduling state --- */

int peer_sched_init(struct sched *s, const struct plan *plan, const struct peer_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	s->plan = plan;
	s->cfg = cfg;
	s->loops = cfg->loops ? cfg->loops : 1;
	s->total = (uint64_t)plan->nflows * s->loops;
	s->t0 = pm_now_ns();
	if (cfg->timing == PEER_SCALED) {
		uint64_t span = plan->last_ts_ns > plan->first_ts_ns ? plan->last_ts_ns - plan->first_ts_ns : 0;

		/* the next pass starts one ms after the last packet of this one */
		s->loop_ns = (uint64_t)((double)span / cfg->speed) + 1000000;
	}
	if (cfg->timing == PEER_PPS && cfg->pps > 0) {
		s->pps_step = (uint64_t)(1e9 / cfg->pps);
		s->pps_next = s->t0;
	}
	/* one sample per data segment, up to MAX_GAP_SAMPLES */
	s->cap = plan->segments * s->loops < MAX_GAP_SAMPLES ? (uint32_t)(plan->segments * s->loops) + 1
							      : MAX_GAP_SAMPLES;
	s->rng = 0x9e3779b97f4a7c15ull;
	s->gaps = malloc(s->cap * sizeof(uint64_t));
	s->late = malloc(s->cap * sizeof(uint64_t));
	if (!s->gaps || !s->late) {
		free(s->gaps);
		free(s->late);
		return -ENOMEM;
	}
	return 0;
}

/* The k-th smallest of v[0..n) (Hoare's selection, median-of-three
 * pivot), leaving v partitioned around it: O(n) on average where a sort
 * of the 64 Ki reservoir cost ~100 ns per data segment of a short run. */
static uint64_t select_kth(uint64_t *v, uint32_t n, uint32_t k)
{
	uint32_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		uint64_t a = v[lo], b = v[mid], c = v[hi], piv, t;

		piv = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
		while (i <= j) {
			while (v[i] < piv)
				i++;
			while (v[j] > piv)
				j--;
			if (i <= j) {
				t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return v[k];
	}
	return v[k];
}

/* Percentile p of v[0..n) by rank round(p/100 (n-1)); v is reordered. */
static uint64_t pct(uint64_t *v, uint32_t n, double p)
{
	if (!n)
		return 0;
	return select_kth(v, n, (uint32_t)(p / 100.0 * (n - 1) + 0.5));
}

void peer_sched_finish(struct sched *s, struct peer_stats *st)
{
	st->gap_samples = s->seen_gaps;
	st->gap_p50 = pct(s->gaps, s->ngaps, 50);
	st->gap_p90 = pct(s->gaps, s->ngaps, 90);
	st->gap_p99 = pct(s->gaps, s->ngaps, 99);
	st->gap_max = s->gap_max;
	st->late_p50 = pct(s->late, s->nlate, 50);
	st->late_p99 = pct(s->late, s->nlate, 99);
	st->late_max = s->late_max;
	free(s->gaps);
	free(s->late);
}

const char *peer_status_name(enum peer_flow_status s)
{
	switch (s) {
	case PEER_FLOW_PENDING: return "not started";
	case PEER_FLOW_OK: return "ok";
	case PEER_FLOW_RESET: return "reset by the server";
	case PEER_FLOW_TIMEOUT: return "no ACK from the server (retransmissions exhausted)";
	case PEER_FLOW_ABORTED: return "interrupted";
	case PEER_FLOW_ERROR: return "local error";
	case PEER_FLOW_STALLED: return "stalled (no connect, ACK or answer within --flow-timeout)";
	}
	return "?";
}

/* ================= packet path ================= */

enum pstate { S_FREE = 0, S_SYN_SENT, S_ESTAB };

struct pflow {
	enum pstate state;
	uint32_t ri;			/* result index */
	uint32_t loop;
	const struct plan_flow *pf;
	struct tcpgen_flow tg;
	uint64_t key;
	uint32_t iss, irs, rcv_nxt;
	uint64_t una, nxt, max_sent;	/* client stream offsets; FIN = total */
	uint32_t si;			/* segment holding nxt */
	uint64_t wnd;			/* server window, bytes */
	uint8_t wscale;
	uint16_t smss;
	bool need_ack, fin_sent, fin_acked, srv_fin;
	uint64_t rto, rto_at, linger_at;
	uint32_t retries, dupacks;
	uint64_t retrans;
};

struct ppeer {
	struct sched s;
	const struct peer_cfg *cfg;
	struct txq *tx;
	struct peer_result *res;
	struct peer_stats *st;
	struct pflow *slot;
	uint32_t nslots, active;
	int32_t *free_slots;
	uint32_t nfree;
	struct ptab tab;
	/* captured client address -> live address number */
	struct ptab amap;
	/* cfg->client_addr: live address -> number, and number -> address */
	struct ptab rmap;
	uint8_t (*live)[16];
	uint32_t nlive;
	uint32_t next_idx[2];
	uint32_t queued;		/* frames since the last flush */
	uint64_t wake;			/* earliest timer/deadline seen this pass */
	uint64_t now;
	uint32_t max_frame;
	int err;			/* fatal transmit error */
	uint8_t srv[2][16];
};

static void wake_at(struct ppeer *p, uint64_t t)
{
	if (t && (!p->wake || t < p->wake))
		p->wake = t;
}

static int emit(struct ppeer *p, struct pflow *f, const struct tcpgen_seg *seg)
{
	uint8_t *slot = txq_slot(p->tx);
	int len, err;

	if (!slot) {
		if ((err = txq_flush(p->tx)) < 0)
			return err;
		p->queued = 0;
		err = txq_reap(p->tx);
		if (err < 0)
			return err;
		slot = txq_slot(p->tx);
		if (!slot)
			return -EAGAIN;
	}
	len = tcpgen_build(&f->tg, seg, slot, p->max_frame);
	if (len < 0)
		return len;
	if (p->cfg->tap)
		p->cfg->tap(p->cfg->tap_arg, slot, (uint32_t)len);
	if ((err = txq_commit(p->tx, (uint32_t)len)) < 0)
		return err;
	p->st->frames++;
	if (++p->queued >= FLUSH_BATCH) {
		p->queued = 0;
		if ((err = txq_flush(p->tx)) < 0)
			return err;
		err = txq_reap(p->tx);
		if (err < 0)
			return err;
	}
	return 0;
}

static int send_ctl(struct ppeer *p, struct pflow *f, uint32_t seq, uint8_t flags)
{
	struct tcpgen_seg s = { 0 };

	s.seq = seq;
	s.ack = (flags & TCPGEN_ACK) ? f->rcv_nxt : 0;
	s.flags = flags;
	s.win = 0xffff;
	s.wscale = -1;
	if (flags & TCPGEN_SYN) {
		s.mss = (uint16_t)(p->cfg->mss ? p->cfg->mss : 1460);
		s.wscale = OUR_WSCALE;
		s.win = 0xffff;	/* unscaled in a SYN (RFC 7323 section 2.2) */
	}
	return emit(p, f, &s);
}

static void flow_end(struct ppeer *p, struct pflow *f, enum peer_flow_status status)
{
	struct peer_result *r = &p->res[f->ri];
	int32_t *v = ptab_find(&p->tab, f->key);

	r->status = status;
	r->acked = f->una > f->pf->bytes ? f->pf->bytes : f->una;
	r->retransmits = f->retrans;
	if (status == PEER_FLOW_OK)
		p->st->flows_ok++;
	else
		p->st->flows_failed++;
	if (v)
		*v = -1;	/* the 4-tuple stays taken for the whole run */
	f->state = S_FREE;
	p->free_slots[p->nfree++] = (int32_t)(f - p->slot);
	p->active--;
	p->s.finished++;
}

static uint32_t seg_find(const struct plan_flow *pf, uint64_t off)
{
	uint32_t lo = 0, hi = pf->nseg;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (pf->seg[mid].off + pf->seg[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The family a flow is replayed in: the server's with cfg->family. */
static int live_family(const struct ppeer *p, const struct plan_flow *pf)
{
	return p->cfg->family ? p->cfg->family : pf->family;
}

static uint64_t addr_key(int family, const uint8_t a[16])
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ a[i]) * 1099511628211ull;
	return (h ^ (uint64_t)(family == AF_INET6)) | 1;
}

/* A new live address number: with cfg->client_addr, its address comes
 * from there (captured: the captured client's, NULL for an extra one) and
 * is remembered both ways, for on_packet(). */
static int new_idx(struct ppeer *p, int family, const uint8_t *captured, uint32_t *idx)
{
	int fam = family == AF_INET6, err;

	if (p->next_idx[fam] > 65534)
		return -EADDRNOTAVAIL;
	*idx = p->next_idx[fam]++;
	if (!p->cfg->client_addr)
		return 0;
	if (*idx >= p->nlive) {
		uint32_t n = p->nlive ? p->nlive * 2 : 256;
		uint8_t (*l)[16];

		while (n <= *idx)
			n *= 2;
		l = realloc(p->live, (size_t)n * sizeof(*l) * 2);
		if (!l)
			return -ENOMEM;
		p->live = l;
		p->nlive = n;
	}
	/* [2 * idx + fam]: both families number from 1 */
	if ((err = p->cfg->client_addr(p->cfg->client_addr_arg, family, *idx, captured,
				       p->live[2 * *idx + fam])) < 0)
		return err;
	return ptab_put(&p->rmap, addr_key(family, p->live[2 * *idx + fam]), (int32_t)*idx);
}

static void live_addr(const struct ppeer *p, int family, uint32_t idx, uint8_t out[16])
{
	if (p->cfg->client_addr)
		memcpy(out, p->live[2 * idx + (family == AF_INET6)], 16);
	else
		netns_client_addr(family, idx, out);
}

/* The live address number for a captured client address. */
static int client_idx(struct ppeer *p, const struct plan_flow *pf, uint32_t *idx)
{
	uint64_t h = 1469598103934665603ull;
	int fam = pf->family == AF_INET6, err;
	int32_t *v;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ pf->caddr[i]) * 1099511628211ull;
	h = (h ^ (uint64_t)fam) | 1;
	v = ptab_find(&p->amap, h);
	if (v) {
		*idx = (uint32_t)*v;
		return 0;
	}
	if ((err = new_idx(p, live_family(p, pf), pf->caddr, idx)) < 0)
		return err;
	return ptab_put(&p->amap, h, (int32_t)*idx);
}

static int start_flow(struct ppeer *p, uint32_t loop, uint32_t fi)
{
	const struct plan_flow *pf = p->s.plan->flow[fi];
	struct peer_result *r = &p->res[(uint64_t)loop * p->s.plan->nflows + fi];
	struct pflow *f;
	uint32_t idx, tries = 0;
	uint16_t port = pf->cport >= 1024 ? pf->cport : 1024;
	int family = live_family(p, pf), fam = family == AF_INET6, err;

	if ((err = client_idx(p, pf, &idx)) < 0)
		return err;
	while (ptab_find(&p->tab, flow_key(family, idx, port))) {
		/* taken earlier in this run (another flow, another loop):
		 * the next free port, then a new address */
		port = port == 65535 ? 1024 : port + 1;
		if (++tries == 64512) {
			if ((err = new_idx(p, family, NULL, &idx)) < 0)
				return err;
			tries = 0;
		}
	}
	if (port != pf->cport)
		p->st->ports_remapped++;

	f = &p->slot[p->free_slots[--p->nfree]];
	memset(f, 0, sizeof(*f));
	f->ri = (uint32_t)(r - p->res);
	f->loop = loop;
	f->pf = pf;
	f->tg.family = family;
	memcpy(f->tg.src_mac, p->cfg->src_mac ? p->cfg->src_mac : netns_client_mac, 6);
	memcpy(f->tg.dst_mac, p->cfg->dst_mac ? p->cfg->dst_mac : netns_server_mac, 6);
	live_addr(p, family, idx, f->tg.src);
	memcpy(f->tg.dst, p->srv[fam], 16);
	f->tg.sport = port;
	f->tg.dport = p->cfg->captured_port ? pf->sport : p->cfg->server_port[fam];
	tcpgen_flow_init(&f->tg);
	f->key = flow_key(family, idx, port);
	if ((err = ptab_put(&p->tab, f->key, (int32_t)(f - p->slot))) < 0)
		return err;
	if (p->cfg->add_client && (err = p->cfg->add_client(p->cfg->add_client_arg, family, f->tg.src)) < 0)
		return err;

	r->flow = fi;
	r->loop = loop;
	r->family = family;
	memcpy(r->addr, f->tg.src, 16);
	r->port = port;

	if (getrandom(&f->iss, sizeof(f->iss), 0) != sizeof(f->iss))
		f->iss = (uint32_t)pm_now_ns();
	f->rto = (uint64_t)(p->cfg->rto_min_ms ? p->cfg->rto_min_ms : 200) * 1000000;
	f->state = S_SYN_SENT;
	p->active++;
	p->st->flows_started++;
	if ((err = send_ctl(p, f, f->iss, TCPGEN_SYN)) < 0)
		return err;
	f->rto_at = p->now + f->rto;
	return 0;
}

static void rewind_to_una(struct pflow *f)
{
	f->nxt = f->una < f->pf->bytes ? f->una : f->pf->bytes;
	f->si = seg_find(f->pf, f->nxt);
	if (!f->fin_acked)
		f->fin_sent = false;
}

/* Sends what this flow may send now; ends it when it is over. */
static int pump(struct ppeer *p, struct pflow *f)
{
	const struct plan_flow *pf = f->pf;
	uint32_t maxret = p->cfg->max_retries ? p->cfg->max_retries : 8;
	uint64_t now = p->now;
	int err;

	if (f->state == S_SYN_SENT) {
		if (f->rto_at && now >= f->rto_at) {
			if (++f->retries > maxret) {
				flow_end(p, f, PEER_FLOW_TIMEOUT);
				return 0;
			}
			p->st->syn_retransmits++;
			f->rto *= 2;
			f->rto_at = now + f->rto;
			if ((err = send_ctl(p, f, f->iss, TCPGEN_SYN)) < 0)
				return err;
		}
		wake_at(p, f->rto_at);
		return 0;
	}

	if (f->rto_at && now >= f->rto_at) {
		if (++f->retries > maxret) {
			flow_end(p, f, PEER_FLOW_TIMEOUT);
			return 0;
		}
		f->rto *= 2;	/* RFC 6298 5.5: back off */
		f->rto_at = now + f->rto;
		if (f->una < f->max_sent || (f->fin_sent && !f->fin_acked)) {
			rewind_to_una(f);
		} else if (f->nxt < pf->bytes) {
			/* zero window: probe with an old byte's sequence number
			 * so the server answers with its window (RFC 9293 3.8.6.1) */
			if ((err = send_ctl(p, f, f->iss + (uint32_t)f->una, TCPGEN_ACK)) < 0)
				return err;
		}
	}

	while (f->nxt < pf->bytes) {
		const struct plan_seg *sg = &pf->seg[f->si];
		uint64_t end = sg->off + sg->len, cend = end, first = f->nxt >= f->max_sent;
		uint64_t dl = 0, w;
		struct tcpgen_seg s;

		if (first) {
			dl = deadline(&p->s, f->loop, sg->ts_ns);
			if ((w = pace_wait(&p->s, dl, now))) {
				wake_at(p, w);
				break;
			}
		}
		if (p->cfg->resegment && cend > f->nxt + p->cfg->resegment)
			cend = f->nxt + p->cfg->resegment;
		if (cend > f->nxt + f->smss)
			cend = f->nxt + f->smss;
		if (cend > f->una + f->wnd) {
			/* the server's window: split only when nothing is in
			 * flight (else its ACKs will open it) */
			if (f->una == f->nxt && f->una + f->wnd > f->nxt) {
				cend = f->una + f->wnd;
			} else {
				p->st->window_waits++;
				if (!f->rto_at)
					f->rto_at = now + f->rto;
				break;
			}
		}
		memset(&s, 0, sizeof(s));
		s.seq = f->iss + 1 + (uint32_t)f->nxt;
		s.ack = f->rcv_nxt;
		s.flags = TCPGEN_ACK | TCPGEN_PSH;
		s.win = 0xffff;
		s.wscale = -1;
		s.payload = sg->data + (f->nxt - sg->off);
		s.len = (uint32_t)(cend - f->nxt);
		if (f->nxt == sg->off && cend == end) {
			s.have_sum = 1;
			s.payload_sum = sg->sum;
		}
		err = emit(p, f, &s);
		if (err == -EAGAIN)
			return 0;	/* ring full: later */
		if (err < 0)
			return err;
		if (cend != end || f->nxt != sg->off)
			p->st->splits += first;
		if (first) {
			p->st->data_segments++;
			p->st->bytes += s.len;
			pace_sent(&p->s, p->st, dl);
		} else {
			p->st->retransmits++;
			f->retrans++;
		}
		f->nxt = cend;
		if (f->nxt > f->max_sent)
			f->max_sent = f->nxt;
		if (cend == end)
			f->si++;
		f->need_ack = false;
		if (!f->rto_at)
			f->rto_at = now + f->rto;
	}

	if (f->nxt == pf->bytes && !f->fin_sent) {
		if ((err = send_ctl(p, f, f->iss + 1 + (uint32_t)pf->bytes, TCPGEN_FIN | TCPGEN_ACK)) < 0)
			return err == -EAGAIN ? 0 : err;
		if (f->max_sent > pf->bytes)
			p->st->retransmits++, f->retrans++;
		f->fin_sent = true;
		f->max_sent = pf->bytes + 1;
		f->need_ack = false;
		if (!f->rto_at)
			f->rto_at = now + f->rto;
	}
	if (f->need_ack) {
		if ((err = send_ctl(p, f, f->iss + 1 + (uint32_t)f->nxt + (f->fin_sent ? 1 : 0), TCPGEN_ACK)) < 0)
			return err == -EAGAIN ? 0 : err;
		f->need_ack = false;
		p->st->acks_sent++;
	}
	if (f->fin_acked) {
		if (f->srv_fin) {
			flow_end(p, f, PEER_FLOW_OK);
			return 0;
		}
		if (!f->linger_at)
			f->linger_at = now + (uint64_t)(p->cfg->linger_ms ? p->cfg->linger_ms : 2000) * 1000000;
		if (now >= f->linger_at) {
			/* every byte is ACKed, the server keeps the connection
			 * open: close it hard */
			send_ctl(p, f, f->iss + 2 + (uint32_t)pf->bytes, TCPGEN_RST | TCPGEN_ACK);
			flow_end(p, f, PEER_FLOW_OK);
			return 0;
		}
		wake_at(p, f->linger_at);
	}
	wake_at(p, f->rto_at);
	return 0;
}

/* cfg->answer: a reply (ARP, NA) goes out at once if a slot is free;
 * when the ring is full it is dropped, and the server asks again. */
static int answer(struct ppeer *p, const struct rxq_pkt *pkt)
{
	uint8_t *slot = txq_slot(p->tx);
	int len;

	if (!slot)
		return 0;
	len = p->cfg->answer(p->cfg->answer_arg, pkt->data, pkt->caplen, slot, p->max_frame);
	if (len <= 0 || txq_commit(p->tx, (uint32_t)len) < 0)
		return 0;
	p->st->frames++;
	p->st->answers++;
	p->queued++;
	return len;
}

static void on_packet(void *ctx, const struct rxq_pkt *pkt)
{
	struct ppeer *p = ctx;
	struct tcpgen_rx rx;
	struct pflow *f;
	int32_t *v;
	uint32_t idx;
	uint64_t acked, total;
	int fam;

	p->st->rx_packets++;
	if (tcpgen_parse(pkt->data, pkt->caplen, pkt->wirelen, &rx) < 0) {
		if (!p->cfg->answer || answer(p, pkt) <= 0)
			p->st->rx_ignored++;
		return;
	}
	if (!p->cfg->captured_port && rx.sport != p->cfg->server_port[rx.family == AF_INET6]) {
		p->st->rx_ignored++;
		return;
	}
	fam = rx.family == AF_INET6;
	if (p->cfg->client_addr) {
		uint8_t a[16] = { 0 };

		memcpy(a, rx.dst, fam ? 16 : 4);
		v = ptab_find(&p->rmap, addr_key(rx.family, a));
		idx = v ? (uint32_t)*v : 0;
	} else {
		idx = fam ? (uint32_t)rx.dst[14] << 8 | rx.dst[15] : (uint32_t)rx.dst[2] << 8 | rx.dst[3];
	}
	v = ptab_find(&p->tab, flow_key(rx.family, idx, rx.dport));
	if (!v || *v < 0 || p->slot[*v].tg.dport != rx.sport) {
		p->st->rx_ignored++;
		return;
	}
	f = &p->slot[*v];
	total = f->pf->bytes;

	if (rx.flags & TCPGEN_RST) {
		flow_end(p, f, f->fin_acked ? PEER_FLOW_OK : PEER_FLOW_RESET);
		return;
	}
	if (f->state == S_SYN_SENT) {
		if ((rx.flags & (TCPGEN_SYN | TCPGEN_ACK)) == (TCPGEN_SYN | TCPGEN_ACK) &&
		    rx.ack == f->iss + 1) {
			f->irs = rx.seq;
			f->rcv_nxt = rx.seq + 1;
			f->wscale = rx.wscale >= 0 ? (uint8_t)rx.wscale : 0;
			f->wnd = rx.win;	/* never scaled in a SYN-ACK */
			f->smss = rx.mss ? rx.mss : 536;	/* RFC 9293 3.7.1 default */
			/* and no more than our own link carries (RFC 9293
			 * 3.7.1: the effective send MSS) */
			if (p->cfg->mss && f->smss > p->cfg->mss)
				f->smss = (uint16_t)p->cfg->mss;
			f->state = S_ESTAB;
			f->rto_at = 0;
			f->retries = 0;
			f->rto = (uint64_t)(p->cfg->rto_min_ms ? p->cfg->rto_min_ms : 200) * 1000000;
			f->need_ack = true;
		}
		return;
	}
	if (rx.flags & TCPGEN_SYN) {	/* our ACK of its SYN-ACK was lost */
		f->need_ack = true;
		return;
	}
	if (rx.flags & TCPGEN_ACK) {
		acked = (uint32_t)(rx.ack - (f->iss + 1));
		if (acked <= f->max_sent && acked <= total + 1) {
			if (acked > f->una) {
				f->una = acked;
				f->retries = 0;
				f->dupacks = 0;
				f->rto = (uint64_t)(p->cfg->rto_min_ms ? p->cfg->rto_min_ms : 200) * 1000000;
				f->rto_at = f->una < f->max_sent ? p->now + f->rto : 0;
				if (f->una == total + 1)
					f->fin_acked = true;
				if (f->nxt < f->una && f->una <= total) {
					f->nxt = f->una;
					f->si = seg_find(f->pf, f->nxt);
				}
			} else if (acked == f->una && rx.len == 0 && !(rx.flags & TCPGEN_FIN) &&
				   f->una < f->max_sent && ((uint64_t)rx.win << f->wscale) == f->wnd) {
				/* RFC 5681 3.2: the third duplicate ACK */
				if (++f->dupacks == 3)
					rewind_to_una(f);
			}
		}
		f->wnd = (uint64_t)rx.win << f->wscale;
	}
	if (rx.len || (rx.flags & TCPGEN_FIN)) {
		if (rx.seq == f->rcv_nxt) {
			f->rcv_nxt += rx.len;
			p->st->server_bytes += rx.len;
			if (rx.flags & TCPGEN_FIN) {
				f->rcv_nxt++;
				f->srv_fin = true;
			}
		}
		f->need_ack = true;
	}
}

int peer_run_packet(const struct plan *plan, const struct peer_cfg *cfg,
		    struct txq *tx, struct rxq *rx, struct peer_result *results,
		    struct peer_stats *st, volatile sig_atomic_t *stop)
{
	struct ppeer p;
	uint64_t start = pm_now_ns();
	uint32_t i;
	int err = 0;

	memset(&p, 0, sizeof(p));
	memset(st, 0, sizeof(*st));
	p.cfg = cfg;
	p.tx = tx;
	p.res = results;
	p.st = st;
	p.nslots = cfg->concurrency ? cfg->concurrency : 64;
	p.max_frame = TCPGEN_MAX_HDR + plan->max_seg_len;
	p.next_idx[0] = p.next_idx[1] = 1;
	netns_server_addr(AF_INET, p.srv[0]);
	netns_server_addr(AF_INET6, p.srv[1]);
	if (cfg->family) {
		memcpy(p.srv[0], cfg->server_addr, 16);
		memcpy(p.srv[1], cfg->server_addr, 16);
	}
	if ((err = peer_sched_init(&p.s, plan, cfg)) < 0)
		return err;
	memset(results, 0, p.s.total * sizeof(*results));
	p.slot = calloc(p.nslots, sizeof(*p.slot));
	p.free_slots = calloc(p.nslots, sizeof(*p.free_slots));
	if (!p.slot || !p.free_slots) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < p.nslots; i++)
		p.free_slots[p.nfree++] = (int32_t)(p.nslots - 1 - i);
	start = pm_now_ns();

	while (p.s.finished < p.s.total) {
		bool busy = false;
		uint64_t frames0 = st->frames;

		p.now = pm_now_ns();
		p.wake = 0;
		if (*stop) {
			st->interrupted = true;
			break;
		}
		/* new flows, in capture order, each at its deadline */
		while (p.nfree && p.s.next < p.s.total) {
			uint32_t loop = (uint32_t)(p.s.next / plan->nflows);
			uint32_t fi = (uint32_t)(p.s.next % plan->nflows);
			const struct plan_flow *pf = plan->flow[fi];
			uint64_t dl;

			if (pf->skip != PLAN_OK) {
				results[p.s.next].flow = fi;
				results[p.s.next].loop = loop;
				p.s.next++;
				p.s.finished++;
				continue;
			}
			dl = deadline(&p.s, loop, pf->first_ts_ns);
			if (dl > p.now) {
				wake_at(&p, dl);
				break;
			}
			if ((err = start_flow(&p, loop, fi)) < 0)
				goto out;
			p.s.next++;
		}
		if (rxq_poll(rx, on_packet, &p) > 0)
			busy = true;
		for (i = 0; i < p.nslots; i++) {
			if (p.slot[i].state == S_FREE)
				continue;
			if ((err = pump(&p, &p.slot[i])) < 0)
				goto out;
		}
		if ((err = txq_flush(tx)) < 0)
			goto out;
		p.queued = 0;
		if ((err = txq_reap(tx)) < 0)
			goto out;
		err = 0;
		if (st->frames != frames0)
			busy = true;
		progress(&p.s, p.now);
		if (!busy && p.s.finished < p.s.total) {
			int64_t ms = 1;

			if (p.wake > p.now)
				ms = (int64_t)((p.wake - p.now) / 1000000);
			if (ms > 50)
				ms = 50;
			if (txq_pending(tx) || ms == 0) {
				/* completions or a deadline within a ms:
				 * spin briefly rather than sleep a jiffy */
				if (p.wake && p.wake - p.now < 200000)
					continue;
			}
			if (ms > 0 || !p.wake)
				rxq_wait(rx, ms ? (int)ms : 1);
		}
	}
out:
	if (st->interrupted || err) {
		/* close what is open: RST, so the server lets go at once */
		p.now = pm_now_ns();
		for (i = 0; i < p.nslots; i++) {
			struct pflow *f = &p.slot[i];

			if (f->state == S_FREE)
				continue;
			if (f->state == S_ESTAB)
				send_ctl(&p, f, f->iss + 1 + (uint32_t)f->nxt + (f->fin_sent ? 1 : 0),
					 TCPGEN_RST | TCPGEN_ACK);
			flow_end(&p, f, PEER_FLOW_ABORTED);
		}
	}
	{
		int derr = txq_drain(tx, 2000);

		if (!err && derr < 0)
			err = derr;
	}
	st->duration_ns = pm_now_ns() - start;
	peer_sched_finish(&p.s, st);
	ptab_free(&p.tab);
	ptab_free(&p.amap);
	ptab_free(&p.rmap);
	free(p.live);
	free(p.slot);
	free(p.free_slots);
	return err;
}
