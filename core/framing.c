/*
 * framing.c: HTTP/1.x request framing on a byte stream (see framing.h).
 *
 * A head that arrives whole inside one framer_feed() is parsed in place
 * (zero-copy); only a head split across feeds is copied into hbuf, which
 * holds at most max_header_bytes.  Bodies are never copied: on_body gets
 * slices of the caller's bytes (chunk data without its framing).
 */
#include "core/framing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * A chunk-size line (size, extensions, CRLF) longer than this is refused
 * (bytes).  RFC 9112 §7.1.1 lets a server limit extensions; 4 KiB is far
 * above anything real clients send.
 */
#define CHUNK_LINE_MAX 4096

/* Body states: explicit, one comment each (haproxy's h1 style). */
enum body_state {
	B_LENGTH,		/* Content-Length bytes left in remaining */
	B_CSIZE,		/* chunk-size hex digits */
	B_CEXT,			/* after the size: BWS, ";" chunk-ext */
	B_CSIZE_LF,		/* CR seen at the end of the size line */
	B_CDATA,		/* chunk-data, remaining bytes left */
	B_CDATA_CR,		/* CRLF after chunk-data: expecting CR */
	B_CDATA_LF,		/* expecting LF */
	B_TLINE,		/* start of a trailer line, or the final CRLF */
	B_TNAME,		/* trailer field-name */
	B_TVALUE,		/* trailer field-value */
	B_TLINE_LF,		/* CR seen at the end of a trailer line */
	B_END_LF,		/* CR of the final CRLF seen */
};

struct http_framer {
	struct http_limits lim;
	const struct framer_ops *ops;
	void *ctx;
	enum framer_state state;
	struct http_error err;
	uint64_t nreq;
	uint64_t off;		/* stream bytes consumed before this feed */
	struct http_request req;
	struct http_msg msg;
	/* body */
	enum body_state bs;
	uint64_t remaining;	/* bytes (B_LENGTH, B_CDATA) */
	uint64_t chunk_size;	/* bytes, while reading its hex digits */
	unsigned digits;	/* hex digits seen on this size line */
	unsigned ext_semi;	/* a ';' was seen on this size line */
	size_t line_bytes;	/* bytes of this chunk-size line */
	size_t trailer_bytes;	/* bytes of the trailer section */
	/* a head split across feeds */
	uint64_t hoff;		/* stream offset of hbuf[0] */
	size_t hlen;		/* bytes in hbuf */
	char *hbuf;		/* lim.max_header_bytes bytes */
	struct http_header hdrs[];	/* lim.max_headers */
};

