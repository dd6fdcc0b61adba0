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
	struct arena_bump b;	/* first: arena.h's inline fast path casts to it */
	struct chunk *first;	/* kept across resets */
	struct chunk *cur;	/* last chunk of the list */
	struct arena_stats req;	/* since the last reset: chunks, chunk_bytes */
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
	a->b.pos = a->first->data;
	a->b.end = a->first->data + first_chunk;
	a->tot.chunks = 1;
	a->tot.chunk_bytes = sizeof(struct chunk) + first_chunk;
	*out = a;
	return 0;
}

/* The current chunk cannot hold n more bytes: a new one (its data is aligned, no padding). */
void *arena_alloc_slow(struct arena *a, size_t n)
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
	a->b.pos = ch->data + n;
	a->b.end = ch->data + size;
	a->b.allocs++;
	a->b.bytes += n;
	a->b.used += n;
	a->req.chunks++;
	a->req.chunk_bytes += sizeof(*ch) + size;
	a->tot.chunks++;
	a->tot.chunk_bytes += sizeof(*ch) + size;
	return ch->data;
}

/* The request's figures: the bump counters plus the chunk counts. */
static struct arena_stats arena_req(const struct arena *a)
{
	struct arena_stats r = a->req;

	r.allocs = a->b.allocs;
	r.bytes = a->b.bytes;
	r.used = a->b.used;
	r.peak = a->b.used;
	return r;
}

static void arena_fold(struct arena *a)
{
	struct arena_stats r = arena_req(a);

	a->tot.allocs += r.allocs;
	a->tot.bytes += r.bytes;
	a->tot.used += r.used;
	if (r.peak > a->tot.peak)
		a->tot.peak = r.peak;
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
	a->b.pos = a->first->data;
	a->b.end = a->first->data + a->first->size;
	a->b.allocs = a->b.bytes = a->b.used = 0;
	a->req = (struct arena_stats){ 0 };
}

void arena_stats(const struct arena *a, struct arena_stats *req, struct arena_stats *total)
{
	struct arena_stats r = arena_req(a);

	if (req)
		*req = r;
	if (total) {
		*total = a->tot;
		/* include the request in progress */
		total->allocs += r.allocs;
		total->bytes += r.bytes;
		total->used += r.used;
		if (r.used > total->peak)
			total->peak = r.used;
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
