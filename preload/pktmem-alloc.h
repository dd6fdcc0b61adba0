/*
 * pktmem-alloc.h: the shared-memory block the LD_PRELOAD allocation
 * counter (preload/pktmem-alloc.c, built as libpktmem-alloc.so)
 * adds to, and pktmem (replay/target.c) reads.
 *
 * pktmem creates the block (a memfd of sizeof(struct pktmem_alloc_block),
 * zeroed, magic set) before starting the user's command and passes its fd
 * number in the environment (PKTMEM_ALLOC_FD).  Every process that loads
 * the interposer maps it in a constructor and bumps `inits`; processes it
 * forks (nginx's workers) share the same mapping, so the counts are the
 * sum over the whole process tree.  Counters are relaxed atomics.
 *
 * Ownership: pktmem owns the memfd; the interposer only maps it.
 */
#ifndef PKTMEM_PROFILE_PRELOAD_ALLOC_H
#define PKTMEM_PROFILE_PRELOAD_ALLOC_H

#include <stdint.h>

#define PKTMEM_ALLOC_MAGIC 0x706b746d616c6c63ULL	/* "pktmallc" */
#define PKTMEM_ALLOC_VERSION 1
#define PKTMEM_ALLOC_ENV_FD "PKTMEM_ALLOC_FD"

struct pktmem_alloc_counts {
	uint64_t malloc_calls;
	uint64_t calloc_calls;
	uint64_t realloc_calls;		/* realloc and reallocarray */
	uint64_t memalign_calls;	/* posix_memalign, aligned_alloc, memalign, valloc, pvalloc */
	uint64_t free_calls;		/* free() of a non-NULL pointer */
	uint64_t bytes;			/* bytes requested by every allocating call */
	uint64_t failed;		/* allocating calls that returned NULL / an error */
};

struct pktmem_alloc_block {
	uint64_t magic;
	uint32_t version;
	uint32_t size;			/* sizeof(struct pktmem_alloc_block) */
	uint64_t inits;			/* processes whose interposer mapped the block */
	int32_t last_pid;		/* the last of them */
	int32_t pad;
	struct pktmem_alloc_counts c;
};

#endif
