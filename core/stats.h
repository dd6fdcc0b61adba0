/*
 * stats.h: the core server's stage statistics, in shared memory.
 *
 * One struct stats_block per server, mapped MAP_SHARED before fork() so
 * the server child (in its own network namespace) and the parent that
 * reads it share the pages without a file on disk.
 *
 * Who writes what.  Each writer thread of the server (an I/O loop's
 * thread; with --io blocking, each connection's thread) claims one
 * struct stats_worker section after the connection table and adds its
 * figures there with plain stores: no cache line is shared between
 * writers, and no atomic read-modify-write sits inside the stages being
 * timed.  A thread that finds every section taken adds to the block's own
 * totals (requests ... counter_running_ns) with relaxed atomics instead.
 * The connection counts and the connection table are the block's own.
 *
 * Who reads what.  While the server runs, the totals are the block's own
 * fields plus every section, and so they stay after the server stopped
 * (a section keeps its sums when its thread gives it back, and a killed
 * server never had a chance to move them anywhere): read them with
 * stats_snapshot() or stats_snapshot_totals(), which return a copy of the
 * usual layout with the sections summed in.  The block's own total fields
 * alone are only part of the figures.
 *
 * Stages are the server's half of a request's path: the read syscalls
 * (copy), parse, deserialize (alloc), handler and write.  Times are
 * CLOCK_MONOTONIC ns; histograms are log2 buckets of ns (bucket i holds
 * [2^i, 2^(i+1)) ns, bucket 0 also holds 0).
 */
#ifndef PKTMEM_CORE_STATS_H
#define PKTMEM_CORE_STATS_H

#include <stdint.h>
#include <sys/types.h>

#define STATS_MAGIC 0x706b746d73746174ULL	/* "pktmstat" */
#define STATS_VERSION 6
#define STATS_HIST_BUCKETS 48
#define STATS_MAX_COUNTERS 8
#define STATS_COUNTER_NAME 48
/* Connection slots: `pktmem serve` keeps the default; the replay engine
 * sizes its blocks for every connection it will make (flows x loops), up
 * to the most any block may hold (56 B a slot: 896 MiB, touched lazily). */
#define STATS_DEFAULT_CONNS 65536
#define STATS_MAX_CONNS (1u << 24)
/* Writer sections: one per I/O loop thread, or per connection thread with
 * --io blocking (a connection's thread gives its section back when it
 * ends, so this bounds the connections served at once, not in total).
 * Beyond it, writers share the block's own totals (atomics).  2.5 KiB
 * each, touched only when claimed. */
#define STATS_MAX_WORKERS 256

enum stats_stage_id {
	STATS_READ = 0,		/* read()/recv() syscalls: the copy to user */
	STATS_PARSE,		/* framing + HTTP head parse */
	STATS_DESER,		/* deserialize body into heap objects */
	STATS_HANDLER,		/* build the response */
	STATS_WRITE,		/* write()/send() of the response */
	STATS_STAGE__N
};

struct stats_stage {
	uint64_t count;			/* calls (read: syscalls; parse: requests) */
	uint64_t bytes;			/* read: bytes returned; write: bytes sent */
	uint64_t total_ns;
	uint64_t max_ns;
	uint64_t hist[STATS_HIST_BUCKETS];
	/* deltas of the perf counter group handed to the server, summed;
	 * names in stats_block.counter_name[] */
	uint64_t counter[STATS_MAX_COUNTERS];
};

struct stats_conn {
	uint8_t state;			/* 0 free, 1 open, 2 closed */
	uint8_t family;			/* AF_INET / AF_INET6 */
	uint16_t port;			/* peer port, host order */
	uint8_t addr[16];		/* peer address */
	uint64_t bytes_read;
	uint64_t requests;		/* complete requests parsed */
	uint64_t responses;		/* responses written */
	uint64_t rejected;		/* 4xx/5xx sent (then closed) */
	uint16_t last_status;
} __attribute__((aligned(64)));	/* one cache line each, starting on one: with
				 * --io blocking each slot is written by its
				 * own connection's thread, and a slot that
				 * straddled two lines shared both with its
				 * neighbours */

struct stats_alloc {
	uint64_t allocs, frees, reallocs;
	uint64_t bytes;			/* bytes requested */
	uint64_t peak_live_bytes;	/* max over requests of the per-request peak */
	uint64_t fields;		/* JSON values deserialized */
	uint64_t minor_faults;
};

struct stats_block {
	uint64_t magic;
	uint32_t version;
	uint32_t size;			/* sizeof(struct stats_block): the header,
					 * without conn[] */
	pid_t server_pid;
	volatile uint32_t ready;	/* 1 once listening */
	uint16_t port;			/* bound port, host order */

	uint64_t connections;		/* accepted */
	uint64_t connections_refused;	/* over max connections */
	uint64_t requests;
	uint64_t bytes_read;
	uint64_t status[6];		/* responses by class: [2] 2xx ... [5] 5xx */

	struct stats_stage stage[STATS_STAGE__N];
	struct stats_alloc alloc;

	uint32_t ncounters;
	char counter_name[STATS_MAX_COUNTERS][STATS_COUNTER_NAME];
	int32_t counter_error[STATS_MAX_COUNTERS];	/* -errno from perf_event_open, 0 ok */
	/* the group's time enabled and time running over the stage
	 * intervals, summed (selfmon.h): running < enabled means
	 * multiplexed (the counters are scaled), running == 0 with
	 * enabled > 0 that it never got the PMU (nothing measured) */
	uint64_t counter_enabled_ns, counter_running_ns;
	uint32_t counter_how;		/* enum selfmon_how; 0: no group */

