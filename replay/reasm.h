/*
 * reasm.h: TCP reassembly, per flow and per direction, streaming.
 *
 * Fed decoded packets (capture.h) in capture order; hands each direction's
 * bytes to the consumer in stream order through callbacks.  Each data()
 * call carries bytes from one captured segment (or the new part of one that
 * overlapped earlier data), so a consumer that replays keeps the captured
 * segment boundaries.
 *
 * Roles: the side that sent the first SYN (without ACK) is the client; when
 * the handshake was not captured, the lower well-known/server-looking port
 * (port < 1024, or in the known server list, else the lower port) is the
 * server, and flow_info.roles_guessed is set.
 *
 * Out-of-order segments wait in a per-flow reorder buffer (capped by
 * reasm_config.max_reorder_bytes); retransmissions and overlaps are resolved
 * deterministically (the first copy of a byte wins) and counted; a hole
 * that never fills is delivered as gap() with its size when the flow closes
 * or the cap is reached.  Flows end on FIN from both sides, RST, idle
 * timeout (capture time) or end of capture.
 *
 * Memory is bounded by the flows alive at once and the reorder caps, never
 * by the size of the capture.  The reorder cap counts each buffered
 * segment's bytes plus its bookkeeping (so a flood of 1-byte segments is
 * bounded too).
 *
 * Sequence numbers are compared with 32-bit serial arithmetic (RFC 1982,
 * RFC 9293 §3.4): stream offsets are 64-bit, so a stream may pass 4 GiB
 * and wrap.  Offset 0 is the first byte after the SYN (SYN payload, as in
 * TCP Fast Open, is data at offset 0), or, without a SYN, the sequence
 * number of the first packet seen in that direction.
 *
 * Bytes cut by snaplen are delivered as gap() (never invented), counted
 * both in truncated/missing_bytes and in gaps/gap_bytes.  A later copy of
 * the same bytes does not replace them: the first copy wins, even a
 * missing one.
 *
 * A flow that ended by FIN or RST stays in the table as a tombstone
 * until a new SYN re-uses its 4-tuple (a new flow, new id) or it idles
 * out; packets reaching it are counted in reasm_totals.after_close.
 */
#ifndef PKTMEM_REPLAY_REASM_H
#define PKTMEM_REPLAY_REASM_H

#include <stdbool.h>
#include <stdint.h>

#include "replay/capture.h"

enum { DIR_C2S = 0, DIR_S2C = 1 };

enum flow_end {
	FLOW_END_OPEN = 0,	/* still open at end of capture */
	FLOW_END_FIN,
	FLOW_END_RST,
	FLOW_END_IDLE,
	FLOW_END_EVICTED,	/* max_flows reached: the least recently used went */
	FLOW_END_REUSED,	/* a new SYN on the 4-tuple before this one closed */
};

struct flow_dir_stats {
	uint64_t packets;
	uint64_t data_segments;	/* segments with payload */
	uint64_t payload_bytes;	/* in-order bytes delivered */
	uint64_t retransmits;	/* segments whose bytes were all seen before */
	uint64_t overlaps;	/* segments partly seen before */
	uint64_t out_of_order;	/* segments that arrived ahead of a hole */
	uint64_t gaps;		/* holes never filled */
	uint64_t gap_bytes;
	uint64_t truncated;	/* segments cut by snaplen */
	uint64_t missing_bytes;	/* payload bytes cut by snaplen (part of gap_bytes) */
	bool fin, rst;
};

struct flow_info {
	uint64_t id;		/* 1, 2, ... in order of first packet */
	int family;		/* AF_INET / AF_INET6 */
	uint8_t caddr[16], saddr[16];
	uint16_t cport, sport;
	bool syn_seen;		/* handshake captured */
	bool roles_guessed;	/* no SYN: roles from the port heuristic */
	uint32_t isn[2];	/* initial sequence numbers, [DIR_*] */
	uint16_t mss[2];	/* from SYN options, 0 if unknown */
	int8_t wscale[2];	/* -1 if unknown */
	uint64_t first_ts_ns, last_ts_ns;
	struct flow_dir_stats dir[2];
	enum flow_end end;
	void *user;		/* the consumer's per-flow state */
};

struct reasm_ops {
	/* a new flow; f->user may be set here */
	void (*open)(void *ctx, struct flow_info *f);
	/* bytes at stream offset off (0 = first byte after the SYN) */
	void (*data)(void *ctx, struct flow_info *f, int dir, uint64_t off,
		     const uint8_t *p, size_t n, uint64_t ts_ns);
	/* len bytes at off that will never arrive */
	void (*gap)(void *ctx, struct flow_info *f, int dir, uint64_t off,
		    uint64_t len);
	/* the flow is over: f->end and f->dir[] are final; f is freed after */
	void (*close)(void *ctx, struct flow_info *f);
};

struct reasm_config {
	uint64_t max_reorder_bytes;	/* per flow direction; default 4 MiB */
	uint64_t idle_timeout_ns;	/* capture time; default 300 s */
	uint32_t max_flows;		/* alive at once; default 1 << 20 */
};

struct reasm_totals {
	uint64_t flows;
	uint64_t flows_open_now, flows_peak;
	uint64_t reorder_bytes_peak;
	uint64_t dropped_no_flow;	/* a lone RST with no flow to attach to */
	uint64_t after_close;		/* packets for a flow already closed by FIN/RST
					 * (the last ACK, a repeated RST) */
};

struct reasm;

/* cfg may be NULL for defaults. */
int reasm_new(struct reasm **out, const struct reasm_config *cfg,
	      const struct reasm_ops *ops, void *ctx);
/* One decoded packet (pkt->skip must be CAP_SKIP_NONE). */
int reasm_feed(struct reasm *r, const struct cap_pkt *pkt);
/* End of capture: closes every open flow (FLOW_END_OPEN). */
void reasm_finish(struct reasm *r);
const struct reasm_totals *reasm_totals(const struct reasm *r);
void reasm_free(struct reasm *r);

#endif
