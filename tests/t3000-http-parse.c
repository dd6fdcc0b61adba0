/*
 * t3000: the request-head parser (core/http.c) on a table of valid and
 * invalid heads, with every scanner this CPU has, every input placed to
 * end right before a PROT_NONE page, and every prefix of every input
 * (a prefix must give "need more" or the same verdict as the whole).
 */
#include "core/http-int.h"
#include "tests/tap.h"
#include "tests/http-guard.h"

#include <errno.h>
#include <stdio.h>

#define S(x) .in = (x), .len = sizeof(x) - 1

enum { F_BARE_LF = 1, F_SMALL = 2 };

struct pcase {
	const char *name;
	const char *in;
	size_t len;
	int status;		/* 0: valid */
	const char *reason;	/* checked when set */
	long offset;		/* checked when >= 0 (set .check_off) */
	int check_off;
	long consumed;		/* valid: 0 means the whole input */
	const char *method, *target;
	int minor;
	const char *hdrs;	/* "name: value\n" for each header */
	unsigned flags;
};

static const struct pcase cases[] = {
	/* ---- valid ---- */
	{ "simple GET", S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = "GET", .target = "/", .minor = 1, .hdrs = "Host: a\n" },
	{ "HTTP/1.0 no headers", S("GET /x HTTP/1.0\r\n\r\n"),
	  .method = "GET", .target = "/x", .minor = 0, .hdrs = "" },
	{ "POST with body after the head", S("POST /api/v1/items?x=1&y=%20 HTTP/1.1\r\nHost: api\r\nContent-Length: 5\r\n\r\nhello"),
	  .consumed = 71, .method = "POST", .target = "/api/v1/items?x=1&y=%20", .minor = 1,
	  .hdrs = "Host: api\nContent-Length: 5\n" },
	{ "extension method, token chars", S("M-SEARCH!#$%&'*+.^_`|~09az / HTTP/1.1\r\n\r\n"),
	  .method = "M-SEARCH!#$%&'*+.^_`|~09az", .target = "/", .minor = 1, .hdrs = "" },
	{ "asterisk-form with M-SEARCH", S("M-SEARCH * HTTP/1.1\r\n\r\n"),
	  .status = 400, .reason = "request target form not allowed for this method" },
	{ "OPTIONS *", S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = "OPTIONS", .target = "*", .minor = 1, .hdrs = "Host: a\n" },
	{ "CONNECT authority-form", S("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
	  .method = "CONNECT", .target = "example.com:443", .minor = 1,
	  .hdrs = "Host: example.com:443\n" },
	{ "CONNECT IPv6 authority", S("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n"),
	  .method = "CONNECT", .target = "[::1]:8443", .minor = 1, .hdrs = "" },
	{ "absolute-form", S("GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	  .method = "GET", .target = "http://example.com/a?b", .minor = 1,
	  .hdrs = "Host: example.com\n" },
	{ "lower-case method is a token", S("get / HTTP/1.1\r\n\r\n"),
	  .method = "get", .target = "/", .minor = 1, .hdrs = "" },
	{ "OWS trimmed, HTAB inside kept", S("GET / HTTP/1.1\r\nA: \t x\ty \t\r\nB:\r\nC:   \r\nD:z\r\n\r\n"),
	  .method = "GET", .target = "/", .minor = 1,
	  .hdrs = "A: x\ty\nB: \nC: \nD: z\n" },
	{ "obs-text in a value", S("GET / HTTP/1.1\r\nX-Name: caf\xc3\xa9 \x80\xff\r\n\r\n"),
	  .method = "GET", .target = "/", .minor = 1, .hdrs = "X-Name: caf\xc3\xa9 \x80\xff\n" },
	{ "token chars in a name", S("GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~Az09: v\r\n\r\n"),
	  .method = "GET", .target = "/", .minor = 1, .hdrs = "!#$%&'*+-.^_`|~Az09: v\n" },
	{ "leading empty lines skipped", S("\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
	  .method = "GET", .target = "/", .minor = 1, .hdrs = "" },
	{ "all visible ASCII in target", S("GET /!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~ HTTP/1.1\r\n\r\n"),
	  .method = "GET", .target = "/!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", .minor = 1, .hdrs = "" },
	{ "bare LF allowed by option", S("GET / HTTP/1.1\nHost: a\nB: c \n\n"), .flags = F_BARE_LF,
	  .method = "GET", .target = "/", .minor = 1, .hdrs = "Host: a\nB: c\n" },
	{ "mixed endings allowed by option", S("\nGET / HTTP/1.0\r\nA: b\n\r\n"), .flags = F_BARE_LF,
	  .method = "GET", .target = "/", .minor = 0, .hdrs = "A: b\n" },
	{ "exactly max headers (4)", S("GET / HTTP/1.1\r\na:1\r\nb:2\r\nc:3\r\nd:4\r\n\r\n"), .flags = F_SMALL,
	  .method = "GET", .target = "/", .minor = 1, .hdrs = "a: 1\nb: 2\nc: 3\nd: 4\n" },
	{ "head of exactly max_header_bytes (64)",
	  S("GET /012345678901234567890123456 HTTP/1.1\r\nHost: abcdefghijk\r\n\r\n"), .flags = F_SMALL,
	  .method = "GET", .target = "/012345678901234567890123456", .minor = 1, .hdrs = "Host: abcdefghijk\n" },
	{ "long values cross vector widths",
	  S("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n"
	    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n"
	    "X-A-Very-Long-Header-Name-That-Exceeds-Thirty-Two-Bytes: 1\r\n\r\n"),
	  .method = "GET", .target = "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", .minor = 1,
	  .hdrs = "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\n"
		  "X-A-Very-Long-Header-Name-That-Exceeds-Thirty-Two-Bytes: 1\n" },
	{ "pipelined: only the first head", S("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
	  .consumed = 19, .method = "GET", .target = "/1", .minor = 1, .hdrs = "" },

	/* ---- request line ---- */
	{ "invalid char in method", S("G(T / HTTP/1.1\r\n\r\n"), .status = 400,
	  .reason = "invalid character in method", .check_off = 1, .offset = 1 },
	{ "empty method", S(" / HTTP/1.1\r\n\r\n"), .status = 400, .check_off = 1, .offset = 0 },
	{ "NUL in method", S("GE\0T / HTTP/1.1\r\n\r\n"), .status = 400, .check_off = 1, .offset = 2 },
	{ "two spaces after method", S("GET  / HTTP/1.1\r\n\r\n"), .status = 400,
	  .reason = "empty request target" },
	{ "tab as separator", S("GET\t/ HTTP/1.1\r\n\r\n"), .status = 400 },
	{ "control char in target", S("GET /a\x01 HTTP/1.1\r\n\r\n"), .status = 400,
	  .reason = "invalid character in request target", .check_off = 1, .offset = 6 },
	{ "NUL in target", S("GET /a\0b HTTP/1.1\r\n\r\n"), .status = 400, .check_off = 1, .offset = 6 },
	{ "DEL in target", S("GET /a\x7f HTTP/1.1\r\n\r\n"), .status = 400 },
	{ "obs-text in target", S("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n"), .status = 400 },
	{ "asterisk-form with GET", S("GET * HTTP/1.1\r\n\r\n"), .status = 400,
	  .reason = "request target form not allowed for this method" },
	{ "CONNECT origin-form", S("CONNECT /x HTTP/1.1\r\n\r\n"), .status = 400 },
	{ "CONNECT without port", S("CONNECT example.com HTTP/1.1\r\n\r\n"), .status = 400 },
	{ "relative target", S("GET a/b HTTP/1.1\r\n\r\n"), .status = 400 },
	{ "HTTP/0.9 request line", S("GET /\r\n\r\n"), .status = 400 },
	{ "lower-case version", S("GET / http/1.1\r\n\r\n"), .status = 400, .reason = "invalid HTTP version" },
	{ "version 1.10", S("GET / HTTP/1.10\r\n\r\n"), .status = 400,
	  .reason = "invalid character after HTTP version" },
	{ "version 11", S("GET / HTTP/11\r\n\r\n"), .status = 400 },
	{ "HTTP/1.2 not supported", S("GET / HTTP/1.2\r\n\r\n"), .status = 505 },
	{ "HTTP/2.0 not supported", S("GET / HTTP/2.0\r\n\r\n"), .status = 505 },
	{ "space after version", S("GET / HTTP/1.1 \r\n\r\n"), .status = 400 },
	{ "bare CR after version", S("GET / HTTP/1.1\rHost: a\r\n\r\n"), .status = 400, .reason = "bare CR" },
	{ "bare LF after version", S("GET / HTTP/1.1\nHost: a\r\n\r\n"), .status = 400, .reason = "bare LF" },
	{ "bare LF leading line", S("\nGET / HTTP/1.1\r\n\r\n"), .status = 400, .reason = "bare LF" },
	{ "bare CR leading line", S("\rGET / HTTP/1.1\r\n\r\n"), .status = 400, .reason = "bare CR" },

	/* ---- header fields ---- */
	{ "space before colon", S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), .status = 400,
	  .reason = "whitespace before colon in header field", .check_off = 1, .offset = 20 },
	{ "tab before colon", S("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), .status = 400 },
	{ "obs-fold (SP)", S("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), .status = 400,
	  .reason = "obsolete line folding", .check_off = 1, .offset = 22 },
	{ "obs-fold (HTAB)", S("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n"), .status = 400,
	  .reason = "obsolete line folding" },
	{ "whitespace before the first header", S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), .status = 400 },
	{ "invalid char in name", S("GET / HTTP/1.1\r\nA(b: c\r\n\r\n"), .status = 400,
	  .reason = "invalid character in header name" },
	{ "obs-text in name", S("GET / HTTP/1.1\r\nA\xc3\xa9: c\r\n\r\n"), .status = 400 },
	{ "empty name", S("GET / HTTP/1.1\r\n: c\r\n\r\n"), .status = 400, .reason = "empty header name" },
	{ "no colon", S("GET / HTTP/1.1\r\nHost\r\n\r\n"), .status = 400 },
	{ "NUL in value", S("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n"), .status = 400,
	  .reason = "NUL in header value", .check_off = 1, .offset = 20 },
	{ "NUL in name", S("GET / HTTP/1.1\r\nA\0: b\r\n\r\n"), .status = 400 },
	{ "bare CR in value", S("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"), .status = 400, .reason = "bare CR" },
	{ "bare CR at value end", S("GET / HTTP/1.1\r\nA: b\r\r\n\r\n"), .status = 400, .reason = "bare CR" },
	{ "bare LF header line", S("GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n"), .status = 400, .reason = "bare LF" },
	{ "bare LF final line", S("GET / HTTP/1.1\r\nA: b\r\n\n"), .status = 400, .reason = "bare LF" },
	{ "bare CR final line", S("GET / HTTP/1.1\r\nA: b\r\n\rX"), .status = 400, .reason = "bare CR" },
	{ "DEL in value", S("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n"), .status = 400 },
	{ "control char in value", S("GET / HTTP/1.1\r\nA: \x1b[0m\r\n\r\n"), .status = 400 },
	{ "vertical tab in value", S("GET / HTTP/1.1\r\nA: b\x0b\r\n\r\n"), .status = 400 },
	{ "too many headers (5 > 4)", S("GET / HTTP/1.1\r\na:1\r\nb:2\r\nc:3\r\nd:4\r\ne:5\r\n\r\n"),
	  .flags = F_SMALL, .status = 431, .reason = "too many header fields" },
	{ "head of max_header_bytes + 1",
	  S("GET /0123456789012345678901234567 HTTP/1.1\r\nHost: abcdefghijk\r\n\r\n"), .flags = F_SMALL,
	  .status = 431, .reason = "request header section too large", .check_off = 1, .offset = 64 },
};

/* Heads built at run time: big ones. */
static char *make_many(size_t n, size_t *len)
{
	char *b = malloc(64 + n * 32);
	size_t o, i;

	o = (size_t)sprintf(b, "GET / HTTP/1.1\r\n");
	for (i = 0; i < n; i++)
		o += (size_t)sprintf(b + o, "X-H%zu: v%zu\r\n", i, i);
	o += (size_t)sprintf(b + o, "\r\n");
	*len = o;
	return b;
}

static char *make_long_line(size_t vlen, int terminate, size_t *len)
{
	char *b = malloc(vlen + 64);
	size_t o;

	o = (size_t)sprintf(b, "GET / HTTP/1.1\r\nX-Big: ");
	memset(b + o, 'a', vlen);
	o += vlen;
	if (terminate) {
		memcpy(b + o, "\r\n\r\n", 4);
		o += 4;
	}
	*len = o;
	return b;
}

static void fmt_headers(const struct http_request *r, char *out, size_t cap)
{
	size_t i, o = 0;

	out[0] = 0;
	for (i = 0; i < r->num_headers && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%.*s: %.*s\n",
				      (int)r->headers[i].name.len, r->headers[i].name.ptr,
				      (int)r->headers[i].value.len, r->headers[i].value.ptr);
}

static int slice_is(struct slice s, const char *want)
{
	return want && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static struct http_header hdrs[256];
static struct guard guard;
static char got_hdrs[65536];

static int parse_at_guard(const char *in, size_t len, const struct http_limits *lim,
			  struct http_request *req, struct http_error *err)
{
	const char *p = guard_place(&guard, in, len);

	memset(req, 0, sizeof(*req));
	req->headers = hdrs;
	req->max_headers = 256;
	memset(err, 0, sizeof(*err));
	return http_parse_request(p, len, req, lim, err);
}

static void limits_for(unsigned flags, struct http_limits *lim)
{
	http_limits_default(lim);
	if (flags & F_BARE_LF)
		lim->allow_bare_lf = 1;
	if (flags & F_SMALL) {
		lim->max_header_bytes = 64;
		lim->max_headers = 4;
	}
}

/* One case on the current scanner: the whole input, then every prefix. */
static void run_case(const struct pcase *c, const char *sc)
{
	struct http_limits lim;
	struct http_request req;
	struct http_error err, perr;
	long want = c->status ? -1 : (c->consumed ? c->consumed : (long)c->len);
	int r, good;
	size_t k, step, bad_prefix = 0, first_bad = 0;

	limits_for(c->flags, &lim);
	r = parse_at_guard(c->in, c->len, &lim, &req, &err);
	if (c->status == 0) {
		good = r == want && slice_is(req.method, c->method) &&
		       slice_is(req.target, c->target) && req.minor_version == c->minor;
		fmt_headers(&req, got_hdrs, sizeof(got_hdrs));
		good = good && strcmp(got_hdrs, c->hdrs) == 0;
		if (!ok(good, "[%s] %s", sc, c->name))
			diag("  r=%d (want %ld) status=%d reason=%s at %zu; headers:\n%s",
			     r, want, err.status, err.reason ? err.reason : "-", err.offset, got_hdrs);
	} else {
		good = r == -1 && err.status == c->status &&
		       (!c->reason || (err.reason && strcmp(err.reason, c->reason) == 0)) &&
		       (!c->check_off || (long)err.offset == c->offset);
		if (!ok(good, "[%s] %s -> %d", sc, c->name, c->status))
			diag("  r=%d status=%d reason=%s offset=%zu", r, err.status,
			     err.reason ? err.reason : "-", err.offset);
	}

	/* every prefix: "need more", or the very same verdict */
	step = c->len > 8192 ? c->len / 997 + 1 : 1;
	for (k = 0; k < c->len; k += step) {
		r = parse_at_guard(c->in, k, &lim, &req, &perr);
		if (r == HTTP_PARSE_MORE)
			good = c->status ? 1 : (long)k < want;
		else if (r == -1)
			good = c->status && perr.status == err.status &&
			       perr.reason == err.reason && perr.offset == err.offset;
		else
			good = c->status == 0 && r == want && (long)k >= want;
		if (!good && bad_prefix++ == 0)
			first_bad = k;
	}
	if (!ok(bad_prefix == 0, "[%s] %s: every prefix", sc, c->name))
		diag("  %zu bad prefixes, first at %zu", bad_prefix, first_bad);
}

int main(void)
{
	static const char *const scanners[] = { "scalar", "sse4.2", "avx2" };
	struct pcase big[6];
	char *bufs[6];
	size_t n, i, s;

	memset(big, 0, sizeof(big));
	bufs[0] = make_many(100, &n);
	big[0] = (struct pcase){ "100 headers (the default limit)", bufs[0], n, .method = "GET",
				 .target = "/", .minor = 1 };
	bufs[1] = make_many(101, &n);
	big[1] = (struct pcase){ "101 headers", bufs[1], n, .status = 431,
				 .reason = "too many header fields" };
	bufs[2] = make_long_line(16384 - 27, 1, &n);
	big[2] = (struct pcase){ "head of exactly 16384 bytes", bufs[2], n, .method = "GET",
				 .target = "/", .minor = 1 };
	bufs[3] = make_long_line(16384 - 26, 1, &n);
	big[3] = (struct pcase){ "head of 16385 bytes", bufs[3], n, .status = 431,
				 .check_off = 1, .offset = 16384 };
	bufs[4] = make_long_line(1 << 20, 1, &n);
	big[4] = (struct pcase){ "1 MiB header line", bufs[4], n, .status = 431 };
	bufs[5] = make_long_line(1 << 20, 0, &n);
	big[5] = (struct pcase){ "1 MiB unterminated header line", bufs[5], n, .status = 431 };

	plan_lazy();
	for (s = 0; s < 3; s++) {
		if (!http_scanner_available(scanners[s])) {
			skip("scanner %s: this CPU lacks it", scanners[s]);
			continue;
		}
		is_int(http_scanner_select(scanners[s]), 0, "select scanner %s", scanners[s]);
		is_str(http_scanner_name(), scanners[s], "scanner %s is active", scanners[s]);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			run_case(&cases[i], scanners[s]);
		for (i = 0; i < 6; i++) {
			/* the expected headers of the big valid ones: rebuild */
			if (big[i].status == 0) {
				struct http_limits lim;
				struct http_request req;
				struct http_error err;

				http_limits_default(&lim);
				memset(&req, 0, sizeof(req));
				req.headers = hdrs;
				req.max_headers = 256;
				/* trust the scalar scanner's header list only for
				 * the count; check the values directly */
				parse_at_guard(big[i].in, big[i].len, &lim, &req, &err);
				fmt_headers(&req, got_hdrs, sizeof(got_hdrs));
				big[i].hdrs = got_hdrs;
				if (i == 0) {
					ok(req.num_headers == 100 && slice_is(req.headers[99].name, "X-H99") &&
					   slice_is(req.headers[99].value, "v99"),
					   "[%s] 100 headers: names and values", scanners[s]);
				} else {
					ok(req.num_headers == 1 && req.headers[0].value.len == 16384 - 27,
					   "[%s] 16384-byte head: value length", scanners[s]);
				}
			}
			run_case(&big[i], scanners[s]);
		}
	}
	http_scanner_select(NULL);
	is_int(http_scanner_select("mmx"), -EINVAL, "unknown scanner name refused");
	http_force_scalar(1);
	is_str(http_scanner_name(), "scalar", "http_force_scalar(1) selects the portable path");
	http_force_scalar(0);
	ok(strcmp(http_scanner_name(), "scalar") != 0 || !http_scanner_available("sse4.2"),
	   "http_force_scalar(0) returns to the best scanner (%s)", http_scanner_name());

	is_str(http_status_text(431), "Request Header Fields Too Large", "status text 431");
	is_str(http_status_text(505), "HTTP Version Not Supported", "status text 505");
	is_str(http_status_text(999), "Unknown", "status text for an unknown code");

	for (i = 0; i < 6; i++)
		free(bufs[i]);
	guard_release(&guard);
	return exit_status();
}
