/*
 * http.c: zero-copy HTTP/1.x request-head parser (see http.h).
 *
 * The parser proper is core/http-parse.inc, compiled three times: with the
 * portable table scanners, with SSE4.2 string instructions (_mm_cmpestri
 * over byte ranges, as picohttpparser does) and with AVX2 compares.  Which
 * one runs is chosen at the first call from __builtin_cpu_supports();
 * tests pin one with http_scanner_select().
 */
#include "core/http-int.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HTTP_HAVE_X86 1
#endif

/* Byte classes (RFC 9110 §5.6.2 tchar, §5.5 field-vchar; RFC 9112 §3.2). */
enum {
	C_TOKEN = 1,	/* tchar */
	C_TARGET = 2,	/* 0x21..0x7e: allowed in a request-target */
	C_VALUE = 4,	/* field-value: VCHAR, SP, HTAB, obs-text 0x80..0xff */
};

static const unsigned char cls[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	4, 7, 6, 7, 7, 7, 7, 7, 6, 6, 7, 7, 6, 7, 7, 6,
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6,
	6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 7,
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 6, 7, 0,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

#define ALWAYS_INLINE inline __attribute__((always_inline))

#define BAD(st, why, at) do {						\
		if (err) {						\
			err->status = (st);				\
			err->reason = (why);				\
			err->offset = (size_t)((at) - buf);		\
		}							\
		return HTTP_PARSE_BAD;					\
	} while (0)

