/*
 * peer_socket.c: the socket path of the peer (peer.h peer_run_socket):
 * the plan replayed over ordinary nonblocking TCP sockets, one epoll loop.
 * The kernel does TCP; this file only paces writes (peer_sched.h, shared
 * with the packet path in peer.c), drains what the server sends and
 * decides when a flow is over.
 */
#include "replay/peer.h"

#include "lib/time.h"
#include "replay/peer_sched.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct sflow {
	int fd;
	uint32_t ri, loop;
	const struct plan_flow *pf;
	uint32_t si;
	uint64_t off;		/* bytes written */
	bool connected, shut, blocked;
	uint32_t mask;		/* epoll events registered */
	uint64_t progress_at;	/* last connect, write, read or ACK */
	uint64_t shut_at;	/* when our FIN was queued */
	int outq;		/* unacknowledged bytes at the last look */
};

/* The kernel retransmits for the socket path, so a flow cannot fail the
 * way a packet-path flow does; it can only stop moving: a server that
 * never reads, never answers the SYN, or never closes after our FIN.
 * Without a bound the replay would wait forever.  Once our FIN is queued
 * and every byte is ACKed (SIOCOUTQ 0), a server still holding the
 * connection open after linger_ms has it closed hard and the flow counts
 * as delivered, as on the packet path; a flow with no progress at all for
 * stall_ms times out with what the server ACKed. */
static bool sflow_stalled(const struct peer_cfg *cfg, struct sflow *f, uint64_t now,
			  struct peer_result *r)
{
	uint64_t linger = (uint64_t)(cfg->linger_ms ? cfg->linger_ms : 2000) * 1000000;
	uint64_t stall = (uint64_t)(cfg->stall_ms ? cfg->stall_ms : 30000) * 1000000;
	int outq = 0;

	if (f->connected && ioctl(f->fd, SIOCOUTQ, &outq) == 0 && outq < f->outq)
		f->progress_at = now;
	f->outq = outq;
	if (f->shut && !outq && now - f->shut_at >= linger) {
		r->status = PEER_FLOW_OK;
		r->acked = f->off;
		return true;
	}
	if (now - f->progress_at < stall)
		return false;
	r->status = PEER_FLOW_STALLED;
	r->acked = f->off - (uint64_t)outq;
	return true;
}

static int sflow_write(struct sched *s, struct peer_stats *st, struct sflow *f, uint64_t now,
		       uint64_t *wake)
{
	const struct plan_flow *pf = f->pf;

	while (f->si < pf->nseg) {
		const struct plan_seg *sg = &pf->seg[f->si];
		uint64_t done = f->off - sg->off, dl = 0, w;
		size_t len = sg->len - done;
		ssize_t n;

		if (!done) {
			dl = deadline(s, f->loop, sg->ts_ns);
			if ((w = pace_wait(s, dl, now))) {
				if (!*wake || w < *wake)
					*wake = w;
				return 0;
			}
		}
		if (s->cfg->resegment && len > s->cfg->resegment)
			len = s->cfg->resegment;
		n = write(f->fd, sg->data + done, len);
		if (n < 0) {
			if (errno != EAGAIN)
				return -errno;
			f->blocked = true;
			return 0;
		}
		if (!done) {
			st->data_segments++;
			pace_sent(s, st, dl);
		}
		if ((size_t)n < sg->len - done)
			st->splits += !done;
		st->bytes += (uint64_t)n;
		f->off += (uint64_t)n;
		f->progress_at = now;
		if (f->off == sg->off + sg->len)
			f->si++;
		else if ((size_t)n < len) {
			f->blocked = true;	/* socket buffer full */
			return 0;
		}
	}
	if (!f->shut) {
		shutdown(f->fd, SHUT_WR);
		f->shut = true;
		f->shut_at = now;
	}
	return 0;
}

/* One socket-path run: the slots and what every step needs. */
struct srun {
	struct sched s;
	const struct plan *plan;
	const struct peer_cfg *cfg;
	const void *server_sa;
	unsigned int sa_len;
	struct peer_result *results;
	struct peer_stats *st;
	struct sflow *sl;
	uint32_t nslots;
	int ep;
	uint64_t wake;		/* earliest deadline waited for, 0 = none */
	char drain[65536];	/* what the server sends, read and dropped */
};

/* Ends slot f's flow (its result is set): counts it and closes the
 * socket; rst: SO_LINGER 0, close with RST so the server lets go. */
