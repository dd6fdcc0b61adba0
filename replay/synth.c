/*
 * synth.c: deterministic HTTP/1.1-over-TCP capture writer (see synth.h).
 *
 * Flows are generated a few at a time (SYNTH_ACTIVE at once), round-robin
 * one phase per turn -- handshake, one pipelined batch of requests and
 * their responses, close -- so packets of different flows interleave as
 * on a real server while memory stays bounded by one batch per flow.
 */
#include "replay/synth.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define SYNTH_ACTIVE	4		/* flows in progress at once */
#define SYNTH_EPOCH_S	1700000000u	/* 2023-11-14T22:13:20Z: first packet */
#define SYNTH_MAX_SEG	65000u		/* keeps IPv4 total length < 65535 */
#define SYNTH_MAX_BODY	(64u << 20)
#define SERVER_MSS	1460u		/* 1500-byte MTU minus IPv4+TCP */
#define WSCALE		7		/* both sides: 502 << 7 = 64 KiB window */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_PSH 0x08
#define TH_ACK 0x10

/* ------------------------------------------------------------------ */

struct rng { uint64_t s; };

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, fully determined by
 * the seed. */
static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1p-53;
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rng_next(r) % n) : 0;
}

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void buf_reserve(struct buf *b, size_t more)
{
	if (b->oom || b->len + more <= b->cap)
		return;
	size_t nc = b->cap ? b->cap : 4096;

	while (nc < b->len + more)
		nc *= 2;
	void *p = realloc(b->p, nc);

	if (!p) {
		b->oom = true;
		return;
	}
	b->p = p;
	b->cap = nc;
}

