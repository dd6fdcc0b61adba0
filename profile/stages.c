/*
 * stages.c: the stage rows of a trial from what a profiling session
 * accumulated (profiler_fill, profiler.h).
 *
 * Runs once per trial, after profiler_stop() joined the reader thread, so
 * it reads struct profiler (profiler-int.h) without locks.  Every row and
 * metric carries its source; what could not be measured is marked
 * unavailable with the reason, never left as zero.
 */
#include "profile/profiler-int.h"
#include "core/selfmon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- histograms and metrics --------------------------------------------- */

static double hist_pct(const uint64_t *b, int nb, double pct)
{
	uint64_t total = 0, want, run = 0;
	int i;

	for (i = 0; i < nb; i++)
		total += b[i];
	if (!total)
		return 0;
	want = (uint64_t)(pct / 100.0 * (double)total + 0.5);
	if (want < 1)
		want = 1;
	for (i = 0; i < nb; i++) {
		run += b[i];
		if (run >= want)
			return i == 0 ? 0.5 : 1.5 * (double)(1ULL << i);	/* bucket midpoint */
	}
	return 0;
}

static void stage_hist(struct stage_result *st, const uint64_t *b, int nb, double max_ns)
{
	int i;

	st->has_hist = true;
	for (i = 0; i < HIST_N && i < nb; i++)
		st->hist[i] = b[i];
	st->p50_ns = hist_pct(b, nb, 50);
	st->p90_ns = hist_pct(b, nb, 90);
	st->p99_ns = hist_pct(b, nb, 99);
	st->max_ns = max_ns;
}

/* Sets every field of m: a measured metric. */
static struct metric *metric_set(struct metric *m, const char *name, const char *unit,
				 enum metric_class cls, double value, const char *source)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->unit, sizeof(m->unit), "%s", unit);
	m->cls = cls;
	m->lower_is_better = true;
	m->available = true;
	m->value = value;
	snprintf(m->source, sizeof(m->source), "%s", source);
	return m;
}

static struct metric *metric(struct stage_result *st, const char *name, const char *unit,
			     enum metric_class cls, double value, const char *source)
{
	if (st->nmetrics >= REPORT_MAX_METRICS)
		return NULL;
	return metric_set(&st->metric[st->nmetrics++], name, unit, cls, value, source);
}

static struct metric *metric_na(struct stage_result *st, const char *name, const char *unit,
				enum metric_class cls, const char *reason)
{
	struct metric *m = metric(st, name, unit, cls, 0, "");

	if (m) {
		m->available = false;
		snprintf(m->reason, sizeof(m->reason), "%s", reason);
	}
	return m;
}

