/*
 * tcpgen.h: build Ethernet + IPv4/IPv6 + TCP frames with correct checksums,
 * and read back the TCP fields of a received frame.
 *
 * A frame injected on a packet socket carries no offload state, so the
 * receiving stack verifies both checksums (txring.c, on PACKET_VNET_HDR);
 * captured checksums are never trusted (they may come from TX offload).
 *
 * Two ways to the TCP checksum, same result (tests check both):
 *   - full: RFC 1071 sum over pseudo header, header and payload;
 *   - cached: the payload's ones'-complement sum is computed once when the
 *     plan is built (payload_sum), and each frame only sums the pseudo
 *     header and the 20..40 header bytes.  The sum is associative (RFC
 *     1071 section 2(A)), so this is exact; it is what a resend or a new
 *     ack number costs per frame.  tcpgen_csum_update() is the RFC 1624
 *     eqn. 3 update of a finished checksum when one 16-bit word changes.
 * bench: tests/t6010-tcpgen prints both costs per frame.
 *
 * Frames are written into caller memory (a TX ring slot); nothing here
 * allocates.
 */
#ifndef PKTMEM_REPLAY_TCPGEN_H
#define PKTMEM_REPLAY_TCPGEN_H

#include <stddef.h>
#include <stdint.h>

#define TCPGEN_FIN 0x01
#define TCPGEN_SYN 0x02
#define TCPGEN_RST 0x04
#define TCPGEN_PSH 0x08
#define TCPGEN_ACK 0x10

/* Header bytes before the payload: Ethernet 14, IPv4 20 / IPv6 40, TCP 20
 * (+ SYN options). */
#define TCPGEN_ETH 14
#define TCPGEN_MAX_HDR (14 + 40 + 40)

/* One direction of one connection: addresses and ports fixed per flow. */
struct tcpgen_flow {
	int family;		/* AF_INET / AF_INET6 */
	uint8_t src_mac[6], dst_mac[6];
	uint8_t src[16], dst[16];	/* IPv4 in the first 4 bytes */
	uint16_t sport, dport;	/* host order */
	uint32_t pseudo;	/* pseudo-header sum without the length (set by tcpgen_flow_init) */
};

struct tcpgen_seg {
	uint32_t seq, ack;	/* host order */
	uint8_t flags;
	uint16_t win;		/* raw window field */
	uint16_t mss;		/* SYN: MSS option, 0 = none */
	int8_t wscale;		/* SYN: window scale option, -1 = none */
	const uint8_t *payload;
	uint32_t len;
	int have_sum;		/* payload_sum is valid (cached path) */
	uint32_t payload_sum;	/* tcpgen_sum(payload, len), unfolded */
};

void tcpgen_flow_init(struct tcpgen_flow *f);

/* Writes the frame at out (cap bytes).  Returns its length, or -EMSGSIZE. */
int tcpgen_build(const struct tcpgen_flow *f, const struct tcpgen_seg *s,
		 uint8_t *out, size_t cap);

/* Same, the TCP checksum summed over the payload every time.  Only
 * tests/t6010-tcpgen.c calls it: the reference the cached path is
 * checked against, frame for frame. */
int tcpgen_build_full(const struct tcpgen_flow *f, const struct tcpgen_seg *s,
		      uint8_t *out, size_t cap);

/* Ones'-complement partial sum of n bytes (unfolded, add more with +). */
uint32_t tcpgen_sum(const uint8_t *p, size_t n, uint32_t sum);
/* Folds and complements. */
uint16_t tcpgen_fold(uint32_t sum);
/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), all in network order words. */
uint16_t tcpgen_csum_update(uint16_t hc, uint16_t old_word, uint16_t new_word);

/* What a received frame says (Ethernet, optionally one VLAN tag). */
struct tcpgen_rx {
	int family;
	const uint8_t *src, *dst;	/* into the frame */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t mss;
	int8_t wscale;
	uint32_t len;		/* TCP payload bytes, from the IP length */
};

/* Parses caplen bytes of a frame whose full length was wirelen.  Returns 0,
 * or -EINVAL when it is not a TCP frame we understand. */
int tcpgen_parse(const uint8_t *p, size_t caplen, size_t wirelen, struct tcpgen_rx *r);

/* Verifies the IP and TCP checksums of a complete untagged frame: 0 if
 * both right.  Only tests/t6010-tcpgen.c calls it (replay never checks its
 * own frames; the receiving kernel does). */
int tcpgen_verify(const uint8_t *p, size_t len);

#endif
