/*
 * t3510-deser: `tree` (jansson) and `arena` (pktmem's parser) accept the
 * same documents and build the same logical result; both reject invalid
 * JSON with 400 and a reason; allocation figures are exact and repeatable;
 * no parse reads past the end of the body (each body ends at a PROT_NONE
 * guard page).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/deser.h"
#include "tests/deser-canonical.h"
#include "tests/tap.h"

static struct deser *dt, *da;

/* ---- a body that ends right before a PROT_NONE page ---------------- */

static char *guard_map;
static size_t guard_len;

static const char *guarded(const char *s, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t need = (n + pg - 1) / pg * pg + pg;

	if (guard_map)
		munmap(guard_map, guard_len);
	guard_len = need;
	guard_map = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_map == MAP_FAILED)
		bail_out("mmap");
	if (mprotect(guard_map + need - pg, pg, PROT_NONE))
		bail_out("mprotect");
	memcpy(guard_map + need - pg - n, s, n);
	return guard_map + need - pg - n;
}

/* A test name from a document: control bytes shown as '.', at most 60 bytes. */
static const char *printable(const char *s)
{
	static char out[64];
	size_t i;

	for (i = 0; s[i] && i < 60; i++)
		out[i] = (unsigned char)s[i] < 0x20 ? '.' : s[i];
	out[i] = '\0';
	return out;
}

/* ---- both parsers on one document ----------------------------------- */

struct both {
	int rt, ra;
	struct deser_result t, a;
	char *ct, *ca;		/* canonical forms when accepted */
	size_t nt, na;
};

static void both_release(struct both *b)
{
	free(b->ct);
	free(b->ca);
	b->ct = b->ca = NULL;
}

static void parse_both(const char *s, size_t n, struct both *b)
{
	const char *g = guarded(s, n);

	memset(b, 0, sizeof(*b));
	b->rt = deser_parse(dt, g, n, &b->t);
	b->ra = deser_parse(da, g, n, &b->a);
	if (b->rt == 0 && deser_canonical(dt, &b->ct, &b->nt) < 0)
		bail_out("canonical tree");
	if (b->ra == 0 && deser_canonical(da, &b->ca, &b->na) < 0)
		bail_out("canonical arena");
	deser_reset(dt);
	deser_reset(da);
}

/* Agreement: both reject, or both accept with the same canonical form and field count. */
static int agree(const struct both *b)
{
	if (b->rt != b->ra)
		return 0;
	if (b->rt)
		return b->t.status == 400 && b->a.status == 400 && b->t.reason && b->a.reason;
	return b->nt == b->na && !memcmp(b->ct, b->ca, b->nt) && b->t.fields == b->a.fields;
}

static void show(const char *what, const char *s, size_t n, const struct both *b)
{
	diag("%s: %.*s%s", what, (int)(n > 200 ? 200 : n), s, n > 200 ? "..." : "");
	diag("  tree:  ret %d status %d reason %s @%zu fields %llu canon %.200s", b->rt,
	     b->t.status, b->t.reason ? b->t.reason : "-", b->t.offset,
	     (unsigned long long)b->t.fields, b->ct ? b->ct : "-");
	diag("  arena: ret %d status %d reason %s @%zu fields %llu canon %.200s", b->ra,
	     b->a.status, b->a.reason ? b->a.reason : "-", b->a.offset,
	     (unsigned long long)b->a.fields, b->ca ? b->ca : "-");
}

