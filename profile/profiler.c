/* profiler.c: a profiling session around a replay (profiler.h). */
#include "profile/profiler-int.h"
#include "core/selfmon.h"
#include "lib/time.h"
#include "profile/pfm.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const profiler_tracepoints[PROFILER_NTRACEPOINTS][2] = {
	[TP_IRQ_ENTRY] = { "irq", "irq_handler_entry" },
	[TP_IRQ_EXIT] = { "irq", "irq_handler_exit" },
	[TP_SI_ENTRY] = { "irq", "softirq_entry" },
	[TP_SI_EXIT] = { "irq", "softirq_exit" },
	[TP_NAPI] = { "napi", "napi_poll" },
	[TP_NRS] = { "net", "netif_receive_skb" },
	[TP_SYS_ENTER] = { "raw_syscalls", "sys_enter" },
	[TP_SYS_EXIT] = { "raw_syscalls", "sys_exit" },
	[TP_COPY] = { "skb", "skb_copy_datagram_iovec" },
	[TP_RECVLEN] = { "sock", "sock_recv_length" },
	[TP_KMALLOC] = { "kmem", "kmalloc" },
	[TP_KMCA] = { "kmem", "kmem_cache_alloc" },
	[TP_FORK] = { "sched", "sched_process_fork" },
};

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

/* ---- opening ------------------------------------------------------------ */

static void cnt_open(struct profiler *p, struct cnt *c, enum tp_idx t,
		     const pid_t *pids, int npids, const char *filter)
{
	struct perf_event_attr attr;
	int i, rc;

	snprintf(c->what, sizeof(c->what), "%s:%s", profiler_tracepoints[t][0], profiler_tracepoints[t][1]);
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
	return bpf_rule(mode, events, pfm_pmu_probe() == 0);
}

/* Every counter of a session, in the order they are enabled, disabled
 * and read. */
#define NCNT 12
static void cnt_list(struct profiler *p, struct cnt *c[NCNT])
{
	struct cnt *all[NCNT] = {
		&p->si_all, &p->si_sender, &p->si_ksoftirqd, &p->napi, &p->napi_ksi,
		&p->nrs, &p->nrs_ksi, &p->sys, &p->recvlen, &p->kmalloc, &p->kmca,
		&p->forks,
	};

	memcpy(c, all, sizeof(all));
}

/* Tracepoint ids and fields from tracefs; false (p->tp_reason says why)
 * when none can be opened. */
static bool load_tracepoints(struct profiler *p)
{
	bool priv_mount = false;
	int i, rc;

	if (p->cfg.mode == PROFILE_OFF) {
		snprintf(p->tp_reason, sizeof(p->tp_reason),
			 "profiling off: use --profile counts or --profile full");
		return false;
	}
	if (!perf_privileged()) {
		snprintf(p->tp_reason, sizeof(p->tp_reason),
			 "perf_event_paranoid=%d and no CAP_PERFMON: run as root or "
			 "set kernel.perf_event_paranoid=-1", perf_paranoid());
		return false;
	}
	for (i = 0; i < TP__N; i++) {
		snprintf(p->tp[i].sys, sizeof(p->tp[i].sys), "%s", profiler_tracepoints[i][0]);
		snprintf(p->tp[i].name, sizeof(p->tp[i].name), "%s", profiler_tracepoints[i][1]);
	}
	rc = perf_tp_load(p->tp, TP__N, &priv_mount);
	if (rc < 0) {
		perf_strerror(rc, "tracefs", p->tp_reason, sizeof(p->tp_reason));
		return false;
	}
	if (priv_mount)
		note(p, "tracefs is not mounted: pktmem read tracepoint formats through a private mount");
	p->tp_ok = true;
	return true;
}

/* The in-kernel filters on thread ids (common_pid) of the processes a
 * session watches: every thread alive at the start. */
struct tid_filters {
	char snd[TID_FILTER], srv[TID_FILTER], ksi[TID_FILTER];
	bool have_snd, have_srv, have_ksi;
	char devf[96];		/* the receiving device, for net:netif_receive_skb */
};

static void tid_filters_make(const struct profiler *p, struct tid_filters *f)
{
	const struct profiler_cfg *cfg = &p->cfg;

	f->have_snd = tid_filter(f->snd, sizeof(f->snd), cfg->sender_pid, cfg->nsender) > 0;
	f->have_srv = tid_filter(f->srv, sizeof(f->srv), cfg->server_pid, cfg->nserver) > 0;
	f->have_ksi = tid_filter(f->ksi, sizeof(f->ksi), p->ksoftirqd, p->nksoftirqd) > 0;
	if (cfg->dev[0])
		snprintf(f->devf, sizeof(f->devf), "name == \"%s\"", cfg->dev);
	else
		snprintf(f->devf, sizeof(f->devf), "name ~ \"veth*\"");
}

