/* alloc.c: the counting allocator (see alloc.h for what is counted and why). */
#include "core/alloc.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

struct alloc_counter {
	struct alloc_stats t;	/* totals; t.peak is the all-time max of live */
	int64_t win_peak;	/* max live since the innermost window opened */
};

/*
 * The calling thread's current counter.  The one piece of mutable global
 * state in this module: see alloc.h ("Why a thread-local pointer").
 */
static __thread struct alloc_counter *alloc_cur;

int alloc_counter_new(struct alloc_counter **out)
{
	struct alloc_counter *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*out = c;
	return 0;
}

void alloc_counter_free(struct alloc_counter *c)
{
	if (!c)
		return;
	if (alloc_cur == c)
		alloc_cur = NULL;
	free(c);
}

struct alloc_counter *alloc_counter_bind(struct alloc_counter *c)
{
	struct alloc_counter *prev = alloc_cur;

	alloc_cur = c;
	return prev;
}

struct alloc_counter *alloc_counter_current(void)
{
	return alloc_cur;
}

void alloc_counter_totals(const struct alloc_counter *c, struct alloc_stats *out)
{
	*out = c->t;
}

static inline void grow_live(struct alloc_counter *c, int64_t delta)
{
	c->t.live += delta;
	if (c->t.live > c->win_peak)
		c->win_peak = c->t.live;
	if (c->t.live > 0 && (uint64_t)c->t.live > c->t.peak)
		c->t.peak = (uint64_t)c->t.live;
}

void alloc_window_open(struct alloc_window *w, struct alloc_counter *c)
{
	w->c = c ? c : alloc_cur;
	if (!w->c) {
		w->start = (struct alloc_stats){ 0 };
		w->saved_win_peak = 0;
		return;
	}
	w->start = w->c->t;
	w->saved_win_peak = w->c->win_peak;
	w->c->win_peak = w->c->t.live;
}

void alloc_window_close(struct alloc_window *w, struct alloc_stats *out)
{
	struct alloc_counter *c = w->c;

	if (!c) {
		*out = (struct alloc_stats){ 0 };
		return;
	}
	out->allocs = c->t.allocs - w->start.allocs;
	out->frees = c->t.frees - w->start.frees;
	out->reallocs = c->t.reallocs - w->start.reallocs;
	out->bytes = c->t.bytes - w->start.bytes;
	out->live = c->t.live - w->start.live;
	out->peak = (uint64_t)(c->win_peak - w->start.live);
	/* LIFO nesting: the enclosing window's peak includes this one's. */
	if (w->saved_win_peak > c->win_peak)
		c->win_peak = w->saved_win_peak;
	w->c = NULL;
}

void *alloc_malloc(size_t n)
{
	struct alloc_counter *c = alloc_cur;
	void *p = malloc(n);

	if (p && c) {
		c->t.allocs++;
		c->t.bytes += n;
		grow_live(c, (int64_t)malloc_usable_size(p));
	}
	return p;
}

void *alloc_calloc(size_t nmemb, size_t size)
{
	struct alloc_counter *c = alloc_cur;
	size_t n;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	p = calloc(1, n);
	if (p && c) {
		c->t.allocs++;
		c->t.bytes += n;
		grow_live(c, (int64_t)malloc_usable_size(p));
	}
	return p;
}

void alloc_free(void *p)
{
	struct alloc_counter *c = alloc_cur;

	if (!p)
		return;
	if (c) {
		c->t.frees++;
		grow_live(c, -(int64_t)malloc_usable_size(p));
	}
	free(p);
}

void *alloc_realloc(void *p, size_t n)
{
	struct alloc_counter *c = alloc_cur;
	size_t old;
	void *q;

	if (!p)
		return alloc_malloc(n);
	if (n == 0) {
		alloc_free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	q = realloc(p, n);
	if (q && c) {
		c->t.reallocs++;
		c->t.bytes += n;
		grow_live(c, (int64_t)malloc_usable_size(q) - (int64_t)old);
	}
	return q;
}