/* ---- seeded generator ------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16) % n;
}

struct buf {
	char *p;
	size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			bail_out("realloc");
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void gen_ws(struct buf *b)
{
	static const char *ws[] = { "", "", "", " ", "\n", "\t", "\r\n  " };

	puts_(b, ws[rnd(7)]);
}

static void gen_string(struct buf *b, int key)
{
	static const char *pieces[] = {
		"a", "id", "name", "x", "Z9", " ", "\\\"", "\\\\", "\\/", "\\b", "\\f",
		"\\n", "\\r", "\\t", "\\u0041", "\\u00e9", "\\u20AC", "\\ud83d\\ude00",
		"\\uDBFF\\uDFFF", "\\u0800", "\\u07ff", "é", "€", "😀", "\xf4\x8f\xbf\xbf",
		"\\u0000", "\\u001f", "\\uFFFF", "日本", "~", "\x7f",
	};
	int n = (int)rnd(key ? 3 : 8), i;

	puts_(b, "\"");
	for (i = 0; i < n; i++) {
		const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];

		if (key && !strcmp(p, "\\u0000"))
			p = "k";
		puts_(b, p);
	}
	puts_(b, "\"");
}

static void gen_digits(struct buf *b, int n, int lead_nonzero)
{
	char c;

	for (int i = 0; i < n; i++) {
		c = (char)('0' + rnd(10));
		if (i == 0 && lead_nonzero && c == '0')
			c = '1';
		put(b, &c, 1);
	}
}

static void gen_number(struct buf *b)
{
	char t[64];

	switch (rnd(8)) {
	case 0:		/* small int */
		snprintf(t, sizeof(t), "%d", (int)rnd(2000) - 1000);
		puts_(b, t);
		return;
	case 1:		/* around the int64 edges */
		puts_(b, rnd(2) ? "-" : "");
		puts_(b, rnd(2) ? "922337203685477580" : "999999999999999999");
		gen_digits(b, (int)rnd(3), 0);
		return;
	case 2:		/* -0 and friends */
		puts_(b, (const char *[]){ "-0", "0", "-0.0", "0e0", "-0E-0", "0.000" }[rnd(6)]);
		return;
	default:
		break;
	}
	if (rnd(3) == 0)
		puts_(b, "-");
	if (rnd(4) == 0)
		puts_(b, "0");
	else
		gen_digits(b, 1 + (int)rnd(rnd(4) ? 6 : 25), 1);
	if (rnd(2)) {
		puts_(b, ".");
		gen_digits(b, 1 + (int)rnd(rnd(4) ? 4 : 30), 0);
	}
	if (rnd(2)) {
		puts_(b, (const char *[]){ "e", "E", "e+", "e-", "E-" }[rnd(5)]);
		snprintf(t, sizeof(t), "%u", rnd(4) ? rnd(30) : rnd(420));
		puts_(b, t);
	}
}

static void gen_value(struct buf *b, int depth)
{
	int n, i, k = (int)rnd(depth > 5 ? 5 : 8);

	gen_ws(b);
	switch (k) {
	case 0: puts_(b, (const char *[]){ "true", "false", "null" }[rnd(3)]); break;
	case 1: case 2: gen_number(b); break;
	case 3: case 4: gen_string(b, 0); break;
	case 5:
		puts_(b, "[");
		n = (int)rnd(6);
		for (i = 0; i < n; i++) {
			if (i)
				puts_(b, ",");
			gen_value(b, depth + 1);
		}
		gen_ws(b);
		puts_(b, "]");
		break;
	default:
		puts_(b, "{");
		n = (int)rnd(7);
		for (i = 0; i < n; i++) {
			if (i)
				puts_(b, ",");
			gen_ws(b);
			gen_string(b, 1);	/* short keys: duplicates happen */
			gen_ws(b);
			puts_(b, ":");
			gen_value(b, depth + 1);
		}
		gen_ws(b);
		puts_(b, "}");
		break;
	}
	gen_ws(b);
}

/* ---- the corpora ------------------------------------------------------ */

