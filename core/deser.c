/*
 * deser.c: the deserializer stage (see deser.h for the contract): the
 * modes, the jansson tree parser, and the allocation figures around each
 * parse.  The arena parser is core/deser_arena.c.
 */
#include "core/deser-int.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"

struct deser {
	struct deser_opts o;
	struct alloc_counter *own;	/* charged when the thread has no counter bound */
	struct arena *arena;		/* arena mode */
	struct jv_frame *stack;		/* arena mode: DESER_MAX_DEPTH frames */
	json_t *tree;			/* tree mode: the document */
	struct jv *root;		/* arena mode: the document */
	void *extra;			/* extra_alloc on the heap */
	bool held;			/* something to release in deser_reset() */
};

/*
 * jansson's hooks are process-global: set once (this once-flag is the
 * module's only global), the first time a tree deser is made.  Any time
 * is safe: alloc_malloc() returns plain malloc pointers and alloc_free()
 * takes any, so objects from before or strings freed with free() are fine
 * (see alloc.h).  Threads without a bound counter are not counted.
 */
static pthread_once_t deser_hooks_once = PTHREAD_ONCE_INIT;

static void deser_install_hooks(void)
{
	json_set_alloc_funcs(alloc_malloc, alloc_free);
}

void deser_opts_default(struct deser_opts *o)
{
	*o = (struct deser_opts){ .mode = DESER_ARENA };
}

int deser_new(struct deser **out, const struct deser_opts *o)
{
	struct deser *d;
	int ret;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (o)
		d->o = *o;
	else
		deser_opts_default(&d->o);
	ret = alloc_counter_new(&d->own);
	if (ret < 0)
		goto fail;
	if (d->o.mode == DESER_ARENA) {
		ret = arena_new(&d->arena, d->o.arena_chunk);
		if (ret < 0)
			goto fail;
		ret = -ENOMEM;
		d->stack = calloc(DESER_MAX_DEPTH, sizeof(*d->stack));
		if (!d->stack)
			goto fail;
	}
	if (d->o.mode == DESER_TREE)
		pthread_once(&deser_hooks_once, deser_install_hooks);
	*out = d;
	return 0;
fail:
	deser_free(d);
	return ret;
}

void deser_free(struct deser *d)
{
	if (!d)
		return;
	deser_reset(d);
	free(d->stack);
	arena_free(d->arena);
	alloc_counter_free(d->own);
	free(d);
}

const char *deser_mode_name(enum deser_mode m)
{
	switch (m) {
	case DESER_NONE: return "none";
	case DESER_TREE: return "tree";
	case DESER_ARENA: return "arena";
	}
	return "?";
}

int deser_mode_parse(const char *s, enum deser_mode *m)
{
	if (!strcmp(s, "none"))
		*m = DESER_NONE;
	else if (!strcmp(s, "tree"))
		*m = DESER_TREE;
	else if (!strcmp(s, "arena"))
		*m = DESER_ARENA;
	else
		return -EINVAL;
	return 0;
}

/* ---- the tree parser (jansson) ------------------------------------- */

static uint64_t tree_count(const json_t *v)
{
	uint64_t n = 1;
	size_t i;

	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			n += tree_count(json_array_get(v, i));
	} else if (json_is_object(v)) {
		void *it;

		for (it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it))
			n += tree_count(json_object_iter_value(it));
	}
	return n;
}

static const char *tree_reason(enum json_error_code c)
{
	switch (c) {
	case json_error_stack_overflow: return "too deep";
	case json_error_invalid_utf8: return "invalid UTF-8";
	case json_error_premature_end_of_input: return "truncated";
	case json_error_end_of_input_expected: return "trailing garbage";
	case json_error_null_character: return "NUL character";
	case json_error_null_byte_in_key: return "NUL in object key";
	case json_error_numeric_overflow: return "number out of range";
	case json_error_invalid_syntax: return "invalid syntax";
	default: return "invalid JSON";
	}
}

