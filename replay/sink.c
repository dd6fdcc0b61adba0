/* sink.c: accept, read, count, maybe echo; see sink.h. */
#include "replay/sink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct sink_conn {
	int fd;
	struct stats_conn *sc;
	uint32_t slot;
	uint8_t *pend;		/* echo bytes not yet written */
	size_t npend, opend;
};

uint64_t sink_fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 1099511628211ull;
	return h;
}

/* A slot in the shared table, written field by field before the state
 * says it is open (the reader matches on address and port). */
static struct stats_conn *claim(struct stats_block *st, const struct sockaddr_storage *ss,
				uint32_t *slot)
{
	uint32_t i = __atomic_fetch_add(&st->nconns, 1, __ATOMIC_RELAXED);
	struct stats_conn *c;

	if (i >= st->conn_cap) {
		__atomic_fetch_add(&st->conns_overflow, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	c = &st->conn[i];
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			c->family = AF_INET;
			memcpy(c->addr, &a->sin6_addr.s6_addr[12], 4);
		} else {
			c->family = AF_INET6;
			memcpy(c->addr, &a->sin6_addr, 16);
		}
		c->port = ntohs(a->sin6_port);
	} else {
		const struct sockaddr_in *a = (const void *)ss;

		c->family = AF_INET;
		memcpy(c->addr, &a->sin_addr, 4);
		c->port = ntohs(a->sin_port);
	}
	__atomic_store_n(&c->state, 1, __ATOMIC_RELEASE);
	*slot = i;
	return c;
}

static void drop(int ep, struct sink_conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->sc)
		__atomic_store_n(&c->sc->state, 2, __ATOMIC_RELEASE);
	free(c->pend);
	free(c);
}

/* Writes pending echo bytes; 1 when all out, 0 when blocked, -1 error. */
static int flush_echo(struct sink_conn *c)
{
	while (c->opend < c->npend) {
		ssize_t n = write(c->fd, c->pend + c->opend, c->npend - c->opend);

		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->opend += (size_t)n;
	}
	c->npend = c->opend = 0;
	return 1;
}

/* The listening socket cfg->listen asks for, non-blocking; its port and
 * our pid go into st.  The fd, or -errno. */
static int sink_listen(const struct sink_cfg *cfg, struct stats_block *st)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	bool v4 = cfg->listen && cfg->listen[0] != '[';
	int lfd, zero = 0, one = 1, err;

	if (v4) {
		a4.sin_addr.s_addr = strncmp(cfg->listen, "127.", 4) ? htonl(INADDR_ANY)
								      : htonl(INADDR_LOOPBACK);
		lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	} else {
		lfd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (lfd >= 0 && cfg->listen)
			setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		else if (lfd >= 0)
			setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (lfd < 0)
		return -errno;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((v4 ? bind(lfd, (struct sockaddr *)&a4, sizeof(a4))
		: bind(lfd, (struct sockaddr *)&a6, sizeof(a6))) < 0 ||
	    listen(lfd, 4096) < 0 || getsockname(lfd, (struct sockaddr *)&ss, &sl) < 0) {
		err = -errno;
		close(lfd);
		return err;
	}
	st->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	st->server_pid = getpid();
	return lfd;
}

/* Accepts every connection waiting and watches it for input. */
static void sink_accept(struct stats_block *st, int lfd, int ep)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct epoll_event e;
	int fd;

	while ((fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct sink_conn *c = calloc(1, sizeof(*c));

		sl = sizeof(ss);
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->sc = claim(st, &ss, &c->slot);
		__atomic_fetch_add(&st->connections, 1, __ATOMIC_RELAXED);
		e.events = EPOLLIN;
		e.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	}
}

/* Reads c until EAGAIN (counting, hashing, echoing); drops it on EOF, an
 * error or cfg->close_after. */
static void sink_pump(const struct sink_cfg *cfg, struct stats_block *st, int ep,
		      struct sink_conn *c, uint8_t *buf, size_t bufsz)
{
	struct epoll_event e;

	for (;;) {
		size_t want = bufsz;
		ssize_t got;

		if (cfg->close_after && c->sc && cfg->close_after - c->sc->bytes_read < want)
			want = (size_t)(cfg->close_after - c->sc->bytes_read);
		got = read(c->fd, buf, want);
		if (got < 0 && errno == EAGAIN)
			return;
		if (got <= 0) {
			drop(ep, c);
			return;
		}
		__atomic_fetch_add(&st->bytes_read, (uint64_t)got, __ATOMIC_RELAXED);
		if (c->sc) {
			__atomic_fetch_add(&c->sc->bytes_read, (uint64_t)got, __ATOMIC_RELAXED);
			if (cfg->hash && c->slot < SINK_HASH_SLOTS)
				cfg->hash[c->slot] = sink_fnv(cfg->hash[c->slot]
							      ? cfg->hash[c->slot] : SINK_FNV_INIT,
							      buf, (size_t)got);
		}
		if (cfg->close_after && c->sc && c->sc->bytes_read >= cfg->close_after) {
			drop(ep, c);	/* unread data: the kernel sends RST */
			return;
		}
		if (cfg->echo) {
			uint8_t *np = realloc(c->pend, (size_t)got);
			int r;

			if (!np) {
				drop(ep, c);
				return;
			}
			c->pend = np;
			memcpy(c->pend, buf, (size_t)got);
			c->npend = (size_t)got;
			c->opend = 0;
			r = flush_echo(c);
			if (r < 0) {
				drop(ep, c);
				return;
			}
			if (r == 0) {
				/* stop reading until the echo is out: the
				 * client's window closes, as it should */
				e.events = EPOLLOUT;
				e.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
				return;
			}
		}
	}
}

int sink_run(const struct sink_cfg *cfg, struct stats_block *st, volatile sig_atomic_t *stop)
{
	struct epoll_event ev[64], e;
	static const size_t bufsz = 1 << 16;
	uint8_t *buf = NULL;
	int lfd = -1, ep = -1, err = 0, i, n;

	buf = malloc(bufsz);
	if (!buf)
		return -ENOMEM;
	lfd = sink_listen(cfg, st);
	if (lfd < 0) {
		err = lfd;
		goto out;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		err = -errno;
		goto out;
	}
	e.events = EPOLLIN;
	e.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
	__atomic_store_n(&st->ready, 1, __ATOMIC_RELEASE);

	while (!*stop) {
		n = epoll_wait(ep, ev, 64, 100);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			struct sink_conn *c = ev[i].data.ptr;

			if (!c) {
				sink_accept(st, lfd, ep);
				continue;
			}
			if (c->npend) {
				int r = flush_echo(c);

				if (r < 0) {
					drop(ep, c);
					continue;
				}
				if (r == 0)
					continue;
				e.events = EPOLLIN;
				e.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
			}
			sink_pump(cfg, st, ep, c, buf, bufsz);
		}
	}
out:
	if (ep >= 0)
		close(ep);
	if (lfd >= 0)
		close(lfd);
	free(buf);
	return err;
}
