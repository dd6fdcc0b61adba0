/*
 * framing.h: HTTP/1.0 and 1.1 request framing on a byte stream.
 *
 * One struct http_framer per connection (or per captured client stream).
 * Fed bytes as they arrive, in pieces of any size (a request split at any
 * byte reassembles correctly); parses each head with http.h, decides its
 * body framing (RFC 9112 §6: Transfer-Encoding chunked, Content-Length,
 * none; close-delimited is not allowed for requests) and decodes chunked
 * bodies (extensions and trailers accepted and skipped).  Pipelined
 * requests come out in order.
 *
 * Rejected (framer enters FRAMER_ERROR, the caller answers err.status and
 * closes): Content-Length with Transfer-Encoding, duplicate or invalid
 * Content-Length, a Transfer-Encoding other than a final "chunked" (501
 * for unknown codings), bad or overflowing chunk sizes, bodies over
 * lim.max_body_bytes (413), everything http.h rejects.  Strict choices
 * (RFC 9112 lets a server make them): a second Content-Length is a 400
 * even when equal, and so is the list form "5, 5"; Transfer-Encoding in
 * an HTTP/1.0 request is a 400 (§6.1); "gzip, chunked" is chunked (the
 * body is handed over de-chunked, still gzip); codings other than chunked,
 * gzip, x-gzip, deflate, compress, x-compress are 501; an HTTP/1.1 request
 * without exactly one Host is a 400 (§3.2) unless lim.allow_missing_host;
 * chunk extensions are checked for their alphabet (no CTLs, must start
 * with ';') and a chunk-size line is at most 4096 bytes; trailers are
 * checked like header fields, count against max_header_bytes (431) and
 * are skipped.  Keep-alive (§9.3): HTTP/1.1 unless "Connection: close",
 * HTTP/1.0 only with "Connection: keep-alive".  "Expect: 100-continue"
 * sets expect_continue; answering it is the caller's business.
 *
 * err.offset is a stream offset: bytes since framer_new()/framer_reset().
 * A bad byte in a head is reported once its line is complete (or the head
 * reaches max_header_bytes), so the verdict after any byte is the same
 * however the stream was cut into reads.
 *
 * Zero-copy: head slices point into the bytes passed to framer_feed() and
 * are valid during the callback only; when a head spans feeds the framer
 * keeps a bounded copy (at most max_header_bytes).
 */
#ifndef PKTMEM_CORE_FRAMING_H
#define PKTMEM_CORE_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/http.h"

enum http_body_kind {
	HTTP_BODY_NONE = 0,
	HTTP_BODY_LENGTH,
	HTTP_BODY_CHUNKED,
};

struct http_msg {
	const struct http_request *req;	/* valid in on_head only */
	enum http_body_kind body_kind;
	uint64_t content_length;	/* HTTP_BODY_LENGTH */
	size_t head_bytes;		/* request line + headers + blank line */
	uint64_t body_bytes;		/* decoded body bytes (so far / final) */
	uint64_t wire_body_bytes;	/* body bytes on the wire incl. chunk framing */
	bool keep_alive;		/* after this request */
	bool expect_continue;
};

struct framer_ops {
	/* a complete head; return < 0 to stop (framer_feed returns it) */
	int (*on_head)(void *ctx, struct http_msg *m);
	/* decoded body bytes (de-chunked), in order */
	int (*on_body)(void *ctx, struct http_msg *m, const char *p, size_t n);
	/* the request is complete (body included) */
	int (*on_end)(void *ctx, struct http_msg *m);
};

enum framer_state { FRAMER_HEAD = 0, FRAMER_BODY, FRAMER_ERROR, FRAMER_CLOSED };

struct http_framer;

int framer_new(struct http_framer **out, const struct http_limits *lim,
	       const struct framer_ops *ops, void *ctx);
/*
 * Consumes all n bytes (returns n), or returns -1 after a protocol error
 * (framer_error() says which), or a callback's negative value (the framer
 * then enters FRAMER_CLOSED).  Bytes after a request that ends with
 * keep_alive false are not consumed: returns the count up to the end of
 * that request and enters FRAMER_CLOSED; later calls return 0 (CLOSED)
 * or -1 (ERROR).  on_body is never called with n == 0.
 */
long framer_feed(struct http_framer *f, const char *p, size_t n);
/* The peer closed: true when the stream ended between requests. */
bool framer_at_boundary(const struct http_framer *f);
enum framer_state framer_state(const struct http_framer *f);
const struct http_error *framer_error(const struct http_framer *f);
uint64_t framer_requests(const struct http_framer *f);
void framer_reset(struct http_framer *f);
void framer_free(struct http_framer *f);

#endif
