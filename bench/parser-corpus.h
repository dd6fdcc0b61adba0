/*
 * parser-corpus.h: a deterministic corpus of realistic HTTP/1.1 requests
 * for bench/parser-bench.c.
 *
 * Two shapes, mixed 60/40 by a seeded PRNG (the same corpus every run):
 *  - browser-like GETs: 10-30 header fields in the order browsers send
 *    them (Host, Connection, sec-ch-ua*, User-Agent, Accept*, Sec-Fetch-*,
 *    Referer, Cookie of 0-600 bytes, conditional headers ...);
 *  - API POSTs: 10-20 fields (Content-Type, Authorization: Bearer <JWT>,
 *    Content-Length, X-Request-Id, traceparent ...) and a JSON body.
 * Field values are shaped after what current Chrome, Firefox, Safari,
 * curl and common API clients send; nothing is copied from a capture.
 */
#ifndef PKTMEM_BENCH_PARSER_CORPUS_H
#define PKTMEM_BENCH_PARSER_CORPUS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct corpus_req {
	size_t off;		/* into corpus.buf */
	size_t head_len;	/* request line + fields + blank line (bytes) */
	size_t body_len;	/* bytes after the head */
	unsigned nheaders;
};

struct corpus {
	char *buf;
	size_t len, cap;
	struct corpus_req *req;
	size_t n;
	size_t head_bytes;	/* sum of head_len */
};

static uint64_t corpus_rng = 0x243f6a8885a308d3ull;

static uint32_t corpus_rand(void)
{
	corpus_rng ^= corpus_rng << 13;
	corpus_rng ^= corpus_rng >> 7;
	corpus_rng ^= corpus_rng << 17;
	return (uint32_t)(corpus_rng >> 16);
}

#define PICK(arr) ((arr)[corpus_rand() % (sizeof(arr) / sizeof((arr)[0]))])

static const char *const c_hosts[] = {
	"www.example.com", "static.example-cdn.net", "api.shop.example.org",
	"news.example.co.uk", "img-1.example.com:8443", "localhost:8080",
};
static const char *const c_uas[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
};
static const char *const c_paths[] = {
	"/", "/index.html", "/static/js/main.4f9c2b1e.chunk.js", "/assets/css/site.min.css?v=20231204",
	"/images/products/2023/12/thumb_81723_640x480.webp", "/favicon.ico",
	"/search?q=linux+network+stack&page=2&sort=relevance",
	"/articles/2023/11/why-the-receive-path-costs-what-it-costs",
	"/api/v1/recommendations?user=1827361&limit=20&fields=id,title,price",
};
static const char *const c_accepts[] = {
	"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
	"image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
	"text/css,*/*;q=0.1", "*/*", "application/json, text/plain, */*",
};
static const char *const c_langs[] = {
	"en-US,en;q=0.9", "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "fr-FR,fr;q=0.8,en-US;q=0.5,en;q=0.3",
};
static const char *const c_api_paths[] = {
	"/api/v2/orders", "/graphql", "/v1/events/batch", "/api/v1/users/1827361/preferences",
	"/rpc/inventory.Reserve", "/ingest?source=web&v=3",
};
static const char *const c_api_uas[] = {
	"curl/7.88.1", "okhttp/4.12.0", "python-requests/2.31.0", "Go-http-client/1.1",
	"axios/1.6.2", "Apache-HttpClient/4.5.14 (Java/17.0.9)",
};

static void corpus_grow(struct corpus *c, size_t more)
{
	if (c->len + more > c->cap) {
		c->cap = (c->len + more) * 2;
		c->buf = realloc(c->buf, c->cap);
		if (c->buf == NULL)
			abort();
	}
}

