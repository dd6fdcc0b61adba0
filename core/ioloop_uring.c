/*
 * ioloop_uring.c: one thread on io_uring (liburing), registered buffers.
 *
 * Reads are IORING_OP_READ_FIXED into buffers registered once with
 * io_uring_register_buffers() (the kernel pins them: no per-read page
 * lookups); a connection beyond the registered pool reads with plain
 * IORING_OP_RECV into its own heap buffer.  Each connection has at most
 * one operation in flight, a read or a send: while its responses are being
 * sent nothing new is read, so the output queue is never moved under the
 * kernel's feet and pipelined input cannot pile up.  The listener is
 * watched with a multishot poll and accepted through server_accept_fd(),
 * so max_conns and TCP_NODELAY work as in the other loops.
 *
 * The read and write stages get counts and bytes but no time here: the copy
 * runs in the kernel's completion path, not in a syscall of ours.
 */
#include "core/ioloop.h"
#include "core/server-int.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define URING_ENTRIES 1024
#define URING_BUF_SIZE (16 * 1024)	/* bytes per registered buffer */
#define URING_MAX_BUFS 512		/* 8 MiB pinned at most */

enum { OP_READ = 0, OP_SEND = 1, OP_LISTEN = 2 };

struct uconn {
	struct sconn *c;
	int bi;			/* registered buffer index, -1: heap */
	char *heap;		/* URING_BUF_SIZE when bi < 0 */
	bool inflight;
	bool dying;		/* close when the op in flight completes */
	bool closing;		/* flush, then linger, then close */
};

struct uloop {
	struct server *s;
	struct server_worker *w;
	struct io_uring ring;
	bool ring_ok;
	char *pool;
	int nbufs;
	int *free_bufs;		/* stack of free buffer indexes */
	int nfree;
	unsigned inflight;
	bool listen_armed;
};

static struct io_uring_sqe *get_sqe(struct uloop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) {
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

static void *tag(void *p, int op)
{
	return (void *)((uintptr_t)p | (uintptr_t)op);
}

static void arm_listen(struct uloop *l)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	if (!sqe)
		return;
	io_uring_prep_poll_multishot(sqe, server_listen_fd(l->s), POLLIN);
	io_uring_sqe_set_data(sqe, tag(NULL, OP_LISTEN));
	l->listen_armed = true;
}

static void uconn_free(struct uloop *l, struct uconn *u)
{
	sconn_close(l->w, u->c);
	if (u->bi >= 0)
		l->free_bufs[l->nfree++] = u->bi;
	free(u->heap);
	free(u);
}

/* Close now if nothing is in flight, else as soon as it completes. */
static void kill_conn(struct uloop *l, struct uconn *u)
{
	if (!u->inflight) {
		uconn_free(l, u);
		return;
	}
	u->dying = true;
	/* a pending read completes at once on a shut-down socket */
	shutdown(sconn_fd(u->c), SHUT_RDWR);
}

static int submit_read(struct uloop *l, struct uconn *u)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	int fd = sconn_fd(u->c);

	if (!sqe)
		return -EBUSY;
	if (u->bi >= 0)
		io_uring_prep_read_fixed(sqe, fd, l->pool + (size_t)u->bi * URING_BUF_SIZE,
					 URING_BUF_SIZE, 0, u->bi);
	else
		io_uring_prep_recv(sqe, fd, u->heap, URING_BUF_SIZE, 0);
	io_uring_sqe_set_data(sqe, tag(u, OP_READ));
	u->inflight = true;
	l->inflight++;
	return 0;
}

static int submit_send(struct uloop *l, struct uconn *u)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	const char *p;
	size_t n = sconn_pending(u->c, &p);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_send(sqe, sconn_fd(u->c), p, n, MSG_NOSIGNAL);
	io_uring_sqe_set_data(sqe, tag(u, OP_SEND));
	u->inflight = true;
	l->inflight++;
	return 0;
}

/* The next step after an operation completed (nothing is in flight). */
static void next(struct uloop *l, struct uconn *u, enum sconn_status st)
{
	const char *p;

	if (st == SCONN_DONE || u->dying)
		goto close;
	if (st == SCONN_FLUSH_CLOSE)
		u->closing = true;
	if (sconn_pending(u->c, &p)) {
		if (submit_send(l, u) < 0)
			goto close;
		return;
	}
	if (u->closing && sconn_linger(l->w, u->c) == SCONN_DONE)
		goto close;
	if (submit_read(l, u) < 0)
		goto close;
	return;
close:
	uconn_free(l, u);
}

