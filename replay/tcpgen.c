/* tcpgen.c: TCP frame builder and parser; see tcpgen.h. */
#include "replay/tcpgen.h"

#include "lib/bytes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Sums are kept in the machine's byte order over the bytes as they lie in
 * memory: the ones'-complement sum is byte-order independent (RFC 1071
 * section 2(B)), so storing the folded result with memcpy puts the right
 * bytes on the wire.  32-bit words go into a 64-bit accumulator and fold
 * at the end (2^16 = 1 mod 0xffff).
 */
uint32_t tcpgen_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	uint64_t acc = sum;
	uint32_t w32;
	uint16_t w16;

	while (n >= 16) {
		uint32_t a, b, c, d;

		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		memcpy(&c, p + 8, 4);
		memcpy(&d, p + 12, 4);
		acc += (uint64_t)a + b + c + d;
		p += 16;
		n -= 16;
	}
	while (n >= 4) {
		memcpy(&w32, p, 4);
		acc += w32;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&w16, p, 2);
		acc += w16;
		p += 2;
		n -= 2;
	}
	if (n) {
		w16 = 0;
		memcpy(&w16, p, 1);	/* the odd byte, padded with a zero after it */
		acc += w16;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

uint16_t tcpgen_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t tcpgen_csum_update(uint16_t hc, uint16_t old_word, uint16_t new_word)
{
	uint32_t s = (uint16_t)~hc + (uint32_t)(uint16_t)~old_word + new_word;

	return tcpgen_fold(s);
}

void tcpgen_flow_init(struct tcpgen_flow *f)
{
	size_t alen = f->family == AF_INET ? 4 : 16;
	uint16_t proto = htons(IPPROTO_TCP);
	uint32_t s;

	s = tcpgen_sum(f->src, alen, 0);
	s = tcpgen_sum(f->dst, alen, s);
	s += proto;
	f->pseudo = s;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static int build(const struct tcpgen_flow *f, const struct tcpgen_seg *s,
		 uint8_t *out, size_t cap, int full)
{
	size_t iphl = f->family == AF_INET ? 20 : 40;
	size_t optlen = 0, thl, total;
	uint8_t *ip = out + TCPGEN_ETH, *th;
	uint16_t tcplen_n, csum;
	uint32_t sum;

	if (s->flags & TCPGEN_SYN) {
		if (s->mss)
			optlen += 4;
		if (s->wscale >= 0)
			optlen += 4;	/* NOP + 3-byte option keeps 4-byte alignment */
	}
	thl = 20 + optlen;
	total = TCPGEN_ETH + iphl + thl + s->len;
	if (total > cap || iphl + thl + s->len > 65535)
		return -EMSGSIZE;

	memcpy(out, f->dst_mac, 6);
	memcpy(out + 6, f->src_mac, 6);
	put16(out + 12, f->family == AF_INET ? 0x0800 : 0x86dd);

	if (f->family == AF_INET) {
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (uint16_t)(iphl + thl + s->len));
		put16(ip + 4, 0);	/* id: DF set, never fragmented (RFC 6864) */
		put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, f->src, 4);
		memcpy(ip + 16, f->dst, 4);
		csum = tcpgen_fold(tcpgen_sum(ip, 20, 0));
		memcpy(ip + 10, &csum, 2);
	} else {
		put32(ip, 0x60000000u);
		put16(ip + 4, (uint16_t)(thl + s->len));
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, f->src, 16);
		memcpy(ip + 24, f->dst, 16);
	}

	th = ip + iphl;
	put16(th, f->sport);
	put16(th + 2, f->dport);
	put32(th + 4, s->seq);
	put32(th + 8, s->ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = s->flags;
	put16(th + 14, s->win);
	th[16] = th[17] = 0;
	th[18] = th[19] = 0;
	if (optlen) {
		uint8_t *o = th + 20;

		if (s->mss) {
			o[0] = 2;
			o[1] = 4;
			put16(o + 2, s->mss);
			o += 4;
		}
		if (s->wscale >= 0) {
			o[0] = 1;
			o[1] = 3;
			o[2] = 3;
			o[3] = (uint8_t)s->wscale;
		}
	}
	if (s->len)
		memcpy(th + thl, s->payload, s->len);

	tcplen_n = htons((uint16_t)(thl + s->len));
	sum = f->pseudo + tcplen_n;
	sum = tcpgen_sum(th, thl, sum);
	if (s->len) {
		if (!full && s->have_sum)
			sum += s->payload_sum;
		else
			sum = tcpgen_sum(th + thl, s->len, sum);
	}
	csum = tcpgen_fold(sum);
	memcpy(th + 16, &csum, 2);
	return (int)total;
}

int tcpgen_build(const struct tcpgen_flow *f, const struct tcpgen_seg *s,
		 uint8_t *out, size_t cap)
{
	return build(f, s, out, cap, 0);
}

