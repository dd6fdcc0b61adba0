/*
 * httpx.c: HTTP/1.x request extraction (see httpx.h).
 *
 * All framing decisions are the framer's (core/framing.h).  This module
 * only keeps the bookkeeping a capture needs and a server does not:
 * where the next request starts (requests are contiguous, so the next
 * one starts at the previous start + head + wire body), what to do with
 * gaps, and when a stream is not HTTP at all.
 */
#include "replay/httpx.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/framing.h"

enum mode {
	M_FRAMING,	/* bytes go to the framer */
	M_RESYNC,	/* after a gap: looking for a request line */
	M_CLOSE_BODY,	/* after a framing error: the rest is one body */
	M_OFF,		/* not HTTP, or ended */
};

struct httpx_stream {
	struct http_framer *fr;
	struct http_limits lim;
	httpx_req_fn fn;
	void *ctx;
	enum mode mode;
	struct httpx_req cur;
	bool in_req;		/* cur has a head, its end not seen yet */
	bool any_request;	/* a head was seen on this stream */
	uint64_t boundary;	/* stream offset where the next head starts */
	uint64_t fr_base;	/* stream offset of the framer's last reset:
				 * its error offsets count from there */
	uint64_t ts_ns;		/* of the bytes being fed */
	uint64_t server_bytes, server_at_prev_end;
	bool have_prev;
	char *hbuf;		/* a head in progress: bytes from boundary */
	size_t hlen, hcap;
	uint64_t index;
	struct httpx_stream_stats st;
};

static const char *const framing_names[HTTPX_FRAMING__N] = {
	"none", "length", "chunked", "close",
};

const char *httpx_framing_name(enum httpx_framing f)
{
	return (unsigned)f < HTTPX_FRAMING__N ? framing_names[f] : "?";
}

static void copy_slice(char *dst, size_t cap, struct slice s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;

	memcpy(dst, s.ptr, n);
	dst[n] = 0;
}

static void emit(struct httpx_stream *s)
{
	struct httpx_req *q = &s->cur;

	q->index = s->index++;
	s->st.requests++;
	if (!q->complete)
		s->st.incomplete++;
	if (q->error_status)
		s->st.errors++;
	if (q->pipelined)
		s->st.pipelined++;
	if (s->fn)
		s->fn(s->ctx, q);
	s->boundary += q->head_bytes + q->wire_body_bytes;
	s->server_at_prev_end = s->server_bytes;
	s->have_prev = true;
	s->in_req = false;
	memset(q, 0, sizeof(*q));
	q->minor_version = -1;
}

static void fill_head(struct httpx_stream *s, const struct http_request *req,
		      size_t head_bytes)
{
	struct httpx_req *q = &s->cur;

	copy_slice(q->method, sizeof(q->method), req->method);
	copy_slice(q->target, sizeof(q->target), req->target);
	q->target_len = req->target.len;
	q->minor_version = req->minor_version;
	q->head_bytes = head_bytes;
	q->ts_ns = s->ts_ns;
	/* pipelined: no response byte since the previous request ended */
	q->pipelined = s->have_prev && s->server_bytes == s->server_at_prev_end;
	s->in_req = true;
	s->any_request = true;
}

static int on_head(void *ctx, struct http_msg *m)
{
	struct httpx_stream *s = ctx;

	fill_head(s, m->req, m->head_bytes);
	switch (m->body_kind) {
	case HTTP_BODY_LENGTH:
		s->cur.framing = HTTPX_FRAMING_LENGTH;
		s->cur.content_length = m->content_length;
		break;
	case HTTP_BODY_CHUNKED:
		s->cur.framing = HTTPX_FRAMING_CHUNKED;
		break;
	default:
		s->cur.framing = HTTPX_FRAMING_NONE;
		break;
	}
	return 0;
}

static int on_body(void *ctx, struct http_msg *m, const char *p, size_t n)
{
	struct httpx_stream *s = ctx;

	(void)m;
	(void)p;
	s->cur.body_bytes += n;
	return 0;
}

static int on_end(void *ctx, struct http_msg *m)
{
	struct httpx_stream *s = ctx;

	s->cur.wire_body_bytes = m->wire_body_bytes;
	s->cur.complete = !s->cur.cut_by_gap;
	emit(s);
	return 0;
}

static const struct framer_ops fops = { on_head, on_body, on_end };

/* A line start that looks like a request line: "TOKEN SP ... HTTP/1." on
 * the same line, all within p[0..n). */
