/*
 * inspect.h: what is in a capture — the engine behind 'pktmem inspect'.
 *
 * capture (capture.h) -> TCP reassembly (reasm.h) -> HTTP/1.x request
 * extraction on each client stream (httpx.h) -> one struct inspect_result:
 * the capture's summary, totals over every flow, a table of the first
 * max_flow_rows flows, and HTTP request counts by method and framing.
 * Streaming: memory is bounded by the flows alive at once, the reorder
 * cap and max_flow_rows, never by the capture's size.
 *
 * inspect_result_json() builds the JSON documented in docs/inspect-json.md
 * (schema "pktmem.inspect/1").  Rendering as text is cmd/inspect.c's job.
 *
 * Ownership: the caller frees the result with inspect_result_free().
 */
#ifndef PKTMEM_REPLAY_INSPECT_H
#define PKTMEM_REPLAY_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "replay/capture.h"
#include "replay/httpx.h"
#include "replay/reasm.h"

#define INSPECT_SCHEMA "pktmem.inspect/1"

struct inspect_opts {
	const char *filter;		/* BPF expression or NULL */
	uint64_t max_reorder_bytes;	/* per flow direction; 0: reasm default */
	size_t max_flow_rows;		/* flows kept in detail; 0: 50 */
};

struct inspect_flow_row {
	struct flow_info f;		/* final state (user pointer cleared) */
	uint64_t requests;		/* HTTP requests on the client stream */
	bool not_http;
};

/* Anomalies and bytes summed over every flow and both directions. */
struct inspect_flow_totals {
	uint64_t flows;
	uint64_t packets[2];		/* [DIR_*] */
	uint64_t payload_bytes[2];
	uint64_t retransmits, out_of_order, overlaps, gaps, gap_bytes;
	uint64_t truncated, missing_bytes;
	uint64_t roles_guessed;		/* flows without a captured SYN */
	uint64_t by_end[FLOW_END_REUSED + 1];
};

#define INSPECT_MAX_METHODS 16

struct inspect_http {
	uint64_t flows;			/* flows with at least one request */
	uint64_t not_http_flows;	/* client bytes that are not HTTP/1.x */
	uint64_t requests;
	uint64_t by_framing[HTTPX_FRAMING__N];
	struct { char name[24]; uint64_t count; } methods[INSPECT_MAX_METHODS];
	int nmethods;
	uint64_t other_methods;		/* past INSPECT_MAX_METHODS names */
	uint64_t complete, incomplete, cut_by_gap, errors, pipelined;
	uint64_t head_bytes, body_bytes;
	uint64_t partial_heads, resyncs, skipped_bytes;
};

struct inspect_result {
	char *path;
	struct capture_stats cap;
	struct reasm_totals reasm;
	struct inspect_flow_totals tot;
	struct inspect_http http;
	struct inspect_flow_row *rows;	/* flows in id order, at most max_flow_rows */
	size_t nrows;
	uint64_t rows_omitted;
};

/*
 * Reads the whole capture.  Returns 0 with *out set, or a negative
 * capture.h code / errno with err holding one line (without the path).
 * A capture that ends mid-record is not an error:
 * (*out)->cap.ended_mid_record is set.
 */
int inspect_run(const char *path, const struct inspect_opts *o,
		struct inspect_result **out, char *err, size_t errlen);
void inspect_result_free(struct inspect_result *r);

/* A new JSON object (a reference the caller owns), or NULL on ENOMEM. */
json_t *inspect_result_json(const struct inspect_result *r);

/* "10.0.0.1:80" or "[2001:db8::1]:80" */
void inspect_endpoint(char *buf, size_t len, int family, const uint8_t *addr,
		      uint16_t port);
const char *inspect_end_name(enum flow_end e);	/* "fin", "rst", ... */
const char *inspect_skip_name(enum cap_skip s);	/* "not-ip", ... */

#endif
