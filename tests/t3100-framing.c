/*
 * t3100: request framing (core/framing.c).  Each stream in the table is
 * fed whole, in two pieces at every split point, and one byte at a time;
 * every piece ends right before a PROT_NONE page; and the callbacks'
 * log (heads, exact decoded body bytes, ends, the error with its stream
 * offset) must be the same every time and equal the expected one.  Run
 * with each scanner this CPU has.
 */
#include "core/framing.h"
#include "core/http-int.h"
#include "tests/tap.h"
#include "tests/http-guard.h"

#include <errno.h>
#include <stdio.h>

#define S(x) .in = (x), .len = sizeof(x) - 1

enum { F_BARE_LF = 1, F_SMALL_BODY = 2, F_SMALL_HEAD = 4, F_NO_HOST = 8 };

struct fcase {
	const char *name;
	const char *in;
	size_t len;
	const char *log;	/* expected log; see log_* below */
	unsigned flags;
};

static const struct fcase cases[] = {
	/* ---- valid ---- */
	{ "GET, keep-alive by default", S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  "H GET / 1.1 none cl=0 ka=1 ec=0 head=27 [Host=a]\nE body=0 wire=0 \n" },
	{ "POST with Content-Length", S("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"),
	  "H POST /p 1.1 len cl=5 ka=1 ec=0 head=48 [Host=a|Content-Length=5]\nE body=5 wire=5 hello\n" },
	{ "Content-Length: 0", S("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
	  "H POST /p 1.1 len cl=0 ka=1 ec=0 head=48 [Host=a|Content-Length=0]\nE body=0 wire=0 \n" },
	{ "Content-Length with OWS and leading zeros", S("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: \t003 \r\n\r\nabc"),
	  "H POST /p 1.1 len cl=3 ka=1 ec=0 head=52 [Host=a|Content-Length=003]\nE body=3 wire=3 abc\n" },
	{ "chunked", S("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
	  "H POST /c 1.1 chunked cl=0 ka=1 ec=0 head=57 [Host=a|Transfer-Encoding=chunked]\n"
	  "E body=5 wire=15 hello\n" },
	{ "chunked, extensions, trailers, upper-case hex, leading zeros",
	  S("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5;name=val;x\r\nhello\r\n00A ; a=\"q s\"\r\n0123456789\r\n0;last\r\nTrailer-A: 1\r\nT2: x y\r\n\r\n"),
	  "H POST /c 1.1 chunked cl=0 ka=1 ec=0 head=57 [Host=a|Transfer-Encoding=chunked]\n"
	  "E body=15 wire=81 hello0123456789\n" },
	{ "chunked, empty body", S("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
	  "H POST /c 1.1 chunked cl=0 ka=1 ec=0 head=57 [Host=a|Transfer-Encoding=chunked]\nE body=0 wire=5 \n" },
	{ "gzip, chunked is chunked", S("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"),
	  "H POST /c 1.1 chunked cl=0 ka=1 ec=0 head=63 [Host=a|Transfer-Encoding=gzip, chunked]\nE body=1 wire=11 z\n" },
	{ "Transfer-Encoding over two lines", S("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: ,Chunked\r\n\r\n0\r\n\r\n"),
	  "H POST /c 1.1 chunked cl=0 ka=1 ec=0 head=83 [Host=a|Transfer-Encoding=gzip|Transfer-Encoding=,Chunked]\nE body=0 wire=5 \n" },
	{ "pipelined: GET, POST, chunked, close, then bytes left unread",
	  S("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
	    "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
	    "\r\n"	/* an empty line between requests (RFC 9112 §2.2) */
	    "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
	    "GET /4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	    "GET /5 HTTP/1.1\r\nHost: a\r\n\r\n"),
	  "H GET /1 1.1 none cl=0 ka=1 ec=0 head=28 [Host=a]\nE body=0 wire=0 \n"
	  "H POST /2 1.1 len cl=3 ka=1 ec=0 head=48 [Host=a|Content-Length=3]\nE body=3 wire=3 abc\n"
	  "H POST /3 1.1 chunked cl=0 ka=1 ec=0 head=59 [Host=a|Transfer-Encoding=chunked]\nE body=2 wire=12 de\n"
	  "H GET /4 1.1 none cl=0 ka=0 ec=0 head=47 [Host=a|Connection=close]\nE body=0 wire=0 \n"
	  "C consumed=197\n" },
	{ "HTTP/1.0 closes by default", S("GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n"),
	  "H GET /a 1.0 none cl=0 ka=0 ec=0 head=19 []\nE body=0 wire=0 \nC consumed=19\n" },
	{ "HTTP/1.0 keep-alive", S("GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n"),
	  "H GET /a 1.0 none cl=0 ka=1 ec=0 head=43 [Connection=Keep-Alive]\nE body=0 wire=0 \n"
	  "H GET /b 1.0 none cl=0 ka=0 ec=0 head=19 []\nE body=0 wire=0 \nC consumed=62\n" },
	{ "Connection list with close", S("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, CLOSE\r\n\r\n"),
	  "H GET / 1.1 none cl=0 ka=0 ec=0 head=58 [Host=a|Connection=keep-alive, CLOSE]\nE body=0 wire=0 \nC consumed=58\n" },
	{ "Expect: 100-continue noted", S("PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok"),
	  "H PUT /u 1.1 len cl=2 ka=1 ec=1 head=69 [Host=a|Expect=100-Continue|Content-Length=2]\nE body=2 wire=2 ok\n" },
	{ "bare LF everywhere when allowed",
	  S("POST /c HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n3;x\nabc\n0\nT: v\n\n"),
	  "H POST /c 1.1 chunked cl=0 ka=1 ec=0 head=53 [Host=a|Transfer-Encoding=chunked]\nE body=3 wire=16 abc\n",
	  F_BARE_LF },
	{ "HTTP/1.1 without Host allowed by option", S("GET / HTTP/1.1\r\n\r\n"),
	  "H GET / 1.1 none cl=0 ka=1 ec=0 head=18 []\nE body=0 wire=0 \n", F_NO_HOST },
	{ "body of exactly max_body_bytes (16)", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nE body=16 wire=31 0123456789abcdef\n",
	  F_SMALL_BODY },

	/* ---- smuggling shapes and framing errors ---- */
	{ "Content-Length with Transfer-Encoding",
	  S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
	  "X 400 Content-Length with Transfer-Encoding @45\n" },
	{ "Transfer-Encoding then Content-Length",
	  S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"),
	  "X 400 Content-Length with Transfer-Encoding @26\n" },
	{ "duplicate Content-Length, equal", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
	  "X 400 duplicate Content-Length @45\n" },
	{ "Content-Length list", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc"),
	  "X 400 invalid Content-Length @43\n" },
	{ "negative Content-Length", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\nabc"),
	  "X 400 invalid Content-Length @42\n" },
	{ "Content-Length with a sign", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc"),
	  "X 400 invalid Content-Length @42\n" },
	{ "hex Content-Length", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc"),
	  "X 400 invalid Content-Length @43\n" },
	{ "empty Content-Length", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n"),
	  "X 400 invalid Content-Length @42\n" },
	{ "overflowing Content-Length", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n"),
	  "X 400 Content-Length overflow @61\n" },
	{ "Content-Length over max_body_bytes", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n"),
	  "X 413 body too large @26\n", F_SMALL_BODY },
	{ "huge Content-Length", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n"),
	  "X 413 body too large @26\n" },
	{ "unknown transfer coding", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n"),
	  "X 501 unknown transfer coding @26\n" },
	{ "chunked not final", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
	  "X 400 chunked is not the final transfer coding @26\n" },
	{ "unknown coding alone", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n"),
	  "X 400 chunked is not the final transfer coding @26\n" },
	{ "xchunked", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"),
	  "X 400 chunked is not the final transfer coding @26\n" },
	{ "chunked twice", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"),
	  "X 400 chunked applied more than once @54\n" },
	{ "empty Transfer-Encoding", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n"),
	  "X 400 empty Transfer-Encoding @26\n" },
	{ "Transfer-Encoding with parameters", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip;q=1, chunked\r\n\r\n"),
	  "X 400 invalid Transfer-Encoding @45\n" },
	{ "Transfer-Encoding in HTTP/1.0", S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
	  "X 400 Transfer-Encoding in HTTP/1.0 @17\n" },
	{ "space before colon in Transfer-Encoding", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"),
	  "X 400 whitespace before colon in header field @43\n" },
	{ "missing Host", S("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n"), "X 400 missing Host @33\n" },
	{ "duplicate Host", S("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), "X 400 duplicate Host @25\n" },
	{ "invalid chunk size", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 invalid chunk size @56\n" },
	{ "negative chunk size", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 invalid chunk size @56\n" },
	{ "empty chunk size", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 invalid chunk size @56\n" },
	{ "chunk size with a space inside", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 2\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 invalid chunk size @58\n" },
	{ "overflowing chunk size", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 chunk size overflow @72\n" },
	{ "chunk size over max_body_bytes", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 413 body too large @73\n" },
	{ "chunks adding up over max_body_bytes", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n9\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 413 body too large @71\n",
	  F_SMALL_BODY },
	{ "chunk data longer than its size", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 missing CRLF after chunk data @62\n" },
	{ "bare LF after chunk data", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 missing CRLF after chunk data @62\n" },
	{ "bare LF after chunk size", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 invalid chunk size @57\n" },
	{ "bare CR after chunk size", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\rabc\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 bare CR in chunk size line @58\n" },
	{ "control character in chunk extension", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a\0\r\nabc\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 invalid character in chunk extension @59\n" },
	{ "obs-fold in trailers", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n c\r\n\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 obsolete line folding @65\n" },
	{ "bad trailer name", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA b: c\r\n\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 400 whitespace before colon in trailer field @60\n" },
	{ "NUL in a header value", S("GET / HTTP/1.1\r\nHost: a\0\r\n\r\n"), "X 400 NUL in header value @23\n" },
	{ "obs-fold", S("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n"), "X 400 obsolete line folding @25\n" },
	{ "bad second request in a pipeline", S("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\rb\r\n\r\n"),
	  "H GET /1 1.1 none cl=0 ka=1 ec=0 head=28 [Host=a]\nE body=0 wire=0 \nX 400 bare CR @52\n" },
	{ "head over max_header_bytes (64)", S("GET / HTTP/1.1\r\nHost: a\r\nX-Long: 0123456789012345678901234567890123\r\n\r\n"),
	  "X 431 request header section too large @64\n", F_SMALL_HEAD },
	{ "trailers over max_header_bytes (64)", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 0123456789012345678901234567890123456789012345678901234567\r\n\r\n"),
	  "H POST / 1.1 chunked cl=0 ka=1 ec=0 head=56 [Host=a|Transfer-Encoding=chunked]\nX 431 trailer section too large @123\n", F_SMALL_HEAD },
	/* found by fuzz-http: the verdict must not depend on the cut */
	{ "bad byte in an unfinished line waits for its LF", S("GET / HTTP/1.1\r\nHost: a\x01b"),
	  "P partial state=0\n" },
	{ "bad byte reported when its line completes", S("GET / HTTP/1.1\r\nHost: a\x01b\r\n"),
	  "X 400 invalid character in header value @23\n" },
	{ "HTTP/1.2", S("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), "X 505 HTTP version not supported @6\n" },
};

/* ---- the callback log ---- */

struct log {
	char s[1 << 16];
	size_t n;
	char body[1 << 12];
	size_t bn;
};

static void logf_(struct log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct log *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (l->n < sizeof(l->s))
		l->n += (size_t)vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
	va_end(ap);
	if (l->n > sizeof(l->s))
		l->n = sizeof(l->s);
}

static int on_head(void *ctx, struct http_msg *m)
{
	static const char *const kinds[] = { "none", "len", "chunked" };
	struct log *l = ctx;
	size_t i;

	logf_(l, "H %.*s %.*s 1.%d %s cl=%llu ka=%d ec=%d head=%zu [",
	      (int)m->req->method.len, m->req->method.ptr,
	      (int)m->req->target.len, m->req->target.ptr, m->req->minor_version,
	      kinds[m->body_kind], (unsigned long long)m->content_length,
	      m->keep_alive, m->expect_continue, m->head_bytes);
	for (i = 0; i < m->req->num_headers; i++)
		logf_(l, "%s%.*s=%.*s", i ? "|" : "",
		      (int)m->req->headers[i].name.len, m->req->headers[i].name.ptr,
		      (int)m->req->headers[i].value.len, m->req->headers[i].value.ptr);
	logf_(l, "]\n");
	l->bn = 0;
	return 0;
}

static int on_body(void *ctx, struct http_msg *m, const char *p, size_t n)
{
	struct log *l = ctx;

	(void)m;
	if (n > sizeof(l->body) - l->bn)
		n = sizeof(l->body) - l->bn;
	memcpy(l->body + l->bn, p, n);
	l->bn += n;
	return 0;
}

static int on_end(void *ctx, struct http_msg *m)
{
	struct log *l = ctx;

	logf_(l, "E body=%llu wire=%llu %.*s\n", (unsigned long long)m->body_bytes,
	      (unsigned long long)m->wire_body_bytes, (int)l->bn, l->body);
	l->bn = 0;
	return 0;
}

static const struct framer_ops ops = { on_head, on_body, on_end };
static struct guard guard;

static void limits_for(unsigned flags, struct http_limits *lim)
{
	http_limits_default(lim);
	lim->allow_bare_lf = !!(flags & F_BARE_LF);
	lim->allow_missing_host = !!(flags & F_NO_HOST);
	if (flags & F_SMALL_BODY)
		lim->max_body_bytes = 16;
	if (flags & F_SMALL_HEAD)
		lim->max_header_bytes = 64;
}

/*
 * Feed 'in' in pieces ending at cuts[0..ncuts) (ascending), each piece at
 * the guard page, and log what happens.
 */
static void feed(const struct fcase *c, const size_t *cuts, size_t ncuts, struct log *l)
{
	struct http_limits lim;
	struct http_framer *f;
	size_t from = 0, i, consumed = 0;
	int stopped = 0;

	limits_for(c->flags, &lim);
	l->n = 0;
	l->bn = 0;
	l->s[0] = 0;
	if (framer_new(&f, &lim, &ops, l) != 0)
		abort();
	for (i = 0; i <= ncuts && !stopped; i++) {
		size_t to = i < ncuts ? cuts[i] : c->len;
		const char *p = guard_place(&guard, c->in + from, to - from);
		long r = framer_feed(f, p, to - from);

		if (r == -1) {
			const struct http_error *e = framer_error(f);

			logf_(l, "X %d %s @%zu\n", e->status, e->reason, e->offset);
			stopped = 1;
		} else if (r < 0) {
			logf_(l, "callback %ld\n", r);
			stopped = 1;
		} else {
			consumed += (size_t)r;
			if ((size_t)r != to - from || framer_state(f) == FRAMER_CLOSED) {
				logf_(l, "C consumed=%zu\n", consumed);
				stopped = 1;
			}
		}
		from = to;
	}
	if (!stopped && !framer_at_boundary(f))
		logf_(l, "P partial state=%d\n", framer_state(f));
	framer_free(f);
}

static void run_case(const struct fcase *c, const char *sc)
{
	static struct log l;
	size_t k, cuts[1], step, nbad = 0, first = 0;
	size_t *bytes;

	feed(c, NULL, 0, &l);
	if (!ok(strcmp(l.s, c->log) == 0, "[%s] %s: whole", sc, c->name))
		diag("got:\n%s\nwant:\n%s", l.s, c->log);

	step = c->len > 4096 ? c->len / 499 + 1 : 1;
	for (k = 1; k < c->len; k += step) {
		cuts[0] = k;
		feed(c, cuts, 1, &l);
		if (strcmp(l.s, c->log) != 0 && nbad++ == 0) {
			first = k;
			diag("split at %zu got:\n%s", k, l.s);
		}
	}
	if (!ok(nbad == 0, "[%s] %s: split at every byte", sc, c->name))
		diag("%zu splits differ, first at %zu", nbad, first);

	if (c->len <= 4096) {
		bytes = malloc(c->len * sizeof(*bytes));
		for (k = 0; k + 1 < c->len; k++)
			bytes[k] = k + 1;
		feed(c, bytes, c->len ? c->len - 1 : 0, &l);
		free(bytes);
		if (!ok(strcmp(l.s, c->log) == 0, "[%s] %s: one byte at a time", sc, c->name))
			diag("got:\n%s", l.s);
	}
}

static int stop_head(void *ctx, struct http_msg *m)
{
	(void)ctx;
	(void)m;
	return -42;
}

static void misc(void)
{
	static const struct framer_ops stop = { stop_head, NULL, NULL };
	static struct log mlog;
	struct http_framer *f;
	struct http_limits lim;
	static const char two[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char mib_line[] = "GET / HTTP/1.1\r\nX-Big: ";
	char *big;
	size_t i, n;
	long r;

	is_int(framer_new(&f, NULL, &stop, NULL), 0, "framer_new with default limits");
	r = framer_feed(f, two, sizeof(two) - 1);
	is_int(r, -42, "a callback's negative value stops framer_feed");
	is_int(framer_state(f), FRAMER_CLOSED, "and closes the framer");
	is_int(framer_feed(f, two, sizeof(two) - 1), 0, "a closed framer consumes nothing");
	framer_free(f);
	framer_free(NULL);

	http_limits_default(&lim);
	lim.max_headers = 0;
	is_int(framer_new(&f, &lim, &ops, NULL), -EINVAL, "zero max_headers refused");

	/* 1 MiB header line in 1500-byte pieces: 431 at the limit */
	n = sizeof(mib_line) - 1 + (1 << 20) + 4;
	big = malloc(n);
	memcpy(big, mib_line, sizeof(mib_line) - 1);
	memset(big + sizeof(mib_line) - 1, 'a', 1 << 20);
	memcpy(big + n - 4, "\r\n\r\n", 4);
	framer_new(&f, NULL, &ops, &mlog);
	for (i = 0, r = 0; i < n && r >= 0; i += 1500)
		r = framer_feed(f, big + i, n - i < 1500 ? n - i : 1500);
	ok(r == -1 && framer_error(f)->status == 431 && framer_error(f)->offset == 16384,
	   "1 MiB header line in 1500-byte reads: 431 at offset 16384 (got %ld, %d at %zu)",
	   r, framer_error(f)->status, framer_error(f)->offset);
	is_int(framer_feed(f, "x", 1), -1, "an errored framer keeps failing");
	framer_reset(f);
	is_int(framer_feed(f, two, sizeof(two) - 1), (long)sizeof(two) - 1, "framer_reset starts afresh");
	is_int(framer_requests(f), 2, "two requests counted");
	ok(framer_at_boundary(f), "at a boundary after them");
	is_int(framer_feed(f, "\r\n\r\n", 4), 4, "empty lines after requests are consumed");
	ok(framer_at_boundary(f), "and still count as a boundary");
	is_int(framer_feed(f, "GET", 3), 3, "a partial head is consumed");
	ok(!framer_at_boundary(f), "and is not a boundary");
	framer_free(f);
	free(big);
}

int main(void)
{
	static const char *const scanners[] = { "scalar", "sse4.2", "avx2" };
	size_t i, s;

	plan_lazy();
	for (s = 0; s < 3; s++) {
		if (!http_scanner_available(scanners[s])) {
			skip("scanner %s: this CPU lacks it", scanners[s]);
			continue;
		}
		http_scanner_select(scanners[s]);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			run_case(&cases[i], scanners[s]);
	}
	http_scanner_select(NULL);
	misc();
	guard_release(&guard);
	return exit_status();
}
