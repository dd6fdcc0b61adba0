/* attach.c: a profiler around a server forked by the replay engine (attach.h). */
#include "profile/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The stats block without its connection table: what the profiler reads. */
#define SNAP_LEN offsetof(struct stats_block, conn)

enum { MSG_READY = 1, MSG_DONE = 2 };

struct msg {
	uint32_t type;
	int32_t pid;
	/* MSG_READY for a server that is not the child itself (replay
	 * --exec): the processes to watch; npids 0 = pid */
	int32_t npids;
	int32_t pids[PROFILER_MAX_PIDS];
};

struct prof_attach {
	struct profiler_cfg cfg;
	int up[2];		/* child -> parent */
	int down[2];		/* parent -> child: the acknowledgement */
	pthread_t thr;
	bool thr_running;
	struct profiler *p;
	int start_err;
	bool got_stats;
	struct stats_block *snap;	/* heap, SNAP_LEN bytes valid */
};

static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
	size_t done = 0;
	ssize_t w;

	while (done < n) {
		w = write(fd, (const char *)buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

static void *attach_thread(void *arg)
{
	struct prof_attach *a = arg;
	struct msg m;
	char ack = 1;

	while (read_full(a->up[0], &m, sizeof(m)) == 0) {
		if (m.type == MSG_READY && !a->p) {
			struct profiler_cfg c = a->cfg;

			c.server_pid[0] = m.pid;
			c.nserver = 1;
			if (m.npids > 0 && m.npids <= PROFILER_MAX_PIDS) {
				memcpy(c.server_pid, m.pids, sizeof(m.pids[0]) * (size_t)m.npids);
				c.nserver = m.npids;
			}
			a->start_err = profiler_start(&a->p, &c);
			if (write_full(a->down[1], &ack, 1) < 0)
				break;
		} else if (m.type == MSG_DONE) {
			if (read_full(a->up[0], a->snap, SNAP_LEN) < 0)
				break;
			a->got_stats = true;
			/* Stop now: what follows is the engine tearing down. */
			profiler_stop(a->p);
		}
	}
	return NULL;
}

int prof_attach_new(struct prof_attach **out, const struct profiler_cfg *cfg)
{
	struct prof_attach *a;
	int rc;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->up[0] = a->up[1] = a->down[0] = a->down[1] = -1;
	a->cfg = *cfg;
	if (!a->cfg.nsender) {
		a->cfg.sender_pid[0] = getpid();
		a->cfg.nsender = 1;
	}
	a->cfg.stats = NULL;
	a->snap = calloc(1, sizeof(*a->snap));
	/* No O_CLOEXEC: the engine's server child is a fork, not an exec. */
	if (!a->snap || pipe(a->up) < 0 || pipe(a->down) < 0) {
		rc = a->snap ? -errno : -ENOMEM;
		prof_attach_free(a);
		return rc;
	}
	rc = pthread_create(&a->thr, NULL, attach_thread, a);
	if (rc) {
		prof_attach_free(a);
		return -rc;
	}
	a->thr_running = true;
	*out = a;
	return 0;
}

int prof_attach_child_ready_pids(struct prof_attach *a, const pid_t *pids, int n)
{
	struct msg m = { .type = MSG_READY, .pid = (int32_t)getpid() };
	struct pollfd pfd;
	char ack;
	int i;

	if (!a)
		return 0;
	for (i = 0; pids && i < n && i < PROFILER_MAX_PIDS; i++)
		m.pids[i] = (int32_t)pids[i];
	m.npids = i;
	if (write_full(a->up[1], &m, sizeof(m)) < 0)
		return -EPIPE;
	pfd.fd = a->down[0];
	pfd.events = POLLIN;
	/* The engine gives the server 5 s to listen; leave it room. */
	if (poll(&pfd, 1, 4000) != 1 || read_full(a->down[0], &ack, 1) < 0)
		return -ETIMEDOUT;
	return 0;
}

int prof_attach_child_ready(struct prof_attach *a)
{
	return prof_attach_child_ready_pids(a, NULL, 0);
}

void prof_attach_child_done(struct prof_attach *a, const struct stats_block *st)
{
	struct msg m = { .type = MSG_DONE, .pid = (int32_t)getpid() };

	if (!a || !st)
		return;
	if (write_full(a->up[1], &m, sizeof(m)) == 0)
		write_full(a->up[1], st, SNAP_LEN);
}

int prof_attach_finish(struct prof_attach *a, struct trial *t)
{
	if (!a)
		return -EINVAL;
	/* The child is gone: closing our write end lets the thread see EOF. */
	if (a->up[1] >= 0) {
		close(a->up[1]);
		a->up[1] = -1;
	}
	if (a->thr_running) {
		pthread_join(a->thr, NULL);
		a->thr_running = false;
	}
	if (!a->p)
		return -ESRCH;
	profiler_stop(a->p);
	profiler_set_stats(a->p, a->got_stats ? a->snap : NULL);
	return profiler_fill(a->p, t);
}

struct profiler *prof_attach_profiler(struct prof_attach *a)
{
	return a ? a->p : NULL;
}

int prof_attach_error(const struct prof_attach *a)
{
	return a ? a->start_err : 0;
}

void prof_attach_free(struct prof_attach *a)
{
	int i;

	if (!a)
		return;
	if (a->up[1] >= 0) {
		close(a->up[1]);
		a->up[1] = -1;
	}
	if (a->thr_running)
		pthread_join(a->thr, NULL);
	for (i = 0; i < 2; i++) {
		if (a->up[i] >= 0)
			close(a->up[i]);
		if (a->down[i] >= 0)
			close(a->down[i]);
	}
	profiler_free(a->p);
	free(a->snap);
	free(a);
}
