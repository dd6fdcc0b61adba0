/*
 * ioloop_blocking.c: a thread per connection doing plain read/write, the
 * model of the classic threaded server (and of many C and Rust ones).
 *
 * The acceptor polls the listener so it sees *stop; each connection thread
 * polls its socket with at most IOLOOP_TICK_MS so it sees *stop and its
 * header deadline, then reads and writes with blocking calls.  A send
 * timeout keeps a peer that never reads from pinning a thread past *stop.
 */
#include "core/ioloop.h"
#include "core/server-int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define THREAD_STACK (256 * 1024)	/* the read buffer is on the heap */

struct bthread {
	struct server *s;
	volatile sig_atomic_t *stop;
	unsigned *threads;		/* live connection threads (atomic) */
	int fd;
	struct sockaddr_storage peer;
};

static int poll_one(int fd, short ev, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int ms = IOLOOP_TICK_MS;

	if (deadline) {
		uint64_t now = pm_now_ns();

		if (deadline <= now)
			return 0;
		if ((deadline - now) / 1000000 < (uint64_t)ms)
			ms = (int)((deadline - now + 999999) / 1000000);
	}
	return poll(&p, 1, ms);
}

/* Writes everything queued; < 0 to give up on the connection. */
static int flush_all(struct server_worker *w, struct sconn *c,
		     volatile sig_atomic_t *stop)
{
	int r;

	while ((r = sconn_flush(w, c)) == 1) {
		if (*stop)
			return -EINTR;
		poll_one(sconn_fd(c), POLLOUT, 0);
	}
	return r;
}

static void serve_conn(struct bthread *t, struct server_worker *w, struct sconn *c)
{
	enum sconn_status st;
	int closing = 0;

	while (!*t->stop) {
		uint64_t dl = sconn_deadline(c);
		int r = poll_one(sconn_fd(c), POLLIN, dl);

		if (r < 0 && errno != EINTR)
			return;
		if (r <= 0) {
			if (!dl || pm_now_ns() < dl)
				continue;
			st = sconn_expire(w, c);
		} else {
			st = sconn_read(w, c);
		}
		if (st == SCONN_DONE)
			return;
		if (flush_all(w, c, t->stop) < 0)
			return;
		if (st == SCONN_FLUSH_CLOSE)
			closing = 1;
		if (closing && sconn_linger(w, c) == SCONN_DONE)
			return;
	}
}

static void *conn_thread(void *arg)
{
	struct bthread *t = arg;
	struct server_worker *w = NULL;
	struct sconn *c;
	struct timeval tv = { .tv_sec = 0, .tv_usec = IOLOOP_TICK_MS * 1000 };

	setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (server_worker_new(t->s, &w) < 0) {
		server_drop_fd(t->s, t->fd);
		goto out;
	}
	c = sconn_attach(w, t->fd, &t->peer);
	if (c)
		serve_conn(t, w, c);
out:
	server_worker_free(w);	/* closes c */
	__atomic_fetch_sub(t->threads, 1, __ATOMIC_RELEASE);
	free(t);
	return NULL;
}

int ioloop_blocking_run(struct server *s, volatile sig_atomic_t *stop)
{
	int lfd = server_listen_fd(s);
	unsigned threads = 0;
	pthread_attr_t attr;
	int rc = 0;

	if (fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) < 0)
		return server_fail(s, "fcntl(listener, O_NONBLOCK)", -errno);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	while (!*stop) {
		struct bthread *t;
		pthread_t tid;
		int fd;

		if (poll_one(lfd, POLLIN, 0) <= 0)
			continue;
		t = calloc(1, sizeof(*t));
		if (!t)
			continue;
		fd = server_accept_fd(s, 0, &t->peer);
		if (fd < 0) {
			free(t);
			continue;
		}
		t->s = s;
		t->stop = stop;
		t->threads = &threads;
		t->fd = fd;
		__atomic_fetch_add(&threads, 1, __ATOMIC_RELAXED);
		if (pthread_create(&tid, &attr, conn_thread, t) != 0) {
			__atomic_fetch_sub(&threads, 1, __ATOMIC_RELAXED);
			server_drop_fd(s, fd);
			free(t);
		}
	}
	/* every connection thread sees *stop within a tick and exits */
	while (__atomic_load_n(&threads, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { 0, 5 * 1000000 };

		nanosleep(&ts, NULL);
	}
	pthread_attr_destroy(&attr);
	return rc;
}
