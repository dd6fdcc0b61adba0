/*
 * t1000: every link type and file format synth writes is read back with
 * the packet, TCP and payload counts synth reports; µs vs ns; pcap vs
 * pcapng vs gzip vs byte-swapped give the same decoded packets; snaplen
 * cuts are counted with their missing bytes; BPF filters apply.
 */
#include "tests/tap.h"
#include "tests/ingest.h"

#include <pcap/pcap.h>

static const char *const link_names[] = { "en10mb", "sll", "sll2", "raw", "null" };
static const int link_dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL };

static void base_opts(struct synth_opts *o)
{
	synth_opts_init(o);
	o->flows = 3;
	o->requests = 3;
	o->body_size = 700;
	o->segment_size = 500;
	o->json = true;
	o->seed = 99;
}

/* Rewrites a pcap file in the other byte order (all header fields). */
static void swap_pcap(uint8_t *b, size_t n)
{
	uint32_t v;
	uint16_t h;

	for (int i = 0; i < 24; i += 4) {
		if (i == 4) {	/* version major, minor: two u16 */
			memcpy(&h, b + 4, 2); h = __builtin_bswap16(h); memcpy(b + 4, &h, 2);
			memcpy(&h, b + 6, 2); h = __builtin_bswap16(h); memcpy(b + 6, &h, 2);
			continue;
		}
		memcpy(&v, b + i, 4); v = __builtin_bswap32(v); memcpy(b + i, &v, 4);
	}
	for (size_t off = 24; off + 16 <= n;) {
		uint32_t caplen;

		memcpy(&caplen, b + off + 8, 4);
		for (int i = 0; i < 16; i += 4) {
			memcpy(&v, b + off + i, 4); v = __builtin_bswap32(v);
			memcpy(b + off + i, &v, 4);
		}
		off += 16 + caplen;
	}
}

/* Rewrites synth's pcapng (SHB, one IDB with if_tsresol, EPBs) in the
 * other byte order. */
static void swap_pcapng(uint8_t *b, size_t n)
{
	for (size_t off = 0; off + 12 <= n;) {
		uint32_t type, len, v;
		uint16_t h;

		memcpy(&type, b + off, 4);
		memcpy(&len, b + off + 4, 4);
#define SW32(o) do { memcpy(&v, b + off + (o), 4); v = __builtin_bswap32(v); memcpy(b + off + (o), &v, 4); } while (0)
#define SW16(o) do { memcpy(&h, b + off + (o), 2); h = __builtin_bswap16(h); memcpy(b + off + (o), &h, 2); } while (0)
		SW32(0); SW32(4); SW32(len - 4);
		if (type == 0x0a0d0d0a) {
			SW32(8); SW16(12); SW16(14);
			SW32(16); SW32(20);	/* section length: -1 either way */
		} else if (type == 1) {
			SW16(8); SW16(10); SW32(12);
			SW16(16); SW16(18);	/* if_tsresol code, length */
		} else if (type == 6) {
			SW32(8); SW32(12); SW32(16); SW32(20); SW32(24);
		}
		off += len;
#undef SW32
#undef SW16
	}
}

