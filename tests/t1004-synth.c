/*
 * t1004: synth's output: the same seed gives the same bytes (in memory
 * and on disk), another seed other bytes; every IPv4 header and TCP
 * checksum verifies; the client stream holds exactly the requests asked
 * for, with JSON bodies that parse and chunked bodies that decode; the
 * impaired stream reassembles to the clean one; stats add up.
 */
#include "tests/tap.h"
#include "tests/ingest.h"

#include <jansson.h>
#include <pcap/pcap.h>
#include <unistd.h>

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Verifies IPv4 and TCP checksums of every frame; returns bad count or -1. */
static int check_sums(const uint8_t *buf, size_t n, size_t linkhdr, int *frames)
{
	char err[PCAP_ERRBUF_SIZE];
	FILE *f = fmemopen((void *)buf, n, "rb");
	pcap_t *p = pcap_fopen_offline(f, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	int bad = 0;

	if (!p)
		return -1;
	*frames = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		const uint8_t *ip = d + linkhdr, *th;
		uint32_t sum;
		size_t tl;

		(*frames)++;
		if ((ip[0] >> 4) == 4) {
			if (fold(sum16(ip, 20, 0)) != 0xffff)
				bad++;
			th = ip + 20;
			tl = (size_t)(ip[2] << 8 | ip[3]) - 20;
			sum = sum16(ip + 12, 8, 0);
		} else {
			th = ip + 40;
			tl = (size_t)(ip[4] << 8 | ip[5]);
			sum = sum16(ip + 8, 32, 0);
		}
		sum += 6 + (uint32_t)tl;
		if (fold(sum16(th, tl, sum)) != 0xffff)
			bad++;
	}
	pcap_close(p);
	return bad;
}

/* Client streams by flow, rebuilt by sequence number (the first copy of
 * a byte wins); flows indexed by client port - 32768. */
struct streams {
	uint8_t *c2s[8], *s2c[8];
	size_t clen[8], slen[8];
	uint32_t cisn[8], sisn[8];
};

static void streams_build(const uint8_t *buf, size_t n, struct streams *ss)
{
	struct capture *cap;
	struct cap_pkt p;
	char err[256];

	memset(ss, 0, sizeof(*ss));
	capture_open_fp(&cap, fmemopen((void *)buf, n, "rb"), NULL, err, sizeof(err));
	while (capture_next(cap, &p) == 1) {
		int c2s = p.dport == 80, fl = (c2s ? p.sport : p.dport) - 32768;

		if (p.skip || fl < 0 || fl >= 8)
			continue;
		if (p.flags & 0x02) {
			if (c2s) {
				ss->cisn[fl] = p.seq;
				ss->c2s[fl] = calloc(1, 1 << 20);
			} else {
				ss->sisn[fl] = p.seq;
				ss->s2c[fl] = calloc(1, 1 << 20);
			}
			continue;
		}
		if (!p.payload_len)
			continue;
		uint32_t off = p.seq - (c2s ? ss->cisn[fl] : ss->sisn[fl]) - 1;
		uint8_t *dst = c2s ? ss->c2s[fl] : ss->s2c[fl];
		size_t *len = c2s ? &ss->clen[fl] : &ss->slen[fl];

		if (!dst || off + p.payload_len > (1 << 20))
			continue;
		memcpy(dst + off, p.payload, p.payload_len);
		if (off + p.payload_len > *len)
			*len = off + p.payload_len;
	}
	capture_free(cap);
}

static void streams_free(struct streams *ss)
{
	for (int i = 0; i < 8; i++) {
		free(ss->c2s[i]);
		free(ss->s2c[i]);
	}
}

