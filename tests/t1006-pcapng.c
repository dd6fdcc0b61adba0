/*
 * t1006: pcapng blocks synth does not write, built by hand: interfaces
 * of different link types, if_tsresol in powers of 2 and of 10,
 * if_tsoffset, Simple and obsolete Packet Blocks, blocks to skip, and a
 * second section in the other byte order with its own interfaces.
 * A short file whose block claims 16 MiB reads as cut short without
 * that much being allocated (found by fuzz-capture: every such input
 * cost a 16 MiB allocation).
 */
#include "tests/tap.h"
#include "tests/ingest.h"

#include <malloc.h>
#include <pcap/pcap.h>

struct png {
	uint8_t b[4096];
	size_t n;
	int swap;	/* write big-endian */
};

static void p32(struct png *p, uint32_t v)
{
	if (p->swap)
		v = __builtin_bswap32(v);
	memcpy(p->b + p->n, &v, 4);
	p->n += 4;
}

static void p16(struct png *p, uint16_t v)
{
	if (p->swap)
		v = __builtin_bswap16(v);
	memcpy(p->b + p->n, &v, 2);
	p->n += 2;
}

static void pbytes(struct png *p, const void *d, size_t n)
{
	memcpy(p->b + p->n, d, n);
	p->n += n;
	while (p->n % 4)
		p->b[p->n++] = 0;
}

/* a block: type, total length, body, total length */
static size_t blk_start(struct png *p, uint32_t type)
{
	size_t at = p->n;

	p32(p, type);
	p32(p, 0);	/* patched */
	return at;
}

static void blk_end(struct png *p, size_t at)
{
	uint32_t len = (uint32_t)(p->n - at + 4);
	size_t save = p->n;

	p->n = at + 4;
	p32(p, len);
	p->n = save;
	p32(p, len);
}

static void shb(struct png *p)
{
	size_t at = blk_start(p, 0x0a0d0d0a);

	p32(p, 0x1a2b3c4d);
	p16(p, 1);
	p16(p, 0);
	p32(p, 0xffffffff);
	p32(p, 0xffffffff);
	blk_end(p, at);
}

static void idb(struct png *p, uint16_t lt, int tsresol, int64_t tsoffset)
{
	size_t at = blk_start(p, 1);

	p16(p, lt);
	p16(p, 0);
	p32(p, 65535);
	if (tsresol >= 0) {
		uint8_t r = (uint8_t)tsresol;

		p16(p, 9);
		p16(p, 1);
		pbytes(p, &r, 1);
	}
	if (tsoffset) {
		p16(p, 14);
		p16(p, 8);
		p32(p, p->swap ? (uint32_t)((uint64_t)tsoffset >> 32) : (uint32_t)tsoffset);
		p32(p, p->swap ? (uint32_t)tsoffset : (uint32_t)((uint64_t)tsoffset >> 32));
	}
	p16(p, 0);
	p16(p, 0);
	blk_end(p, at);
}

static void epb(struct png *p, uint32_t ifid, uint64_t ts, const uint8_t *d, uint32_t n)
{
	size_t at = blk_start(p, 6);

	p32(p, ifid);
	p32(p, (uint32_t)(ts >> 32));
	p32(p, (uint32_t)ts);
	p32(p, n);
	p32(p, n);
	pbytes(p, d, n);
	blk_end(p, at);
}

/* an IPv4/TCP packet with a 2-byte payload tag, after hdr link bytes */
static uint32_t frame(uint8_t *b, const uint8_t *hdr, uint32_t hl, const char *tag)
{
	uint8_t *ip = b + hl, *th = ip + 20;

	if (hl)
		memcpy(b, hdr, hl);
	memset(ip, 0, 40);
	ip[0] = 0x45;
	ip[3] = 42;
	ip[8] = 64;
	ip[9] = 6;
	th[1] = 1; th[3] = 80;
	th[12] = 0x50;
	th[13] = 0x18;
	memcpy(th + 20, tag, 2);
	return hl + 42;
}

