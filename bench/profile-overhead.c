/*
 * profile-overhead: what pktmem's own profiling costs.  A TCP
 * request/response load (REQ bytes in, RESP bytes out, one connection,
 * TCP_NODELAY) runs between two network namespaces over a veth pair; each
 * round runs every mode (off, counts, full) once, in rotated order, with a
 * fresh profiler attached to the server child.  Reports the median
 * throughput per mode and the median of the paired per-round ratios.
 *
 * Client, server and the profiler's threads are pinned to one CPU (the
 * last): on a 2-vCPU VM, whether the scheduler puts client and server on
 * the same CPU or not moves the rate by 20-30% from one run to the next,
 * and what the profiler did in the run before moved it (an 'off' round
 * ran 32k requests/s after profiled rounds, 27k when they opened nothing).
 * Pinned, the rate is the inverse of all the CPU a request costs.
 *
 *	profile-overhead [ROUNDS [REQUESTS]]     (root, iproute2)
 */
#include "lib/io.h"
#include "lib/time.h"
#include "profile/profiler.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REQ 300
#define RESP 100

static double now_s(void)
{
	return (double)pm_now_ns() / 1e9;
}

static void server(int ctl_r, int ctl_w)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	char buf[4096], resp[RESP];
	uint64_t pending = 0;
	int ls, c, go = 1;
	ssize_t r;

	if (unshare(CLONE_NEWNET) < 0 || write(ctl_w, &go, sizeof(go)) != sizeof(go) ||
	    io_read_full(ctl_r, &go, sizeof(go)) < 0)
		_exit(20);
	if (system("ip link set lo up && ip addr add 10.78.0.2/24 dev pmbs && ip link set pmbs up"))
		_exit(21);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "10.78.0.2", &a.sin_addr);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &alen) < 0 ||
	    write(ctl_w, &a.sin_port, sizeof(a.sin_port)) != sizeof(a.sin_port))
		_exit(22);
	c = accept(ls, NULL, NULL);
	memset(resp, 'r', sizeof(resp));
	while ((r = read(c, buf, sizeof(buf))) > 0) {
		pending += (uint64_t)r;
		for (; pending >= REQ; pending -= REQ)
			if (write(c, resp, sizeof(resp)) != (ssize_t)sizeof(resp))
				_exit(23);
	}
	_exit(0);
}

/* On-CPU ns of every thread of a process (/proc/PID/task/TID/schedstat,
 * first field: Documentation/scheduler/sched-stats.rst). */
static double cpu_ns(pid_t pid)
{
	char path[96], buf[128];
	struct dirent *de;
	double sum = 0;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat", (int)pid, de->d_name);
		f = fopen(path, "r");
		if (f && fgets(buf, sizeof(buf), f))
			sum += strtod(buf, NULL);
		if (f)
			fclose(f);
	}
	closedir(d);
	return sum;
}

/* This process's CPU ns, threads that exited included: the profiler's
 * reader thread is joined inside the measured window, and a joined
 * thread is gone from /proc/PID/task. */
static double self_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7, nreq = argc > 2 ? atoi(argv[2]) : 20000;
	struct sockaddr_in a = { .sin_family = AF_INET };
	int to_child[2], from_child[2], go = 1, s, one = 1, r, k, i;
	double rate[3][64], ratio[3][64], cpu[3][64], cratio[3][64], t0, c0;
	char cmd[256], req[REQ], resp[RESP];
	pid_t pid;

	if (rounds < 1 || rounds > 64 || nreq < 1)
		return 2;
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "profile-overhead: needs root (network namespaces)\n");
		return 2;
	}
	{
		cpu_set_t set;
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		CPU_ZERO(&set);
		CPU_SET(ncpu > 1 ? (int)ncpu - 1 : 0, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			perror("profile-overhead: sched_setaffinity (not pinned)");
	}
	if (pipe(to_child) < 0 || pipe(from_child) < 0)
		return 1;
	pid = fork();
	if (pid == 0)
		server(to_child[0], from_child[1]);
	if (io_read_full(from_child[0], &go, sizeof(go)) < 0)
		return 1;
	snprintf(cmd, sizeof(cmd), "ip link add pmbc type veth peer name pmbs netns %d && "
		 "ip addr add 10.78.0.1/24 dev pmbc && ip link set pmbc up", (int)pid);
	if (system(cmd) || write(to_child[1], &go, sizeof(go)) != sizeof(go) ||
	    io_read_full(from_child[0], &a.sin_port, sizeof(a.sin_port)) < 0)
		return 1;
	inet_pton(AF_INET, "10.78.0.2", &a.sin_addr);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(req, 'q', sizeof(req));
	for (i = 0; i < 2000; i++)	/* warm up */
		if (write(s, req, REQ) != REQ || io_read_full(s, resp, RESP) < 0)
			return 1;
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < 3; k++) {
			enum profile_mode m = (enum profile_mode)((k + r) % 3);
			struct profiler_cfg cfg = { .mode = m, .dev = "pmbs", .veth = true };
			struct profiler *p = NULL;
			struct trial *t = calloc(1, sizeof(*t));

			cfg.server_pid[cfg.nserver++] = pid;
			cfg.sender_pid[cfg.nsender++] = getpid();
			if (!t || profiler_start(&p, &cfg) < 0)
				return 1;
			c0 = self_ns() + cpu_ns(pid);
			t0 = now_s();
			for (i = 0; i < nreq; i++)
				if (write(s, req, REQ) != REQ || io_read_full(s, resp, RESP) < 0)
					return 1;
			rate[m][r] = nreq / (now_s() - t0);
			profiler_stop(p);
			/* the profiler's reader thread and final drain are ours too */
			cpu[m][r] = (self_ns() + cpu_ns(pid) - c0) / nreq;
			profiler_fill(p, t);
			profiler_free(p);
			free(t);
		}
		for (k = 0; k < 3; k++) {
			ratio[k][r] = rate[k][r] / rate[PROFILE_OFF][r];
			cratio[k][r] = cpu[k][r] / cpu[PROFILE_OFF][r];
		}
		fprintf(stderr, "round %d: off %.0f, counts %.0f, full %.0f req/s; "
			"cpu %.0f, %.0f, %.0f ns/request\n", r + 1,
			rate[0][r], rate[1][r], rate[2][r], cpu[0][r], cpu[1][r], cpu[2][r]);
	}
	close(s);
	waitpid(pid, NULL, 0);
	printf("profile overhead: %d paired rounds of %d request/response pairs (%d B / %d B) over veth\n",
	       rounds, nreq, REQ, RESP);
	printf("  mode    throughput          CPU (client+server+profiler threads)\n");
	for (k = 0; k < 3; k++) {
		double med_rate = median(rate[k], rounds), med_ratio = median(ratio[k], rounds);
		double med_cpu = median(cpu[k], rounds), med_cratio = median(cratio[k], rounds);

		printf("  %-6s  %7.0f req/s %+6.1f%%  %7.0f ns/req %+6.1f%%\n",
		       profile_mode_name((enum profile_mode)k), med_rate, (med_ratio - 1) * 100,
		       med_cpu, (med_cratio - 1) * 100);
	}
	printf("  (percentages: median of the per-round ratios to off)\n");
	return 0;
}