/* tchar (RFC 9110 §5.6.2) */
static int is_tchar(unsigned char c)
{
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return 1;
	if (c >= '0' && c <= '9')
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_hex(unsigned char c, unsigned *v)
{
	if (c >= '0' && c <= '9')
		*v = c - '0';
	else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		*v = (c | 0x20) - 'a' + 10;
	else
		return 0;
	return 1;
}

/* A CTL other than HTAB: not allowed in field values or extensions. */
static int is_bad_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

int framer_new(struct http_framer **out, const struct http_limits *lim,
	       const struct framer_ops *ops, void *ctx)
{
	struct http_limits def;
	struct http_framer *f;
	size_t nh;

	*out = NULL;
	if (lim == NULL) {
		http_limits_default(&def);
		lim = &def;
	}
	if (lim->max_header_bytes == 0 || lim->max_headers == 0 ||
	    lim->max_headers > (1u << 20) || lim->max_header_bytes > (1u << 30))
		return -EINVAL;
	nh = lim->max_headers;
	f = calloc(1, sizeof(*f) + nh * sizeof(f->hdrs[0]));
	if (f == NULL)
		return -ENOMEM;
	f->hbuf = malloc(lim->max_header_bytes);
	if (f->hbuf == NULL) {
		free(f);
		return -ENOMEM;
	}
	f->lim = *lim;
	f->ops = ops;
	f->ctx = ctx;
	f->req.headers = f->hdrs;
	f->req.max_headers = nh;
	*out = f;
	return 0;
}

void framer_free(struct http_framer *f)
{
	if (f == NULL)
		return;
	free(f->hbuf);
	free(f);
}

void framer_reset(struct http_framer *f)
{
	f->state = FRAMER_HEAD;
	memset(&f->err, 0, sizeof(f->err));
	memset(&f->msg, 0, sizeof(f->msg));
	f->nreq = 0;
	f->off = 0;
	f->hlen = 0;
	f->hoff = 0;
}

enum framer_state framer_state(const struct http_framer *f)
{
	return f->state;
}

const struct http_error *framer_error(const struct http_framer *f)
{
	return &f->err;
}

uint64_t framer_requests(const struct http_framer *f)
{
	return f->nreq;
}

bool framer_at_boundary(const struct http_framer *f)
{
	size_t i;

	if (f->state == FRAMER_CLOSED)
		return true;
	if (f->state != FRAMER_HEAD)
		return false;
	/* empty lines between requests are not a request (RFC 9112 §2.2) */
	for (i = 0; i < f->hlen; i++)
		if (f->hbuf[i] != '\r' && f->hbuf[i] != '\n')
			return false;
	return true;
}

/*
 * A parse error is reported once the line holding it is complete (a LF
 * at or after it) or the head has hit max_header_bytes.  Until then it is
 * treated as "need more", so the verdict after any byte does not depend on
 * how the stream was cut into reads (a head split across reads is only
 * re-parsed when a read brings a new line).
 */
static int error_pending(const char *b, size_t len, size_t cap, const struct http_error *e)
{
	return len < cap && e->offset < len && memchr(b + e->offset, '\n', len - e->offset) == NULL;
}

static int fail(struct http_framer *f, int status, const char *why, uint64_t at)
{
	f->state = FRAMER_ERROR;
	f->err.status = status;
	f->err.reason = why;
	f->err.offset = (size_t)at;
	return -1;
}

/*
 * Case-insensitive equality with a lower-case literal of letters and '-'
 * (header names, codings): c | 0x20 maps only 'A'-'Z' onto 'a'-'z' and
 * keeps '-', and no tchar other than those maps onto them.
 */
static inline int name_is(struct slice s, const char *lit, size_t n)
{
	size_t i;

	if (s.len != n)
		return 0;
	for (i = 0; i < n; i++)
		if ((s.ptr[i] | 0x20) != lit[i])
			return 0;
	return 1;
}

#define NAME_IS(s, lit) name_is((s), lit, sizeof(lit) - 1)

/* Iterate over the elements of a comma-separated list (RFC 9110 §5.6.1). */
static int list_next(struct slice *v, struct slice *elem)
{
	const char *p = v->ptr, *e = v->ptr + v->len, *s;

	for (;;) {
		while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p == e) {
			v->ptr = p;
			v->len = 0;
			return 0;
		}
		s = p;
		while (p < e && *p != ',')
			p++;
		elem->ptr = s;
		elem->len = (size_t)(p - s);
		while (elem->len && (s[elem->len - 1] == ' ' || s[elem->len - 1] == '\t'))
			elem->len--;
		v->ptr = p;
		v->len = (size_t)(e - p);
		return 1;
	}
}

static int all_tchars(struct slice s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (!is_tchar((unsigned char)s.ptr[i]))
			return 0;
	return s.len > 0;
}

static int end_request(struct http_framer *f)
{
	int rc = 0;

	if (f->ops && f->ops->on_end)
		rc = f->ops->on_end(f->ctx, &f->msg);
	f->nreq++;
	if (rc < 0) {
		f->state = FRAMER_CLOSED;
		return rc;
	}
	f->state = f->msg.keep_alive ? FRAMER_HEAD : FRAMER_CLOSED;
	return 0;
}

/* The fields framing reads, by name length: Host, Expect, Connection,
 * Content-Length, Transfer-Encoding. */
static const char interesting[18] = {
	[4] = 'h', [6] = 'e', [10] = 'c', [14] = 'c', [17] = 't',
};

/*
 * A complete head at 'head' (stream offset 'at'): decide the body framing
 * (RFC 9112 §6.3) and keep-alive (§9.3), then call on_head.
 */
