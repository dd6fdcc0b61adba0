/*
 * t5120-counters: the stage hooks' self-monitoring group.  Software
 * counters (task-clock, page faults) open everywhere perf_event_open is
 * allowed and their deltas land in the parse and deser stages; a counter
 * that cannot open (hardware cycles in a VM without a PMU, or a bogus
 * type) records -errno in counter_error while the rest keep counting;
 * the group is read with read() (software events allow no rdpmc), and its
 * time running equals its time enabled (never multiplexed).
 */
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/selfmon.h"
#include "tests/tap.h"
#include "tests/srvtest.h"

static char rbuf[65536];

int main(void)
{
	struct perf_event_attr a[3];
	static const char *const names[3] = { "task-clock", "bogus", "page-faults" };
	struct server_config cfg;
	struct srvtest t;
	const struct stats_block *sb;
	int fd, closed, i;
	char req[4096];
	size_t n = 0;

	plan_lazy();
	memset(a, 0, sizeof(a));
	a[0].type = PERF_TYPE_SOFTWARE;
	a[0].config = PERF_COUNT_SW_TASK_CLOCK;
	a[1].type = 0x7fff;	/* no such PMU type: ENOENT */
	a[2].type = PERF_TYPE_SOFTWARE;
	a[2].config = PERF_COUNT_SW_PAGE_FAULTS;
	for (i = 0; i < 3; i++)
		a[i].size = sizeof(a[i]);
	fd = (int)syscall(SYS_perf_event_open, &a[0], 0, -1, -1, 0);
	if (fd < 0)
		skip_all("perf_event_open(task-clock): %s", strerror(errno));
	close(fd);

	server_config_default(&cfg);
	cfg.io = SERVER_IO_EPOLL;
	cfg.deser = DESER_TREE;
	cfg.counters = a;
	cfg.counter_names = names;
	cfg.ncounters = 3;
	if (srvtest_start(&t, &cfg) < 0)
		bail_out("server did not start");
	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n,
				      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n\r\n{\"a\":[1,2,3]}");
	fd = srvtest_connect(t.port, NULL);
	srvtest_send(fd, req, n);
	srvtest_read(fd, rbuf, sizeof(rbuf), 500, &closed);
	close(fd);
	is_int(srvtest_count(rbuf, "{\"bytes\":13,\"fields\":5}"), 20, "20 requests answered");
	sb = srvtest_snap(&t);
	is_int(sb->ncounters, 3, "three counters configured");
	is_str(sb->counter_name[0], "task-clock", "names copied");
	is_int(sb->counter_error[0], 0, "task-clock opened");
	ok(sb->counter_error[1] < 0, "bogus type: -errno recorded (%d)", sb->counter_error[1]);
	is_int(sb->counter_error[2], 0, "page-faults opened after a failed one");
	ok(sb->stage[STATS_PARSE].counter[0] > 0, "parse: task-clock ns counted (%llu)",
	   (unsigned long long)sb->stage[STATS_PARSE].counter[0]);
	ok(sb->stage[STATS_DESER].counter[0] > 0, "deser: task-clock ns counted (%llu)",
	   (unsigned long long)sb->stage[STATS_DESER].counter[0]);
	is_int(sb->stage[STATS_PARSE].counter[1], 0, "failed counter stays 0");
	/* software events are never multiplexed and never allow rdpmc */
	is_int(sb->counter_how, SELFMON_READ, "the group is read with read() (software events)");
	ok(sb->counter_enabled_ns > 0, "the group's time enabled is summed (%llu ns)",
	   (unsigned long long)sb->counter_enabled_ns);
	ok(sb->counter_running_ns == sb->counter_enabled_ns,
	   "running == enabled: not multiplexed, so not scaled");
	is_int(srvtest_stop_server(&t), 0, "clean exit");
	return exit_status();
}
