/*
 * rxring.h: the replayer's receive path on one interface: an AF_PACKET RX
 * ring (TPACKET_V3 blocks, or V2 frames) with a classic BPF filter
 * compiled by libpcap on a dead handle, trimmed to the headers (the peer
 * reads TCP headers only).  The transmit side is txring.h.
 *
 * Errors: rxq_new() returns 0 or a negative errno / RXQ_E_FILTER and
 * writes one line into err naming the step ("setsockopt(PACKET_RX_RING):
 * Cannot allocate memory").
 *
 * Ownership: struct rxq owns its socket (given to rxq_new) and mapping.
 */
#ifndef PKTMEM_REPLAY_RXRING_H
#define PKTMEM_REPLAY_RXRING_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

/* Module errors: the txq block of lib/err.h, after txring.h's. */
enum {
	RXQ_E_FILTER = PM_E_TXQ - 2,		/* the RX BPF filter does not compile */
};

struct rxq_cfg {
	int ifindex;
	/* 3 = TPACKET_V3 (default); 2 = TPACKET_V2.  A V3 block reaches us
	 * only when full or after block_tov_ms rounded up to a jiffy (4 ms
	 * at HZ=250), so a lone SYN-ACK or FIN waits that long (the
	 * replayer sat idle 7-35 ms of a 150-300 ms benchmark run); V2 hands
	 * over every frame at once but lost server data under a 5 MiB echo
	 * (t6021: 6 failures in 8 runs, V3 0 in 8), so V3 stays the default */
	int version;
	const char *filter;	/* pcap_compile syntax */
	uint32_t snaplen;	/* bytes kept per packet; 0 = 128 */
	uint32_t ring_bytes;	/* 0 = 4 MiB */
	uint32_t block_tov_ms;	/* V3 block retire timeout; 0 = 1 */
};

struct rxq_pkt {
	const uint8_t *data;
	uint32_t caplen, wirelen;
};

struct rxq;

/* fd: an AF_PACKET SOCK_RAW socket; taken over, closed even on error. */
int rxq_new(struct rxq **out, int fd, const struct rxq_cfg *cfg,
	    char *err, size_t errlen);
/* Calls fn for each packet the kernel has handed over, returns them to
 * the kernel, returns how many (0 if none yet). */
int rxq_poll(struct rxq *q, void (*fn)(void *ctx, const struct rxq_pkt *p), void *ctx);
/* Waits for packets up to timeout_ms (poll(2)).  1 ready, 0 timeout. */
int rxq_wait(struct rxq *q, int timeout_ms);
/* tp_drops from PACKET_STATISTICS since the last call. */
uint64_t rxq_drops(struct rxq *q);
void rxq_free(struct rxq *q);

#endif
