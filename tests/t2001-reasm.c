/*
 * t2001: TCP reassembly with hand-built packets: every order of a small
 * set of segments delivers the same stream; retransmissions, overlaps and
 * gaps are counted exactly; sequence wraparound; SYN payload (TFO); roles;
 * a 4-tuple reused after close is a new flow; the reorder cap; snaplen.
 */
#include "tests/tap.h"

#include "replay/reasm.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <sys/socket.h>

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define ACK 0x10

/* What the consumer saw, for the last flows (indexed by id, small). */
struct sink {
	uint8_t stream[8][2][4096];	/* gap bytes shown as '#' */
	uint64_t len[8][2];
	uint64_t gaps[8][2], gap_bytes[8][2];
	struct flow_info closed[8];
	int nclosed, nopened;
	bool order_ok;			/* data/gap offsets contiguous */
};

static void on_open(void *ctx, struct flow_info *f)
{
	struct sink *s = ctx;

	s->nopened++;
	(void)f;
}

static void on_data(void *ctx, struct flow_info *f, int dir, uint64_t off,
		    const uint8_t *p, size_t n, uint64_t ts)
{
	struct sink *s = ctx;
	uint64_t id = f->id & 7;

	(void)ts;
	if (off != s->len[id][dir])
		s->order_ok = false;
	if (off + n <= sizeof(s->stream[0][0]))
		memcpy(s->stream[id][dir] + off, p, n);
	s->len[id][dir] = off + n;
}

static void on_gap(void *ctx, struct flow_info *f, int dir, uint64_t off,
		   uint64_t len)
{
	struct sink *s = ctx;
	uint64_t id = f->id & 7;

	if (off != s->len[id][dir])
		s->order_ok = false;
	if (off + len <= sizeof(s->stream[0][0]))
		memset(s->stream[id][dir] + off, '#', len);
	s->len[id][dir] = off + len;
	s->gaps[id][dir]++;
	s->gap_bytes[id][dir] += len;
}

static void on_close(void *ctx, struct flow_info *f)
{
	struct sink *s = ctx;

	if (s->nclosed < 8)
		s->closed[s->nclosed++] = *f;
}

static const struct reasm_ops ops = { on_open, on_data, on_gap, on_close };

static struct reasm *mk(struct sink *s, const struct reasm_config *cfg)
{
	struct reasm *r = NULL;

	memset(s, 0, sizeof(*s));
	s->order_ok = true;
	if (reasm_new(&r, cfg, &ops, s) < 0)
		bail_out("reasm_new");
	return r;
}

static uint64_t now_ns = 1000000000;

/* One packet from client (c2s) or server, 10.0.0.1:40000 <-> 10.0.0.2:80 */
static void pkt(struct reasm *r, bool c2s, uint8_t flags, uint32_t seq,
		const void *data, uint32_t len, uint32_t missing)
{
	struct cap_pkt p;
	uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };

	memset(&p, 0, sizeof(p));
	p.ts_ns = now_ns += 1000;
	p.family = AF_INET;
	memcpy(p.src, c2s ? a : b, 4);
	memcpy(p.dst, c2s ? b : a, 4);
	p.sport = c2s ? 40000 : 80;
	p.dport = c2s ? 80 : 40000;
	p.seq = seq;
	p.flags = flags;
	p.wscale = -1;
	p.payload = data;
	p.payload_len = len;
	p.payload_missing = missing;
	p.caplen = 54 + len;
	p.wirelen = 54 + len + missing;
	if (reasm_feed(r, &p) < 0)
		bail_out("reasm_feed");
}

