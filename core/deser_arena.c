/*
 * deser_arena.c: pktmem's own strict JSON parser (RFC 8259), building the
 * document in a per-request arena: the `arena` mode of deser.h, whose
 * contract it keeps.
 *
 * Iterative (an explicit stack of open containers, so hostile nesting
 * cannot exhaust the C stack); it reads the body only through `p < end`
 * checks, and the SSE2 string scanner loads 16 bytes only when 16 bytes
 * remain.  The node layout is in deser-int.h.
 */
#include "core/deser-int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/arena.h"

struct jp {
	const char *end;
	struct arena *a;
	uint64_t fields;
	const char *reason;	/* set on error */
	const char *errp;
	bool nomem;
};

static const char *jp_err(struct jp *j, const char *p, const char *reason)
{
	j->reason = reason;
	j->errp = p;
	return NULL;
}

static inline bool is_ws(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline const char *skip_ws(const char *p, const char *end)
{
	while (p < end && is_ws(*p))
		p++;
	return p;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Four hex digits at q: the value, -1 not hex, -2 the body ends first. */
static int hex4(const char *q, const char *end)
{
	int v = 0, i, h;

	for (i = 0; i < 4; i++) {
		if (q + i >= end)
			return -2;
		h = hexval(q[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/*
 * Length of the valid UTF-8 sequence at p (RFC 3629 §4: no overlongs, no
 * surrogates, nothing above U+10FFFF), 0 if invalid or cut by the end.
 */
static size_t utf8_seq(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t avail = (size_t)(end - p), n;
	unsigned char lo = 0x80, hi = 0xBF;

	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xC2 && u[0] <= 0xDF)
		n = 2;
	else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
		n = 3;
		if (u[0] == 0xE0)
			lo = 0xA0;	/* overlong */
		else if (u[0] == 0xED)
			hi = 0x9F;	/* U+D800..U+DFFF */
	} else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
		n = 4;
		if (u[0] == 0xF0)
			lo = 0x90;	/* overlong */
		else if (u[0] == 0xF4)
			hi = 0x8F;	/* above U+10FFFF */
	} else
		return 0;
	if (avail < n)
		return 0;
	if (u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (u[i] < 0x80 || u[i] > 0xBF)
			return 0;
	return n;
}

static inline size_t utf8_len_of(unsigned cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static char *utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3F));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	return o;
}

/* Second pass over an already validated escaped string [s, e): decode into o. */
static void unescape(const char *s, const char *e, char *o)
{
	while (s < e) {
		const char *bs = memchr(s, '\\', (size_t)(e - s));
		unsigned cp, lo;

		if (!bs) {
			memcpy(o, s, (size_t)(e - s));
			return;
		}
		memcpy(o, s, (size_t)(bs - s));
		o += bs - s;
		switch (bs[1]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			cp = (unsigned)hex4(bs + 2, e);
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				lo = (unsigned)hex4(bs + 8, e);
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				o = utf8_put(o, cp);
				s = bs + 12;
				continue;
			}
			o = utf8_put(o, cp);
			s = bs + 6;
			continue;
		default: *o++ = bs[1]; break;	/* " \ / */
		}
		s = bs + 2;
	}
}

/*
 * A string whose opening quote is just before p.  Validates it (escapes,
 * UTF-8, no raw control characters), fills v, returns the pointer after
 * the closing quote.
 */
static const char *scan_string(struct jp *j, const char *p, struct jv *v, bool key)
{
	const char *s = p, *end = j->end;
	size_t saved = 0;	/* bytes the escapes lose when decoded */
	bool esc = false, nul = false;
	unsigned char c;

	for (;;) {
#ifdef __SSE2__
		while (end - p >= 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
			/* signed < 0x20 catches control bytes and every byte >= 0x80 */
			__m128i m = _mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
					     _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
				_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
			unsigned mask = (unsigned)_mm_movemask_epi8(m);

			if (mask) {
				p += __builtin_ctz(mask);
				goto special;
			}
			p += 16;
		}
#endif
		while (p < end) {
			c = (unsigned char)*p;
			if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
				goto special;
			p++;
		}
		return jp_err(j, p, "truncated");
special:
		c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c == '\\') {
			int cp, lo;

			esc = true;
			if (end - p < 2)
				return jp_err(j, p, "truncated");
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b':
			case 'f': case 'n': case 'r': case 't':
				saved += 1;
				p += 2;
				continue;
			case 'u':
				break;
			default:
				return jp_err(j, p, "invalid escape");
			}
			cp = hex4(p + 2, end);
			if (cp < 0)
				return jp_err(j, p, cp == -2 ? "truncated" : "invalid \\u escape");
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return jp_err(j, p, "lone surrogate");
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				/* RFC 8259 §7: a pair, high then low, both escaped */
				if ((end - p >= 7 && p[6] != '\\') || (end - p >= 8 && p[7] != 'u'))
					return jp_err(j, p, "lone surrogate");
				lo = hex4(p + 8, end);
				if (end - p < 8 || lo == -2)
					return jp_err(j, p, "truncated");
				if (lo < 0)
					return jp_err(j, p + 6, "invalid \\u escape");
				if (lo < 0xDC00 || lo > 0xDFFF)
					return jp_err(j, p, "lone surrogate");
				saved += 12 - 4;
				p += 12;
				continue;
			}
			if (cp == 0)
				nul = true;
			saved += 6 - utf8_len_of((unsigned)cp);
			p += 6;
			continue;
		}
		if (c < 0x20)
			return jp_err(j, p, "control character in string");
		{
			size_t n = utf8_seq(p, end);

			if (!n)
				return jp_err(j, p, "invalid UTF-8");
			p += n;
		}
	}
	if (key && nul)
		return jp_err(j, s, "NUL in object key");
	v->type = JV_STR;
	v->len = (uint32_t)(p - s - saved);
	if (!esc) {
		v->u.s = s;
	} else {
		char *o = arena_alloc_bytes(j->a, v->len);

		if (!o) {
			j->nomem = true;
			return jp_err(j, s, "out of memory");
		}
		unescape(s, p, o);
		v->u.s = o;
		v->copied = 1;
	}
	return p + 1;
}

