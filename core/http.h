/*
 * http.h: zero-copy HTTP/1.x request-head parser (picohttpparser's contract).
 *
 * The parser never allocates: it fills caller-owned slices that point into
 * the caller's read buffer.  The state (struct http_request) is zero-filled
 * before the first call.  Return contract of http_parse_request():
 *
 *	> 0	bytes consumed: the request head (through the blank line)
 *	-1	bad input: err->status (400/431/505), err->reason, err->offset
 *	-2	need more bytes (call again with the longer buffer)
 *
 * The head must be complete within the first lim->max_header_bytes bytes:
 * with len >= max_header_bytes and no complete head there, the answer is
 * 431 (so it does not depend on how the bytes were split into reads).
 * Leading empty lines before the request-line are skipped and counted in
 * the bytes consumed (RFC 9112 §2.2).  The parser checks syntax only;
 * framing.c interprets Content-Length, Transfer-Encoding, Connection, Host.
 *
 * Strict by design (request smuggling is an ambiguity between two
 * parsers): invalid bytes in method/target/header names, bare CR, bare LF
 * (unless lim->allow_bare_lf), obsolete line folding (RFC 9112 §5.2), NUL,
 * a header section over lim->max_header_bytes (431) or more than
 * max_headers headers (431) are rejected.  Method: tchars, case-sensitive.
 * Target: visible ASCII (0x21-0x7e) in origin-form, absolute-form,
 * authority-form (CONNECT only, host:port) or asterisk-form (OPTIONS only).
 * Version: "HTTP/" DIGIT "." DIGIT, else 400; well-formed but not 1.0 or
 * 1.1 (HTTP/1.2, HTTP/2.0) gets 505 (RFC 9110 §15.6.6).  Header names:
 * tchars, no whitespace before ':' (RFC 9112 §5.1).  Values: VCHAR, SP,
 * HTAB, obs-text 0x80-0xff; any other CTL (NUL, bare CR, DEL) is a 400.
 *
 * Scanning is vectorised (SSE4.2 or AVX2, chosen at run time), with a
 * portable path; tests and benchmarks pin one through http-int.h.
 */
#ifndef PKTMEM_CORE_HTTP_H
#define PKTMEM_CORE_HTTP_H

#include <stddef.h>

#include "core/slice.h"

enum { HTTP_PARSE_BAD = -1, HTTP_PARSE_MORE = -2 };

struct http_header {
	struct slice name;
	struct slice value;	/* leading/trailing whitespace trimmed */
};

struct http_request {
	struct slice method;
	struct slice target;
	int minor_version;		/* HTTP/1.<minor> */
	struct http_header *headers;	/* caller-owned array */
	size_t max_headers;		/* its capacity */
	size_t num_headers;		/* filled */
};

struct http_limits {
	size_t max_header_bytes;	/* request line + headers; default 16384 */
	size_t max_headers;		/* default 100 */
	size_t max_body_bytes;		/* framing: 413 above; default 8 MiB */
	int allow_bare_lf;		/* default 0 */
	/* framing: HTTP/1.1 without Host -> 400 unless set (RFC 9112 §3.2) */
	int allow_missing_host;		/* default 0 */
};

struct http_error {
	int status;		/* 400, 413, 431, 501, 505 */
	const char *reason;	/* static string: "duplicate Content-Length" */
	size_t offset;		/* byte offset in the input where it was found */
};

void http_limits_default(struct http_limits *lim);

/* lim NULL: the defaults; err may be NULL. */
int http_parse_request(const char *buf, size_t len, struct http_request *req,
		       const struct http_limits *lim, struct http_error *err);

/*
 * The reason phrase for a status this module or framing.h produces (and
 * 100, 200), RFC 9110 §15; "Unknown" for others.  A static string.
 */
const char *http_status_text(int status);

/* Which scanner runs: "avx2", "sse4.2" or "scalar". */
const char *http_scanner_name(void);

#endif