static void stage_note(struct stage_result *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void stage_note(struct stage_result *st, const char *fmt, ...)
{
	size_t len = strlen(st->note);
	va_list ap;

	if (len + 3 >= sizeof(st->note))
		return;
	if (len) {
		memcpy(st->note + len, "; ", 2);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(st->note + len, sizeof(st->note) - len, fmt, ap);
	va_end(ap);
}

static const char *cnt_reason(const struct profiler *p, const struct cnt *c,
			      char *buf, size_t len)
{
	if (!p->tp_ok)
		return p->tp_reason;
	if (c->err == -ESRCH && p->cfg.server_why[0])
		return p->cfg.server_why;
	return perf_strerror(c->err, c->what, buf, len);
}

/* ---- filling the stage table ------------------------------------------- */

/* A BPF counter named like a metric fill_hw_kernel already made: the
 * unavailable "cycles" is replaced (the BPF reason says more), a sampled
 * one is kept as "sampled_<name>". */
static struct metric *bpf_metric(struct stage_result *st, const char *name, const char *unit,
				 enum metric_class cls, double value, const char *source)
{
	/* st is ours to change: stage_find_metric() is const only to serve readers */
	struct metric *old = (struct metric *)stage_find_metric(st, name);

	if (old && !old->available)
		return metric_set(old, name, unit, cls, value, source);
	if (old) {
		char was[sizeof(old->name)];

		snprintf(was, sizeof(was), "%s", old->name);
		snprintf(old->name, sizeof(old->name), "sampled_%.38s", was);
	}
	return metric(st, name, unit, cls, value, source);
}

static void bpf_metric_na(struct stage_result *st, const char *name, const char *unit,
			  enum metric_class cls, const char *reason)
{
	struct metric *m = bpf_metric(st, name, unit, cls, 0, "");

	if (m) {
		m->available = false;
		m->value = 0;
		snprintf(m->reason, sizeof(m->reason), "%s", reason);
	}
}

/* The BPF counters of a kernel stage: cpu-clock as bpf_cpu_clock_ns (the
 * mechanism, measured even without a PMU), every --events counter under
 * its own name, and why a counter is missing. */
static void fill_bpf(struct profiler *p, struct stage_result *st, enum bpfcount_stage s)
{
	const struct bpfcount_result *r = &p->bpf_res[s];
	const char *src = bpfcount_source(s);
	const char *per = s == BPFCOUNT_SOFTIRQ ? "bpf_cpu_clock_ns_per_softirq"
						: "bpf_cpu_clock_ns_per_call";
	char buf[REPORT_REASON], why[160];
	bool mux = false;
	int i;

	if (!p->bpf_wanted)
		return;
	if (!p->bpf || !p->bpf_read[s]) {
		metric_na(st, "bpf_cpu_clock_ns", "ns", MC_TIMING,
			  p->bpf ? "reading the BPF stage sums failed" :
			  p->tp_ok ? p->bpf_why : p->tp_reason);
		return;
	}
	metric(st, "bpf_pairs", "count", MC_INFO, (double)r->pairs, src);
	if (r->slept || r->migrated) {
		metric(st, "bpf_pairs_set_aside", "count", MC_INFO, (double)(r->slept + r->migrated), src);
		stage_note(st, "bpf counters: %llu reads slept or changed CPU inside and are not "
			   "summed (per-CPU counters would include other tasks)",
			   (unsigned long long)(r->slept + r->migrated));
	}
	for (i = 0; i < r->nev; i++) {
		const struct bpfcount_event *e = &r->ev[i];

		if (!e->cpus_open) {
			perf_strerror(e->open_err ? e->open_err : -ENODEV, e->name, why, sizeof(why));
			snprintf(buf, sizeof(buf), "%s%s", why,
				 e->read_err == -ENOENT
				 ? "; bpf_perf_event_read_value = -ENOENT (empty slot)" : "");
			bpf_metric_na(st, i == 0 ? "bpf_cpu_clock_ns" : e->name, i == 0 ? "ns" : "count",
				      i == 0 ? MC_TIMING : MC_HW, buf);
			continue;
		}
		if (e->read_errors && r->pairs)
			stage_note(st, "bpf %s: %llu failed reads (last %s): undercounts", e->name,
				   (unsigned long long)e->read_errors, strerror(-e->read_err));
		mux |= e->multiplexed;
		if (i == 0) {
			metric(st, "bpf_cpu_clock_ns", "ns", MC_TIMING, e->scaled, src);
			if (r->pairs)
				metric(st, per, "ns", MC_TIMING, e->scaled / (double)r->pairs, src);
		} else {
			bpf_metric(st, e->name, "count", e->software ? MC_COUNT : MC_HW, e->scaled, src);
		}
	}
	if (mux)
		stage_note(st, "bpf counters multiplexed: scaled by time enabled / running");
	if (st->nmetrics >= REPORT_MAX_METRICS)
		stage_note(st, "metrics beyond %d not recorded: name fewer --events", REPORT_MAX_METRICS);
}

static void fill_hw_kernel(struct profiler *p, struct stage_result *st,
			   const enum ksym_stage *cls, int ncls)
{
	uint64_t samples[KS__N], period[KS__N], total = 0, mine = 0, mine_p = 0;
	char buf[REPORT_REASON];
	int i;


	if (p->sampler) {
		sampler_counts(p->sampler, samples, period, NULL);
		for (i = 0; i < KS__N; i++)
			total += samples[i];
		for (i = 0; i < ncls; i++) {
			mine += samples[cls[i]];
			mine_p += period[cls[i]];
		}
		snprintf(buf, sizeof(buf), "sampling %s %d Hz, all CPUs, by kernel symbol",
			 sampler_event(p->sampler), sampler_hz(p->sampler));
		if (total) {
			metric(st, "sample_share", "%", MC_INFO,
			       100.0 * (double)mine / (double)total, buf);
			metric(st, "samples", "count", MC_INFO, (double)mine, buf);
		}
		if (p->pmu_err == 0 && !strcmp(sampler_event(p->sampler), "cycles"))
			metric(st, "cycles", "count", MC_HW, (double)mine_p, buf);
	}
	if (p->pmu_err)
		metric_na(st, "cycles", "count", MC_HW, p->pmu_reason);
	else if (!p->sampler)
		metric_na(st, "cycles", "count", MC_HW,
			  "kernel stages get cycles by sampling: use --profile full");
}

static void fill_irq(struct profiler *p, struct stage_result *st)
{
	char buf[REPORT_REASON];

	if (!p->r_irq) {
		stage_set_unavailable(st, "%s", p->tp_ok
				      ? perf_strerror(p->err_irq, "irq:irq_handler_entry", buf, sizeof(buf))
				      : p->tp_reason);
		return;
	}
	st->available = true;
	st->time_available = true;
	snprintf(st->source, sizeof(st->source), "tracepoint irq:irq_handler_entry/exit (all CPUs)");
	if (p->cfg.veth || p->cfg.loopback) {
		/* A measured zero: the path has no interrupt at all. */
		st->count = 0;
		st->time_ns = 0;
		stage_note(st, "%s delivers without a hardware interrupt",
			   p->cfg.veth ? "veth" : "loopback");
		metric(st, "irqs_other_devices", "count", MC_INFO, (double)p->irq_all,
		       "tracepoint irq:irq_handler_entry (all CPUs, all devices)");
		metric(st, "irq_ns_other_devices", "ns", MC_INFO, (double)p->irq_h.sum_ns,
		       "tracepoint irq:irq_handler_entry/exit (all CPUs, all devices)");
	} else {
		st->count = p->irq_all;
		st->time_ns = (double)p->irq_h.sum_ns;
		stage_hist(st, p->irq_h.b, HIST_N, (double)p->irq_h.max_ns);
		if (p->cfg.dev[0])
			stage_note(st, "interrupts whose handler name contains '%s'", p->cfg.dev);
	}
	if (p->reqs)
		metric(st, "irqs_per_request", "count", MC_COUNT, (double)st->count / (double)p->reqs,
		       "tracepoint irq:irq_handler_entry");
	fill_hw_kernel(p, st, (const enum ksym_stage[]){ KS_IRQ }, 1);
}

static void fill_softirq(struct profiler *p, struct stage_result *st)
{
	char buf[REPORT_REASON], s2[128];
	const char *src;
	uint64_t all, snd = 0, ksi = 0, count, pkts;
	bool attributed = p->si_sender.n > 0;
	struct histo h;
	int i, k, nctx;

	if (p->si_all.err || !p->si_all.n) {
		stage_set_unavailable(st, "%s", cnt_reason(p, &p->si_all, buf, sizeof(buf)));
		return;
	}
	all = p->si_all.value;
	if (p->si_sender.n)
		snd = p->si_sender.value;
	if (p->si_ksoftirqd.n)
		ksi = p->si_ksoftirqd.value;
	st->available = true;
	if (attributed) {
		/* The replay's receive work runs in the sender's context (on
		 * local_bh_enable inside its send) or in ksoftirqd; the rest of
		 * the machine's NET_RX is other traffic. */
		count = snd + ksi;
		src = "tracepoint irq:softirq_entry vec == 3 in the replayer's threads and ksoftirqd/N";
	} else {
		count = all;
		src = "tracepoint irq:softirq_entry vec == 3 (all CPUs)";
		stage_note(st, "no sender process given: system-wide, includes other NET_RX work on this machine");
	}
	st->count = count;
	snprintf(st->source, sizeof(st->source), "%s; napi:napi_poll; net:netif_receive_skb", src);
	if (p->reqs)
		metric(st, "softirqs_per_request", "count", MC_COUNT, (double)count / (double)p->reqs, src);
	if (attributed) {
		metric(st, "net_rx_in_sender_context", "count", MC_COUNT, (double)snd,
		       "tracepoint irq:softirq_entry vec == 3 (replayer's threads)");
		if (p->si_ksoftirqd.n)
			metric(st, "net_rx_in_ksoftirqd", "count", MC_COUNT, (double)ksi,
			       "tracepoint irq:softirq_entry vec == 3 && common_pid == ksoftirqd/N");
		else
			metric_na(st, "net_rx_in_ksoftirqd", "count", MC_COUNT,
				  p->nksoftirqd ? cnt_reason(p, &p->si_ksoftirqd, buf, sizeof(buf))
						: "no ksoftirqd threads found in /proc");
		metric(st, "net_rx_elsewhere", "count", MC_INFO, all > count ? (double)(all - count) : 0,
		       "all CPUs' NET_RX entries minus the sender's and ksoftirqd's (other traffic)");
	} else {
		metric_na(st, "net_rx_in_sender_context", "count", MC_COUNT,
			  p->cfg.nsender ? cnt_reason(p, &p->si_sender, buf, sizeof(buf))
					 : "no sender process given");
	}
	if (p->nrs.n) {
		pkts = p->nrs.value + (p->nrs_ksi.n ? p->nrs_ksi.value : 0);
		snprintf(s2, sizeof(s2), "tracepoint net:netif_receive_skb name %s%s",
			 p->cfg.dev[0] ? p->cfg.dev : "~ veth*",
			 attributed ? " (sender's threads, ksoftirqd)" : "");
		metric(st, "packets", "count", MC_COUNT, (double)pkts, s2);
		if (count)
			metric(st, "packets_per_softirq", "count", MC_INFO, (double)pkts / (double)count, s2);
		if (p->reqs)
			metric(st, "packets_per_request", "count", MC_COUNT, (double)pkts / (double)p->reqs, s2);
		if (p->cfg.expected_segments && pkts < p->cfg.expected_segments)
			stage_note(st, "fewer packets received (%llu) than data segments sent (%llu)",
				   (unsigned long long)pkts, (unsigned long long)p->cfg.expected_segments);
	} else {
		metric_na(st, "packets", "count", MC_COUNT, cnt_reason(p, &p->nrs, buf, sizeof(buf)));
	}
	if (p->napi.n)
		metric(st, "napi_polls", "count", MC_COUNT,
		       (double)(p->napi.value + (p->napi_ksi.n ? p->napi_ksi.value : 0)),
		       attributed ? "tracepoint napi:napi_poll (sender's threads, ksoftirqd)"
				  : "tracepoint napi:napi_poll (all CPUs)");
	else
		metric_na(st, "napi_polls", "count", MC_COUNT, cnt_reason(p, &p->napi, buf, sizeof(buf)));

	if (p->r_si) {
		const char *ts = "tracepoint irq:softirq_entry/exit vec == 3, paired per CPU";

		memset(&h, 0, sizeof(h));
		nctx = attributed ? 2 : 3;
		for (i = 0; i < nctx; i++) {
			h.n += p->si_h[i].n;
			h.sum_ns += p->si_h[i].sum_ns;
			if (p->si_h[i].max_ns > h.max_ns)
				h.max_ns = p->si_h[i].max_ns;
			for (k = 0; k < HIST_N; k++)
				h.b[k] += p->si_h[i].b[k];
		}
		st->time_available = true;
		st->time_ns = (double)h.sum_ns;
		stage_hist(st, h.b, HIST_N, (double)h.max_ns);
		metric(st, "ns_in_sender_context", "ns", MC_TIMING, (double)p->si_ctx_ns[0], ts);
		metric(st, "ns_in_ksoftirqd", "ns", MC_TIMING, (double)p->si_ctx_ns[1], ts);
		if (!attributed)
			metric(st, "ns_elsewhere", "ns", MC_INFO, (double)p->si_ctx_ns[2], ts);
		if (h.n)
			metric(st, "ns_per_softirq", "ns", MC_TIMING, (double)h.sum_ns / (double)h.n, ts);
		if (p->reqs)
			metric(st, "ns_per_request", "ns", MC_TIMING, (double)h.sum_ns / (double)p->reqs, ts);
	} else if (p->cfg.mode == PROFILE_FULL) {
		stage_note(st, "time: %s", perf_strerror(p->err_si, "irq:softirq_exit", buf, sizeof(buf)));
	} else {
		stage_note(st, "time and histogram need --profile full");
	}
	if (p->lost)
		stage_note(st, "%llu trace records lost (ring buffer full): times undercount",
			   (unsigned long long)p->lost);
	fill_hw_kernel(p, st, (const enum ksym_stage[]){ KS_SOFTIRQ, KS_IP, KS_TCP }, 3);
	fill_bpf(p, st, BPFCOUNT_SOFTIRQ);
}

static uint64_t requests_of(const struct profiler *p, const struct trial *t)
{
	if (p->foreign && p->fx.requests)
		return p->fx.requests;
	if (p->cfg.stats && p->cfg.stats->requests)
		return p->cfg.stats->requests;
	return t->replay.requests;
}

static void fill_copy(struct profiler *p, struct stage_result *st, uint64_t reqs)
{
	/* a foreign server's block is the engine child's: no read counts */
	const struct stats_block *sb = p->foreign ? NULL : p->cfg.stats;
	const struct stats_stage *rd = sb ? &sb->stage[STATS_READ] : NULL;
	char buf[REPORT_REASON];
	const char *srcb, *tsrc = "";
	bool have_tp = p->recvlen.n > 0, have_copy = p->n_srv > 0 && !p->err_srv;
	uint64_t server_bytes = sb ? sb->bytes_read : 0;

	if (p->foreign && !have_copy) {
		/* without the kernel's copies nothing says what it read */
		stage_set_unavailable(st, "%s", !p->tp_ok ? p->tp_reason
				      : p->err_srv == -ESRCH && p->cfg.server_why[0] ? p->cfg.server_why
				      : perf_strerror(p->err_srv, "skb:skb_copy_datagram_iovec",
						      buf, sizeof(buf)));
		return;
	}

	if (!have_tp && (!sb || !rd->count)) {
		/* Neither the kernel's view nor the server's own count of read
		 * calls: the bytes alone do not make a stage row. */
		stage_set_unavailable(st, "%s", cnt_reason(p, &p->recvlen, buf, sizeof(buf)));
		if (sb)
			metric(st, "server_bytes_read", "bytes", MC_EXACT, (double)server_bytes,
			       "server stats block");
		return;
	}
	st->available = true;
	if (have_tp) {
		st->count = p->recvlen.value;
		srcb = "tracepoint sock:sock_recv_length (server threads)";
	} else {
		st->count = rd->count;
		srcb = "server stats (read calls)";
		stage_note(st, "kernel side: %s", cnt_reason(p, &p->recvlen, buf, sizeof(buf)));
	}
	if (have_copy) {
		st->bytes = p->copy_bytes;
		snprintf(st->source, sizeof(st->source), "%s; skb:skb_copy_datagram_iovec", have_tp ? "sock:sock_recv_length" : srcb);
	} else {
		st->bytes = server_bytes;
		snprintf(st->source, sizeof(st->source), "%s; bytes from server stats", have_tp ? "sock:sock_recv_length" : srcb);
	}
	if (p->r_srv[0] && p->cfg.mode == PROFILE_FULL && p->sys_h.n) {
		st->time_available = true;
		st->time_ns = (double)p->sys_h.sum_ns;
		stage_hist(st, p->sys_h.b, HIST_N, (double)p->sys_h.max_ns);
		tsrc = "tracepoint raw_syscalls:sys_enter/exit (read family), paired per thread";
		metric(st, "ns_per_call", "ns", MC_TIMING, st->time_ns / (double)p->sys_h.n, tsrc);
	} else if (rd && rd->count) {
		st->time_available = true;
		st->time_ns = (double)rd->total_ns;
		stage_hist(st, rd->hist, STATS_HIST_BUCKETS, (double)rd->max_ns);
		tsrc = "server clock around read()";
		metric(st, "ns_per_call", "ns", MC_TIMING, st->time_ns / (double)rd->count, tsrc);
	}
	if (have_copy) {
		const char *s = "tracepoint skb:skb_copy_datagram_iovec (server threads)";

		metric(st, "copy_calls", "count", MC_COUNT, (double)p->copy_calls, s);
		metric(st, "copy_bytes", "bytes", MC_EXACT, (double)p->copy_bytes, s);
	} else {
		metric_na(st, "copy_bytes", "bytes", MC_EXACT,
			  !p->tp_ok ? p->tp_reason
			  : p->err_srv == -ESRCH && p->cfg.server_why[0] ? p->cfg.server_why
			  : perf_strerror(p->err_srv, "skb:skb_copy_datagram_iovec", buf, sizeof(buf)));
	}
	if (p->sys.n)
		metric(st, "read_syscalls", "count", MC_COUNT, (double)p->sys.value,
		       "tracepoint raw_syscalls:sys_enter (read family, server threads)");
	if (p->cfg.mode == PROFILE_FULL && have_copy) {
		metric(st, "sock_recv_bytes", "bytes", MC_EXACT, (double)p->recv_bytes,
		       "tracepoint sock:sock_recv_length ret (server threads)");
		metric(st, "read_ret_bytes", "bytes", MC_EXACT, (double)p->sys_ret_bytes,
		       "tracepoint raw_syscalls:sys_exit ret (read family)");
	}
	if (sb)
		metric(st, "server_bytes_read", "bytes", MC_EXACT, (double)server_bytes,
		       "server stats block");
	if (p->cfg.expected_bytes)
		metric(st, "capture_payload_bytes", "bytes", MC_EXACT,
		       (double)p->cfg.expected_bytes, p->foreign
		       ? "capture, client to server: what the replay delivered (every byte ACKed)"
		       : "capture, client to server");
	if (reqs) {
		metric(st, "bytes_per_request", "bytes", MC_EXACT, (double)st->bytes / (double)reqs,
		       st->source);
		metric(st, "syscalls_per_request", "count", MC_COUNT, (double)st->count / (double)reqs,
		       srcb);
		if (st->time_available)
			metric(st, "ns_per_request", "ns", MC_TIMING, st->time_ns / (double)reqs, tsrc);
	}
	if (st->time_available && st->bytes)
		metric(st, "ns_per_byte", "ns", MC_TIMING, st->time_ns / (double)st->bytes, tsrc);
	/* The cross-check: what the kernel copied, what the server read, and
	 * what the capture holds must agree. */
	if (have_copy && sb && p->copy_bytes != server_bytes)
		stage_note(st, "mismatch: kernel copied %llu bytes, server read %llu",
			   (unsigned long long)p->copy_bytes, (unsigned long long)server_bytes);
	if (p->cfg.expected_bytes && st->bytes != p->cfg.expected_bytes)
		stage_note(st, p->foreign ? "mismatch: the kernel copied %llu bytes to the server's "
					    "threads, the replay delivered %llu"
					  : "mismatch: %llu bytes copied, capture holds %llu",
			   (unsigned long long)st->bytes, (unsigned long long)p->cfg.expected_bytes);
	if (p->forks.n && p->forks.value)
		stage_note(st, "the server started %llu threads or processes after the profiler attached: "
			   "their reads are not counted", (unsigned long long)p->forks.value);
	if (p->lost)
		stage_note(st, "%llu trace records lost (ring buffer full): copy bytes and times undercount",
			   (unsigned long long)p->lost);
	fill_hw_kernel(p, st, (const enum ksym_stage[]){ KS_COPY }, 1);
	fill_bpf(p, st, BPFCOUNT_COPY);
}

/* Counters of the server's self-monitoring group for one stage. */
static void fill_hw_user(struct profiler *p, struct stage_result *st, const struct stats_stage *ss)
{
	const struct stats_block *sb = p->cfg.stats;
	char buf[REPORT_REASON], name[STATS_COUNTER_NAME + 1], src[64];
	uint32_t i;

	if (!sb->ncounters) {
		metric_na(st, "cycles", "count", MC_HW, p->pmu_err ? p->pmu_reason
				: "no counters requested from the server (--events)");
		return;
	}
	/* how the group was read, and whether it shared the PMU */
	snprintf(src, sizeof(src), "perf group self-monitoring (server threads, %s)",
		 sb->counter_how == SELFMON_RDPMC ? "rdpmc" : "read()");
	if (sb->counter_running_ns && sb->counter_running_ns < sb->counter_enabled_ns)
		stage_note(st, "counters multiplexed: on the PMU %.0f%% of the time, scaled by "
			   "enabled/running",
			   100.0 * (double)sb->counter_running_ns / (double)sb->counter_enabled_ns);
	for (i = 0; i < sb->ncounters && i < STATS_MAX_COUNTERS; i++) {
		memcpy(name, sb->counter_name[i], STATS_COUNTER_NAME);
		name[STATS_COUNTER_NAME] = 0;
		if (sb->counter_error[i])
			metric_na(st, name, "count", MC_HW,
				  perf_strerror(sb->counter_error[i], name, buf, sizeof(buf)));
		else if (!sb->counter_running_ns && sb->counter_enabled_ns)
			metric_na(st, name, "count", MC_HW,
				  "the counter group never got the PMU (more events than free "
				  "counters; the NMI watchdog holds one): ask for fewer --events");
		else
			metric(st, name, "count", MC_HW, (double)ss->counter[i], src);
	}
}

static void fill_user(struct profiler *p, struct stage_result *st, enum stats_stage_id id,
		      uint64_t reqs)
{
	const struct stats_block *sb = p->cfg.stats;
	const struct stats_stage *ss;

	if (p->foreign) {
		stage_set_unavailable(st, "a server pktmem did not build (--exec/--target) keeps "
				      "no stats block: its %s stage is not measured",
				      stats_stage_what(id));
		return;
	}
	if (!sb) {
		stage_set_unavailable(st, "no server stats block: the server did not report its stages");
		return;
	}
	ss = &sb->stage[id];
	if (!ss->count && !ss->total_ns) {
		/* The sink server reads but does not parse: no events is not
		 * a measured zero for a stage that did not run. */
		stage_set_unavailable(st, "the server recorded no %s events: this server does "
				      "not run the stage", stats_stage_what(id));
		return;
	}
	st->available = true;
	st->time_available = true;
	st->count = ss->count;
	st->bytes = ss->bytes;
	st->time_ns = (double)ss->total_ns;
	snprintf(st->source, sizeof(st->source), "server stats block (CLOCK_MONOTONIC around %s)",
		 stats_stage_what(id));
	stage_hist(st, ss->hist, STATS_HIST_BUCKETS, (double)ss->max_ns);
	if (reqs) {
		metric(st, "ns_per_request", "ns", MC_TIMING, st->time_ns / (double)reqs, st->source);
		if (id == STATS_PARSE)
			metric(st, "parse_calls_per_request", "count", MC_EXACT,
			       (double)ss->count / (double)reqs, st->source);
		if (id == STATS_WRITE) {
			metric(st, "bytes_per_request", "bytes", MC_EXACT,
			       (double)ss->bytes / (double)reqs, "server stats block (write() return values)");
			metric(st, "syscalls_per_request", "count", MC_COUNT,
			       (double)ss->count / (double)reqs, "server stats block (write() calls)");
		}
	}
	fill_hw_user(p, st, ss);
}

static void fill_alloc_own(struct profiler *p, struct stage_result *st, uint64_t reqs,
			   const char *src);
static void fill_kmalloc(struct profiler *p, struct stage_result *st, char *buf);

/* A foreign server: the LD_PRELOAD interposer's window counts (calls and
 * bytes, no time: the interposer does not time).  False when unavailable
 * (the stage says why). */
static bool fill_alloc_foreign(struct profiler *p, struct stage_result *st, uint64_t reqs)
{
	const struct profiler_foreign *f = &p->fx;
	const char *src = "LD_PRELOAD interposer libpktmem-alloc.so (server processes)";

	if (!f->alloc_available) {
		stage_set_unavailable(st, "%s", f->alloc_why[0] ? f->alloc_why
				      : "no allocation counts for this server");
		return false;
	}
	st->available = true;
	st->count = f->allocs;
	st->bytes = f->alloc_bytes;
	snprintf(st->source, sizeof(st->source), "%s", src);
	stage_note(st, "window: from the port's first accepted connection to the stop; "
		   "no time (the interposer counts, it does not time)");
	metric(st, "allocations", "count", MC_EXACT, (double)f->allocs, src);
	metric(st, "alloc_bytes", "bytes", MC_EXACT, (double)f->alloc_bytes, src);
	metric(st, "frees", "count", MC_EXACT, (double)f->frees, src);
	metric(st, "malloc_calls", "count", MC_INFO, (double)f->mallocs, src);
	metric(st, "calloc_calls", "count", MC_INFO, (double)f->callocs, src);
	metric(st, "realloc_calls", "count", MC_INFO, (double)f->reallocs, src);
	metric(st, "aligned_calls", "count", MC_INFO, (double)f->aligned, src);
	metric(st, "processes", "count", MC_INFO, (double)f->processes, src);
	if (reqs) {
		metric(st, "allocs_per_request", "count", MC_EXACT, (double)f->allocs / (double)reqs,
		       src);
		metric(st, "alloc_bytes_per_request", "bytes", MC_EXACT,
		       (double)f->alloc_bytes / (double)reqs, src);
		metric(st, "frees_per_request", "count", MC_EXACT, (double)f->frees / (double)reqs, src);
	}
	return true;
}

static void fill_alloc(struct profiler *p, struct stage_result *st, uint64_t reqs)
{
	const struct stats_block *sb = p->cfg.stats;
	const char *src = "counting allocator (server)";
	char buf[REPORT_REASON];

	if (p->foreign) {
		if (!fill_alloc_foreign(p, st, reqs))
			return;
	} else {
		fill_user(p, st, STATS_DESER, reqs);
		if (!sb || !st->available)
			return;
		fill_alloc_own(p, st, reqs, src);
	}
	fill_kmalloc(p, st, buf);
}

/* The built-in server's counting allocator (core/alloc.h). */
static void fill_alloc_own(struct profiler *p, struct stage_result *st, uint64_t reqs,
			   const char *src)
{
	const struct stats_block *sb = p->cfg.stats;

	metric(st, "allocations", "count", MC_EXACT, (double)sb->alloc.allocs, src);
	metric(st, "alloc_bytes", "bytes", MC_EXACT, (double)sb->alloc.bytes, src);
	metric(st, "peak_live_bytes", "bytes", MC_EXACT, (double)sb->alloc.peak_live_bytes, src);
	metric(st, "fields", "count", MC_INFO, (double)sb->alloc.fields, src);
	metric(st, "minor_faults", "count", MC_INFO, (double)sb->alloc.minor_faults,
	       "getrusage ru_minflt of the server process, ready to done");
	if (reqs) {
		metric(st, "allocs_per_request", "count", MC_EXACT,
		       (double)sb->alloc.allocs / (double)reqs, src);
		metric(st, "alloc_bytes_per_request", "bytes", MC_EXACT,
		       (double)sb->alloc.bytes / (double)reqs, src);
	}
}

/* Kernel allocations in the server's threads, and the sampled share. */
static void fill_kmalloc(struct profiler *p, struct stage_result *st, char *buf)
{
	if (!p->tp_ok) {
		metric_na(st, "kernel_kmalloc", "count", MC_COUNT, p->tp_reason);
	} else if (p->cfg.mode == PROFILE_COUNTS) {
		metric_na(st, "kernel_kmalloc", "count", MC_COUNT,
			  "kernel allocations are counted with --profile full (the filter runs "
			  "on every kmalloc of the machine)");
	} else if (p->kmalloc.n && p->kmca.n) {
		metric(st, "kernel_kmalloc", "count", MC_COUNT, (double)p->kmalloc.value,
		       "tracepoint kmem:kmalloc (server threads)");
		metric(st, "kernel_kmem_cache_alloc", "count", MC_COUNT, (double)p->kmca.value,
		       "tracepoint kmem:kmem_cache_alloc (server threads)");
	} else {
		metric_na(st, "kernel_kmalloc", "count", MC_COUNT,
			  cnt_reason(p, p->kmalloc.err ? &p->kmalloc : &p->kmca, buf, REPORT_REASON));
	}
	if (p->sampler)
		fill_hw_kernel(p, st, (const enum ksym_stage[]){ KS_ALLOC }, 1);
}

/* The server's user-space functions by sampling (full mode). */
static void fill_usyms(struct profiler *p, struct report_usyms *u)
{
	char buf[REPORT_REASON];

	memset(u, 0, sizeof(*u));
	if (p->sampler) {
		sampler_user_symbols(p->sampler, u);
		return;
	}
	u->present = true;
	if (p->cfg.mode != PROFILE_FULL)
		snprintf(u->reason, sizeof(u->reason),
			 "user symbols come from sampling: use --profile full");
	else if (p->err_sample)
		snprintf(u->reason, sizeof(u->reason), "sampling: %s",
			 perf_strerror(p->err_sample, "cpu-clock", buf, sizeof(buf)));
	else
		snprintf(u->reason, sizeof(u->reason), "%s", p->tp_reason);
}

int profiler_fill(struct profiler *p, struct trial *t)
{
	uint64_t reqs;
	int i;

	if (!p || !t)
		return -EINVAL;
	if (!p->stopped)
		profiler_stop(p);
	for (i = 0; i < RS__N; i++)
		memset(&t->stage[i], 0, sizeof(t->stage[i]));
	reqs = requests_of(p, t);
	p->reqs = reqs;
	fill_irq(p, &t->stage[RS_IRQ]);
	fill_softirq(p, &t->stage[RS_SOFTIRQ]);
	fill_copy(p, &t->stage[RS_COPY], reqs);
	fill_user(p, &t->stage[RS_PARSE], STATS_PARSE, reqs);
	fill_alloc(p, &t->stage[RS_ALLOC], reqs);
	fill_user(p, &t->stage[RS_HANDLER], STATS_HANDLER, reqs);
	fill_user(p, &t->stage[RS_WRITE], STATS_WRITE, reqs);
	fill_usyms(p, &t->usyms);
	return 0;
}
