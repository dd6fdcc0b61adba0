/* attach.c: a profiler around a server forked by the replay engine (attach.h). */
#include "profile/attach.h"

#include "lib/io.h"
#include "lib/time.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* The stats block without its connection table: what the profiler reads. */

enum { MSG_READY = 1 };

struct msg {
	uint32_t type;
	int32_t pid;
	/* MSG_READY for a server that is not the child itself (replay
	 * --exec): the processes to watch; npids 0 = pid; -1 = none found
	 * (replay --target: why says why) */
	int32_t npids;
	int32_t pids[PROFILER_MAX_PIDS];
	char why[160];
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
	struct stats_block *snap;	/* heap: the servers' totals, summed */
	unsigned nready;		/* server children (one per address family) */
	unsigned nexpect;		/* READYs to wait for before starting */
	unsigned late;			/* READYs after the profiler started */
	bool short_start;		/* started before every child reported */
	int32_t pids[PROFILER_MAX_PIDS];	/* what the READYs announced */
	int npids;
	char why[160];			/* a READY without processes: why */
	unsigned dropped_pids;		/* beyond PROFILER_MAX_PIDS */
	uint64_t minflt0;		/* in the child: ru_minflt when ready */
};

/* Minor page faults of the calling process so far. */
static uint64_t minflt_now(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t)ru.ru_minflt : 0;
}

/* After the first READY, how long the thread waits for the other server
 * children before it starts the profiler on those it has: less than the
 * 4 s a child waits for its acknowledgement, so the first one still gets
 * it when another never reports. */
#define GATHER_MS 2000

static uint64_t now_ms(void)
{
	return pm_now_ns() / 1000000;
}

/* One READY's processes into the set the profiler will watch. */
static void add_pids(struct prof_attach *a, const struct msg *m)
{
	int n = m->npids > 0 && m->npids <= PROFILER_MAX_PIDS ? m->npids : 0, i, k;
	const int32_t *src = n ? m->pids : &m->pid;

	if (m->npids < 0) {
		snprintf(a->why, sizeof(a->why), "%s", m->why);
		return;
	}
	if (!n)
		n = 1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < a->npids && a->pids[k] != src[i]; k++)
			;
		if (k < a->npids)
			continue;
		if (a->npids >= PROFILER_MAX_PIDS) {
			a->dropped_pids++;
			continue;
		}
		a->pids[a->npids++] = src[i];
	}
}

/* Starts the profiler on every process announced so far and releases the
 * children waiting for it (one byte each: each child reads one). */
static int start_and_ack(struct prof_attach *a, unsigned waiting)
{
	struct profiler_cfg c = a->cfg;
	struct profiler *p = NULL;
	char ack[16];
	int i;

	for (i = 0; i < a->npids; i++)
		c.server_pid[i] = (pid_t)a->pids[i];
	c.nserver = a->npids;
	if (!a->npids)
		snprintf(c.server_why, sizeof(c.server_why), "%s", a->why);
	a->short_start = a->nready < a->nexpect;
	a->start_err = profiler_start(&p, &c);
	/* release: prof_attach_copied() reads it from the replaying thread */
	__atomic_store_n(&a->p, p, __ATOMIC_RELEASE);
	memset(ack, 1, sizeof(ack));
	while (waiting) {
		unsigned n = waiting < sizeof(ack) ? waiting : (unsigned)sizeof(ack);

		if (io_write_full(a->down[1], ack, n) < 0)
			return -1;
		waiting -= n;
	}
	return 0;
}

