/*
 * stats.c: the server's stage statistics in one shared-memory block.
 *
 * Writers are the server's threads; readers are other processes mapping the
 * same memfd.  Every counter is updated with relaxed atomics: a reader sees
 * each field torn-free, not a snapshot of all of them at one instant, which
 * is all a report needs.
 */
#include "core/stats.h"

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RELAXED __ATOMIC_RELAXED

/* Each stage's short name (serve's table and JSON keys) and what the
 * server's clock is read around, as the report's stage rows say it. */
static const struct { const char *name, *what; } stage_names[STATS_STAGE__N] = {
	[STATS_READ] = { "read", "read()" },
	[STATS_PARSE] = { "parse", "parse" },
	[STATS_DESER] = { "deser", "deserialize" },
	[STATS_HANDLER] = { "handler", "handler" },
	[STATS_WRITE] = { "write", "write()" },
};

size_t stats_block_bytes(uint32_t conns)
{
	return sizeof(struct stats_block) + (size_t)conns * sizeof(struct stats_conn);
}

void stats_block_init(struct stats_block *b, uint32_t conns)
{
	b->magic = STATS_MAGIC;
	b->version = STATS_VERSION;
	b->size = (uint32_t)sizeof(*b);
	b->conn_cap = conns;
}

int stats_create(struct stats_block **out, uint32_t conns)
{
	size_t sz;
	struct stats_block *b;
	int fd, rc = 0;

	*out = NULL;
	if (!conns)
		conns = STATS_DEFAULT_CONNS;
	if (conns > STATS_MAX_CONNS)
		return -EINVAL;
	sz = stats_block_bytes(conns);
	/* A memfd rather than MAP_ANONYMOUS|MAP_SHARED: the same pages can also
	 * be handed to a process that did not fork from us (by fd). */
	fd = memfd_create("pktmem-stats", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)sz) < 0) {
		rc = -errno;
		goto out;
	}
	b = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	/* ftruncate gave zeroed pages; only the header needs setting. */
	stats_block_init(b, conns);
	*out = b;
out:
	close(fd);
	return rc;
}

void stats_destroy(struct stats_block *b)
{
	if (b)
		munmap(b, stats_block_bytes(b->conn_cap));
}

static unsigned bucket_of(uint64_t ns)
{
	unsigned i;

	if (ns < 2)
		return 0;
	i = 63u - (unsigned)__builtin_clzll(ns);
	return i < STATS_HIST_BUCKETS ? i : STATS_HIST_BUCKETS - 1;
}

static void atomic_max(uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, RELAXED);

	while (v > cur && !__atomic_compare_exchange_n(p, &cur, v, 1, RELAXED, RELAXED))
		;
}

void stats_stage_add(struct stats_block *b, enum stats_stage_id s,
		     uint64_t ns, uint64_t bytes)
{
	struct stats_stage *st;

	if (!b || (unsigned)s >= STATS_STAGE__N)
		return;
	st = &b->stage[s];
	__atomic_fetch_add(&st->count, 1, RELAXED);
	if (bytes)
		__atomic_fetch_add(&st->bytes, bytes, RELAXED);
	__atomic_fetch_add(&st->total_ns, ns, RELAXED);
	__atomic_fetch_add(&st->hist[bucket_of(ns)], 1, RELAXED);
	atomic_max(&st->max_ns, ns);
}

uint64_t stats_percentile(const struct stats_stage *st, double pct)
{
	uint64_t n = 0, want, seen = 0, lo, hi;
	unsigned i;

	for (i = 0; i < STATS_HIST_BUCKETS; i++)
		n += st->hist[i];
	if (!n)
		return 0;
	if (pct < 0)
		pct = 0;
	if (pct >= 100)
		return st->max_ns;	/* exact, no bucket needed */
	/* the rank of the pct-th value, 1-based, rounded up */
	want = (uint64_t)((pct / 100.0) * (double)n + 0.999999);
	if (want < 1)
		want = 1;
	for (i = 0; i < STATS_HIST_BUCKETS; i++) {
		seen += st->hist[i];
		if (seen >= want)
			break;
	}
	if (i == STATS_HIST_BUCKETS)
		i = STATS_HIST_BUCKETS - 1;
	lo = i ? 1ULL << i : 0;
	hi = (i + 1 < 64) ? (1ULL << (i + 1)) - 1 : UINT64_MAX;
	/* The midpoint can exceed the largest value seen: clamp to max_ns. */
	{
		uint64_t mid = lo + (hi - lo) / 2;

		if (st->max_ns && mid > st->max_ns)
			mid = st->max_ns;
		return mid;
	}
}

static int addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

struct stats_conn *stats_conn_open(struct stats_block *b, int family,
				   const void *addr, uint16_t port)
{
	uint32_t idx = __atomic_load_n(&b->nconns, RELAXED);
	struct stats_conn *c;

	/* Claim the next slot; the count never passes conn_cap so a reader
	 * can always trust it as a bound. */
	do {
		if (idx >= b->conn_cap) {
			__atomic_fetch_add(&b->conns_overflow, 1, RELAXED);
			return NULL;
		}
	} while (!__atomic_compare_exchange_n(&b->nconns, &idx, idx + 1, 1,
					      RELAXED, RELAXED));
	c = &b->conn[idx];
	c->family = (uint8_t)family;
	c->port = port;
	memset(c->addr, 0, sizeof(c->addr));
	memcpy(c->addr, addr, (size_t)addr_len(family));
	/* publish: a reader that sees state 1 sees the key too */
	__atomic_store_n(&c->state, 1, __ATOMIC_RELEASE);
	return c;
}

