/*
 * selfmon.h: a thread's self-monitoring perf_event group (pid 0, cpu -1),
 * read at stage boundaries.
 *
 * Reading: with rdpmc where the kernel allows it for every member
 * (perf_event_mmap_page.cap_user_rdpmc: x86 with a PMU and
 * /sys/bus/event_source/devices/cpu/rdpmc != 0), about 30 ns a counter
 * and no syscall; otherwise one read() of the group (about 1.8 us on the
 * VM this was built on).  Software events never allow rdpmc.
 *
 * Multiplexing: a group shares the PMU with other users (the NMI watchdog,
 * another perf); while it is off the PMU it counts nothing.  Each reading
 * carries the group's time enabled and time running, and a delta between
 * two readings is scaled by enabled / running over that interval
 * (selfmon_scale).  A group that never ran (more events than counters)
 * shows running == 0: its counts are not measured, not zero.
 *
 *	selfmon_open(&m, attrs, n, errs);   errs[i]: 0 or -errno per event
 *	selfmon_read(m, &a); ... selfmon_read(m, &b);
 *	delta_i = selfmon_scale(b.val[i] - a.val[i], b.enabled - a.enabled,
 *	                        b.running - a.running);
 *	selfmon_close(m);
 */
#ifndef PKTMEM_CORE_SELFMON_H
#define PKTMEM_CORE_SELFMON_H

#include <stdint.h>

struct perf_event_attr;
struct selfmon;

#define SELFMON_MAX 8

enum selfmon_how {
	SELFMON_READ = 1,	/* read() of the group */
	SELFMON_RDPMC,		/* rdpmc + the mmap page of each member */
};

struct selfmon_sample {
	uint64_t enabled, running;	/* the group's, ns */
	uint64_t val[SELFMON_MAX];	/* by attrs index; 0 for one not open */
};

/* Opens attrs[0..n) as one group on the calling thread, reset and
 * enabled; errs[i] gets 0 or -errno for each (a failed one leaves the
 * others counting).  The number opened (>= 1), or -errno when none. */
int selfmon_open(struct selfmon **out, const struct perf_event_attr *attrs, unsigned n,
		 int32_t *errs);
/* The current values, from the thread that opened the group. */
void selfmon_read(struct selfmon *m, struct selfmon_sample *s);
enum selfmon_how selfmon_how(const struct selfmon *m);
void selfmon_close(struct selfmon *m);

/* delta counted while the group ran d_running of d_enabled ns, scaled to
 * the whole interval; 0 when it did not run at all (see above). */
uint64_t selfmon_scale(uint64_t delta, uint64_t d_enabled, uint64_t d_running);

#endif
