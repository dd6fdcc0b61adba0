/*
 * txring.h: the replayer's transmit path on one interface.
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
 * The receive side is rxring.h.
 *
 * Errors: txq_new() and txq_probe() return 0 or a negative errno / TXQ_E_*
 * and write one line into err naming the step that failed
 * ("setsockopt(PACKET_QDISC_BYPASS): Operation not permitted").
 *
 * Ownership: struct txq owns its socket (given to txq_new) and mapping.
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
	/* PM_E_TXQ - 2 is RXQ_E_FILTER (rxring.h) */
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
 * over, closed by txq_free even on error.
 *
 * Test-only fault injection: when the environment variable
 * PKTMEM_TEST_FAIL is "txring", the TX-ring step (--via mmap) fails with
 * -EOPNOTSUPP and err says "PACKET_TX_RING: injected failure
 * (PKTMEM_TEST_FAIL=txring)", so a test can show that `pktmem doctor`
 * (txq_probe) and `pktmem replay` report the same failure.  Read here,
 * at setup, never on the packet path. */
int txq_new(struct txq **out, int fd, const struct txq_cfg *cfg, char *err, size_t errlen);

/* The TX ring exactly as replay sets it up (txq_new, --via mmap, default
 * size, PACKET_VNET_HDR) on the client veth of a throwaway netns
 * topology (netns_topo_new), then freed.  0 ok, or a negative code with
 * a one-line reason in err.  PKTMEM_TEST_FAIL applies (netns.h too). */
int txq_probe(char *err, size_t errlen);

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

#endif