int main(void)
{
	struct synth_opts o;
	struct synth_stats st;
	struct capsum s, ref;
	uint8_t *buf;
	size_t n;

	plan_lazy();

	/* every link type, IPv4 and IPv6, with and without a VLAN tag */
	for (int l = 0; l < 5; l++)
		for (int v6 = 0; v6 < 2; v6++)
			for (int vlan = 0; vlan < 2; vlan++) {
				if (vlan && (l == SYNTH_LINK_RAW || l == SYNTH_LINK_NULL))
					continue;
				base_opts(&o);
				o.link = (enum synth_link)l;
				o.ipv6 = v6;
				o.vlan = vlan ? 100 + l : -1;
				buf = synth_mem(&o, &n, &st);
				capsum_mem(buf, n, NULL, &s);
				const char *what = link_names[l];

				ok(s.open_rc == 0 && s.next_rc == 0, "%s ipv%d%s: read to the end (%s)",
				   what, v6 ? 6 : 4, vlan ? " vlan" : "", s.err);
				is_int(s.packets, st.packets, "%s ipv%d%s: packets", what, v6 ? 6 : 4,
				       vlan ? " vlan" : "");
				is_int(s.tcp, st.packets, "%s ipv%d%s: all TCP", what, v6 ? 6 : 4,
				       vlan ? " vlan" : "");
				is_int(s.payload, st.payload_bytes, "%s ipv%d%s: payload bytes",
				       what, v6 ? 6 : 4, vlan ? " vlan" : "");
				is_int(s.syns, 2 * o.flows, "%s ipv%d%s: SYNs", what, v6 ? 6 : 4,
				       vlan ? " vlan" : "");
				ok(s.nlinks == 1 && s.linktype[0] == link_dlts[l],
				   "%s: link type %d", what, s.linktype[0]);
				free(buf);
			}

	/* decoded fields of the first packets: addresses, options, VLAN */
	{
		struct capture *cap;
		struct cap_pkt p;
		char err[256];
		FILE *f;

		base_opts(&o);
		o.vlan = 42;
		o.segment_size = 333;
		buf = synth_mem(&o, &n, &st);
		f = fmemopen(buf, n, "rb");
		ok(capture_open_fp(&cap, f, NULL, err, sizeof(err)) == 0, "open for fields");
		ok(capture_next(cap, &p) == 1 && p.skip == CAP_SKIP_NONE, "first packet decoded");
		ok(p.flags == 0x02 && p.mss == 1460 && p.wscale == 7 && p.sack_ok,
		   "SYN: mss 1460, wscale 7, SACK permitted");
		ok(p.nvlan == 1 && p.vlan[0] == 42, "VLAN 42 stripped");
		ok(p.family == AF_INET && !memcmp(p.src, "\x0a\x00\x00\x01", 4) &&
		   !memcmp(p.dst, "\xc6\x33\x64\x01", 4) && p.sport == 32768 && p.dport == 80,
		   "addresses and ports");
		ok(capture_next(cap, &p) == 1 && p.flags == 0x12 && p.mss == 333,
		   "SYN-ACK carries the server's MSS (segment size)");
		ok(capture_next(cap, &p) == 1 && p.mss == 0 && p.wscale == -1 && !p.sack_ok,
		   "no options read on a non-SYN");
		capture_free(cap);
		free(buf);
	}

	/* µs vs ns: the same traffic; ns keeps sub-µs digits */
	{
		struct synth_opts o2;
		uint8_t *b2;
		size_t n2;
		struct capture *c1, *c2;
		struct cap_pkt p1, p2;
		char err[256];
		int same = 1, subus = 0, cnt = 0;

		base_opts(&o);
		o2 = o;
		o2.nanosecond = true;
		buf = synth_mem(&o, &n, NULL);
		b2 = synth_mem(&o2, &n2, NULL);
		capture_open_fp(&c1, fmemopen(buf, n, "rb"), NULL, err, sizeof(err));
		capture_open_fp(&c2, fmemopen(b2, n2, "rb"), NULL, err, sizeof(err));
		while (capture_next(c1, &p1) == 1) {
			if (capture_next(c2, &p2) != 1) {
				same = 0;
				break;
			}
			cnt++;
			if (p1.ts_ns != p2.ts_ns - p2.ts_ns % 1000 || p1.ts_ns % 1000)
				same = 0;
			if (p2.ts_ns % 1000)
				subus++;
		}
		ok(cnt > 0 && same, "µs timestamps are the ns ones cut to µs (%d packets)", cnt);
		ok(subus > cnt / 2, "ns file keeps sub-µs digits (%d of %d)", subus, cnt);
		is_str(capture_stats(c1)->format, "pcap", "µs format name");
		is_str(capture_stats(c2)->format, "pcap-ns", "ns format name");
		ok(capture_stats(c1)->first_ts_ns == 1700000000ull * 1000000000ull,
		   "first timestamp is synth's epoch, in ns");
		capture_free(c1);
		capture_free(c2);
		free(buf);
		free(b2);
	}

	/* the same traffic in every container gives the same decoded packets */
	base_opts(&o);
	o.nanosecond = true;
	buf = synth_mem(&o, &n, &st);
	capsum_mem(buf, n, NULL, &ref);
	ok(ref.packets == st.packets && ref.next_rc == 0, "reference pcap-ns read");
	swap_pcap(buf, n);
	capsum_mem(buf, n, NULL, &s);
	ok(s.hash == ref.hash && s.packets == ref.packets, "byte-swapped pcap: same packets");
	is_str(s.format, "pcap-ns", "byte-swapped ns pcap is still pcap-ns");
	free(buf);
	for (int png = 0; png < 2; png++)
		for (int gz = 0; gz < 2; gz++) {
			struct synth_opts o2 = o;

			if (!png && !gz)
				continue;
			o2.pcapng = png;
			o2.gzip = gz;
			buf = synth_mem(&o2, &n, NULL);
			capsum_mem(buf, n, NULL, &s);
			ok(s.hash == ref.hash && s.packets == ref.packets && s.next_rc == 0,
			   "%s%s: same packets as pcap", png ? "pcapng" : "pcap", gz ? " gzip" : "");
			ok(s.gzip == gz, "gzip flag %d", gz);
			is_str(s.format, png ? "pcapng" : "pcap-ns", "format name");
			if (png && !gz) {
				swap_pcapng(buf, n);
				capsum_mem(buf, n, NULL, &s);
				ok(s.hash == ref.hash && s.next_rc == 0,
				   "byte-swapped pcapng: same packets (%s)", s.err);
			}
			free(buf);
		}
	/* µs pcapng: if_tsresol 6 */
	{
		struct synth_opts o2 = o;

		o2.nanosecond = false;
		buf = synth_mem(&o2, &n, NULL);
		capsum_mem(buf, n, NULL, &ref);
		free(buf);
		o2.pcapng = true;
		buf = synth_mem(&o2, &n, NULL);
		capsum_mem(buf, n, NULL, &s);
		ok(s.hash == ref.hash, "µs pcapng equals µs pcap");
		free(buf);
	}

	/* snaplen: cut packets counted, missing bytes reported, never invented */
	for (int png = 0; png < 2; png++) {
		base_opts(&o);
		o.snaplen = 80;
		o.pcapng = png;
		buf = synth_mem(&o, &n, &st);
		capsum_mem(buf, n, NULL, &s);
		ok(st.truncated > 0, "%s snaplen 80: synth cut %llu packets", png ? "pcapng" : "pcap",
		   (unsigned long long)st.truncated);
		is_int(s.truncated, st.truncated, "cut packets counted");
		is_int(s.payload, st.captured_payload_bytes, "payload: only captured bytes");
		is_int(s.missing, st.payload_bytes - st.captured_payload_bytes, "missing bytes");
		is_int(s.tcp, st.packets, "cut packets still decode to TCP");
		free(buf);
	}
	/* a snaplen inside the TCP header: SHORT, not invented */
	base_opts(&o);
	o.snaplen = 40;
	buf = synth_mem(&o, &n, &st);
	capsum_mem(buf, n, NULL, &s);
	is_int(s.skipped[CAP_SKIP_SHORT], st.packets, "snaplen 40 (EN10MB): every packet too short");
	free(buf);

	/* BPF filters, per link type */
	for (int l = 0; l < 5; l++)
		for (int png = 0; png < 2; png++) {
			base_opts(&o);
			o.link = (enum synth_link)l;
			o.pcapng = png;
			buf = synth_mem(&o, &n, &st);
			capsum_mem(buf, n, "tcp[tcpflags] & tcp-syn != 0", &s);
			ok(s.open_rc == 0 && s.tcp == 2 * o.flows &&
			   s.skipped[CAP_SKIP_FILTER] == st.packets - 2 * o.flows,
			   "%s%s: SYN filter keeps %llu of %llu", link_names[l], png ? " pcapng" : "",
			   (unsigned long long)s.tcp, (unsigned long long)s.packets);
			capsum_mem(buf, n, "src host 10.0.0.2", &s);
			ok(s.tcp > 0 && s.tcp < st.packets / 2, "%s%s: host filter", link_names[l],
			   png ? " pcapng" : "");
			free(buf);
		}
	base_opts(&o);
	buf = synth_mem(&o, &n, &st);
	capsum_mem(buf, n, "tcp and and", &s);
	is_int(s.open_rc, CAPTURE_E_FILTER, "bad filter: CAPTURE_E_FILTER");
	ok(strstr(s.err, "tcp and and") != NULL, "bad filter: message quotes it (%s)", s.err);
	free(buf);

	return exit_status();
}
