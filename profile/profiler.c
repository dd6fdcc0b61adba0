/* profiler.c: a profiling session around a replay (profiler.h). */
#include "profile/profiler.h"
#include "core/selfmon.h"
#include "profile/bpfcount.h"
#include "profile/perf.h"
#include "profile/pfm.h"
#include "profile/sample.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum tp_idx {
	TP_IRQ_ENTRY, TP_IRQ_EXIT, TP_SI_ENTRY, TP_SI_EXIT, TP_NAPI, TP_NRS,
	TP_SYS_ENTER, TP_SYS_EXIT, TP_COPY, TP_RECVLEN, TP_KMALLOC, TP_KMCA, TP_FORK,
	TP__N
};

static const char *const tp_names[TP__N][2] = {
	{ "irq", "irq_handler_entry" }, { "irq", "irq_handler_exit" },
	{ "irq", "softirq_entry" }, { "irq", "softirq_exit" },
	{ "napi", "napi_poll" }, { "net", "netif_receive_skb" },
	{ "raw_syscalls", "sys_enter" }, { "raw_syscalls", "sys_exit" },
	{ "skb", "skb_copy_datagram_iovec" }, { "sock", "sock_recv_length" },
	{ "kmem", "kmalloc" }, { "kmem", "kmem_cache_alloc" },
	{ "sched", "sched_process_fork" },
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void note(struct profiler *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct profiler *p, const char *fmt, ...)
{
	size_t len = strlen(p->notes);
	va_list ap;

	if (len + 2 >= sizeof(p->notes))
		return;
	if (len)
		p->notes[len++] = '\n';
	va_start(ap, fmt);
	vsnprintf(p->notes + len, sizeof(p->notes) - len, fmt, ap);
	va_end(ap);
}

int profile_mode_parse(const char *s, enum profile_mode *m)
{
	if (!strcmp(s, "off"))
		*m = PROFILE_OFF;
	else if (!strcmp(s, "counts"))
		*m = PROFILE_COUNTS;
	else if (!strcmp(s, "full"))
		*m = PROFILE_FULL;
	else
		return -EINVAL;
	return 0;
}

const char *profile_mode_name(enum profile_mode m)
{
	return m == PROFILE_FULL ? "full" : m == PROFILE_COUNTS ? "counts" : "off";
}

/* ---- histograms --------------------------------------------------------- */

static void histo_add(struct histo *h, uint64_t ns)
{
	int b = 0;

	/* log2 buckets as core/stats.h: bucket i holds [2^i, 2^(i+1)) ns. */
	if (ns)
		b = 63 - __builtin_clzll(ns);
	if (b >= HIST_N)
		b = HIST_N - 1;
	h->b[b]++;
	h->n++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

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

/* ---- report helpers (report.c is the report helper's; these only fill) */

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

static void stage_na(struct stage_result *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void stage_na(struct stage_result *st, const char *fmt, ...)
{
	va_list ap;

	st->available = false;
	st->time_available = false;
	va_start(ap, fmt);
	vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
	va_end(ap);
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

/* ---- opening ------------------------------------------------------------ */

static void cnt_open(struct profiler *p, struct cnt *c, enum tp_idx t,
		     const pid_t *pids, int npids, const char *filter)
{
	struct perf_event_attr attr;
	int i, rc;

	snprintf(c->what, sizeof(c->what), "%s:%s", tp_names[t][0], tp_names[t][1]);
	if (!p->tp_ok) {
		c->err = -EPERM;
		return;
	}
	if (p->tp[t].err) {
		c->err = p->tp[t].err;
		return;
	}
	perf_attr_tp(&attr, &p->tp[t]);
	for (i = 0; i < npids && c->n < MAX_CPUS; i++) {
		rc = perf_counter_open(&c->c[c->n], &attr, pids[i], filter);
		if (rc < 0) {
			c->err = rc;
			return;
		}
		c->n++;
	}
	if (!c->n && !c->err)
		c->err = -ESRCH;
}

static void cnt_close(struct cnt *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		perf_counter_free(c->c[i]);
	c->n = 0;
}

static void cnt_enable(struct cnt *c, bool on)
{
	int i;

	for (i = 0; i < c->n; i++)
		on ? perf_counter_enable(c->c[i]) : perf_counter_disable(c->c[i]);
}

static void cnt_read(struct cnt *c)
{
	uint64_t v;
	int i;

	c->value = 0;
	for (i = 0; i < c->n; i++)
		if (perf_counter_read(c->c[i], &v) == 0)
			c->value += v;
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

/* ksoftirqd/N threads: NET_RX deferred out of the sender's context. */
static void find_ksoftirqd(struct profiler *p)
{
	char path[300], buf[32];
	struct dirent *de;
	DIR *d = opendir("/proc");
	ssize_t n;
	int fd;

	if (!d)
		return;
	while ((de = readdir(d)) && p->nksoftirqd < MAX_CPUS) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 10 && !strncmp(buf, "ksoftirqd/", 10))
			p->ksoftirqd[p->nksoftirqd++] = atoi(de->d_name);
	}
	closedir(d);
}

/* "id == 0 || id == 17 || ...": the read family (arch syscall numbers). */
static void read_filter(char *buf, size_t len)
{
	size_t i, used = 0;
	int w;

	buf[0] = 0;
	for (i = 0; i < perf_nread_syscalls; i++) {
		w = snprintf(buf + used, len - used, "%sid == %ld", i ? " || " : "",
			     perf_read_syscalls[i]);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

#define TID_FILTER 1024

/* "common_pid == t1 || common_pid == t2 ...": every thread alive now of
 * each process (common_pid is the thread id).  Returns the thread count. */
static int tid_filter(char *buf, size_t len, const pid_t *pids, int npids)
{
	char path[64];
	struct dirent *de;
	size_t used = 0;
	int i, n = 0, w;
	DIR *d;

	buf[0] = 0;
	for (i = 0; i < npids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pids[i]);
		d = opendir(path);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			w = snprintf(buf + used, len - used, "%scommon_pid == %d", n ? " || " : "",
				     atoi(de->d_name));
			if (w < 0 || (size_t)w >= len - used)
				break;
			used += (size_t)w;
			n++;
		}
		closedir(d);
	}
	return n;
}

static bool pid_in(const pid_t *set, int n, uint32_t pid)
{
	int i;

	for (i = 0; i < n; i++)
		if ((uint32_t)set[i] == pid)
			return true;
	return false;
}

/* ---- ring readers ------------------------------------------------------- */

#define TP_SAMPLE (PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW)

static int tp_of(const struct profiler *p, const struct perf_sample *s)
{
	uint16_t type;
	int i;

	if (s->raw_size < 2)
		return -1;
	memcpy(&type, s->raw, 2);	/* common_type: the tracepoint id */
	for (i = 0; i < TP__N; i++)
		if (p->tp[i].id == type)
			return i;
	return -1;
}

static uint64_t field(const struct profiler *p, int t, const char *name,
		      const struct perf_sample *s)
{
	return perf_tp_get(perf_tp_field(&p->tp[t], name), s->raw, s->raw_size);
}

static void on_record(void *arg, const struct perf_event_header *h, const void *rec, size_t len)
{
	struct profiler *p = arg;
	struct perf_sample s;
	uint32_t cpu, slot, i;
	int t;

	(void)h;
	if (perf_sample_parse(TP_SAMPLE, rec, len, &s) < 0 || (t = tp_of(p, &s)) < 0)
		return;
	cpu = s.cpu < MAX_CPUS ? s.cpu : MAX_CPUS - 1;
	switch (t) {
	case TP_IRQ_ENTRY:
		p->irq_entry_ts[cpu] = s.time;
		p->irq_all++;
		break;
	case TP_IRQ_EXIT:
		if (p->irq_entry_ts[cpu] && s.time >= p->irq_entry_ts[cpu])
			histo_add(&p->irq_h, s.time - p->irq_entry_ts[cpu]);
		p->irq_entry_ts[cpu] = 0;
		break;
	case TP_SI_ENTRY:
		p->si_entry_ts[cpu] = s.time;
		p->si_entry_pid[cpu] = s.pid;
		break;
	case TP_SI_EXIT:
		if (p->si_entry_ts[cpu] && s.time >= p->si_entry_ts[cpu]) {
			uint64_t d = s.time - p->si_entry_ts[cpu];
			uint32_t pid = p->si_entry_pid[cpu];
			int ctx = pid_in(p->cfg.sender_pid, p->cfg.nsender, pid) ? 0 :
				  pid_in(p->ksoftirqd, p->nksoftirqd, pid) ? 1 : 2;

			histo_add(&p->si_h[ctx], d);
			p->si_ctx[ctx]++;
			p->si_ctx_ns[ctx] += d;
		}
		p->si_entry_ts[cpu] = 0;
		break;
	case TP_COPY: {
		int64_t l = (int64_t)field(p, t, "len", &s);

		p->copy_calls++;
		/* atomic: profiler_copy_bytes() reads it from another thread */
		if (l > 0)
			__atomic_fetch_add(&p->copy_bytes, (uint64_t)l, __ATOMIC_RELAXED);
		break;
	}
	case TP_RECVLEN: {
		int64_t r = (int64_t)field(p, t, "ret", &s);

		p->recv_calls++;
		if (r > 0)
			p->recv_bytes += (uint64_t)r;
		break;
	}
	case TP_SYS_ENTER:
		slot = s.tid % TID_SLOTS;
		for (i = 0; i < TID_SLOTS; i++, slot = (slot + 1) % TID_SLOTS)
			if (!p->tid_ts[slot].tid || p->tid_ts[slot].tid == s.tid)
				break;
		if (i < TID_SLOTS) {
			p->tid_ts[slot].tid = s.tid;
			p->tid_ts[slot].ts = s.time;
		}
		break;
	case TP_SYS_EXIT: {
		int64_t r = (int64_t)field(p, t, "ret", &s);

		p->sys_exits++;
		if (r > 0)
			p->sys_ret_bytes += (uint64_t)r;
		slot = s.tid % TID_SLOTS;
		for (i = 0; i < TID_SLOTS; i++, slot = (slot + 1) % TID_SLOTS) {
			if (!p->tid_ts[slot].tid)
				break;
			if (p->tid_ts[slot].tid == s.tid) {
				if (p->tid_ts[slot].ts && s.time >= p->tid_ts[slot].ts)
					histo_add(&p->sys_h, s.time - p->tid_ts[slot].ts);
				p->tid_ts[slot].ts = 0;
				break;
			}
		}
		break;
	}
	default:
		break;
	}
}

static void drain_all(struct profiler *p)
{
	int i;

	perf_ring_drain(p->r_irq, on_record, p, &p->lost);
	perf_ring_drain(p->r_si, on_record, p, &p->lost);
	for (i = 0; i < p->n_srv; i++)
		perf_ring_drain(p->r_srv[i], on_record, p, &p->lost);
	if (p->sampler)
		sampler_drain(p->sampler);
}

static void *reader(void *arg)
{
	struct profiler *p = arg;
	struct pollfd pfd[512];
	int fds[512], n = 0, i;

	n += perf_ring_fds(p->r_irq, fds + n, 512 - n);
	n += perf_ring_fds(p->r_si, fds + n, 512 - n);
	for (i = 0; i < p->n_srv; i++)
		n += perf_ring_fds(p->r_srv[i], fds + n, 512 - n);
	if (p->sampler)
		n += sampler_fds(p->sampler, fds + n, 512 - n);
	for (i = 0; i < n; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		/* Wake on a quarter-full buffer (wakeup_watermark) or every
		 * 20 ms, whichever comes first. */
		poll(pfd, (nfds_t)n, 20);
		drain_all(p);
	}
	return NULL;
}

static int ring_open(struct profiler *p, struct perf_ring **r, const enum tp_idx *t,
		     const char *const *filters, int nt, pid_t pid)
{
	struct perf_event_attr attrs[8];
	int i;

	if (!p->tp_ok)
		return -EPERM;
	for (i = 0; i < nt; i++) {
		if (p->tp[t[i]].err)
			return p->tp[t[i]].err;
		perf_attr_tp(&attrs[i], &p->tp[t[i]]);
		attrs[i].sample_period = 1;
		attrs[i].sample_type = TP_SAMPLE;
		attrs[i].watermark = 1;
		attrs[i].wakeup_watermark = RING_PAGES * 4096 / 4;
	}
	return perf_ring_open(r, attrs, filters, nt, pid, RING_PAGES);
}

/* Is there a PMU?  Only opening cycles tells (libpfm4 guesses): 0 or
 * perf_event_open's -errno. */
static int pmu_probe(void)
{
	struct perf_event_attr cyc;

	memset(&cyc, 0, sizeof(cyc));
	cyc.type = PERF_TYPE_HARDWARE;
	cyc.config = PERF_COUNT_HW_CPU_CYCLES;
	return pfm_probe(&cyc);
}

/* The BPF stage counters cost every syscall on the machine ~200 ns
 * while attached (the copy window is raw_syscalls): on by default in
 * full mode only where a PMU gives them hardware counters to read;
 * without one, only when --events asks (cpu-clock is read then too). */
static bool bpf_rule(enum profile_mode mode, const char *events, bool pmu)
{
	if (mode == PROFILE_OFF)
		return false;	/* profiler_start() opens nothing then */
	return (mode == PROFILE_FULL && pmu) || (events && events[0]);
}

bool profiler_wants_bpf(enum profile_mode mode, const char *events)
{
	return bpf_rule(mode, events, pmu_probe() == 0);
}

int profiler_start(struct profiler **out, const struct profiler_cfg *cfg)
{
	struct profiler *p;
	pid_t all = -1;
	bool priv_mount = false;
	int i, rc;

	*out = NULL;
	if (!cfg || cfg->nserver < 0 || cfg->nserver > PROFILER_MAX_PIDS ||
	    cfg->nsender < 0 || cfg->nsender > PROFILER_MAX_PIDS)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;

	if ((p->pmu_err = pmu_probe()) < 0)
		perf_strerror(p->pmu_err, "cycles", p->pmu_reason, sizeof(p->pmu_reason));

	if (cfg->mode == PROFILE_OFF) {
		snprintf(p->tp_reason, sizeof(p->tp_reason),
			 "profiling off: use --profile counts or --profile full");
		goto started;
	}
	if (!perf_privileged()) {
		snprintf(p->tp_reason, sizeof(p->tp_reason),
			 "perf_event_paranoid=%d and no CAP_PERFMON: run as root or "
			 "set kernel.perf_event_paranoid=-1", perf_paranoid());
		goto started;
	}
	for (i = 0; i < TP__N; i++) {
		snprintf(p->tp[i].sys, sizeof(p->tp[i].sys), "%s", tp_names[i][0]);
		snprintf(p->tp[i].name, sizeof(p->tp[i].name), "%s", tp_names[i][1]);
	}
	rc = perf_tp_load(p->tp, TP__N, &priv_mount);
	if (rc < 0) {
		perf_strerror(rc, "tracefs", p->tp_reason, sizeof(p->tp_reason));
		goto started;
	}
	if (priv_mount)
		note(p, "tracefs is not mounted: pktmem read tracepoint formats through a private mount");
	p->tp_ok = true;
	find_ksoftirqd(p);

	/* Every event is per CPU with an in-kernel filter on the thread ids
	 * (common_pid) rather than per task: per-task events are switched at
	 * every context switch of their task, which on a request/response
	 * load costs more than all the counting (bench/profile-overhead.c).
	 * The threads are those alive now; the core server is one thread. */
	{
		char snd[TID_FILTER], srv[TID_FILTER], ksi[TID_FILTER], devf[96];
		char f_si[TID_FILTER + 64], f_nrs[TID_FILTER + 160], f_sys[TID_FILTER + 256];
		char f_srv[TID_FILTER + 16], rd[240];
		bool have_snd = tid_filter(snd, sizeof(snd), cfg->sender_pid, cfg->nsender) > 0;
		bool have_srv = tid_filter(srv, sizeof(srv), cfg->server_pid, cfg->nserver) > 0;
		bool have_ksi = tid_filter(ksi, sizeof(ksi), p->ksoftirqd, p->nksoftirqd) > 0;

		if (cfg->dev[0])
			snprintf(devf, sizeof(devf), "name == \"%s\"", cfg->dev);
		else
			snprintf(devf, sizeof(devf), "name ~ \"veth*\"");

		/* softirq: everywhere, in the sender's threads, in ksoftirqd */
		snprintf(f_si, sizeof(f_si), "vec == %d", NET_RX_VEC);
		cnt_open(p, &p->si_all, TP_SI_ENTRY, &all, 1, f_si);
		if (have_snd) {
			snprintf(f_si, sizeof(f_si), "vec == %d && (%s)", NET_RX_VEC, snd);
			cnt_open(p, &p->si_sender, TP_SI_ENTRY, &all, 1, f_si);
			cnt_open(p, &p->napi, TP_NAPI, &all, 1, snd);
			snprintf(f_nrs, sizeof(f_nrs), "%s && (%s)", devf, snd);
			cnt_open(p, &p->nrs, TP_NRS, &all, 1, f_nrs);
			if (p->nksoftirqd) {
				/* Per task, unlike the rest: ksoftirqd runs
				 * little, and a per-CPU event filtered on its
				 * pids would test every softirq, poll and
				 * packet of the replay (3 more filters per
				 * hit, about 2% of a request's CPU). */
				snprintf(f_si, sizeof(f_si), "vec == %d", NET_RX_VEC);
				cnt_open(p, &p->si_ksoftirqd, TP_SI_ENTRY, p->ksoftirqd, p->nksoftirqd, f_si);
				cnt_open(p, &p->napi_ksi, TP_NAPI, p->ksoftirqd, p->nksoftirqd, NULL);
				cnt_open(p, &p->nrs_ksi, TP_NRS, p->ksoftirqd, p->nksoftirqd, devf);
			}
		} else {
			cnt_open(p, &p->napi, TP_NAPI, &all, 1, NULL);
			cnt_open(p, &p->nrs, TP_NRS, &all, 1, devf);
		}

		/* copy: the server's socket reads (sock_recvmsg, so read(),
		 * recv*() and io_uring alike) and the kernel's copies; the
		 * syscalls' own time only in full mode, as raw_syscalls slows
		 * every syscall on the machine once enabled */
		read_filter(rd, sizeof(rd));
		snprintf(f_sys, sizeof(f_sys), "(%s) && (%s)", srv, rd);
		snprintf(f_srv, sizeof(f_srv), "%s", srv);
		if (have_srv) {
			static const enum tp_idx srv_tp[] = { TP_COPY, TP_RECVLEN, TP_SYS_ENTER, TP_SYS_EXIT };
			const char *fl[4] = { f_srv, f_srv, f_sys, f_sys };

			cnt_open(p, &p->recvlen, TP_RECVLEN, &all, 1, f_srv);
			/* the filter names the threads alive now: a thread or
			 * process the server starts later (a thread per
			 * connection) reads unseen, so count them (rare: cheap) */
			cnt_open(p, &p->forks, TP_FORK, &all, 1, f_srv);
			if (cfg->mode == PROFILE_FULL) {
				cnt_open(p, &p->sys, TP_SYS_ENTER, &all, 1, f_sys);
				/* kernel allocations: every kmalloc on the machine
				 * evaluates the filter, so only in full mode */
				cnt_open(p, &p->kmalloc, TP_KMALLOC, &all, 1, f_srv);
				cnt_open(p, &p->kmca, TP_KMCA, &all, 1, f_srv);
			} else {
				p->sys.err = p->kmalloc.err = p->kmca.err = -EAGAIN;
			}
			rc = ring_open(p, &p->r_srv[0], srv_tp, fl,
				       cfg->mode == PROFILE_FULL ? 4 : 1, -1);
			if (rc < 0)
				p->err_srv = rc;
			else
				p->n_srv = 1;
		} else {
			p->err_srv = p->recvlen.err = p->sys.err = p->kmalloc.err = p->kmca.err =
				p->forks.err = -ESRCH;
		}

		if (cfg->mode == PROFILE_FULL) {
			/* Timestamps of the replay's own NET_RX only: the same
			 * task enters and leaves a softirq, so filtering both on
			 * the thread ids keeps the pairs; other traffic on the
			 * machine neither costs nor floods the ring. */
			static const enum tp_idx si_tp[] = { TP_SI_ENTRY, TP_SI_EXIT };
			char f_ring[2 * TID_FILTER + 64];
			const char *si_filters[2] = { f_ring, f_ring };

			if (have_snd)
				snprintf(f_ring, sizeof(f_ring), "vec == %d && (%s%s%s)", NET_RX_VEC,
					 snd, have_ksi ? " || " : "", have_ksi ? ksi : "");
			else
				snprintf(f_ring, sizeof(f_ring), "vec == %d", NET_RX_VEC);
			p->err_si = ring_open(p, &p->r_si, si_tp, si_filters, 2, -1);
		}
	}

	{
		/* Hard interrupts are rare on this path: record them always. */
		static const enum tp_idx irq_tp[] = { TP_IRQ_ENTRY, TP_IRQ_EXIT };
		char irqf[96] = "";
		const char *irq_filters[2] = { NULL, NULL };

		if (!cfg->veth && !cfg->loopback && cfg->dev[0]) {
			snprintf(irqf, sizeof(irqf), "name ~ \"*%s*\"", cfg->dev);
			irq_filters[0] = irqf;
		}
		p->err_irq = ring_open(p, &p->r_irq, irq_tp, irq_filters, 2, -1);
	}
	if (cfg->mode == PROFILE_FULL) {
		struct sampler_cfg sc = { .pid = -1, .hz = cfg->sample_hz,
					  .try_cycles = p->pmu_err == 0, .folded = cfg->folded,
					  .server = cfg->server_pid, .nserver = cfg->nserver,
					  .other = cfg->sender_pid, .nother = cfg->nsender };

		p->err_sample = sampler_new(&p->sampler, &sc);
	}
	/* the BPF stage counters: bpf_rule() says when */
	p->bpf_wanted = bpf_rule(cfg->mode, cfg->events, p->pmu_err == 0);
	if (p->bpf_wanted) {
		/* The same tasks as the softirq counts (the replayer and
		 * ksoftirqd/N, by process) and the server's reads. */
		struct bpfcount_cfg bc = { .events = cfg->events };

		for (i = 0; i < cfg->nsender && bc.nsoftirq < BPFCOUNT_MAX_PIDS; i++)
			bc.softirq_pid[bc.nsoftirq++] = cfg->sender_pid[i];
		for (i = 0; cfg->nsender && i < p->nksoftirqd && bc.nsoftirq < BPFCOUNT_MAX_PIDS; i++)
			bc.softirq_pid[bc.nsoftirq++] = p->ksoftirqd[i];
		for (i = 0; i < cfg->nserver && bc.nserver < BPFCOUNT_MAX_PIDS; i++)
			bc.server_pid[bc.nserver++] = cfg->server_pid[i];
		p->err_bpf = bpfcount_open(&p->bpf, &bc, p->bpf_why, sizeof(p->bpf_why));
		if (p->err_bpf < 0 && !p->bpf_why[0])
			snprintf(p->bpf_why, sizeof(p->bpf_why), "bpf: %s", strerror(-p->err_bpf));
	}

started:
	p->t0 = now_ns();
	cnt_enable(&p->si_all, true);
	cnt_enable(&p->si_sender, true);
	cnt_enable(&p->si_ksoftirqd, true);
	cnt_enable(&p->napi, true);
	cnt_enable(&p->napi_ksi, true);
	cnt_enable(&p->nrs, true);
	cnt_enable(&p->nrs_ksi, true);
	cnt_enable(&p->sys, true);
	cnt_enable(&p->recvlen, true);
	cnt_enable(&p->kmalloc, true);
	cnt_enable(&p->kmca, true);
	cnt_enable(&p->forks, true);
	perf_ring_enable(p->r_irq);
	perf_ring_enable(p->r_si);
	for (i = 0; i < p->n_srv; i++)
		perf_ring_enable(p->r_srv[i]);
	if (p->sampler)
		sampler_enable(p->sampler);
	if (p->bpf && (rc = bpfcount_enable(p->bpf)) < 0) {
		p->err_bpf = rc;
		snprintf(p->bpf_why, sizeof(p->bpf_why), "attaching the BPF stage counters: %s",
			 strerror(-rc));
		bpfcount_free(p->bpf);
		p->bpf = NULL;
	}
	if (p->r_irq || p->r_si || p->n_srv || p->sampler) {
		if (pthread_create(&p->thr, NULL, reader, p) == 0)
			p->thr_running = true;
		else
			note(p, "no reader thread: %s", strerror(errno));
	}
	*out = p;
	return 0;
}

int profiler_stop(struct profiler *p)
{
	int i;

	if (!p || p->stopped)
		return 0;
	p->t1 = now_ns();
	if (p->bpf) {
		bpfcount_disable(p->bpf);
		for (i = 0; i < BPFCOUNT__N; i++)
			p->bpf_read[i] = bpfcount_read(p->bpf, (enum bpfcount_stage)i,
						       &p->bpf_res[i]) == 0;
	}
	cnt_enable(&p->si_all, false);
	cnt_enable(&p->si_sender, false);
	cnt_enable(&p->si_ksoftirqd, false);
	cnt_enable(&p->napi, false);
	cnt_enable(&p->napi_ksi, false);
	cnt_enable(&p->nrs, false);
	cnt_enable(&p->nrs_ksi, false);
	cnt_enable(&p->sys, false);
	cnt_enable(&p->recvlen, false);
	cnt_enable(&p->kmalloc, false);
	cnt_enable(&p->kmca, false);
	cnt_enable(&p->forks, false);
	perf_ring_disable(p->r_irq);
	perf_ring_disable(p->r_si);
	for (i = 0; i < p->n_srv; i++)
		perf_ring_disable(p->r_srv[i]);
	if (p->sampler)
		sampler_disable(p->sampler);
	if (p->thr_running) {
		__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
		pthread_join(p->thr, NULL);
		p->thr_running = false;
	}
	drain_all(p);
	cnt_read(&p->si_all);
	cnt_read(&p->si_sender);
	cnt_read(&p->si_ksoftirqd);
	cnt_read(&p->napi);
	cnt_read(&p->napi_ksi);
	cnt_read(&p->nrs);
	cnt_read(&p->nrs_ksi);
	cnt_read(&p->sys);
	cnt_read(&p->recvlen);
	cnt_read(&p->kmalloc);
	cnt_read(&p->kmca);
	cnt_read(&p->forks);
	if (p->lost)
		note(p, "%llu trace records lost (ring buffer full): durations undercount",
		     (unsigned long long)p->lost);
	p->stopped = true;
	return 0;
}

/* ---- filling the stage table ------------------------------------------- */

static struct metric *find_metric(struct stage_result *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nmetrics; i++)
		if (!strcmp(st->metric[i].name, name))
			return &st->metric[i];
	return NULL;
}

/* A BPF counter named like a metric fill_hw_kernel already made: the
 * unavailable "cycles" is replaced (the BPF reason says more), a sampled
 * one is kept as "sampled_<name>". */
static struct metric *bpf_metric(struct stage_result *st, const char *name, const char *unit,
				 enum metric_class cls, double value, const char *source)
{
	struct metric *old = find_metric(st, name);

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
		stage_na(st, "%s", p->tp_ok ? perf_strerror(p->err_irq, "irq:irq_handler_entry",
							    buf, sizeof(buf)) : p->tp_reason);
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
		stage_na(st, "%s", cnt_reason(p, &p->si_all, buf, sizeof(buf)));
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
		stage_na(st, "%s", p->tp_ok ? (p->err_srv == -ESRCH && p->cfg.server_why[0]
					      ? p->cfg.server_why
					      : perf_strerror(p->err_srv, "skb:skb_copy_datagram_iovec",
							      buf, sizeof(buf)))
					 : p->tp_reason);
		return;
	}

	if (!have_tp && (!sb || !rd->count)) {
		/* Neither the kernel's view nor the server's own count of read
		 * calls: the bytes alone do not make a stage row. */
		stage_na(st, "%s", cnt_reason(p, &p->recvlen, buf, sizeof(buf)));
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

/* stats.c is the server helper's; the profiler needs only the names. */
static const char *stats_stage_name_local(enum stats_stage_id id)
{
	static const char *const n[STATS_STAGE__N] = {
		"read()", "parse", "deserialize", "handler", "write()",
	};

	return (unsigned)id < STATS_STAGE__N ? n[id] : "?";
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
		stage_na(st, "a server pktmem did not build (--exec/--target) keeps no stats block: "
			 "its %s stage is not measured", stats_stage_name_local(id));
		return;
	}
	if (!sb) {
		stage_na(st, "no server stats block: the server did not report its stages");
		return;
	}
	ss = &sb->stage[id];
	if (!ss->count && !ss->total_ns) {
		/* The sink server reads but does not parse: no events is not
		 * a measured zero for a stage that did not run. */
		stage_na(st, "the server recorded no %s events: this server does not run the stage",
			 stats_stage_name_local(id));
		return;
	}
	st->available = true;
	st->time_available = true;
	st->count = ss->count;
	st->bytes = ss->bytes;
	st->time_ns = (double)ss->total_ns;
	snprintf(st->source, sizeof(st->source), "server stats block (CLOCK_MONOTONIC around %s)",
		 stats_stage_name_local(id));
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
		stage_na(st, "%s", f->alloc_why[0] ? f->alloc_why : "no allocation counts for this server");
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

void profiler_set_expected(struct profiler *p, uint64_t bytes, uint64_t segments)
{
	if (!p)
		return;
	p->cfg.expected_bytes = bytes;
	p->cfg.expected_segments = segments;
}

void profiler_set_foreign(struct profiler *p, const struct profiler_foreign *f)
{
	if (!p || !f)
		return;
	p->foreign = true;
	p->fx = *f;
}

int profiler_copy_bytes(const struct profiler *p, uint64_t *bytes)
{
	uint64_t v, forks = 0;
	int i;

	if (!p || !p->n_srv || p->err_srv)
		return -ENODATA;
	*bytes = __atomic_load_n(&p->copy_bytes, __ATOMIC_RELAXED);
	/* a thread or process started since: its reads are not in it;
	 * without the fork counter that cannot be ruled out */
	if (!p->forks.n)
		return 1;
	for (i = 0; i < p->forks.n; i++)
		if (perf_counter_read(p->forks.c[i], &v) == 0)
			forks += v;
	return forks ? 1 : 0;
}

void profiler_set_stats(struct profiler *p, const struct stats_block *st)
{
	if (p)
		p->cfg.stats = st;
}

bool profiler_samples(const struct profiler *p, uint64_t samples[KS__N])
{
	uint64_t period[KS__N];

	if (!p || !p->sampler)
		return false;
	sampler_counts(p->sampler, samples, period, NULL);
	return true;
}

int profiler_write_folded(struct profiler *p, FILE *f)
{
	if (!p || !p->sampler)
		return p && p->err_sample ? p->err_sample : -ENODATA;
	return sampler_write_folded(p->sampler, f);
}

const char *profiler_notes(const struct profiler *p)
{
	return p ? p->notes : "";
}

void profiler_free(struct profiler *p)
{
	int i;

	if (!p)
		return;
	profiler_stop(p);
	cnt_close(&p->si_all);
	cnt_close(&p->si_sender);
	cnt_close(&p->si_ksoftirqd);
	cnt_close(&p->napi);
	cnt_close(&p->napi_ksi);
	cnt_close(&p->nrs);
	cnt_close(&p->nrs_ksi);
	cnt_close(&p->sys);
	cnt_close(&p->recvlen);
	cnt_close(&p->kmalloc);
	cnt_close(&p->kmca);
	cnt_close(&p->forks);
	perf_ring_free(p->r_irq);
	perf_ring_free(p->r_si);
	for (i = 0; i < p->n_srv; i++)
		perf_ring_free(p->r_srv[i]);
	sampler_free(p->sampler);
	bpfcount_free(p->bpf);
	free(p);
}
