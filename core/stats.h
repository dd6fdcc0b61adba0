/*
 * stats.h: the core server's stage statistics, in shared memory.
 *
 * The server (possibly many threads) adds to one struct stats_block with
 * relaxed atomics; another process (the replayer, the profiler) maps the
 * same memory and reads it.  The block is created before fork() from a
 * memfd, so the server child in its own network namespace and the parent
 * share it without any file on disk.
 *
 * Stages are the server-side half of DESIGN.md's pipeline: the read
 * syscalls (copy), parse, deserialize (alloc), handler and write.  Times
 * are CLOCK_MONOTONIC ns; histograms are log2 buckets of ns (bucket i holds
 * [2^i, 2^(i+1)) ns, bucket 0 also holds 0).
 */
#ifndef PKTMEM_CORE_STATS_H
#define PKTMEM_CORE_STATS_H

#include <stdint.h>
#include <sys/types.h>

#define STATS_MAGIC 0x706b746d73746174ULL	/* "pktmstat" */
#define STATS_VERSION 3
#define STATS_HIST_BUCKETS 48
#define STATS_MAX_COUNTERS 8
#define STATS_COUNTER_NAME 48
/* Connection slots: `pktmem serve` keeps the default; the replay engine
 * sizes its blocks for every connection it will make (flows x loops), up
 * to the most any block may hold (56 B a slot: 896 MiB, touched lazily). */
#define STATS_DEFAULT_CONNS 65536
#define STATS_MAX_CONNS (1u << 24)

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
};

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

	/* Why the server child did not start listening, one line, written
	 * by the child before it exits (its exit status alone cannot say
	 * which step failed); "" while it starts or once it listens. */
	char start_error[128];

	uint32_t nconns;		/* slots used (monotonic, <= conn_cap) */
	uint32_t conns_overflow;	/* connections not tracked: table full */
	uint32_t conn_cap;		/* slots in conn[] */
	struct stats_conn conn[];
};

/* Bytes of a block with conns connection slots. */
size_t stats_block_bytes(uint32_t conns);
/* Sets the header of a zeroed block of stats_block_bytes(conns) bytes. */
void stats_block_init(struct stats_block *b, uint32_t conns);
/* Maps a new zeroed block (memfd, MAP_SHARED) that survives fork(), with
 * conns slots (0: STATS_DEFAULT_CONNS; at most STATS_MAX_CONNS). */
int stats_create(struct stats_block **out, uint32_t conns);
void stats_destroy(struct stats_block *b);

/* Adds one timed event to a stage (atomically). */
void stats_stage_add(struct stats_block *b, enum stats_stage_id s,
		     uint64_t ns, uint64_t bytes);
/* Percentile (0..100) of a stage's histogram, in ns: the midpoint of the
 * bucket holding it, never above max_ns; 100 is max_ns itself. */
uint64_t stats_percentile(const struct stats_stage *st, double pct);
/* Claims a connection slot for a peer; NULL when the table is full. */
struct stats_conn *stats_conn_open(struct stats_block *b, int family,
				   const void *addr, uint16_t port);
/* Finds the last slot of a peer (any state), or NULL. */
const struct stats_conn *stats_conn_find(const struct stats_block *b, int family,
					 const void *addr, uint16_t port);
/* A consistent-enough copy for reporting (each field read atomically);
 * copy holds stats_block_bytes(b->conn_cap) bytes. */
void stats_snapshot(const struct stats_block *b, struct stats_block *copy);
const char *stats_stage_name(enum stats_stage_id s);	/* "read", "deser", ... */
/* What the stage's time is taken around: "read()", "deserialize", ... */
const char *stats_stage_what(enum stats_stage_id s);
/* Adds b's figures to sum (the engine runs one server per address family
 * when a capture holds both): counts, times, histograms, counters and the
 * counter group's time enabled and running add up; peaks take the
 * maximum; a group read by read() anywhere makes the sum's read().  The
 * header and connection slots are sum's own. */
void stats_merge(struct stats_block *sum, const struct stats_block *b);

#endif