void http_limits_default(struct http_limits *lim)
{
	lim->max_header_bytes = 16384;
	lim->max_headers = 100;
	lim->max_body_bytes = 8u << 20;
	lim->allow_bare_lf = 0;
	lim->allow_missing_host = 0;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 413: return "Content Too Large";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* "HTTP/" DIGIT "." DIGIT, checked on the first n (<= 8) bytes. */
static ALWAYS_INLINE int version_prefix_ok(const char *p, size_t n)
{
	static const char pat[] = "HTTP/0.0";
	size_t i;

	for (i = 0; i < n && i < 8; i++) {
		if (pat[i] == '0') {
			if (p[i] < '0' || p[i] > '9')
				return 0;
		} else if (p[i] != pat[i]) {
			return 0;
		}
	}
	return 1;
}

/*
 * RFC 9112 §3.2: origin-form ("/..."), absolute-form (scheme ":" ...),
 * authority-form (host ":" port) only for CONNECT, asterisk-form only for
 * OPTIONS.  The bytes are already known to be visible ASCII.
 */
static int target_form_ok(struct slice method, struct slice t)
{
	size_t i;

	if (method.len == 7 && memcmp(method.ptr, "CONNECT", 7) == 0) {
		size_t colon = t.len;

		if (t.ptr[0] == '/' || t.ptr[0] == '*')
			return 0;
		for (i = 0; i < t.len; i++) {
			if (t.ptr[i] == '/' || t.ptr[i] == '?' || t.ptr[i] == '#' ||
			    t.ptr[i] == '@')
				return 0;
			if (t.ptr[i] == ':')
				colon = i;
		}
		/* uri-host ":" port, port = 1*DIGIT here (a port is required) */
		if (colon == 0 || colon + 1 >= t.len)
			return 0;
		for (i = colon + 1; i < t.len; i++)
			if (t.ptr[i] < '0' || t.ptr[i] > '9')
				return 0;
		return 1;
	}
	if (t.ptr[0] == '/')
		return 1;
	if (t.len == 1 && t.ptr[0] == '*')
		return method.len == 7 && memcmp(method.ptr, "OPTIONS", 7) == 0;
	/* absolute-form: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (!((t.ptr[0] | 0x20) >= 'a' && (t.ptr[0] | 0x20) <= 'z'))
		return 0;
	for (i = 1; i < t.len; i++) {
		char c = t.ptr[i];

		if (c == ':')
			return 1;
		if (!(((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
			return 0;
	}
	return 0;
}

/* ---- portable scanners: a class table, unrolled ---- */

static ALWAYS_INLINE const char *scalar_scan(const char *p, const char *end,
					     unsigned char want)
{
	while (end - p >= 4) {
		if (!(cls[(unsigned char)p[0]] & want))
			return p;
		if (!(cls[(unsigned char)p[1]] & want))
			return p + 1;
		if (!(cls[(unsigned char)p[2]] & want))
			return p + 2;
		if (!(cls[(unsigned char)p[3]] & want))
			return p + 3;
		p += 4;
	}
	while (p != end && (cls[(unsigned char)*p] & want))
		p++;
	return p;
}

#define FN(x) x##_scalar
#define ATTR
#define SCAN_TARGET(p, end) scalar_scan(p, end, C_TARGET)
#define SCAN_NAME(p, end) scalar_scan(p, end, C_TOKEN)
#define SCAN_VALUE(p, end) scalar_scan(p, end, C_VALUE)
#include "core/http-parse.inc"
#undef FN
#undef ATTR
#undef SCAN_TARGET
#undef SCAN_NAME
#undef SCAN_VALUE

#ifdef HTTP_HAVE_X86

/*
 * tchar membership by nibbles: bit (b >> 4) of tok_lo[b & 15] is set when
 * b is a tchar; tok_hi[h] = 1 << h for h < 8 and 0 for bytes >= 0x80.
 */
static const unsigned char tok_lo[16] = {
	0xe8, 0xfc, 0xf8, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc,
	0xf8, 0xf8, 0xf4, 0x54, 0xd0, 0x54, 0xf4, 0x70,
};
static const unsigned char tok_hi[16] = {
	0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80,
};

/* ---- SSE4.2: PCMPESTRI with byte ranges (stop at any byte in them) ---- */

#define SSE42 __attribute__((target("sse4.2")))

static SSE42 ALWAYS_INLINE const char *
sse42_ranges(const char *p, const char *end, const char *ranges, int nranges)
{
	__m128i r = _mm_loadu_si128((const __m128i *)ranges);

	while (end - p >= 16) {
		__m128i b = _mm_loadu_si128((const __m128i *)p);
		int i = _mm_cmpestri(r, nranges, b, 16,
				     _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES |
				     _SIDD_POSITIVE_POLARITY |
				     _SIDD_LEAST_SIGNIFICANT);

		if (i != 16)
			return p + i;
		p += 16;
	}
	return p;
}

/* The range tables are 16 bytes so the load never runs past them. */
static const char sse_target_ranges[16] = "\x00\x20\x7f\xff";
static const char sse_value_ranges[16] = "\x00\x08\x0a\x1f\x7f\x7f";
/*
 * Non-tchars: CTLs and SP, '"', '(' ')', ',', '/', ':'..'@', '['..']',
 * '{'..0xff.  Eight ranges is all PCMPESTRI takes, so the last one also
 * stops at '|' and '~' (tchars): the caller re-checks with the table.
 */
static const char sse_name_ranges[16] = "\x00\x20\"\"()\x2c\x2c//:@[]{\xff";

static SSE42 ALWAYS_INLINE const char *sse42_target(const char *p, const char *end)
{
	p = sse42_ranges(p, end, sse_target_ranges, 4);
	return scalar_scan(p, end, C_TARGET);
}

static SSE42 ALWAYS_INLINE const char *sse42_value(const char *p, const char *end)
{
	p = sse42_ranges(p, end, sse_value_ranges, 6);
	return scalar_scan(p, end, C_VALUE);
}

static SSE42 ALWAYS_INLINE const char *sse42_name(const char *p, const char *end)
{
	for (;;) {
		p = sse42_ranges(p, end, sse_name_ranges, 16);
		if (end - p < 16 || !(cls[(unsigned char)*p] & C_TOKEN))
			return scalar_scan(p, end, C_TOKEN);
		p++;	/* '|' or '~' */
	}
}

/* 64 bytes as bitmaps, as avx2_classify64 below, 16 bytes at a time. */
static SSE42 ALWAYS_INLINE void sse42_classify64(const char *p, uint64_t *colon, uint64_t *ntok,
						uint64_t *ctl, uint64_t *ows)
{
	const __m128i lo_t = _mm_loadu_si128((const __m128i *)tok_lo);
	const __m128i hi_t = _mm_loadu_si128((const __m128i *)tok_hi);
	const __m128i nib = _mm_set1_epi8(0x0f), zero = _mm_setzero_si128();
	const __m128i colon_v = _mm_set1_epi8(':'), sp_v = _mm_set1_epi8(' ');
	const __m128i tab_v = _mm_set1_epi8('\t'), us_v = _mm_set1_epi8(0x1f);
	const __m128i del_v = _mm_set1_epi8(0x7f);
	uint64_t c = 0, n = 0, x = 0, o = 0;
	int i;

	for (i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(p + 16 * i));
		__m128i t = _mm_and_si128(_mm_shuffle_epi8(lo_t, _mm_and_si128(v, nib)),
					  _mm_shuffle_epi8(hi_t, _mm_and_si128(_mm_srli_epi16(v, 4), nib)));
		__m128i tab = _mm_cmpeq_epi8(v, tab_v);

		c |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, colon_v)) << (16 * i);
		n |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(t, zero)) << (16 * i);
		x |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_andnot_si128(tab,
			_mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, us_v), v),
				     _mm_cmpeq_epi8(v, del_v)))) << (16 * i);
		o |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, sp_v), tab))
		     << (16 * i);
	}
	*colon = c;
	*ntok = n;
	*ctl = x;
	*ows = o;
}

