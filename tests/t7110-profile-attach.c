/*
 * t7110: attaching the profiler to a server child forked by someone else
 * (as the replay engine does): the child announces itself before it
 * listens, the parent's thread opens the events on its pid, and the
 * parent reads the child's shared stats block once it has exited, before
 * unmapping it (prof_attach_stats()).  Load: TCP
 * request/response over loopback in a private network namespace.
 */
#include "core/stats.h"
#include "profile/attach.h"
#include "tests/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NREQ 100
#define REQ 200

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void server(struct prof_attach *a, struct stats_block *st, int ls)
{
	char buf[4096], resp[64];
	uint64_t pending = 0, t0;
	ssize_t r;
	int c;

	if (prof_attach_child_ready(a) < 0)
		_exit(20);
	st->ready = 1;
	c = accept(ls, NULL, NULL);
	if (c < 0)
		_exit(21);
	memset(resp, 'r', sizeof(resp));
	for (;;) {
		t0 = now_ns();
		r = read(c, buf, sizeof(buf));
		if (r <= 0)
			break;
		st->stage[STATS_READ].count++;
		st->stage[STATS_READ].bytes += (uint64_t)r;
		st->stage[STATS_READ].total_ns += now_ns() - t0;
		st->bytes_read += (uint64_t)r;
		pending += (uint64_t)r;
		while (pending >= REQ) {
			pending -= REQ;
			st->requests++;
			st->stage[STATS_PARSE].count++;
			st->stage[STATS_PARSE].total_ns += 100;
			if (write(c, resp, sizeof(resp)) != (ssize_t)sizeof(resp))
				_exit(22);
		}
	}
	prof_attach_child_done(a, st);
	st->finished = 1;	/* as the engine's child does after its run */
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

int main(void)
{
	struct profiler_cfg cfg = { .mode = PROFILE_COUNTS, .dev = "lo" };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(sa);
	struct prof_attach *a = NULL;
	struct trial *t = calloc(1, sizeof(*t));
	struct stats_block *st;
	char req[REQ], resp[64];
	int ls, s, i, status, one = 1;
	const struct metric *m;
	pid_t pid;

	if (geteuid() != 0)
		skip_all("needs root (network namespace, tracepoints)");
	if (unshare(CLONE_NEWNET) < 0 || system("ip link set lo up") != 0)
		skip_all("needs a private network namespace and iproute2");
	plan_lazy();
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED || !t)
		bail_out("no memory");
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &alen) < 0)
		bail_out("listen on loopback");
	ok(prof_attach_new(&a, &cfg) == 0, "prof_attach_new");
	pid = fork();
	if (pid == 0)
		server(a, st, ls);
	ok(prof_attach_start(a, 1) == 0, "prof_attach_start after the fork");
	close(ls);
	for (i = 0; i < 500 && !st->ready; i++)
		usleep(10000);
	ok(st->ready, "server announced itself and was acknowledged");
	ok(prof_attach_profiler(a) != NULL && prof_attach_error(a) == 0, "profiler started on the child");
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		bail_out("connect");
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(req, 'q', sizeof(req));
	for (i = 0; i < NREQ; i++) {
		size_t got = 0;
		ssize_t r;

		if (write(s, req, sizeof(req)) != (ssize_t)sizeof(req))
			bail_out("write");
		while (got < sizeof(resp) && (r = read(s, resp + got, sizeof(resp) - got)) > 0)
			got += (size_t)r;
	}
	close(s);
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0, "server child exited cleanly");
	/* as the engine does: the block is read, then unmapped */
	prof_attach_stats(a, (const struct stats_block *const[2]){ st, NULL });
	munmap(st, sizeof(*st));
	ok(prof_attach_finish(a, t) == 0, "prof_attach_finish fills the trial");
	ok(t->stage[RS_COPY].available && t->stage[RS_COPY].bytes == (uint64_t)NREQ * REQ,
	   "copy bytes (kernel) == bytes sent (%llu)", (unsigned long long)t->stage[RS_COPY].bytes);
	m = find_metric(&t->stage[RS_COPY], "server_bytes_read");
	ok(m && m->value == (double)NREQ * REQ, "server bytes from the snapshot");
	ok(!strstr(t->stage[RS_COPY].note, "mismatch"), "no mismatch noted");
	ok(t->stage[RS_PARSE].available && t->stage[RS_PARSE].count == NREQ,
	   "parse count == requests (from the snapshot)");
	ok(t->stage[RS_SOFTIRQ].available && t->stage[RS_SOFTIRQ].count > 0, "NET_RX softirqs seen");
	m = find_metric(&t->stage[RS_SOFTIRQ], "packets");
	ok(m && m->available && m->value >= NREQ, "packets on lo >= requests (%.0f)", m ? m->value : -1);
	prof_attach_free(a);

	/* Two children expected (an IPv4 and an IPv6 server), one reports:
	 * the first must still be acknowledged before its own 4 s run out,
	 * and the stage table must say the other's events are missing. */
	memset(t, 0, sizeof(*t));
	st = calloc(1, sizeof(*st));	/* the first block is unmapped */
	if (!st)
		bail_out("no memory");
	ok(prof_attach_new(&a, &cfg) == 0, "prof_attach_new (two children expected)");
	pid = fork();
	if (pid == 0)
		_exit(prof_attach_child_ready(a) < 0 ? 30 :
		      (prof_attach_child_done(a, st), st->finished = 1, 0));
	ok(prof_attach_start(a, 2) == 0, "prof_attach_start(a, 2)");
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
	       "the child that reported was acknowledged although the other never did");
	prof_attach_stats(a, (const struct stats_block *const[2]){ st, NULL });
	ok(prof_attach_finish(a, t) == 0, "prof_attach_finish");
	ok(strstr(t->stage[RS_COPY].note, "had not reported") != NULL,
	   "the copy note says a child's kernel-side events are missing (%s)", t->stage[RS_COPY].note);
	prof_attach_free(a);
	free(st);
	free(t);
	return exit_status();
}