static const char msg[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /bb HTTP/1.1\r\n";

/* Segment boundaries of msg (offsets), 5 segments. */
static const uint32_t cut[] = { 0, 7, 19, 28, 40, sizeof(msg) - 1 };

static int perm_next(int *a, int n)
{
	int i = n - 2, j, t;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return 0;
	for (j = n - 1; a[j] <= a[i]; j--)
		;
	t = a[i]; a[i] = a[j]; a[j] = t;
	for (i++, j = n - 1; i < j; i++, j--) {
		t = a[i]; a[i] = a[j]; a[j] = t;
	}
	return 1;
}

static void test_permutations(uint32_t isn, const char *what, bool overlap)
{
	int ord[5] = { 0, 1, 2, 3, 4 }, nperm = 0, good = 0, ooo_ok = 0;
	size_t n = sizeof(msg) - 1;

	do {
		struct sink s;
		struct reasm *r = mk(&s, NULL);
		int i;
		uint64_t expect_ooo = 0;
		int maxseen = -1;

		pkt(r, true, SYN, isn, NULL, 0, 0);
		pkt(r, false, SYN | ACK, 5000, NULL, 0, 0);
		for (i = 0; i < 5; i++) {
			int k = ord[i];
			uint32_t a = cut[k], b = cut[k + 1];
			/* with overlap, each segment also carries 3 bytes of the
			 * next one */
			if (overlap && b + 3 <= n)
				b += 3;
			pkt(r, true, ACK, isn + 1 + a, msg + a, b - a, 0);
		}
		/* segments that arrive while an earlier one is missing */
		for (i = 0; i < 5; i++) {
			int j, earlier_missing = 0;
			for (j = 0; j < ord[i]; j++) {
				int seen = 0, q;
				for (q = 0; q < i; q++)
					seen |= ord[q] == j;
				if (!seen)
					earlier_missing = 1;
			}
			if (earlier_missing)
				expect_ooo++;
			if (ord[i] > maxseen)
				maxseen = ord[i];
		}
		pkt(r, true, FIN | ACK, isn + 1 + n, NULL, 0, 0);
		pkt(r, false, FIN | ACK, 5001, NULL, 0, 0);
		reasm_finish(r);
		nperm++;
		if (s.nclosed == 1 && s.len[1][0] == n && s.order_ok &&
		    !memcmp(s.stream[1][0], msg, n) && !s.gaps[1][0] &&
		    s.closed[0].end == FLOW_END_FIN)
			good++;
		else
			diag("%s: order %d%d%d%d%d: len %llu gaps %llu", what,
			     ord[0], ord[1], ord[2], ord[3], ord[4],
			     (unsigned long long)s.len[1][0],
			     (unsigned long long)s.gaps[1][0]);
		if (s.nclosed == 1 && s.closed[0].dir[0].out_of_order == expect_ooo &&
		    s.closed[0].dir[0].payload_bytes == n)
			ooo_ok++;
		reasm_free(r);
	} while (perm_next(ord, 5));
	is_int(nperm, 120, "%s: 120 orders tried", what);
	is_int(good, nperm, "%s: every order delivers the same stream", what);
	is_int(ooo_ok, nperm, "%s: out-of-order counted exactly in every order", what);
}

static void test_counts(void)
{
	struct sink s;
	struct reasm *r = mk(&s, NULL);
	const struct flow_dir_stats *d;
	const char *body = "0123456789abcdefghij";

	pkt(r, true, SYN, 100, NULL, 0, 0);
	pkt(r, false, SYN | ACK, 900, NULL, 0, 0);
	pkt(r, true, ACK, 101, body, 5, 0);		/* 0..5 */
	pkt(r, true, ACK, 101, body, 5, 0);		/* retransmit */
	pkt(r, true, ACK, 104, "XXXXX", 5, 0);		/* 3..8: overlap, first copy wins */
	pkt(r, true, ACK, 114, body + 13, 3, 0);	/* 13..16 ahead of a hole */
	pkt(r, true, ACK, 114, body + 13, 3, 0);	/* retransmit of a buffered piece */
	pkt(r, true, ACK, 112, "YYYYYY", 6, 0);		/* 11..17 around it: ooo + overlap */
	/* 8..11 never comes: a gap of 3; 17..20 arrives */
	pkt(r, true, ACK, 118, body + 17, 3, 0);
	pkt(r, true, FIN | ACK, 121, NULL, 0, 0);
	pkt(r, false, FIN | ACK, 901, NULL, 0, 0);
	pkt(r, true, ACK, 122, NULL, 0, 0);
	ok(s.nclosed == 0, "counts: a hole keeps the flow open after both FINs");
	reasm_finish(r);

	ok(s.nclosed == 1, "counts: one flow closed");
	d = &s.closed[0].dir[DIR_C2S];
	is_int(d->packets, 10, "counts: packets c2s");
	is_int(d->data_segments, 7, "counts: data segments");
	is_int(d->retransmits, 2, "counts: retransmits");
	is_int(d->overlaps, 2, "counts: overlaps");
	is_int(d->out_of_order, 3, "counts: out of order");
	is_int(d->gaps, 1, "counts: one gap");
	is_int(d->gap_bytes, 3, "counts: gap of 3 bytes");
	is_int(d->payload_bytes, 17, "counts: payload bytes delivered");
	is_int(s.len[1][0], 20, "counts: stream length incl. gap");
	ok(!memcmp(s.stream[1][0], "01234XXX###YYdefYhij", 20),
	   "counts: first copy of each byte wins");
	ok(s.order_ok, "counts: offsets contiguous");
	is_int(s.closed[0].end, FLOW_END_FIN, "counts: ended by FIN");
	reasm_free(r);
}

static void test_wrap(void)
{
	struct sink s;
	struct reasm *r = mk(&s, NULL);
	uint32_t isn = 0xfffffff0u;
	size_t n = sizeof(msg) - 1;

	pkt(r, true, SYN, isn, NULL, 0, 0);
	pkt(r, false, SYN | ACK, 0xffffffffu, NULL, 0, 0);
	pkt(r, true, ACK, isn + 1 + 20, msg + 20, n - 20, 0);	/* past the wrap */
	pkt(r, true, ACK, isn + 1, msg, 20, 0);		/* before it */
	pkt(r, false, ACK, 0, "HTTP", 4, 0);		/* server seq wrapped at SYN */
	pkt(r, true, FIN | ACK, isn + 1 + n, NULL, 0, 0);
	pkt(r, false, FIN | ACK, 4, NULL, 0, 0);
	reasm_finish(r);
	ok(s.len[1][0] == n && !memcmp(s.stream[1][0], msg, n) && !s.gaps[1][0],
	   "wrap: client stream across 2^32 delivered in order");
	ok(s.len[1][1] == 4 && !memcmp(s.stream[1][1], "HTTP", 4),
	   "wrap: server stream starting at seq 0 after ISN 2^32-1");
	is_int(s.closed[0].end, FLOW_END_FIN, "wrap: FIN after the wrap closes");
	reasm_free(r);

	/* a stream longer than 4 GiB cannot be built here; wrap twice within
	 * one flow by a large ISN and a 1-byte-at-a-time tail instead */
	r = mk(&s, NULL);
	pkt(r, true, SYN, 0xfffffffdu, NULL, 0, 0);
	pkt(r, true, ACK, 0xfffffffeu, "ab", 2, 0);
	pkt(r, true, ACK, 0x00000001u, "de", 2, 0);	/* ahead: hole at 3 */
	pkt(r, true, ACK, 0x00000000u, "c", 1, 0);
	reasm_finish(r);
	ok(s.len[1][0] == 5 && !memcmp(s.stream[1][0], "abcde", 5),
	   "wrap: out-of-order across the wrap");
	reasm_free(r);
}

static void test_tfo_roles_reuse(void)
{
	struct sink s;
	struct reasm *r = mk(&s, NULL);

	pkt(r, true, SYN, 7, "GET", 3, 0);		/* TFO: data in the SYN */
	pkt(r, false, SYN | ACK, 70, NULL, 0, 0);
	pkt(r, true, ACK, 11, " /", 2, 0);
	pkt(r, true, SYN, 7, "GET", 3, 0);		/* SYN retransmitted */
	pkt(r, true, FIN | ACK, 13, NULL, 0, 0);
	pkt(r, false, FIN | ACK, 71, NULL, 0, 0);
	/* the same 4-tuple again after close: a new flow */
	pkt(r, true, SYN, 5000, NULL, 0, 0);
	pkt(r, true, ACK, 5001, "x", 1, 0);
	reasm_finish(r);
	ok(s.len[1][0] == 5 && !memcmp(s.stream[1][0], "GET /", 5),
	   "tfo: SYN payload is data at offset 0");
	is_int(s.closed[0].dir[0].retransmits, 1, "tfo: repeated SYN's payload is a retransmit");
	ok(s.closed[0].syn_seen && !s.closed[0].roles_guessed, "tfo: roles from the handshake");
	is_int(s.nclosed, 2, "reuse: a second flow on the same 4-tuple");
	ok(s.closed[1].id == 2 && s.len[2][0] == 1, "reuse: new id, its own stream");
	is_int(s.closed[1].end, FLOW_END_OPEN, "reuse: second still open at end");
	reasm_free(r);

	/* no handshake: port 80 is the server even when it speaks first */
	r = mk(&s, NULL);
	pkt(r, false, ACK, 1000, "HTTP/1.1 200", 12, 0);
	pkt(r, true, ACK, 2000, "GET", 3, 0);
	reasm_finish(r);
	ok(s.closed[0].roles_guessed && s.closed[0].sport == 80 &&
	   s.closed[0].cport == 40000, "roles: port heuristic without SYN, flagged");
	ok(s.len[1][0] == 3 && s.len[1][1] == 12, "roles: streams by role");
	reasm_free(r);

	/* SYN-ACK first: its sender is the server, not guessed */
	r = mk(&s, NULL);
	pkt(r, false, SYN | ACK, 1, NULL, 0, 0);
	pkt(r, true, ACK, 9, "a", 1, 0);
	reasm_finish(r);
	ok(!s.closed[0].roles_guessed && s.closed[0].sport == 80,
	   "roles: from a SYN-ACK");
	reasm_free(r);
}

static void test_gap_cap_snaplen_rst_idle(void)
{
	struct sink s;
	struct reasm_config cfg = { .max_reorder_bytes = 200 };
	struct reasm *r = mk(&s, &cfg);
	char big[300];

	memset(big, 'b', sizeof(big));
	pkt(r, true, SYN, 0, NULL, 0, 0);
	pkt(r, true, ACK, 1, "aaaa", 4, 0);
	pkt(r, true, ACK, 15, big, 100, 0);		/* hole 4..14 */
	ok(s.len[1][0] == 4, "cap: under the cap the segment waits");
	pkt(r, true, ACK, 115, big, 150, 0);		/* over the cap */
	ok(s.len[1][0] == 264 && s.gaps[1][0] == 1 && s.gap_bytes[1][0] == 10,
	   "cap: over the cap the hole is given up as a 10-byte gap");
	ok(reasm_totals(r)->reorder_bytes_peak >= 250, "cap: reorder peak recorded");
	/* snaplen: 20 bytes captured of 50 */
	pkt(r, true, ACK, 265, big, 20, 30);
	pkt(r, true, ACK, 315, "zz", 2, 0);
	memset(big, '#', 30);
	memcpy(big + 30, "zz", 2);
	ok(s.len[1][0] == 316 && s.gap_bytes[1][0] == 40 &&
	   !memcmp(s.stream[1][0] + 284, big, 32),
	   "snaplen: missing bytes delivered as a gap, never invented");
	pkt(r, true, ACK, 400, "far", 3, 0);		/* hole, then RST */
	pkt(r, false, RST, 0, NULL, 0, 0);
	ok(s.nclosed == 1 && s.closed[0].end == FLOW_END_RST, "rst: closes the flow");
	ok(s.len[1][0] == 402 && s.closed[0].dir[0].truncated == 1 &&
	   s.closed[0].dir[0].missing_bytes == 30,
	   "rst: buffered bytes flushed, hole as a gap; truncation counted");
	pkt(r, false, RST, 0, NULL, 0, 0);
	is_int(reasm_totals(r)->after_close, 1, "rst: repeated RST after close counted");
	now_ns += 11ULL * 1000000000ULL;
	pkt(r, false, RST, 0, NULL, 0, 0);
	ok(reasm_totals(r)->after_close == 1 && reasm_totals(r)->dropped_no_flow == 1,
	   "rst: 11 s later the tombstone is gone: a lone RST");
	reasm_finish(r);
	reasm_free(r);

	/* idle */
	{
		struct reasm_config c2 = { .idle_timeout_ns = 5000 };
		r = mk(&s, &c2);
		pkt(r, true, ACK, 1, "a", 1, 0);
		now_ns += 100000;
		pkt(r, true, SYN, 50, NULL, 0, 0);		/* closes the old (reuse) */
		ok(s.nclosed == 1 && s.closed[0].end == FLOW_END_IDLE,
		   "idle: a flow idle past the timeout is closed as idle");
		reasm_finish(r);
		reasm_free(r);
	}
	/* mid-stream start: bytes before offset 0 are old */
	r = mk(&s, NULL);
	pkt(r, true, ACK, 100, "later", 5, 0);
	pkt(r, true, ACK, 95, "early", 5, 0);
	pkt(r, true, ACK, 103, "erabc", 5, 0);
	reasm_finish(r);
	ok(s.len[1][0] == 8 && s.closed[0].dir[0].retransmits == 1 &&
	   s.closed[0].dir[0].overlaps == 1, "midstream: bytes before the first seen are old");
	reasm_free(r);
	/* a FIN after a hole: the hole up to the FIN is a gap */
	r = mk(&s, NULL);
	pkt(r, true, SYN, 0, NULL, 0, 0);
	pkt(r, false, SYN | ACK, 0, NULL, 0, 0);
	pkt(r, true, ACK, 1, "ab", 2, 0);
	pkt(r, true, FIN | ACK, 10, NULL, 0, 0);
	pkt(r, false, FIN | ACK, 1, NULL, 0, 0);
	ok(s.nclosed == 0, "fin: a hole before the FIN keeps the flow open");
	reasm_finish(r);
	ok(s.nclosed == 1 && s.gap_bytes[1][0] == 7 && s.closed[0].end == FLOW_END_FIN,
	   "fin: at the end the hole is a 7-byte gap");
	reasm_free(r);
}

static void test_many_flows(void)
{
	struct reasm_config cfg = { .max_flows = 64 };
	struct sink s;
	struct reasm *r = mk(&s, &cfg);
	struct cap_pkt p;
	int i;

	memset(&p, 0, sizeof(p));
	p.family = AF_INET6;
	p.dport = 443;
	p.flags = SYN;
	for (i = 0; i < 5000; i++) {
		p.ts_ns = 1 + i;
		p.src[15] = i & 0xff;
		p.src[14] = i >> 8;
		p.sport = 1024 + i;
		reasm_feed(r, &p);
	}
	ok(reasm_totals(r)->flows == 5000 && reasm_totals(r)->flows_peak <= 64,
	   "max_flows: 5000 flows, at most 64 alive (LRU eviction)");
	reasm_finish(r);
	is_int(reasm_totals(r)->flows_open_now, 0, "max_flows: all closed at the end");
	reasm_free(r);
}

int main(void)
{
	plan_lazy();
	test_permutations(1000, "in order ISN", false);
	test_permutations(0xffffffe0u, "ISN near 2^32", false);
	test_permutations(77, "overlapping segments", true);
	test_counts();
	test_wrap();
	test_tfo_roles_reuse();
	test_gap_cap_snaplen_rst_idle();
	test_many_flows();
	return exit_status();
}