static void buf_put(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* ------------------------------------------------------------------ */
/* gzip output through a FILE* (fopencookie), for pcap_dump            */

struct gzout {
	FILE *out;
	z_stream z;
	int err;		/* 0 or negative errno */
	uint8_t buf[64 * 1024];
};

static int gz_pump(struct gzout *g, int flush)
{
	int rc;

	do {
		g->z.next_out = g->buf;
		g->z.avail_out = sizeof(g->buf);
		rc = deflate(&g->z, flush);
		if (rc == Z_STREAM_ERROR) {
			g->err = -EIO;
			return -1;
		}
		size_t n = sizeof(g->buf) - g->z.avail_out;

		if (n && fwrite(g->buf, 1, n, g->out) != n) {
			g->err = -errno ? -errno : -EIO;
			return -1;
		}
	} while (g->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return 0;
}

static ssize_t gz_write(void *cookie, const char *p, size_t n)
{
	struct gzout *g = cookie;

	g->z.next_in = (Bytef *)(uintptr_t)p;
	g->z.avail_in = (uInt)n;
	if (gz_pump(g, Z_NO_FLUSH) < 0) {
		errno = -g->err;
		return -1;
	}
	return (ssize_t)n;
}

static int gz_close(void *cookie)
{
	struct gzout *g = cookie;

	g->z.next_in = NULL;
	g->z.avail_in = 0;
	gz_pump(g, Z_FINISH);
	deflateEnd(&g->z);
	return g->err ? -1 : 0;
}

/* ------------------------------------------------------------------ */

struct flow {
	uint32_t id;
	uint8_t caddr[16], saddr[16];
	uint16_t cport, sport;
	uint32_t cseq, sseq;	/* next sequence number to send */
	uint16_t ipid[2];
	uint32_t done_req;
	int phase;		/* 0 handshake, 1 requests, 2 close, 3 done */
};

struct synth {
	const struct synth_opts *o;
	struct synth_stats *st;
	struct rng rng;
	FILE *fp;
	pcap_t *dead;
	pcap_dumper_t *dump;
	uint64_t ts_ns;		/* since SYNTH_EPOCH_S */
	int err;
	struct buf req, resp;
	uint8_t frame[SYNTH_MAX_SEG + 128];
};

void synth_opts_init(struct synth_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->flows = 1;
	o->requests = 1;
	o->framing = SYNTH_FRAMING_CL;
	o->body_size = 64;
	o->pipeline = 1;
	o->segment_size = 1460;
	o->vlan = -1;
	o->link = SYNTH_LINK_EN10MB;
	o->snaplen = 262144;
	o->seed = 1;
}

const char *synth_opts_check(const struct synth_opts *o)
{
	if (o->flows < 1)
		return "--flows must be at least 1";
	if (o->pipeline < 1)
		return "--pipeline must be at least 1";
	if (o->segment_size < 1 || o->segment_size > SYNTH_MAX_SEG)
		return "--segment-size must be between 1 and 65000";
	if (o->body_size > SYNTH_MAX_BODY)
		return "--body-size must be at most 67108864";
	if (!(o->reorder >= 0 && o->reorder <= 1) ||
	    !(o->retransmit >= 0 && o->retransmit <= 1) ||
	    !(o->duplicate >= 0 && o->duplicate <= 1))
		return "rates must be between 0 and 1";
	if (o->vlan > 4095)
		return "--vlan must be between 0 and 4095";
	if (o->vlan >= 0 && (o->link == SYNTH_LINK_RAW || o->link == SYNTH_LINK_NULL))
		return "--vlan needs a link type with an ethertype (en10mb, sll, sll2)";
	if (o->snaplen < 1 || o->snaplen > 262144)
		return "--snaplen must be between 1 and 262144";
	if ((unsigned)o->framing > SYNTH_FRAMING_MIXED || (unsigned)o->link > SYNTH_LINK_NULL)
		return "bad framing or link type";
	return NULL;
}

static int link_dlt(enum synth_link l)
{
	switch (l) {
	case SYNTH_LINK_EN10MB: return DLT_EN10MB;
	case SYNTH_LINK_SLL: return DLT_LINUX_SLL;
	case SYNTH_LINK_SLL2: return DLT_LINUX_SLL2;
	case SYNTH_LINK_RAW: return DLT_RAW;
	case SYNTH_LINK_NULL: return DLT_NULL;
	}
	return DLT_EN10MB;
}

/* LINKTYPE_ value for the pcapng interface block */
static int link_linktype(enum synth_link l)
{
	return l == SYNTH_LINK_RAW ? 101 : link_dlt(l);
}

static inline void wr16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* RFC 1071 one's-complement sum, big-endian 16-bit words */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	while (n > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		n -= 2;
	}
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Link-layer header; returns its length.  dir 0 = client to server; the
 * capture point is the server, so SLL packet types are "to us" (0) and
 * "outgoing" (4) (include/uapi/linux/if_packet.h PACKET_HOST/OUTGOING). */
static size_t put_link(struct synth *s, uint8_t *p, int dir)
{
	const struct synth_opts *o = s->o;
	uint16_t etype = o->ipv6 ? 0x86dd : 0x0800;
	static const uint8_t mac[2][6] = {
		{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },	/* client */
		{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 },	/* server */
	};
	size_t n = 0;

	switch (o->link) {
	case SYNTH_LINK_EN10MB:
		memcpy(p, mac[!dir], 6);
		memcpy(p + 6, mac[dir], 6);
		n = 12;
		break;
	case SYNTH_LINK_SLL:
		wr16(p, dir ? 4 : 0);
		wr16(p + 2, 1);			/* ARPHRD_ETHER */
		wr16(p + 4, 6);
		memcpy(p + 6, mac[dir], 6);
		p[12] = p[13] = 0;
		n = 14;
		break;
	case SYNTH_LINK_SLL2:
		wr16(p, o->vlan >= 0 ? 0x8100 : etype);
		wr16(p + 2, 0);
		wr32(p + 4, 2);			/* interface index */
		wr16(p + 8, 1);			/* ARPHRD_ETHER */
		p[10] = dir ? 4 : 0;
		p[11] = 6;
		memcpy(p + 12, mac[dir], 6);
		p[18] = p[19] = 0;
		n = 20;
		if (o->vlan >= 0) {
			wr16(p + n, (uint16_t)o->vlan);
			wr16(p + n + 2, etype);
			n += 4;
		}
		return n;
	case SYNTH_LINK_RAW:
		return 0;
	case SYNTH_LINK_NULL:
		/* host order of the (little-endian) writer; AF_INET6 as on
		 * NetBSD/OpenBSD (24) */
		p[0] = o->ipv6 ? 24 : 2;
		p[1] = p[2] = p[3] = 0;
		return 4;
	}
	if (o->vlan >= 0) {
		wr16(p + n, 0x8100);
		wr16(p + n + 2, (uint16_t)o->vlan);
		n += 4;
	}
	wr16(p + n, etype);
	return n + 2;
}

static void write_record(struct synth *s, const uint8_t *frame, uint32_t len)
{
	const struct synth_opts *o = s->o;
	uint32_t caplen = len < o->snaplen ? len : o->snaplen;
	uint64_t ts = (uint64_t)SYNTH_EPOCH_S * 1000000000u + s->ts_ns;

	if (!o->nanosecond)
		ts -= ts % 1000;
	if (caplen < len)
		s->st->truncated++;
	s->st->packets++;
	if (o->pcapng) {
		uint8_t h[28];
		uint32_t pad = (4 - caplen % 4) % 4, blen = 32 + caplen + pad;
		uint64_t units = o->nanosecond ? ts : ts / 1000;
		static const uint8_t zero[4];
		uint32_t v[7] = { 6, blen, 0, (uint32_t)(units >> 32), (uint32_t)units,
				  caplen, len };

		memcpy(h, v, sizeof(h));
		fwrite(h, 1, sizeof(h), s->fp);
		fwrite(frame, 1, caplen, s->fp);
		fwrite(zero, 1, pad, s->fp);
		fwrite(&blen, 1, 4, s->fp);
		return;
	}
	struct pcap_pkthdr h = { .caplen = caplen, .len = len };

	h.ts.tv_sec = (time_t)(ts / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(o->nanosecond ? ts % 1000000000u :
				     ts % 1000000000u / 1000);
	pcap_dump((u_char *)s->dump, &h, frame);
}

/* One TCP segment from dir (0 client, 1 server). */
static void emit(struct synth *s, struct flow *f, int dir, uint8_t flags,
		 uint32_t seq, uint32_t ack, const uint8_t *data, uint32_t len)
{
	const struct synth_opts *o = s->o;
	uint8_t *p = s->frame;
	size_t l = put_link(s, p, dir);
	uint8_t *ip = p + l;
	size_t iphl = o->ipv6 ? 40 : 20;
	uint8_t *th = ip + iphl;
	size_t thl = 20;
	const uint8_t *src = dir ? f->saddr : f->caddr, *dst = dir ? f->caddr : f->saddr;
	uint32_t sum;

	if (flags & TH_SYN) {
		/* MSS, NOP, window scale, SACK permitted, NOP, NOP (RFC 9293
		 * 3.2, RFC 7323 2.2, RFC 2018 2); the server's MSS is what
		 * limits the client's segments. */
		uint16_t mss = dir ? (uint16_t)o->segment_size : SERVER_MSS;
		uint8_t *op = th + 20;

		op[0] = 2; op[1] = 4; wr16(op + 2, mss);
		op[4] = 1;
		op[5] = 3; op[6] = 3; op[7] = WSCALE;
		op[8] = 4; op[9] = 2;
		op[10] = 1; op[11] = 1;
		thl = 32;
	}
	wr16(th, dir ? f->sport : f->cport);
	wr16(th + 2, dir ? f->cport : f->sport);
	wr32(th + 4, seq);
	wr32(th + 8, ack);
	th[12] = (uint8_t)(thl / 4) << 4;
	th[13] = flags;
	/* SYNs carry the unscaled window (RFC 7323 2.2) */
	wr16(th + 14, flags & TH_SYN ? 64240 : 502);
	wr16(th + 16, 0);
	wr16(th + 18, 0);
	if (len)
		memcpy(th + thl, data, len);
	if (o->ipv6) {
		ip[0] = 0x60; ip[1] = ip[2] = ip[3] = 0;
		wr16(ip + 4, (uint16_t)(thl + len));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		sum = csum_add(0, src, 16);
		sum = csum_add(sum, dst, 16);
	} else {
		ip[0] = 0x45; ip[1] = 0;
		wr16(ip + 2, (uint16_t)(20 + thl + len));
		wr16(ip + 4, f->ipid[dir]++);
		wr16(ip + 6, 0x4000);	/* DF */
		ip[8] = 64;
		ip[9] = 6;
		wr16(ip + 10, 0);
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		wr16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		sum = csum_add(0, src, 4);
		sum = csum_add(sum, dst, 4);
	}
	/* pseudo-header: protocol and TCP length (RFC 9293 3.1, RFC 8200 8.1) */
	sum += 6 + (uint32_t)(thl + len);
	sum = csum_add(sum, th, thl + len);
	wr16(th + 16, csum_fold(sum));

	uint32_t flen = (uint32_t)(l + iphl + thl + len);

	s->st->payload_bytes += len;
	{
		uint32_t cap = flen < o->snaplen ? flen : o->snaplen;
		uint32_t hdr = (uint32_t)(l + iphl + thl);

		s->st->captured_payload_bytes += cap > hdr ? cap - hdr : 0;
	}
	write_record(s, s->frame, flen);
	/* 10-15 µs between packets, with sub-µs digits for ns files */
	s->ts_ns += 10000 + rng_below(&s->rng, 5000) + rng_below(&s->rng, 1000);
}

/* ------------------------------------------------------------------ */
/* HTTP content                                                        */

static void json_body(struct buf *b, uint32_t size, const struct flow *f, uint32_t r)
{
	size_t start = b->len, end;
	char item[160];

	if (size < 2) {
		if (size)
			buf_put(b, "0", 1);
		return;
	}
	if (size < 32) {
		buf_put(b, "{}", 2);
		for (uint32_t i = 2; i < size; i++)
			buf_put(b, " ", 1);
		return;
	}
	buf_printf(b, "{\"flow\":%u,\"req\":%u,\"items\":[", f->id, r);
	for (unsigned k = 0;; k++) {
		int n = snprintf(item, sizeof(item),
				 "%s{\"id\":%u,\"name\":\"item-%u\",\"price\":%u.25,"
				 "\"tags\":[\"a\",\"b\"],\"ok\":%s}",
				 k ? "," : "", k, k, k * 3 + 1, k % 2 ? "true" : "false");

		/* leave room for the closing '],"pad":""}' (11 bytes) */
		if (b->len - start + (size_t)n + 11 > size)
			break;
		buf_put(b, item, (size_t)n);
	}
	end = b->len - start;
	if (end + 11 > size) {
		/* the fixed prefix alone is too long: a padded object */
		b->len = start;
		buf_put(b, "{\"pad\":\"", 8);
		for (uint32_t i = 10; i < size; i++)
			buf_put(b, "x", 1);
		buf_put(b, "\"}", 2);
		return;
	}
	buf_put(b, "],\"pad\":\"", 9);
	for (size_t i = end + 11; i < size; i++)
		buf_put(b, "x", 1);
	buf_put(b, "\"}", 2);
}

static void text_body(struct synth *s, struct buf *b, uint32_t size)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	buf_reserve(b, size);
	if (b->oom)
		return;
	for (uint32_t i = 0; i < size; i++)
		b->p[b->len + i] = (uint8_t)alpha[rng_below(&s->rng, 36)];
	b->len += size;
}

static void build_request(struct synth *s, struct flow *f, uint32_t r)
{
	const struct synth_opts *o = s->o;
	struct buf *b = &s->req;
	enum synth_framing fr = o->framing;
	const char *ctype = o->json ? "application/json" : "application/octet-stream";

	if (fr == SYNTH_FRAMING_MIXED)
		fr = (enum synth_framing)rng_below(&s->rng, 3);
	if (fr == SYNTH_FRAMING_NONE) {
		buf_printf(b, "GET /items/%u/%u HTTP/1.1\r\nHost: synth.test\r\n"
			   "User-Agent: pktmem-synth/1\r\nAccept: application/json\r\n\r\n",
			   f->id, r);
		return;
	}
	buf_printf(b, "POST /api/items/%u/%u HTTP/1.1\r\nHost: synth.test\r\n"
		   "User-Agent: pktmem-synth/1\r\nContent-Type: %s\r\n",
		   f->id, r, ctype);
	struct buf body = { 0 };

	if (o->json)
		json_body(&body, o->body_size, f, r);
	else
		text_body(s, &body, o->body_size);
	if (body.oom)
		b->oom = true;
	if (fr == SYNTH_FRAMING_CL) {
		buf_printf(b, "Content-Length: %u\r\n\r\n", o->body_size);
		buf_put(b, body.p, body.len);
	} else {
		/* chunks of 1..max(16, size/3) bytes, then the last chunk
		 * (RFC 9112 7.1) */
		uint32_t left = (uint32_t)body.len, off = 0;
		uint32_t maxc = o->body_size / 3 > 16 ? o->body_size / 3 : 16;

		buf_printf(b, "Transfer-Encoding: chunked\r\n\r\n");
		while (left) {
			uint32_t n = 1 + rng_below(&s->rng, maxc);

			if (n > left)
				n = left;
			buf_printf(b, "%x\r\n", n);
			buf_put(b, body.p + off, n);
			buf_put(b, "\r\n", 2);
			off += n;
			left -= n;
		}
		buf_put(b, "0\r\n\r\n", 5);
	}
	free(body.p);
}

static void build_response(struct synth *s, struct flow *f, uint32_t r)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "{\"ok\":true,\"flow\":%u,\"req\":%u}", f->id, r);

	buf_printf(&s->resp, "HTTP/1.1 200 OK\r\nServer: pktmem-synth\r\n"
		   "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		   n, body);
}

