/*
 * stats.c: the server's stage statistics in one shared-memory block.
 *
 * Writers are the server's threads, each in its own section or (none
 * left) in the block's totals with relaxed atomics; readers are other
 * processes mapping the same pages.  A reader sees each field whole, not
 * all of them at one instant, which is all a report needs.
 */
#include "core/stats.h"

#include <errno.h>
#include <stdbool.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
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

/* The writer sections start on the first cache line after conn[]. */
static size_t workers_off(uint32_t conns)
{
	return (stats_block_bytes(conns) + 63) & ~(size_t)63;
}

static size_t map_bytes(uint32_t conns, uint32_t workers)
{
	return workers_off(conns) + (size_t)workers * sizeof(struct stats_worker);
}

static struct stats_worker *workers_of(const struct stats_block *b)
{
	return (struct stats_worker *)((char *)b + workers_off(b->conn_cap));
}

int stats_create(struct stats_block **out, uint32_t conns)
{
	struct stats_block *b;

	*out = NULL;
	if (!conns)
		conns = STATS_DEFAULT_CONNS;
	if (conns > STATS_MAX_CONNS)
		return -EINVAL;
	b = mmap(NULL, map_bytes(conns, STATS_MAX_WORKERS), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return -errno;
	/* zeroed pages: only the header needs setting */
	stats_block_init(b, conns);
	b->worker_cap = STATS_MAX_WORKERS;
	*out = b;
	return 0;
}

void stats_destroy(struct stats_block *b)
{
	if (b)
		munmap(b, map_bytes(b->conn_cap, b->worker_cap));
}

static unsigned bucket_of(uint64_t ns)
{
	unsigned i;

	if (ns < 2)
		return 0;
	i = 63u - (unsigned)__builtin_clzll(ns);
	return i < STATS_HIST_BUCKETS ? i : STATS_HIST_BUCKETS - 1;
}

void stats_atomic_max(uint64_t *p, uint64_t v)
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
	stats_atomic_max(&st->max_ns, ns);
}

void stats_worker_stage_add(struct stats_worker *w, enum stats_stage_id s,
			    uint64_t ns, uint64_t bytes)
{
	struct stats_stage *st;

	if ((unsigned)s >= STATS_STAGE__N)
		return;
	st = &w->stage[s];
	stats_own_add(&st->count, 1);
	if (bytes)
		stats_own_add(&st->bytes, bytes);
	stats_own_add(&st->total_ns, ns);
	stats_own_add(&st->hist[bucket_of(ns)], 1);
	stats_own_max(&st->max_ns, ns);
}

struct stats_worker *stats_worker_claim(struct stats_block *b)
{
	struct stats_worker *ws = workers_of(b);
	uint32_t i, n;

	/* lowest free index first, so the sections in use stay dense and a
	 * reader sums few of them */
	for (i = 0; i < b->worker_cap; i++) {
		uint32_t free_ = 0;

		if (__atomic_load_n(&ws[i].owner, RELAXED) != 0 ||
		    !__atomic_compare_exchange_n(&ws[i].owner, &free_, 1, 0,
						 __ATOMIC_ACQUIRE, RELAXED))
			continue;
		n = __atomic_load_n(&b->nworkers, RELAXED);
		while (n < i + 1 && !__atomic_compare_exchange_n(&b->nworkers, &n, i + 1, 1,
								 __ATOMIC_RELEASE, RELAXED))
			;
		return &ws[i];
	}
	return NULL;
}

void stats_worker_release(struct stats_worker *w)
{
	/* release: the next owner's acquire sees this one's sums */
	if (w)
		__atomic_store_n(&w->owner, 0, __ATOMIC_RELEASE);
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

static void copy_u64s(uint64_t *dst, const uint64_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = __atomic_load_n(&src[i], RELAXED);
}

/* d += x (or the larger of the two, for a peak), x read whole: x may be
 * a live section its thread is still adding to. */
static void sum_one(uint64_t *d, const uint64_t *x, bool is_max)
{
	uint64_t v = __atomic_load_n(x, RELAXED);

	if (!is_max)
		*d += v;
	else if (v > *d)
		*d = v;
}

/* Adds section x to the copy d's totals, field by field (the names
 * match). */
static void sum_section(struct stats_block *d, const struct stats_worker *x)
{
	unsigned i, k;

	sum_one(&d->requests, &x->requests, false);
	sum_one(&d->bytes_read, &x->bytes_read, false);
	for (i = 0; i < 6; i++)
		sum_one(&d->status[i], &x->status[i], false);
	sum_one(&d->counter_enabled_ns, &x->counter_enabled_ns, false);
	sum_one(&d->counter_running_ns, &x->counter_running_ns, false);
	sum_one(&d->alloc.allocs, &x->alloc.allocs, false);
	sum_one(&d->alloc.frees, &x->alloc.frees, false);
	sum_one(&d->alloc.reallocs, &x->alloc.reallocs, false);
	sum_one(&d->alloc.bytes, &x->alloc.bytes, false);
	sum_one(&d->alloc.peak_live_bytes, &x->alloc.peak_live_bytes, true);
	sum_one(&d->alloc.fields, &x->alloc.fields, false);
	sum_one(&d->alloc.minor_faults, &x->alloc.minor_faults, false);
	for (i = 0; i < STATS_STAGE__N; i++) {
		struct stats_stage *ds = &d->stage[i];
		const struct stats_stage *xs = &x->stage[i];

		sum_one(&ds->count, &xs->count, false);
		sum_one(&ds->bytes, &xs->bytes, false);
		sum_one(&ds->total_ns, &xs->total_ns, false);
		sum_one(&ds->max_ns, &xs->max_ns, true);
		for (k = 0; k < STATS_HIST_BUCKETS; k++)
			sum_one(&ds->hist[k], &xs->hist[k], false);
		for (k = 0; k < STATS_MAX_COUNTERS; k++)
			sum_one(&ds->counter[k], &xs->counter[k], false);
	}
}

static uint32_t nworkers_of(const struct stats_block *b)
{
	uint32_t n = __atomic_load_n(&b->nworkers, __ATOMIC_ACQUIRE);

	return n < b->worker_cap ? n : b->worker_cap;
}

/* The header and the totals: the block's own fields plus each section. */
static void snapshot_totals(const struct stats_block *b, struct stats_block *copy)
{
	const struct stats_worker *ws = workers_of(b);
	uint32_t i, n;

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
	memcpy(copy->start_error, b->start_error, sizeof(copy->start_error));
	n = nworkers_of(b);
	for (i = 0; i < n; i++)
		sum_section(copy, &ws[i]);
	/* a copy has no sections of its own */
	copy->worker_cap = copy->nworkers = 0;
}

void stats_snapshot_totals(const struct stats_block *b, struct stats_block *copy)
{
	snapshot_totals(b, copy);
	copy->nconns = copy->conn_cap = 0;
	copy->conns_overflow = __atomic_load_n(&b->conns_overflow, RELAXED);
}

void stats_snapshot(const struct stats_block *b, struct stats_block *copy)
{
	uint32_t n, i;

	snapshot_totals(b, copy);
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

void stats_set_start_error(struct stats_block *b, const char *fmt, ...)
{
	va_list ap;

	if (!b || b->start_error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(b->start_error, sizeof(b->start_error), fmt, ap);
	va_end(ap);
}