static void sflow_end(struct srun *x, struct sflow *f, bool rst)
{
	if (x->results[f->ri].status == PEER_FLOW_OK)
		x->st->flows_ok++;
	else
		x->st->flows_failed++;
	if (rst) {
		struct linger lg = { 1, 0 };

		setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(f->fd);
	f->fd = -1;
	x->s.finished++;
}

/* Connects flows whose start time has come, into free slots.  0, or
 * -errno when no socket can be made (the run stops). */
static int srun_start_due(struct srun *x, uint64_t now)
{
	struct sched *s = &x->s;
	const struct plan *plan = x->plan;
	int one = 1;
	uint32_t i;

	for (i = 0; i < x->nslots && s->next < s->total; i++) {
		uint32_t loop = (uint32_t)(s->next / plan->nflows);
		uint32_t fi = (uint32_t)(s->next % plan->nflows);
		const struct plan_flow *pf = plan->flow[fi];
		struct peer_result *r = &x->results[s->next];
		struct epoll_event e = { .events = EPOLLIN | EPOLLOUT };
		struct sflow *f = &x->sl[i];
		uint64_t dl;

		if (f->fd >= 0)
			continue;
		r->flow = fi;
		r->loop = loop;
		if (pf->skip != PLAN_OK) {
			s->next++;
			s->finished++;
			i--;
			continue;
		}
		dl = deadline(s, loop, pf->first_ts_ns);
		if (dl > now) {
			if (!x->wake || dl < x->wake)
				x->wake = dl;
			break;
		}
		s->next++;
		x->st->flows_started++;
		memset(f, 0, sizeof(*f));
		f->ri = (uint32_t)(r - x->results);
		f->loop = loop;
		f->pf = pf;
		f->progress_at = now;
		f->fd = socket(((const struct sockaddr *)x->server_sa)->sa_family,
			       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (f->fd < 0)
			return -errno;
		/* one write() = one segment: no Nagle coalescing */
		setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(f->fd, x->server_sa, x->sa_len) < 0 && errno != EINPROGRESS) {
			r->status = PEER_FLOW_ERROR;
			r->err = -errno;
			close(f->fd);
			f->fd = -1;
			s->finished++;
			x->st->flows_failed++;
			continue;
		}
		e.data.u32 = i;
		f->mask = e.events;
		epoll_ctl(x->ep, EPOLL_CTL_ADD, f->fd, &e);
	}
	return 0;
}

/* The connect finished: records the client address and port in r, or
 * the error.  Returns true when the flow is over (connect failed). */
static bool sflow_connected(struct sflow *f, struct peer_result *r, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t sl_len = sizeof(ss);
	int soerr = 0;
	socklen_t el = sizeof(soerr);

	getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &soerr, &el);
	if (soerr) {
		r->status = PEER_FLOW_ERROR;
		r->err = -soerr;
		return true;
	}
	f->connected = true;
	f->progress_at = now;
	getsockname(f->fd, (struct sockaddr *)&ss, &sl_len);
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&ss;

		r->family = AF_INET;
		memcpy(r->addr, &a->sin_addr, 4);
		r->port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const void *)&ss;

		r->family = AF_INET6;
		memcpy(r->addr, &a->sin6_addr, 16);
		r->port = ntohs(a->sin6_port);
	}
	return false;
}

/* One epoll event on a slot: connect done, room to write, or the
 * server's bytes / close to read. */
