/* alloc.c: the counting allocator (see alloc.h for what is counted and why). */
#include "core/alloc.h"

#include <errno.h>
#include <stdlib.h>

/* One live block: its pointer and requested size (p == 0: empty slot). */
struct live_slot {
	uintptr_t p;
	size_t n;
};

struct alloc_counter {
	struct alloc_stats t;	/* totals; t.peak is the all-time max of live */
	int64_t win_peak;	/* max live since the innermost window opened */
	/* live blocks: linear probing, power-of-two capacity, no tombstones */
	struct live_slot *tab;
	size_t cap, used;
};

/*
 * The calling thread's current counter.  The one piece of mutable global
 * state in this module: see alloc.h ("Why a thread-local pointer").
 */
static __thread struct alloc_counter *alloc_cur;

#define LIVE_MIN_CAP 256

static inline size_t live_hash(const struct alloc_counter *c, uintptr_t p)
{
	/* malloc pointers are 16-byte aligned: drop those bits, then mix */
	return (size_t)(((uint64_t)(p >> 4) * 0x9E3779B97F4A7C15ULL) >> 32) & (c->cap - 1);
}

static int live_grow(struct alloc_counter *c)
{
	size_t cap = c->cap ? c->cap * 2 : LIVE_MIN_CAP, i, j;
	struct live_slot *old = c->tab, *tab = calloc(cap, sizeof(*tab));
	size_t ocap = c->cap;

	if (!tab)
		return -ENOMEM;
	c->tab = tab;
	c->cap = cap;
	for (i = 0; i < ocap; i++) {
		if (!old[i].p)
			continue;
		for (j = live_hash(c, old[i].p); tab[j].p; j = (j + 1) & (cap - 1))
			;
		tab[j] = old[i];
	}
	free(old);
	return 0;
}

/* The slot holding p, or the empty slot where it would go. */
static inline size_t live_find(const struct alloc_counter *c, uintptr_t p)
{
	size_t i;

	for (i = live_hash(c, p); c->tab[i].p && c->tab[i].p != p; i = (i + 1) & (c->cap - 1))
		;
	return i;
}

/* Records p of n bytes; returns the size of a stale entry it replaced (else 0). */
static size_t live_put(struct alloc_counter *c, uintptr_t p, size_t n)
{
	size_t i, stale = 0;

	if ((c->used + 1) * 4 > c->cap * 3 && live_grow(c) < 0)
		return 0;	/* untracked: its free will not change live */
	i = live_find(c, p);
	if (c->tab[i].p)
		stale = c->tab[i].n;	/* freed while another counter was bound */
	else
		c->used++;
	c->tab[i].p = p;
	c->tab[i].n = n;
	return stale;
}

/* Forgets p; returns its size, or -1 when it is not tracked here. */
static int64_t live_take(struct alloc_counter *c, uintptr_t p)
{
	size_t i, j, k, mask = c->cap - 1;
	size_t n;

	if (!c->cap)
		return -1;
	i = live_find(c, p);
	if (!c->tab[i].p)
		return -1;
	n = c->tab[i].n;
	/* backward-shift deletion keeps every probe chain unbroken */
	for (j = i;;) {
		c->tab[i].p = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!c->tab[j].p)
				goto done;
			k = live_hash(c, c->tab[j].p);
			/* move j to i unless its home k lies cyclically in (i, j] */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		c->tab[i] = c->tab[j];
		i = j;
	}
done:
	c->used--;
	return (int64_t)n;
}

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
	free(c->tab);
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

static inline void live_add(struct alloc_counter *c, int64_t delta)
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

static inline void counted_alloc(struct alloc_counter *c, void *p, size_t n)
{
	c->t.allocs++;
	c->t.bytes += n;
	live_add(c, (int64_t)n - (int64_t)live_put(c, (uintptr_t)p, n));
}

void *alloc_malloc(size_t n)
{
	struct alloc_counter *c = alloc_cur;
	void *p = malloc(n);

	if (p && c)
		counted_alloc(c, p, n);
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
	if (p && c)
		counted_alloc(c, p, n);
	return p;
}

void alloc_free(void *p)
{
	struct alloc_counter *c = alloc_cur;

	if (!p)
		return;
	if (c) {
		int64_t n = live_take(c, (uintptr_t)p);

		c->t.frees++;
		if (n >= 0)
			live_add(c, -n);
	}
	free(p);
}

/*
 * The old pointer's value is used after realloc() only as the side
 * table's key, never dereferenced; GCC 12's -Wuse-after-free cannot tell.
 */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif
void *alloc_realloc(void *p, size_t n)
{
	struct alloc_counter *c = alloc_cur;
	void *q;

	if (!p)
		return alloc_malloc(n);
	if (n == 0) {
		alloc_free(p);
		return NULL;
	}
	q = realloc(p, n);
	if (q && c) {
		int64_t old = live_take(c, (uintptr_t)p);

		c->t.reallocs++;
		c->t.bytes += n;
		live_add(c, (int64_t)n - (old > 0 ? old : 0) - (int64_t)live_put(c, (uintptr_t)q, n));
	}
	return q;
}
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif
