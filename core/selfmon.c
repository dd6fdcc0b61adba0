/* selfmon.c: a thread's self-monitoring perf_event group (selfmon.h). */
#include "core/selfmon.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct selfmon {
	int leader;
	unsigned nattr, nopen;
	int fd[SELFMON_MAX];		/* by attrs index, -1: not open */
	int slot[SELFMON_MAX];		/* position in the group read, -1 none */
	/* SELFMON_RDPMC: each open member's mmap page */
	struct perf_event_mmap_page *pg[SELFMON_MAX];
	size_t pgsz;
	enum selfmon_how how;
};

static int open_one(struct perf_event_attr *a, int group)
{
	int fd = (int)syscall(SYS_perf_event_open, a, 0, -1, group, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_RDPMC 1
static inline uint64_t rdpmc(uint32_t counter)
{
	uint32_t lo, hi;

	__asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(counter));
	return lo | (uint64_t)hi << 32;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}
#else
#define HAVE_RDPMC 0
#endif

static void unmap_all(struct selfmon *m)
{
	unsigned i;

	for (i = 0; i < m->nattr; i++)
		if (m->pg[i]) {
			munmap(m->pg[i], m->pgsz);
			m->pg[i] = NULL;
		}
}

/* rdpmc only when every open member allows it: the group's values must
 * come from one way of reading. */
static bool try_rdpmc(struct selfmon *m)
{
#if HAVE_RDPMC
	unsigned i;

	m->pgsz = (size_t)sysconf(_SC_PAGESIZE);
	for (i = 0; i < m->nattr; i++) {
		void *p;

		if (m->fd[i] < 0)
			continue;
		p = mmap(NULL, m->pgsz, PROT_READ, MAP_SHARED, m->fd[i], 0);
		if (p == MAP_FAILED)
			goto no;
		m->pg[i] = p;
		if (!m->pg[i]->cap_user_rdpmc)
			goto no;
	}
	return true;
no:
	unmap_all(m);
	return false;
#else
	(void)m;
	return false;
#endif
}

int selfmon_open(struct selfmon **out, const struct perf_event_attr *attrs, unsigned n,
		 int32_t *errs)
{
	struct selfmon *m;
	unsigned i;
	int fd;

	*out = NULL;
	if (n > SELFMON_MAX)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->leader = -1;
	m->nattr = n;
	for (i = 0; i < SELFMON_MAX; i++) {
		m->fd[i] = -1;
		m->slot[i] = -1;
	}
	for (i = 0; i < n; i++) {
		struct perf_event_attr a = attrs[i];

		a.size = sizeof(a);
		a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
				PERF_FORMAT_TOTAL_TIME_RUNNING;
		a.disabled = m->leader < 0;	/* the leader starts the group */
		a.exclude_hv = 1;
		fd = open_one(&a, m->leader);
		errs[i] = fd < 0 ? fd : 0;
		if (fd < 0)
			continue;
		m->fd[i] = fd;
		m->slot[i] = (int)m->nopen++;
		if (m->leader < 0)
			m->leader = fd;
	}
	if (m->leader < 0) {
		free(m);
		return n ? errs[0] : -EINVAL;
	}
	ioctl(m->leader, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
	ioctl(m->leader, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
	/* the kernel fills each page's capabilities once the group is on */
	m->how = try_rdpmc(m) ? SELFMON_RDPMC : SELFMON_READ;
	*out = m;
	return (int)m->nopen;
}

#if HAVE_RDPMC
/* The seqlock read of include/uapi/linux/perf_event.h's comment on
 * struct perf_event_mmap_page: the count from offset + the live counter,
 * enabled and running brought up to now from the TSC. */
static uint64_t read_page(const volatile struct perf_event_mmap_page *pc,
			  uint64_t *enabled, uint64_t *running)
{
	uint64_t count, en, run, cyc = 0, pmc = 0, delta = 0;
	uint32_t seq, idx, width = 0, shift = 0, mult = 0;
	uint64_t offset = 0, tcycles = 0, tmask = 0;
	bool have_time, time_short;

	do {
		seq = pc->lock;
		__asm__ volatile("" ::: "memory");
		en = pc->time_enabled;
		run = pc->time_running;
		have_time = pc->cap_user_time;
		time_short = pc->cap_user_time_short;
		if (have_time) {
			cyc = rdtsc();
			offset = pc->time_offset;
			mult = pc->time_mult;
			shift = pc->time_shift;
			tcycles = pc->time_cycles;
			tmask = pc->time_mask;
		}
		idx = pc->index;
		count = (uint64_t)pc->offset;
		if (pc->cap_user_rdpmc && idx) {
			width = pc->pmc_width;
			pmc = rdpmc(idx - 1);
		}
		__asm__ volatile("" ::: "memory");
	} while (pc->lock != seq);

	if (idx && width) {
		/* sign-extend the counter's width */
		pmc <<= 64 - width;
		pmc = (uint64_t)((int64_t)pmc >> (64 - width));
		count += pmc;
	}
	if (have_time) {
		uint64_t quot, rem;

		if (time_short)
			cyc = tcycles + ((cyc - tcycles) & tmask);
		quot = cyc >> shift;
		rem = cyc & (((uint64_t)1 << shift) - 1);
		delta = offset + quot * mult + ((rem * mult) >> shift);
		en += delta;
		if (idx)
			run += delta;
	}
	*enabled = en;
	*running = run;
	return count;
}
#endif

void selfmon_read(struct selfmon *m, struct selfmon_sample *s)
{
	/* PERF_FORMAT_GROUP with both times: nr, enabled, running, values */
	uint64_t buf[3 + SELFMON_MAX];
	unsigned i;

	memset(s, 0, sizeof(*s));
	if (!m)
		return;
#if HAVE_RDPMC
	if (m->how == SELFMON_RDPMC) {
		bool first = true;

		for (i = 0; i < m->nattr; i++) {
			uint64_t en, run;

			if (!m->pg[i])
				continue;
			s->val[i] = read_page(m->pg[i], &en, &run);
			if (first) {
				/* a group is scheduled as one: the leader's times */
				s->enabled = en;
				s->running = run;
				first = false;
			}
		}
		return;
	}
#endif
	if (read(m->leader, buf, sizeof(buf)) < (ssize_t)(3 * sizeof(uint64_t)))
		return;
	s->enabled = buf[1];
	s->running = buf[2];
	for (i = 0; i < m->nattr; i++)
		if (m->slot[i] >= 0 && (uint64_t)m->slot[i] < buf[0])
			s->val[i] = buf[3 + m->slot[i]];
}

enum selfmon_how selfmon_how(const struct selfmon *m)
{
	return m ? m->how : SELFMON_READ;
}

void selfmon_close(struct selfmon *m)
{
	unsigned i;

	if (!m)
		return;
	unmap_all(m);
	for (i = 0; i < m->nattr; i++)
		if (m->fd[i] >= 0)
			close(m->fd[i]);
	free(m);
}

uint64_t selfmon_scale(uint64_t delta, uint64_t d_enabled, uint64_t d_running)
{
	/* counted all along (or no time passed by the group's clock) */
	if (d_running >= d_enabled)
		return delta;
	if (!d_running)
		return 0;
	return (uint64_t)((unsigned __int128)delta * d_enabled / d_running);
}
