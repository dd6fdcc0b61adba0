/*
 * capture.c: capture ingest (see capture.h).
 *
 * Layers, from the file up:
 *   src      the byte source: a FILE* (regular file or stdin), and when the
 *            first two bytes are the gzip magic (RFC 1952 section 2.3.1:
 *            1f 8b) a zlib inflater on top, exposed to libpcap as a FILE*
 *            through fopencookie(3).
 *   reader   pcap files go to libpcap (pcap_fopen_offline_with_tstamp_
 *            precision, nanosecond precision so µs and ns files both yield
 *            ns); pcapng files are read here, because libpcap 1.10 refuses a
 *            pcapng file whose interfaces have different link types ("an
 *            interface has a type N different from the type of the first
 *            interface", sf-pcapng.c) and the issue asks for exactly that.
 *   decode   link layer -> IPv4/IPv6 -> TCP, every read bounds-checked
 *            against caplen.
 */
#include "replay/capture.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <zlib.h>

/* Link-layer header types by their LINKTYPE_ numbers (tcpdump.org
 * linktypes.html) where they differ from the platform's DLT_ values. */
#define LT_RAW		101	/* LINKTYPE_RAW, DLT_RAW is 12 (14 on some BSDs) */
#define LT_IPV4		228
#define LT_IPV6		229
#define LT_NULL		0
#define LT_EN10MB	1
#define LT_LOOP		108
#define LT_SLL		113
#define LT_SLL2		276

/* Ethertypes (IEEE registry). */
#define ETH_IPV4	0x0800
#define ETH_IPV6	0x86dd
#define ETH_8021Q	0x8100
#define ETH_8021AD	0x88a8
#define ETH_QINQ	0x9100	/* pre-standard QinQ outer tag */

/* pcapng block types (draft-ietf-opsawg-pcapng section 4). */
#define PNG_SHB		0x0a0d0d0au
#define PNG_IDB		0x00000001u
#define PNG_PB		0x00000002u	/* obsolete Packet Block */
#define PNG_SPB		0x00000003u
#define PNG_EPB		0x00000006u
#define PNG_BOM		0x1a2b3c4du
/* A block bigger than this is taken as corruption, not as data (libpcap
 * uses 16 MiB as its own limit for pcapng blocks). */
#define PNG_MAX_BLOCK	(16u << 20)
#define PNG_MAX_IFACES	4096u

/* ------------------------------------------------------------------ */
/* src: plain or gzip bytes behind a FILE*                             */

#define SRC_IN	(64 * 1024)

struct src {
	FILE *f;		/* the underlying file */
	bool own_f;		/* fclose(f) at the end (not stdin) */
	bool gzip;
	bool z_init;
	z_stream z;
	bool z_end;		/* saw Z_STREAM_END of the last member */
	int z_err;		/* 0, or CAPTURE_E_GZIP */
	bool z_short;		/* the error is an early end, not corruption */
	char z_msg[96];
	/* bytes read from f before the reader took over (magic sniffing) */
	uint8_t pre[4];
	size_t pre_len, pre_pos;
	uint8_t *in;		/* compressed input, SRC_IN bytes */
	/* decompressed bytes already produced but not yet handed out */
	uint8_t peek[64];
	size_t peek_len, peek_pos;
};

/* Raw bytes from the underlying file, after any sniffed prefix. */
static size_t src_raw_read(struct src *s, uint8_t *buf, size_t n)
{
	size_t got = 0;

	if (s->pre_pos < s->pre_len) {
		got = s->pre_len - s->pre_pos;
		if (got > n)
			got = n;
		memcpy(buf, s->pre + s->pre_pos, got);
		s->pre_pos += got;
	}
	if (got < n)
		got += fread(buf + got, 1, n - got, s->f);
	return got;
}

/* Inflate up to n bytes into buf; 0 at the end or on error (s->z_err). */
static size_t src_inflate(struct src *s, uint8_t *buf, size_t n)
{
	s->z.next_out = buf;
	s->z.avail_out = (uInt)n;
	while (s->z.avail_out > 0 && !s->z_err && !s->z_end) {
		if (s->z.avail_in == 0) {
			size_t got = src_raw_read(s, s->in, SRC_IN);

			if (got == 0) {
				if (ferror(s->f))
					snprintf(s->z_msg, sizeof(s->z_msg),
						 "read error: %s", strerror(errno));
				else {
					snprintf(s->z_msg, sizeof(s->z_msg),
						 "gzip stream ends early");
					s->z_short = true;
				}
				s->z_err = CAPTURE_E_GZIP;
				break;
			}
			s->z.next_in = s->in;
			s->z.avail_in = (uInt)got;
		}
		int rc = inflate(&s->z, Z_NO_FLUSH);

		if (rc == Z_STREAM_END) {
			/* RFC 1952 allows several members back to back: go
			 * on if more input follows, else stop cleanly. */
			if (s->z.avail_in == 0) {
				size_t got = src_raw_read(s, s->in, SRC_IN);

				if (got == 0) {
					s->z_end = true;
					break;
				}
				s->z.next_in = s->in;
				s->z.avail_in = (uInt)got;
			}
			if (inflateReset(&s->z) != Z_OK) {
				snprintf(s->z_msg, sizeof(s->z_msg), "gzip: inflateReset failed");
				s->z_err = CAPTURE_E_GZIP;
			}
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			snprintf(s->z_msg, sizeof(s->z_msg), "corrupt gzip data: %s",
				 s->z.msg ? s->z.msg : zError(rc));
			s->z_err = CAPTURE_E_GZIP;
		}
	}
	return n - s->z.avail_out;
}

