/*
 * profiler-int.h: the profiling session's private state, shared by the
 * two halves of the profiler and by nothing else (as libpcap's
 * pcap-int.h): profiler.c opens the events, runs the reader thread and
 * accumulates; stages.c turns what was accumulated into the report's
 * stage rows once the session has stopped.
 *
 * struct profiler is written by profiler.c (the reader thread while the
 * session runs, profiler_stop() last) and read by stages.c after
 * profiler_stop() joined the thread; stages.c writes only reqs, the
 * request count it divides by.
 */
#ifndef PKTMEM_PROFILE_PROFILER_INT_H
#define PKTMEM_PROFILE_PROFILER_INT_H

#include "profile/bpfcount.h"
#include "profile/perf.h"
#include "profile/profiler.h"
#include "profile/sample.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Indexes into profiler_tracepoints[] (profiler.h), in its order. */
enum tp_idx {
	TP_IRQ_ENTRY, TP_IRQ_EXIT, TP_SI_ENTRY, TP_SI_EXIT, TP_NAPI, TP_NRS,
	TP_SYS_ENTER, TP_SYS_EXIT, TP_COPY, TP_RECVLEN, TP_KMALLOC, TP_KMCA, TP_FORK,
	TP__N
};

/* NET_RX_SOFTIRQ in include/linux/interrupt.h's softirq enum. */
#define NET_RX_VEC 3
#define HIST_N REPORT_HIST_BUCKETS
#define MAX_CPUS 256
#define TID_SLOTS 1024
#define RING_PAGES 64		/* 256 KiB per CPU: drained every 20 ms */

struct histo {
	uint64_t n, sum_ns, max_ns;
	uint64_t b[HIST_N];
};

/* One opened measurement: its handle or why it could not be opened;
 * one counter per process watched (a ksoftirqd/N per CPU at most). */
struct cnt {
	struct perf_counter *c[MAX_CPUS];
	int n;
	int err;		/* 0, or the first error */
	char what[64];		/* event name for perf_strerror */
	uint64_t value;
};

struct profiler {
	struct profiler_cfg cfg;
	struct perf_tp tp[TP__N];
	bool tp_ok;			/* ids readable and permitted */
	char tp_reason[REPORT_REASON];	/* when !tp_ok */
	int pmu_err;			/* cycles probe: 0 = a PMU counts here */
	char pmu_reason[REPORT_REASON];

	/* NET_RX: everywhere (noisy: every neighbour's traffic), in the
	 * replayer's threads and in ksoftirqd (where the replay's own
	 * receive work runs); packets and polls the same way. */
	struct cnt si_all, si_sender, si_ksoftirqd, napi, napi_ksi, nrs, nrs_ksi,
		   sys, recvlen, kmalloc, kmca,
		   forks;	/* threads and processes the server's threads created */
	pid_t ksoftirqd[MAX_CPUS];
	int nksoftirqd;

	struct perf_ring *r_irq, *r_si, *r_srv[PROFILER_MAX_PIDS];
	int n_srv;
	int err_irq, err_si, err_srv;
	struct sampler *sampler;
	int err_sample;

	/* Exact counter deltas of softirq and copy by BPF (full mode or
	 * --events): bpf_res is read at stop. */
	bool bpf_wanted;
	struct bpfcount *bpf;
	int err_bpf;
	char bpf_why[REPORT_REASON];
	struct bpfcount_result bpf_res[BPFCOUNT__N];
	bool bpf_read[BPFCOUNT__N];

	pthread_t thr;
	bool thr_running;
	int stop;			/* set by profiler_stop, read by the thread */
	bool stopped;
	uint64_t t0, t1;		/* CLOCK_MONOTONIC ns */

	/* Accumulated by the ring readers. */
	uint64_t irq_entry_ts[MAX_CPUS], si_entry_ts[MAX_CPUS];
	uint32_t si_entry_pid[MAX_CPUS];
	struct histo irq_h, si_h[3], sys_h;	/* si_h by context, as si_ctx */
	uint64_t irq_all;
	uint64_t si_ctx[3], si_ctx_ns[3];	/* sender, ksoftirqd, elsewhere */
	uint64_t copy_calls, copy_bytes, recv_calls, recv_bytes;
	uint64_t sys_exits, sys_ret_bytes;
	uint64_t lost;
	struct { uint32_t tid; uint64_t ts; } tid_ts[TID_SLOTS];

	uint64_t reqs;			/* requests, for per-request metrics */
	bool foreign;			/* profiler_set_foreign() */
	struct profiler_foreign fx;
	char notes[1024];
};

_Static_assert(TP__N == PROFILER_NTRACEPOINTS, "profiler_tracepoints[] and enum tp_idx differ");

#endif
