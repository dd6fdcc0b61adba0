/*
 * fuzz-http: libFuzzer target for core/http.c and core/framing.c.
 *
 * Byte 0 picks options (bare LF, small limits) and how the stream is cut
 * into reads; the rest is the stream.  Checks, besides ASan/UBSan:
 *  - every scanner the CPU has returns the same verdict and slices;
 *  - the framer gives the same callback log fed whole, in pieces, and one
 *    byte at a time (the log records heads, body bytes, ends and errors);
 *  - consumed counts and body byte counts add up.
 * Seeds: tests/fuzz/corpus-http/ (make fuzz; build/fuzz/fuzz-http DIR).
 */
#include "core/framing.h"
#include "core/http-int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct flog {
	char s[8192];
	size_t n;
	uint64_t body;
	uint64_t hash;	/* of body bytes, in order */
};

static void add(struct flog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct flog *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (l->n >= sizeof(l->s) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->n += (size_t)k;
	if (l->n > sizeof(l->s) - 1)
		l->n = sizeof(l->s) - 1;
}

static int on_head(void *ctx, struct http_msg *m)
{
	struct flog *l = ctx;
	size_t i;

	add(l, "H%.*s %.*s %d %d %llu %d %d %zu %zu:", (int)m->req->method.len, m->req->method.ptr,
	    (int)m->req->target.len, m->req->target.ptr, m->req->minor_version, m->body_kind,
	    (unsigned long long)m->content_length, m->keep_alive, m->expect_continue,
	    m->head_bytes, m->req->num_headers);
	for (i = 0; i < m->req->num_headers; i++) {
		const struct http_header *h = &m->req->headers[i];

		if (h->name.len == 0)
			abort();	/* names are never empty */
		add(l, "%zu/%zu,", h->name.len, h->value.len);
	}
	add(l, "\n");
	return 0;
}

static int on_body(void *ctx, struct http_msg *m, const char *p, size_t n)
{
	struct flog *l = ctx;
	size_t i;

	(void)m;
	if (n == 0)
		abort();	/* empty body calls are never made */
	l->body += n;
	for (i = 0; i < n; i++)
		l->hash = (l->hash ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return 0;
}

static int on_end(void *ctx, struct http_msg *m)
{
	struct flog *l = ctx;

	if (m->body_bytes != l->body)
		abort();
	add(l, "E%llu %llu %llx\n", (unsigned long long)m->body_bytes,
	    (unsigned long long)m->wire_body_bytes, (unsigned long long)l->hash);
	l->body = 0;
	l->hash = 0;
	return 0;
}

static const struct framer_ops ops = { on_head, on_body, on_end };

/*
 * Feed data cut every 'piece' bytes (0: whole).  Whole and cut feeds get
 * their own malloc'd block of exactly the bytes fed, so ASan sees any
 * over-read; byte-by-byte feeds (own == 0) use slices of the input.
 */
static void frame(const uint8_t *d, size_t n, const struct http_limits *lim,
		  size_t piece, int own, struct flog *l)
{
	struct http_framer *f;
	size_t at = 0, consumed = 0;

	memset(l, 0, sizeof(*l));
	if (framer_new(&f, lim, &ops, l) != 0)
		abort();
	while (at < n) {
		size_t k = piece && n - at > piece ? piece : n - at;
		char *b = own ? malloc(k) : (char *)(uintptr_t)(d + at);
		long r;

		if (own)
			memcpy(b, d + at, k);
		r = framer_feed(f, b, k);
		if (own)
			free(b);
		if (r < 0) {
			add(l, "X%d %s %zu\n", framer_error(f)->status, framer_error(f)->reason,
			    framer_error(f)->offset);
			if (framer_error(f)->offset > n)
				abort();
			break;
		}
		if ((size_t)r > k)
			abort();
		consumed += (size_t)r;
		if ((size_t)r < k || framer_state(f) == FRAMER_CLOSED) {
			add(l, "C%zu\n", consumed);
			break;
		}
		at += k;
	}
	framer_free(f);
}

static void parse_all(const uint8_t *d, size_t n, const struct http_limits *lim)
{
	static const char *const sc[] = { "scalar", "sse4.2", "avx2" };
	static struct http_header h[3][32];
	struct http_request req[3];
	struct http_error err[3];
	int r[3], have = 0, i;
	char *b = malloc(n ? n : 1);
	size_t j;

	memcpy(b, d, n);
	for (i = 0; i < 3; i++) {
		if (http_scanner_select(sc[i]) != 0) {
			r[i] = r[0];
			continue;
		}
		memset(&req[i], 0, sizeof(req[i]));
		req[i].headers = h[i];
		req[i].max_headers = 32;
		memset(&err[i], 0, sizeof(err[i]));
		r[i] = http_parse_request(b, n, &req[i], lim, &err[i]);
		if (r[i] > (int)n || (r[i] < 0 && r[i] != -1 && r[i] != -2))
			abort();
		if (have++ == 0)
			continue;
		if (r[i] != r[0])
			abort();
		if (r[0] == -1 && (err[i].status != err[0].status || err[i].offset != err[0].offset ||
				   strcmp(err[i].reason, err[0].reason) != 0))
			abort();
		if (r[0] >= 0) {
			if (req[i].method.ptr != req[0].method.ptr || req[i].method.len != req[0].method.len ||
			    req[i].target.len != req[0].target.len || req[i].num_headers != req[0].num_headers ||
			    req[i].minor_version != req[0].minor_version)
				abort();
			for (j = 0; j < req[0].num_headers; j++)
				if (h[i][j].name.ptr != h[0][j].name.ptr ||
				    h[i][j].name.len != h[0][j].name.len ||
				    h[i][j].value.ptr != h[0][j].value.ptr ||
				    h[i][j].value.len != h[0][j].value.len)
					abort();
		}
	}
	http_scanner_select(NULL);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct flog whole, cut, bytes;
	struct http_limits lim;
	size_t piece;

	if (size < 1)
		return 0;
	http_limits_default(&lim);
	lim.allow_bare_lf = data[0] & 1;
	lim.allow_missing_host = (data[0] >> 1) & 1;
	if (data[0] & 4) {
		lim.max_header_bytes = 256;
		lim.max_headers = 8;
		lim.max_body_bytes = 64;
	}
	piece = 1 + (data[0] >> 3);	/* 1..32 */
	data++;
	size--;

	parse_all(data, size, &lim);
	frame(data, size, &lim, 0, 1, &whole);
	frame(data, size, &lim, piece, 1, &cut);
	if (whole.n != cut.n || memcmp(whole.s, cut.s, whole.n) != 0) {
		fprintf(stderr, "whole:\n%.*s\ncut every %zu:\n%.*s\n", (int)whole.n, whole.s,
			piece, (int)cut.n, cut.s);
		abort();
	}
	if (size <= 512) {
		frame(data, size, &lim, 1, 0, &bytes);
		if (whole.n != bytes.n || memcmp(whole.s, bytes.s, whole.n) != 0)
			abort();
	}
	return 0;
}