static const char *valid[] = {
	"{}", "[]", " { } ", "\t[\n]\r\n", "0", "-0", "-0.0", "0.0", "1", "-1", "1.5",
	"1e308", "-1e308", "1E+308", "1.7976931348623157e308", "1.7976931348623158e308",
	"-1.7976931348623158e308", "1e-400", "-1e-400", "4.9e-324", "2.2250738585072014e-308",
	"9223372036854775807", "-9223372036854775808", "123456789012345678", "1E2", "1e+2",
	"1e-2", "0.1", "100", "12345678901234567890.0", "1e19", "0e999999999999999999999",
	"0.00000000000000000000000000000000000000000000000000000000000000000001e375",
	"1797693134862315807937289714053034150799341327100378269361737789804449682927647509466490179775872070963302864166928879109465555478519404026306574886715058206819089020007083836762738548458177115317644757302700698555713669596228429148198608349364752927190741684443655107043427115596995080930428801779041744977.91e2",
	"true", "false", "null", "\"\"", "\"abc\"",
	"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0041\\u00e9\\u20ac\\u00E9\"",
	"\"\\ud83d\\ude00\"", "\"\\uD834\\uDD1E\"", "\"h\xc3\xa9llo \xe2\x82\xac\xf0\x9d\x84\x9e\"",
	"\"a\\u0000b\"", "\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"",
	"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
	"[1,\"two\",3.0,[4,[5,[6]]],{\"seven\":7}]",
	"{\"a\":1,\"b\":2,\"a\":3}",
	"{\"a\":{\"x\":1,\"y\":[1,2,3]},\"b\":0,\"a\":[1,2]}",
	"{\"a\\u0062\":1,\"ab\":2}",
	"{\"k\":1,\"k\":2,\"k\":3,\"k\":4}",
	"{\"\":0,\"\":\"empty\"}",
	"{\"a\":[{\"a\":1,\"a\":{\"b\":[1,2]}},{\"a\":null}],\"a\":true,\"z\":{\"a\":1}}",
	"  [  1 , 2 ,\t3\n]  ",
	"{\"\xe6\x97\xa5\xe6\x9c\xac\":\"\\u65e5\\u672c\"}",
};

/* A document with a bit of everything, for the figure tests. */
static const char rich[] =
	"{\"a\":[{\"a\":1,\"a\":{\"b\":[1,2]}},{\"a\":null}],\"a\":true,\"z\":{\"a\":1},"
	"\"s\":\"x\\ny\\u00e9\",\"n\":[1.5,-0,1e3,\"\"],\"t\":[true,false,null]}";

struct bad {
	const char *s;
	const char *why;
};