static void corpus_put(struct corpus *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void corpus_put(struct corpus *c, const char *fmt, ...)
{
	va_list ap;
	int k;

	corpus_grow(c, 4096);
	va_start(ap, fmt);
	k = vsnprintf(c->buf + c->len, c->cap - c->len, fmt, ap);
	va_end(ap);
	c->len += (size_t)k;
}

static void corpus_hex(struct corpus *c, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	corpus_grow(c, n);
	while (n--)
		c->buf[c->len++] = hex[corpus_rand() & 15];
}

static void corpus_b64(struct corpus *c, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	corpus_grow(c, n);
	while (n--)
		c->buf[c->len++] = b64[corpus_rand() & 63];
}

static unsigned corpus_browser(struct corpus *c)
{
	unsigned n = 0, extra, i;
	int chrome = corpus_rand() % 3 != 0;

	corpus_put(c, "GET %s HTTP/1.1\r\n", PICK(c_paths));
	corpus_put(c, "Host: %s\r\n", PICK(c_hosts)); n++;
	corpus_put(c, "Connection: keep-alive\r\n"); n++;
	if (chrome) {
		corpus_put(c, "sec-ch-ua: \"Not_A Brand\";v=\"8\", \"Chromium\";v=\"120\", \"Google Chrome\";v=\"120\"\r\n");
		corpus_put(c, "sec-ch-ua-mobile: ?0\r\n");
		corpus_put(c, "sec-ch-ua-platform: \"Windows\"\r\n");
		n += 3;
	}
	corpus_put(c, "Upgrade-Insecure-Requests: 1\r\n"); n++;
	corpus_put(c, "User-Agent: %s\r\n", PICK(c_uas)); n++;
	corpus_put(c, "Accept: %s\r\n", PICK(c_accepts)); n++;
	corpus_put(c, "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: navigate\r\n"
		      "Sec-Fetch-User: ?1\r\nSec-Fetch-Dest: document\r\n"); n += 4;
	corpus_put(c, "Referer: https://%s%s\r\n", PICK(c_hosts), PICK(c_paths)); n++;
	corpus_put(c, "Accept-Encoding: gzip, deflate, br\r\n"); n++;
	corpus_put(c, "Accept-Language: %s\r\n", PICK(c_langs)); n++;
	/* 10..30 fields in all: optional ones up to the drawn count */
	extra = 10 + corpus_rand() % 21;
	for (i = 0; n < extra; i++) {
		switch (i) {
		case 0: {
			size_t k = corpus_rand() % 600;

			corpus_put(c, "Cookie: _ga=GA1.2.%u.%u; session=", corpus_rand(), corpus_rand());
			corpus_b64(c, 32 + k / 4);
			corpus_put(c, "; prefs=");
			corpus_b64(c, k / 2);
			corpus_put(c, "\r\n");
			break;
		}
		case 1: corpus_put(c, "Cache-Control: max-age=0\r\n"); break;
		case 2: corpus_put(c, "If-None-Match: W/\""); corpus_hex(c, 32); corpus_put(c, "\"\r\n"); break;
		case 3: corpus_put(c, "If-Modified-Since: Tue, 21 Nov 2023 08:12:31 GMT\r\n"); break;
		case 4: corpus_put(c, "DNT: 1\r\n"); break;
		case 5: corpus_put(c, "Pragma: no-cache\r\n"); break;
		case 6: corpus_put(c, "sec-ch-ua-full-version-list: \"Not_A Brand\";v=\"8.0.0.0\", \"Chromium\";v=\"120.0.6099.71\"\r\n"); break;
		case 7: corpus_put(c, "Priority: u=0, i\r\n"); break;
		case 8: corpus_put(c, "X-Requested-With: XMLHttpRequest\r\n"); break;
		case 9: corpus_put(c, "Origin: https://%s\r\n", PICK(c_hosts)); break;
		case 10: corpus_put(c, "TE: trailers\r\n"); break;
		case 11: corpus_put(c, "X-Forwarded-For: 203.0.113.%u, 198.51.100.%u\r\n", corpus_rand() % 255, corpus_rand() % 255); break;
		case 12: corpus_put(c, "X-Forwarded-Proto: https\r\n"); break;
		case 13: corpus_put(c, "Via: 1.1 edge-cache-%u (squid/5.7)\r\n", corpus_rand() % 64); break;
		case 14: corpus_put(c, "X-Amzn-Trace-Id: Root=1-6565d1a2-"); corpus_hex(c, 24); corpus_put(c, "\r\n"); break;
		case 15: corpus_put(c, "Range: bytes=0-65535\r\n"); break;
		default: corpus_put(c, "X-Custom-%u: ", i); corpus_b64(c, 8 + corpus_rand() % 40); corpus_put(c, "\r\n"); break;
		}
		n++;
	}
	corpus_put(c, "\r\n");
	return n;
}

static unsigned corpus_api(struct corpus *c, size_t *body_len)
{
	unsigned n = 0, extra, i;
	size_t blen = 40 + corpus_rand() % 900, b0;

	corpus_put(c, "POST %s HTTP/1.1\r\n", PICK(c_api_paths));
	corpus_put(c, "Host: %s\r\n", PICK(c_hosts)); n++;
	corpus_put(c, "User-Agent: %s\r\n", PICK(c_api_uas)); n++;
	corpus_put(c, "Accept: application/json\r\n"); n++;
	corpus_put(c, "Content-Type: application/json; charset=utf-8\r\n"); n++;
	corpus_put(c, "Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.");
	corpus_b64(c, 120 + corpus_rand() % 200);
	corpus_put(c, ".");
	corpus_b64(c, 86);
	corpus_put(c, "\r\n"); n++;
	corpus_put(c, "Content-Length: %zu\r\n", blen); n++;
	corpus_put(c, "X-Request-Id: "); corpus_hex(c, 8); corpus_put(c, "-"); corpus_hex(c, 4);
	corpus_put(c, "-4"); corpus_hex(c, 3); corpus_put(c, "-a"); corpus_hex(c, 3); corpus_put(c, "-");
	corpus_hex(c, 12); corpus_put(c, "\r\n"); n++;
	corpus_put(c, "traceparent: 00-"); corpus_hex(c, 32); corpus_put(c, "-"); corpus_hex(c, 16);
	corpus_put(c, "-01\r\n"); n++;
	corpus_put(c, "Accept-Encoding: gzip\r\n"); n++;
	corpus_put(c, "Connection: keep-alive\r\n"); n++;
	extra = 10 + corpus_rand() % 11;
	for (i = 0; n < extra; i++, n++) {
		switch (i) {
		case 0: corpus_put(c, "X-Api-Version: 2023-10-16\r\n"); break;
		case 1: corpus_put(c, "Idempotency-Key: "); corpus_hex(c, 32); corpus_put(c, "\r\n"); break;
		case 2: corpus_put(c, "X-Client-Id: mobile-ios-%u.%u.%u\r\n", corpus_rand() % 9, corpus_rand() % 30, corpus_rand() % 9); break;
		case 3: corpus_put(c, "tracestate: vendor=t61rcWkgMzE\r\n"); break;
		case 4: corpus_put(c, "X-Forwarded-For: 192.0.2.%u\r\n", corpus_rand() % 255); break;
		case 5: corpus_put(c, "Cache-Control: no-cache\r\n"); break;
		case 6: corpus_put(c, "Origin: https://app.example.com\r\n"); break;
		case 7: corpus_put(c, "Accept-Language: en-US\r\n"); break;
		default: corpus_put(c, "X-Feature-Flag-%u: on\r\n", i); break;
		}
	}
	corpus_put(c, "\r\n");
	/* the body: a JSON object of about blen bytes */
	b0 = c->len;
	corpus_put(c, "{\"items\":[");
	while (c->len - b0 + 40 < blen)
		corpus_put(c, "{\"sku\":%u,\"qty\":%u},", corpus_rand() % 100000, corpus_rand() % 9);
	corpus_put(c, "{\"sku\":0,\"qty\":0}],\"pad\":\"");
	while (c->len - b0 < blen - 2)
		c->buf[c->len++] = 'x';
	corpus_put(c, "\"}");
	c->len = b0 + blen;	/* exactly Content-Length bytes */
	*body_len = blen;
	return n;
}

/* Build n requests (deterministic). */
static void corpus_build(struct corpus *c, size_t n)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->req = calloc(n, sizeof(*c->req));
	for (i = 0; i < n; i++) {
		struct corpus_req *r = &c->req[i];
		size_t body = 0;

		r->off = c->len;
		if (corpus_rand() % 10 < 6) {
			r->nheaders = corpus_browser(c);
			r->head_len = c->len - r->off;
		} else {
			r->nheaders = corpus_api(c, &body);
			r->head_len = c->len - r->off - body;
		}
		r->body_len = body;
		c->head_bytes += r->head_len;
	}
	c->n = n;
}

static void corpus_free(struct corpus *c)
{
	free(c->buf);
	free(c->req);
}

#endif
