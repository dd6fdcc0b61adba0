/*
 * deser.h: the deserializer stage (`--deser none|tree|arena`).
 *
 * One struct deser per connection or per thread turns a request body
 * (JSON, RFC 8259) into objects and reports what that cost:
 *
 *	tree	jansson (json_loadb) builds a heap tree; its allocation hooks
 *		(json_set_alloc_funcs, process-global: installed once) route
 *		every allocation through the counting allocator (alloc.h), so
 *		the figures are jansson's own malloc/free calls.
 *	arena	pktmem's own strict parser builds the tree in a per-request
 *		arena (arena.h): strings that need no unescaping are slices
 *		into the body (zero-copy), the others are unescaped copies in
 *		the arena; numbers keep their source text.  The figures are the
 *		arena's (objects placed, bytes, peak); chunk mallocs, if any,
 *		show in the heap figures.
 *	none	nothing is parsed.
 *
 * Both parsers accept exactly the same language and build the same logical
 * document (tests/deser-canonical.c prints either as canonical JSON: the
 * tests and the fuzz target compare them):
 *
 *  - RFC 8259 strict: any value at top level, whitespace = SP HT LF CR,
 *    no trailing commas, no leading zeros, no NaN/Infinity, no comments,
 *    no BOM, strings valid UTF-8 (no overlongs, no encoded surrogates),
 *    control characters escaped, \u escapes with surrogate pairs only.
 *  - Limits (RFC 8259 §9 lets a parser set them; these are jansson's):
 *    nesting depth DESER_MAX_DEPTH counting every value (a scalar inside
 *    2047 arrays is the deepest accepted); integers (no fraction, no
 *    exponent) must fit int64; reals must not overflow a double
 *    (strtod's HUGE_VAL; underflow to 0 is fine); "\u0000" is allowed in
 *    string values but not in object keys.
 *  - Duplicate keys: the last value wins, at the position of the first
 *    occurrence (jansson's hashtable_set replaces in place).
 *  - Numbers: an integer is its int64 value ("-0" is 0), a real is the
 *    double strtod gives, so 1 and 1.0 differ and -0.0 is kept.
 *
 * result.fields counts the values in the resulting document (keys are not
 * values; a value replaced by a duplicate key is not counted).
 *
 * The body must stay valid and unchanged until deser_reset() (arena
 * strings point into it).  deser_parse() never reads outside [body, body+len).
 */
#ifndef PKTMEM_CORE_DESER_H
#define PKTMEM_CORE_DESER_H

#include <stddef.h>
#include <stdint.h>

enum deser_mode { DESER_NONE = 0, DESER_TREE, DESER_ARENA };

/* jansson's JSON_PARSER_MAX_DEPTH (src/jansson_private.h): levels, each value one. */
#define DESER_MAX_DEPTH 2048

struct deser_opts {
	enum deser_mode mode;
	size_t arena_chunk;	/* bytes of the arena's first chunk; 0: default */
	/*
	 * Test-only (--test-extra-alloc, the regression tests/t8500-gate.t's
	 * gate must catch): one deliberate extra allocation
	 * of DESER_EXTRA_ALLOC_BYTES per parse (tree/none: on the heap,
	 * arena: in the arena), released by deser_reset().
	 */
	int extra_alloc;
};
#define DESER_EXTRA_ALLOC_BYTES 64

struct deser_result {
	int status;		/* 0 ok, 400 invalid JSON, 413 too large, 500 no memory */
	const char *reason;	/* static: "invalid escape"; NULL when ok */
	size_t offset;		/* bytes into the body where the error was found */
	uint64_t fields;	/* JSON values in the document */
	/* tree and none: heap (counting allocator); arena: the arena's */
	uint64_t allocs;
	uint64_t frees;		/* arena: always 0 (deser_reset frees at once) */
	uint64_t bytes;		/* bytes requested */
	uint64_t peak;		/* bytes: heap: usable bytes above the start; arena: used */
	/* the heap during the parse, every mode (arena: chunks it had to add) */
	uint64_t heap_allocs, heap_frees, heap_bytes, heap_peak;
};

struct deser;

void deser_opts_default(struct deser_opts *o);
int deser_new(struct deser **out, const struct deser_opts *o);
/*
 * Parses one body.  Returns 0 (r->status 0), -EBADMSG for invalid JSON
 * (r->status 400, r->reason, r->offset), -EMSGSIZE for a body of 4 GiB or
 * more in arena mode (413), -ENOMEM (500).  A document still held from the
 * previous call is released first (as deser_reset() would).
 */
int deser_parse(struct deser *d, const char *body, size_t len, struct deser_result *r);
/* Releases the document (frees the tree or resets the arena). */
void deser_reset(struct deser *d);
/*
 * deser_reset(), and adds what the release freed to r (the result of the
 * deser_parse() it ends): tree/none: frees and heap_frees (a tree mode
 * request then shows allocs == frees); arena: heap_frees of added chunks.
 */
void deser_finish(struct deser *d, struct deser_result *r);
void deser_free(struct deser *d);

const char *deser_mode_name(enum deser_mode m);
/* "none", "tree", "arena" -> mode; -EINVAL otherwise. */
int deser_mode_parse(const char *s, enum deser_mode *m);

#endif
