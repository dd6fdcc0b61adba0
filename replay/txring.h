/*
 * txring.h: the replayer's packet I/O on one interface.
 *
 * Transmit (struct txq), behind one ops table:
 *   --via mmap  PACKET_MMAP TX ring (TPACKET_V2): frames are built straight
 *               into ring slots, marked TP_STATUS_SEND_REQUEST, and handed
 *               to the kernel many at a time by one sendto() flush;
 *   --via raw   AF_PACKET sendto() per frame from a private buffer.
 * Both take the same txq_slot() / txq_commit() / txq_flush() calls, so the
 * peer never knows which one it drives.
 *
 * A frame counts as sent only when its slot comes back TP_STATUS_AVAILABLE
 * without TP_STATUS_WRONG_FORMAT (raw: when sendto() returned its length).
 * txq_drain() waits for every slot before the ring is unmapped.
 *
 * Receive (struct rxq): an AF_PACKET RX ring (TPACKET_V3 blocks, or V2
 * frames) with a classic BPF filter compiled by libpcap on a dead handle,
 * trimmed to the headers (the peer reads TCP headers only).
 *
 * Ownership: both own their socket (given to *_new) and mapping.
 */
#ifndef PKTMEM_REPLAY_TXRING_H
#define PKTMEM_REPLAY_TXRING_H

#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum txq_via { TXQ_MMAP = 0, TXQ_RAW };

/* Module errors (negative, below the errno range: lib/err.h). */
enum {
	TXQ_E_WRONG_FORMAT = PM_E_TXQ - 1,	/* the kernel rejected a frame */
	TXQ_E_FILTER = PM_E_TXQ - 2,		/* the RX BPF filter does not compile */
};

struct txq_cfg {
	enum txq_via via;
	int ifindex;
	uint32_t max_frame;	/* largest Ethernet frame, bytes (no FCS) */
	uint32_t ring_bytes;	/* target ring size; 0 = 4 MiB */
	bool qdisc_bypass;	/* PACKET_QDISC_BYPASS */
};

struct txq_stats {
	uint64_t frames;	/* confirmed sent */
	uint64_t bytes;		/* of those, Ethernet bytes */
	uint64_t wrong_format;	/* frames the kernel refused */
	uint64_t flushes;	/* sendto() calls (mmap: kicks; raw: frames) */
	uint64_t ring_full;	/* txq_slot() found no free slot */
	/* ring geometry (mmap): for the summary and the tests */
	uint32_t frame_size, block_size, block_nr, frame_nr;
};

struct txq;

/* fd: an AF_PACKET SOCK_RAW socket (made in the right namespace); taken
 * over, closed by txq_free even on error. */
int txq_new(struct txq **out, int fd, const struct txq_cfg *cfg, const char **what);

/* A buffer for the next frame (at least max_frame bytes), or NULL when
 * every slot is still with the kernel: txq_flush() + txq_reap() first. */
uint8_t *txq_slot(struct txq *q);
/* The frame in the last slot is len bytes: queue it (raw: send it). */
int txq_commit(struct txq *q, uint32_t len);
/* Hands queued slots to the kernel (mmap).  Returns 0 or -errno. */
int txq_flush(struct txq *q);
/* Takes back completed slots; returns how many, or TXQ_E_WRONG_FORMAT. */
int txq_reap(struct txq *q);
/* Slots queued but not yet confirmed. */
uint32_t txq_pending(const struct txq *q);
/* Flush and wait (up to timeout_ms) until no slot is with the kernel. */
int txq_drain(struct txq *q, int timeout_ms);
const struct txq_stats *txq_stats(const struct txq *q);
const char *txq_via_name(enum txq_via via);
void txq_free(struct txq *q);

/* --- receive --- */

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

int rxq_new(struct rxq **out, int fd, const struct rxq_cfg *cfg,
	    char *err, size_t errlen);
/* Calls fn for each packet the kernel has handed over, returns them to
 * the kernel, returns how many (0 if none yet). */
int rxq_poll(struct rxq *q, void (*fn)(void *ctx, const struct rxq_pkt *p), void *ctx);
/* Waits for packets up to timeout_ms (poll(2)).  1 ready, 0 timeout. */
int rxq_wait(struct rxq *q, int timeout_ms);
int rxq_fd(const struct rxq *q);
/* tp_drops from PACKET_STATISTICS since the last call. */
uint64_t rxq_drops(struct rxq *q);
void rxq_free(struct rxq *q);

#endif
