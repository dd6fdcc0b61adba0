/*
 * plan.h: what the replayer will send: per captured flow, the client's
 * segments in stream order, with their captured boundaries and times.
 *
 * Built from a capture by load.c (capture + reassembly) or directly by
 * tests.  Only bytes that are contiguous from the start of the client's
 * stream are planned: a flow with a hole is cut at the hole (truncated,
 * gap_off says where) and never gets invented bytes.
 *
 * Ownership: struct plan owns every flow, segment and payload byte (one
 * arena); pointers stay valid until plan_free().
 */
#ifndef PKTMEM_REPLAY_PLAN_H
#define PKTMEM_REPLAY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct plan_seg {
	uint64_t off;		/* stream offset of the first byte (0 = after SYN) */
	uint64_t ts_ns;		/* capture time */
	const uint8_t *data;
	uint32_t len;
	uint32_t sum;		/* tcpgen_sum(data, len): the cached checksum part */
};

enum plan_skip {
	PLAN_OK = 0,
	PLAN_SKIP_NO_DATA,	/* the client sent no payload */
	PLAN_SKIP_GAP_AT_START,	/* the first client byte was never captured */
	PLAN_SKIP_LIMIT,	/* beyond --limit-flows */
};

struct plan_flow {
	uint64_t id;		/* the capture's flow number (reasm order) */
	int family;		/* AF_INET / AF_INET6 */
	uint8_t caddr[16], saddr[16];
	uint16_t cport, sport;	/* host order, as captured */
	uint64_t first_ts_ns;	/* first packet (the SYN when captured) */
	struct plan_seg *seg;
	uint32_t nseg, cap_seg;
	uint64_t bytes;		/* planned client bytes (contiguous prefix) */
	uint64_t requests;	/* HTTP requests in those bytes (if counted) */
	bool requests_known;
	bool truncated;		/* a hole: bytes from gap_off on are not replayed */
	uint64_t gap_off, gap_len;
	uint64_t lost_bytes;	/* captured client bytes after the hole, not replayed */
	bool client_fin;
	/* a request in it is one the framer rejects (smuggling shapes, bad
	 * chunk sizes): the server answers 4xx and closes early, so fewer
	 * bytes than planned are read; verification expects that */
	bool expect_close;
	enum plan_skip skip;
};

struct plan {
	struct plan_flow **flow;	/* stable pointers, capture order */
	size_t nflows, cap_flows;
	uint64_t first_ts_ns, last_ts_ns;
	uint32_t max_seg_len;	/* largest planned segment, bytes */
	uint64_t segments, bytes;	/* over flows not skipped */
	/* arena */
	struct plan_chunk *chunks;
};

struct plan *plan_new(void);
void plan_free(struct plan *p);

/* Adds a flow (copied); returns it, or NULL on ENOMEM. */
struct plan_flow *plan_add_flow(struct plan *p, const struct plan_flow *proto);
/* Appends n bytes at stream offset off to a flow's client stream.  Bytes
 * that continue the contiguous prefix are planned; anything after a hole
 * is counted as lost.  0 or -ENOMEM. */
int plan_add_data(struct plan *p, struct plan_flow *f, uint64_t off,
		  const uint8_t *data, size_t n, uint64_t ts_ns);
/* A hole the capture will never fill. */
void plan_add_gap(struct plan_flow *f, uint64_t off, uint64_t len);
/* Marks flows without data as skipped, totals the plan. */
void plan_finish(struct plan *p);

const char *plan_skip_name(enum plan_skip s);

/* A connection's key by its client endpoint (FNV-1a over address, port,
 * family; never 0, the empty-slot mark): the engine's verification table
 * and the foreign-server response tracker use the same one. */
static inline uint64_t plan_peer_key(int family, const uint8_t *addr, uint16_t port)
{
	uint64_t h = 1469598103934665603ull;
	size_t i, n = family == AF_INET ? 4 : 16;

	for (i = 0; i < n; i++)
		h = (h ^ addr[i]) * 1099511628211ull;
	h = (h ^ port) * 1099511628211ull;
	h = (h ^ (uint64_t)family) * 1099511628211ull;
	return h | 1;
}

#endif