static ssize_t src_cookie_read(void *cookie, char *buf, size_t n)
{
	struct src *s = cookie;
	size_t got = 0;

	if (s->peek_pos < s->peek_len) {
		got = s->peek_len - s->peek_pos;
		if (got > n)
			got = n;
		memcpy(buf, s->peek + s->peek_pos, got);
		s->peek_pos += got;
		if (got == n)
			return (ssize_t)got;
	}
	if (s->gzip)
		got += src_inflate(s, (uint8_t *)buf + got, n - got);
	else
		got += src_raw_read(s, (uint8_t *)buf + got, n - got);
	/* A corrupt stream reads as an error, so libpcap stops at once;
	 * an early end reads as end of file and is reported afterwards. */
	if (got == 0 && s->z_err && !s->z_short) {
		errno = EIO;
		return -1;
	}
	return (ssize_t)got;
}

static int src_cookie_close(void *cookie)
{
	(void)cookie;	/* struct src is released by capture_free() */
	return 0;
}

static void src_release(struct src *s)
{
	if (!s)
		return;
	if (s->z_init)
		inflateEnd(&s->z);
	if (s->f && s->own_f)
		fclose(s->f);
	free(s->in);
	free(s);
}

/* ------------------------------------------------------------------ */
/* the capture                                                         */

struct png_iface {
	int linktype;		/* DLT_ value */
	uint32_t snaplen;
	/* timestamp units: ts_div == 0 means 10^-exp10 seconds, else 2^-exp2 */
	bool ts_pow2;
	uint8_t ts_exp;
	int64_t ts_offset_s;
	int filter_idx;		/* index into cap->bpf, -1 before compiled */
};

struct bpf_slot {
	int linktype;
	struct bpf_program prog;
};

struct capture {
	struct src *src;
	FILE *fp;		/* what the reader reads: src->f or a cookie */
	pcap_t *pcap;		/* pcap files */
	int pcap_linktype;
	/* pcapng files */
	bool png;
	bool png_swap;
	uint8_t *blk;		/* current block, body after the 8-byte header */
	size_t blk_cap;
	struct png_iface *ifaces;
	uint32_t nifaces, ifaces_cap;
	/* filter */
	char *filter;
	struct bpf_slot bpf[8];
	int nbpf;
	bool eof;
	struct capture_stats st;
	char err[PCAP_ERRBUF_SIZE + 128];
};