static const struct bad invalid[] = {
	{ "", "empty" }, { "   ", "only whitespace" },
	{ "{", "truncated object" }, { "[1,2", "truncated array" }, { "{\"a\":", "truncated member" },
	{ "\"abc", "truncated string" }, { "tru", "truncated literal" }, { "-", "lone minus" },
	{ "1.", "truncated fraction" }, { "1e", "truncated exponent" }, { "1e+", "truncated exponent sign" },
	{ "\"\\u12", "truncated \\u" }, { "\"\\", "truncated escape" }, { "{\"a\"", "truncated key" },
	{ "1 2", "trailing value" }, { "{} x", "trailing garbage" }, { "[]]", "extra bracket" },
	{ "nullx", "literal with tail" }, { "[1]\0", "trailing NUL byte" },
	{ "[1\0]", "NUL after a number (jansson 2.14 swallows it)" }, { "[true\0]", "NUL after a literal" },
	{ "\"\\x\"", "bad escape \\x" }, { "\"\\u12G4\"", "non-hex \\u" }, { "\"\\U0041\"", "\\U" },
	{ "\"\\'\"", "escaped quote '" },
	{ "\"\\ud800\"", "lone high surrogate" }, { "\"\\udc00\"", "lone low surrogate" },
	{ "\"\\ud800\\u0041\"", "high surrogate then BMP" }, { "\"\\ud800x\"", "high surrogate then text" },
	{ "\"\\ud800\\ud800\"", "two high surrogates" }, { "\"\\ud800\\n\"", "high surrogate then escape" },
	{ "\"\\udfff\\ud800\"", "reversed pair" },
	{ "\"\xff\"", "invalid UTF-8 ff" }, { "\"\xc0\xaf\"", "overlong" }, { "\"\xe0\x80\xaf\"", "overlong 3" },
	{ "\"\xed\xa0\x80\"", "encoded surrogate" }, { "\"\xf4\x90\x80\x80\"", "above U+10FFFF" },
	{ "\"\xe2\x82\"", "cut sequence" }, { "\"\x80\"", "lone continuation" }, { "\"\xf8\x88\x80\x80\x80\"", "5-byte" },
	{ "01", "leading zero" }, { "-01", "negative leading zero" }, { "00", "double zero" }, { "[01]", "leading zero in array" },
	{ "[1,]", "trailing comma array" }, { "{\"a\":1,}", "trailing comma object" }, { "[,]", "lone comma" },
	{ "{,}", "lone comma object" }, { "[1,,2]", "double comma" },
	{ "NaN", "NaN" }, { "Infinity", "Infinity" }, { "-Infinity", "-Infinity" }, { "+1", "plus" },
	{ ".5", "no integer part" }, { "'a'", "single quotes" }, { "{a:1}", "bare key" }, { "{\"a\" 1}", "missing colon" },
	{ "[1 2]", "missing comma" }, { "\"a\tb\"", "raw tab in string" }, { "\"\x01\"", "raw control" },
	{ "/*c*/1", "comment" }, { "\xef\xbb\xbf{}", "BOM" }, { "{\"a\\u0000\":1}", "NUL in key" },
	{ "1e400", "real overflow" }, { "-1e400", "negative real overflow" }, { "1.7976931348623159e308", "just above DBL_MAX" },
	{ "1797693134862315807937289714053034150799341327100378269361737789804449682927647509466490179775872070963302864166928879109465555478519404026306574886715058206819089020007083836762738548458177115317644757302700698555713669596228429148198608349364752927190741684443655107043427115596995080930428801779041744977.92e2", "exactly the overflow midpoint" },
	{ "9223372036854775808", "int64 max + 1" }, { "-9223372036854775809", "int64 min - 1" },
	{ "100000000000000000000", "big integer" }, { "[1] [2]", "two documents" },
	{ "{\"a\":1 \"b\":2}", "members without comma" }, { "[\"a\":1]", "colon in array" },
	{ "{1:2}", "number key" }, { "True", "capitalised literal" }, { "\"\\u00\"", "short \\u" },
};

static char *nest(int n, const char *open, const char *mid, const char *close, size_t *len)
{
	struct buf b = { 0 };

	for (int i = 0; i < n; i++)
		puts_(&b, open);
	puts_(&b, mid);
	for (int i = 0; i < n; i++)
		puts_(&b, close);
	*len = b.n;
	return b.p;
}

