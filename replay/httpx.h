/*
 * httpx.h: HTTP/1.x request extraction from a reassembled client stream.
 *
 * One struct httpx_stream per captured flow, fed the client->server bytes
 * in stream order (reasm.h's data() and gap() calls).  The framing is done
 * by core/framing.h, the very framer the server uses, so inspect and the
 * server agree on where each request ends: Content-Length, chunked, none.
 * A request the framer rejects (smuggling shapes, unknown codings) has no
 * determinable end: it is reported with its error and framing "close"
 * (everything up to the end of the stream counts as its body).
 *
 * Gaps: a gap inside a Content-Length body is skipped in step (the framer
 * is fed placeholder bytes) and that request is flagged cut_by_gap; any
 * other gap ends the request in progress as incomplete and the stream is
 * re-synchronised at the next line that starts like a request line.
 *
 * A head cut short (by a gap or the end of the stream) whose request line
 * is whole is still reported: incomplete, framing "close" (its headers,
 * hence its framing, are unknown).  Snaplen-cut captures look like this.
 *
 * A request is "pipelined" when its head completed before any response
 * byte to the previous request was seen (httpx_stream_server_data()).
 *
 * A stream whose first bytes are not HTTP/1.x (TLS, another protocol) is
 * marked not_http and ignored from then on.
 *
 * Ownership: the stream owns its framer; requests are handed to the
 * callback by const pointer, valid during the call only.
 */
#ifndef PKTMEM_REPLAY_HTTPX_H
#define PKTMEM_REPLAY_HTTPX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/http.h"

enum httpx_framing {
	HTTPX_FRAMING_NONE = 0,	/* no body */
	HTTPX_FRAMING_LENGTH,	/* Content-Length */
	HTTPX_FRAMING_CHUNKED,	/* Transfer-Encoding: chunked */
	HTTPX_FRAMING_CLOSE,	/* undeterminable: to the end of the stream */
	HTTPX_FRAMING__N
};

struct httpx_req {
	uint64_t index;			/* 0, 1, ... within the stream */
	uint64_t ts_ns;			/* capture time the head completed */
	char method[24];		/* "" when the head was not parsed */
	char target[128];		/* truncated; target_len is the whole */
	size_t target_len;
	int minor_version;		/* HTTP/1.<minor>, -1 unknown */
	enum httpx_framing framing;
	uint64_t content_length;	/* HTTPX_FRAMING_LENGTH */
	uint64_t head_bytes;		/* request line + headers + blank line */
	uint64_t body_bytes;		/* decoded body bytes seen */
	uint64_t wire_body_bytes;	/* body bytes on the wire (chunk framing
					 * included), when complete */
	bool complete;			/* head and whole body seen */
	bool cut_by_gap;		/* some of it fell in a capture gap */
	bool pipelined;
	int error_status;		/* framer rejected it: 400, 413, 501; 0 ok */
	const char *error_reason;	/* static string or NULL */
};

struct httpx_stream_stats {
	uint64_t requests;		/* handed to the callback */
	uint64_t incomplete;		/* of those, !complete */
	uint64_t errors;		/* of those, error_status != 0 */
	uint64_t pipelined;
	uint64_t gaps;			/* gap() calls */
	uint64_t resyncs;		/* re-synchronisations after a gap */
	uint64_t skipped_bytes;		/* bytes dropped while re-synchronising */
	uint64_t partial_heads;		/* heads cut by a gap or the end */
	bool not_http;
};

typedef void (*httpx_req_fn)(void *ctx, const struct httpx_req *req);

struct httpx_stream;

/* lim may be NULL: http_limits_default() with no body limit and bare LF
 * accepted (inspection describes traffic, it does not police it). */
int httpx_stream_new(struct httpx_stream **out, const struct http_limits *lim,
		     httpx_req_fn fn, void *ctx);
/* Client->server bytes at stream offset off (in order, as reasm gives). */
void httpx_stream_data(struct httpx_stream *s, uint64_t off, const uint8_t *p,
		       size_t n, uint64_t ts_ns);
/* len client bytes at off that will never arrive. */
void httpx_stream_gap(struct httpx_stream *s, uint64_t off, uint64_t len);
/* n server->client bytes arrived (only their arrival matters). */
void httpx_stream_server_data(struct httpx_stream *s, size_t n);
/* The capture began inside the stream (no SYN): look for the first
 * request line instead of expecting one at offset 0. */
void httpx_stream_midstream(struct httpx_stream *s);
/* The stream ended: a request in progress is handed out as incomplete. */
void httpx_stream_end(struct httpx_stream *s);
/* Back to the state of a new stream (same callback), keeping its buffers:
 * for reuse on the next flow without allocating. */
void httpx_stream_reset(struct httpx_stream *s);
const struct httpx_stream_stats *httpx_stream_stats(const struct httpx_stream *s);
void httpx_stream_free(struct httpx_stream *s);

const char *httpx_framing_name(enum httpx_framing f);	/* "length", ... */

#endif