/* softirq: everywhere, in the sender's threads, in ksoftirqd; NAPI polls
 * and packets received the same way. */
static void open_softirq(struct profiler *p, const struct tid_filters *f)
{
	char f_si[TID_FILTER + 64], f_nrs[TID_FILTER + 160];
	pid_t all = -1;

	snprintf(f_si, sizeof(f_si), "vec == %d", NET_RX_VEC);
	cnt_open(p, &p->si_all, TP_SI_ENTRY, &all, 1, f_si);
	if (!f->have_snd) {
		cnt_open(p, &p->napi, TP_NAPI, &all, 1, NULL);
		cnt_open(p, &p->nrs, TP_NRS, &all, 1, f->devf);
		return;
	}
	snprintf(f_si, sizeof(f_si), "vec == %d && (%s)", NET_RX_VEC, f->snd);
	cnt_open(p, &p->si_sender, TP_SI_ENTRY, &all, 1, f_si);
	cnt_open(p, &p->napi, TP_NAPI, &all, 1, f->snd);
	snprintf(f_nrs, sizeof(f_nrs), "%s && (%s)", f->devf, f->snd);
	cnt_open(p, &p->nrs, TP_NRS, &all, 1, f_nrs);
	if (p->nksoftirqd) {
		/* Per task, unlike the rest: ksoftirqd runs little, and a
		 * per-CPU event filtered on its pids would test every
		 * softirq, poll and packet of the replay (3 more filters per
		 * hit, about 2% of a request's CPU). */
		snprintf(f_si, sizeof(f_si), "vec == %d", NET_RX_VEC);
		cnt_open(p, &p->si_ksoftirqd, TP_SI_ENTRY, p->ksoftirqd, p->nksoftirqd, f_si);
		cnt_open(p, &p->napi_ksi, TP_NAPI, p->ksoftirqd, p->nksoftirqd, NULL);
		cnt_open(p, &p->nrs_ksi, TP_NRS, p->ksoftirqd, p->nksoftirqd, f->devf);
	}
}

/* copy: the server's socket reads (sock_recvmsg, so read(), recv*() and
 * io_uring alike) and the kernel's copies; the syscalls' own time only in
 * full mode, as raw_syscalls slows every syscall on the machine once
 * enabled. */
static void open_server(struct profiler *p, const struct tid_filters *f)
{
	static const enum tp_idx srv_tp[] = { TP_COPY, TP_RECVLEN, TP_SYS_ENTER, TP_SYS_EXIT };
	char f_sys[TID_FILTER + 256], rd[240];
	const char *fl[4] = { f->srv, f->srv, f_sys, f_sys };
	bool full = p->cfg.mode == PROFILE_FULL;
	pid_t all = -1;
	int rc;

	if (!f->have_srv) {
		p->err_srv = p->recvlen.err = p->sys.err = p->kmalloc.err = p->kmca.err =
			p->forks.err = -ESRCH;
		return;
	}
	read_filter(rd, sizeof(rd));
	snprintf(f_sys, sizeof(f_sys), "(%s) && (%s)", f->srv, rd);
	cnt_open(p, &p->recvlen, TP_RECVLEN, &all, 1, f->srv);
	/* the filter names the threads alive now: a thread or process the
	 * server starts later (a thread per connection) reads unseen, so
	 * count them (rare: cheap) */
	cnt_open(p, &p->forks, TP_FORK, &all, 1, f->srv);
	if (full) {
		cnt_open(p, &p->sys, TP_SYS_ENTER, &all, 1, f_sys);
		/* kernel allocations: every kmalloc on the machine evaluates
		 * the filter, so only in full mode */
		cnt_open(p, &p->kmalloc, TP_KMALLOC, &all, 1, f->srv);
		cnt_open(p, &p->kmca, TP_KMCA, &all, 1, f->srv);
	} else {
		p->sys.err = p->kmalloc.err = p->kmca.err = -EAGAIN;
	}
	rc = ring_open(p, &p->r_srv[0], srv_tp, fl, full ? 4 : 1, -1);
	if (rc < 0)
		p->err_srv = rc;
	else
		p->n_srv = 1;
}

/* Full mode: timestamps of the replay's own NET_RX only.  The same task
 * enters and leaves a softirq, so filtering both on the thread ids keeps
 * the pairs; other traffic on the machine neither costs nor floods the
 * ring. */
static void open_softirq_ring(struct profiler *p, const struct tid_filters *f)
{
	static const enum tp_idx si_tp[] = { TP_SI_ENTRY, TP_SI_EXIT };
	char f_ring[2 * TID_FILTER + 64];
	const char *si_filters[2] = { f_ring, f_ring };

	if (f->have_snd)
		snprintf(f_ring, sizeof(f_ring), "vec == %d && (%s%s%s)", NET_RX_VEC,
			 f->snd, f->have_ksi ? " || " : "", f->have_ksi ? f->ksi : "");
	else
		snprintf(f_ring, sizeof(f_ring), "vec == %d", NET_RX_VEC);
	p->err_si = ring_open(p, &p->r_si, si_tp, si_filters, 2, -1);
}