/* ------------------------------------------------------------------ */
/* flows                                                               */

static void flow_init(struct synth *s, struct flow *f, uint32_t id)
{
	memset(f, 0, sizeof(*f));
	f->id = id;
	if (s->o->ipv6) {
		static const uint8_t c6[12] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x0c };
		static const uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x05,
						[15] = 1 };

		memcpy(f->caddr, c6, 12);
		wr32(f->caddr + 12, id + 1);
		memcpy(f->saddr, s6, 16);
	} else {
		/* clients 10.0.0.1..., server 198.51.100.1 (RFC 5737) */
		wr32(f->caddr, 0x0a000000u | ((id + 1) & 0x00ffffffu));
		wr32(f->saddr, 0xc6336401u);
	}
	f->cport = (uint16_t)(32768 + id % 28000);
	f->sport = 80;
	f->cseq = (uint32_t)rng_next(&s->rng);
	f->sseq = (uint32_t)rng_next(&s->rng);
	f->ipid[0] = (uint16_t)rng_next(&s->rng);
	f->ipid[1] = (uint16_t)rng_next(&s->rng);
}

/* Client data in segment_size pieces, impaired at the chosen rates. */
static void send_client_data(struct synth *s, struct flow *f, const uint8_t *d,
			     uint32_t len, uint32_t ack)
{
	const struct synth_opts *o = s->o;
	uint32_t mss = o->segment_size, nseg = (len + mss - 1) / mss;
	uint32_t base = f->cseq;
	int64_t pending = -1;	/* segment to retransmit after the next */

	for (uint32_t i = 0; i < nseg;) {
		uint32_t order[2], n = 1;

		order[0] = i;
		if (i + 1 < nseg && o->reorder > 0 && rng_unit(&s->rng) < o->reorder) {
			order[0] = i + 1;
			order[1] = i;
			n = 2;
			s->st->reordered++;
		}
		for (uint32_t k = 0; k < n; k++) {
			uint32_t j = order[k], off = j * mss;
			uint32_t sl = len - off < mss ? len - off : mss;
			uint8_t fl = TH_ACK | (j == nseg - 1 ? TH_PSH : 0);

			emit(s, f, 0, fl, base + off, ack, d + off, sl);
			s->st->data_segments++;
			if (o->duplicate > 0 && rng_unit(&s->rng) < o->duplicate) {
				emit(s, f, 0, fl, base + off, ack, d + off, sl);
				s->st->duplicated++;
			}
			if (pending >= 0) {
				uint32_t po = (uint32_t)pending * mss;
				uint32_t pl = len - po < mss ? len - po : mss;

				s->ts_ns += 200000;	/* an RTO-like pause */
				emit(s, f, 0, TH_ACK | ((uint32_t)pending == nseg - 1 ? TH_PSH : 0),
				     base + po, ack, d + po, pl);
				s->st->retransmitted++;
				pending = -1;
			}
			if (o->retransmit > 0 && rng_unit(&s->rng) < o->retransmit)
				pending = j;
		}
		i += n;
	}
	if (pending >= 0) {
		uint32_t po = (uint32_t)pending * mss;
		uint32_t pl = len - po < mss ? len - po : mss;

		s->ts_ns += 200000;
		emit(s, f, 0, TH_ACK | ((uint32_t)pending == nseg - 1 ? TH_PSH : 0),
		     base + po, ack, d + po, pl);
		s->st->retransmitted++;
	}
	f->cseq = base + len;
}

