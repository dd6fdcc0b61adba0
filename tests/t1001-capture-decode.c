/*
 * t1001: hand-built frames for the decode paths synth does not write:
 * QinQ and triple tags, IPv4 options, fragments, IPv6 extension headers,
 * non-TCP and non-IP traffic, link padding, TSO zero lengths, cut and
 * malformed headers, BSD loopback in either byte order, LINKTYPE_IPV4/6,
 * DLT_LOOP, an unsupported link type.
 */
#include "tests/tap.h"
#include "tests/ingest.h"

#include <pcap/pcap.h>

struct rec {
	uint8_t b[256];
	uint32_t len, caplen;
};

static void w16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }

/* TCP header (doff in 4-byte words) + payload at p; returns bytes. */
static uint32_t tcp(uint8_t *p, int doff, const char *payload, uint8_t flags)
{
	uint32_t n = (uint32_t)strlen(payload);

	memset(p, 0, (size_t)doff * 4);
	w16(p, 1234);
	w16(p + 2, 80);
	p[4] = 0; p[5] = 0; p[6] = 0x10; p[7] = 0;	/* seq 4096 */
	p[12] = (uint8_t)(doff << 4);
	p[13] = flags;
	w16(p + 14, 100);
	if (doff > 5 && (flags & 0x02)) {
		/* MSS 1200, wscale 20 (capped to 14), then a bad option */
		uint8_t *o = p + 20;

		o[0] = 2; o[1] = 4; w16(o + 2, 1200);
		o[4] = 3; o[5] = 3; o[6] = 20;
		o[7] = 1;
		if (doff > 7) {
			o[8] = 8; o[9] = 40;	/* length runs past the header */
		}
	}
	memcpy(p + doff * 4, payload, n);
	return (uint32_t)doff * 4 + n;
}

/* IPv4 header with ihl words, fragment field, protocol; tot 0 = right */
static uint32_t ipv4(uint8_t *p, int ihl, uint16_t frag, uint8_t proto,
		     uint32_t l4len, int tot_zero)
{
	memset(p, 0, (size_t)ihl * 4);
	p[0] = (uint8_t)(0x40 | ihl);
	w16(p + 2, tot_zero ? 0 : (uint16_t)(ihl * 4 + l4len));
	w16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	p[12] = 10; p[15] = 1;
	p[16] = 10; p[19] = 2;
	for (int i = 20; i < ihl * 4; i++)
		p[i] = 1;	/* NOP options */
	return (uint32_t)ihl * 4;
}

/* IPv6 header; ext: list of next-header values for extension headers */
static uint32_t ipv6(uint8_t *p, const uint8_t *ext, int next, uint8_t last,
		     uint32_t l4len)
{
	uint32_t off = 40, extlen = 0;

	for (int i = 0; i < next; i++)
		extlen += ext[i] == 60 ? 16 : 8;
	memset(p, 0, 40 + extlen);
	p[0] = 0x60;
	w16(p + 4, (uint16_t)(extlen + l4len));
	p[6] = next ? ext[0] : last;
	p[7] = 64;
	p[23] = 1;
	p[39] = 2;
	for (int i = 0; i < next; i++) {
		uint32_t len = ext[i] == 60 ? 16 : 8;

		p[off] = i + 1 < next ? ext[i + 1] : last;
		p[off + 1] = (uint8_t)(len / 8 - 1);
		off += len;
	}
	return off;
}

static uint32_t eth(uint8_t *p, const uint16_t *types, int n)
{
	memset(p, 0, 12);
	p[5] = 1; p[11] = 2;
	uint32_t off = 12;

	for (int i = 0; i < n; i++) {
		w16(p + off, types[i]);
		off += 2;
		if (i + 1 < n) {
			w16(p + off, (uint16_t)(10 * (i + 1)));	/* VLAN id 10, 20, ... */
			off += 2;
		}
	}
	return off;
}

