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
 *	live, peak		bytes in use, as malloc_usable_size() reports them,
 *				exactly as zmalloc does with HAVE_MALLOC_SIZE
 *
 * Why usable sizes for live/peak and no size header: jansson's allocation
 * hooks are process-global, so an object allocated with plain malloc (before
 * the hooks were installed, or by another module) may be freed through
 * alloc_free().  Asking malloc for the size works for any heap pointer; a
 * hidden header would crash on such a pointer.  Requested bytes are exact
 * and allocator-independent (the figure the gate compares); live and peak
 * depend on the malloc implementation (glibc rounds up, ASan does not) but
 * are deterministic for a given build.
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
 * A counter is used by one thread at a time; a pointer freed by another
 * thread is charged to that thread's counter (its live may go negative).
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
	int64_t live;		/* usable bytes in use (window: change over it) */
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
