/*
 * stagecount.h: the layout shared by the BPF program (stagecount.bpf.c)
 * and its loader (profile/bpfcount.c).  Plain fixed-size types only: the
 * same bytes are read on both sides.
 */
#ifndef PKTMEM_PROFILE_BPF_STAGECOUNT_H
#define PKTMEM_PROFILE_BPF_STAGECOUNT_H

#define SC_MAX_EV 9		/* events per CPU: cpu-clock + PFM_MAX_EVENTS */
#define SC_MAX_CPUS 1024	/* power of two: masks the CPU index */
#define SC_MAX_SYSNR 512
#define SC_NET_RX_VEC 3		/* NET_RX_SOFTIRQ, include/linux/interrupt.h */

enum { SC_SOFTIRQ = 0, SC_COPY = 1, SC__NSTAGE = 2 };
enum { SC_F_SOFTIRQ = 1, SC_F_SERVER = 2 };

struct sc_value {		/* struct bpf_perf_event_value */
	__u64 counter, enabled, running;
};

struct sc_start {
	__u32 cpu;
	__u32 active;
	__u32 ok;		/* bit i: event i read at the start */
	__u32 pad;
	__u64 switches;		/* nvcsw + nivcsw at the start (copy) */
	struct sc_value v[SC_MAX_EV];
};

struct sc_ev_sum {
	__u64 counter, enabled, running;	/* sums of deltas */
	__u64 errors;				/* reads that failed */
	__s64 last_err;				/* -errno of the last failure */
};

struct sc_sums {
	__u64 hits;		/* entries that passed the filters */
	__u64 pairs;		/* entry/exit pairs summed */
	__u64 migrated;		/* copy: exit on another CPU, not summed */
	__u64 slept;		/* copy: switched out inside, not summed */
	struct sc_ev_sum ev[SC_MAX_EV];
};

#endif