static void srun_event(struct srun *x, const struct epoll_event *ev, uint64_t now)
{
	struct sflow *f = &x->sl[ev->data.u32];
	struct peer_result *r = &x->results[f->ri];
	bool end = false;

	if (f->fd < 0)
		return;
	if (!f->connected && (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		end = sflow_connected(f, r, now);
	if (ev->events & EPOLLOUT)
		f->blocked = false;
	if (!end && f->connected && (ev->events & EPOLLIN)) {
		ssize_t got;

		while ((got = read(f->fd, x->drain, sizeof(x->drain))) > 0) {
			x->st->server_bytes += (uint64_t)got;
			f->progress_at = now;
		}
		if (got == 0) {
			r->status = f->off == f->pf->bytes ? PEER_FLOW_OK : PEER_FLOW_RESET;
			end = true;
		} else if (errno != EAGAIN) {
			r->status = errno == ECONNRESET ? PEER_FLOW_RESET : PEER_FLOW_ERROR;
			r->err = -errno;
			end = true;
		}
	}
	if (end) {
		r->acked = f->off;
		sflow_end(x, f, false);
	}
}

/* Writes, for every connected flow (pacing may hold some), and EPOLLOUT
 * asked for only while a write is waiting for room. */
static void srun_write_all(struct srun *x, uint64_t now)
{
	uint32_t i;
	int err;

	for (i = 0; i < x->nslots; i++) {
		struct sflow *f = &x->sl[i];

		if (f->fd < 0 || !f->connected || f->shut || f->blocked)
			continue;
		if ((err = sflow_write(&x->s, x->st, f, now, &x->wake)) < 0) {
			struct peer_result *r = &x->results[f->ri];

			r->status = PEER_FLOW_ERROR;
			r->err = err;
			r->acked = f->off;
			sflow_end(x, f, false);
		}
		if (f->fd >= 0) {
			struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };

			if (f->blocked && !f->shut)
				e.events |= EPOLLOUT;
			if (e.events != f->mask) {
				f->mask = e.events;
				epoll_ctl(x->ep, EPOLL_CTL_MOD, f->fd, &e);
			}
		}
	}
}

/* Flows that stopped moving (sflow_stalled) are closed with RST. */
static void srun_reap_stalled(struct srun *x, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < x->nslots; i++) {
		struct sflow *f = &x->sl[i];

		if (f->fd >= 0 && sflow_stalled(x->cfg, f, now, &x->results[f->ri]))
			sflow_end(x, f, true);
	}
}

/* Interrupted or failed: what is still open is aborted, closed with RST. */
static void srun_abort_open(struct srun *x)
{
	uint32_t i;

	for (i = 0; i < x->nslots; i++) {
		struct sflow *f = &x->sl[i];
		struct linger lg = { 1, 0 };

		if (f->fd < 0)
			continue;
		setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		x->results[f->ri].status = PEER_FLOW_ABORTED;
		x->results[f->ri].acked = f->off;
		close(f->fd);
	}
}

int peer_run_socket(const struct plan *plan, const struct peer_cfg *cfg,
		    const void *server_sa, unsigned int sa_len,
		    struct peer_result *results, struct peer_stats *st,
		    volatile sig_atomic_t *stop)
{
	struct srun *x;
	struct epoll_event ev[64];
	uint64_t start = pm_now_ns(), checked = 0;
	uint32_t i;
	int err = 0;

	memset(st, 0, sizeof(*st));
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	if ((err = peer_sched_init(&x->s, plan, cfg)) < 0) {
		free(x);
		return err;
	}
	x->plan = plan;
	x->cfg = cfg;
	x->server_sa = server_sa;
	x->sa_len = sa_len;
	x->results = results;
	x->st = st;
	x->nslots = cfg->concurrency ? cfg->concurrency : 64;
	memset(results, 0, x->s.total * sizeof(*results));
	x->sl = calloc(x->nslots, sizeof(*x->sl));
	x->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!x->sl || x->ep < 0) {
		err = x->sl ? -errno : -ENOMEM;
		goto out;
	}
	for (i = 0; i < x->nslots; i++)
		x->sl[i].fd = -1;
	start = pm_now_ns();

	while (x->s.finished < x->s.total) {
		uint64_t now = pm_now_ns();
		int n, k, timeout;

		if (*stop) {
			st->interrupted = true;
			break;
		}
		if ((err = srun_start_due(x, now)) < 0)
			goto out;
		timeout = 50;
		if (x->wake)
			timeout = x->wake > now ? (int)((x->wake - now) / 1000000) : 0;
		if (timeout > 50)
			timeout = 50;
		x->wake = 0;
		n = epoll_wait(x->ep, ev, 64, timeout);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			goto out;
		}
		now = pm_now_ns();
		for (k = 0; k < n; k++)
			srun_event(x, &ev[k], now);
		srun_write_all(x, now);
		/* ten times a second */
		if (now - checked >= 100000000) {
			checked = now;
			srun_reap_stalled(x, now);
		}
		progress(&x->s, now);
	}
out:
	if (x->sl)
		srun_abort_open(x);
	st->duration_ns = pm_now_ns() - start;
	peer_sched_finish(&x->s, st);
	if (x->ep >= 0)
		close(x->ep);
	free(x->sl);
	free(x);
	return err;
}
