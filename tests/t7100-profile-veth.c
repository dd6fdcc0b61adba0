/*
 * t7100: the profiler against its own load over a veth pair: a TCP
 * request/response client in one network namespace, a server in another
 * (a forked child).  Checks the stage table the profiler fills: NET_RX
 * softirqs seen, packets >= data segments, bytes copied to user space ==
 * bytes the server read, a measured-zero irq row with the veth note, and
 * honest "unavailable" entries for what was not measured.
 *
 * Needs root (netns, tracepoints) and iproute2; skips otherwise.
 */
#include "lib/io.h"
#include "profile/perf.h"
#include "profile/profiler.h"
#include "tests/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define NREQ 200
#define REQ 300		/* bytes per request */
#define RESP 100	/* bytes per response */

/* The server child: waits for its veth end, listens, answers each REQ
 * bytes with RESP bytes, reports the bytes it read. */
static void server(int ctl_r, int ctl_w, const char *dev)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	char cmd[256], buf[4096], resp[RESP];
	uint64_t total = 0, pending = 0;
	int ls, c, go;
	ssize_t r;

	if (unshare(CLONE_NEWNET) < 0)
		_exit(20);
	go = 1;
	if (write(ctl_w, &go, sizeof(go)) != sizeof(go) || io_read_full(ctl_r, &go, sizeof(go)) < 0)
		_exit(21);
	snprintf(cmd, sizeof(cmd), "ip link set lo up && ip addr add 10.77.0.2/24 dev %s && "
		 "ip link set %s up", dev, dev);
	if (system(cmd) != 0)
		_exit(22);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "10.77.0.2", &a.sin_addr);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &alen) < 0)
		_exit(23);
	if (write(ctl_w, &a.sin_port, sizeof(a.sin_port)) != sizeof(a.sin_port))
		_exit(24);
	c = accept(ls, NULL, NULL);
	if (c < 0)
		_exit(25);
	memset(resp, 'r', sizeof(resp));
	for (;;) {
		r = read(c, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		total += (uint64_t)r;
		pending += (uint64_t)r;
		while (pending >= REQ) {
			pending -= REQ;
			if (write(c, resp, sizeof(resp)) != (ssize_t)sizeof(resp))
				_exit(26);
		}
	}
	if (write(ctl_w, &total, sizeof(total)) != sizeof(total))
		_exit(27);
	_exit(0);
}

static const struct metric *find_metric(const struct stage_result *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nmetrics; i++)
		if (!strcmp(st->metric[i].name, name))
			return &st->metric[i];
	return NULL;
}

