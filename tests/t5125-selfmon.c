/*
 * t5125-selfmon: the self-monitoring group (core/selfmon.h).
 * - selfmon_scale: a delta is scaled by enabled/running when the group was
 *   multiplexed, left alone when it counted all along, and is 0 (not
 *   measured) when it never ran; no overflow on large counts.
 * - A group of software events (task-clock, page-faults) and one that
 *   cannot open: the failure is recorded per event, the others count: a
 *   busy loop shows in task-clock, touching fresh pages in page-faults;
 *   it is read with read() (software events allow no rdpmc) and its time
 *   running equals its time enabled.
 * - A hardware group where a PMU exists: read by rdpmc when the kernel
 *   allows it (skips here: no PMU).
 */
#include "core/selfmon.h"
#include "tests/tap.h"

#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void scale_cases(void)
{
	is_int(selfmon_scale(100, 10, 10), 100, "scale: counted all along: unchanged");
	is_int(selfmon_scale(100, 10, 5), 200, "scale: on the PMU half the time: doubled");
	is_int(selfmon_scale(7, 3, 2), 10, "scale: 7 * 3 / 2 rounds down");
	is_int(selfmon_scale(100, 10, 0), 0, "scale: never on the PMU: 0, not the raw count");
	is_int(selfmon_scale(100, 0, 0), 100, "scale: no time passed on the group's clock: unchanged");
	ok(selfmon_scale(4000000000000000000ULL, 3, 2) == 6000000000000000000ULL,
	   "scale: 4e18 * 3 / 2 without overflow");
}

static void software_group(void)
{
	struct perf_event_attr a[3];
	struct selfmon_sample s0, s1;
	struct selfmon *m = NULL;
	int32_t errs[3] = { 1, 1, 1 };
	volatile uint64_t x = 0;
	uint64_t t0;
	char *pages;
	long pg = sysconf(_SC_PAGESIZE);
	int n, i;

	memset(a, 0, sizeof(a));
	a[0].type = PERF_TYPE_SOFTWARE;
	a[0].config = PERF_COUNT_SW_TASK_CLOCK;
	a[1].type = 0x7fff;	/* no such PMU type */
	a[2].type = PERF_TYPE_SOFTWARE;
	a[2].config = PERF_COUNT_SW_PAGE_FAULTS;
	n = selfmon_open(&m, a, 3, errs);
	if (n < 0) {
		for (i = 0; i < 9; i++)
			skip("perf_event_open(task-clock): %s", strerror(-n));
		return;
	}
	is_int(n, 2, "two of three events open");
	ok(errs[0] == 0 && errs[2] == 0 && errs[1] < 0, "errors per event: 0, %d, 0", errs[1]);
	is_int(selfmon_how(m), SELFMON_READ, "software events: read with read()");

	selfmon_read(m, &s0);
	t0 = thread_ns();
	while (thread_ns() - t0 < 5000000)	/* 5 ms of this thread's CPU */
		x++;
	pages = mmap(NULL, (size_t)pg * 64, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED)
		bail_out("mmap of 64 pages failed");
	for (i = 0; i < 64; i++)
		pages[(long)i * pg] = 1;
	selfmon_read(m, &s1);
	munmap(pages, (size_t)pg * 64);

	ok(s1.val[0] - s0.val[0] >= 4000000, "task-clock counted the 5 ms busy loop (%llu ns)",
	   (unsigned long long)(s1.val[0] - s0.val[0]));
	ok(s1.val[2] - s0.val[2] >= 64, "page-faults counted 64 fresh pages (%llu)",
	   (unsigned long long)(s1.val[2] - s0.val[2]));
	is_int(s1.val[1], 0, "the event that did not open reads 0");
	ok(s1.enabled > s0.enabled, "time enabled advances");
	ok(s1.running - s0.running == s1.enabled - s0.enabled,
	   "time running == time enabled: never multiplexed");
	ok(selfmon_scale(s1.val[0] - s0.val[0], s1.enabled - s0.enabled, s1.running - s0.running) ==
	   s1.val[0] - s0.val[0], "so its deltas are not scaled");
	selfmon_close(m);
}

static void none_open(void)
{
	struct perf_event_attr a;
	struct selfmon *m = (struct selfmon *)1;
	int32_t err = 1;
	int rc;

	memset(&a, 0, sizeof(a));
	a.type = 0x7fff;
	rc = selfmon_open(&m, &a, 1, &err);
	ok(rc < 0 && rc == err && m == NULL, "no event opens: -errno, no group (%d)", rc);
}

static void hardware_group(void)
{
	struct perf_event_attr a;
	struct selfmon_sample s0, s1;
	struct selfmon *m = NULL;
	int32_t err;
	volatile uint64_t x = 0;
	int i, n;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.exclude_kernel = 1;
	n = selfmon_open(&m, &a, 1, &err);
	if (n < 0) {
		skip("no PMU: perf_event_open(instructions) = %s", strerror(-n));
		skip("no PMU: perf_event_open(instructions) = %s", strerror(-n));
		return;
	}
	selfmon_read(m, &s0);
	for (i = 0; i < 1000000; i++)
		x++;
	selfmon_read(m, &s1);
	ok(s1.val[0] - s0.val[0] >= 1000000, "instructions counted the loop (%llu, read by %s)",
	   (unsigned long long)(s1.val[0] - s0.val[0]),
	   selfmon_how(m) == SELFMON_RDPMC ? "rdpmc" : "read()");
	ok(s1.running > s0.running, "the group ran");
	selfmon_close(m);
}

int main(void)
{
	plan_lazy();
	scale_cases();
	none_open();
	software_group();
	hardware_group();
	return exit_status();
}
