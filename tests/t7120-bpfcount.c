/*
 * t7120: per-stage counters read by BPF (profile/bpfcount.c) against a
 * loopback TCP transfer in a private network namespace.
 *
 * - softirq: the BPF program's NET_RX entries in this process equal the
 *   count of a counting tracepoint (irq:softirq_entry, vec == 3, the same
 *   thread) over the same window; the BPF window is nested inside, so
 *   only a stray NET_RX of other traffic run in this task during the
 *   attach/detach gap can make them differ (allowed: 2, BPF never more).
 * - cpu-clock (a software counter, readable without a PMU) sums > 0 ns
 *   per stage: the bpf_perf_event_read_value path measured here.
 * - copy: the reader child's read() calls are seen, each either summed or
 *   counted as slept/migrated.
 * - No PMU (perf_event_open(cycles) = ENOENT): every hardware event comes
 *   back with open error ENOENT and the program's read fails -ENOENT (an
 *   empty slot), never a zero taken for a measurement.  Skipped where a
 *   PMU exists; the PMU case then checks cycles count > 0.
 *
 * Needs root (netns, BPF, tracepoints); skips otherwise.
 */
#include "profile/bpfcount.h"
#include "profile/perf.h"
#include "profile/pfm.h"
#include "tests/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 16384
#define TOTAL (8u << 20)	/* bytes sent: a few hundred NET_RX */

static int lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return rc < 0 ? -errno : 0;
}

/* Listens on 127.0.0.1; the child (the reader) accepts and reads until
 * EOF after the parent says go.  Returns the child's pid. */
