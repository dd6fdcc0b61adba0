/*
 * srvtest.h: helpers for the server tests: run core/server in a forked
 * child (exactly as the replayer will: server_run() with a shared stats
 * block, no exec), and raw-socket clients.  The child exits through exit()
 * so LeakSanitizer checks the server in the sanitizer build.
 */
#ifndef PKTMEM_TESTS_SRVTEST_H
#define PKTMEM_TESTS_SRVTEST_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/server.h"
#include "core/stats.h"
#include "tests/stats-conn.h"

static volatile sig_atomic_t srvtest_stop;

static void srvtest_on_term(int sig)
{
	(void)sig;
	srvtest_stop = 1;
}

struct srvtest {
	pid_t pid;
	struct stats_block *stats;
	struct stats_block *snap;	/* srvtest_snap()'s copy */
	uint16_t port;
};

static inline void srvtest_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* 0 ok; -1 the server did not come up within 10 s. */
/* Open descriptors of process pid (/proc/PID/fd), or -1. */
static inline int srvtest_count_fds(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The server closes a connection when it sees the client's FIN, which on a
 * loaded machine can take a while: wait up to 5 s for the count to settle
 * back to want. */
static inline int srvtest_settled_fds(pid_t pid, int want)
{
	int i, n = srvtest_count_fds(pid);

	for (i = 0; i < 500 && n != want; i++) {
		srvtest_sleep_ms(10);
		n = srvtest_count_fds(pid);
	}
	return n;
}

static inline int srvtest_start(struct srvtest *t, const struct server_config *cfg)
{
	int i;

	memset(t, 0, sizeof(*t));
	if (stats_create(&t->stats, 0) < 0)
		return -1;
	fflush(stdout);
	t->pid = fork();
	if (t->pid == 0) {
		struct sigaction sa;
		int rc;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = srvtest_on_term;
		sigaction(SIGTERM, &sa, NULL);
		/* a test killed by a timeout takes its server with it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		rc = server_run(cfg, t->stats, &srvtest_stop);
		exit(rc < 0 ? 3 : 0);
	}
	for (i = 0; i < 1000 && !__atomic_load_n(&t->stats->ready, __ATOMIC_ACQUIRE); i++) {
		int st;

		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			t->pid = 0;
			return -1;
		}
		srvtest_sleep_ms(10);
	}
	t->port = t->stats->port;
	return t->stats->ready ? 0 : -1;
}

/* Stops the child; its exit status (0 clean; LSan makes it non-zero). */
static inline int srvtest_stop_server(struct srvtest *t)
{
	int st = 0;

	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, &st, 0);
	}
	stats_destroy(t->stats);
	t->stats = NULL;
	free(t->snap);
	t->snap = NULL;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The server's totals now: while it runs they are spread over its
 * workers' sections of the block (stats.h), summed by a snapshot. */
static inline const struct stats_block *srvtest_snap(struct srvtest *t)
{
	if (!t->snap)
		t->snap = malloc(stats_block_bytes(t->stats->conn_cap));
	if (!t->snap)
		return t->stats;
	stats_snapshot(t->stats, t->snap);
	return t->snap;
}

static inline int srvtest_connect(uint16_t port, uint16_t *local_port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t sl = sizeof(in);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&in, sizeof(in)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (local_port) {
		getsockname(fd, (struct sockaddr *)&in, &sl);
		*local_port = ntohs(in.sin_port);
	}
	return fd;
}

static inline int srvtest_send(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads until EOF (returns bytes, *closed = 1), the buffer is full, or
 * timeout_ms passes without a byte (*closed = 0).  A reset counts as
 * closed.  The first byte may take up to 10 s: a loaded machine (tests of
 * several projects in parallel) must not turn into a failure; only the
 * quiet gap after the answer uses timeout_ms. */
static inline size_t srvtest_read(int fd, char *buf, size_t cap, int timeout_ms, int *closed)
{
	size_t n = 0;

	*closed = 0;
	while (n + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, n ? timeout_ms : (timeout_ms > 10000 ? timeout_ms : 10000)) <= 0)
			break;
		r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			*closed = 1;
			break;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n;
}

static inline unsigned srvtest_count(const char *hay, const char *needle)
{
	unsigned n = 0;
	size_t l = strlen(needle);

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += l;
	}
	return n;
}

/* The stats slot of a client connection (by its local port), after the
 * server closed it; NULL after 5 s. */
static inline const struct stats_conn *srvtest_conn(struct srvtest *t, uint16_t local_port,
						    int want_closed)
{
	uint8_t lo[4] = { 127, 0, 0, 1 };
	int i;

	for (i = 0; i < 500; i++) {
		const struct stats_conn *c = stats_conn_find(t->stats, AF_INET, lo, local_port);

		if (c && (!want_closed || __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == 2))
			return c;
		srvtest_sleep_ms(10);
	}
	return NULL;
}

#endif
