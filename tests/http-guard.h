/*
 * http-guard.h: place test input so that it ends right before a PROT_NONE
 * page (picohttpparser's test trick): a parser reading one byte too far
 * faults at once instead of reading stale memory.  Used by t3000-t3499.
 */
#ifndef PKTMEM_TESTS_HTTP_GUARD_H
#define PKTMEM_TESTS_HTTP_GUARD_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard {
	char *map;	/* data pages followed by one PROT_NONE page */
	size_t data;	/* bytes before the guard page */
};

static inline void guard_release(struct guard *g)
{
	if (g->map)
		munmap(g->map, g->data + (size_t)sysconf(_SC_PAGESIZE));
	g->map = NULL;
	g->data = 0;
}

/* Copy len bytes so the last one sits just before the guard page. */
static inline char *guard_place(struct guard *g, const void *src, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (len > g->data || g->map == NULL) {
		size_t want = (len + pg - 1) / pg * pg;

		if (want == 0)
			want = pg;
		guard_release(g);
		g->map = mmap(NULL, want + pg, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (g->map == MAP_FAILED) {
			g->map = NULL;
			abort();
		}
		if (mprotect(g->map + want, pg, PROT_NONE) != 0)
			abort();
		g->data = want;
	}
	if (len)
		memcpy(g->map + g->data - len, src, len);
	return g->map + g->data - len;
}

#endif
