/*
 * capture_pcapng.c: the pcapng reader (capture_int.h).
 *
 * pcapng files are read here, not by libpcap, because libpcap 1.10 refuses
 * a pcapng file whose interfaces have different link types ("an interface
 * has a type N different from the type of the first interface",
 * sf-pcapng.c), and a capture taken on "any" or on several interfaces is
 * exactly that.  Block layout: draft-ietf-opsawg-pcapng section 4.
 *
 * Every block is read whole into cap->blk, its two length fields checked
 * against each other, and its fields read through lib/bytes.h in the
 * byte order its section header declared.
 */
#include "replay/capture_int.h"

#include "lib/bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Fields in the section's byte order (cap->png_be). */
static inline uint16_t png16(const struct capture *cap, struct pm_cur *c, size_t off)
{
	return cap->png_be ? pm_be16(c, off) : pm_le16(c, off);
}

static inline uint32_t png32(const struct capture *cap, struct pm_cur *c, size_t off)
{
	return cap->png_be ? pm_be32(c, off) : pm_le32(c, off);
}

static inline uint64_t png64(const struct capture *cap, struct pm_cur *c, size_t off)
{
	return cap->png_be ? pm_be64(c, off) : pm_le64(c, off);
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
	struct pm_cur c = pm_cur(b, n);
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
	ifc->linktype = linktype_to_dlt(png16(cap, &c, 0));
	ifc->snaplen = png32(cap, &c, 4);
	ifc->ts_exp = 6;	/* default resolution: µs */
	ifc->filter_idx = -1;
	/* options: code u16, length u16, value padded to 4 */
	for (uint32_t o = 8; o + 4 <= n;) {
		uint16_t code = png16(cap, &c, o), len = png16(cap, &c, o + 2);

		if (code == 0 || o + 4 + len > n)
			break;
		if (code == 9 && len >= 1) {		/* if_tsresol */
			uint8_t r = pm_u8(&c, o + 4);

			ifc->ts_pow2 = r & 0x80;
			ifc->ts_exp = r & 0x7f;
			if (ifc->ts_exp > 63)
				return capture_set_err(cap, CAPTURE_E_CORRUPT,
						       "pcapng: bad if_tsresol");
		} else if (code == 14 && len >= 8) {	/* if_tsoffset, s */
			ifc->ts_offset_s = (int64_t)png64(cap, &c, o + 4);
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

/* The byte-order magic after a section header's type and length: sets
 * the section's byte order.  1 ok, 0 the file ends here (after packets:
 * cut short), < 0 error. */
static int png_section_header(struct capture *cap)
{
	uint8_t bom[4];
	struct pm_cur c = pm_cur(bom, sizeof(bom));

	if (png_read(cap, bom, 4) != 4) {
		if (cap->st.packets == 0 && cap->nifaces == 0)
			return capture_set_err(cap, CAPTURE_E_TRUNCATED,
					       "truncated pcapng section header");
		cap->st.ended_mid_record = true;
		return 0;
	}
	if (pm_be32(&c, 0) == PNG_BOM)
		cap->png_be = true;
	else if (pm_le32(&c, 0) == PNG_BOM)
		cap->png_be = false;
	else
		return capture_set_err(cap, CAPTURE_E_CORRUPT,
				       "pcapng section header with bad byte-order magic");
	/* A new section starts a new interface list (pcapng 4.1). */
	cap->nifaces = 0;
	return 1;
}

/*
 * Reads one block: its 8-byte header (and a section header's byte-order
 * magic) once, then the body into cap->blk.  Both length fields are
 * checked.  Returns 1 with *type and *body (bytes before the trailing
 * length), 0 at the end of the file (cut short inside a block:
 * st.ended_mid_record), < 0 on error.  Forced inline: it is the
 * per-packet path of capture_png_next() (make bench-ingest on a pcapng
 * file lost ~3% while it was a call).
 */
static inline __attribute__((always_inline))
int png_read_block(struct capture *cap, uint32_t *type, uint32_t *body)
{
	uint8_t hdr[8];
	struct pm_cur h = pm_cur(hdr, sizeof(hdr)), b;
	size_t got = png_read(cap, hdr, 8), skip = 8;
	uint32_t len, min = 12;
	ssize_t rd;
	int rc;

	if (got == 0)
		return 0;
	if (got < 8) {
		cap->st.ended_mid_record = true;
		return 0;
	}
	/* SHB's type reads the same in both byte orders */
	if (pm_be32(&h, 0) == PNG_SHB) {
		if ((rc = png_section_header(cap)) <= 0)
			return rc;
		skip = 12;	/* type, length, byte-order magic */
		min = 28;
	}
	*type = png32(cap, &h, 0);
	len = png32(cap, &h, 4);
	if (len < min || len % 4 || len > PNG_MAX_BLOCK)
		return capture_set_err(cap, CAPTURE_E_CORRUPT, "pcapng %s length %u is invalid",
				       *type == PNG_SHB ? "section header" : "block", len);
	*body = len - (uint32_t)skip;	/* incl. the trailing length */
	rd = png_read_body(cap, *body);
	if (rd < 0)
		return (int)rd;
	if ((size_t)rd != *body) {
		cap->st.ended_mid_record = true;
		return 0;
	}
	b = pm_cur(cap->blk, *body);
	if (png32(cap, &b, *body - 4) != len)
		return capture_set_err(cap, CAPTURE_E_CORRUPT, "pcapng block lengths disagree");
	*body -= 4;
	return 1;
}

int capture_png_open(struct capture *cap)
{
	uint32_t type, body;
	int rc;

	cap->blk = malloc(4096);
	if (!cap->blk)
		return -ENOMEM;
	cap->blk_cap = 4096;
	/* the first block is a section header (the magic said so) */
	rc = png_read_block(cap, &type, &body);
	if (rc == 0)
		rc = capture_set_err(cap, CAPTURE_E_TRUNCATED, "truncated pcapng section header");
	return rc < 0 ? rc : 0;
}

int capture_png_next(struct capture *cap, struct cap_pkt *pkt, const uint8_t **data)
{
	for (;;) {
		uint32_t type = 0, body = 0, ifid = 0, caplen, origlen, hlen;
		struct pm_cur b;
		uint64_t ts = 0;
		int rc = png_read_block(cap, &type, &body);

		if (rc <= 0)
			return rc;
		b = pm_cur(cap->blk, body);
		switch (type) {
		case PNG_SHB:
			continue;
		case PNG_IDB:
			rc = png_add_iface(cap, cap->blk, body);
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
			ifid = type == PNG_EPB ? png32(cap, &b, 0) : png16(cap, &b, 0);
			ts = (uint64_t)png32(cap, &b, 4) << 32 | png32(cap, &b, 8);
			caplen = png32(cap, &b, 12);
			origlen = png32(cap, &b, 16);
			hlen = 20;
			break;
		case PNG_SPB:
			if (body < 4)
				return capture_set_err(cap, CAPTURE_E_CORRUPT,
						       "pcapng packet block too short");
			origlen = png32(cap, &b, 0);
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
		*data = cap->blk + hlen;
		return 1;
	}
}
