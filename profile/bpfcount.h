/*
 * bpfcount.h: exact counter deltas for the kernel stages, read by a BPF
 * program on the stages' tracepoints (bpf_perf_event_read_value).
 *
 *	bpfcount_open(&b, &cfg, why, sizeof(why));   load, open counters
 *	bpfcount_enable(b);    attach to the tracepoints
 *	... replay ...
 *	bpfcount_disable(b);   detach
 *	bpfcount_read(b, BPFCOUNT_SOFTIRQ, &r);
 *	bpfcount_free(b);
 *
 * Stages: softirq = irq:softirq_entry -> softirq_exit with vec == NET_RX,
 * in the given tasks (or every task); copy = raw_syscalls:sys_enter ->
 * sys_exit of the server's read-family syscalls, the window around
 * copy_to_user (pairs that sleep or migrate are counted, not summed: the
 * counters are per CPU).
 *
 * Counters: cpu-clock always (a software counter, so the mechanism is
 * measured even without a PMU; per-CPU, ns) plus the --events list, each
 * opened on every CPU.  An event that cannot be opened leaves its slots
 * empty; the program's read then fails with -ENOENT, which is reported
 * per event with the open error.  Sums carry enabled/running for
 * multiplex scaling.
 *
 * Cost: the programs run on every hit of their tracepoints on the
 * machine (150-210 ns, + 170-280 ns per counter read where they pass the
 * filters): raw_syscalls sys_enter/exit means every syscall.  Opt-in.
 *
 * A struct bpfcount owns the BPF object, its links and every counter fd.
 * Nothing prints; errors are negative errno.
 */
#ifndef PKTMEM_PROFILE_BPFCOUNT_H
#define PKTMEM_PROFILE_BPFCOUNT_H

#include "profile/pfm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BPFCOUNT_MAX_EVENTS (PFM_MAX_EVENTS + 1)	/* cpu-clock + --events */
#define BPFCOUNT_MAX_PIDS 64
#define BPFCOUNT_CLOCK "cpu-clock"

enum bpfcount_stage { BPFCOUNT_SOFTIRQ = 0, BPFCOUNT_COPY, BPFCOUNT__N };

struct bpfcount_cfg {
	const char *events;	/* comma list; NULL or "" = PFM_DEFAULT_EVENTS */
	pid_t softirq_pid[BPFCOUNT_MAX_PIDS];	/* tgids whose NET_RX counts */
	int nsoftirq;				/* 0 = NET_RX in every task */
	pid_t server_pid[BPFCOUNT_MAX_PIDS];	/* tgids whose reads are copy */
	int nserver;				/* 0 = no copy stage */
};

struct bpfcount_event {
	char name[PFM_NAME];	/* as the user spelled it; [0] is cpu-clock */
	bool software;
	int open_err;		/* 0, or -errno of perf_event_open (first CPU that failed) */
	int cpus_open;		/* CPUs where the event opened */
	int read_err;		/* last -errno of bpf_perf_event_read_value; 0 none */
	uint64_t read_errors;	/* failed reads, all CPUs */
	uint64_t counter, enabled, running;	/* sums of deltas, all CPUs */
	double scaled;		/* counter * enabled / running */
	bool multiplexed;	/* running < enabled somewhere */
};

struct bpfcount_result {
	uint64_t hits;		/* entries that passed the filters */
	uint64_t pairs;		/* entry/exit pairs summed */
	uint64_t migrated;	/* copy: exit on another CPU (not summed) */
	uint64_t slept;		/* copy: switched out in between (not summed) */
	int nev;
	struct bpfcount_event ev[BPFCOUNT_MAX_EVENTS];
};

struct bpfcount;

/* Loads the program and opens the counters.  < 0 when BPF cannot be
 * used here (why says what failed: load, verifier, tracefs, privileges);
 * counters that cannot be opened do not fail the open. */
int bpfcount_open(struct bpfcount **out, const struct bpfcount_cfg *cfg,
		  char *why, size_t wlen);
int bpfcount_enable(struct bpfcount *b);
int bpfcount_disable(struct bpfcount *b);
int bpfcount_read(const struct bpfcount *b, enum bpfcount_stage stage,
		  struct bpfcount_result *r);
/* The source string reports use for a stage. */
const char *bpfcount_source(enum bpfcount_stage stage);
void bpfcount_free(struct bpfcount *b);

#endif