/* One phase of a flow; returns false when the flow is finished. */
static bool flow_step(struct synth *s, struct flow *f)
{
	const struct synth_opts *o = s->o;

	switch (f->phase) {
	case 0:
		emit(s, f, 0, TH_SYN, f->cseq, 0, NULL, 0);
		emit(s, f, 1, TH_SYN | TH_ACK, f->sseq, f->cseq + 1, NULL, 0);
		f->cseq++;
		f->sseq++;
		emit(s, f, 0, TH_ACK, f->cseq, f->sseq, NULL, 0);
		f->phase = o->requests ? 1 : 2;
		return true;
	case 1: {
		uint32_t k = o->requests - f->done_req;

		if (k > o->pipeline)
			k = o->pipeline;
		s->req.len = s->resp.len = 0;
		for (uint32_t r = 0; r < k; r++) {
			build_request(s, f, f->done_req + r);
			build_response(s, f, f->done_req + r);
		}
		if (s->req.oom || s->resp.oom) {
			s->err = -ENOMEM;
			return false;
		}
		send_client_data(s, f, s->req.p, (uint32_t)s->req.len, f->sseq);
		s->st->c2s_bytes += s->req.len;
		emit(s, f, 1, TH_ACK, f->sseq, f->cseq, NULL, 0);
		s->ts_ns += 50000;	/* the server thinks */
		for (uint32_t off = 0; off < s->resp.len; off += SERVER_MSS) {
			uint32_t n = (uint32_t)s->resp.len - off;

			if (n > SERVER_MSS)
				n = SERVER_MSS;
			emit(s, f, 1, TH_ACK | (off + n == s->resp.len ? TH_PSH : 0),
			     f->sseq + off, f->cseq, s->resp.p + off, n);
		}
		f->sseq += (uint32_t)s->resp.len;
		s->st->s2c_bytes += s->resp.len;
		emit(s, f, 0, TH_ACK, f->cseq, f->sseq, NULL, 0);
		f->done_req += k;
		s->st->requests += k;
		if (f->done_req == o->requests)
			f->phase = 2;
		return true;
	}
	case 2:
		emit(s, f, 0, TH_FIN | TH_ACK, f->cseq, f->sseq, NULL, 0);
		emit(s, f, 1, TH_FIN | TH_ACK, f->sseq, f->cseq + 1, NULL, 0);
		f->cseq++;
		f->sseq++;
		emit(s, f, 0, TH_ACK, f->cseq, f->sseq, NULL, 0);
		f->phase = 3;
		s->st->flows++;
		return false;
	}
	return false;
}