static void test_valid(void)
{
	struct both b;
	size_t i, n, bad = 0;
	char *s;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		parse_both(valid[i], strlen(valid[i]), &b);
		if (!ok(b.rt == 0 && b.ra == 0 && agree(&b), "valid, same result: %s", printable(valid[i])))
			show("valid", valid[i], strlen(valid[i]), &b);
		both_release(&b);
	}

	parse_both(rich, sizeof(rich) - 1, &b);
	ok(b.rt == 0 && agree(&b) && b.a.fields == 14, "the rich document: same result, 14 values (a duplicate drops 7)");
	both_release(&b);

	/* the canonical form itself, for a few */
	{
		static const struct { const char *in, *canon; } c[] = {
			{ "{\"b\":1,\"a\":[1.0,-0,-0.0,1e2,\"\\u00e9\\n\"],\"b\":2}",
			  "{\"a\":[1.0,0,-0.0,100.0,\"\xc3\xa9\\u000a\"],\"b\":2}" },
			{ "\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"" },
			{ "1e-400", "0.0" },
		};
		for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			parse_both(c[i].in, strlen(c[i].in), &b);
			is_str(b.ca, c[i].canon, "canonical (arena) of %s", printable(c[i].in));
			is_str(b.ct, c[i].canon, "canonical (tree) of %s", printable(c[i].in));
			both_release(&b);
		}
	}

	/* large arrays */
	{
		struct buf lb = { 0 };
		char t[32];

		puts_(&lb, "[");
		for (i = 0; i < 100000; i++) {
			snprintf(t, sizeof(t), "%s%zu", i ? "," : "", i * 7919);
			puts_(&lb, t);
		}
		puts_(&lb, "]");
		parse_both(lb.p, lb.n, &b);
		ok(b.rt == 0 && agree(&b) && b.a.fields == 100001, "100000-element array agrees");
		both_release(&b);
		lb.n = 0;
		puts_(&lb, "{");
		for (i = 0; i < 5000; i++) {
			snprintf(t, sizeof(t), "%s\"k%zu\":%zu", i ? "," : "", i % 4000, i);
			puts_(&lb, t);
		}
		puts_(&lb, "}");
		parse_both(lb.p, lb.n, &b);
		if (!ok(b.rt == 0 && agree(&b) && b.a.fields == 4001,
			"5000-member object with 1000 duplicates agrees"))
			show("big object", lb.p, lb.n, &b);
		both_release(&b);
		free(lb.p);
	}

	/* deep nesting to the limit (jansson counts every value as a level) */
	s = nest(DESER_MAX_DEPTH, "[", "", "]", &n);
	parse_both(s, n, &b);
	ok(b.rt == 0 && agree(&b), "%d nested empty arrays accepted by both", DESER_MAX_DEPTH);
	both_release(&b);
	free(s);
	s = nest(DESER_MAX_DEPTH - 1, "[", "1", "]", &n);
	parse_both(s, n, &b);
	ok(b.rt == 0 && agree(&b), "a scalar inside %d arrays accepted by both", DESER_MAX_DEPTH - 1);
	both_release(&b);
	free(s);
	s = nest(DESER_MAX_DEPTH - 1, "{\"a\":", "\"deep\"", "}", &n);
	parse_both(s, n, &b);
	ok(b.rt == 0 && agree(&b), "%d nested objects with a string accepted by both", DESER_MAX_DEPTH - 1);
	both_release(&b);
	free(s);

	/* the seeded corpus */
	{
		struct buf g = { 0 };
		int accepted = 0, total = 3000;

		for (int k = 0; k < total; k++) {
			g.n = 0;
			gen_value(&g, 0);
			parse_both(g.p, g.n, &b);
			if (!agree(&b)) {
				if (bad++ < 5)
					show("generated", g.p, g.n, &b);
			}
			accepted += b.rt == 0;
			both_release(&b);
		}
		ok(bad == 0, "seeded corpus: %d documents, tree and arena agree on all", total);
		ok(accepted > total * 8 / 10, "seeded corpus: most are valid (%d of %d)", accepted, total);

		/* mutations: truncations and byte flips, still the same verdicts */
		bad = 0;
		for (int k = 0; k < 3000; k++) {
			g.n = 0;
			gen_value(&g, 0);
			if (rnd(2))
				g.n = rnd((uint32_t)g.n + 1);
			else if (g.n)
				g.p[rnd((uint32_t)g.n)] = (char)rnd(256);
			parse_both(g.p, g.n, &b);
			if (!agree(&b) && bad++ < 5)
				show("mutated", g.p, g.n, &b);
			both_release(&b);
		}
		ok(bad == 0, "seeded mutations: 3000 truncated/flipped documents, same verdicts");
		free(g.p);
	}
}