static void session(enum profile_mode mode, int idx)
{
	struct profiler_cfg cfg = { .mode = mode };
	struct sockaddr_in a = { .sin_family = AF_INET };
	int to_child[2], from_child[2], go = 1, s, i, one = 1, status;
	char cmd[256], cdev[16], sdev[16], req[REQ], resp[RESP];
	struct profiler *p = NULL;
	struct trial *t = calloc(1, sizeof(*t));
	uint64_t server_total = 0;
	const struct metric *m;
	const char *mn = profile_mode_name(mode);
	pid_t pid;

	snprintf(cdev, sizeof(cdev), "pm7c%d", idx);
	snprintf(sdev, sizeof(sdev), "pm7s%d", idx);
	if (!t || pipe(to_child) < 0 || pipe(from_child) < 0)
		bail_out("pipe");
	pid = fork();
	if (pid < 0)
		bail_out("fork");
	if (pid == 0) {
		close(to_child[1]);
		close(from_child[0]);
		server(to_child[0], from_child[1], sdev);
	}
	close(to_child[0]);
	close(from_child[1]);
	if (io_read_full(from_child[0], &go, sizeof(go)) < 0)
		bail_out("server child did not start");
	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name %s netns %d && "
		 "ip addr add 10.77.0.1/24 dev %s && ip link set %s up",
		 cdev, sdev, (int)pid, cdev, cdev);
	if (system(cmd) != 0)
		bail_out("ip link add veth failed");
	if (write(to_child[1], &go, sizeof(go)) != sizeof(go) ||
	    io_read_full(from_child[0], &a.sin_port, sizeof(a.sin_port)) < 0)
		bail_out("server child failed to listen");

	cfg.server_pid[cfg.nserver++] = pid;
	cfg.sender_pid[cfg.nsender++] = getpid();
	snprintf(cfg.dev, sizeof(cfg.dev), "%s", sdev);
	cfg.veth = true;
	cfg.expected_bytes = (uint64_t)NREQ * REQ;
	cfg.expected_segments = NREQ;
	cfg.folded = mode == PROFILE_FULL;
	ok(profiler_start(&p, &cfg) == 0, "%s: profiler_start", mn);

	inet_pton(AF_INET, "10.77.0.2", &a.sin_addr);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		bail_out("connect over veth failed");
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(req, 'q', sizeof(req));
	for (i = 0; i < NREQ; i++)
		if (write(s, req, sizeof(req)) != (ssize_t)sizeof(req) ||
		    io_read_full(s, resp, sizeof(resp)) < 0)
			bail_out("request/response failed");
	close(s);
	if (io_read_full(from_child[0], &server_total, sizeof(server_total)) < 0)
		bail_out("server child did not report");
	waitpid(pid, &status, 0);
	profiler_stop(p);
	ok(profiler_fill(p, t) == 0, "%s: profiler_fill", mn);
	is_int(server_total, (uint64_t)NREQ * REQ, "%s: server read every byte", mn);

	/* irq: a measured zero with the veth note */
	ok(t->stage[RS_IRQ].available && t->stage[RS_IRQ].count == 0 &&
	   strstr(t->stage[RS_IRQ].note, "veth delivers without a hardware interrupt"),
	   "%s: irq row is a measured zero with the veth note", mn);

	/* softirq */
	ok(t->stage[RS_SOFTIRQ].available && t->stage[RS_SOFTIRQ].count > 0,
	   "%s: NET_RX softirq entries > 0 (%llu)", mn,
	   (unsigned long long)t->stage[RS_SOFTIRQ].count);
	m = find_metric(&t->stage[RS_SOFTIRQ], "packets");
	ok(m && m->available && m->value >= NREQ,
	   "%s: NET_RX packets on %s >= data segments (%.0f >= %d)", mn, sdev,
	   m ? m->value : -1, NREQ);
	m = find_metric(&t->stage[RS_SOFTIRQ], "net_rx_in_sender_context");
	ok(m && m->available, "%s: NET_RX in the sender's context measured (%.0f)", mn,
	   m ? m->value : -1);

	/* copy */
	ok(t->stage[RS_COPY].available, "%s: copy stage available", mn);
	is_int(t->stage[RS_COPY].bytes, server_total, "%s: bytes copied == bytes the server read", mn);
	ok(t->stage[RS_COPY].count >= NREQ, "%s: read syscalls >= requests (%llu)", mn,
	   (unsigned long long)t->stage[RS_COPY].count);
	ok(!strstr(t->stage[RS_COPY].note, "mismatch"), "%s: no copy mismatch noted ('%s')", mn,
	   t->stage[RS_COPY].note);
	m = find_metric(&t->stage[RS_COPY], "cycles");
	if (perf_open(&(struct perf_event_attr){ .type = PERF_TYPE_HARDWARE,
			.config = PERF_COUNT_HW_CPU_CYCLES, .exclude_kernel = 1,
			.disabled = 1 }, 0, -1, -1, 0) == -ENOENT)
		ok(m && !m->available && strstr(m->reason, "no PMU: perf_event_open(cycles) = ENOENT"),
		   "%s: no PMU: cycles unavailable with the ENOENT reason", mn);
	else
		skip("a PMU is present: the no-PMU reason is not expected");

	/* user stages: no stats block given here */
	ok(!t->stage[RS_PARSE].available && t->stage[RS_PARSE].reason[0],
	   "%s: parse unavailable with a reason without a stats block", mn);

	if (mode == PROFILE_FULL) {
		FILE *f = tmpfile();
		long sz = 0;

		ok(t->stage[RS_SOFTIRQ].time_available && t->stage[RS_SOFTIRQ].time_ns > 0 &&
		   t->stage[RS_SOFTIRQ].has_hist, "full: softirq time and histogram");
		ok(t->stage[RS_COPY].time_available && t->stage[RS_COPY].has_hist,
		   "full: read syscall time and histogram");
		m = find_metric(&t->stage[RS_COPY], "read_ret_bytes");
		ok(m && m->value == (double)server_total, "full: sys_exit ret bytes == server bytes");
		if (f && profiler_write_folded(p, f) == 0)
			sz = ftell(f);
		ok(sz > 0, "full: folded stacks written (%ld bytes)", sz);
		if (f)
			fclose(f);
	} else {
		ok(!t->stage[RS_SOFTIRQ].time_available &&
		   strstr(t->stage[RS_SOFTIRQ].note, "--profile full"),
		   "counts: softirq time says it needs --profile full");
	}
	if (profiler_notes(p)[0])
		diag("%s notes: %s", mn, profiler_notes(p));
	profiler_free(p);
	free(t);
	close(to_child[1]);
	close(from_child[0]);
}

int main(void)
{
	if (geteuid() != 0)
		skip_all("needs root (network namespaces, tracepoints)");
	if (system("ip -V >/dev/null 2>&1") != 0)
		skip_all("needs iproute2 (ip)");
	if (unshare(CLONE_NEWNET) < 0)
		skip_all("unshare(CLONE_NEWNET): %s", strerror(errno));
	plan_lazy();
	session(PROFILE_COUNTS, 0);
	session(PROFILE_FULL, 1);
	return exit_status();
}
