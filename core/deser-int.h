/*
 * deser-int.h: the arena parser's document and entry point, shared by
 * the stage (deser.c), the parser (deser_arena.c) and code that walks what
 * deser_parse() built (tests/deser-canonical.c, which proves both parsers
 * build the same document).  Not part of the stage's interface (deser.h).
 *
 * Nodes are 24 bytes, allocated in document order; a container points at
 * its first child and children are chained through `next` (in an object:
 * key, value, key, value ...).  Numbers keep their source text.
 */
#ifndef PKTMEM_CORE_DESER_INT_H
#define PKTMEM_CORE_DESER_INT_H

#include <jansson.h>
#include <stdint.h>

#include "core/deser.h"

enum jv_type { JV_NULL, JV_FALSE, JV_TRUE, JV_INT, JV_REAL, JV_STR, JV_ARR, JV_OBJ };

struct jv {
	uint8_t type;		/* enum jv_type */
	uint8_t copied;		/* string: an unescaped copy in the arena */
	uint32_t len;		/* string/number: bytes; array: elements; object: members */
	union {
		const char *s;	/* string/number bytes (number: its source text) */
		struct jv *kid;	/* container: first child */
	} u;
	struct jv *next;	/* next sibling */
};

/* An open container while parsing: deser.c owns DESER_MAX_DEPTH of them. */
struct jv_frame {
	struct jv *c;		/* the open container */
	struct jv *last;	/* its last child so far */
};

struct arena;

/*
 * The arena parser (deser_arena.c): parses body into nodes from a, the
 * document's root in *root.  0, or as deser_parse(): -EBADMSG (r->status
 * 400, reason, offset) or -ENOMEM (500); *root is NULL then.  Fills only
 * r's status, reason, offset and fields.
 */
int deser_arena_parse(struct arena *a, struct jv_frame *stack, const char *body, size_t len,
		      struct jv **root, struct deser_result *r);

/* The document held since the last deser_parse(): the jansson tree in
 * tree mode, the root node in arena mode, NULL for the other (both NULL
 * when nothing is held, or with DESER_NONE).  Valid until deser_reset(). */
void deser_document(const struct deser *d, const json_t **tree, const struct jv **root);

#endif