#define FN(x) x##_sse42
#define ATTR SSE42
#define SCAN_TARGET(p, end) sse42_target(p, end)
#define SCAN_NAME(p, end) sse42_name(p, end)
#define SCAN_VALUE(p, end) sse42_value(p, end)
#define CLASSIFY64(p, c, n, x, o) sse42_classify64(p, c, n, x, o)
#include "core/http-parse.inc"
#undef FN
#undef ATTR
#undef SCAN_TARGET
#undef SCAN_NAME
#undef SCAN_VALUE
#undef CLASSIFY64

/* ---- AVX2: 32 bytes per compare, a 16-byte SSE2 step for the tail ---- */

#define AVX2 __attribute__((target("avx2")))


/* A mask of the bytes that end a target: < 0x21 or >= 0x7f. */
static AVX2 ALWAYS_INLINE unsigned avx2_target_mask(__m256i b)
{
	/* signed: 0x80..0xff are negative, so "< 0x21" catches them too */
	__m256i lt = _mm256_cmpgt_epi8(_mm256_set1_epi8(0x21), b);
	__m256i del = _mm256_cmpeq_epi8(b, _mm256_set1_epi8(0x7f));

	return (unsigned)_mm256_movemask_epi8(_mm256_or_si256(lt, del));
}

static AVX2 ALWAYS_INLINE unsigned sse2_target_mask(__m128i b)
{
	__m128i lt = _mm_cmpgt_epi8(_mm_set1_epi8(0x21), b);
	__m128i del = _mm_cmpeq_epi8(b, _mm_set1_epi8(0x7f));

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(lt, del));
}

/* A mask of the CTLs other than HTAB: 0x00..0x08, 0x0a..0x1f, 0x7f. */
static AVX2 ALWAYS_INLINE unsigned avx2_value_mask(__m256i b)
{
	__m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(b, _mm256_set1_epi8(0x1f)), b);
	__m256i tab = _mm256_cmpeq_epi8(b, _mm256_set1_epi8('\t'));
	__m256i del = _mm256_cmpeq_epi8(b, _mm256_set1_epi8(0x7f));

	return (unsigned)_mm256_movemask_epi8(
		_mm256_or_si256(_mm256_andnot_si256(tab, ctl), del));
}

static AVX2 ALWAYS_INLINE unsigned sse2_value_mask(__m128i b)
{
	__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(b, _mm_set1_epi8(0x1f)), b);
	__m128i tab = _mm_cmpeq_epi8(b, _mm_set1_epi8('\t'));
	__m128i del = _mm_cmpeq_epi8(b, _mm_set1_epi8(0x7f));

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_andnot_si128(tab, ctl), del));
}