/* Writes recs with libpcap as dlt; returns a malloc()ed pcap. */
static uint8_t *write_pcap(int dlt, struct rec *r, int n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	pcap_t *dead = pcap_open_dead(dlt, 65535);
	pcap_dumper_t *d = pcap_dump_fopen(dead, f);

	for (int i = 0; i < n; i++) {
		struct pcap_pkthdr h = { .caplen = r[i].caplen ? r[i].caplen : r[i].len,
					 .len = r[i].len };

		h.ts.tv_sec = 1000 + i;
		pcap_dump((u_char *)d, &h, r[i].b);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	return (uint8_t *)buf;
}

/* Reads a pcap and returns its packets in out[] (payload copied). */
struct got {
	struct cap_pkt p;
	char payload[64];
};

static int read_all(const uint8_t *buf, size_t n, struct got *out, int max,
		    const struct capture_stats **stp, struct capture **capp)
{
	char err[256];
	struct capture *cap;
	int k = 0;

	if (capture_open_fp(&cap, fmemopen((void *)buf, n, "rb"), NULL, err, sizeof(err)) < 0)
		return -1;
	while (k < max && capture_next(cap, &out[k].p) == 1) {
		uint32_t l = out[k].p.payload_len < 63 ? out[k].p.payload_len : 63;

		memset(out[k].payload, 0, sizeof(out[k].payload));
		if (out[k].p.skip == CAP_SKIP_NONE && l)
			memcpy(out[k].payload, out[k].p.payload, l);
		k++;
	}
	*stp = capture_stats(cap);
	*capp = cap;
	return k;
}

int main(void)
{
	struct rec r[32];
	struct got g[32];
	const struct capture_stats *st;
	struct capture *cap;
	uint8_t *buf;
	size_t n;
	int k, i;
	static const uint8_t hbh_dst_rt[] = { 0, 60, 43 };
	static const uint8_t frag6[] = { 0, 44 };

	plan_lazy();
	memset(r, 0, sizeof(r));

	/* ---- Ethernet ---- */
	i = 0;
	{	/* 0: QinQ 802.1ad + 802.1Q */
		uint16_t t[] = { 0x88a8, 0x8100, 0x0800 };
		uint32_t o = eth(r[i].b, t, 3);

		o += ipv4(r[i].b + o, 5, 0x4000, 6, 20 + 5, 0);
		o += tcp(r[i].b + o, 5, "hello", 0x18);
		r[i++].len = o;
	}
	{	/* 1: pre-standard 0x9100 + 0x8100 + 0x8100: three tags */
		uint16_t t[] = { 0x9100, 0x8100, 0x8100, 0x0800 };
		uint32_t o = eth(r[i].b, t, 4);

		o += ipv4(r[i].b + o, 5, 0, 6, 20 + 3, 0);
		o += tcp(r[i].b + o, 5, "abc", 0x18);
		r[i++].len = o;
	}
	{	/* 2: IPv4 with 8 bytes of options, SYN with options */
		uint16_t t[] = { 0x0800 };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv4(r[i].b + o, 7, 0, 6, 40, 0);
		o += tcp(r[i].b + o, 10, "", 0x02);
		r[i++].len = o;
	}
	{	/* 3: IPv4 first fragment (MF) */
		uint16_t t[] = { 0x0800 };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv4(r[i].b + o, 5, 0x2000, 6, 20 + 4, 0);
		o += tcp(r[i].b + o, 5, "frag", 0x18);
		r[i++].len = o;
	}
	{	/* 4: IPv4 later fragment (offset 185) */
		uint16_t t[] = { 0x0800 };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv4(r[i].b + o, 5, 185, 6, 8, 0);
		memset(r[i].b + o, 'x', 8);
		r[i++].len = o + 8;
	}
	{	/* 5: UDP */
		uint16_t t[] = { 0x0800 };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv4(r[i].b + o, 5, 0, 17, 8, 0);
		memset(r[i].b + o, 0, 8);
		r[i++].len = o + 8;
	}
	{	/* 6: ARP */
		uint16_t t[] = { 0x0806 };
		uint32_t o = eth(r[i].b, t, 1);

		memset(r[i].b + o, 0, 28);
		r[i++].len = o + 28;
	}
	{	/* 7: IPv6 hop-by-hop, destination options, routing, TCP */
		uint16_t t[] = { 0x86dd };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv6(r[i].b + o, hbh_dst_rt, 3, 6, 20 + 6);
		o += tcp(r[i].b + o, 5, "v6ext!", 0x18);
		r[i++].len = o;
	}
	{	/* 8: IPv6 fragment header */
		uint16_t t[] = { 0x86dd };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv6(r[i].b + o, frag6, 2, 6, 20);
		o += tcp(r[i].b + o, 5, "", 0x10);
		r[i++].len = o;
	}
	{	/* 9: IPv6 no next header */
		uint16_t t[] = { 0x86dd };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv6(r[i].b + o, NULL, 0, 59, 0);
		r[i++].len = o;
	}
	{	/* 10: minimum frame: 54 bytes + 6 bytes of padding */
		uint16_t t[] = { 0x0800 };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv4(r[i].b + o, 5, 0x4000, 6, 20, 0);
		o += tcp(r[i].b + o, 5, "", 0x10);
		memset(r[i].b + o, 0xee, 6);
		r[i++].len = o + 6;
	}
	{	/* 11: cut by snaplen: 40 payload bytes, 12 captured */
		uint16_t t[] = { 0x0800 };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv4(r[i].b + o, 5, 0x4000, 6, 20 + 40, 0);
		o += tcp(r[i].b + o, 5, "0123456789012345678901234567890123456789", 0x18);
		r[i].len = o;
		r[i++].caplen = o - 28;
	}
	{	/* 12: IPv4 total length 0 (TSO on the capturing host) */
		uint16_t t[] = { 0x0800 };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv4(r[i].b + o, 5, 0x4000, 6, 0, 1);
		o += tcp(r[i].b + o, 5, "tso-data", 0x18);
		r[i++].len = o;
	}
	{	/* 13: TCP data offset past the segment */
		uint16_t t[] = { 0x0800 };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv4(r[i].b + o, 5, 0x4000, 6, 20, 0);
		o += tcp(r[i].b + o, 5, "", 0x10);
		r[i].b[o - 20 + 12] = 0xf0;
		r[i++].len = o;
	}
	{	/* 14: a 10-byte frame */
		memset(r[i].b, 0, 10);
		r[i++].len = 10;
	}
	{	/* 15: IPv4 header length 4 words (< 5) */
		uint16_t t[] = { 0x0800 };
		uint32_t o = eth(r[i].b, t, 1);

		o += ipv4(r[i].b + o, 5, 0, 6, 20, 0);
		r[i].b[14] = 0x44;
		o += tcp(r[i].b + o, 5, "", 0x10);
		r[i++].len = o;
	}
	{	/* 16: 802.3 length field, not an ethertype */
		uint16_t t[] = { 0x0040 };
		uint32_t o = eth(r[i].b, t, 1);

		memset(r[i].b + o, 0xaa, 64);
		r[i++].len = o + 64;
	}
	int nrec = i;

	buf = write_pcap(DLT_EN10MB, r, nrec, &n);
	k = read_all(buf, n, g, 32, &st, &cap);
	is_int(k, nrec, "EN10MB: every record returned");
	ok(g[0].p.skip == 0 && g[0].p.nvlan == 2 && g[0].p.vlan[0] == 10 && g[0].p.vlan[1] == 20 &&
	   !strcmp(g[0].payload, "hello"), "802.1ad + 802.1Q: two tags stripped, payload");
	ok(g[1].p.skip == 0 && g[1].p.nvlan == 3 && g[1].p.vlan[0] == 10 && g[1].p.vlan[1] == 20 &&
	   !strcmp(g[1].payload, "abc"), "0x9100 + 2 x 0x8100: three tags counted, first two kept");
	ok(g[2].p.skip == 0 && g[2].p.mss == 1200 && g[2].p.wscale == 14 && g[2].p.payload_len == 0,
	   "IPv4 options skipped; SYN: MSS 1200, wscale capped at 14, bad option stops parsing");
	is_int(g[3].p.skip, CAP_SKIP_FRAGMENT, "IPv4 MF: fragment");
	is_int(g[4].p.skip, CAP_SKIP_FRAGMENT, "IPv4 offset: fragment");
	is_int(g[5].p.skip, CAP_SKIP_NOT_TCP, "UDP: not TCP");
	is_int(g[6].p.skip, CAP_SKIP_NOT_IP, "ARP: not IP");
	ok(g[7].p.skip == 0 && g[7].p.family == AF_INET6 && !strcmp(g[7].payload, "v6ext!") &&
	   g[7].p.payload_len == 6, "IPv6 hop-by-hop + dest opts + routing skipped");
	is_int(g[8].p.skip, CAP_SKIP_FRAGMENT, "IPv6 fragment header: fragment");
	is_int(g[9].p.skip, CAP_SKIP_NOT_TCP, "IPv6 no next header: not TCP");
	ok(g[10].p.skip == 0 && g[10].p.payload_len == 0 && g[10].p.payload_missing == 0,
	   "Ethernet padding is not payload");
	ok(g[11].p.skip == 0 && g[11].p.payload_len == 12 && g[11].p.payload_missing == 28,
	   "snaplen cut: 12 bytes present, 28 missing (got %u, %u)", g[11].p.payload_len,
	   g[11].p.payload_missing);
	ok(g[12].p.skip == 0 && g[12].p.payload_len == 8 && !strcmp(g[12].payload, "tso-data"),
	   "IPv4 total length 0 (TSO): payload is what was captured");
	is_int(g[13].p.skip, CAP_SKIP_SHORT, "TCP data offset past the segment: short");
	is_int(g[14].p.skip, CAP_SKIP_SHORT, "10-byte frame: short");
	is_int(g[15].p.skip, CAP_SKIP_SHORT, "IPv4 IHL 4: malformed");
	is_int(g[16].p.skip, CAP_SKIP_NOT_IP, "802.3 length field: not IP");
	is_int(st->truncated, 1, "one record cut by snaplen");
	is_int(st->missing_bytes, 28, "28 bytes missing in all");
	is_int(st->skipped[CAP_SKIP_FRAGMENT], 3, "three fragments counted");
	is_int(st->tcp, 7, "seven packets decoded to TCP");
	capture_free(cap);
	free(buf);

	/* ---- BSD loopback: AF in either byte order, the BSD AF_INET6s ---- */
	{
		static const uint32_t afs[] = { 2, 24, 28, 30, 10, 7 };
		int ok_all = 1;

		for (i = 0; i < 12; i++) {
			uint32_t af = afs[i % 6];
			uint8_t *p = r[i].b;
			uint32_t o = 4;

			if (i < 6) {	/* little-endian writer */
				p[0] = (uint8_t)af; p[1] = p[2] = p[3] = 0;
			} else {	/* big-endian writer */
				p[0] = p[1] = p[2] = 0; p[3] = (uint8_t)af;
			}
			if (af == 2)
				o += ipv4(p + o, 5, 0, 6, 20 + 2, 0);
			else
				o += ipv6(p + o, NULL, 0, 6, 20 + 2);
			o += tcp(p + o, 5, "lo", 0x18);
			r[i].len = o;
			r[i].caplen = 0;
		}
		for (int dlt = 0; dlt < 2; dlt++) {
			buf = write_pcap(dlt ? DLT_LOOP : DLT_NULL, r, 12, &n);
			k = read_all(buf, n, g, 32, &st, &cap);
			ok_all = k == 12;
			for (i = 0; i < 12; i++) {
				int want = afs[i % 6] == 7 ? CAP_SKIP_NOT_IP : CAP_SKIP_NONE;

				if ((int)g[i].p.skip != want ||
				    (want == 0 && strcmp(g[i].payload, "lo")))
					ok_all = 0;
			}
			ok(ok_all, "%s: AF 2/24/28/30/10 decoded in both byte orders, AF 7 not IP",
			   dlt ? "LOOP" : "NULL");
			capture_free(cap);
			free(buf);
		}
	}

	/* ---- LINKTYPE_IPV4 / IPV6 / RAW, SLL, unsupported ---- */
	{
		uint32_t o;

		o = ipv4(r[0].b, 5, 0, 6, 20 + 2, 0);
		o += tcp(r[0].b + o, 5, "v4", 0x18);
		r[0].len = o;
		r[0].caplen = 0;
		o = ipv6(r[1].b, NULL, 0, 6, 20 + 2);
		o += tcp(r[1].b + o, 5, "v6", 0x18);
		r[1].len = o;
		r[1].caplen = 0;

		buf = write_pcap(DLT_IPV4, r, 1, &n);
		k = read_all(buf, n, g, 32, &st, &cap);
		ok(k == 1 && g[0].p.skip == 0 && !strcmp(g[0].payload, "v4") &&
		   st->linktype[0] == DLT_IPV4, "LINKTYPE_IPV4 (228)");
		capture_free(cap);
		free(buf);
		buf = write_pcap(DLT_IPV6, r + 1, 1, &n);
		k = read_all(buf, n, g, 32, &st, &cap);
		ok(k == 1 && g[0].p.skip == 0 && !strcmp(g[0].payload, "v6"), "LINKTYPE_IPV6 (229)");
		capture_free(cap);
		free(buf);
		buf = write_pcap(DLT_IPV4, r + 1, 1, &n);
		k = read_all(buf, n, g, 32, &st, &cap);
		ok(k == 1 && g[0].p.skip == CAP_SKIP_NOT_IP, "IPv6 packet on LINKTYPE_IPV4: not IP");
		capture_free(cap);
		free(buf);
		buf = write_pcap(DLT_RAW, r, 2, &n);
		k = read_all(buf, n, g, 32, &st, &cap);
		ok(k == 2 && g[0].p.skip == 0 && g[1].p.skip == 0 && g[1].p.family == AF_INET6,
		   "DLT_RAW: IPv4 and IPv6 by version nibble");
		capture_free(cap);
		free(buf);

		/* SLL carrying ARP */
		memset(r[2].b, 0, 16);
		w16(r[2].b + 14, 0x0806);
		r[2].len = 16 + 28;
		r[2].caplen = 0;
		buf = write_pcap(DLT_LINUX_SLL, r + 2, 1, &n);
		k = read_all(buf, n, g, 32, &st, &cap);
		ok(k == 1 && g[0].p.skip == CAP_SKIP_NOT_IP, "SLL ARP: not IP");
		capture_free(cap);
		free(buf);

		buf = write_pcap(DLT_IEEE802_11, r, 2, &n);
		k = read_all(buf, n, g, 32, &st, &cap);
		ok(k == 2 && g[0].p.skip == CAP_SKIP_LINKTYPE && st->skipped[CAP_SKIP_LINKTYPE] == 2,
		   "802.11: counted and skipped as an unsupported link type");
		ok(st->nlinks == 1 && st->linktype[0] == DLT_IEEE802_11 && st->link_packets[0] == 2,
		   "unsupported link type listed with its packet count");
		ok(!capture_linktype_supported(DLT_IEEE802_11) && capture_linktype_supported(DLT_LINUX_SLL2),
		   "capture_linktype_supported()");
		is_str(capture_linktype_name(DLT_IEEE802_11), "IEEE802_11", "name of an unsupported type");
		is_str(capture_linktype_name(DLT_LINUX_SLL2), "LINUX_SLL2", "name of SLL2");
		is_str(capture_linktype_name(60000), "DLT 60000", "name of an unknown type");
		is_str(capture_skip_name(CAP_SKIP_FRAGMENT), "IP fragment (not reassembled)", "skip name");
		capture_free(cap);
		free(buf);
	}
	return exit_status();
}
