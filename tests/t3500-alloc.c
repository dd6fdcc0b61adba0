/* t3500-alloc: the counting allocator and the arena count exactly. */
#include <pthread.h>
#include <stdint.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "tests/tap.h"

static void *other_thread(void *arg)
{
	struct alloc_counter *c = arg;
	void *p;

	alloc_counter_bind(c);
	p = alloc_malloc(1000);
	alloc_free(p);
	p = alloc_malloc(24);
	alloc_free(p);
	return NULL;
}

static void test_counter(void)
{
	struct alloc_counter *c, *c2;
	struct alloc_window w, inner;
	struct alloc_stats s, si, t;
	void *a, *b, *d, *e, *f, *u;
	pthread_t th;

	ok(alloc_counter_new(&c) == 0, "counter created");
	ok(alloc_counter_current() == NULL, "no counter bound at start");
	/* unbound: nothing counted, still a working malloc */
	u = alloc_malloc(10);
	ok(u != NULL, "unbound alloc_malloc works");

	ok(alloc_counter_bind(c) == NULL, "bind returns the previous (none)");
	alloc_window_open(&w, NULL);
	a = alloc_malloc(10);
	b = alloc_malloc(100);
	d = alloc_malloc(1000);
	alloc_free(b);
	e = alloc_malloc(50);
	alloc_window_close(&w, &s);
	is_int(s.allocs, 4, "window: 4 allocations");
	is_int(s.frees, 1, "window: 1 free");
	is_int(s.reallocs, 0, "window: no realloc yet");
	is_int(s.bytes, 10 + 100 + 1000 + 50, "window: bytes requested exact");
	is_int(s.live, 10 + 1000 + 50, "window: live = requested bytes of live blocks");
	is_int(s.peak, 10 + 100 + 1000, "window: peak is the high-water mark");

	/* realloc, calloc, realloc(NULL), realloc(p, 0); nested window */
	alloc_window_open(&w, NULL);
	a = alloc_realloc(a, 2000);
	alloc_window_open(&inner, NULL);
	f = alloc_calloc(3, 7);
	ok(f && ((char *)f)[20] == 0, "calloc zeroes");
	alloc_free(f);
	alloc_window_close(&inner, &si);
	ok(alloc_calloc(SIZE_MAX / 2, 4) == NULL, "calloc overflow refused");
	f = alloc_realloc(NULL, 5);
	ok(alloc_realloc(f, 0) == NULL, "realloc(p, 0) frees");
	alloc_window_close(&w, &s);
	is_int(si.allocs, 1, "inner window: calloc is one alloc");
	is_int(si.bytes, 21, "inner window: calloc bytes = nmemb*size");
	is_int(si.frees, 1, "inner window: one free");
	is_int(si.live, 0, "inner window: nothing left live");
	is_int(si.peak, 21, "inner window: peak relative to its start");
	is_int(s.reallocs, 1, "outer window: realloc counted");
	is_int(s.allocs, 2, "outer window: calloc + realloc(NULL)");
	is_int(s.frees, 2, "outer window: free + realloc(p, 0)");
	is_int(s.bytes, 2000 + 21 + 5, "outer window: bytes include realloc's new size");
	is_int(s.live, 2000 - 10, "outer window: live delta of the realloc");
	is_int(s.peak, 2000 - 10 + 21, "outer window: peak includes the inner window's");

	/* a block from before the counter was bound: a free, no live change */
	alloc_window_open(&w, NULL);
	alloc_free(u);
	alloc_window_close(&w, &s);
	ok(s.frees == 1 && s.live == 0, "unbound block freed: counted as a free, live unchanged");

	/* many blocks (the side table grows), freed in a scrambled order */
	{
		enum { N = 5000 };
		static void *blk[N];
		int64_t want = 0, peak = 0;
		int i, ok_live = 1;

		alloc_window_open(&w, NULL);
		for (i = 0; i < N; i++) {
			blk[i] = alloc_malloc((size_t)(i % 97) + 1);
			want += i % 97 + 1;
		}
		peak = want;
		for (i = 0; i < N; i++) {
			int k = (int)(((unsigned)i * 2654435761u) % N);

			if (blk[k]) {
				alloc_free(blk[k]);
				want -= k % 97 + 1;
				blk[k] = NULL;
			}
			if (i % 500 == 0) {
				struct alloc_stats mid;

				alloc_counter_totals(c, &mid);
				ok_live &= mid.live - (int64_t)(10 + 1000 + 50 + 2000 - 10) == want;
			}
		}
		for (i = 0; i < N; i++)
			if (blk[i]) {
				alloc_free(blk[i]);
				want -= i % 97 + 1;
			}
		alloc_window_close(&w, &s);
		ok(ok_live, "5000 blocks: live exact at every checkpoint");
		is_int(s.live, 0, "5000 blocks: all freed, live back to the start");
		is_int(s.peak, peak, "5000 blocks: peak exact");
		is_int(s.allocs, N, "5000 blocks: allocs");
		is_int(s.frees, N, "5000 blocks: frees");
	}

	/* another thread with its own counter is not charged here */
	alloc_counter_totals(c, &t);
	ok(alloc_counter_new(&c2) == 0, "second counter");
	pthread_create(&th, NULL, other_thread, c2);
	pthread_join(th, NULL);
	{
		struct alloc_stats t2, t3;

		alloc_counter_totals(c, &t3);
		alloc_counter_totals(c2, &t2);
		ok(t3.allocs == t.allocs && t3.bytes == t.bytes, "thread: main counter untouched");
		is_int(t2.allocs, 2, "thread: its counter has its 2 allocations");
		is_int(t2.bytes, 1024, "thread: and their bytes");
		is_int(t2.live, 0, "thread: all freed");
		is_int(t2.peak, 1000, "thread: peak");
	}
	alloc_free(a);
	alloc_free(d);
	alloc_free(e);
	alloc_counter_totals(c, &t);
	is_int(t.live, 0, "totals: everything freed, live 0");
	is_int(t.peak, 10 + 1000 + 50 + 2000 - 10 + 5000 / 97 * (97 * 98 / 2) +
	       (5000 % 97) * ((5000 % 97) + 1) / 2, "totals: all-time peak");
	ok(alloc_counter_bind(NULL) == c, "unbind returns the counter");
	alloc_counter_free(c2);
	alloc_counter_free(c);
	alloc_counter_free(NULL);
}