/* 2^1024 - 2^970: the smallest decimal that strtod rounds to infinity. */
static const char dbl_overflow_digits[] =
	"179769313486231580793728971405303415079934132710037826936173778980444968"
	"292764750946649017977587207096330286416692887910946555547851940402630657"
	"488671505820681908902000708383676273854845817711531764475730270069855571"
	"366959622842914819860834936475292719074168444365510704342711559699508093"
	"042880177904174497792";

/*
 * Would strtod overflow (HUGE_VAL, what jansson rejects) on this real?
 * Decided from the digits, exactly: the value overflows iff it is at least
 * 2^1024 - 2^970 (the midpoint above DBL_MAX; a tie rounds to even, up).
 */
static bool real_overflows(const char *is, size_t in, const char *fs, size_t fn, int64_t exp)
{
	const char *d1 = is, *d1e = is + in, *d2 = fs, *d2e = fs + fn;
	int64_t mag;
	size_t i;

	if (in > 1 || *is != '0') {
		mag = (int64_t)in - 1 + exp;
	} else {
		size_t z = 0;

		while (z < fn && fs[z] == '0')
			z++;
		if (z == fn)
			return false;	/* zero */
		mag = -(int64_t)(z + 1) + exp;
		d1 = d1e;
		d2 = fs + z;
	}
	if (mag < 308)
		return false;
	if (mag > 308)
		return true;
	/* same magnitude: compare the significant digits */
	for (i = 0; i < sizeof(dbl_overflow_digits) - 1; i++) {
		char dc = d1 < d1e ? *d1++ : d2 < d2e ? *d2++ : '0';

		if (dc != dbl_overflow_digits[i])
			return dc > dbl_overflow_digits[i];
	}
	while (d1 < d1e || d2 < d2e) {
		char dc = d1 < d1e ? *d1++ : *d2++;

		if (dc != '0')
			return true;
	}
	return true;	/* equal */
}

static const char *scan_number(struct jp *j, const char *p, struct jv *v)
{
	const char *s = p, *end = j->end, *is, *fs;
	size_t in, fn = 0;
	int64_t exp = 0;
	bool neg = false, real = false;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (p >= end)
		return jp_err(j, p, "truncated");
	is = p;
	if (*p == '0') {
		p++;
		if (p < end && is_digit(*p))
			return jp_err(j, is, "leading zero");
	} else if (is_digit(*p)) {
		while (p < end && is_digit(*p))
			p++;
	} else {
		return jp_err(j, p, "invalid number");
	}
	in = (size_t)(p - is);
	fs = p;		/* no fraction: an empty one there */
	if (p < end && *p == '.') {
		fs = ++p;
		while (p < end && is_digit(*p))
			p++;
		fn = (size_t)(p - fs);
		if (!fn)
			return jp_err(j, p, p < end ? "invalid number" : "truncated");
		real = true;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		const char *es;
		bool eneg = false;

		real = true;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		es = p;
		while (p < end && is_digit(*p)) {
			if (exp < 1000000000000000LL)	/* saturate: far past any double */
				exp = exp * 10 + (*p - '0');
			p++;
		}
		if (p == es)
			return jp_err(j, p, p < end ? "invalid number" : "truncated");
		if (eneg)
			exp = -exp;
	}
	if (!real) {
		/* jansson: strtoll, ERANGE rejected */
		if (in > 19 || (in == 19 && memcmp(is, neg ? "9223372036854775808"
						       : "9223372036854775807", 19) > 0))
			return jp_err(j, s, "integer out of range");
		v->type = JV_INT;
	} else {
		if (real_overflows(is, in, fs, fn, exp))
			return jp_err(j, s, "number out of range");
		v->type = JV_REAL;
	}
	v->u.s = s;
	v->len = (uint32_t)(p - s);
	return p;
}