static int tree_parse(struct deser *d, const char *body, size_t len, struct deser_result *r)
{
	json_error_t err;
	const char *nul;

	/*
	 * A raw NUL byte is never valid JSON (not whitespace, not allowed
	 * unescaped in a string), but jansson 2.14 swallows one that follows
	 * a number or a literal: stream_unget() leaves buffer[0] == 0, which
	 * stream_get() takes for "buffer empty" and reads on ("[1\0]" is
	 * accepted).  Found by the tree/arena differential; checked here.
	 */
	nul = memchr(body, '\0', len);
	if (nul) {
		r->status = 400;
		r->reason = "NUL character";
		r->offset = (size_t)(nul - body);
		return -EBADMSG;
	}
	/* RFC 8259: any value at top level; "\u0000" is a valid string */
	d->tree = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!d->tree) {
		enum json_error_code c = json_error_code(&err);

		r->offset = err.position > 0 ? (size_t)err.position : 0;
		if (c == json_error_out_of_memory) {
			r->status = 500;
			r->reason = "out of memory";
			return -ENOMEM;
		}
		r->status = 400;
		r->reason = tree_reason(c);
		return -EBADMSG;
	}
	r->fields = tree_count(d->tree);
	return 0;
}

/* ---- parse / reset ---------------------------------------------------- */

int deser_parse(struct deser *d, const char *body, size_t len, struct deser_result *r)
{
	struct alloc_counter *prev = NULL;
	struct alloc_window w;
	struct alloc_stats hs;
	bool bound = false;
	int ret = 0;

	if (d->held)
		deser_reset(d);
	memset(r, 0, sizeof(*r));
	if (!body) {		/* no body: an empty one (invalid JSON) */
		body = "";
		len = 0;
	}
	if (!alloc_counter_current()) {
		prev = alloc_counter_bind(d->own);
		bound = true;
	}
	alloc_window_open(&w, NULL);
	d->held = true;
	switch (d->o.mode) {
	case DESER_NONE:
		break;
	case DESER_TREE:
		ret = tree_parse(d, body, len, r);
		break;
	case DESER_ARENA:
		if (len > UINT32_MAX) {
			r->status = 413;
			r->reason = "body too large";
			ret = -EMSGSIZE;
			break;
		}
		ret = deser_arena_parse(d->arena, d->stack, body, len, &d->root, r);
		break;
	}
	if (d->o.extra_alloc) {
		void *x;

		if (d->o.mode == DESER_ARENA)
			x = arena_alloc(d->arena, DESER_EXTRA_ALLOC_BYTES);
		else
			x = d->extra = alloc_malloc(DESER_EXTRA_ALLOC_BYTES);
		if (!x && ret == 0) {
			r->status = 500;
			r->reason = "out of memory";
			ret = -ENOMEM;
		}
	}
	alloc_window_close(&w, &hs);
	if (bound)
		alloc_counter_bind(prev);
	r->heap_allocs = hs.allocs;
	r->heap_frees = hs.frees;
	r->heap_bytes = hs.bytes;
	r->heap_peak = hs.peak;
	if (d->o.mode == DESER_ARENA) {
		struct arena_stats as;

		arena_stats(d->arena, &as, NULL);
		r->allocs = as.allocs;
		r->bytes = as.bytes;
		r->peak = as.used;
	} else {
		r->allocs = hs.allocs;
		r->frees = hs.frees;
		r->bytes = hs.bytes;
		r->peak = hs.peak;
	}
	return ret;
}

void deser_finish(struct deser *d, struct deser_result *r)
{
	struct alloc_counter *prev = NULL;
	struct alloc_window w;
	struct alloc_stats s;
	bool bound = false;

	if (!alloc_counter_current()) {
		prev = alloc_counter_bind(d->own);
		bound = true;
	}
	alloc_window_open(&w, NULL);
	deser_reset(d);
	alloc_window_close(&w, &s);
	if (bound)
		alloc_counter_bind(prev);
	r->heap_frees += s.frees;
	if (d->o.mode != DESER_ARENA)
		r->frees += s.frees;
}

void deser_reset(struct deser *d)
{
	struct alloc_counter *prev = NULL;
	bool bound = false;

	if (!d->held)
		return;
	if (!alloc_counter_current()) {
		prev = alloc_counter_bind(d->own);
		bound = true;
	}
	if (d->tree) {
		json_decref(d->tree);
		d->tree = NULL;
	}
	alloc_free(d->extra);
	d->extra = NULL;
	if (d->arena)
		arena_reset(d->arena);
	d->root = NULL;
	d->held = false;
	if (bound)
		alloc_counter_bind(prev);
}

void deser_document(const struct deser *d, const json_t **tree, const struct jv **root)
{
	*tree = d->o.mode == DESER_TREE ? d->tree : NULL;
	*root = d->o.mode == DESER_ARENA ? d->root : NULL;
}