static int head_done(struct http_framer *f, const char *head, size_t bytes, uint64_t at)
{
	const struct http_request *req = &f->req;
	struct http_msg *m = &f->msg;
	const struct http_header *cl = NULL, *te = NULL;
	int hosts = 0, conn_close = 0, conn_ka = 0;
	int te_chunked = 0, te_last_chunked = 0, te_unknown = 0, te_elems = 0;
	uint64_t len = 0;
	size_t i;
	int rc;

#define AT(ptr) (at + (uint64_t)((ptr) - head))
	memset(m, 0, sizeof(*m));
	m->req = req;
	m->head_bytes = bytes;

	for (i = 0; i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		struct slice v = h->value, e;

		/* most fields are none of these: one table look-up each
		 * (length -> first letter) instead of a jump per field */
		if (h->name.len >= sizeof(interesting) ||
		    interesting[h->name.len] != (h->name.ptr[0] | 0x20))
			continue;
		switch (h->name.len) {
		case 4:
			if (NAME_IS(h->name, "host"))
				if (++hosts > 1)
					return fail(f, 400, "duplicate Host", AT(h->name.ptr));
			break;
		case 6:
			if (NAME_IS(h->name, "expect") && slice_ieq(v, "100-continue"))
				m->expect_continue = true;
			break;
		case 10:
			if (!NAME_IS(h->name, "connection"))
				break;
			while (list_next(&v, &e)) {
				if (NAME_IS(e, "close"))
					conn_close = 1;
				else if (NAME_IS(e, "keep-alive"))
					conn_ka = 1;
			}
			break;
		case 14:
			if (!NAME_IS(h->name, "content-length"))
				break;
			/* strict: a second Content-Length is refused even when
			 * equal, and so is the list form "5, 5" (RFC 9112 §6.3
			 * lets a recipient reject both) */
			if (cl)
				return fail(f, 400, "duplicate Content-Length", AT(h->name.ptr));
			cl = h;
			if (v.len == 0)
				return fail(f, 400, "invalid Content-Length", AT(v.ptr));
			for (len = 0; v.len; v.ptr++, v.len--) {
				unsigned d = (unsigned char)*v.ptr - '0';

				if (d > 9)
					return fail(f, 400, "invalid Content-Length", AT(v.ptr));
				if (len > (UINT64_MAX - d) / 10)
					return fail(f, 400, "Content-Length overflow", AT(v.ptr));
				len = len * 10 + d;
			}
			break;
		case 17:
			if (!NAME_IS(h->name, "transfer-encoding"))
				break;
			te = te ? te : h;
			while (list_next(&v, &e)) {
				te_elems++;
				if (NAME_IS(e, "chunked")) {
					if (te_chunked)
						return fail(f, 400, "chunked applied more than once",
							    AT(e.ptr));
					te_chunked = te_last_chunked = 1;
					continue;
				}
				te_last_chunked = 0;
				if (!all_tchars(e))
					return fail(f, 400, "invalid Transfer-Encoding", AT(e.ptr));
				if (!(NAME_IS(e, "gzip") || NAME_IS(e, "x-gzip") ||
				      NAME_IS(e, "deflate") || NAME_IS(e, "compress") ||
				      NAME_IS(e, "x-compress")))
					te_unknown = 1;
			}
			break;
		}
	}

	if (req->minor_version == 1 && hosts == 0 && !f->lim.allow_missing_host)
		return fail(f, 400, "missing Host", at + bytes);
	if (te) {
		/* RFC 9112 §6.1: a server MAY treat TE in a 1.0 request as
		 * faulty; it must close after it anyway.  Strict: refuse. */
		if (req->minor_version == 0)
			return fail(f, 400, "Transfer-Encoding in HTTP/1.0", AT(te->name.ptr));
		/* §6.3 point 3: both present is a smuggling shape */
		if (cl)
			return fail(f, 400, "Content-Length with Transfer-Encoding",
				    AT(te->name.ptr));
		if (te_elems == 0)
			return fail(f, 400, "empty Transfer-Encoding", AT(te->name.ptr));
		/* §6.3 point 4: chunked must be final, else 400 and close */
		if (!te_last_chunked)
			return fail(f, 400, "chunked is not the final transfer coding",
				    AT(te->name.ptr));
		/* RFC 9112 §6.1: an unknown transfer coding gets 501 */
		if (te_unknown)
			return fail(f, 501, "unknown transfer coding", AT(te->name.ptr));
		m->body_kind = HTTP_BODY_CHUNKED;
		f->bs = B_CSIZE;
		f->chunk_size = 0;
		f->digits = 0;
		f->ext_semi = 0;
		f->line_bytes = 0;
	} else if (cl) {
		if (len > f->lim.max_body_bytes)
			return fail(f, 413, "body too large", AT(cl->name.ptr));
		m->body_kind = HTTP_BODY_LENGTH;
		m->content_length = len;
		f->bs = B_LENGTH;
		f->remaining = len;
	} else {
		m->body_kind = HTTP_BODY_NONE;
	}
	m->keep_alive = req->minor_version == 1 ? !conn_close : (conn_ka && !conn_close);
#undef AT

	if (f->ops && f->ops->on_head) {
		rc = f->ops->on_head(f->ctx, m);
		if (rc < 0) {
			f->state = FRAMER_CLOSED;
			return rc;
		}
	}
	f->msg.req = NULL;	/* the slices die with this call */
	if (m->body_kind == HTTP_BODY_NONE ||
	    (m->body_kind == HTTP_BODY_LENGTH && f->remaining == 0))
		return end_request(f);
	f->state = FRAMER_BODY;
	return 0;
}