static int write_pcapng_header(struct synth *s)
{
	const struct synth_opts *o = s->o;
	/* SHB: type, length, byte-order magic, version 1.0, section length
	 * unknown (-1), length again (pcapng 4.1) */
	uint32_t shb[7] = { 0x0a0d0d0a, 28, 0x1a2b3c4d, 1, 0xffffffff, 0xffffffff, 28 };
	/* IDB with if_tsresol (code 9, 1 byte: 10^-6 or 10^-9) and
	 * opt_endofopt (4.2) */
	uint8_t idb[32] = { 0 };
	uint32_t v;

	memcpy(idb, &(uint32_t){ 1 }, 4);
	memcpy(idb + 4, &(uint32_t){ 32 }, 4);
	memcpy(idb + 8, &(uint16_t){ (uint16_t)link_linktype(o->link) }, 2);
	v = o->snaplen;
	memcpy(idb + 12, &v, 4);
	memcpy(idb + 16, &(uint16_t){ 9 }, 2);
	memcpy(idb + 18, &(uint16_t){ 1 }, 2);
	idb[20] = o->nanosecond ? 9 : 6;
	/* 21..23 padding, 24..27 opt_endofopt (0, 0) */
	memcpy(idb + 28, &(uint32_t){ 32 }, 4);
	if (shb[1] != 28 || fwrite(shb, 1, sizeof(shb), s->fp) != sizeof(shb) ||
	    fwrite(idb, 1, sizeof(idb), s->fp) != sizeof(idb))
		return -EIO;
	return 0;
}

