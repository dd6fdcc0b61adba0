/*
 * alloc.h: the counting allocator behind the `alloc` stage.
 *
 * Modelled on redis's zmalloc used-memory accounting: every allocation made
 * through alloc_malloc()/alloc_calloc()/alloc_realloc()/alloc_free() is
 * counted into the calling thread's current struct alloc_counter (if one is
 * bound; otherwise it is a plain malloc and nothing is counted).  Counted:
 *
 *	allocs, frees, reallocs	calls (calloc counts as an alloc; realloc(NULL, n)
 *				as an alloc, realloc(p, 0) as a free)
 *	bytes			bytes requested (the n the caller asked for)
 *	live, peak		requested bytes of the blocks allocated under this
 *				counter and not yet freed, and their maximum
 *
 * Pointers are plain malloc(3) pointers (no hidden header, unlike zmalloc
 * without HAVE_MALLOC_SIZE): jansson's hooks are process-global, so a
 * string from json_dumps() may meet a plain free(), and an object from
 * before the hooks were set may meet alloc_free(); both are fine here.
 * Live bytes are exact and allocator-independent because each counter
 * keeps the requested size of its live blocks in a side table (open
 * addressing, keyed by pointer; its own memory is not counted).  zmalloc
 * counts malloc_usable_size() instead; that is not repeatable (glibc hands
 * out a larger chunk when the remainder is too small to split, so the same
 * request can be 16 bytes bigger next time), and the gate compares these
 * figures exactly.  A block freed while no counter (or another thread's)
 * is bound counts as a free but leaves this counter's live bytes alone;
 * a block allocated unbound and freed here counts as a free only.
 *
 * Why a thread-local pointer (the one piece of mutable global state here):
 * jansson's json_set_alloc_funcs() hooks take no context argument, so the
 * only way to charge each server thread's allocations to that thread's
 * request is a per-thread "current counter" (alloc_counter_bind()).  It is a
 * pointer only; the counters themselves belong to whoever created them.
 *
 * Windows: alloc_window_open()/close() bracket a request (or a part of one)
 * and give the deltas plus the peak of live bytes inside the window,
 * relative to the live bytes at its start.  Windows nest (LIFO): the server
 * opens one per request, the deserializer one per parse inside it.
 *
 * A counter is used by one thread at a time (bind it in one thread only).
 */
#ifndef PKTMEM_CORE_ALLOC_H
#define PKTMEM_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

struct alloc_stats {
	uint64_t allocs;	/* malloc/calloc calls (and realloc(NULL, n)) */
	uint64_t frees;		/* free of non-NULL (and realloc(p, 0)) */
	uint64_t reallocs;	/* realloc(p, n) with p and n non-zero */
	uint64_t bytes;		/* bytes requested by allocs and reallocs */
	int64_t live;		/* requested bytes in use (window: change over it) */
	uint64_t peak;		/* max of live (window: above its start) */
};

struct alloc_counter;

int alloc_counter_new(struct alloc_counter **out);
void alloc_counter_free(struct alloc_counter *c);
/* Makes c the calling thread's current counter (NULL: none); returns the previous one. */
struct alloc_counter *alloc_counter_bind(struct alloc_counter *c);
struct alloc_counter *alloc_counter_current(void);
/* Totals since alloc_counter_new() (peak: the all-time max of live). */
void alloc_counter_totals(const struct alloc_counter *c, struct alloc_stats *out);

/* A measurement window; caller-owned, filled by open. */
struct alloc_window {
	struct alloc_counter *c;
	struct alloc_stats start;
	int64_t saved_win_peak;
};

/* c NULL: the calling thread's current counter (no counter: all zero). */
void alloc_window_open(struct alloc_window *w, struct alloc_counter *c);
/* Deltas since open; peak = max live inside the window minus live at open. */
void alloc_window_close(struct alloc_window *w, struct alloc_stats *out);

/* The hooks: same contracts as malloc(3) and friends. */
void *alloc_malloc(size_t n);
void *alloc_calloc(size_t nmemb, size_t size);
void *alloc_realloc(void *p, size_t n);
void alloc_free(void *p);

#endif
