/*
 * pktmem-alloc.c: LD_PRELOAD interposer that counts heap calls of a
 * dynamically linked program into pktmem's shared block
 * (pktmem-alloc.h).  Built as build/<variant>/libpktmem-alloc.so by
 * `make preload` (bench/exec.mk), never linked into pktmem.
 *
 * It defines malloc, calloc, realloc, reallocarray, free, posix_memalign,
 * aligned_alloc, memalign, valloc and pvalloc; each counts and forwards to
 * glibc's own entry points (__libc_malloc, ...), which glibc exports for
 * exactly this purpose, so no dlsym() is needed (dlsym itself allocates,
 * which makes the usual RTLD_NEXT bootstrap recursive).  glibc calls
 * malloc through its public symbol internally too (strdup, stdio,
 * getaddrinfo), so those are counted as well.
 *
 * Not seen: statically linked programs (no dynamic loader, LD_PRELOAD is
 * ignored), programs with their own allocator (Go's runtime, Rust with
 * jemalloc/mimalloc, a static tcmalloc), and memory from mmap()/brk()
 * called directly.  pktmem detects the first from the ELF header and the
 * others from a block that saw no call during the replay.
 *
 * Counting costs two relaxed atomic adds per call.  Before the
 * constructor has mapped the block (the loader's own early calls) nothing
 * is counted.
 */
#include "pktmem-alloc.h"

#include <errno.h>
#include <malloc.h>	/* memalign, pvalloc: obsolete, declared only here */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t m, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);
extern void *__libc_valloc(size_t n);
extern void *__libc_pvalloc(size_t n);

/* The one piece of state: where the counts go (NULL: not counting). */
static struct pktmem_alloc_counts *counts;

#define ADD(field, v) __atomic_fetch_add(&counts->field, (v), __ATOMIC_RELAXED)

__attribute__((constructor)) static void pktmem_alloc_init(void)
{
	const char *s = getenv(PKTMEM_ALLOC_ENV_FD);
	struct pktmem_alloc_block *b;
	struct stat stb;
	long fd = 0;

	if (!s || !*s)
		return;
	/* no strtol: keep the constructor free of anything that may allocate */
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || fd > 1000000)
			return;
		fd = fd * 10 + (*s - '0');
	}
	if (fstat((int)fd, &stb) < 0 || (size_t)stb.st_size < sizeof(*b))
		return;
	b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
	if (b == MAP_FAILED)
		return;
	if (b->magic != PKTMEM_ALLOC_MAGIC || b->version != PKTMEM_ALLOC_VERSION) {
		munmap(b, sizeof(*b));
		return;
	}
	__atomic_fetch_add(&b->inits, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&b->last_pid, (int32_t)getpid(), __ATOMIC_RELAXED);
	__atomic_store_n(&counts, &b->c, __ATOMIC_RELEASE);
}

static inline struct pktmem_alloc_counts *on(void)
{
	return __atomic_load_n(&counts, __ATOMIC_ACQUIRE);
}

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);

	if (on()) {
		ADD(malloc_calls, 1);
		ADD(bytes, n);
		if (!p)
			ADD(failed, 1);
	}
	return p;
}

void *calloc(size_t m, size_t n)
{
	void *p = __libc_calloc(m, n);

	if (on()) {
		ADD(calloc_calls, 1);
		ADD(bytes, m * n);
		if (!p)
			ADD(failed, 1);
	}
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p = __libc_realloc(old, n);

	if (on()) {
		ADD(realloc_calls, 1);
		ADD(bytes, n);
		if (!p && n)
			ADD(failed, 1);
	}
	return p;
}

void *reallocarray(void *old, size_t m, size_t n)
{
	size_t total;

	if (__builtin_mul_overflow(m, n, &total)) {
		errno = ENOMEM;
		if (on())
			ADD(failed, 1);
		return NULL;
	}
	return realloc(old, total);
}

void free(void *p)
{
	if (p && on())
		ADD(free_calls, 1);
	__libc_free(p);
}

static void *aligned(size_t align, size_t n)
{
	void *p = __libc_memalign(align, n);

	if (on()) {
		ADD(memalign_calls, 1);
		ADD(bytes, n);
		if (!p)
			ADD(failed, 1);
	}
	return p;
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	/* POSIX: a power of two multiple of sizeof(void *) */
	if (align % sizeof(void *) || (align & (align - 1)) || !align)
		return EINVAL;
	p = aligned(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
	return aligned(align, n);
}

void *memalign(size_t align, size_t n)
{
	return aligned(align, n);
}

void *valloc(size_t n)
{
	void *p = __libc_valloc(n);

	if (on()) {
		ADD(memalign_calls, 1);
		ADD(bytes, n);
	}
	return p;
}

void *pvalloc(size_t n)
{
	void *p = __libc_pvalloc(n);

	if (on()) {
		ADD(memalign_calls, 1);
		ADD(bytes, n);
	}
	return p;
}