/* Walks a client stream: counts requests, checks JSON bodies parse. */
static int parse_requests(const uint8_t *s, size_t n, int *bad_json, int *chunked)
{
	size_t pos = 0;
	int reqs = 0;

	while (pos < n) {
		const char *hdr = (const char *)s + pos;
		const uint8_t *end = memmem(s + pos, n - pos, "\r\n\r\n", 4);

		if (!end)
			return -1;
		size_t hlen = (size_t)(end - (s + pos)) + 4;
		char *h = strndup(hdr, hlen);
		const char *cl = strstr(h, "Content-Length: ");
		int json = strstr(h, "application/json") != NULL && strncmp(h, "GET", 3);
		char *body = NULL;
		size_t blen = 0;

		pos += hlen;
		if (cl) {
			blen = strtoul(cl + 16, NULL, 10);
			body = malloc(blen + 1);
			memcpy(body, s + pos, blen);
			pos += blen;
		} else if (strstr(h, "Transfer-Encoding: chunked")) {
			(*chunked)++;
			body = malloc(n);
			for (;;) {
				char *e;
				unsigned long sz = strtoul((const char *)s + pos, &e, 16);

				pos = (size_t)((const uint8_t *)e - s) + 2;
				if (!sz) {
					pos += 2;
					break;
				}
				memcpy(body + blen, s + pos, sz);
				blen += sz;
				pos += sz + 2;
			}
		}
		if (json && body) {
			json_error_t je;
			json_t *j = json_loadb(body, blen, 0, &je);

			if (!j)
				(*bad_json)++;
			json_decref(j);
		}
		free(body);
		free(h);
		reqs++;
	}
	return reqs;
}