static void accept_some(struct uloop *l)
{
	struct sockaddr_storage peer;
	int i;

	for (i = 0; i < 64; i++) {
		struct uconn *u;
		struct sconn *c;
		int fd = server_accept_fd(l->s, 1, &peer);

		if (fd == -ECONNREFUSED)
			continue;
		if (fd < 0)
			return;
		u = calloc(1, sizeof(*u));
		if (!u) {
			server_drop_fd(l->s, fd);
			continue;
		}
		c = sconn_attach(l->w, fd, &peer);
		if (!c) {
			free(u);
			continue;
		}
		u->c = c;
		u->bi = l->nfree ? l->free_bufs[--l->nfree] : -1;
		if (u->bi < 0 && !(u->heap = malloc(URING_BUF_SIZE))) {
			uconn_free(l, u);
			continue;
		}
		sconn_set_loop_data(c, u);
		next(l, u, SCONN_OPEN);
	}
}

static void complete(struct uloop *l, struct io_uring_cqe *cqe)
{
	uintptr_t d = (uintptr_t)io_uring_cqe_get_data(cqe);
	int op = (int)(d & 3);
	struct uconn *u = (struct uconn *)(d & ~(uintptr_t)3);
	int res = cqe->res;

	if (op == OP_LISTEN) {
		if (!(cqe->flags & IORING_CQE_F_MORE))
			l->listen_armed = false;
		if (res >= 0)
			accept_some(l);
		return;
	}
	u->inflight = false;
	l->inflight--;
	if (u->dying || res < 0) {
		uconn_free(l, u);
		return;
	}
	if (op == OP_READ) {
		const char *buf = u->bi >= 0 ? l->pool + (size_t)u->bi * URING_BUF_SIZE : u->heap;

		next(l, u, sconn_input(l->w, u->c, buf, (size_t)res, 0));
	} else {
		sconn_wrote(l->w, u->c, (size_t)res, 0);
		next(l, u, SCONN_OPEN);
	}
}

static void expire(struct uloop *l)
{
	uint64_t now = pm_now_ns();
	struct sconn *c;

	while ((c = server_worker_first_deadline(l->w)) && sconn_deadline(c) <= now) {
		struct uconn *u = sconn_loop_data(c);
		enum sconn_status st = sconn_expire(l->w, c);
		const char *p;
		size_t n;

		if (st == SCONN_OPEN)
			continue;
		/* A read is in flight: send the 408 directly (best effort; the
		 * socket buffer of an idle connection has room), then close. */
		n = sconn_pending(c, &p);
		if (n) {
			ssize_t r = send(sconn_fd(c), p, n, MSG_DONTWAIT | MSG_NOSIGNAL);

			if (r > 0)
				sconn_wrote(l->w, c, (size_t)r, 0);
		}
		kill_conn(l, u);
	}
}

static int setup(struct uloop *l)
{
	struct io_uring_params p;
	struct iovec *iov = NULL;
	unsigned max = l->s ? server_max_conns(l->s) : 0;
	int rc, i;

	memset(&p, 0, sizeof(p));
	/* one thread submits and reaps: let the kernel skip the locking and
	 * run completion work when we wait (6.1+); plain setup otherwise */
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	rc = io_uring_queue_init_params(URING_ENTRIES, &l->ring, &p);
	if (rc == -EINVAL) {
		memset(&p, 0, sizeof(p));
		rc = io_uring_queue_init_params(URING_ENTRIES, &l->ring, &p);
	}
	if (rc < 0)
		return server_fail(l->s, "io_uring_queue_init", rc);
	l->ring_ok = true;
	l->nbufs = (int)(max < URING_MAX_BUFS ? max : URING_MAX_BUFS);
	l->pool = aligned_alloc(4096, (size_t)l->nbufs * URING_BUF_SIZE);
	l->free_bufs = calloc((size_t)l->nbufs + 1, sizeof(int));
	iov = calloc((size_t)l->nbufs + 1, sizeof(*iov));
	if (!l->pool || !l->free_bufs || !iov) {
		free(iov);
		return server_fail(l->s, "io_uring read buffers", -ENOMEM);
	}
	for (i = 0; i < l->nbufs; i++) {
		iov[i].iov_base = l->pool + (size_t)i * URING_BUF_SIZE;
		iov[i].iov_len = URING_BUF_SIZE;
	}
	rc = io_uring_register_buffers(&l->ring, iov, (unsigned)l->nbufs);
	free(iov);
	if (rc < 0) {
		/* RLIMIT_MEMLOCK without CAP_IPC_LOCK: read into heap buffers */
		l->nbufs = 0;
		return 0;
	}
	for (i = l->nbufs - 1; i >= 0; i--)
		l->free_bufs[l->nfree++] = i;
	return 0;
}

