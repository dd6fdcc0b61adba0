/*
 * ioloop_epoll.c: one thread, non-blocking sockets, level-triggered epoll.
 *
 * One read per readiness event (a read that fills the 64 KiB buffer leaves
 * the socket readable and epoll reports it again), so a request costs one
 * read syscall, not a read plus an EAGAIN.  A connection whose responses
 * cannot be written (the peer does not read) stops being read until they
 * drain: pipelined input never piles up unbounded.
 */
#include "core/ioloop.h"
#include "core/server-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EPOLL_EVENTS 256
#define ACCEPTS_PER_WAKEUP 64

/* the loop's bits in sconn_loop_data() */
enum { EP_OUT = 1, EP_CLOSING = 2 };

struct eloop {
	struct server *s;
	struct server_worker *w;
	int ep;
};

static uintptr_t flags_of(struct sconn *c)
{
	return (uintptr_t)sconn_loop_data(c);
}

static void set_flags(struct sconn *c, uintptr_t f)
{
	sconn_set_loop_data(c, (void *)f);
}

static int watch(struct eloop *l, struct sconn *c, int op, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	return epoll_ctl(l->ep, op, sconn_fd(c), &ev);
}

static void drop(struct eloop *l, struct sconn *c)
{
	/* close() removes the fd from the epoll set */
	sconn_close(l->w, c);
}

/* What to do after the handler spoke: write, wait for writability, half
 * close and linger, or close. */
static void after(struct eloop *l, struct sconn *c, enum sconn_status st)
{
	uintptr_t f = flags_of(c);
	int r;

	if (st == SCONN_DONE)
		goto close;
	if (st == SCONN_FLUSH_CLOSE)
		f |= EP_CLOSING;
	r = sconn_flush(l->w, c);
	if (r < 0)
		goto close;
	if (r == 1) {
		if (!(f & EP_OUT) && watch(l, c, EPOLL_CTL_MOD, EPOLLOUT) < 0)
			goto close;
		set_flags(c, f | EP_OUT);
		return;
	}
	if (f & EP_OUT) {
		if (watch(l, c, EPOLL_CTL_MOD, EPOLLIN) < 0)
			goto close;
		f &= ~(uintptr_t)EP_OUT;
	}
	set_flags(c, f);
	if ((f & EP_CLOSING) && sconn_linger(l->w, c) == SCONN_DONE)
		goto close;
	return;
close:
	drop(l, c);
}

static void accept_some(struct eloop *l)
{
	struct sockaddr_storage peer;
	int i;

	for (i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
		struct sconn *c;
		int fd = server_accept_fd(l->s, 1, &peer);

		if (fd == -ECONNREFUSED)
			continue;
		if (fd < 0)
			return;		/* EAGAIN, or an error the next wakeup retries */
		c = sconn_attach(l->w, fd, &peer);
		if (!c)
			continue;
		if (watch(l, c, EPOLL_CTL_ADD, EPOLLIN) < 0)
			drop(l, c);
	}
}

static void expire(struct eloop *l)
{
	uint64_t now = pm_now_ns();
	struct sconn *c;

	while ((c = server_worker_first_deadline(l->w)) && sconn_deadline(c) <= now)
		after(l, c, sconn_expire(l->w, c));
}

static int wait_ms(struct eloop *l)
{
	struct sconn *c = server_worker_first_deadline(l->w);
	uint64_t now, dl;

	if (!c)
		return IOLOOP_TICK_MS;
	dl = sconn_deadline(c);
	now = pm_now_ns();
	if (dl <= now)
		return 0;
	dl = (dl - now + 999999) / 1000000;
	return dl < IOLOOP_TICK_MS ? (int)dl : IOLOOP_TICK_MS;
}

int ioloop_epoll_run(struct server *s, volatile sig_atomic_t *stop)
{
	struct epoll_event evs[EPOLL_EVENTS];
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	struct eloop l = { .s = s, .ep = -1 };
	int lfd = server_listen_fd(s), rc = 0, n, i;

	rc = server_worker_new(s, &l.w);
	if (rc < 0)
		return server_fail(s, "server worker", rc);
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	if (l.ep < 0) {
		rc = server_fail(s, "epoll_create1", -errno);
		goto out;
	}
	if (fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) < 0) {
		rc = server_fail(s, "fcntl(listener, O_NONBLOCK)", -errno);
		goto out;
	}
	if (epoll_ctl(l.ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
		rc = server_fail(s, "epoll_ctl(listener)", -errno);
		goto out;
	}
	while (!*stop) {
		n = epoll_wait(l.ep, evs, EPOLL_EVENTS, wait_ms(&l));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = server_fail(s, "epoll_wait", -errno);
			break;
		}
		for (i = 0; i < n; i++) {
			struct sconn *c = evs[i].data.ptr;

			if (!c) {
				accept_some(&l);
				continue;
			}
			if (flags_of(c) & EP_OUT)
				after(&l, c, SCONN_OPEN);
			else
				after(&l, c, sconn_read(l.w, c));
		}
		expire(&l);
	}
	epoll_ctl(l.ep, EPOLL_CTL_DEL, lfd, NULL);
out:
	if (l.ep >= 0)
		close(l.ep);
	server_worker_free(l.w);	/* closes what is still open */
	return rc;
}
