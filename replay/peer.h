/*
 * peer.h: the live TCP peer: replays a plan's client streams into a real
 * kernel TCP stack, one fresh connection per captured flow.
 *
 * Packet path (peer_run_packet, --via mmap|raw): the peer is a small TCP
 * sender in user space.  Per flow: SYN with MSS and window scale, the
 * server's ISN learnt from its SYN-ACK, then each captured client segment
 * sent with live sequence and acknowledgement numbers, captured boundaries
 * kept (split only when the server's MSS or window forces it, or with
 * resegment), the server's advertised (scaled) window respected, server
 * data and FIN ACKed as soon as they are seen, retransmission on timeout
 * (RTO with exponential backoff, go-back-N from the first unACKed byte)
 * and on three duplicate ACKs, window probes on a zero window, RST
 * handled, FIN after the last byte.  Frames leave through a struct txq,
 * the server's packets arrive through a struct rxq.
 *
 * Socket path (peer_run_socket, --via socket): ordinary non-blocking TCP
 * connections to the server, TCP_NODELAY, each captured segment's payload
 * written with one write(); the kernel does the rest (peer_socket.c).
 *
 * Both: many flows in flight (concurrency), timing (as fast as possible,
 * captured gaps scaled against absolute CLOCK_MONOTONIC deadlines, or a
 * packet rate), loops; every (loop, flow) gets a peer_result with the
 * live client address and port, so the server's per-connection counters
 * can be matched.  The pacing both share is peer_sched.h.
 *
 * Ownership: the caller owns plan, txq, rxq and the results array.
 */
#ifndef PKTMEM_REPLAY_PEER_H
#define PKTMEM_REPLAY_PEER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "replay/plan.h"
#include "replay/rxring.h"
#include "replay/txring.h"

enum peer_timing { PEER_MAX = 0, PEER_SCALED, PEER_PPS };

enum peer_flow_status {
	PEER_FLOW_PENDING = 0,	/* never started (interrupted) */
	PEER_FLOW_OK,		/* every byte ACKed, closed */
	PEER_FLOW_RESET,	/* the server reset the connection */
	PEER_FLOW_TIMEOUT,	/* no ACK after the last retransmission */
	PEER_FLOW_ABORTED,	/* stopped by SIGINT */
	PEER_FLOW_ERROR,	/* local error (socket path: connect/write) */
	PEER_FLOW_STALLED,	/* socket path: no progress within stall_ms */
};

struct peer_result {
	uint32_t flow;		/* index into plan->flow[] */
	uint32_t loop;
	int family;		/* live */
	uint8_t addr[16];	/* live client address */
	uint16_t port;		/* live client port */
	enum peer_flow_status status;
	uint64_t acked;		/* client bytes the server ACKed (socket: written) */
	uint64_t retransmits;	/* segments sent again */
	int err;		/* socket path: -errno */
};

struct peer_cfg {
	uint32_t concurrency;	/* flows in flight; 0 = 64 */
	uint32_t resegment;	/* 0 = keep captured boundaries, else max payload */
	enum peer_timing timing;
	double speed;		/* PEER_SCALED: 1.0 = captured pace, 2.0 = twice */
	double pps;		/* PEER_PPS: data segments per second */
	uint32_t loops;		/* 0 = 1 */
	uint16_t server_port[2];	/* where flows go: [0] IPv4, [1] IPv6 */
	uint32_t mss;		/* what we advertise; 0 = 1460 */
	uint32_t rto_min_ms;	/* 0 = 200 (Linux TCP_RTO_MIN) */
	uint32_t max_retries;	/* 0 = 8 */
	uint32_t linger_ms;	/* wait for the server's FIN after ours is ACKed; 0 = 2000 */
	uint32_t stall_ms;	/* socket path: give a flow up after this long with
				 * no progress (connect, write, read, ACK); 0 = 30000 */
	/* packet path: add the server's neighbour entry for a new client
	 * address; may be NULL */
	int (*add_client)(void *arg, int family, const uint8_t addr[16]);
	void *add_client_arg;
	/* packet path, replaying onto a named interface (iface.h); all
	 * zero/NULL for the private veth topology (netns.h): */
	int family;		/* every flow goes to this family's server; 0 = the flow's */
	uint8_t server_addr[16];	/* with family: the server */
	bool captured_port;	/* with family: to each flow's captured server port */
	const uint8_t *src_mac, *dst_mac;	/* with family: ours, the next hop's */
	/* the live client address for address number idx (1..), of the
	 * captured client's address (NULL: another one for the same client,
	 * its ports ran out); NULL = netns_client_addr() */
	int (*client_addr)(void *arg, int family, uint32_t idx, const uint8_t *captured,
			   uint8_t out[16]);
	void *client_addr_arg;
	/* a received frame that is not the server's TCP: may write a reply
	 * (ARP, neighbour advertisement) at out and return its length */
	int (*answer)(void *arg, const uint8_t *frame, uint32_t len, uint8_t *out, uint32_t cap);
	void *answer_arg;
	/* packet path: every frame as handed to the ring (the benchmark
	 * replays the very same frames with other tools); may be NULL */
	void (*tap)(void *arg, const uint8_t *frame, uint32_t len);
	void *tap_arg;
	/* progress, called about every 100 ms; may be NULL */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
};

struct peer_stats {
	uint64_t flows_started, flows_ok, flows_failed;
	uint64_t data_segments;	/* first transmissions */
	uint64_t bytes;		/* payload bytes, first transmissions */
	uint64_t retransmits;	/* data segments and FINs sent again */
	uint64_t syn_retransmits;
	uint64_t splits;	/* captured segments split (MSS, window, resegment) */
	uint64_t acks_sent;	/* pure ACKs */
	uint64_t frames;	/* everything handed to the txq */
	uint64_t rx_packets, rx_ignored;
	uint64_t answers;	/* ARP / neighbour replies sent (cfg.answer) */
	uint64_t server_bytes;	/* server payload ACKed */
	uint64_t ports_remapped;	/* client port taken: another one used */
	uint64_t window_waits;	/* a segment waited for the server's window */
	uint64_t duration_ns;	/* first SYN to last flow closed */
	uint64_t first_data_ns, last_data_ns;	/* CLOCK_MONOTONIC */
	/* pacing: gaps between consecutive data segments as sent, and how late
	 * each was against its deadline (timed modes), ns */
	uint64_t gap_p50, gap_p90, gap_p99, gap_max;
	uint64_t late_p50, late_p99, late_max;
	uint64_t gap_samples;
	bool interrupted;
};

/* Replays the plan over the packet path.  results: plan->nflows * loops
 * entries, filled in (loop, flow) order.  Returns 0, or a negative errno /
 * TXQ_E_* for a transmit failure that stopped the run. */
int peer_run_packet(const struct plan *plan, const struct peer_cfg *cfg,
		    struct txq *tx, struct rxq *rx, struct peer_result *results,
		    struct peer_stats *st, volatile sig_atomic_t *stop);

/* Replays the plan over ordinary TCP sockets to server (sockaddr_in/in6
 * with the port set). */
int peer_run_socket(const struct plan *plan, const struct peer_cfg *cfg,
		    const void *server_sa, unsigned int sa_len,
		    struct peer_result *results, struct peer_stats *st,
		    volatile sig_atomic_t *stop);

const char *peer_status_name(enum peer_flow_status s);

#endif