int ioloop_uring_run(struct server *s, volatile sig_atomic_t *stop)
{
	struct uloop l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.s = s;
	rc = server_worker_new(s, &l.w);
	if (rc < 0)
		return server_fail(s, "server worker", rc);
	rc = setup(&l);
	if (rc < 0)
		goto out;
	while (!*stop) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		struct sconn *first;
		unsigned head, n = 0;
		uint64_t wait_ns = IOLOOP_TICK_MS * 1000000ULL;

		if (!l.listen_armed)
			arm_listen(&l);
		first = server_worker_first_deadline(l.w);
		if (first) {
			uint64_t now = pm_now_ns(), dl = sconn_deadline(first);

			wait_ns = dl <= now ? 0 : (dl - now < wait_ns ? dl - now : wait_ns);
		}
		ts.tv_sec = (long long)(wait_ns / 1000000000ULL);
		ts.tv_nsec = (long long)(wait_ns % 1000000000ULL);
		rc = io_uring_submit_and_wait_timeout(&l.ring, &cqe, 1, wait_ns ? &ts : NULL, NULL);
		if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN)
			break;
		rc = 0;
		io_uring_for_each_cqe(&l.ring, head, cqe) {
			complete(&l, cqe);
			n++;
		}
		io_uring_cq_advance(&l.ring, n);
		expire(&l);
	}
out:
	if (l.ring_ok) {
		struct sconn *c;
		int spins;

		/* wake every pending operation, reap them, then free */
		for (c = server_worker_any(l.w); c; c = sconn_next(c)) {
			struct uconn *u = sconn_loop_data(c);

			if (u && u->inflight) {
				u->dying = true;
				shutdown(sconn_fd(c), SHUT_RDWR);
			}
		}
		for (spins = 0; l.inflight && spins < 100; spins++) {
			struct __kernel_timespec ts = { 0, 10 * 1000000 };
			struct io_uring_cqe *cqe;
			unsigned head, n = 0;

			io_uring_submit_and_wait_timeout(&l.ring, &cqe, 1, &ts, NULL);
			io_uring_for_each_cqe(&l.ring, head, cqe) {
				uintptr_t d = (uintptr_t)io_uring_cqe_get_data(cqe);

				if ((d & 3) != OP_LISTEN)
					complete(&l, cqe);
				n++;
			}
			io_uring_cq_advance(&l.ring, n);
		}
		while ((c = server_worker_any(l.w))) {
			struct uconn *u = sconn_loop_data(c);

			if (u)
				uconn_free(&l, u);
			else
				sconn_close(l.w, c);
		}
		io_uring_queue_exit(&l.ring);
	}
	server_worker_free(l.w);
	free(l.pool);
	free(l.free_bufs);
	return rc;
}

int ioloop_uring_probe(const char **reason)
{
	struct io_uring r;
	FILE *f;
	int rc, dis = 0;

	f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	if (f) {
		if (fscanf(f, "%d", &dis) != 1)
			dis = 0;
		fclose(f);
	}
	if (dis == 2) {
		*reason = "kernel.io_uring_disabled is 2 (io_uring off for everyone)";
		return -EPERM;
	}
	rc = io_uring_queue_init(4, &r, 0);
	if (rc < 0) {
		*reason = rc == -ENOSYS ? "io_uring_queue_init: ENOSYS (kernel built without io_uring)"
		    : rc == -EPERM ? "io_uring_queue_init: EPERM (kernel.io_uring_disabled=1 and not in io_uring_group, or seccomp)"
		    : "io_uring_queue_init failed";
		return rc;
	}
	io_uring_queue_exit(&r);
	*reason = dis == 1 ? "io_uring_queue_init works (io_uring_disabled=1, but this process may use it)"
			   : "io_uring_queue_init works";
	return 0;
}