static int capture_set_err(struct capture *cap, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int capture_set_err(struct capture *cap, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cap->err, sizeof(cap->err), fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * libpcap 1.10 reads the 4-byte magic, then the other 20 header bytes, and
 * reports "tried to read 24 file header bytes, only got N" with N counted
 * after the magic: a 10-byte file "got 6", a 4-byte one "got 0".  Say how
 * long the header really was, as for files shorter than the magic.
 */
static int truncated_pcap_header(struct capture *cap, const char *perr)
{
	const char *p = strstr(perr, "only got ");
	size_t got;

	if (p && sscanf(p, "only got %zu", &got) == 1 && got < 20)
		return capture_set_err(cap, CAPTURE_E_TRUNCATED,
				       "truncated file header (%zu of 24 bytes)", got + 4);
	return capture_set_err(cap, CAPTURE_E_TRUNCATED, "truncated file header: %s", perr);
}

const char *capture_error(const struct capture *cap)
{
	return cap->err[0] ? cap->err : "no error";
}

const char *capture_strerror(int code)
{
	switch (code) {
	case CAPTURE_E_FORMAT: return "not a capture file (pcap, pcapng or gzip)";
	case CAPTURE_E_TRUNCATED: return "truncated file header";
	case CAPTURE_E_CORRUPT: return "corrupt capture (absurd record or block length)";
	case CAPTURE_E_GZIP: return "gzip stream corrupt or ends early";
	case CAPTURE_E_FILTER: return "filter does not compile";
	}
	return code < 0 ? strerror(-code) : "no error";
}

const struct capture_stats *capture_stats(const struct capture *cap)
{
	return &cap->st;
}

const char *capture_linktype_name(int linktype)
{
	static __thread char buf[16];

	switch (linktype) {
	case LT_NULL: return "NULL";
	case LT_EN10MB: return "EN10MB";
	case 12: case 14: case LT_RAW: return "RAW";
	case LT_LOOP: return "LOOP";
	case LT_SLL: return "LINUX_SLL";
	case LT_SLL2: return "LINUX_SLL2";
	case LT_IPV4: return "IPV4";
	case LT_IPV6: return "IPV6";
	}
	/* libpcap knows the rest by name */
	const char *n = pcap_datalink_val_to_name(linktype);

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "DLT %d", linktype);
	return buf;
}

const char *capture_skip_name(enum cap_skip why)
{
	static const char *const names[CAP_SKIP__N] = {
		[CAP_SKIP_NONE] = "none",
		[CAP_SKIP_LINKTYPE] = "link type not supported",
		[CAP_SKIP_NOT_IP] = "not IP",
		[CAP_SKIP_FRAGMENT] = "IP fragment (not reassembled)",
		[CAP_SKIP_NOT_TCP] = "not TCP",
		[CAP_SKIP_SHORT] = "headers cut short or malformed",
		[CAP_SKIP_FILTER] = "rejected by filter",
	};

	return (unsigned)why < CAP_SKIP__N ? names[why] : "?";
}

bool capture_linktype_supported(int linktype)
{
	switch (linktype) {
	case LT_NULL: case LT_EN10MB: case 12: case 14: case LT_RAW:
	case LT_LOOP: case LT_SLL: case LT_SLL2: case LT_IPV4: case LT_IPV6:
		return true;
	}
	return false;
}

static void stats_link(struct capture_stats *st, int linktype)
{
	for (int i = 0; i < st->nlinks; i++)
		if (st->linktype[i] == linktype) {
			st->link_packets[i]++;
			return;
		}
	if (st->nlinks < 8) {
		st->linktype[st->nlinks] = linktype;
		st->link_packets[st->nlinks++] = 1;
	}
}

/* Compiles the filter for a link type once; returns its slot or < 0. */
static int filter_for(struct capture *cap, int linktype)
{
	pcap_t *dead;
	int rc;

	for (int i = 0; i < cap->nbpf; i++)
		if (cap->bpf[i].linktype == linktype)
			return i;
	if (cap->nbpf == (int)(sizeof(cap->bpf) / sizeof(cap->bpf[0])))
		return capture_set_err(cap, CAPTURE_E_FILTER,
				       "filter: too many link types");
	dead = pcap_open_dead_with_tstamp_precision(linktype, 262144,
						     PCAP_TSTAMP_PRECISION_NANO);
	if (!dead)
		return capture_set_err(cap, -ENOMEM, "pcap_open_dead failed");
	rc = pcap_compile(dead, &cap->bpf[cap->nbpf].prog, cap->filter, 1,
			  PCAP_NETMASK_UNKNOWN);
	if (rc < 0) {
		capture_set_err(cap, CAPTURE_E_FILTER, "bad filter '%s' for %s: %s",
				cap->filter, capture_linktype_name(linktype),
				pcap_geterr(dead));
		pcap_close(dead);
		return CAPTURE_E_FILTER;
	}
	pcap_close(dead);
	cap->bpf[cap->nbpf].linktype = linktype;
	return cap->nbpf++;
}

/* ------------------------------------------------------------------ */
/* decode                                                              */

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* TCP options (RFC 9293 section 3.1; RFC 7323 window scale; RFC 2018
 * SACK-permitted).  Only read on SYNs, where they mean something. */
static void tcp_options(struct cap_pkt *pkt, const uint8_t *o, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		uint8_t kind = o[i];

		if (kind == 0)		/* end of option list */
			break;
		if (kind == 1) {	/* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= n)
			break;
		uint8_t len = o[i + 1];

		if (len < 2 || i + len > n)
			break;
		if (kind == 2 && len == 4)
			pkt->mss = rd16(o + i + 2);
		else if (kind == 3 && len == 3)
			pkt->wscale = (int8_t)(o[i + 2] > 14 ? 14 : o[i + 2]);
		else if (kind == 4 && len == 2)
			pkt->sack_ok = true;
		i += len;
	}
}

/*
 * TCP at p with tcp_len bytes on the wire (from the IP header), of which
 * avail are in the capture.
 */
static enum cap_skip decode_tcp(struct cap_pkt *pkt, const uint8_t *p,
				uint32_t avail, uint32_t tcp_len)
{
	uint32_t doff;

	if (avail < 20 || tcp_len < 20)
		return CAP_SKIP_SHORT;
	doff = (uint32_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > tcp_len || doff > avail)
		return CAP_SKIP_SHORT;
	pkt->sport = rd16(p);
	pkt->dport = rd16(p + 2);
	pkt->seq = rd32(p + 4);
	pkt->ack = rd32(p + 8);
	pkt->flags = p[13] & 0x3f;
	pkt->win = rd16(p + 14);
	if ((pkt->flags & 0x02) && doff > 20)
		tcp_options(pkt, p + 20, doff - 20);
	pkt->payload = p + doff;
	pkt->payload_len = (avail < tcp_len ? avail : tcp_len) - doff;
	pkt->payload_missing = tcp_len - doff - pkt->payload_len;
	return CAP_SKIP_NONE;
}

static enum cap_skip decode_ipv4(struct cap_pkt *pkt, const uint8_t *p, uint32_t avail)
{
	uint32_t ihl, tot;

	if (avail < 20 || (p[0] >> 4) != 4)
		return avail < 20 ? CAP_SKIP_SHORT : CAP_SKIP_NOT_IP;
	ihl = (uint32_t)(p[0] & 0x0f) * 4;
	tot = rd16(p + 2);
	/* A total length of 0 is what a sender with TSO hands to the
	 * capture point: the real length is what was captured. */
	if (tot == 0)
		tot = avail;
	if (ihl < 20 || ihl > avail || tot < ihl)
		return CAP_SKIP_SHORT;
	pkt->family = AF_INET;
	/* zero the rest, so a 16-byte address compares and hashes whole */
	memset(pkt->src, 0, sizeof(pkt->src));
	memset(pkt->dst, 0, sizeof(pkt->dst));
	memcpy(pkt->src, p + 12, 4);
	memcpy(pkt->dst, p + 16, 4);
	pkt->ttl = p[8];
	/* MF set or a non-zero offset: a fragment (RFC 791 section 3.1) */
	if (rd16(p + 6) & 0x3fff)
		return CAP_SKIP_FRAGMENT;
	if (p[9] != 6)
		return CAP_SKIP_NOT_TCP;
	/* Bytes past tot are link padding, not TCP. */
	if (avail > tot)
		avail = tot;
	return decode_tcp(pkt, p + ihl, avail - ihl, tot - ihl);
}

static enum cap_skip decode_ipv6(struct cap_pkt *pkt, const uint8_t *p, uint32_t avail)
{
	uint32_t plen, off = 40;
	uint8_t nh;

	if (avail < 40 || (p[0] >> 4) != 6)
		return avail < 40 ? CAP_SKIP_SHORT : CAP_SKIP_NOT_IP;
	plen = rd16(p + 4);
	/* 0 with a jumbo option (RFC 2675) or from TSO: use what is there */
	if (plen == 0)
		plen = avail - 40;
	pkt->family = AF_INET6;
	memcpy(pkt->src, p + 8, 16);
	memcpy(pkt->dst, p + 24, 16);
	pkt->ttl = p[7];
	if (avail > 40 + plen)
		avail = 40 + plen;
	nh = p[6];
	/* Extension headers (RFC 8200 section 4). */
	for (int n = 0; n < 16; n++) {
		switch (nh) {
		case 6:
			return decode_tcp(pkt, p + off, avail - off, 40 + plen - off);
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
		case 135:	/* mobility */
			if (off + 2 > avail)
				return CAP_SKIP_SHORT;
			nh = p[off];
			off += ((uint32_t)p[off + 1] + 1) * 8;
			break;
		case 51:	/* AH: length in 4-byte units minus 2 (RFC 4302) */
			if (off + 2 > avail)
				return CAP_SKIP_SHORT;
			nh = p[off];
			off += ((uint32_t)p[off + 1] + 2) * 4;
			break;
		case 44:	/* fragment header */
			return CAP_SKIP_FRAGMENT;
		default:	/* 59 no next header, UDP, ICMPv6, ESP ... */
			return CAP_SKIP_NOT_TCP;
		}
		if (off > avail || off > 40 + plen)
			return CAP_SKIP_SHORT;
	}
	return CAP_SKIP_SHORT;
}

static enum cap_skip decode_ip_by_version(struct cap_pkt *pkt, const uint8_t *p,
					  uint32_t avail)
{
	if (avail < 1)
		return CAP_SKIP_SHORT;
	switch (p[0] >> 4) {
	case 4: return decode_ipv4(pkt, p, avail);
	case 6: return decode_ipv6(pkt, p, avail);
	}
	return CAP_SKIP_NOT_IP;
}

/* An ethertype at p[-2..-1] with avail bytes following; strips VLAN tags. */
static enum cap_skip decode_ethertype(struct cap_pkt *pkt, uint16_t type,
				      const uint8_t *p, uint32_t avail)
{
	while (type == ETH_8021Q || type == ETH_8021AD || type == ETH_QINQ) {
		if (avail < 4)
			return CAP_SKIP_SHORT;
		if (pkt->nvlan < 2)
			pkt->vlan[pkt->nvlan] = rd16(p) & 0x0fff;
		if (pkt->nvlan < UINT8_MAX)
			pkt->nvlan++;
		type = rd16(p + 2);
		p += 4;
		avail -= 4;
	}
	switch (type) {
	case ETH_IPV4: return decode_ipv4(pkt, p, avail);
	case ETH_IPV6: return decode_ipv6(pkt, p, avail);
	}
	return CAP_SKIP_NOT_IP;
}

/* BSD loopback: the address family as a 4-byte word in the writer's byte
 * order (DLT_NULL) or network order (DLT_LOOP).  AF_INET is 2 everywhere;
 * AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (Darwin), 10 (Linux). */
static enum cap_skip decode_null(struct cap_pkt *pkt, const uint8_t *p, uint32_t avail)
{
	uint32_t af;

	if (avail < 4)
		return CAP_SKIP_SHORT;
	af = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	if (af > 0xffff)
		af = rd32(p);
	switch (af) {
	case 2:
		return decode_ipv4(pkt, p + 4, avail - 4);
	case 10: case 24: case 28: case 30:
		return decode_ipv6(pkt, p + 4, avail - 4);
	}
	return CAP_SKIP_NOT_IP;
}

static enum cap_skip decode_link(struct cap_pkt *pkt, const uint8_t *p, uint32_t len)
{
	switch (pkt->linktype) {
	case LT_EN10MB:
		if (len < 14)
			return CAP_SKIP_SHORT;
		return decode_ethertype(pkt, rd16(p + 12), p + 14, len - 14);
	case LT_SLL:	/* 16 bytes, protocol at 14 (pcap-linktype(7)) */
		if (len < 16)
			return CAP_SKIP_SHORT;
		return decode_ethertype(pkt, rd16(p + 14), p + 16, len - 16);
	case LT_SLL2:	/* 20 bytes, protocol at 0 */
		if (len < 20)
			return CAP_SKIP_SHORT;
		return decode_ethertype(pkt, rd16(p), p + 20, len - 20);
	case 12: case 14: case LT_RAW:
		return decode_ip_by_version(pkt, p, len);
	case LT_IPV4:
		return decode_ipv4(pkt, p, len);
	case LT_IPV6:
		return decode_ipv6(pkt, p, len);
	case LT_NULL: case LT_LOOP:
		return decode_null(pkt, p, len);
	}
	return CAP_SKIP_LINKTYPE;
}

/* Counts one record read, whatever becomes of it. */
static void stats_record(struct capture_stats *st, const struct cap_pkt *pkt)
{
	st->packets++;
	st->bytes += pkt->caplen;
	if (st->packets == 1 || pkt->ts_ns < st->first_ts_ns)
		st->first_ts_ns = pkt->ts_ns;
	if (pkt->ts_ns > st->last_ts_ns)
		st->last_ts_ns = pkt->ts_ns;
	if (pkt->caplen < pkt->wirelen)
		st->truncated++;
	stats_link(st, pkt->linktype);
}

/* Fills pkt from one record and updates the counters. */
static void capture_decode(struct capture *cap, struct cap_pkt *pkt, const uint8_t *data)
{
	struct capture_stats *st = &cap->st;

	stats_record(st, pkt);
	pkt->skip = decode_link(pkt, data, pkt->caplen);
	if (pkt->skip == CAP_SKIP_NONE) {
		st->tcp++;
		st->missing_bytes += pkt->payload_missing;
	}
	st->skipped[pkt->skip]++;
}

static inline void pkt_reset(struct cap_pkt *pkt)
{
	/* Only the fields decode may leave untouched need resetting; a
	 * full memset of the struct costs more than the decode itself. */
	pkt->nvlan = 0;
	pkt->family = 0;
	pkt->mss = 0;
	pkt->wscale = -1;
	pkt->sack_ok = false;
	pkt->payload = NULL;
	pkt->payload_len = 0;
	pkt->payload_missing = 0;
}

/* ------------------------------------------------------------------ */
/* pcap through libpcap                                                */

static int pcap_next_pkt(struct capture *cap, struct cap_pkt *pkt, const uint8_t **data)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	int rc = pcap_next_ex(cap->pcap, &h, &d);

	if (rc == 1) {
		pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
		pkt->caplen = h->caplen;
		pkt->wirelen = h->len;
		pkt->linktype = cap->pcap_linktype;
		pkt->ifindex = 0;
		*data = d;
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK || rc == 0)
		return 0;
	/* A gzip problem shows up to libpcap as a short or failed read. */
	if (cap->src->z_err)
		return 0;	/* reported by capture_next() */
	const char *e = pcap_geterr(cap->pcap);

	/* sf-pcap.c: "truncated dump file; tried to read N header bytes,
	 * only got M" (or "captured bytes"): the file ends inside a record. */
	if (!strncmp(e, "truncated dump file", 19)) {
		cap->st.ended_mid_record = true;
		return 0;
	}
	/* "invalid packet capture length N, bigger than maximum of M" and
	 * read errors: nothing after this point can be trusted. */
	return capture_set_err(cap, CAPTURE_E_CORRUPT, "%s", e);
}

/* ------------------------------------------------------------------ */
/* pcapng, read here                                                   */

static inline uint16_t png16(const struct capture *cap, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return cap->png_swap ? __builtin_bswap16(v) : v;
}

static inline uint32_t png32(const struct capture *cap, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return cap->png_swap ? __builtin_bswap32(v) : v;
}

static inline uint64_t png64(const struct capture *cap, const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return cap->png_swap ? __builtin_bswap64(v) : v;
}

/* LINKTYPE_ value in a file -> DLT_ value libpcap (and BPF) use. */
static int linktype_to_dlt(int lt)
{
	if (lt == LT_RAW)
		return DLT_RAW;
	return lt;
}

static int png_add_iface(struct capture *cap, const uint8_t *b, uint32_t n)
{
	struct png_iface *ifc;

	if (n < 8)
		return capture_set_err(cap, CAPTURE_E_CORRUPT,
				       "pcapng interface block too short");
	if (cap->nifaces == PNG_MAX_IFACES)
		return capture_set_err(cap, CAPTURE_E_CORRUPT,
				       "pcapng file declares more than %u interfaces",
				       PNG_MAX_IFACES);
	if (cap->nifaces == cap->ifaces_cap) {
		uint32_t nc = cap->ifaces_cap ? cap->ifaces_cap * 2 : 4;
		void *p = realloc(cap->ifaces, nc * sizeof(*cap->ifaces));

		if (!p)
			return -ENOMEM;
		cap->ifaces = p;
		cap->ifaces_cap = nc;
	}
	ifc = &cap->ifaces[cap->nifaces++];
	memset(ifc, 0, sizeof(*ifc));
	ifc->linktype = linktype_to_dlt(png16(cap, b));
	ifc->snaplen = png32(cap, b + 4);
	ifc->ts_exp = 6;	/* default resolution: µs */
	ifc->filter_idx = -1;
	/* options: code u16, length u16, value padded to 4 */
	for (uint32_t o = 8; o + 4 <= n;) {
		uint16_t code = png16(cap, b + o), len = png16(cap, b + o + 2);

		if (code == 0 || o + 4 + len > n)
			break;
		if (code == 9 && len >= 1) {		/* if_tsresol */
			ifc->ts_pow2 = b[o + 4] & 0x80;
			ifc->ts_exp = b[o + 4] & 0x7f;
			if (ifc->ts_exp > 63)
				return capture_set_err(cap, CAPTURE_E_CORRUPT,
						       "pcapng: bad if_tsresol");
		} else if (code == 14 && len >= 8) {	/* if_tsoffset, s */
			ifc->ts_offset_s = (int64_t)png64(cap, b + o + 4);
		}
		o += 4 + ((len + 3u) & ~3u);
	}
	return 0;
}

static uint64_t png_ts_ns(const struct png_iface *ifc, uint64_t ts)
{
	unsigned __int128 ns;

	if (ifc->ts_pow2) {
		uint64_t sec = ifc->ts_exp >= 64 ? 0 : ts >> ifc->ts_exp;
		uint64_t frac = ts - (sec << ifc->ts_exp);

		ns = (unsigned __int128)sec * 1000000000u +
		     (((unsigned __int128)frac * 1000000000u) >> ifc->ts_exp);
	} else if (ifc->ts_exp <= 9) {
		uint64_t m = 1;

		for (int i = ifc->ts_exp; i < 9; i++)
			m *= 10;
		ns = (unsigned __int128)ts * m;
	} else {
		uint64_t d = 1;

		for (int i = 9; i < ifc->ts_exp && i < 28; i++)
			d = d > UINT64_MAX / 10 ? UINT64_MAX : d * 10;
		ns = ts / d;
	}
	ns += (unsigned __int128)((__int128)ifc->ts_offset_s * 1000000000);
	return (uint64_t)ns;
}

/* Reads n bytes; returns how many were read (short = end of file). */
static size_t png_read(struct capture *cap, void *buf, size_t n)
{
	return fread(buf, 1, n, cap->fp);
}

/* Reads a block body of n bytes into cap->blk, growing the buffer only
 * as the bytes arrive: a block length is the file's word, so a short
 * hostile file claiming PNG_MAX_BLOCK must not get 16 MiB allocated
 * (memory stays within twice what the file really holds).  Returns n,
 * less at the end of the file, or -ENOMEM. */
static ssize_t png_read_body(struct capture *cap, size_t n)
{
	size_t have = 0;

	for (;;) {
		size_t upto = n < cap->blk_cap ? n : cap->blk_cap;
		size_t got = png_read(cap, cap->blk + have, upto - have);
		size_t nc;
		void *p;

		have += got;
		if (have == n || have < upto)
			return (ssize_t)have;
		nc = cap->blk_cap ? cap->blk_cap * 2 : 4096;
		if (nc > n)
			nc = n;
		p = realloc(cap->blk, nc);
		if (!p)
			return -ENOMEM;
		cap->blk = p;
		cap->blk_cap = nc;
	}
}

static int png_section_header(struct capture *cap, const uint8_t hdr[8])
{
	uint8_t bom[4];
	uint32_t v, len;

	if (png_read(cap, bom, 4) != 4) {
		if (cap->st.packets == 0 && cap->nifaces == 0)
			return capture_set_err(cap, CAPTURE_E_TRUNCATED,
					       "truncated pcapng section header");
		cap->st.ended_mid_record = true;
		return 0;
	}
	memcpy(&v, bom, 4);
	if (v == PNG_BOM)
		cap->png_swap = false;
	else if (v == __builtin_bswap32(PNG_BOM))
		cap->png_swap = true;
	else
		return capture_set_err(cap, CAPTURE_E_CORRUPT,
				       "pcapng section header with bad byte-order magic");
	len = png32(cap, hdr + 4);
	if (len < 28 || len % 4 || len > PNG_MAX_BLOCK)
		return capture_set_err(cap, CAPTURE_E_CORRUPT,
				       "pcapng section header length %u is invalid", len);
	/* A new section starts a new interface list (pcapng 4.1). */
	cap->nifaces = 0;
	return 1;
}

/* Reads blocks until one packet; 1 = packet, 0 = end, < 0 error. */
static int png_next_pkt(struct capture *cap, struct cap_pkt *pkt, const uint8_t **data)
{
	for (;;) {
		uint8_t hdr[8];
		uint32_t type, len, body;
		size_t got = png_read(cap, hdr, 8);
		ssize_t rd;
		int rc;

		if (got == 0)
			return 0;
		if (got < 8) {
			cap->st.ended_mid_record = true;
			return 0;
		}
		memcpy(&type, hdr, 4);	/* SHB's type reads the same both ways */
		if (type == PNG_SHB) {
			rc = png_section_header(cap, hdr);
			if (rc <= 0)
				return rc;
			len = png32(cap, hdr + 4);
			body = len - 12;	/* after type, len, bom */
			rd = png_read_body(cap, body);
			if (rd < 0)
				return (int)rd;
			if ((size_t)rd != body) {
				cap->st.ended_mid_record = true;
				return 0;
			}
			if (png32(cap, cap->blk + body - 4) != len)
				return capture_set_err(cap, CAPTURE_E_CORRUPT,
						       "pcapng block lengths disagree");
			continue;
		}
		type = png32(cap, hdr);
		len = png32(cap, hdr + 4);
		if (len < 12 || len % 4 || len > PNG_MAX_BLOCK)
			return capture_set_err(cap, CAPTURE_E_CORRUPT,
					       "pcapng block length %u is invalid", len);
		body = len - 8;		/* incl. the trailing length */
		rd = png_read_body(cap, body);
		if (rd < 0)
			return (int)rd;
		if ((size_t)rd != body) {
			cap->st.ended_mid_record = true;
			return 0;
		}
		if (png32(cap, cap->blk + body - 4) != len)
			return capture_set_err(cap, CAPTURE_E_CORRUPT,
					       "pcapng block lengths disagree");
		body -= 4;
		const uint8_t *b = cap->blk;
		uint32_t ifid = 0, caplen, origlen, hlen;
		uint64_t ts = 0;

		switch (type) {
		case PNG_IDB:
			rc = png_add_iface(cap, b, body);
			if (rc < 0)
				return rc;
			continue;
		case PNG_EPB:
		case PNG_PB:
			/* Same layout; the obsolete Packet Block has a 16-bit
			 * interface id followed by a 16-bit drop count. */
			if (body < 20)
				return capture_set_err(cap, CAPTURE_E_CORRUPT,
						       "pcapng packet block too short");
			ifid = type == PNG_EPB ? png32(cap, b) : png16(cap, b);
			ts = (uint64_t)png32(cap, b + 4) << 32 | png32(cap, b + 8);
			caplen = png32(cap, b + 12);
			origlen = png32(cap, b + 16);
			hlen = 20;
			break;
		case PNG_SPB:
			if (body < 4)
				return capture_set_err(cap, CAPTURE_E_CORRUPT,
						       "pcapng packet block too short");
			origlen = png32(cap, b);
			hlen = 4;
			/* caplen: what fits, at most the snaplen (4.4) */
			caplen = origlen < body - 4 ? origlen : body - 4;
			if (cap->nifaces && cap->ifaces[0].snaplen &&
			    caplen > cap->ifaces[0].snaplen)
				caplen = cap->ifaces[0].snaplen;
			break;
		default:	/* name resolution, statistics, custom... */
			continue;
		}
		if (caplen > body - hlen)
			return capture_set_err(cap, CAPTURE_E_CORRUPT,
					       "pcapng packet length %u exceeds its block",
					       caplen);
		if (ifid >= cap->nifaces)
			return capture_set_err(cap, CAPTURE_E_CORRUPT,
					       "pcapng packet for undeclared interface %u",
					       ifid);
		const struct png_iface *ifc = &cap->ifaces[ifid];

		pkt->ts_ns = type == PNG_SPB ? 0 : png_ts_ns(ifc, ts);
		pkt->caplen = caplen;
		pkt->wirelen = origlen < caplen ? caplen : origlen;
		pkt->linktype = ifc->linktype;
		pkt->ifindex = ifid;
		*data = b + hlen;
		return 1;
	}
}

/* ------------------------------------------------------------------ */
/* open / next / free                                                  */

static bool is_pcap_magic(const uint8_t m[4])
{
	static const uint32_t magics[] = {
		0xa1b2c3d4,	/* µs */
		0xa1b23c4d,	/* ns */
		0xa1b2cd34,	/* Kuznetzov's modified pcap; libpcap reads it */
	};
	uint32_t be = rd32(m), le = (uint32_t)m[0] | (uint32_t)m[1] << 8 |
				    (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;

	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (be == magics[i] || le == magics[i])
			return true;
	return false;
}

static int capture_open_src(struct capture **out, struct capture *cap,
			    const char *filter, char *err, size_t errlen);

int capture_open(struct capture **out, const char *path, const char *filter,
		 char *err, size_t errlen)
{
	FILE *f;
	struct stat sb;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!strcmp(path, "-"))
		return capture_open_fp(out, stdin, filter, err, errlen);
	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fclose(f);
		if (err && errlen)
			snprintf(err, errlen, "is a directory");
		return -EISDIR;
	}
	return capture_open_fp(out, f, filter, err, errlen);
}

int capture_open_fp(struct capture **out, FILE *f, const char *filter,
		    char *err, size_t errlen)
{
	struct capture *cap;
	struct src *s;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	cap = calloc(1, sizeof(*cap));
	s = calloc(1, sizeof(*s));
	if (!cap || !s) {
		free(cap);
		free(s);
		if (f != stdin)
			fclose(f);
		return -ENOMEM;
	}
	cap->src = s;
	s->f = f;
	s->own_f = f != stdin;
	return capture_open_src(out, cap, filter, err, errlen);
}

static int capture_open_src(struct capture **out, struct capture *cap,
			    const char *filter, char *err, size_t errlen)
{
	struct src *s = cap->src;
	uint8_t magic[4];
	size_t got;
	int rc = 0;
	char perr[PCAP_ERRBUF_SIZE];

	/* Sniff the first bytes; they are replayed to the reader through
	 * s->pre, so pipes work as well as files. */
	got = fread(s->pre, 1, 4, s->f);
	s->pre_len = got;
	if (got >= 2 && s->pre[0] == 0x1f && s->pre[1] == 0x8b) {
		s->gzip = true;
		s->in = malloc(SRC_IN);
		if (!s->in) {
			rc = -ENOMEM;
			goto fail;
		}
		/* 16 + MAX_WBITS: a gzip wrapper, not zlib (zlib.h) */
		if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
			rc = -ENOMEM;
			goto fail;
		}
		s->z_init = true;
		s->peek_len = src_inflate(s, s->peek, 4);
		memcpy(magic, s->peek, s->peek_len);
		got = s->peek_len;
		if (s->z_err && (!s->z_short || got < 4)) {
			rc = capture_set_err(cap, CAPTURE_E_GZIP, "%s", s->z_msg);
			goto fail;
		}
	} else {
		if (ferror(s->f)) {
			rc = -errno;
			capture_set_err(cap, rc, "read error: %s", strerror(errno));
			goto fail;
		}
		memcpy(magic, s->pre, got);
	}
	cap->st.gzip = s->gzip;
	if (got < 4) {
		if (got == 0)
			rc = capture_set_err(cap, CAPTURE_E_TRUNCATED, "empty file");
		else
			rc = capture_set_err(cap, CAPTURE_E_TRUNCATED,
					     "truncated file header (%zu bytes)", got);
		goto fail;
	}
	cap->png = rd32(magic) == PNG_SHB;
	if (!cap->png && !is_pcap_magic(magic)) {
		rc = capture_set_err(cap, CAPTURE_E_FORMAT,
				     "not a capture file (pcap, pcapng or gzip)");
		goto fail;
	}
	if (!s->gzip && s->f != stdin && ftell(s->f) == (long)got &&
	    fseek(s->f, 0, SEEK_SET) == 0) {
		/* A plain seekable file: libpcap reads it straight. */
		s->pre_len = 0;
		cap->fp = s->f;
		s->own_f = false;	/* pcap_close() / fclose(cap->fp) own it */
	} else {
		cookie_io_functions_t io = {
			.read = src_cookie_read, .close = src_cookie_close,
		};

		cap->fp = fopencookie(s, "rb", io);
		if (!cap->fp) {
			rc = -errno;
			goto fail;
		}
	}
	/* larger reads than glibc's st_blksize default; kept under malloc's
	 * mmap threshold so that opening stays cheap */
	setvbuf(cap->fp, NULL, _IOFBF, 64 * 1024);
	if (cap->png) {
		uint8_t hdr[8];

		snprintf(cap->st.format, sizeof(cap->st.format), "pcapng");
		/* the first block must be a section header */
		if (png_read(cap, hdr, 8) != 8) {
			rc = capture_set_err(cap, CAPTURE_E_TRUNCATED,
					     "truncated pcapng section header");
			goto fail;
		}
		rc = png_section_header(cap, hdr);
		if (rc <= 0) {
			if (rc == 0)
				rc = capture_set_err(cap, CAPTURE_E_TRUNCATED,
						     "truncated pcapng section header");
			goto fail;
		}
		uint32_t body = png32(cap, hdr + 4) - 12;
		ssize_t rd;

		cap->blk = malloc(4096);
		if (!cap->blk) {
			rc = -ENOMEM;
			goto fail;
		}
		cap->blk_cap = 4096;
		rd = png_read_body(cap, body);
		if (rd < 0) {
			rc = (int)rd;
			goto fail;
		}
		if ((size_t)rd != body) {
			rc = capture_set_err(cap, CAPTURE_E_TRUNCATED,
					     "truncated pcapng section header");
			goto fail;
		}
		if (png32(cap, cap->blk + body - 4) != png32(cap, hdr + 4)) {
			rc = capture_set_err(cap, CAPTURE_E_CORRUPT,
					     "pcapng block lengths disagree");
			goto fail;
		}
	} else {
		cap->pcap = pcap_fopen_offline_with_tstamp_precision(
			cap->fp, PCAP_TSTAMP_PRECISION_NANO, perr);
		if (!cap->pcap) {
			if (s->z_err)
				rc = capture_set_err(cap, CAPTURE_E_GZIP, "%s", s->z_msg);
			else if (strstr(perr, "truncated"))
				rc = truncated_pcap_header(cap, perr);
			else
				rc = capture_set_err(cap, CAPTURE_E_FORMAT, "%s", perr);
			goto fail;
		}
		cap->pcap_linktype = pcap_datalink(cap->pcap);
		snprintf(cap->st.format, sizeof(cap->st.format), "%s",
			 rd32(magic) == 0xa1b23c4d || rd32(magic) == 0x4d3cb2a1 ?
			 "pcap-ns" : "pcap");
	}
	if (filter && *filter) {
		cap->filter = strdup(filter);
		if (!cap->filter) {
			rc = -ENOMEM;
			goto fail;
		}
		/* Check the syntax now (pcapng interfaces come later). */
		rc = filter_for(cap, cap->png ? LT_EN10MB : cap->pcap_linktype);
		if (rc < 0)
			goto fail;
	}
	*out = cap;
	return 0;
fail:
	if (err && errlen)
		snprintf(err, errlen, "%s", cap->err[0] ? cap->err :
			 rc == -ENOMEM ? "out of memory" : strerror(-rc));
	capture_free(cap);
	return rc < 0 ? rc : CAPTURE_E_FORMAT;
}