/* Generates the whole capture onto out, which is closed here. */
static int synth_run(const struct synth_opts *o, FILE *out, struct synth_stats *st_out)
{
	struct synth *s;
	struct synth_stats st_local;
	struct gzout *gz = NULL;
	struct flow active[SYNTH_ACTIVE];
	int nact = 0, rc = 0;
	uint32_t next_id = 0;

	s = calloc(1, sizeof(*s));
	if (!s) {
		fclose(out);
		return -ENOMEM;
	}
	s->o = o;
	s->st = st_out ? st_out : &st_local;
	memset(s->st, 0, sizeof(*s->st));
	s->rng.s = o->seed;
	s->fp = out;
	if (o->gzip) {
		cookie_io_functions_t io = { .write = gz_write, .close = gz_close };

		gz = calloc(1, sizeof(*gz));
		if (!gz) {
			rc = -ENOMEM;
			goto out;
		}
		gz->out = out;
		/* 16 + 15: gzip wrapper; zlib writes mtime 0, so the
		 * output depends on the input only */
		if (deflateInit2(&gz->z, 6, Z_DEFLATED, 16 + 15, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			free(gz);
			gz = NULL;
			rc = -ENOMEM;
			goto out;
		}
		s->fp = fopencookie(gz, "wb", io);
		if (!s->fp) {
			deflateEnd(&gz->z);
			free(gz);
			gz = NULL;
			s->fp = out;
			rc = -ENOMEM;
			goto out;
		}
	}
	setvbuf(s->fp, NULL, _IOFBF, 256 * 1024);
	if (o->pcapng) {
		rc = write_pcapng_header(s);
		if (rc < 0)
			goto out;
	} else {
		s->dead = pcap_open_dead_with_tstamp_precision(
			link_dlt(o->link), (int)o->snaplen,
			o->nanosecond ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
		if (!s->dead) {
			rc = -ENOMEM;
			goto out;
		}
		s->dump = pcap_dump_fopen(s->dead, s->fp);
		if (!s->dump) {
			rc = -EIO;
			goto out;
		}
	}
	/* Round-robin over up to SYNTH_ACTIVE flows, one phase a turn. */
	while (next_id < o->flows && nact < SYNTH_ACTIVE)
		flow_init(s, &active[nact++], next_id++);
	while (nact > 0 && !s->err) {
		for (int i = 0; i < nact && !s->err; i++) {
			if (flow_step(s, &active[i]))
				continue;
			if (next_id < o->flows) {
				flow_init(s, &active[i], next_id++);
			} else {
				memmove(&active[i], &active[i + 1],
					(size_t)(nact - i - 1) * sizeof(active[0]));
				nact--;
				i--;
			}
		}
		if (ferror(s->fp))
			s->err = -EIO;
	}
	rc = s->err;
out:
	/* Who closes what: pcap_dump_close() closes s->fp; s->fp is either
	 * out itself or the gzip cookie writing into out. */
	if (s->dump) {
		if (pcap_dump_flush(s->dump) < 0 && !rc)
			rc = -EIO;
		pcap_dump_close(s->dump);
	} else {
		if ((fflush(s->fp) || ferror(s->fp)) && !rc)
			rc = -EIO;
		if (s->fp != out)
			fclose(s->fp);
	}
	if (gz) {
		if (gz->err && !rc)
			rc = gz->err;
		free(gz);
	}
	if (!(s->dump && s->fp == out) && fclose(out) != 0 && !rc)
		rc = errno ? -errno : -EIO;
	if (s->dead)
		pcap_close(s->dead);
	free(s->req.p);
	free(s->resp.p);
	free(s);
	return rc;
}

int synth_write(const struct synth_opts *o, const char *path, struct synth_stats *st)
{
	FILE *out;

	if (synth_opts_check(o))
		return -EINVAL;
	if (!strcmp(path, "-")) {
		int fd = dup(STDOUT_FILENO);

		out = fd < 0 ? NULL : fdopen(fd, "wb");
		if (!out && fd >= 0)
			close(fd);
	} else {
		out = fopen(path, "wb");
	}
	if (!out)
		return -errno;
	return synth_run(o, out, st);
}

int synth_write_mem(const struct synth_opts *o, uint8_t **buf, size_t *len,
		    struct synth_stats *st)
{
	char *p = NULL;
	size_t n = 0;
	FILE *out;
	int rc;

	*buf = NULL;
	*len = 0;
	if (synth_opts_check(o))
		return -EINVAL;
	out = open_memstream(&p, &n);
	if (!out)
		return -errno;
	rc = synth_run(o, out, st);
	if (rc < 0) {
		free(p);
		return rc;
	}
	*buf = (uint8_t *)p;
	*len = n;
	return 0;
}
