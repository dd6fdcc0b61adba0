// SPDX-License-Identifier: GPL-2.0
/*
 * stagecount.bpf.c: exact per-stage counter deltas for the kernel stages,
 * loaded by profile/bpfcount.c (built with clang -target bpf, embedded in
 * pktmem as bytes; see the Makefile).
 *
 * softirq: irq:softirq_entry/exit with vec == NET_RX.  A softirq runs on
 *   one CPU with preemption off and softirqs do not nest, so one start slot
 *   per CPU pairs entry and exit.
 * copy: raw_syscalls:sys_enter/exit of the server's read-family syscalls
 *   (the window that holds copy_to_user: skb_copy_datagram_iovec is one
 *   point, not a window).  A read may sleep or migrate: the start values
 *   are kept per thread with the CPU and the thread's context-switch count,
 *   and a pair that changed CPU or switched out is not summed (the per-CPU
 *   counters would include other tasks' work) but counted as dropped.
 *
 * The counters are per-CPU perf events in a PERF_EVENT_ARRAY at index
 * cpu * SC_MAX_EV + event; an empty slot (the event could not be opened:
 * no PMU) makes bpf_perf_event_read_value return -ENOENT, which is kept per
 * event so user space can say why a figure is missing.  Sums, enabled and
 * running times (for multiplex scaling) are per CPU in a PERCPU_ARRAY.
 *
 * Tracepoint programs run on every hit of the tracepoint on the machine
 * (the perf event's own filter does not apply to them): the filters are
 * here, cheapest first.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "profile/bpf/stagecount.h"

char LICENSE[] SEC("license") = "GPL";

/* A tracepoint program's return value decides whether the hit still goes
 * to the perf events on that tracepoint (kernel/trace/bpf_trace.c,
 * trace_call_bpf; perf_trace_run_bpf_submit drops it on 0): always 1,
 * or the profiler's own counting and rings would go blind. */
#define KEEP 1

/* Field offsets from the tracefs format files, set before load. */
const volatile __u32 vec_off = 8;	/* irq:softirq_* vec */
const volatile __u32 sys_id_off = 8;	/* raw_syscalls:sys_enter/exit id */
const volatile __u32 nev = 0;		/* events in use, <= SC_MAX_EV */
const volatile __u32 si_all = 0;	/* 1: NET_RX in every task counts */

/* Only the fields this program reads; libbpf relocates the offsets
 * against the running kernel's BTF (CO-RE). */
struct task_struct {
	unsigned long nvcsw;
	unsigned long nivcsw;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 1);		/* set to ncpus * SC_MAX_EV */
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct sc_sums);
	__uint(max_entries, SC__NSTAGE);
} sums SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct sc_start);
	__uint(max_entries, 1);
} si_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);		/* thread id */
	__type(value, struct sc_start);
	__uint(max_entries, 4096);
} rd_start SEC(".maps");

/* tgid -> SC_F_* : whose NET_RX counts, whose reads are the copy stage. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 512);
} tgids SEC(".maps");

/* syscall number -> 1 for the read family */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, SC_MAX_SYSNR);
} readnr SEC(".maps");

static __always_inline __u32 field_u32(void *ctx, __u32 off)
{
	__u32 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (char *)ctx + (off & 0xff));
	return v;
}

static __always_inline long field_long(void *ctx, __u32 off)
{
	long v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (char *)ctx + (off & 0xff));
	return v;
}

static __always_inline __u64 switches(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(t, nvcsw) + BPF_CORE_READ(t, nivcsw);
}

/* Reads every event of this CPU into st (entry side: last thing done). */
static __always_inline void read_start(struct sc_start *st, __u32 cpu)
{
	__u32 i;

	st->ok = 0;
#pragma unroll
	for (i = 0; i < SC_MAX_EV; i++) {
		if (i >= nev)
			break;
		if (bpf_perf_event_read_value(&counters, cpu * SC_MAX_EV + i,
					      (struct bpf_perf_event_value *)&st->v[i],
					      sizeof(st->v[i])) == 0)
			st->ok |= 1u << i;
	}
}

/* Reads the events again (exit side: first thing done) and adds the
 * deltas to this CPU's sums for stage. */