static pid_t start_reader(int *port_out, int *go_w)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int ls, p[2], c, go;
	char buf[CHUNK];
	pid_t pid;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &alen) < 0 || pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		c = accept(ls, NULL, NULL);
		if (c < 0 || read(p[0], &go, sizeof(go)) != sizeof(go))
			_exit(1);
		while (read(c, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	close(ls);
	close(p[0]);
	*port_out = ntohs(a.sin_port);
	*go_w = p[1];
	return pid;
}

int main(void)
{
	struct bpfcount_cfg cfg = { .events = NULL };
	struct bpfcount_result si, cp;
	struct perf_tp tp = { .sys = "irq", .name = "softirq_entry" };
	struct perf_event_attr attr, cyc;
	struct perf_counter *cnt = NULL;
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct bpfcount *b = NULL;
	char why[512], filter[64], buf[CHUNK];
	uint64_t counted = 0, sent = 0;
	int port = 0, go_w = -1, s, go = 1, status, i, pmu;
	pid_t reader;

	if (geteuid() != 0)
		skip_all("needs root (network namespace, BPF, tracepoints)");
	if (unshare(CLONE_NEWNET) < 0 || lo_up() < 0)
		skip_all("needs a private network namespace");
	if (perf_tp_load(&tp, 1, NULL) < 0 || tp.err)
		skip_all("no tracefs id for irq:softirq_entry");
	plan_lazy();

	reader = start_reader(&port, &go_w);
	if (reader < 0)
		bail_out("cannot start the reader");
	cfg.softirq_pid[0] = getpid();
	cfg.nsoftirq = 1;
	cfg.server_pid[0] = reader;
	cfg.nserver = 1;
	i = bpfcount_open(&b, &cfg, why, sizeof(why));
	if (i < 0) {
		/* BPF on tracepoints is a documented capability of these
		 * machines: as root its absence is a failure, said why. */
		ok(0, "bpfcount_open: %s", why);
		kill(reader, SIGKILL);
		waitpid(reader, NULL, 0);
		return exit_status();
	}
	ok(1, "the stage counter program loads");
	is_str(bpfcount_source(BPFCOUNT_SOFTIRQ),
	       "bpf bpf_perf_event_read_value on irq:softirq_entry/exit (vec == 3)", "softirq source");

	perf_attr_tp(&attr, &tp);
	snprintf(filter, sizeof(filter), "vec == 3 && common_pid == %d", (int)getpid());
	ok(perf_counter_open(&cnt, &attr, -1, filter) == 0, "counting tracepoint opens");

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		bail_out("connect over loopback");
	memset(buf, 'x', sizeof(buf));

	perf_counter_enable(cnt);
	ok(bpfcount_enable(b) == 0, "programs attach");
	if (write(go_w, &go, sizeof(go)) != sizeof(go))
		bail_out("go");
	while (sent < TOTAL) {
		ssize_t w = write(s, buf, sizeof(buf));

		if (w <= 0)
			break;
		sent += (uint64_t)w;
	}
	close(s);
	waitpid(reader, &status, 0);
	bpfcount_disable(b);
	perf_counter_disable(cnt);
	perf_counter_read(cnt, &counted);
	is_int(sent, TOTAL, "sent the whole transfer");

	ok(bpfcount_read(b, BPFCOUNT_SOFTIRQ, &si) == 0, "softirq sums read");
	ok(bpfcount_read(b, BPFCOUNT_COPY, &cp) == 0, "copy sums read");
	ok(counted > 0, "NET_RX ran in the sender's context (%llu)", (unsigned long long)counted);
	/* Equal but for a stray NET_RX of other traffic (a virtio interrupt
	 * landing in this task) inside the few ms of the attach/detach gap,
	 * which only the counting tracepoint sees: 2 at most. */
	ok(si.hits + 2 >= counted && si.hits <= counted,
	   "BPF NET_RX entries == counting tracepoint's (%llu, %llu)",
	   (unsigned long long)si.hits, (unsigned long long)counted);
	ok(si.pairs > 0 && si.pairs <= si.hits, "pairs summed (%llu of %llu)",
	   (unsigned long long)si.pairs, (unsigned long long)si.hits);
	is_str(si.ev[0].name, "cpu-clock", "slot 0 is the software clock");
	ok(si.ev[0].cpus_open > 0 && si.ev[0].read_errors == 0, "cpu-clock read on every hit");
	ok(si.ev[0].counter > 0, "softirq cpu-clock sum > 0 (%llu ns, %.0f ns per NET_RX)",
	   (unsigned long long)si.ev[0].counter,
	   si.pairs ? (double)si.ev[0].counter / (double)si.pairs : 0.0);
	ok(cp.hits > 0, "the reader's read() calls seen (%llu)", (unsigned long long)cp.hits);
	ok(cp.pairs + cp.slept + cp.migrated <= cp.hits &&
	   cp.pairs + cp.slept + cp.migrated + 1 >= cp.hits,
	   "every read summed or set aside (%llu summed, %llu slept, %llu migrated)",
	   (unsigned long long)cp.pairs, (unsigned long long)cp.slept,
	   (unsigned long long)cp.migrated);
	if (cp.pairs)
		ok(cp.ev[0].counter > 0, "copy cpu-clock sum > 0 (%.0f ns per read)",
		   (double)cp.ev[0].counter / (double)cp.pairs);
	else
		skip("every read slept or migrated: nothing summed");

	/* The hardware slots: absent here (no PMU) or counting (PMU). */
	pfm_encode("cycles", &cyc, NULL, 0, why, sizeof(why));
	pmu = pfm_probe(&cyc);
	is_str(si.ev[1].name, "cycles", "the default list starts with cycles");
	if (pmu == -ENOENT) {
		for (i = 1; i < si.nev; i++) {
			if (si.ev[i].software)
				continue;
			ok(si.ev[i].open_err == -ENOENT && si.ev[i].cpus_open == 0,
			   "no PMU: %s does not open (ENOENT)", si.ev[i].name);
			ok(si.ev[i].read_err == -ENOENT && si.ev[i].counter == 0,
			   "no PMU: bpf_perf_event_read_value(%s) = -ENOENT, nothing summed",
			   si.ev[i].name);
		}
	} else if (pmu == 0) {
		skip("a PMU exists: the no-PMU case does not apply");
		ok(si.ev[1].counter > 0, "cycles in NET_RX > 0 (%llu)",
		   (unsigned long long)si.ev[1].counter);
	} else {
		skip("cycles: perf_event_open = %d, neither a PMU nor its ENOENT absence", pmu);
	}

	perf_counter_free(cnt);
	bpfcount_free(b);
	close(go_w);
	return exit_status();
}