const struct stats_conn *stats_conn_find(const struct stats_block *b, int family,
					 const void *addr, uint16_t port)
{
	uint32_t n = __atomic_load_n(&b->nconns, __ATOMIC_ACQUIRE);
	size_t alen = (size_t)addr_len(family);

	if (n > b->conn_cap)
		n = b->conn_cap;
	while (n-- > 0) {
		const struct stats_conn *c = &b->conn[n];

		if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == 0)
			continue;
		if (c->family == family && c->port == port &&
		    memcmp(c->addr, addr, alen) == 0)
			return c;
	}
	return NULL;
}

static void copy_u64s(uint64_t *dst, const uint64_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = __atomic_load_n(&src[i], RELAXED);
}

void stats_snapshot(const struct stats_block *b, struct stats_block *copy)
{
	uint32_t n, i;

	/* The header and the scalar fields first, the big table after. */
	memcpy(copy, b, offsetof(struct stats_block, connections));
	copy->ready = b->ready;
	copy->port = b->port;
	copy->connections = __atomic_load_n(&b->connections, RELAXED);
	copy->connections_refused = __atomic_load_n(&b->connections_refused, RELAXED);
	copy->requests = __atomic_load_n(&b->requests, RELAXED);
	copy->bytes_read = __atomic_load_n(&b->bytes_read, RELAXED);
	copy_u64s(copy->status, b->status, 6);
	for (i = 0; i < STATS_STAGE__N; i++)
		copy_u64s((uint64_t *)&copy->stage[i], (const uint64_t *)&b->stage[i],
			  sizeof(struct stats_stage) / sizeof(uint64_t));
	copy_u64s((uint64_t *)&copy->alloc, (const uint64_t *)&b->alloc,
		  sizeof(struct stats_alloc) / sizeof(uint64_t));
	copy->ncounters = b->ncounters;
	memcpy(copy->counter_name, b->counter_name, sizeof(copy->counter_name));
	memcpy(copy->counter_error, b->counter_error, sizeof(copy->counter_error));
	copy->counter_enabled_ns = __atomic_load_n(&b->counter_enabled_ns, RELAXED);
	copy->counter_running_ns = __atomic_load_n(&b->counter_running_ns, RELAXED);
	copy->counter_how = __atomic_load_n(&b->counter_how, RELAXED);
	n = __atomic_load_n(&b->nconns, __ATOMIC_ACQUIRE);
	if (n > b->conn_cap)
		n = b->conn_cap;
	copy->nconns = n;
	copy->conn_cap = b->conn_cap;
	copy->conns_overflow = __atomic_load_n(&b->conns_overflow, RELAXED);
	for (i = 0; i < n; i++) {
		const struct stats_conn *s = &b->conn[i];
		struct stats_conn *d = &copy->conn[i];

		d->state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		d->family = s->family;
		d->port = s->port;
		memcpy(d->addr, s->addr, sizeof(d->addr));
		d->bytes_read = __atomic_load_n(&s->bytes_read, RELAXED);
		d->requests = __atomic_load_n(&s->requests, RELAXED);
		d->responses = __atomic_load_n(&s->responses, RELAXED);
		d->rejected = __atomic_load_n(&s->rejected, RELAXED);
		d->last_status = __atomic_load_n(&s->last_status, RELAXED);
	}
	memset(&copy->conn[n], 0, (size_t)(b->conn_cap - n) * sizeof(copy->conn[0]));
}

const char *stats_stage_name(enum stats_stage_id s)
{
	return (unsigned)s < STATS_STAGE__N ? stage_names[s].name : "?";
}

const char *stats_stage_what(enum stats_stage_id s)
{
	return (unsigned)s < STATS_STAGE__N ? stage_names[s].what : "?";
}

void stats_merge(struct stats_block *sum, const struct stats_block *b)
{
	unsigned i, k;

	sum->connections += b->connections;
	sum->connections_refused += b->connections_refused;
	sum->requests += b->requests;
	sum->bytes_read += b->bytes_read;
	for (i = 0; i < 6; i++)
		sum->status[i] += b->status[i];
	for (i = 0; i < STATS_STAGE__N; i++) {
		struct stats_stage *d = &sum->stage[i];
		const struct stats_stage *x = &b->stage[i];

		d->count += x->count;
		d->bytes += x->bytes;
		d->total_ns += x->total_ns;
		if (x->max_ns > d->max_ns)
			d->max_ns = x->max_ns;
		for (k = 0; k < STATS_HIST_BUCKETS; k++)
			d->hist[k] += x->hist[k];
		for (k = 0; k < STATS_MAX_COUNTERS; k++)
			d->counter[k] += x->counter[k];
	}
	sum->counter_enabled_ns += b->counter_enabled_ns;
	sum->counter_running_ns += b->counter_running_ns;
	/* enum selfmon_how: 1 read(), 2 rdpmc; the lower names the sum */
	if (b->counter_how && (!sum->counter_how || b->counter_how < sum->counter_how))
		sum->counter_how = b->counter_how;
	sum->alloc.allocs += b->alloc.allocs;
	sum->alloc.frees += b->alloc.frees;
	sum->alloc.reallocs += b->alloc.reallocs;
	sum->alloc.bytes += b->alloc.bytes;
	sum->alloc.fields += b->alloc.fields;
	sum->alloc.minor_faults += b->alloc.minor_faults;
	if (b->alloc.peak_live_bytes > sum->alloc.peak_live_bytes)
		sum->alloc.peak_live_bytes = b->alloc.peak_live_bytes;
}