static __always_inline void read_end(struct sc_start *st, __u32 cpu, __u32 stage)
{
	struct bpf_perf_event_value now;
	struct sc_sums *s = bpf_map_lookup_elem(&sums, &stage);
	__u32 i;
	long rc;

	if (!s)
		return;
#pragma unroll
	for (i = 0; i < SC_MAX_EV; i++) {
		if (i >= nev)
			break;
		rc = bpf_perf_event_read_value(&counters, cpu * SC_MAX_EV + i, &now, sizeof(now));
		if (rc) {
			s->ev[i].errors++;
			s->ev[i].last_err = rc;
			continue;
		}
		if (!(st->ok & (1u << i))) {
			s->ev[i].errors++;
			continue;
		}
		s->ev[i].counter += now.counter - st->v[i].counter;
		s->ev[i].enabled += now.enabled - st->v[i].enabled;
		s->ev[i].running += now.running - st->v[i].running;
	}
	s->pairs++;
}

static __always_inline void count_hit(__u32 stage)
{
	struct sc_sums *s = bpf_map_lookup_elem(&sums, &stage);

	if (s)
		s->hits++;
}

static __always_inline void count_drop(__u32 stage, int migrated)
{
	struct sc_sums *s = bpf_map_lookup_elem(&sums, &stage);

	if (!s)
		return;
	if (migrated)
		s->migrated++;
	else
		s->slept++;
}

static __always_inline int mine(__u32 flag)
{
	__u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	__u32 *f = bpf_map_lookup_elem(&tgids, &tgid);

	return f && (*f & flag);
}

SEC("tracepoint/irq/softirq_entry")
int si_entry(void *ctx)
{
	__u32 zero = 0, cpu;
	struct sc_start *st;

	if (field_u32(ctx, vec_off) != SC_NET_RX_VEC)
		return KEEP;
	if (!si_all && !mine(SC_F_SOFTIRQ))
		return KEEP;
	st = bpf_map_lookup_elem(&si_start, &zero);
	if (!st)
		return KEEP;
	count_hit(SC_SOFTIRQ);
	cpu = bpf_get_smp_processor_id();
	st->cpu = cpu;
	st->active = 1;
	read_start(st, cpu);
	return KEEP;
}

SEC("tracepoint/irq/softirq_exit")
int si_exit(void *ctx)
{
	__u32 zero = 0;
	struct sc_start *st;

	if (field_u32(ctx, vec_off) != SC_NET_RX_VEC)
		return KEEP;
	st = bpf_map_lookup_elem(&si_start, &zero);
	if (!st || !st->active)
		return KEEP;
	st->active = 0;
	read_end(st, st->cpu & (SC_MAX_CPUS - 1), SC_SOFTIRQ);
	return KEEP;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int rd_enter(void *ctx)
{
	__u32 tid, nr, *isread, cpu;
	struct sc_start *st, zero_st;

	if (!mine(SC_F_SERVER))
		return KEEP;
	nr = (__u32)field_long(ctx, sys_id_off);
	isread = bpf_map_lookup_elem(&readnr, &nr);
	if (!isread || !*isread)
		return KEEP;
	tid = (__u32)bpf_get_current_pid_tgid();
	/* A thread's slot is made once and reused: an update per call
	 * would cost an element swap in the hash on every read. */
	st = bpf_map_lookup_elem(&rd_start, &tid);
	if (!st) {
		__builtin_memset(&zero_st, 0, sizeof(zero_st));
		if (bpf_map_update_elem(&rd_start, &tid, &zero_st, BPF_NOEXIST))
			return KEEP;
		st = bpf_map_lookup_elem(&rd_start, &tid);
		if (!st)
			return KEEP;
	}
	count_hit(SC_COPY);
	cpu = bpf_get_smp_processor_id();
	st->cpu = cpu;
	st->active = 1;
	st->switches = switches();
	read_start(st, cpu);
	return KEEP;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int rd_exit(void *ctx)
{
	__u32 tid, cpu;
	struct sc_start *st;

	(void)ctx;
	if (!mine(SC_F_SERVER))
		return KEEP;
	tid = (__u32)bpf_get_current_pid_tgid();
	st = bpf_map_lookup_elem(&rd_start, &tid);
	if (!st || !st->active)
		return KEEP;
	cpu = bpf_get_smp_processor_id();
	st->active = 0;
	if (cpu != st->cpu) {
		count_drop(SC_COPY, 1);
		return KEEP;
	}
	if (switches() != st->switches) {
		count_drop(SC_COPY, 0);
		return KEEP;
	}
	read_end(st, cpu & (SC_MAX_CPUS - 1), SC_COPY);
	return KEEP;
}