static void test_invalid(void)
{
	struct both b;
	size_t i, n;
	char *s;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const char *d = invalid[i].s;
		size_t len = strlen(d) + (strstr(invalid[i].why, "NUL") && !strstr(invalid[i].why, "key") ?
				    1 + strlen(d + strlen(d) + 1) : 0);

		parse_both(d, len, &b);
		if (!ok(b.rt == -EBADMSG && b.ra == -EBADMSG && agree(&b),
			"rejected by both (400 + reason): %s", invalid[i].why))
			show("invalid", d, len, &b);
		both_release(&b);
	}
	s = nest(DESER_MAX_DEPTH + 1, "[", "", "]", &n);
	parse_both(s, n, &b);
	ok(b.rt < 0 && b.ra < 0 && agree(&b), "%d nested arrays rejected by both", DESER_MAX_DEPTH + 1);
	is_str(b.a.reason, "too deep", "arena says too deep");
	both_release(&b);
	free(s);
	s = nest(DESER_MAX_DEPTH, "[", "1", "]", &n);
	parse_both(s, n, &b);
	ok(b.rt < 0 && b.ra < 0 && agree(&b), "a scalar inside %d arrays rejected by both", DESER_MAX_DEPTH);
	both_release(&b);
	free(s);
	s = nest(100000, "{\"a\":", "1", "}", &n);
	parse_both(s, n, &b);
	ok(b.rt < 0 && b.ra < 0 && agree(&b), "100000 nested objects rejected by both, no crash");
	both_release(&b);
	free(s);

	/* reasons and offsets of the arena parser */
	{
		static const struct { const char *s; const char *reason; size_t off; } r[] = {
			{ "[1,]", "trailing comma", 3 }, { "01", "leading zero", 0 },
			{ "\"\\x\"", "invalid escape", 1 }, { "\"\\ud800\"", "lone surrogate", 1 },
			{ "\"a\xff\"", "invalid UTF-8", 2 }, { "[1] x", "trailing garbage", 4 },
			{ "{\"a\":", "truncated", 5 }, { "9223372036854775808", "integer out of range", 0 },
		};
		for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
			parse_both(r[i].s, strlen(r[i].s), &b);
			ok(b.a.status == 400 && b.a.reason && !strcmp(b.a.reason, r[i].reason) &&
			   b.a.offset == r[i].off, "arena: %s -> '%s' at %zu (got '%s' at %zu)",
			   printable(r[i].s), r[i].reason, r[i].off, b.a.reason ? b.a.reason : "-", b.a.offset);
			both_release(&b);
		}
	}
}

static char last_diff[256];

static int same_figures(const struct deser_result *x, const struct deser_result *y)
{
	snprintf(last_diff, sizeof(last_diff),
		 "allocs %llu/%llu frees %llu/%llu bytes %llu/%llu peak %llu/%llu heap %llu/%llu %llu/%llu %llu/%llu %llu/%llu",
		 (unsigned long long)x->allocs, (unsigned long long)y->allocs,
		 (unsigned long long)x->frees, (unsigned long long)y->frees,
		 (unsigned long long)x->bytes, (unsigned long long)y->bytes,
		 (unsigned long long)x->peak, (unsigned long long)y->peak,
		 (unsigned long long)x->heap_allocs, (unsigned long long)y->heap_allocs,
		 (unsigned long long)x->heap_frees, (unsigned long long)y->heap_frees,
		 (unsigned long long)x->heap_bytes, (unsigned long long)y->heap_bytes,
		 (unsigned long long)x->heap_peak, (unsigned long long)y->heap_peak);
	return x->allocs == y->allocs && x->frees == y->frees && x->bytes == y->bytes &&
	       x->peak == y->peak && x->heap_allocs == y->heap_allocs &&
	       x->heap_bytes == y->heap_bytes && x->heap_frees == y->heap_frees &&
	       x->heap_peak == y->heap_peak && x->fields == y->fields;
}