int tcpgen_build_full(const struct tcpgen_flow *f, const struct tcpgen_seg *s,
		      uint8_t *out, size_t cap)
{
	return build(f, s, out, cap, 1);
}

int tcpgen_parse(const uint8_t *p, size_t caplen, size_t wirelen, struct tcpgen_rx *r)
{
	struct pm_cur c = pm_cur(p, caplen);
	size_t off = 12, iphl, thl, iplen, th;
	uint16_t et;
	const uint8_t *ip;

	if (caplen < 14)
		return -EINVAL;
	et = pm_be16(&c, off);
	if (et == 0x8100 && caplen >= 18) {
		off += 4;
		et = pm_be16(&c, off);
	}
	off += 2;
	ip = p + off;
	if (et == 0x0800) {
		if (caplen < off + 20 || (pm_u8(&c, off) >> 4) != 4)
			return -EINVAL;
		iphl = (size_t)(pm_u8(&c, off) & 15) * 4;
		if (iphl < 20 || pm_u8(&c, off + 9) != IPPROTO_TCP || caplen < off + iphl + 20)
			return -EINVAL;
		iplen = pm_be16(&c, off + 2);
		/* a GSO super-packet of BIG TCP says 0: use the frame length */
		if (iplen == 0)
			iplen = wirelen - off;
		r->family = AF_INET;
		r->src = ip + 12;
		r->dst = ip + 16;
	} else if (et == 0x86dd) {
		if (caplen < off + 40 + 20 || (pm_u8(&c, off) >> 4) != 6 ||
		    pm_u8(&c, off + 6) != IPPROTO_TCP)
			return -EINVAL;
		iphl = 40;
		iplen = 40 + (size_t)pm_be16(&c, off + 4);
		if (iplen == 40)
			iplen = wirelen - off;
		r->family = AF_INET6;
		r->src = ip + 8;
		r->dst = ip + 24;
	} else {
		return -EINVAL;
	}
	th = off + iphl;
	thl = (size_t)(pm_u8(&c, th + 12) >> 4) * 4;
	if (thl < 20 || iplen < iphl + thl)
		return -EINVAL;
	r->sport = pm_be16(&c, th);
	r->dport = pm_be16(&c, th + 2);
	r->seq = pm_be32(&c, th + 4);
	r->ack = pm_be32(&c, th + 8);
	r->flags = pm_u8(&c, th + 13);
	r->win = pm_be16(&c, th + 14);
	r->len = (uint32_t)(iplen - iphl - thl);
	r->mss = 0;
	r->wscale = -1;
	if ((r->flags & TCPGEN_SYN) && thl > 20 && caplen >= off + iphl + thl) {
		size_t o = th + 20, end = th + thl;

		while (o < end) {
			uint8_t kind = pm_u8(&c, o), len;

			if (kind == 0)
				break;
			if (kind == 1) {
				o++;
				continue;
			}
			len = o + 1 < end ? pm_u8(&c, o + 1) : 0;
			if (o + 1 >= end || len < 2 || o + len > end)
				break;
			if (kind == 2 && len == 4) {
				r->mss = pm_be16(&c, o + 2);
			} else if (kind == 3 && len == 3) {
				uint8_t ws = pm_u8(&c, o + 2);

				r->wscale = (int8_t)(ws > 14 ? 14 : ws);
			}
			o += len;
		}
	}
	return 0;
}

int tcpgen_verify(const uint8_t *p, size_t len)
{
	struct pm_cur c = pm_cur(p, len);
	struct tcpgen_flow f = { 0 };
	struct tcpgen_rx r;
	const uint8_t *ip = p + 14, *th;
	size_t iphl, tcplen;
	uint32_t sum;

	if (tcpgen_parse(p, len, len, &r) < 0)
		return -EINVAL;
	f.family = r.family;
	if (r.family == AF_INET) {
		iphl = (size_t)(pm_u8(&c, 14) & 15) * 4;
		if (tcpgen_fold(tcpgen_sum(ip, iphl, 0)) != 0)
			return -EBADMSG;
		memcpy(f.src, r.src, 4);
		memcpy(f.dst, r.dst, 4);
		tcplen = pm_be16(&c, 16) - iphl;
	} else {
		iphl = 40;
		memcpy(f.src, r.src, 16);
		memcpy(f.dst, r.dst, 16);
		tcplen = pm_be16(&c, 18);
	}
	if (14 + iphl + tcplen > len)
		return -EINVAL;
	tcpgen_flow_init(&f);
	th = ip + iphl;
	sum = f.pseudo + htons((uint16_t)tcplen);
	sum = tcpgen_sum(th, tcplen, sum);
	return tcpgen_fold(sum) == 0 ? 0 : -EBADMSG;
}