int capture_next(struct capture *cap, struct cap_pkt *pkt)
{
	const uint8_t *data = NULL;
	int rc;

	if (cap->eof)
		return 0;
	pkt_reset(pkt);
	rc = cap->png ? png_next_pkt(cap, pkt, &data) : pcap_next_pkt(cap, pkt, &data);
	if (rc <= 0) {
		cap->eof = true;
		if (rc == 0 && cap->src->z_err)
			return capture_set_err(cap, CAPTURE_E_GZIP, "%s", cap->src->z_msg);
		if (rc == 0 && cap->png && ferror(cap->fp))
			return capture_set_err(cap, -EIO, "read error");
		return rc;
	}
	if (cap->filter) {
		struct png_iface *ifc = cap->png ? &cap->ifaces[pkt->ifindex] : NULL;
		int idx = ifc ? ifc->filter_idx : 0;
		struct pcap_pkthdr h = {
			.caplen = pkt->caplen, .len = pkt->wirelen,
		};

		if (idx < 0) {
			idx = filter_for(cap, pkt->linktype);
			if (idx < 0) {
				cap->eof = true;
				return idx;
			}
			ifc->filter_idx = idx;
		}
		if (!pcap_offline_filter(&cap->bpf[idx].prog, &h, data)) {
			/* counted as read, skipped before decoding */
			stats_record(&cap->st, pkt);
			pkt->skip = CAP_SKIP_FILTER;
			cap->st.skipped[CAP_SKIP_FILTER]++;
			return 1;
		}
	}
	capture_decode(cap, pkt, data);
	return 1;
}

void capture_free(struct capture *cap)
{
	if (!cap)
		return;
	for (int i = 0; i < cap->nbpf; i++)
		pcap_freecode(&cap->bpf[i].prog);
	if (cap->pcap)
		pcap_close(cap->pcap);	/* fclose(cap->fp) */
	else if (cap->fp)
		fclose(cap->fp);
	src_release(cap->src);
	free(cap->filter);
	free(cap->ifaces);
	free(cap->blk);
	free(cap);
}