static void test_arena(void)
{
	struct alloc_counter *c;
	struct alloc_window w;
	struct alloc_stats s;
	struct arena_stats rq, tot;
	struct arena *a;
	char *p, *q;
	int i, aligned = 1;

	alloc_counter_new(&c);
	alloc_counter_bind(c);
	alloc_window_open(&w, NULL);
	ok(arena_new(&a, 256) == 0, "arena created");
	alloc_window_close(&w, &s);
	is_int(s.allocs, 1, "arena_new: one chunk from the counting allocator");

	alloc_window_open(&w, NULL);
	p = arena_alloc_bytes(a, 3);
	for (i = 0; i < 5; i++) {
		q = arena_alloc(a, 10);
		aligned &= ((uintptr_t)q % ARENA_ALIGN) == 0;
	}
	ok(aligned, "arena_alloc aligns to %d", ARENA_ALIGN);
	ok(p != NULL, "arena_alloc_bytes");
	arena_stats(a, &rq, NULL);
	is_int(rq.allocs, 6, "request: 6 allocations");
	is_int(rq.bytes, 53, "request: 53 bytes requested");
	is_int(rq.used, 3 + 5 + 10 + 4 * 16, "request: used includes padding (3, pad 5, 10, 4 x (6+10))");
	is_int(rq.peak, rq.used, "request: peak == used");
	alloc_window_close(&w, &s);
	is_int(s.allocs, 0, "fits in the first chunk: no heap call");

	/* overflow the first chunk: a doubled chunk, then one of exactly the request */
	alloc_window_open(&w, NULL);
	q = arena_alloc(a, 300);
	ok(q != NULL, "a request bigger than the chunk");
	memset(q, 1, 300);
	q = arena_alloc(a, 5000);
	ok(q != NULL, "and a bigger one");
	memset(q, 2, 5000);
	arena_stats(a, &rq, NULL);
	is_int(rq.chunks, 2, "two chunks added");
	alloc_window_close(&w, &s);
	is_int(s.allocs, 2, "heap: two chunk mallocs counted");

	alloc_window_open(&w, NULL);
	arena_reset(a);
	alloc_window_close(&w, &s);
	is_int(s.frees, 2, "reset frees the added chunks, keeps the first");
	arena_stats(a, &rq, &tot);
	is_int(rq.allocs, 0, "reset: request figures start again");
	is_int(tot.allocs, 8, "totals: 8 allocations over both requests");
	is_int(tot.bytes, 53 + 300 + 5000, "totals: bytes");
	is_int(tot.chunks, 3, "totals: 3 chunks ever");
	alloc_window_open(&w, NULL);
	for (i = 0; i < 10; i++)
		arena_alloc(a, 16);
	alloc_window_close(&w, &s);
	is_int(s.allocs, 0, "next request in the first chunk: no heap call");
	alloc_window_open(&w, NULL);
	arena_free(a);
	alloc_window_close(&w, &s);
	is_int(s.frees, 1, "arena_free frees the first chunk");
	arena_free(NULL);
	alloc_counter_bind(NULL);
	alloc_counter_free(c);
}

int main(void)
{
	plan_lazy();
	test_counter();
	test_arena();
	return exit_status();
}
