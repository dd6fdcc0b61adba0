/*
 * capture_decode.c: one record's bytes -> struct cap_pkt (capture_int.h):
 * link layer -> IPv4/IPv6 -> TCP, every read bounds-checked against caplen
 * through lib/bytes.h; and the per-record counters.
 */
#include "replay/capture_int.h"

#include "lib/bytes.h"

#include <string.h>
#include <sys/socket.h>

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

/* TCP options (RFC 9293 section 3.1; RFC 7323 window scale; RFC 2018
 * SACK-permitted).  Only read on SYNs, where they mean something. */
static void tcp_options(struct cap_pkt *pkt, const uint8_t *o, uint32_t n)
{
	struct pm_cur c = pm_cur(o, n);
	uint32_t i = 0;

	while (i < n) {
		uint8_t kind = pm_u8(&c, i);

		if (kind == 0)		/* end of option list */
			break;
		if (kind == 1) {	/* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= n)
			break;
		uint8_t len = pm_u8(&c, i + 1);

		if (len < 2 || i + len > n)
			break;
		if (kind == 2 && len == 4) {
			pkt->mss = pm_be16(&c, i + 2);
		} else if (kind == 3 && len == 3) {
			uint8_t ws = pm_u8(&c, i + 2);

			pkt->wscale = (int8_t)(ws > 14 ? 14 : ws);
		} else if (kind == 4 && len == 2) {
			pkt->sack_ok = true;
		}
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
	struct pm_cur c = pm_cur(p, avail);
	uint32_t doff;

	if (avail < 20 || tcp_len < 20)
		return CAP_SKIP_SHORT;
	doff = (uint32_t)(pm_u8(&c, 12) >> 4) * 4;
	if (doff < 20 || doff > tcp_len || doff > avail)
		return CAP_SKIP_SHORT;
	pkt->sport = pm_be16(&c, 0);
	pkt->dport = pm_be16(&c, 2);
	pkt->seq = pm_be32(&c, 4);
	pkt->ack = pm_be32(&c, 8);
	pkt->flags = pm_u8(&c, 13) & 0x3f;
	pkt->win = pm_be16(&c, 14);
	if ((pkt->flags & 0x02) && doff > 20)
		tcp_options(pkt, p + 20, doff - 20);
	pkt->payload = p + doff;
	pkt->payload_len = (avail < tcp_len ? avail : tcp_len) - doff;
	pkt->payload_missing = tcp_len - doff - pkt->payload_len;
	return CAP_SKIP_NONE;
}

static enum cap_skip decode_ipv4(struct cap_pkt *pkt, const uint8_t *p, uint32_t avail)
{
	struct pm_cur c = pm_cur(p, avail);
	uint32_t ihl, tot;

	if (avail < 20 || (pm_u8(&c, 0) >> 4) != 4)
		return avail < 20 ? CAP_SKIP_SHORT : CAP_SKIP_NOT_IP;
	ihl = (uint32_t)(pm_u8(&c, 0) & 0x0f) * 4;
	tot = pm_be16(&c, 2);
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
	memcpy(pkt->src, pm_cur_at(&c, 12, 4), 4);
	memcpy(pkt->dst, pm_cur_at(&c, 16, 4), 4);
	pkt->ttl = pm_u8(&c, 8);
	/* MF set or a non-zero offset: a fragment (RFC 791 section 3.1) */
	if (pm_be16(&c, 6) & 0x3fff)
		return CAP_SKIP_FRAGMENT;
	if (pm_u8(&c, 9) != 6)
		return CAP_SKIP_NOT_TCP;
	/* Bytes past tot are link padding, not TCP. */
	if (avail > tot)
		avail = tot;
	return decode_tcp(pkt, p + ihl, avail - ihl, tot - ihl);
}

static enum cap_skip decode_ipv6(struct cap_pkt *pkt, const uint8_t *p, uint32_t avail)
{
	struct pm_cur c = pm_cur(p, avail);
	uint32_t plen, off = 40;
	uint8_t nh;

	if (avail < 40 || (pm_u8(&c, 0) >> 4) != 6)
		return avail < 40 ? CAP_SKIP_SHORT : CAP_SKIP_NOT_IP;
	plen = pm_be16(&c, 4);
	/* 0 with a jumbo option (RFC 2675) or from TSO: use what is there */
	if (plen == 0)
		plen = avail - 40;
	pkt->family = AF_INET6;
	memcpy(pkt->src, pm_cur_at(&c, 8, 16), 16);
	memcpy(pkt->dst, pm_cur_at(&c, 24, 16), 16);
	pkt->ttl = pm_u8(&c, 7);
	if (avail > 40 + plen)
		avail = 40 + plen;
	nh = pm_u8(&c, 6);
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
			nh = pm_u8(&c, off);
			off += ((uint32_t)pm_u8(&c, off + 1) + 1) * 8;
			break;
		case 51:	/* AH: length in 4-byte units minus 2 (RFC 4302) */
			if (off + 2 > avail)
				return CAP_SKIP_SHORT;
			nh = pm_u8(&c, off);
			off += ((uint32_t)pm_u8(&c, off + 1) + 2) * 4;
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
	struct pm_cur c = pm_cur(p, avail);

	if (avail < 1)
		return CAP_SKIP_SHORT;
	switch (pm_u8(&c, 0) >> 4) {
	case 4: return decode_ipv4(pkt, p, avail);
	case 6: return decode_ipv6(pkt, p, avail);
	}
	return CAP_SKIP_NOT_IP;
}

/* An ethertype just before p, with avail bytes following; strips VLAN tags. */
static enum cap_skip decode_ethertype(struct cap_pkt *pkt, uint16_t type,
				      const uint8_t *p, uint32_t avail)
{
	while (type == ETH_8021Q || type == ETH_8021AD || type == ETH_QINQ) {
		struct pm_cur c = pm_cur(p, avail);

		if (avail < 4)
			return CAP_SKIP_SHORT;
		if (pkt->nvlan < 2)
			pkt->vlan[pkt->nvlan] = pm_be16(&c, 0) & 0x0fff;
		if (pkt->nvlan < UINT8_MAX)
			pkt->nvlan++;
		type = pm_be16(&c, 2);
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
	struct pm_cur c = pm_cur(p, avail);
	uint32_t af;

	if (avail < 4)
		return CAP_SKIP_SHORT;
	af = pm_le32(&c, 0);
	if (af > 0xffff)
		af = pm_be32(&c, 0);
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
	struct pm_cur c = pm_cur(p, len);

	switch (pkt->linktype) {
	case LT_EN10MB:
		if (len < 14)
			return CAP_SKIP_SHORT;
		return decode_ethertype(pkt, pm_be16(&c, 12), p + 14, len - 14);
	case LT_SLL:	/* 16 bytes, protocol at 14 (pcap-linktype(7)) */
		if (len < 16)
			return CAP_SKIP_SHORT;
		return decode_ethertype(pkt, pm_be16(&c, 14), p + 16, len - 16);
	case LT_SLL2:	/* 20 bytes, protocol at 0 */
		if (len < 20)
			return CAP_SKIP_SHORT;
		return decode_ethertype(pkt, pm_be16(&c, 0), p + 20, len - 20);
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

void capture_stats_record(struct capture_stats *st, const struct cap_pkt *pkt)
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

void capture_decode(struct capture *cap, struct cap_pkt *pkt, const uint8_t *data)
{
	struct capture_stats *st = &cap->st;

	capture_stats_record(st, pkt);
	pkt->skip = decode_link(pkt, data, pkt->caplen);
	if (pkt->skip == CAP_SKIP_NONE) {
		st->tcp++;
		st->missing_bytes += pkt->payload_missing;
	}
	st->skipped[pkt->skip]++;
}