int main(void)
{
	struct synth_opts o;
	struct synth_stats st, st2;
	uint8_t *a, *b;
	size_t na, nb;
	int frames = 0;

	plan_lazy();

	/* determinism */
	for (int cfg = 0; cfg < 4; cfg++) {
		synth_opts_init(&o);
		o.flows = 5;
		o.requests = 4;
		o.framing = cfg == 0 ? SYNTH_FRAMING_MIXED : SYNTH_FRAMING_CHUNKED;
		o.json = cfg & 1;
		o.body_size = 900;
		o.segment_size = 300;
		o.reorder = o.retransmit = o.duplicate = 0.2;
		o.pcapng = cfg == 2;
		o.gzip = cfg == 3;
		o.nanosecond = cfg >= 2;
		o.ipv6 = cfg == 1;
		o.seed = 1234;
		a = synth_mem(&o, &na, &st);
		b = synth_mem(&o, &nb, &st2);
		ok(na == nb && !memcmp(a, b, na) && !memcmp(&st, &st2, sizeof(st)),
		   "config %d: same seed, same bytes (%zu) and stats", cfg, na);
		free(b);
		o.seed = 1235;
		b = synth_mem(&o, &nb, NULL);
		ok(na != nb || memcmp(a, b, na), "config %d: another seed, other bytes", cfg);
		free(b);
		o.seed = 1234;
		{
			char path[] = "/tmp/pktmem-t1004-XXXXXX";
			int fd = mkstemp(path);

			if (fd >= 0)
				close(fd);
			ok(fd >= 0 && synth_write(&o, path, NULL) == 0 &&
			   (b = slurp(path, &nb)) && nb == na && !memcmp(a, b, na),
			   "config %d: synth_write() to a file writes the same bytes", cfg);
			unlink(path);
			free(b);
			b = NULL;
		}
		free(a);
	}

	/* checksums on every frame */
	{
		static const struct { enum synth_link l; int v6, vlan; size_t hdr; const char *n; } c[] = {
			{ SYNTH_LINK_EN10MB, 0, 0, 14, "en10mb ipv4" },
			{ SYNTH_LINK_EN10MB, 1, 1, 18, "en10mb ipv6 vlan" },
			{ SYNTH_LINK_RAW, 0, 0, 0, "raw ipv4" },
			{ SYNTH_LINK_SLL, 1, 0, 16, "sll ipv6" },
			{ SYNTH_LINK_SLL2, 0, 1, 24, "sll2 ipv4 vlan" },
			{ SYNTH_LINK_NULL, 1, 0, 4, "null ipv6" },
		};
		for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			synth_opts_init(&o);
			o.flows = 3;
			o.requests = 5;
			o.framing = SYNTH_FRAMING_MIXED;
			o.json = true;
			o.body_size = 1777;	/* odd: odd-length segments */
			o.segment_size = 555;
			o.retransmit = 0.1;
			o.link = c[i].l;
			o.ipv6 = c[i].v6;
			o.vlan = c[i].vlan ? 7 : -1;
			a = synth_mem(&o, &na, &st);
			int bad = check_sums(a, na, c[i].hdr, &frames);

			ok(bad == 0 && frames == (int)st.packets,
			   "%s: IP and TCP checksums verify on all %d frames (%d bad)", c[i].n,
			   frames, bad);
			free(a);
		}
	}

	/* stream content */
	for (int fr = 0; fr < 4; fr++) {
		struct streams ss;
		int total = 0, bad_json = 0, chunked = 0, responses = 0;
		uint64_t bytes = 0;

		synth_opts_init(&o);
		o.flows = 4;
		o.requests = 6;
		o.pipeline = 3;
		o.framing = (enum synth_framing)fr;
		o.json = true;
		o.body_size = 2500;
		o.segment_size = 700;
		o.seed = 77;
		a = synth_mem(&o, &na, &st);
		streams_build(a, na, &ss);
		for (int f = 0; f < 4; f++) {
			int r = parse_requests(ss.c2s[f], ss.clen[f], &bad_json, &chunked);

			total += r < 0 ? 0 : r;
			bytes += ss.clen[f];
			for (const uint8_t *p = ss.s2c[f]; p && (p = memmem(p, ss.slen[f] - (size_t)(p - ss.s2c[f]),
							      "HTTP/1.1 200 OK", 15)); p++)
				responses++;
		}
		is_int(total, 24, "framing %d: 24 requests in the client streams", fr);
		is_int(st.requests, 24, "framing %d: stats count 24 requests", fr);
		is_int(bytes, st.c2s_bytes, "framing %d: client stream bytes match the stats", fr);
		is_int(responses, 24, "framing %d: 24 responses", fr);
		is_int(bad_json, 0, "framing %d: every JSON body parses", fr);
		if (fr == SYNTH_FRAMING_CHUNKED)
			is_int(chunked, 24, "chunked: every body chunked and decoded");
		if (fr == SYNTH_FRAMING_MIXED)
			ok(chunked > 0 && chunked < 24, "mixed: some chunked (%d)", chunked);
		streams_free(&ss);
		free(a);
	}

	/* impaired: reassembles to the clean stream; stats add up */
	{
		struct streams clean, imp;
		int same = 1;

		synth_opts_init(&o);
		o.flows = 4;
		o.requests = 5;
		o.json = true;
		o.body_size = 3000;
		o.segment_size = 256;
		o.seed = 5;
		a = synth_mem(&o, &na, &st);
		o.reorder = 0.3;
		o.retransmit = 0.2;
		o.duplicate = 0.1;
		b = synth_mem(&o, &nb, &st2);
		streams_build(a, na, &clean);
		streams_build(b, nb, &imp);
		for (int f = 0; f < 4; f++)
			if (clean.clen[f] != imp.clen[f] ||
			    memcmp(clean.c2s[f], imp.c2s[f], clean.clen[f]))
				same = 0;
		ok(same, "impaired client streams reassemble to the clean ones");
		ok(st2.reordered > 0 && st2.retransmitted > 0 && st2.duplicated > 0,
		   "impairments happened: %llu reordered, %llu retransmitted, %llu duplicated",
		   (unsigned long long)st2.reordered, (unsigned long long)st2.retransmitted,
		   (unsigned long long)st2.duplicated);
		is_int(st2.packets, st.packets + st2.retransmitted + st2.duplicated,
		       "extra packets = retransmitted + duplicated");
		is_int(st2.c2s_bytes, st.c2s_bytes, "same unique client bytes");
		is_int(st.data_segments, st2.data_segments, "same first-copy data segments");
		streams_free(&clean);
		streams_free(&imp);
		free(a);
		free(b);
	}

	/* option checks */
	synth_opts_init(&o);
	o.flows = 0;
	ok(synth_opts_check(&o) != NULL && synth_write_mem(&o, &a, &na, NULL) == -EINVAL,
	   "0 flows rejected with -EINVAL");
	synth_opts_init(&o);
	o.vlan = 5;
	o.link = SYNTH_LINK_RAW;
	ok(synth_opts_check(&o) != NULL, "VLAN on raw IP rejected");
	synth_opts_init(&o);
	o.segment_size = 70000;
	ok(synth_opts_check(&o) != NULL, "segment size over 65000 rejected");
	synth_opts_init(&o);
	o.reorder = 1.5;
	ok(synth_opts_check(&o) != NULL, "rate over 1 rejected");
	synth_opts_init(&o);
	ok(synth_opts_check(&o) == NULL, "defaults accepted");
	return exit_status();
}
