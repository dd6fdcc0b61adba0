/*
 * profiler.h: one profiling session around a replay, filling the stage
 * table of a struct trial (report/report.h).
 *
 *	profiler_start(&p, &cfg);     before the first packet
 *	... replay ...
 *	profiler_stop(p);             after the last response
 *	profiler_fill(p, &trial);     stage results, every one with a source
 *	profiler_free(p);
 *
 * Modes: PROFILE_OFF opens nothing (user stages still come from the
 * server's stats block); PROFILE_COUNTS opens counting tracepoints only
 * (plus a ring for skb_copy_datagram_iovec, whose byte count cannot be
 * counted) and the rare irq entry/exit pairs; PROFILE_FULL adds timestamped
 * rings (softirq and syscall durations, histograms) and cpu-clock/cycles
 * sampling with callchains, and exact per-stage counter deltas of the
 * kernel stages read by BPF (profile/bpfcount.h; also with --events).
 *
 * What cannot be measured is reported unavailable with the reason and the
 * fix (perf_strerror()), never as zero.  A struct profiler owns every
 * event, ring, reader thread and sampler it opened.
 */
#ifndef PKTMEM_PROFILE_PROFILER_H
#define PKTMEM_PROFILE_PROFILER_H

#include "core/stats.h"
#include "profile/ksym.h"
#include "report/report.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum profile_mode { PROFILE_OFF = 0, PROFILE_COUNTS, PROFILE_FULL };

/* The tracepoints a session opens, { system, name }: what 'pktmem doctor'
 * tries to open, so it checks what a replay needs. */
#define PROFILER_NTRACEPOINTS 13
extern const char *const profiler_tracepoints[PROFILER_NTRACEPOINTS][2];

#define PROFILER_MAX_PIDS 8

struct profiler_cfg {
	enum profile_mode mode;
	pid_t server_pid[PROFILER_MAX_PIDS];	/* the server process(es) */
	int nserver;
	pid_t sender_pid[PROFILER_MAX_PIDS];	/* the replayer: NET_RX runs in its context */
	int nsender;
	char dev[32];		/* receiving device name ("" = any veth) */
	bool veth;		/* a veth path: no hardware interrupt */
	bool loopback;		/* loopback (--via socket): no hardware interrupt */
	const struct stats_block *stats;	/* the server's block, or NULL */
	uint64_t expected_bytes;	/* capture payload client->server; 0 unknown */
	uint64_t expected_segments;	/* data segments sent; 0 unknown */
	int sample_hz;		/* full mode; 0 = 999 */
	char events[256];	/* --events as given ("" = not given): with
				 * --profile full it also turns on the BPF
				 * per-stage counters of the kernel stages */
	bool folded;		/* keep folded stacks (--folded) */
	/* nserver == 0: why there is no server process to watch (replay
	 * --target: the server is not visible here); the copy stage says it */
	char server_why[160];
};

/* A server pktmem did not build (replay --exec/--target): it keeps no
 * stats block, so the user stages are unavailable except alloc, which
 * comes from the LD_PRELOAD interposer's window counts (replay/target.h)
 * when it ran; and the copy stage's cross-check compares the kernel's
 * copies to the server's threads with what the replay delivered (the
 * capture's client bytes), not with a server's own read count. */
struct profiler_foreign {
	bool alloc_available;
	char alloc_why[REPORT_REASON];	/* when not */
	uint64_t allocs;		/* malloc + calloc + realloc + aligned calls */
	uint64_t mallocs, callocs, reallocs, aligned, frees;
	uint64_t alloc_bytes;		/* bytes requested */
	uint64_t processes;		/* images that loaded the interposer */
	uint64_t requests;		/* the capture's: the per-request divisor */
};

struct profiler;

/* Whether a profiler of this mode and --events list runs the BPF stage
 * counters here (it probes the PMU as profiler_start does): the replayer
 * keeps CAP_BPF for them only then. */
bool profiler_wants_bpf(enum profile_mode mode, const char *events);

int profile_mode_parse(const char *s, enum profile_mode *m);
const char *profile_mode_name(enum profile_mode m);

/* Opens and enables the events.  Events that cannot be opened do not fail
 * the start: their stages are reported unavailable with the reason.
 * Returns < 0 only for bad arguments or no memory. */
int profiler_start(struct profiler **out, const struct profiler_cfg *cfg);
int profiler_stop(struct profiler *p);
int profiler_fill(struct profiler *p, struct trial *t);
/* What the capture says should arrive (known after the replay). */
void profiler_set_expected(struct profiler *p, uint64_t bytes, uint64_t segments);
/* Marks the server foreign (see struct profiler_foreign); f is copied. */
void profiler_set_foreign(struct profiler *p, const struct profiler_foreign *f);
/* Bytes the kernel has copied to the server's threads so far
 * (skb:skb_copy_datagram_iovec; the reader thread drains every 20 ms, so
 * this lags by up to that while running): 0 and *bytes when that is every
 * read of the server, 1 and *bytes when it may be part (the server's
 * threads started threads or processes since the start, which the filter
 * does not name: sched:sched_process_fork), -ENODATA when the copy events
 * are not open.  Callable from another thread. */
int profiler_copy_bytes(const struct profiler *p, uint64_t *bytes);
/* Replaces cfg.stats (a snapshot taken after the server stopped). */
void profiler_set_stats(struct profiler *p, const struct stats_block *st);
/* Sample classes (full mode): samples per ksym class; false when none. */
bool profiler_samples(const struct profiler *p, uint64_t samples[KS__N]);
/* Folded stacks; the server's and the replayer's user frames named. */
int profiler_write_folded(struct profiler *p, FILE *f);
/* One-line notes gathered during the session (lost records, private
 * tracefs mount, ...), '\n'-separated; "" when none. */
const char *profiler_notes(const struct profiler *p);
void profiler_free(struct profiler *p);

#endif