static void test_counts(void)
{
	static const char doc[] = "{\"a\":[1,2,\"x\\n\"],\"b\":null}";
	struct deser_result r1, r2;
	struct deser_opts o;
	struct deser *dx;
	struct alloc_counter *c;
	struct alloc_window w;
	struct alloc_stats s;
	const char *g = guarded(doc, sizeof(doc) - 1);
	size_t i;

	/* arena: 8 nodes of 24 bytes (LP64) and one 2-byte unescaped copy */
	ok(deser_parse(da, g, sizeof(doc) - 1, &r1) == 0, "known document parses (arena)");
	is_int(r1.fields, 6, "arena: 6 values");
	is_int(r1.allocs, 9, "arena: 9 allocations (8 nodes + 1 unescaped string)");
	is_int(r1.bytes, 8 * 24 + 2, "arena: 194 bytes");
	is_int(r1.frees, 0, "arena: no frees");
	is_int(r1.heap_allocs, 0, "arena: no heap call");
	ok(r1.peak >= r1.bytes, "arena: peak >= bytes");
	deser_reset(da);
	ok(deser_parse(dt, g, sizeof(doc) - 1, &r2) == 0, "known document parses (tree)");
	is_int(r2.fields, 6, "tree: 6 values");
	ok(r2.allocs > r1.allocs && r2.allocs == r2.heap_allocs, "tree: heap allocations (%llu)",
	   (unsigned long long)r2.allocs);
	deser_reset(dt);

	/* the same input twice (and in a fresh deser) gives the same figures */
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		const char *v = valid[i];
		size_t n = strlen(v);
		int same = 1;

		for (int m = 0; m < 2; m++) {
			struct deser *d = m ? da : dt, *fresh;

			g = guarded(v, n);
			deser_parse(d, g, n, &r1);
			deser_reset(d);
			deser_parse(d, g, n, &r2);
			deser_reset(d);
			same &= same_figures(&r1, &r2);
			if (!same)
				break;
			deser_opts_default(&o);
			o.mode = m ? DESER_ARENA : DESER_TREE;
			deser_new(&fresh, &o);
			deser_parse(fresh, g, n, &r2);
			deser_free(fresh);
			same &= same_figures(&r1, &r2);
		}
		if (!ok(same, "repeatable figures: %s", printable(v)))
			diag("  %s", last_diff);
	}

	/* tree: what the parse allocates, reset frees (counted in the thread's window) */
	alloc_counter_new(&c);
	alloc_counter_bind(c);
	g = guarded(rich, sizeof(rich) - 1);
	alloc_window_open(&w, NULL);
	deser_parse(dt, g, sizeof(rich) - 1, &r1);
	deser_reset(dt);
	alloc_window_close(&w, &s);
	ok(s.allocs == r1.allocs && s.allocs == s.frees && s.live == 0,
	   "tree: the server's window sees the parse's %llu allocs and as many frees",
	   (unsigned long long)s.allocs);
	alloc_counter_bind(NULL);
	alloc_counter_free(c);

	/* deser_finish: the release's frees complete the request's figures */
	for (int m = 0; m < 2; m++) {
		struct deser *d = m ? da : dt;

		g = guarded(rich, sizeof(rich) - 1);
		deser_parse(d, g, sizeof(rich) - 1, &r1);
		deser_finish(d, &r1);
		if (m == 0)
			ok(r1.allocs == r1.frees && r1.heap_allocs == r1.heap_frees && r1.allocs > 0,
			   "tree: parse + finish: %llu allocs, as many frees",
			   (unsigned long long)r1.allocs);
		else
			ok(r1.frees == 0 && r1.heap_frees == 0 && r1.allocs > 0,
			   "arena: parse + finish: no frees (one reset)");
	}

	/* the gate's test-only switch: exactly one more allocation per request */
	for (int m = 0; m < 3; m++) {
		struct deser_result base, extra;
		struct deser *d0;

		deser_opts_default(&o);
		o.mode = (enum deser_mode[]){ DESER_NONE, DESER_TREE, DESER_ARENA }[m];
		deser_new(&d0, &o);
		o.extra_alloc = 1;
		deser_new(&dx, &o);
		g = guarded(doc, sizeof(doc) - 1);
		deser_parse(d0, g, sizeof(doc) - 1, &base);
		deser_parse(dx, g, sizeof(doc) - 1, &extra);
		ok(extra.allocs == base.allocs + 1 && extra.bytes == base.bytes + DESER_EXTRA_ALLOC_BYTES &&
		   extra.fields == base.fields, "extra_alloc (%s): +1 allocation, +%d bytes",
		   deser_mode_name(o.mode), DESER_EXTRA_ALLOC_BYTES);
		deser_free(d0);
		deser_free(dx);
	}
	/* checked before a byte is read, so no 4 GiB buffer is needed */
	ok(deser_parse(da, "[", (size_t)UINT32_MAX + 1, &r1) == -EMSGSIZE && r1.status == 413,
	   "arena: a body of 4 GiB or more is 413");
	deser_reset(da);
	ok(deser_parse(da, NULL, 0, &r1) == -EBADMSG && r1.status == 400, "arena: no body is invalid JSON");
	ok(deser_parse(dt, NULL, 0, &r1) == -EBADMSG && r1.status == 400, "tree: no body is invalid JSON");
	deser_reset(da);
	deser_reset(dt);
	/* none: nothing parsed, nothing allocated */
	deser_opts_default(&o);
	o.mode = DESER_NONE;
	deser_new(&dx, &o);
	ok(deser_parse(dx, "{", 1, &r1) == 0 && r1.fields == 0 && r1.allocs == 0, "none: skips the body");
	ok(deser_canonical(dx, (char **)&g, &i) == -EINVAL, "none: no canonical form");
	deser_free(dx);
}