static const char *scan_literal(struct jp *j, const char *p, const char *lit, size_t n)
{
	size_t avail = (size_t)(j->end - p);

	if (avail >= n && !memcmp(p, lit, n))
		return p + n;
	if (avail < n && !memcmp(p, lit, avail))
		return jp_err(j, p, "truncated");
	return jp_err(j, p, "invalid literal");
}

static uint64_t jv_count(const struct jv *v)
{
	uint64_t n = 1;
	const struct jv *k;

	if (v->type == JV_ARR) {
		for (k = v->u.kid; k; k = k->next)
			n += jv_count(k);
	} else if (v->type == JV_OBJ) {
		for (k = v->u.kid; k; k = k->next->next)
			n += jv_count(k->next);
	}
	return n;
}

static inline bool key_eq(const struct jv *a, const struct jv *b)
{
	return a->len == b->len && (a->len == 0 ||
		(a->u.s[0] == b->u.s[0] && !memcmp(a->u.s, b->u.s, a->len)));
}

static uint32_t key_hash(const struct jv *k)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (uint32_t i = 0; i < k->len; i++)
		h = (h ^ (unsigned char)k->u.s[i]) * 16777619u;
	return h;
}

/* Objects with more members use a hash table (in the arena) to find duplicates. */
#define DEDUPE_LINEAR_MAX 16

/* Length and three bytes of a key: equal keys have equal signatures. */
static inline uint64_t key_sig(const struct jv *k)
{
	const unsigned char *u = (const unsigned char *)k->u.s;

	if (!k->len)
		return 0;
	return k->len | (uint64_t)u[0] << 32 | (uint64_t)u[k->len / 2] << 40 |
	       (uint64_t)u[k->len - 1] << 48;
}

/* Small objects: any duplicate?  Signatures in a local array, no pointer chasing. */
static bool small_object_has_dup(const struct jv *obj)
{
	uint64_t sig[DEDUPE_LINEAR_MAX];
	const struct jv *key[DEDUPE_LINEAR_MAX], *k;
	uint32_t n = 0, i;

	for (k = obj->u.kid; k; k = k->next->next) {
		uint64_t s = key_sig(k);

		for (i = 0; i < n; i++)
			if (sig[i] == s && key_eq(key[i], k))
				return true;
		sig[n] = s;
		key[n++] = k;
	}
	return false;
}

/*
 * Resolves duplicate keys as jansson does: the last value replaces the
 * first's in place; the later member disappears.  Returns -1 on no memory.
 */
static int object_dedupe(struct jp *j, struct jv *obj)
{
	struct jv *k = obj->u.kid, *tail = NULL, *v, *nk, *f;
	struct jv **tab = NULL;
	uint32_t count = 0, mask = 0;

	if (obj->len < 2)
		return 0;
	if (obj->len <= DEDUPE_LINEAR_MAX && !small_object_has_dup(obj))
		return 0;	/* the common case: nothing to do */
	if (obj->len > DEDUPE_LINEAR_MAX) {
		uint32_t size = 64;

		while (size < obj->len * 2u)
			size *= 2;
		tab = arena_alloc(j->a, size * sizeof(*tab));
		if (!tab)
			return -1;
		memset(tab, 0, size * sizeof(*tab));
		mask = size - 1;
	}
	obj->u.kid = NULL;
	for (; k; k = nk) {
		uint32_t slot = 0;

		v = k->next;
		nk = v->next;
		f = NULL;
		if (tab) {
			for (slot = key_hash(k) & mask; tab[slot]; slot = (slot + 1) & mask)
				if (key_eq(tab[slot], k)) {
					f = tab[slot];
					break;
				}
		} else {
			for (f = obj->u.kid; f && !key_eq(f, k); f = f->next->next)
				;
		}
		if (f) {
			struct jv *old = f->next;

			j->fields -= jv_count(old);
			v->next = old->next;
			f->next = v;
			if (tail == old)
				tail = v;
			continue;
		}
		if (tab)
			tab[slot] = k;
		if (tail)
			tail->next = k;
		else
			obj->u.kid = k;
		tail = v;
		v->next = NULL;
		count++;
	}
	obj->len = count;
	return 0;
}