/* A mask of the bytes that are not tchars. */
static AVX2 ALWAYS_INLINE unsigned avx2_name_mask(__m256i b)
{
	__m256i lo_t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)tok_lo));
	__m256i hi_t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)tok_hi));
	__m256i nib = _mm256_set1_epi8(0x0f);
	__m256i lo = _mm256_shuffle_epi8(lo_t, _mm256_and_si256(b, nib));
	__m256i hi = _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(b, 4), nib));
	__m256i is_tok = _mm256_and_si256(lo, hi);

	return (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(is_tok, _mm256_setzero_si256()));
}

static AVX2 ALWAYS_INLINE unsigned sse2_name_mask(__m128i b)
{
	__m128i lo_t = _mm_loadu_si128((const __m128i *)tok_lo);
	__m128i hi_t = _mm_loadu_si128((const __m128i *)tok_hi);
	__m128i nib = _mm_set1_epi8(0x0f);
	__m128i lo = _mm_shuffle_epi8(lo_t, _mm_and_si128(b, nib));
	__m128i hi = _mm_shuffle_epi8(hi_t, _mm_and_si128(_mm_srli_epi16(b, 4), nib));

	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(lo, hi), _mm_setzero_si128()));
}

#define AVX2_SCANNER(kind, want)					\
static AVX2 ALWAYS_INLINE const char *avx2_##kind(const char *p, const char *end) \
{									\
	while (end - p >= 32) {						\
		unsigned m = avx2_##kind##_mask(			\
			_mm256_loadu_si256((const __m256i *)p));	\
		if (m)							\
			return p + __builtin_ctz(m);			\
		p += 32;						\
	}								\
	if (end - p >= 16) {						\
		unsigned m = sse2_##kind##_mask(			\
			_mm_loadu_si128((const __m128i *)p));		\
		if (m)							\
			return p + __builtin_ctz(m);			\
		p += 16;						\
	}								\
	return scalar_scan(p, end, want);				\
}

AVX2_SCANNER(target, C_TARGET)
AVX2_SCANNER(value, C_VALUE)
AVX2_SCANNER(name, C_TOKEN)

/* 64 bytes at p classified: ':' / not a tchar / CTL but HTAB (CR, LF, DEL
 * included) / OWS, one bit per byte. */
static AVX2 ALWAYS_INLINE uint64_t avx2_mask64(__m256i lo, __m256i hi)
{
	return (uint32_t)_mm256_movemask_epi8(lo) | (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

static AVX2 ALWAYS_INLINE void avx2_classify64(const char *p, uint64_t *colon, uint64_t *ntok,
					      uint64_t *ctl, uint64_t *ows)
{
	const __m256i lo_t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)tok_lo));
	const __m256i hi_t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)tok_hi));
	const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
	const __m256i colon_v = _mm256_set1_epi8(':'), sp_v = _mm256_set1_epi8(' ');
	const __m256i tab_v = _mm256_set1_epi8('\t'), us_v = _mm256_set1_epi8(0x1f);
	const __m256i del_v = _mm256_set1_epi8(0x7f);
	const __m256i a = _mm256_loadu_si256((const __m256i *)p);
	const __m256i b = _mm256_loadu_si256((const __m256i *)(p + 32));
	const __m256i ta = _mm256_and_si256(
		_mm256_shuffle_epi8(lo_t, _mm256_and_si256(a, nib)),
		_mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(a, 4), nib)));
	const __m256i tb = _mm256_and_si256(
		_mm256_shuffle_epi8(lo_t, _mm256_and_si256(b, nib)),
		_mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(b, 4), nib)));
	const __m256i taba = _mm256_cmpeq_epi8(a, tab_v), tabb = _mm256_cmpeq_epi8(b, tab_v);

	*colon = avx2_mask64(_mm256_cmpeq_epi8(a, colon_v), _mm256_cmpeq_epi8(b, colon_v));
	*ntok = avx2_mask64(_mm256_cmpeq_epi8(ta, zero), _mm256_cmpeq_epi8(tb, zero));
	*ctl = avx2_mask64(
		_mm256_andnot_si256(taba, _mm256_or_si256(
			_mm256_cmpeq_epi8(_mm256_min_epu8(a, us_v), a), _mm256_cmpeq_epi8(a, del_v))),
		_mm256_andnot_si256(tabb, _mm256_or_si256(
			_mm256_cmpeq_epi8(_mm256_min_epu8(b, us_v), b), _mm256_cmpeq_epi8(b, del_v))));
	*ows = avx2_mask64(_mm256_or_si256(_mm256_cmpeq_epi8(a, sp_v), taba),
			   _mm256_or_si256(_mm256_cmpeq_epi8(b, sp_v), tabb));
}

