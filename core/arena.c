/* arena.c: the per-request bump arena (see arena.h). */
#include "core/arena.h"

#include <errno.h>
#include <stdlib.h>

#include "core/alloc.h"

struct chunk {
	struct chunk *next;
	size_t size;		/* bytes of data[] */
	_Alignas(ARENA_ALIGN) char data[];
};

struct arena {
	struct chunk *first;	/* kept across resets */
	struct chunk *cur;	/* last chunk of the list */
	char *pos, *end;	/* free space in cur */
	struct arena_stats req;	/* since the last reset */
	struct arena_stats tot;	/* since arena_new (peak: max of req.peak) */
};

static struct chunk *chunk_new(size_t size)
{
	struct chunk *ch = alloc_malloc(sizeof(*ch) + size);

	if (!ch)
		return NULL;
	ch->next = NULL;
	ch->size = size;
	return ch;
}

int arena_new(struct arena **out, size_t first_chunk)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	if (!first_chunk)
		first_chunk = ARENA_DEFAULT_CHUNK;
	a->first = chunk_new(first_chunk);
	if (!a->first) {
		free(a);
		return -ENOMEM;
	}
	a->cur = a->first;
	a->pos = a->first->data;
	a->end = a->first->data + first_chunk;
	a->tot.chunks = 1;
	a->tot.chunk_bytes = sizeof(struct chunk) + first_chunk;
	*out = a;
	return 0;
}

/* Slow path: the current chunk cannot hold n more bytes. */
static void *arena_grow(struct arena *a, size_t n)
{
	size_t size = a->cur->size;
	struct chunk *ch;

	size = size < ARENA_MAX_GROW / 2 ? size * 2 : ARENA_MAX_GROW;
	if (size < n)
		size = n;
	ch = chunk_new(size);
	if (!ch)
		return NULL;
	a->cur->next = ch;
	a->cur = ch;
	a->pos = ch->data;
	a->end = ch->data + size;
	a->req.chunks++;
	a->req.chunk_bytes += sizeof(*ch) + size;
	a->tot.chunks++;
	a->tot.chunk_bytes += sizeof(*ch) + size;
	return ch->data;
}

static inline void *arena_take(struct arena *a, size_t n, size_t pad)
{
	char *p;

	if (pad > (size_t)(a->end - a->pos) || n > (size_t)(a->end - a->pos) - pad) {
		/* A fresh chunk's data is aligned: no padding there. */
		p = arena_grow(a, n);
		if (!p)
			return NULL;
		pad = 0;
	} else {
		p = a->pos + pad;
	}
	a->pos = p + n;
	a->req.allocs++;
	a->req.bytes += n;
	a->req.used += n + pad;
	return p;
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t pad = (size_t)-(uintptr_t)a->pos & (ARENA_ALIGN - 1);

	return arena_take(a, n, pad);
}

void *arena_alloc_bytes(struct arena *a, size_t n)
{
	return arena_take(a, n, 0);
}

static void arena_fold(struct arena *a)
{
	a->req.peak = a->req.used;
	a->tot.allocs += a->req.allocs;
	a->tot.bytes += a->req.bytes;
	a->tot.used += a->req.used;
	if (a->req.peak > a->tot.peak)
		a->tot.peak = a->req.peak;
}

void arena_reset(struct arena *a)
{
	struct chunk *ch, *next;

	arena_fold(a);
	for (ch = a->first->next; ch; ch = next) {
		next = ch->next;
		alloc_free(ch);
	}
	a->first->next = NULL;
	a->cur = a->first;
	a->pos = a->first->data;
	a->end = a->first->data + a->first->size;
	a->req = (struct arena_stats){ 0 };
}

void arena_stats(const struct arena *a, struct arena_stats *req, struct arena_stats *total)
{
	if (req) {
		*req = a->req;
		req->peak = a->req.used;
	}
	if (total) {
		*total = a->tot;
		/* include the request in progress */
		total->allocs += a->req.allocs;
		total->bytes += a->req.bytes;
		total->used += a->req.used;
		if (a->req.used > total->peak)
			total->peak = a->req.used;
	}
}

void arena_free(struct arena *a)
{
	struct chunk *ch, *next;

	if (!a)
		return;
	for (ch = a->first; ch; ch = next) {
		next = ch->next;
		alloc_free(ch);
	}
	free(a);
}
