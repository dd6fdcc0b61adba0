/*
 * bytes.h: bounds-checked readers of packet and file bytes.
 *
 * A capture can be truncated anywhere and a received frame is whatever the
 * wire carried, so packet bytes are read only through these, in the manner
 * of tcpdump's GET_BE_U_2 (extract.h): every read is checked against the
 * end of the bytes the caller holds, and a read that would go past it
 * yields 0 and marks the cursor bad instead of reading the byte.  The
 * checks a decoder makes before it reads (is the header there at all?)
 * stay where they are; these make an over-read impossible, not merely
 * unlikely.
 *
 *   struct pm_cur c = pm_cur(p, caplen);
 *   uint16_t type = pm_be16(&c, 12);	// p[12..13], or 0 and c.bad
 *
 * Offsets are from c.ptr.  The little-endian
 * readers are for pcapng, whose blocks are in the writer's byte order.
 *
 * Header-only (static inline): the readers are in every per-packet loop.
 * Depends on nothing of pktmem.
 */
#ifndef PKTMEM_LIB_BYTES_H
#define PKTMEM_LIB_BYTES_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pm_cur {
	const uint8_t *ptr;	/* offset 0 */
	const uint8_t *end;	/* one past the last byte that may be read */
	bool bad;		/* a read or skip went past end */
};

static inline struct pm_cur pm_cur(const void *p, size_t len)
{
	struct pm_cur c = { (const uint8_t *)p, (const uint8_t *)p + len, false };

	return c;
}

/* Bytes from ptr to end. */
static inline size_t pm_cur_left(const struct pm_cur *c)
{
	return (size_t)(c->end - c->ptr);
}

/* Are n bytes at off inside? */
static inline bool pm_cur_has(const struct pm_cur *c, size_t off, size_t n)
{
	size_t left = pm_cur_left(c);

	return off <= left && n <= left - off;
}

/* The byte address of off when n bytes there are inside, else NULL and
 * the cursor goes bad. */
static inline const uint8_t *pm_cur_at(struct pm_cur *c, size_t off, size_t n)
{
	if (!pm_cur_has(c, off, n)) {
		c->bad = true;
		return NULL;
	}
	return c->ptr + off;
}

static inline uint8_t pm_u8(struct pm_cur *c, size_t off)
{
	const uint8_t *p = pm_cur_at(c, off, 1);

	return p ? p[0] : 0;
}

/* One unaligned load of n bytes at off (memcpy: the compiler emits a
 * plain load), then the byte order fixed with be*toh/le*toh (endian(3)):
 * a load and at most a byte swap per field. */
#define PM_CUR_LOAD(bits, conv)						\
	const uint8_t *p = pm_cur_at(c, off, (bits) / 8);		\
	uint##bits##_t v;						\
									\
	if (!p)								\
		return 0;						\
	memcpy(&v, p, sizeof(v));					\
	return conv(v)

static inline uint16_t pm_be16(struct pm_cur *c, size_t off) { PM_CUR_LOAD(16, be16toh); }
static inline uint32_t pm_be32(struct pm_cur *c, size_t off) { PM_CUR_LOAD(32, be32toh); }
static inline uint64_t pm_be64(struct pm_cur *c, size_t off) { PM_CUR_LOAD(64, be64toh); }
static inline uint16_t pm_le16(struct pm_cur *c, size_t off) { PM_CUR_LOAD(16, le16toh); }
static inline uint32_t pm_le32(struct pm_cur *c, size_t off) { PM_CUR_LOAD(32, le32toh); }
static inline uint64_t pm_le64(struct pm_cur *c, size_t off) { PM_CUR_LOAD(64, le64toh); }

#endif