static int deliver(struct http_framer *f, const char *p, size_t n)
{
	int rc;

	f->msg.body_bytes += n;
	if (f->ops && f->ops->on_body && n) {
		rc = f->ops->on_body(f->ctx, &f->msg, p, n);
		if (rc < 0) {
			f->state = FRAMER_CLOSED;
			return rc;
		}
	}
	return 0;
}

/*
 * Body bytes: returns how many of p[0..n) were consumed (the request may
 * end before n), or < 0.  'at' is the stream offset of p[0].
 */
static long body_feed(struct http_framer *f, const char *p, size_t n, uint64_t at)
{
	const char *start = p, *e = p + n;
	int bare_lf = f->lim.allow_bare_lf;
	int rc;

#define POS (at + (uint64_t)(p - start))
	while (p < e) {
		unsigned char c;
		unsigned v;

		if (f->bs == B_LENGTH || f->bs == B_CDATA) {
			size_t take = (size_t)(e - p) < f->remaining ? (size_t)(e - p)
								    : (size_t)f->remaining;

			rc = deliver(f, p, take);
			if (rc < 0)
				return rc;
			p += take;
			f->remaining -= take;
			if (f->remaining == 0) {
				if (f->bs == B_LENGTH)
					goto body_done;
				f->bs = B_CDATA_CR;
			}
			continue;
		}

		c = (unsigned char)*p;
		switch (f->bs) {
		case B_CSIZE:
			if (++f->line_bytes > CHUNK_LINE_MAX)
				return fail(f, 400, "chunk size line too long", POS);
			if (is_hex(c, &v)) {
				if (f->chunk_size > (UINT64_MAX >> 4))
					return fail(f, 400, "chunk size overflow", POS);
				f->chunk_size = f->chunk_size << 4 | v;
				f->digits++;
				break;
			}
			if (f->digits == 0)
				return fail(f, 400, "invalid chunk size", POS);
			if (c == '\r') {
				f->bs = B_CSIZE_LF;
			} else if (c == '\n' && bare_lf) {
				goto size_line_done;
			} else if (c == ';' || c == ' ' || c == '\t') {
				f->ext_semi = c == ';';
				f->bs = B_CEXT;
			} else {
				return fail(f, 400, "invalid chunk size", POS);
			}
			break;
		case B_CEXT:
			/* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ):
			 * checked for its alphabet only (no CTLs, starts with ';') */
			if (++f->line_bytes > CHUNK_LINE_MAX)
				return fail(f, 400, "chunk extension too long", POS);
			if (c == '\r') {
				if (!f->ext_semi)
					return fail(f, 400, "invalid chunk size", POS);
				f->bs = B_CSIZE_LF;
			} else if (c == '\n' && bare_lf && f->ext_semi) {
				goto size_line_done;
			} else if (is_bad_ctl(c)) {
				return fail(f, 400, "invalid character in chunk extension", POS);
			} else if (c == ';') {
				f->ext_semi = 1;
			} else if (!f->ext_semi && c != ' ' && c != '\t') {
				return fail(f, 400, "invalid chunk size", POS);
			}
			break;
		case B_CSIZE_LF:
			if (c != '\n')
				return fail(f, 400, "bare CR in chunk size line", POS);
size_line_done:
			if (f->chunk_size > f->lim.max_body_bytes - f->msg.body_bytes)
				return fail(f, 413, "body too large", POS);
			if (f->chunk_size == 0) {
				f->bs = B_TLINE;
				f->trailer_bytes = 0;
			} else {
				f->bs = B_CDATA;
				f->remaining = f->chunk_size;
			}
			break;
		case B_CDATA_CR:
			if (c == '\r') {
				f->bs = B_CDATA_LF;
				break;
			}
			if (c == '\n' && bare_lf)
				goto next_chunk;
			return fail(f, 400, "missing CRLF after chunk data", POS);
		case B_CDATA_LF:
			if (c != '\n')
				return fail(f, 400, "missing CRLF after chunk data", POS);
next_chunk:
			f->bs = B_CSIZE;
			f->chunk_size = 0;
			f->digits = 0;
			f->ext_semi = 0;
			f->line_bytes = 0;
			break;
		case B_TLINE:
		case B_TNAME:
		case B_TVALUE:
		case B_TLINE_LF:
		case B_END_LF:
			if (++f->trailer_bytes > f->lim.max_header_bytes)
				return fail(f, 431, "trailer section too large", POS);
			if (f->bs == B_TLINE) {
				if (c == '\r') {
					f->bs = B_END_LF;
				} else if (c == '\n' && bare_lf) {
					p++;
					goto body_done;
				} else if (c == ' ' || c == '\t') {
					return fail(f, 400, "obsolete line folding", POS);
				} else if (is_tchar(c)) {
					f->bs = B_TNAME;
				} else {
					return fail(f, 400, "invalid character in trailer name", POS);
				}
			} else if (f->bs == B_TNAME) {
				if (c == ':')
					f->bs = B_TVALUE;
				else if (c == ' ' || c == '\t')
					return fail(f, 400, "whitespace before colon in trailer field", POS);
				else if (!is_tchar(c))
					return fail(f, 400, "invalid character in trailer name", POS);
			} else if (f->bs == B_TVALUE) {
				if (c == '\r')
					f->bs = B_TLINE_LF;
				else if (c == '\n' && bare_lf)
					f->bs = B_TLINE;
				else if (is_bad_ctl(c))
					return fail(f, 400, "invalid character in trailer value", POS);
			} else if (f->bs == B_TLINE_LF) {
				if (c != '\n')
					return fail(f, 400, "bare CR", POS);
				f->bs = B_TLINE;
			} else {	/* B_END_LF */
				if (c != '\n')
					return fail(f, 400, "bare CR", POS);
				p++;
				goto body_done;
			}
			break;
		default:
			return fail(f, 400, "framer state", POS);
		}
		p++;
	}
	f->msg.wire_body_bytes += (uint64_t)(p - start);
	return (long)(p - start);

body_done:
	f->msg.wire_body_bytes += (uint64_t)(p - start);
	rc = end_request(f);
	if (rc < 0)
		return rc;
	return (long)(p - start);
#undef POS
}

