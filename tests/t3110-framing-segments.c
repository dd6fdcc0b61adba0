/*
 * t3110: the framer on long realistic pipelined streams (browser-like
 * GETs with many fields, POSTs with Content-Length and chunked bodies with
 * extensions and trailers, empty lines between requests), cut into
 * TCP-segment-like reads of random sizes (seeded): the decoded requests
 * and bodies must equal what was generated, and equal the whole-stream
 * result, for every scanner.
 */
#include "core/framing.h"
#include "core/http-int.h"
#include "tests/tap.h"

#include <stdint.h>
#include <stdio.h>

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

struct buf {
	char *p;
	size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct buf *b, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(b, tmp, (size_t)k);
}

static const char *const fields[] = {
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
	"Accept-Language: en-US,en;q=0.5", "Accept-Encoding: gzip, deflate, br",
	"Sec-Fetch-Dest: document", "Sec-Fetch-Mode: navigate", "Upgrade-Insecure-Requests: 1",
	"Cookie: session=eyJ1c2VyIjoxMjM0NTY3ODkwLCJyb2xlIjoiYWRtaW4ifQ; _ga=GA1.2.1234567890.1700000000; theme=dark",
	"X-Request-Id: 7f0c3c2e-8a41-4b6e-9d2a-3f5e1c0b9a77", "Cache-Control: max-age=0",
	"If-None-Match: W/\"5e15153d-120f\"", "X-Forwarded-For: 203.0.113.7, 198.51.100.23",
	"traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	"Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
};

/* The expected log, written while generating; the framer's log to compare. */
struct log {
	struct buf s;
	struct buf body;
};

static void gen(struct buf *in, struct log *want, int nreq)
{
	int i, j, nf;

	for (i = 0; i < nreq; i++) {
		int kind = (int)(rnd() % 4);
		size_t blen = rnd() % 3000, k;
		struct buf body = { 0 };

		if (rnd() % 10 == 0)
			puts_(in, "\r\n");	/* an empty line between requests */
		for (k = 0; k < blen; k++) {
			char c = (char)(' ' + rnd() % 95);

			put(&body, &c, 1);
		}
		putf(in, "%s /r/%d?x=%u HTTP/1.1\r\nHost: h%d.example\r\n",
		     kind == 0 ? "GET" : "POST", i, rnd(), i % 7);
		nf = (int)(rnd() % 14);
		for (j = 0; j < nf; j++)
			putf(in, "%s\r\n", fields[rnd() % (sizeof(fields) / sizeof(fields[0]))]);
		if (kind == 0) {
			puts_(in, "\r\n");
			putf(&want->s, "H /r/%d none\nE 0\n", i);
		} else if (kind == 1) {
			putf(in, "Content-Length: %zu\r\n\r\n", blen);
			put(in, body.p ? body.p : "", blen);
			putf(&want->s, "H /r/%d len\nE %zu ", i, blen);
			put(&want->s, body.p ? body.p : "", blen);
			puts_(&want->s, "\n");
		} else {
			size_t at = 0;

			puts_(in, kind == 2 ? "Transfer-Encoding: chunked\r\n\r\n"
					    : "Transfer-Encoding: gzip, chunked\r\n\r\n");
			while (at < blen) {
				size_t c = 1 + rnd() % 700;

				if (c > blen - at)
					c = blen - at;
				putf(in, "%zx%s\r\n", c, rnd() % 3 == 0 ? ";ext=\"a b\";x" : "");
				put(in, body.p + at, c);
				puts_(in, "\r\n");
				at += c;
			}
			puts_(in, rnd() % 2 ? "0\r\nX-Checksum: abc\r\nX-T: 1\r\n\r\n" : "0\r\n\r\n");
			putf(&want->s, "H /r/%d chunked\nE %zu ", i, blen);
			put(&want->s, body.p ? body.p : "", blen);
			puts_(&want->s, "\n");
		}
		free(body.p);
	}
}

static int on_head(void *ctx, struct http_msg *m)
{
	static const char *const kinds[] = { "none", "len", "chunked" };
	struct log *l = ctx;
	const char *q = memchr(m->req->target.ptr, '?', m->req->target.len);
	size_t tl = q ? (size_t)(q - m->req->target.ptr) : m->req->target.len;

	/* the path only: the query is random */
	putf(&l->s, "H %.*s %s\n", (int)tl, m->req->target.ptr, kinds[m->body_kind]);
	l->body.n = 0;
	return 0;
}

static int on_body(void *ctx, struct http_msg *m, const char *p, size_t n)
{
	struct log *l = ctx;

	(void)m;
	put(&l->body, p, n);
	return 0;
}

static int on_end(void *ctx, struct http_msg *m)
{
	struct log *l = ctx;

	if (m->body_kind == HTTP_BODY_NONE) {
		puts_(&l->s, "E 0\n");
	} else {
		putf(&l->s, "E %llu ", (unsigned long long)m->body_bytes);
		put(&l->s, l->body.p ? l->body.p : "", l->body.n);
		puts_(&l->s, "\n");
	}
	return 0;
}

static const struct framer_ops ops = { on_head, on_body, on_end };

/* Feed in random pieces of 1..maxpiece bytes (0: whole); 0 when all went in. */
static int run(const struct buf *in, size_t maxpiece, struct log *got)
{
	struct http_framer *f;
	size_t at = 0;
	int rc = 0;

	got->s.n = 0;
	if (framer_new(&f, NULL, &ops, got) != 0)
		abort();
	while (at < in->n) {
		size_t k = maxpiece ? 1 + rnd() % maxpiece : in->n;
		long r;

		if (k > in->n - at)
			k = in->n - at;
		r = framer_feed(f, in->p + at, k);
		if (r != (long)k) {
			diag("feed at %zu: %ld (%d %s at %zu)", at, r, framer_error(f)->status,
			     framer_error(f)->reason ? framer_error(f)->reason : "-",
			     framer_error(f)->offset);
			rc = -1;
			break;
		}
		at += k;
	}
	if (rc == 0 && !framer_at_boundary(f))
		rc = -1;
	framer_free(f);
	return rc;
}

int main(void)
{
	static const char *const scanners[] = { "scalar", "sse4.2", "avx2" };
	static const size_t pieces[] = { 0, 1, 7, 64, 536, 1448, 4096 };
	struct buf in = { 0 };
	struct log want = { { 0 }, { 0 } }, got = { { 0 }, { 0 } };
	size_t s, i;

	gen(&in, &want, 400);
	plan_lazy();
	diag("stream: %zu bytes, 400 requests", in.n);
	for (s = 0; s < 3; s++) {
		if (!http_scanner_available(scanners[s])) {
			skip("scanner %s: this CPU lacks it", scanners[s]);
			continue;
		}
		http_scanner_select(scanners[s]);
		for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
			int r = run(&in, pieces[i], &got);
			int same = r == 0 && got.s.n == want.s.n && memcmp(got.s.p, want.s.p, want.s.n) == 0;

			if (!ok(same, "[%s] reads of %s%zu bytes: every request and body exact",
				scanners[s], pieces[i] ? "1.." : "all ", pieces[i] ? pieces[i] : in.n))
				diag("r=%d, log %zu bytes, want %zu", r, got.s.n, want.s.n);
		}
	}
	http_scanner_select(NULL);
	free(in.p);
	free(want.s.p);
	free(got.s.p);
	free(got.body.p);
	return exit_status();
}