static bool looks_like_request(const uint8_t *p, size_t n)
{
	const uint8_t *eol = memchr(p, '\n', n);
	size_t i = 0, len = eol ? (size_t)(eol - p) : n;

	if (!eol)
		return false;
	while (i < len && i < 20 && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	if (i == 0 || i >= len || p[i] != ' ')
		return false;
	return memmem(p + i, len - i, " HTTP/1.", 8) != NULL;
}

/* Offset of the first request-looking line start in p, or n. */
static size_t find_request(const uint8_t *p, size_t n, bool at_line_start)
{
	size_t k = 0;

	if (!at_line_start) {
		const uint8_t *nl = memchr(p, '\n', n);
		if (!nl)
			return n;
		k = (size_t)(nl - p) + 1;
	}
	while (k < n) {
		const uint8_t *nl;
		if (looks_like_request(p + k, n - k))
			return k;
		nl = memchr(p + k, '\n', n - k);
		if (!nl)
			return n;
		k = (size_t)(nl - p) + 1;
	}
	return n;
}

static void start_framing(struct httpx_stream *s, uint64_t at)
{
	framer_reset(s->fr);
	s->boundary = at;
	s->fr_base = at;
	s->mode = M_FRAMING;
}

/*
 * The framer refused something.  When the head itself parses (the same
 * parser, on the bytes of this feed) the request is HTTP with framing the
 * server would refuse: report it, and the rest of the stream is its body.
 * A stream that never produced a request is not HTTP.
 */
static void framing_error(struct httpx_stream *s, uint64_t off,
			  const uint8_t *p, size_t n)
{
	const struct http_error *e = framer_error(s->fr);
	struct httpx_req *q = &s->cur;

	if (!s->in_req) {
		struct http_header hdrs[64];
		struct http_request req;
		struct http_error pe;
		int r = -1;

		if (s->boundary >= off && s->boundary < off + n) {
			memset(&req, 0, sizeof(req));
			req.headers = hdrs;
			req.max_headers = 64;
			r = http_parse_request((const char *)p + (s->boundary - off),
					       n - (s->boundary - off), &req,
					       &s->lim, &pe);
		}
		if (r > 0) {
			fill_head(s, &req, (size_t)r);
		} else if (!s->any_request) {
			s->st.not_http = true;
			s->mode = M_OFF;
			return;
		} else {
			s->in_req = true;	/* an unparsable head */
			q->ts_ns = s->ts_ns;
		}
	}
	q->framing = HTTPX_FRAMING_CLOSE;
	q->error_status = e ? e->status : 400;
	q->error_reason = e ? e->reason : NULL;
	/* the bytes after the error offset count as its body from here */
	s->mode = M_CLOSE_BODY;
	if (e && s->fr_base + e->offset >= off && s->fr_base + e->offset < off + n) {
		uint64_t from = q->head_bytes ? s->boundary + q->head_bytes
					      : s->fr_base + e->offset;
		if (from < off + n && from >= off)
			q->body_bytes += off + n - from;
	}
}

/*
 * After a feed that left a head unfinished, keep its bytes (at most
 * max_header_bytes): if a gap or the end cuts it, its request line may
 * still be whole and worth reporting.
 */
static void keep_head(struct httpx_stream *s, uint64_t off, const uint8_t *p,
		      size_t n)
{
	size_t from = 0, take;

	if (s->in_req || framer_state(s->fr) != FRAMER_HEAD ||
	    framer_at_boundary(s->fr)) {
		s->hlen = 0;
		return;
	}
	if (s->boundary >= off) {	/* the head began in these bytes */
		from = (size_t)(s->boundary - off);
		s->hlen = 0;
	}
	if (from >= n)
		return;
	/* allocated on first use: most heads arrive whole in one segment */
	if (!s->hbuf && !(s->hbuf = malloc(s->hcap)))
		return;
	take = n - from;
	if (take > s->hcap - s->hlen)
		take = s->hcap - s->hlen;
	memcpy(s->hbuf + s->hlen, p + from, take);
	s->hlen += take;
}

/*
 * A head cut short (gap or end): when its request line is whole, report
 * the request — incomplete, framing undeterminable — parsed by the same
 * parser from the line alone.  Otherwise it only counts as a partial head.
 */
static void rescue_head(struct httpx_stream *s, bool by_gap)
{
	const char *eol = s->hlen ? memchr(s->hbuf, '\n', s->hlen) : NULL;
	struct http_request req;
	struct http_error pe;
	char line[512];
	size_t ll;
	int r;

	s->st.partial_heads++;
	if (!eol)
		goto out;
	ll = (size_t)(eol - s->hbuf);
	if (ll && s->hbuf[ll - 1] == '\r')
		ll--;
	if (ll + 4 > sizeof(line))
		goto out;
	memcpy(line, s->hbuf, ll);
	memcpy(line + ll, "\r\n\r\n", 4);
	memset(&req, 0, sizeof(req));
	r = http_parse_request(line, ll + 4, &req, &s->lim, &pe);
	if (r <= 0)
		goto out;
	fill_head(s, &req, s->hlen);
	s->cur.framing = HTTPX_FRAMING_CLOSE;
	s->cur.cut_by_gap = by_gap;
	s->cur.complete = false;
	emit(s);
out:
	s->hlen = 0;
}

static void feed(struct httpx_stream *s, uint64_t off, const uint8_t *p,
		 size_t n)
{
	const uint64_t off0 = off;
	const uint8_t *p0 = p;
	const size_t n0 = n;

	while (n) {
		long rc = framer_feed(s->fr, (const char *)p, n);

		if (rc < 0) {
			framing_error(s, off, p, n);
			return;
		}
		if ((size_t)rc < n && framer_state(s->fr) == FRAMER_CLOSED) {
			/* a request said "close" yet more bytes follow: the
			 * capture shows them, so keep reading requests */
			p += rc;
			n -= (size_t)rc;
			off += (uint64_t)rc;
			start_framing(s, off);
			continue;
		}
		if (framer_state(s->fr) == FRAMER_CLOSED)
			start_framing(s, off + n);
		break;
	}
	keep_head(s, off0, p0, n0);
}

void httpx_stream_data(struct httpx_stream *s, uint64_t off, const uint8_t *p,
		       size_t n, uint64_t ts_ns)
{
	size_t k;

	s->ts_ns = ts_ns;
	switch (s->mode) {
	case M_OFF:
		return;
	case M_CLOSE_BODY:
		s->cur.body_bytes += n;
		return;
	case M_RESYNC:
		/* the first byte after a gap may well start a request */
		k = find_request(p, n, true);
		s->st.skipped_bytes += k;
		if (k == n)
			return;
		start_framing(s, off + k);
		p += k;
		n -= k;
		off += k;
		break;
	case M_FRAMING:
		break;
	}
	feed(s, off, p, n);
}

void httpx_stream_gap(struct httpx_stream *s, uint64_t off, uint64_t len)
{
	static const char zeros[4096];
	struct httpx_req *q = &s->cur;

	s->st.gaps++;
	switch (s->mode) {
	case M_OFF:
	case M_RESYNC:
		return;
	case M_CLOSE_BODY:
		q->cut_by_gap = true;
		q->body_bytes += len;
		return;
	case M_FRAMING:
		break;
	}
	/* Inside a Content-Length body the end is still known: step over
	 * the hole with placeholder bytes the framer counts but nobody reads. */
	if (s->in_req && q->framing == HTTPX_FRAMING_LENGTH &&
	    framer_state(s->fr) == FRAMER_BODY &&
	    len <= q->content_length - q->body_bytes) {
		q->cut_by_gap = true;
		while (len) {
			size_t m = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
			feed(s, off, (const uint8_t *)zeros, m);
			off += m;
			len -= m;
			if (s->mode != M_FRAMING)
				break;
		}
		return;
	}
	if (s->in_req) {
		q->cut_by_gap = true;
		q->complete = false;
		q->wire_body_bytes = q->body_bytes;
		emit(s);
	} else if (!framer_at_boundary(s->fr)) {
		rescue_head(s, true);
	}
	s->st.resyncs++;
	s->mode = M_RESYNC;
}

void httpx_stream_server_data(struct httpx_stream *s, size_t n)
{
	s->server_bytes += n;
}

void httpx_stream_end(struct httpx_stream *s)
{
	struct httpx_req *q = &s->cur;

	if (s->mode == M_CLOSE_BODY) {
		/* close-delimited: the end of the stream ends it */
		q->complete = !q->cut_by_gap;
		q->wire_body_bytes = q->body_bytes;
		emit(s);
	} else if (s->mode == M_FRAMING && s->in_req) {
		q->complete = false;
		q->wire_body_bytes = q->body_bytes;
		emit(s);
	} else if (s->mode == M_FRAMING && !framer_at_boundary(s->fr)) {
		rescue_head(s, false);
	}
	s->mode = M_OFF;
}

void httpx_stream_midstream(struct httpx_stream *s)
{
	if (s->mode == M_FRAMING && !s->any_request)
		s->mode = M_RESYNC;
}

void httpx_stream_reset(struct httpx_stream *s)
{
	httpx_req_fn fn = s->fn;
	void *ctx = s->ctx;
	struct http_framer *fr = s->fr;
	struct http_limits lim = s->lim;
	char *hbuf = s->hbuf;
	size_t hcap = s->hcap;

	framer_reset(fr);
	memset(s, 0, sizeof(*s));
	s->fr = fr;
	s->lim = lim;
	s->fn = fn;
	s->ctx = ctx;
	s->hbuf = hbuf;
	s->hcap = hcap;
	s->cur.minor_version = -1;
}

const struct httpx_stream_stats *httpx_stream_stats(const struct httpx_stream *s)
{
	return &s->st;
}

int httpx_stream_new(struct httpx_stream **out, const struct http_limits *lim,
		     httpx_req_fn fn, void *ctx)
{
	struct httpx_stream *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	if (lim) {
		s->lim = *lim;
	} else {
		http_limits_default(&s->lim);
		s->lim.max_body_bytes = SIZE_MAX;
		s->lim.allow_bare_lf = 1;
	}
	s->fn = fn;
	s->ctx = ctx;
	s->cur.minor_version = -1;
	s->hcap = s->lim.max_header_bytes ? s->lim.max_header_bytes : 16384;
	rc = framer_new(&s->fr, &s->lim, &fops, s);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void httpx_stream_free(struct httpx_stream *s)
{
	if (!s)
		return;
	framer_free(s->fr);
	free(s->hbuf);
	free(s);
}