	/* Why the server child failed, one line naming the step ("bind
	 * 127.0.0.1:80: Permission denied", "io_uring_queue_init: ..."),
	 * written by the child before it returns the error (its exit status
	 * alone cannot say which step failed); "" while all is well.
	 * stats_set_start_error() writes it. */
	char start_error[128];
	/* 1 once the server's run returned and its child's last words are
	 * written (the engine sets it before the child exits): the figures
	 * are complete.  0 after the engine had to kill the child: whatever
	 * the block holds is partial, and what only the end writes (the
	 * child's page faults) was never measured. */
	uint32_t finished;

	/* writer sections (struct stats_worker) after conn[]: how many were
	 * mapped (0 in a copy, or a block from stats_block_init() alone),
	 * and the highest index claimed + 1 */
	uint32_t worker_cap;
	uint32_t nworkers;

	uint32_t nconns;		/* slots used (monotonic, <= conn_cap) */
	uint32_t conns_overflow;	/* connections not tracked: table full */
	uint32_t conn_cap;		/* slots in conn[] */
	struct stats_conn conn[];
};

/*
 * One writer thread's share of the totals: the same fields as the block's
 * own, added to by the one thread that claimed it (stats_own_add()).  A
 * section a thread gives back keeps its sums; the next thread to claim it
 * adds to them.
 */
struct stats_worker {
	uint32_t owner;			/* 0 free, 1 claimed */
	uint64_t requests;
	uint64_t bytes_read;
	uint64_t status[6];
	uint64_t counter_enabled_ns, counter_running_ns;
	struct stats_alloc alloc;
	struct stats_stage stage[STATS_STAGE__N];
} __attribute__((aligned(64)));	/* a cache line of its own */

/* Bytes of a block with conns connection slots, without writer sections:
 * the size of a copy for stats_snapshot(). */
size_t stats_block_bytes(uint32_t conns);
/* Sets the header of a zeroed block of stats_block_bytes(conns) bytes
 * (no writer sections: every writer adds to the block's totals). */
void stats_block_init(struct stats_block *b, uint32_t conns);
/* Maps a new zeroed block (MAP_SHARED | MAP_ANONYMOUS: it survives fork()
 * and untouched slots cost nothing) with conns connection slots (0:
 * STATS_DEFAULT_CONNS; at most STATS_MAX_CONNS, else -EINVAL) and
 * STATS_MAX_WORKERS writer sections.  -errno from mmap otherwise. */
int stats_create(struct stats_block **out, uint32_t conns);
/* Unmaps a block from stats_create(); NULL is fine. */
void stats_destroy(struct stats_block *b);

/* Adds one timed event to a stage of the block's own totals (atomically). */
void stats_stage_add(struct stats_block *b, enum stats_stage_id s,
		     uint64_t ns, uint64_t bytes);
/* The same for a section, by the thread that claimed it. */
void stats_worker_stage_add(struct stats_worker *w, enum stats_stage_id s,
			    uint64_t ns, uint64_t bytes);
/* A free writer section, now the caller's; NULL when none is left. */
struct stats_worker *stats_worker_claim(struct stats_block *b);
/* Gives a section back (its sums stay); NULL is fine. */
void stats_worker_release(struct stats_worker *w);

/* A field of a section or of a connection slot, by its one writer: a
 * plain load and store, each whole (a reader in another process loads it
 * with __atomic_load_n), no locked instruction. */
static inline void stats_own_add(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static inline void stats_own_max(uint64_t *p, uint64_t v)
{
	if (v > __atomic_load_n(p, __ATOMIC_RELAXED))
		__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* *p = max(*p, v), for a field several threads write. */
void stats_atomic_max(uint64_t *p, uint64_t v);
/* Percentile (0..100) of a stage's histogram, in ns: the midpoint of the
 * bucket holding it, never above max_ns; 100 is max_ns itself. */
uint64_t stats_percentile(const struct stats_stage *st, double pct);
/* Claims a connection slot for a peer; NULL when the table is full. */
struct stats_conn *stats_conn_open(struct stats_block *b, int family,
				   const void *addr, uint16_t port);
/*
 * A copy for reporting, of the usual layout, with the writer sections
 * summed into the totals: each field is read whole, the figures are not
 * all from one instant (each is at least what it was when the call
 * began).  copy holds stats_block_bytes(b->conn_cap) bytes; b is the
 * mapped block (stats_create()), not a copy of one.
 */
void stats_snapshot(const struct stats_block *b, struct stats_block *copy);
/* The same without the connection table (copy->nconns and conn_cap are 0,
 * conns_overflow is b's): copy holds sizeof(struct stats_block) bytes.
 * What a reader of the stage figures alone needs (the profiler). */
void stats_snapshot_totals(const struct stats_block *b, struct stats_block *copy);
const char *stats_stage_name(enum stats_stage_id s);	/* "read", "deser", ... */
/* What the stage's time is taken around: "read()", "deserialize", ... */
const char *stats_stage_what(enum stats_stage_id s);
/* Records why the server child failed, printf-style, unless a reason is
 * there already (the first failure is the cause, later ones follow it). */
void stats_set_start_error(struct stats_block *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Adds b's figures to sum (the engine runs one server per address family
 * when a capture holds both): counts, times, histograms, counters and the
 * counter group's time enabled and running add up; peaks take the
 * maximum; a group read by read() anywhere makes the sum's read().  The
 * header and connection slots are sum's own.  b's own totals only: b is a
 * snapshot (stats_snapshot*), not a mapped block. */
void stats_merge(struct stats_block *sum, const struct stats_block *b);

#endif