/* Threads: each with its own counter and deser; jansson's hooks are global. */
struct thr {
	enum deser_mode mode;
	const char *doc;
	size_t len;
	struct deser_result first;
	int same;		/* every parse gave the single-thread figures */
	struct deser_result want;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	struct alloc_counter *c;
	struct deser_opts o;
	struct deser *d;
	struct deser_result r;

	alloc_counter_new(&c);
	alloc_counter_bind(c);
	deser_opts_default(&o);
	o.mode = t->mode;
	deser_new(&d, &o);
	t->same = 1;
	for (int i = 0; i < 300; i++) {
		deser_parse(d, t->doc, t->len, &r);
		deser_reset(d);
		t->same &= same_figures(&r, &t->want);
	}
	deser_free(d);
	alloc_counter_bind(NULL);
	alloc_counter_free(c);
	return NULL;
}

static void test_threads(void)
{
	const char *doc = rich;
	size_t len = sizeof(rich) - 1;
	struct thr t[4];
	pthread_t th[4];
	struct deser_result want[2];

	deser_parse(dt, doc, len, &want[0]);
	deser_reset(dt);
	deser_parse(da, doc, len, &want[1]);
	deser_reset(da);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){ .mode = i % 2 ? DESER_ARENA : DESER_TREE, .doc = doc, .len = len,
				     .want = want[i % 2] };
		pthread_create(&th[i], NULL, thr_main, &t[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok(t[i].same, "thread %d (%s): 300 parses, each with the single-thread figures", i,
		   deser_mode_name(t[i].mode));
	}
}

static void test_modes(void)
{
	enum deser_mode m;

	ok(deser_mode_parse("tree", &m) == 0 && m == DESER_TREE, "mode 'tree'");
	ok(deser_mode_parse("arena", &m) == 0 && m == DESER_ARENA, "mode 'arena'");
	ok(deser_mode_parse("none", &m) == 0 && m == DESER_NONE, "mode 'none'");
	ok(deser_mode_parse("heap", &m) == -EINVAL, "unknown mode refused");
	is_str(deser_mode_name(DESER_ARENA), "arena", "mode name");
}

int main(void)
{
	struct deser_opts o;

	plan_lazy();
	deser_opts_default(&o);
	o.mode = DESER_TREE;
	if (deser_new(&dt, &o) < 0)
		bail_out("deser_new tree");
	o.mode = DESER_ARENA;
	if (deser_new(&da, &o) < 0)
		bail_out("deser_new arena");
	test_modes();
	test_valid();
	test_invalid();
	test_counts();
	test_threads();
	deser_free(dt);
	deser_free(da);
	deser_free(NULL);
	if (guard_map)
		munmap(guard_map, guard_len);
	return exit_status();
}