/* Hard interrupts are rare on this path: record them always. */
static void open_irq_ring(struct profiler *p)
{
	static const enum tp_idx irq_tp[] = { TP_IRQ_ENTRY, TP_IRQ_EXIT };
	const struct profiler_cfg *cfg = &p->cfg;
	char irqf[96] = "";
	const char *irq_filters[2] = { NULL, NULL };

	if (!cfg->veth && !cfg->loopback && cfg->dev[0]) {
		snprintf(irqf, sizeof(irqf), "name ~ \"*%s*\"", cfg->dev);
		irq_filters[0] = irqf;
	}
	p->err_irq = ring_open(p, &p->r_irq, irq_tp, irq_filters, 2, -1);
}

/* The BPF stage counters, on the same tasks as the softirq counts (the
 * replayer and ksoftirqd/N, by process) and the server's reads. */
static void open_bpf(struct profiler *p)
{
	const struct profiler_cfg *cfg = &p->cfg;
	struct bpfcount_cfg bc = { .events = cfg->events };
	int i;

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

/* Opens every event the mode asks for; what fails records its error for
 * the stage rows and the rest goes on. */
static void open_events(struct profiler *p)
{
	const struct profiler_cfg *cfg = &p->cfg;
	struct tid_filters f;

	if (!load_tracepoints(p))
		return;
	find_ksoftirqd(p);
	/* Every event is per CPU with an in-kernel filter on the thread ids
	 * (common_pid) rather than per task: per-task events are switched at
	 * every context switch of their task, which on a request/response
	 * load costs more than all the counting (bench/profile-overhead.c).
	 * The threads are those alive now; the core server is one thread. */
	tid_filters_make(p, &f);
	open_softirq(p, &f);
	open_server(p, &f);
	if (cfg->mode == PROFILE_FULL)
		open_softirq_ring(p, &f);
	open_irq_ring(p);
	if (cfg->mode == PROFILE_FULL) {
		struct sampler_cfg sc = { .pid = -1, .hz = cfg->sample_hz,
					  .try_cycles = p->pmu_err == 0, .folded = cfg->folded,
					  .server = cfg->server_pid, .nserver = cfg->nserver,
					  .other = cfg->sender_pid, .nother = cfg->nsender };

		p->err_sample = sampler_new(&p->sampler, &sc);
	}
	/* the BPF stage counters: bpf_rule() says when */
	p->bpf_wanted = bpf_rule(cfg->mode, cfg->events, p->pmu_err == 0);
	if (p->bpf_wanted)
		open_bpf(p);
}

int profiler_start(struct profiler **out, const struct profiler_cfg *cfg)
{
	struct cnt *c[NCNT];
	struct profiler *p;
	int i, rc;

	*out = NULL;
	if (!cfg || cfg->nserver < 0 || cfg->nserver > PROFILER_MAX_PIDS ||
	    cfg->nsender < 0 || cfg->nsender > PROFILER_MAX_PIDS)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	if ((p->pmu_err = pfm_pmu_probe()) < 0)
		perf_strerror(p->pmu_err, "cycles", p->pmu_reason, sizeof(p->pmu_reason));
	open_events(p);

	p->t0 = pm_now_ns();
	cnt_list(p, c);
	for (i = 0; i < NCNT; i++)
		cnt_enable(c[i], true);
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
	struct cnt *c[NCNT];
	int i;

	if (!p || p->stopped)
		return 0;
	p->t1 = pm_now_ns();
	if (p->bpf) {
		bpfcount_disable(p->bpf);
		for (i = 0; i < BPFCOUNT__N; i++)
			p->bpf_read[i] = bpfcount_read(p->bpf, (enum bpfcount_stage)i,
						       &p->bpf_res[i]) == 0;
	}
	cnt_list(p, c);
	for (i = 0; i < NCNT; i++)
		cnt_enable(c[i], false);
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
	for (i = 0; i < NCNT; i++)
		cnt_read(c[i]);
	if (p->lost)
		note(p, "%llu trace records lost (ring buffer full): durations undercount",
		     (unsigned long long)p->lost);
	p->stopped = true;
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
	struct cnt *c[NCNT];
	int i;

	if (!p)
		return;
	profiler_stop(p);
	cnt_list(p, c);
	for (i = 0; i < NCNT; i++)
		cnt_close(c[i]);
	perf_ring_free(p->r_irq);
	perf_ring_free(p->r_si);
	for (i = 0; i < p->n_srv; i++)
		perf_ring_free(p->r_srv[i]);
	sampler_free(p->sampler);
	bpfcount_free(p->bpf);
	free(p);
}
