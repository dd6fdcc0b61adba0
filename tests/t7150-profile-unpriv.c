/*
 * t7150: the profiler without privileges, and the user stages from the
 * server's stats block.  A child drops to an unprivileged uid with no
 * capabilities: tracepoint stages (irq, softirq) are unavailable with the
 * paranoid/capability reason and the copy stage's kernel metrics say why,
 * while the user stages (parse, alloc, handler, write) are still measured
 * from the stats block, counters included: a counter the server opened is
 * a measured value, one that failed with ENOENT is "unavailable: no PMU";
 * a group that was multiplexed is measured with a note, one that never
 * got the PMU is unavailable with the reason.
 */
#include "core/selfmon.h"
#include "core/stats.h"
#include "profile/perf.h"
#include "profile/profiler.h"
#include "tests/tap.h"

#include <errno.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct metric *find_metric(const struct stage_result *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nmetrics; i++)
		if (!strcmp(st->metric[i].name, name))
			return &st->metric[i];
	return NULL;
}

static void fake_stats(struct stats_block *b, int with_counters)
{
	b->magic = STATS_MAGIC;
	b->version = STATS_VERSION;
	b->size = sizeof(*b);
	b->requests = 10;
	b->bytes_read = 3000;
	b->stage[STATS_READ].count = 12;
	b->stage[STATS_READ].bytes = 3000;
	b->stage[STATS_READ].total_ns = 24000;
	b->stage[STATS_READ].hist[11] = 12;
	b->stage[STATS_PARSE].count = 10;
	b->stage[STATS_PARSE].total_ns = 5000;
	b->stage[STATS_PARSE].hist[8] = 10;
	b->stage[STATS_DESER].count = 10;
	b->stage[STATS_DESER].total_ns = 9000;
	b->stage[STATS_DESER].hist[9] = 10;
	b->stage[STATS_HANDLER].count = 10;
	b->stage[STATS_WRITE].count = 10;
	b->stage[STATS_WRITE].bytes = 1000;
	b->alloc.allocs = 70;
	b->alloc.bytes = 4096;
	b->alloc.peak_live_bytes = 2048;
	b->alloc.minor_faults = 3;
	if (with_counters) {
		b->ncounters = 2;
		snprintf(b->counter_name[0], STATS_COUNTER_NAME, "cycles");
		b->counter_error[0] = -ENOENT;
		snprintf(b->counter_name[1], STATS_COUNTER_NAME, "task-clock");
		b->counter_error[1] = 0;
		b->stage[STATS_PARSE].counter[1] = 4321;
	}
}