long framer_feed(struct http_framer *f, const char *p, size_t n)
{
	const char *p0 = p;
	size_t cap = f->lim.max_header_bytes;
	long rc = 0;

	if (f->state == FRAMER_ERROR)
		return -1;
	while (n && f->state != FRAMER_CLOSED && f->state != FRAMER_ERROR) {
		uint64_t here = f->off + (uint64_t)(p - p0);
		struct http_error e;
		size_t used;
		int r;

		if (f->state == FRAMER_BODY) {
			rc = body_feed(f, p, n, here);
			if (rc < 0)
				goto out;
			p += rc;
			n -= (size_t)rc;
			continue;
		}
		if (f->hlen == 0) {
			/* the common case: the whole head is in these bytes */
			r = http_parse_request(p, n, &f->req, &f->lim, &e);
			if (r == HTTP_PARSE_MORE || (r < 0 && error_pending(p, n, cap, &e))) {
				/* n < cap here: the parser says 431 otherwise */
				memcpy(f->hbuf, p, n);
				f->hlen = n;
				f->hoff = here;
				p += n;
				n = 0;
				break;
			}
			if (r < 0) {
				rc = fail(f, e.status, e.reason, here + e.offset);
				goto out;
			}
			rc = head_done(f, p, (size_t)r, here);
			p += r;
			n -= (size_t)r;
		} else {
			size_t old = f->hlen, take = cap - old < n ? cap - old : n;

			memcpy(f->hbuf + old, p, take);
			f->hlen += take;
			/* no new line and room left: the answer cannot change
			 * (a line is checked once it is complete) */
			if (f->hlen < cap && memchr(p, '\n', take) == NULL) {
				p += take;
				n -= take;
				continue;
			}
			r = http_parse_request(f->hbuf, f->hlen, &f->req, &f->lim, &e);
			if (r == HTTP_PARSE_MORE ||
			    (r < 0 && error_pending(f->hbuf, f->hlen, cap, &e))) {
				p += take;
				n -= take;
				continue;
			}
			if (r < 0) {
				rc = fail(f, e.status, e.reason, f->hoff + e.offset);
				goto out;
			}
			used = (size_t)r - old;
			f->hlen = 0;
			rc = head_done(f, f->hbuf, (size_t)r, f->hoff);
			p += used;
			n -= used;
		}
		if (rc < 0)
			goto out;
	}
	rc = (long)(p - p0);
out:
	f->off += (uint64_t)(p - p0);
	return rc;
}