int deser_arena_parse(struct arena *a, struct jv_frame *stack, const char *body, size_t len,
		      struct jv **root, struct deser_result *r)
{
	struct jp j = { .end = body + len, .a = a };
	const char *p = body, *end = j.end;
	struct jv_frame *st = stack, *f;
	unsigned depth = 0;	/* open containers */
	struct jv *v;

	p = skip_ws(p, end);
value:
	if (depth >= DESER_MAX_DEPTH) {
		jp_err(&j, p, "too deep");
		goto fail;
	}
	if (p >= end) {
		jp_err(&j, p, "truncated");
		goto fail;
	}
	v = arena_alloc(a, sizeof(*v));
	if (!v)
		goto nomem;
	j.fields++;
	v->next = NULL;
	v->copied = 0;
	if (depth == 0) {
		*root = v;
	} else {
		f = &st[depth - 1];
		if (f->last)
			f->last->next = v;
		else
			f->c->u.kid = v;
		f->last = v;
		if (f->c->type == JV_ARR)
			f->c->len++;
	}
	switch (*p) {
	case '{':
	case '[':
		v->type = *p == '{' ? JV_OBJ : JV_ARR;
		v->len = 0;
		v->u.kid = NULL;
		st[depth].c = v;
		st[depth].last = NULL;
		depth++;
		p = skip_ws(p + 1, end);
		if (p < end && *p == (v->type == JV_OBJ ? '}' : ']')) {
			p++;
			depth--;
			goto after;
		}
		if (v->type == JV_OBJ)
			goto key;
		goto value;
	case '"':
		p = scan_string(&j, p + 1, v, false);
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		p = scan_number(&j, p, v);
		break;
	case 't':
		v->type = JV_TRUE;
		p = scan_literal(&j, p, "true", 4);
		break;
	case 'f':
		v->type = JV_FALSE;
		p = scan_literal(&j, p, "false", 5);
		break;
	case 'n':
		v->type = JV_NULL;
		p = scan_literal(&j, p, "null", 4);
		break;
	default:
		jp_err(&j, p, "unexpected character");
		goto fail;
	}
	if (!p)
		goto fail;
after:
	if (depth == 0) {
		p = skip_ws(p, end);
		if (p != end) {
			jp_err(&j, p, "trailing garbage");
			goto fail;
		}
		r->fields = j.fields;
		return 0;
	}
	p = skip_ws(p, end);
	if (p >= end) {
		jp_err(&j, p, "truncated");
		goto fail;
	}
	f = &st[depth - 1];
	if (*p == ',') {
		p = skip_ws(p + 1, end);
		if (f->c->type == JV_OBJ)
			goto key;
		if (p < end && *p == ']') {
			jp_err(&j, p, "trailing comma");
			goto fail;
		}
		goto value;
	}
	if (*p == (f->c->type == JV_OBJ ? '}' : ']')) {
		p++;
		if (f->c->type == JV_OBJ && object_dedupe(&j, f->c) < 0)
			goto nomem;
		depth--;
		goto after;
	}
	jp_err(&j, p, f->c->type == JV_OBJ ? "expected ',' or '}'" : "expected ',' or ']'");
	goto fail;
key:
	f = &st[depth - 1];
	if (p >= end) {
		jp_err(&j, p, "truncated");
		goto fail;
	}
	if (*p != '"') {
		jp_err(&j, p, *p == '}' ? "trailing comma" : "expected string key");
		goto fail;
	}
	v = arena_alloc(a, sizeof(*v));
	if (!v)
		goto nomem;
	v->next = NULL;
	v->copied = 0;
	if (f->last)
		f->last->next = v;
	else
		f->c->u.kid = v;
	f->last = v;
	f->c->len++;
	p = scan_string(&j, p + 1, v, true);
	if (!p)
		goto fail;
	p = skip_ws(p, end);
	if (p >= end) {
		jp_err(&j, p, "truncated");
		goto fail;
	}
	if (*p != ':') {
		jp_err(&j, p, "expected ':'");
		goto fail;
	}
	p = skip_ws(p + 1, end);
	goto value;

fail:
	if (j.nomem)
		goto nomem;
	*root = NULL;
	r->status = 400;
	r->reason = j.reason;
	r->offset = (size_t)(j.errp - body);
	return -EBADMSG;
nomem:
	*root = NULL;
	r->status = 500;
	r->reason = "out of memory";
	r->offset = (size_t)(p ? p - body : 0);
	return -ENOMEM;
}
