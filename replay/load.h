/*
 * load.h: captures -> replay plan, through capture.h (ingest, decode,
 * filter) and reasm.h (TCP reassembly per flow).
 *
 * Each flow's client->server stream becomes a plan_flow whose segments
 * are the reassembled bytes in the boundaries of the captured segments
 * (reasm hands each captured segment's new bytes in one data() call).
 * Server->client bytes are not planned: the live server makes its own.
 * Several captures are replayed one after the other: flow numbers go on
 * counting, the times of each capture follow the previous one's end.
 * When the reassembly helper's HTTP extraction (replay/httpx.h) is built
 * in, each flow also knows how many requests its replayed bytes hold.
 */
#ifndef PKTMEM_REPLAY_LOAD_H
#define PKTMEM_REPLAY_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay/plan.h"

struct load_cfg {
	const char *filter;	/* pcap_compile syntax, or NULL */
	uint64_t limit_flows;	/* 0 = all */
};

struct load_info {
	uint64_t packets, tcp_packets, bytes;
	uint64_t flows;			/* seen in the captures */
	uint64_t flows_beyond_limit;	/* not planned: --limit-flows */
	uint64_t skipped_packets;	/* not TCP, fragments, filter, ... */
	uint64_t missing_bytes;		/* cut by snaplen */
	bool requests_known;		/* httpx built in */
	uint64_t requests;		/* in the planned bytes */
	uint64_t requests_rejected;	/* the framer refuses them: 4xx expected */
};

/* Appends the flows of the captures to plan (then plan_finish() is done).
 * Returns 0, or a negative capture.h / errno code with err set to one line
 * that names the file. */
int load_captures(struct plan *plan, const char *const *paths, size_t npaths,
		  const struct load_cfg *cfg, struct load_info *info,
		  char *err, size_t errlen);

#endif