#define CLASSIFY64(p, c, n, x, o) avx2_classify64(p, c, n, x, o)
#define FN(x) x##_avx2
#define ATTR AVX2
#define SCAN_TARGET(p, end) avx2_target(p, end)
#define SCAN_NAME(p, end) avx2_name(p, end)
#define SCAN_VALUE(p, end) avx2_value(p, end)
#include "core/http-parse.inc"
#undef FN
#undef ATTR
#undef SCAN_TARGET
#undef SCAN_NAME
#undef SCAN_VALUE
#undef CLASSIFY64

#endif /* HTTP_HAVE_X86 */

/* ---- dispatch ---- */

enum scanner { SC_UNSET = 0, SC_SCALAR, SC_SSE42, SC_AVX2 };

static const char *const scanner_names[] = {
	[SC_UNSET] = "unset", [SC_SCALAR] = "scalar",
	[SC_SSE42] = "sse4.2", [SC_AVX2] = "avx2",
};

/*
 * The one piece of mutable state in this module: which scanner runs.  It
 * is a property of the CPU (set once, the same value from every thread),
 * so relaxed atomics suffice; tests change it between parses.
 */
static int active_scanner;

static int scanner_supported(int sc)
{
	switch (sc) {
	case SC_SCALAR:
		return 1;
#ifdef HTTP_HAVE_X86
	case SC_SSE42:
		__builtin_cpu_init();
		return __builtin_cpu_supports("sse4.2");
	case SC_AVX2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2");
#endif
	default:
		return 0;
	}
}

static int best_scanner(void)
{
	if (scanner_supported(SC_AVX2))
		return SC_AVX2;
	if (scanner_supported(SC_SSE42))
		return SC_SSE42;
	return SC_SCALAR;
}

static int current_scanner(void)
{
	int sc = __atomic_load_n(&active_scanner, __ATOMIC_RELAXED);

	if (sc == SC_UNSET) {
		sc = best_scanner();
		__atomic_store_n(&active_scanner, sc, __ATOMIC_RELAXED);
	}
	return sc;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req,
		       const struct http_limits *lim, struct http_error *err)
{
	static const struct http_limits defaults = {
		.max_header_bytes = 16384, .max_headers = 100, .max_body_bytes = 8u << 20,
	};

	if (lim == NULL)
		lim = &defaults;
	switch (current_scanner()) {
#ifdef HTTP_HAVE_X86
	case SC_AVX2:
		return parse_avx2(buf, len, req, lim, err);
	case SC_SSE42:
		return parse_sse42(buf, len, req, lim, err);
#endif
	default:
		return parse_scalar(buf, len, req, lim, err);
	}
}

const char *http_scanner_name(void)
{
	return scanner_names[current_scanner()];
}

void http_force_scalar(int on)
{
	__atomic_store_n(&active_scanner, on ? SC_SCALAR : best_scanner(),
			 __ATOMIC_RELAXED);
}

int http_scanner_select(const char *name)
{
	int sc;

	if (name == NULL || strcmp(name, "best") == 0) {
		sc = best_scanner();
	} else {
		for (sc = SC_SCALAR; sc <= SC_AVX2; sc++)
			if (strcmp(name, scanner_names[sc]) == 0)
				break;
		if (sc > SC_AVX2)
			return -EINVAL;
		if (!scanner_supported(sc))
			return -ENOTSUP;
	}
	__atomic_store_n(&active_scanner, sc, __ATOMIC_RELAXED);
	return 0;
}

int http_scanner_available(const char *name)
{
	int sc;

	for (sc = SC_SCALAR; sc <= SC_AVX2; sc++)
		if (strcmp(name, scanner_names[sc]) == 0)
			return scanner_supported(sc);
	return 0;
}