int main(void)
{
	static const uint8_t eth[14] = { [12] = 0x08, [13] = 0x00 };
	struct png p = { .n = 0 };
	uint8_t f[128];
	uint32_t n;
	struct capture *cap;
	struct cap_pkt k[16];
	char tags[16][3];
	char err[256];
	int got = 0;

	plan_lazy();
	shb(&p);
	idb(&p, 1, 0x80 | 10, 100);	/* EN10MB, 2^-10 s, +100 s */
	idb(&p, 101, 3, 0);		/* LINKTYPE_RAW, ms */
	n = frame(f, eth, 14, "e0");
	epb(&p, 0, 1024 * 5 + 512, f, n);	/* 5.5 s + 100 s */
	n = frame(f, NULL, 0, "r1");
	epb(&p, 1, 7250, f, n);			/* 7.25 s */
	{	/* a Name Resolution Block and a custom block: skipped */
		size_t at = blk_start(&p, 4);

		p32(&p, 0);
		blk_end(&p, at);
		at = blk_start(&p, 0x40000bad);
		p32(&p, 12345);
		blk_end(&p, at);
	}
	{	/* Simple Packet Block: interface 0, no timestamp */
		size_t at = blk_start(&p, 3);

		n = frame(f, eth, 14, "s0");
		p32(&p, n);
		pbytes(&p, f, n);
		blk_end(&p, at);
	}
	{	/* obsolete Packet Block on interface 1 */
		size_t at = blk_start(&p, 2);

		n = frame(f, NULL, 0, "o1");
		p16(&p, 1);
		p16(&p, 0);
		p32(&p, 0);
		p32(&p, 9000);	/* 9 s in ms */
		p32(&p, n);
		p32(&p, n);
		pbytes(&p, f, n);
		blk_end(&p, at);
	}
	/* a second section, big-endian, whose interface 0 is raw IP in ns */
	p.swap = 1;
	shb(&p);
	idb(&p, 101, 9, 0);
	n = frame(f, NULL, 0, "b0");
	epb(&p, 0, 1234567891ull, f, n);

	ok(capture_open_fp(&cap, fmemopen(p.b, p.n, "rb"), NULL, err, sizeof(err)) == 0,
	   "hand-made pcapng opens (%s)", err);
	while (got < 16 && capture_next(cap, &k[got]) == 1) {
		memset(tags[got], 0, 3);
		if (k[got].skip == CAP_SKIP_NONE && k[got].payload_len == 2)
			memcpy(tags[got], k[got].payload, 2);
		got++;
	}
	const struct capture_stats *st = capture_stats(cap);

	is_int(got, 5, "five packets (EPB, EPB, SPB, PB, EPB in section 2)");
	is_str(tags[0], "e0", "EPB on interface 0 (EN10MB)");
	is_int(k[0].linktype, DLT_EN10MB, "  its link type");
	is_int(k[0].ts_ns, 105500000000ull, "  2^-10 s units and +100 s offset");
	is_str(tags[1], "r1", "EPB on interface 1 (raw)");
	is_int(k[1].linktype, DLT_RAW, "  LINKTYPE_RAW mapped to DLT_RAW");
	is_int(k[1].ts_ns, 7250000000ull, "  ms units");
	is_int(k[1].ifindex, 1, "  interface index");
	is_str(tags[2], "s0", "Simple Packet Block on interface 0");
	is_int(k[2].linktype, DLT_EN10MB, "  SPB uses interface 0");
	is_str(tags[3], "o1", "obsolete Packet Block on interface 1");
	is_int(k[3].ts_ns, 9000000000ull, "  its timestamp");
	is_str(tags[4], "b0", "big-endian second section");
	is_int(k[4].ts_ns, 1234567891ull, "  ns units from its own interface");
	is_int(k[4].linktype, DLT_RAW, "  its own interface 0");
	ok(st->nlinks == 2 && st->linktype[0] == DLT_EN10MB && st->link_packets[0] == 2 &&
	   st->linktype[1] == DLT_RAW && st->link_packets[1] == 3, "two link types counted");
	is_int(st->tcp, 5, "all five decoded to TCP");
	is_str(st->format, "pcapng", "format pcapng");
	capture_free(cap);

	/* the same through a filter: per-interface BPF programs */
	ok(capture_open_fp(&cap, fmemopen(p.b, p.n, "rb"), "ip and tcp dst port 80", err,
			   sizeof(err)) == 0, "opens with a filter");
	got = 0;
	while (capture_next(cap, &k[0]) == 1)
		got += k[0].skip == CAP_SKIP_NONE;
	is_int(got, 5, "filter compiled for EN10MB and RAW passes all five");
	capture_free(cap);
	ok(capture_open_fp(&cap, fmemopen(p.b, p.n, "rb"), "ether host 1:2:3:4:5:6", err,
			   sizeof(err)) == 0, "an Ethernet-only filter opens");
	got = 0;
	int rc;

	while ((rc = capture_next(cap, &k[0])) == 1)
		got++;
	ok(rc == CAPTURE_E_FILTER, "... and fails on the raw-IP interface with CAPTURE_E_FILTER (%s)",
	   capture_error(cap));
	capture_free(cap);

	/* An EPB claiming 16 MiB - 4 in a file that ends 64 bytes later:
	 * cut short, and the buffer grew only with what the file held. */
	{
		struct png q = { .n = 0 };
		size_t at;

		shb(&q);
		idb(&q, 1, 6, 0);
		at = blk_start(&q, 6);
		q.n = at + 4;
		p32(&q, (16u << 20) - 4);
		memset(q.b + q.n, 0x55, 64);
		q.n += 64;
		ok(capture_open_fp(&cap, fmemopen(q.b, q.n, "rb"), NULL, err, sizeof(err)) == 0,
		   "pcapng with a 16 MiB block in a short file opens (%s)", err);
		rc = capture_next(cap, &k[0]);
		is_int(rc, 0, "... reads as the end");
		ok(capture_stats(cap)->ended_mid_record, "... cut short mid-record");
#if defined(__SANITIZE_ADDRESS__)
#define T1006_NO_MALLINFO 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T1006_NO_MALLINFO 1
#endif
#endif
#ifdef T1006_NO_MALLINFO
		skip("mallinfo2() counts nothing under ASan");
#else
		{
			struct mallinfo2 mi = mallinfo2();

			ok(mi.uordblks + mi.hblkhd < (4u << 20),
			   "... heap in use %zu bytes, not the 16 MiB claimed",
			   mi.uordblks + mi.hblkhd);
		}
#endif
		capture_free(cap);
	}
	return exit_status();
}
