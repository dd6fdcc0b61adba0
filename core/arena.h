/*
 * arena.h: a per-request bump arena.
 *
 * Memory comes in chunks from the counting allocator (alloc.h), so chunk
 * mallocs show up in the thread's heap figures; objects are carved from the
 * current chunk by bumping a pointer and are never freed one by one:
 * arena_reset() releases everything at once between requests, keeping the
 * first chunk so a steady stream of requests that fit in it costs no heap
 * call at all.  A chunk that fills up is followed by one twice its size
 * (capped at ARENA_MAX_GROW bytes, or exactly the request if larger).
 *
 * The arena reports the same figures as the counting allocator, for the
 * request since the last reset and in total: allocations (arena_alloc
 * calls), bytes requested, bytes used (including alignment padding) and
 * peak used.  Nothing is freed before a reset, so a request's peak is its
 * final use; "frees" would always be 0 and is not reported.
 *
 * The arena owns its chunks; pointers it returns are valid until the next
 * arena_reset() or arena_free().  One thread at a time.
 */
#ifndef PKTMEM_CORE_ARENA_H
#define PKTMEM_CORE_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define ARENA_DEFAULT_CHUNK	(64 * 1024)	/* bytes: holds a 16 KB body's tree */
#define ARENA_MAX_GROW		(4u << 20)	/* bytes: cap on chunk doubling */
#define ARENA_ALIGN		8		/* bytes: arena_alloc() alignment */

struct arena_stats {
	uint64_t allocs;	/* arena_alloc/arena_alloc_bytes calls */
	uint64_t bytes;		/* bytes requested */
	uint64_t used;		/* bytes consumed, alignment padding included */
	uint64_t peak;		/* max used (per request: == used) */
	uint64_t chunks;	/* chunks malloc'd (first chunk: at arena_new) */
	uint64_t chunk_bytes;	/* bytes of those chunks, headers included */
};

struct arena;

/*
 * The bump pointer and the request's counters: the first member of struct
 * arena, public only so that the fast path below inlines (a call per
 * object was 10% of the arena parser's time).  Callers must not touch it.
 */
struct arena_bump {
	char *pos, *end;	/* free space in the current chunk */
	uint64_t allocs, bytes, used;	/* request so far (arena_stats: allocs, bytes, used) */
};

/* first_chunk: bytes (0: ARENA_DEFAULT_CHUNK). */
int arena_new(struct arena **out, size_t first_chunk);
/* Slow path of arena_alloc*(): a new chunk. */
void *arena_alloc_slow(struct arena *a, size_t n);

static inline void *arena_take_(struct arena *a, size_t n, size_t pad)
{
	struct arena_bump *b = (struct arena_bump *)(void *)a;
	size_t room = (size_t)(b->end - b->pos);
	char *p;

	if (pad > room || n > room - pad)
		return arena_alloc_slow(a, n);
	p = b->pos + pad;
	b->pos = p + n;
	b->allocs++;
	b->bytes += n;
	b->used += n + pad;
	return p;
}

/* n bytes aligned to ARENA_ALIGN; NULL when the heap says no. */
static inline void *arena_alloc(struct arena *a, size_t n)
{
	const struct arena_bump *b = (const struct arena_bump *)(const void *)a;

	return arena_take_(a, n, (size_t)-(uintptr_t)b->pos & (ARENA_ALIGN - 1));
}

/* n bytes, no alignment (strings). */
static inline void *arena_alloc_bytes(struct arena *a, size_t n)
{
	return arena_take_(a, n, 0);
}
/* Releases every object; keeps the first chunk.  Starts a new request. */
void arena_reset(struct arena *a);
/* Figures for the request since the last reset and/or in total (either may be NULL). */
void arena_stats(const struct arena *a, struct arena_stats *req, struct arena_stats *total);
void arena_free(struct arena *a);

#endif