static void *attach_thread(void *arg)
{
	struct prof_attach *a = arg;
	unsigned waiting = 0;	/* children that said READY, not yet acknowledged */
	uint64_t deadline = 0;
	struct pollfd pfd;
	struct msg m;
	char ack = 1;
	int r, ms;

	pfd.fd = a->up[0];
	pfd.events = POLLIN;
	for (;;) {
		ms = -1;
		if (!a->p && waiting) {
			uint64_t now = now_ms();

			ms = now >= deadline ? 0 : (int)(deadline - now);
		}
		r = poll(&pfd, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			/* a child never reported in time: watch those that did
			 * (the late one's kernel-side events stay unopened) */
			if (start_and_ack(a, waiting) < 0)
				break;
			waiting = 0;
			continue;
		}
		if (r < 0 || io_read_full(a->up[0], &m, sizeof(m)) < 0)
			break;
		if (m.type == MSG_READY) {
			a->nready++;
			if (a->p) {
				/* too late: its user stages still add up from
				 * its stats, its kernel side is not counted */
				a->late++;
				if (io_write_full(a->down[1], &ack, 1) < 0)
					break;
				continue;
			}
			add_pids(a, &m);
			if (!waiting++)
				deadline = now_ms() + GATHER_MS;
			/* every child the engine forked is here: one profiler
			 * on all of them (both address families' servers) */
			if (a->nready >= a->nexpect) {
				if (start_and_ack(a, waiting) < 0)
					break;
				waiting = 0;
			}
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
	*out = a;
	return 0;
}

int prof_attach_start(struct prof_attach *a, int nchildren)
{
	int rc;

	if (!a || a->thr_running)
		return 0;
	a->nexpect = nchildren > 0 ? (unsigned)nchildren : 1;
	rc = pthread_create(&a->thr, NULL, attach_thread, a);
	if (rc)
		return -rc;
	a->thr_running = true;
	return 0;
}

/* In the child: announce m (a READY) and wait for the parent's ack. */
static int send_ready(struct prof_attach *a, const struct msg *m)
{
	struct pollfd pfd;
	char ack;

	a->minflt0 = minflt_now();	/* the child's own copy of a */
	if (io_write_full(a->up[1], m, sizeof(*m)) < 0)
		return -EPIPE;
	pfd.fd = a->down[0];
	pfd.events = POLLIN;
	/* The engine gives the server 5 s to listen; leave it room. */
	if (poll(&pfd, 1, 4000) != 1 || io_read_full(a->down[0], &ack, 1) < 0)
		return -ETIMEDOUT;
	return 0;
}

int prof_attach_child_ready_pids(struct prof_attach *a, const pid_t *pids, int n)
{
	struct msg m = { .type = MSG_READY, .pid = (int32_t)getpid() };
	int i;

	if (!a)
		return 0;
	for (i = 0; pids && i < n && i < PROFILER_MAX_PIDS; i++)
		m.pids[i] = (int32_t)pids[i];
	m.npids = i;
	return send_ready(a, &m);
}

int prof_attach_child_ready(struct prof_attach *a)
{
	return prof_attach_child_ready_pids(a, NULL, 0);
}

int prof_attach_child_ready_none(struct prof_attach *a, const char *why)
{
	struct msg m = { .type = MSG_READY, .pid = (int32_t)getpid(), .npids = -1 };

	if (!a)
		return 0;
	snprintf(m.why, sizeof(m.why), "%s", why ? why : "no server process to watch");
	return send_ready(a, &m);
}

int prof_attach_copied(struct prof_attach *a, uint64_t *bytes)
{
	struct profiler *p = a ? __atomic_load_n(&a->p, __ATOMIC_ACQUIRE) : NULL;

	return profiler_copy_bytes(p, bytes);
}

void prof_attach_child_done(struct prof_attach *a, struct stats_block *st)
{
	if (!a || !st)
		return;
	/* The server does not count page faults itself: the process's minor
	 * faults from ready to done (getrusage), into its own block, which
	 * the parent reads once the child has exited. */
	st->alloc.minor_faults = minflt_now() - a->minflt0;
}

void prof_attach_stats(struct prof_attach *a, const struct stats_block *const blocks[2])
{
	struct stats_block one;
	int i;

	if (!a)
		return;
	for (i = 0; i < 2; i++) {
		/* a server the engine had to kill left partial figures and
		 * no page-fault count: its stages stay unmeasured */
		if (!blocks[i] || !__atomic_load_n(&blocks[i]->finished, __ATOMIC_ACQUIRE))
			continue;
		/* the threads' sections summed in */
		if (!a->got_stats) {
			stats_snapshot_totals(blocks[i], a->snap);
		} else {
			stats_snapshot_totals(blocks[i], &one);
			stats_merge(a->snap, &one);
		}
		a->got_stats = true;
	}
	/* the servers are done: what follows is the engine tearing down */
	if (a->got_stats)
		profiler_stop(__atomic_load_n(&a->p, __ATOMIC_ACQUIRE));
}

/* "; "-separated, as the profiler's own stage notes. */
static void note_append(char *note, size_t size, const char *what)
{
	size_t len = strlen(note);

	snprintf(note + len, size - len, "%s%s", len ? "; " : "", what);
}

int prof_attach_finish(struct prof_attach *a, struct trial *t)
{
	int rc;

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
	rc = profiler_fill(a->p, t);
	if (rc == 0 && (a->short_start || a->dropped_pids))
		note_append(t->stage[RS_COPY].note, sizeof(t->stage[RS_COPY].note),
			    a->short_start ? "a server child had not reported when the profiler started "
					     "(it waits 2 s after the first): its kernel-side events "
					     "are not counted"
					   : "more server processes than the profiler watches (8): "
					     "the others' kernel-side events are not counted");
	return rc;
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
