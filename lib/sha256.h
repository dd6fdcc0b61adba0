/*
 * sha256.h: SHA-256 (FIPS 180-4), small and dependency free.
 *
 * Used by report.c for the machine fingerprint; any module may hash with
 * it.  The caller owns the context (a plain struct, no allocation).
 */
#ifndef PKTMEM_LIB_SHA256_H
#define PKTMEM_LIB_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	uint8_t buf[64];
	size_t nbuf;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, uint8_t out[32]);
/* out: 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