static int run(int unpriv)
{
	struct profiler_cfg cfg = { .mode = PROFILE_FULL };
	struct stats_block *b = calloc(1, sizeof(*b));
	struct trial *t = calloc(1, sizeof(*t));
	struct profiler *p = NULL;
	const struct metric *m;
	int pmu;

	if (!b || !t)
		bail_out("no memory");
	if (unpriv) {
		/* nobody, no supplementary groups; setresuid from 0 to non-0
		 * clears every capability (capabilities(7)). */
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			bail_out("cannot drop privileges");
	}
	fake_stats(b, 1);
	cfg.stats = b;
	cfg.server_pid[cfg.nserver++] = getpid();
	cfg.sender_pid[cfg.nsender++] = getpid();
	cfg.veth = true;
	ok(profiler_start(&p, &cfg) == 0, "profiler_start succeeds even when nothing opens");
	profiler_stop(p);
	ok(profiler_fill(p, t) == 0, "profiler_fill");

	if (unpriv && !perf_privileged()) {
		ok(!t->stage[RS_SOFTIRQ].available &&
		   strstr(t->stage[RS_SOFTIRQ].reason, "perf_event_paranoid") &&
		   strstr(t->stage[RS_SOFTIRQ].reason, "CAP_PERFMON"),
		   "unprivileged: softirq unavailable with the paranoid/capability reason ('%s')",
		   t->stage[RS_SOFTIRQ].reason);
		ok(!t->stage[RS_IRQ].available && strstr(t->stage[RS_IRQ].reason, "perf_event_paranoid"),
		   "unprivileged: irq unavailable with the reason");
		m = find_metric(&t->stage[RS_COPY], "copy_bytes");
		ok(m && !m->available && strstr(m->reason, "perf_event_paranoid"),
		   "unprivileged: kernel copy bytes unavailable with the reason");
		ok(t->stage[RS_COPY].available && t->stage[RS_COPY].bytes == 3000 &&
		   strstr(t->stage[RS_COPY].source, "server stats"),
		   "unprivileged: copy stage falls back to the server's own count, labelled");
		ok(!profiler_samples(p, (uint64_t[KS__N]){ 0 }), "unprivileged: no sampling");
	}
	/* user stages: measured from the stats block either way */
	ok(t->stage[RS_PARSE].available && t->stage[RS_PARSE].count == 10 &&
	   t->stage[RS_PARSE].time_ns == 5000 && t->stage[RS_PARSE].has_hist,
	   "parse measured from the stats block");
	m = find_metric(&t->stage[RS_PARSE], "ns_per_request");
	ok(m && m->available && m->value == 500, "parse ns per request = 500");
	m = find_metric(&t->stage[RS_PARSE], "task-clock");
	ok(m && m->available && m->value == 4321, "a counter the server opened is measured");
	m = find_metric(&t->stage[RS_PARSE], "cycles");
	ok(m && !m->available && !strcmp(m->reason, "no PMU: perf_event_open(cycles) = ENOENT"),
	   "a counter that failed with ENOENT: 'no PMU: perf_event_open(cycles) = ENOENT'");
	m = find_metric(&t->stage[RS_ALLOC], "allocations");
	ok(t->stage[RS_ALLOC].available && m && m->available && m->value == 70,
	   "alloc counts equal the counting allocator's own");
	m = find_metric(&t->stage[RS_ALLOC], "allocs_per_request");
	ok(m && m->available && m->value == 7 && m->cls == MC_EXACT, "allocs_per_request = 7, exact");
	m = find_metric(&t->stage[RS_ALLOC], "peak_live_bytes");
	ok(m && m->value == 2048, "peak live bytes from the allocator");
	ok(t->stage[RS_WRITE].available && t->stage[RS_WRITE].bytes == 1000, "write stage measured");

	/* No counters handed to the server: the reason comes from our own
	 * probe of the PMU. */
	profiler_free(p);
	memset(b, 0, sizeof(*b));
	fake_stats(b, 0);
	cfg.mode = PROFILE_OFF;
	profiler_start(&p, &cfg);
	profiler_fill(p, t);
	pmu = perf_open(&(struct perf_event_attr){ .type = PERF_TYPE_HARDWARE,
			.config = PERF_COUNT_HW_CPU_CYCLES, .exclude_kernel = 1, .disabled = 1 },
			0, -1, -1, 0);
	m = find_metric(&t->stage[RS_PARSE], "cycles");
	if (pmu == -ENOENT)
		ok(m && !m->available && strstr(m->reason, "no PMU: perf_event_open(cycles) = ENOENT"),
		   "no PMU: parse cycles unavailable with the ENOENT reason");
	else
		skip("a PMU exists here: no-PMU reason not expected");
	if (pmu >= 0)
		close(pmu);
	ok(!t->stage[RS_SOFTIRQ].available && strstr(t->stage[RS_SOFTIRQ].reason, "--profile"),
	   "--profile off: kernel stages say how to turn profiling on");
	profiler_free(p);

	/* The server's group shared the PMU a quarter of the time: its
	 * counts are measured (already scaled by the server), with a note. */
	memset(b, 0, sizeof(*b));
	fake_stats(b, 1);
	b->counter_how = SELFMON_READ;
	b->counter_enabled_ns = 1000000;
	b->counter_running_ns = 250000;
	profiler_start(&p, &cfg);
	profiler_fill(p, t);
	m = find_metric(&t->stage[RS_PARSE], "task-clock");
	ok(m && m->available && m->value == 4321 && strstr(m->source, "read()"),
	   "multiplexed group: counter measured, source says how it was read ('%s')",
	   m ? m->source : "");
	ok(strstr(t->stage[RS_PARSE].note, "multiplexed: on the PMU 25% of the time") != NULL,
	   "multiplexed group: the stage notes the share and the scaling ('%s')",
	   t->stage[RS_PARSE].note);
	profiler_free(p);

	/* It never got the PMU: not measured, not a zero. */
	b->counter_running_ns = 0;
	profiler_start(&p, &cfg);
	profiler_fill(p, t);
	m = find_metric(&t->stage[RS_PARSE], "task-clock");
	ok(m && !m->available && strstr(m->reason, "never got the PMU") &&
	   strstr(m->reason, "fewer --events"),
	   "group never on the PMU: counter unavailable, saying why and what to do");
	profiler_free(p);
	free(b);
	free(t);
	return exit_status();
}

int main(void)
{
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		/* Already unprivileged: run the checks here. */
		plan_lazy();
		return run(1);
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		plan_lazy();
		exit(run(1));
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
