/*
 * server.c: the connection handler and the stage hooks; see server.h.
 *
 * Reads go into the worker's (thread's) buffer, not a per-connection one:
 * the framer consumes every byte it is fed and keeps its own bounded copy
 * of a head split across reads, so nothing needs to stay in the read
 * buffer between reads.  A body that arrives in one piece is deserialized
 * straight from the read buffer (zero-copy); one split across reads is
 * gathered into the connection's body buffer.
 */
#include "core/server-int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <malloc.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/deser.h"
#include "core/framing.h"
#include "core/ioloop.h"
#include "core/listener.h"
#include "core/response.h"
#include "core/selfmon.h"

#define RELAXED __ATOMIC_RELAXED

_Static_assert(STATS_MAX_COUNTERS <= SELFMON_MAX, "a stats block's counters fit one perf group");

struct server {
	struct server_config cfg;
	struct stats_block *stats;
	struct listener *lis;
	unsigned live;			/* connections open now (atomic) */
	int spare_fd;			/* released to accept-and-close on EMFILE */
};

/* A CLOCK_MONOTONIC time plus, when a perf group is open, its values
 * and times (selfmon.h); as an accumulator, summed scaled deltas. */
struct mark {
	uint64_t ns;
	struct selfmon_sample pmu;
};

struct server_worker {
	struct server *s;
	/* this thread's section of the stats block (stats.h), written with
	 * plain stores; NULL when every section is taken: then the block's
	 * shared totals, with atomics (W_ADD) */
	struct stats_worker *sw;
	char *buf;			/* SERVER_READ_BUF bytes */
	struct deser *deser;		/* NULL with DESER_NONE */
	/* the perf group of config counters, NULL: none asked or none opened */
	struct selfmon *mon;
	/* connections of this worker; the deadline list is kept in
	 * deadline order because every deadline is now + a constant */
	struct sconn *all;
	struct sconn *dl_head, *dl_tail;
	/* during framer_feed: the last stage boundary */
	struct mark m0;
	struct sconn *cur;
};

struct sconn {
	struct server_worker *w;
	int fd;
	struct stats_conn *st;		/* NULL: table full (counted) */
	struct http_framer *framer;
	/* output queue */
	char *out;
	size_t out_len, out_off, out_cap;
	unsigned out_responses;		/* responses in the queue, not yet written */
	/* the body of the request being framed */
	const char *body_ref;		/* borrowed from the read buffer */
	size_t body_ref_len;
	char *body;			/* owned copy when split across reads */
	size_t body_len, body_cap;
	bool head_method_head;		/* HEAD: no response body */
	int minor_version;
	/* parse stage accumulated for the current request */
	struct mark parse_acc;
	/* timers */
	uint64_t deadline;		/* ns, 0 none */
	bool in_dl;
	bool waiting_head;		/* deadline is the header timeout */
	bool lingering;
	bool eof;
	struct sconn *dl_prev, *dl_next;
	struct sconn *prev, *next;	/* worker's list */
	void *loop_data;
};

/* ---- time and counters ---- */

static void worker_mark(struct server_worker *w, struct mark *m)
{
	m->ns = pm_now_ns();
	if (w->mon)
		selfmon_read(w->mon, &m->pmu);
}

/* Adds v to a total, in the worker's own section or in the block's (the
 * field names match). */
#define W_ADD(w, field, v)							\
	do {									\
		if ((w)->sw)							\
			stats_own_add(&(w)->sw->field, (v));			\
		else								\
			__atomic_fetch_add(&(w)->s->stats->field, (v), RELAXED);	\
	} while (0)

/* acc += b - a, each counter's delta scaled by the share of the
 * interval the group was on the PMU (selfmon_scale) */
static void mark_acc(struct server_worker *w, struct mark *acc,
		     const struct mark *a, const struct mark *b)
{
	uint64_t den, drun;
	unsigned i;

	acc->ns += b->ns - a->ns;
	if (!w->mon)
		return;
	den = b->pmu.enabled - a->pmu.enabled;
	drun = b->pmu.running - a->pmu.running;
	acc->pmu.enabled += den;
	acc->pmu.running += drun;
	for (i = 0; i < w->s->cfg.ncounters; i++)
		acc->pmu.val[i] += selfmon_scale(b->pmu.val[i] - a->pmu.val[i], den, drun);
}

static void stage_put(struct server_worker *w, enum stats_stage_id id,
		      uint64_t ns, uint64_t bytes)
{
	if (w->sw)
		stats_worker_stage_add(w->sw, id, ns, bytes);
	else
		stats_stage_add(w->s->stats, id, ns, bytes);
}

static void stage_add(struct server_worker *w, enum stats_stage_id id,
		      const struct mark *d, uint64_t bytes)
{
	unsigned i;

	stage_put(w, id, d->ns, bytes);
	if (!w->mon)
		return;
	W_ADD(w, counter_enabled_ns, d->pmu.enabled);
	W_ADD(w, counter_running_ns, d->pmu.running);
	for (i = 0; i < w->s->cfg.ncounters; i++)
		if (d->pmu.val[i])
			W_ADD(w, stage[id].counter[i], d->pmu.val[i]);
}

static void stage_between(struct server_worker *w, enum stats_stage_id id,
			  const struct mark *a, const struct mark *b, uint64_t bytes)
{
	struct mark d;

	memset(&d, 0, sizeof(d));
	mark_acc(w, &d, a, b);
	stage_add(w, id, &d, bytes);
}

static void worker_open_counters(struct server_worker *w)
{
	const struct server_config *cfg = &w->s->cfg;
	unsigned n = cfg->ncounters < STATS_MAX_COUNTERS ? cfg->ncounters : STATS_MAX_COUNTERS;

	w->mon = NULL;
	if (!n)
		return;
	if (selfmon_open(&w->mon, cfg->counters, n, w->s->stats->counter_error) < 0)
		w->mon = NULL;
	else
		w->s->stats->counter_how = (uint32_t)selfmon_how(w->mon);
}

int server_worker_new(struct server *s, struct server_worker **out)
{
	struct server_worker *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->s = s;
	w->buf = malloc(SERVER_READ_BUF);
	if (!w->buf) {
		free(w);
		return -ENOMEM;
	}
	w->sw = stats_worker_claim(s->stats);
	if (s->cfg.kind == SERVER_HTTP && s->cfg.deser != DESER_NONE) {
		struct deser_opts o;
		int rc;

		deser_opts_default(&o);
		o.mode = s->cfg.deser;
		o.extra_alloc = s->cfg.test_extra_alloc;
		rc = deser_new(&w->deser, &o);
		if (rc < 0) {
			stats_worker_release(w->sw);
			free(w->buf);
			free(w);
			return rc;
		}
	}
	worker_open_counters(w);
	*out = w;
	return 0;
}

void server_worker_free(struct server_worker *w)
{
	if (!w)
		return;
	while (w->all)
		sconn_close(w, w->all);
	selfmon_close(w->mon);
	deser_free(w->deser);
	stats_worker_release(w->sw);
	free(w->buf);
	free(w);
}

/* ---- deadlines ---- */

static void dl_unlink(struct server_worker *w, struct sconn *c)
{
	if (!c->in_dl)
		return;
	if (c->dl_prev)
		c->dl_prev->dl_next = c->dl_next;
	else
		w->dl_head = c->dl_next;
	if (c->dl_next)
		c->dl_next->dl_prev = c->dl_prev;
	else
		w->dl_tail = c->dl_prev;
	c->dl_prev = c->dl_next = NULL;
	c->in_dl = false;
}

/* Deadlines are always now + a fixed span per kind (header timeout or
 * linger), so appending keeps each kind in order; the two kinds mix, so
 * insert from the tail backwards (a short walk at worst). */
static void set_deadline(struct server_worker *w, struct sconn *c, uint64_t at)
{
	struct sconn *p;

	dl_unlink(w, c);
	c->deadline = at;
	if (!at)
		return;
	for (p = w->dl_tail; p && p->deadline > at; p = p->dl_prev)
		;
	c->dl_prev = p;
	c->dl_next = p ? p->dl_next : w->dl_head;
	if (c->dl_next)
		c->dl_next->dl_prev = c;
	else
		w->dl_tail = c;
	if (p)
		p->dl_next = c;
	else
		w->dl_head = c;
	c->in_dl = true;
}

struct sconn *server_worker_first_deadline(struct server_worker *w)
{
	return w->dl_head;
}

struct sconn *server_worker_any(struct server_worker *w)
{
	return w->all;
}

struct sconn *sconn_next(struct sconn *c)
{
	return c->next;
}

unsigned server_max_conns(const struct server *s)
{
	return s->cfg.max_conns;
}

uint64_t sconn_deadline(const struct sconn *c)
{
	return c->deadline;
}

static void header_timer(struct server_worker *w, struct sconn *c, bool on, uint64_t now)
{
	const struct server_config *cfg = &w->s->cfg;

	if (!cfg->header_timeout_ms || c->lingering || on == c->waiting_head)
		return;
	c->waiting_head = on;
	set_deadline(w, c, on ? now + cfg->header_timeout_ms * 1000000ULL : 0);
}

/* ---- output ---- */

static int out_reserve(struct sconn *c, size_t n)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + n <= c->out_cap)
		return 0;
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_len + n <= c->out_cap)
			return 0;
	}
	{
		size_t cap = c->out_cap ? c->out_cap : 1024;
		char *p;

		while (cap < c->out_len + n)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	return 0;
}

static int out_put(struct sconn *c, const char *p, size_t n)
{
	if (out_reserve(c, n) < 0)
		return -ENOMEM;
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

size_t sconn_pending(const struct sconn *c, const char **p)
{
	*p = c->out + c->out_off;
	return c->out_len - c->out_off;
}

static void count_status(struct server_worker *w, struct sconn *c, int status)
{
	unsigned cls = (unsigned)status / 100;

	if (cls < 6)
		W_ADD(w, status[cls], 1);
	/* a connection's slot has one writer: its worker */
	if (c->st) {
		__atomic_store_n(&c->st->last_status, (uint16_t)status, RELAXED);
		if (status >= 400)
			stats_own_add(&c->st->rejected, 1);
	}
	c->out_responses++;
}

/* An error answer: plain text reason; closes unless keep is set. */
static int respond_error(struct server_worker *w, struct sconn *c, int status,
			 const char *reason, bool keep)
{
	if (out_reserve(c, RESPONSE_ERROR_MAX) < 0)
		return -ENOMEM;
	c->out_len += response_error(c->out + c->out_len, status, reason, keep,
				     c->minor_version, c->head_method_head);
	count_status(w, c, status);
	return 0;
}

/* The handler: 200 with {"bytes":N,"fields":M}. */
static int respond_ok(struct server_worker *w, struct sconn *c, uint64_t bytes,
		      uint64_t fields, bool keep)
{
	if (out_reserve(c, RESPONSE_OK_MAX) < 0)
		return -ENOMEM;
	c->out_len += response_ok(c->out + c->out_len, bytes, fields, keep,
				  c->minor_version, c->head_method_head);
	count_status(w, c, 200);
	return 0;
}

/* ---- deserialization (wired to deser.h) ---- */

/* Parses the body, releases the document again (freeing is part of the
 * stage's cost), adds the allocation figures; the HTTP status on failure. */
static int run_deser(struct server_worker *w, const char *p, size_t n,
		     uint64_t *fields, const char **reason)
{
	struct deser_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = deser_parse(w->deser, p, n, &r);
	deser_reset(w->deser);
	W_ADD(w, alloc.allocs, r.allocs);
	W_ADD(w, alloc.frees, r.frees);
	W_ADD(w, alloc.bytes, r.bytes);
	W_ADD(w, alloc.fields, r.fields);
	if (w->sw)
		stats_own_max(&w->sw->alloc.peak_live_bytes, r.peak);
	else
		stats_atomic_max(&w->s->stats->alloc.peak_live_bytes, r.peak);
	*fields = r.fields;
	*reason = r.reason;
	if (rc < 0)
		return r.status ? r.status : 400;
	return 0;
}

/* ---- framer callbacks ---- */

static int body_own(struct sconn *c, const char *p, size_t n)
{
	if (c->body_len + n > c->body_cap) {
		size_t cap = c->body_cap ? c->body_cap : 4096;
		char *q;

		while (cap < c->body_len + n)
			cap *= 2;
		q = realloc(c->body, cap);
		if (!q)
			return -ENOMEM;
		c->body = q;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, p, n);
	c->body_len += n;
	return 0;
}

/* The borrowed body piece must be copied before the read buffer is reused. */
static int body_unborrow(struct sconn *c)
{
	int rc = 0;

	if (c->body_ref) {
		rc = body_own(c, c->body_ref, c->body_ref_len);
		c->body_ref = NULL;
		c->body_ref_len = 0;
	}
	return rc;
}

static int on_head(void *ctx, struct http_msg *m)
{
	struct sconn *c = ctx;
	struct server_worker *w = c->w;

	c->minor_version = m->req->minor_version;
	c->head_method_head = slice_eq(m->req->method, "HEAD");
	c->body_len = 0;
	c->body_ref = NULL;
	c->body_ref_len = 0;
	header_timer(w, c, false, 0);
	/* RFC 9110 §10.1.1: a client waiting on 100-continue may hold the
	 * body back; tell it to go ahead (limits were checked on the head). */
	if (m->expect_continue && m->body_kind != HTTP_BODY_NONE && c->minor_version >= 1)
		return out_put(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	return 0;
}

static int on_body(void *ctx, struct http_msg *m, const char *p, size_t n)
{
	struct sconn *c = ctx;
	int rc;

	(void)m;
	if (!n)
		return 0;
	if (!c->body_ref && !c->body_len) {
		c->body_ref = p;
		c->body_ref_len = n;
		return 0;
	}
	rc = body_unborrow(c);
	return rc < 0 ? rc : body_own(c, p, n);
}

static int on_end(void *ctx, struct http_msg *m)
{
	struct sconn *c = ctx;
	struct server_worker *w = c->w;
	struct mark t1, t2, t3;
	const char *body = c->body_ref ? c->body_ref : c->body;
	size_t blen = c->body_ref ? c->body_ref_len : c->body_len;
	uint64_t fields = 0;
	const char *reason = NULL;
	int rc = 0;

	/* parse: from the last boundary to here, plus earlier feeds' share */
	worker_mark(w, &t1);
	mark_acc(w, &c->parse_acc, &w->m0, &t1);
	stage_add(w, STATS_PARSE, &c->parse_acc, m->head_bytes + m->wire_body_bytes);
	memset(&c->parse_acc, 0, sizeof(c->parse_acc));

	W_ADD(w, requests, 1);
	if (c->st)
		stats_own_add(&c->st->requests, 1);

	t2 = t1;
	if (blen && w->deser) {
		rc = run_deser(w, body, blen, &fields, &reason);
		worker_mark(w, &t2);
		stage_between(w, STATS_DESER, &t1, &t2, blen);
	}
	if (rc > 0)
		rc = respond_error(w, c, rc, reason ? reason : "invalid JSON", m->keep_alive);
	else
		rc = respond_ok(w, c, m->body_bytes, fields, m->keep_alive);
	worker_mark(w, &t3);
	stage_between(w, STATS_HANDLER, &t2, &t3, 0);
	/* the rest of this feed belongs to the next request */
	w->m0 = t3;
	c->body_ref = NULL;
	c->body_ref_len = 0;
	c->body_len = 0;
	c->head_method_head = false;
	return rc;
}

static const struct framer_ops sconn_framer_ops = {
	.on_head = on_head,
	.on_body = on_body,
	.on_end = on_end,
};

/* ---- the handler ---- */

static enum sconn_status handle_http(struct server_worker *w, struct sconn *c,
				     const char *buf, size_t n)
{
	struct mark t1;
	long r;
	int rc;

	if (framer_state(c->framer) == FRAMER_CLOSED)
		return SCONN_FLUSH_CLOSE;	/* bytes after "Connection: close" */
	worker_mark(w, &w->m0);
	w->cur = c;
	r = framer_feed(c->framer, buf, n);
	w->cur = NULL;
	worker_mark(w, &t1);
	mark_acc(w, &c->parse_acc, &w->m0, &t1);
	if (r == -1) {
		const struct http_error *e = framer_error(c->framer);

		rc = respond_error(w, c, e && e->status ? e->status : 400,
				   e ? e->reason : NULL, false);
		return rc < 0 ? SCONN_DONE : SCONN_FLUSH_CLOSE;
	}
	if (r < 0)
		return SCONN_DONE;	/* out of memory in a callback */
	if (body_unborrow(c) < 0)
		return SCONN_DONE;
	if (framer_state(c->framer) == FRAMER_CLOSED)
		return SCONN_FLUSH_CLOSE;
	/* a partial head is pending: the header timeout runs */
	header_timer(w, c, framer_state(c->framer) == FRAMER_HEAD &&
			   !framer_at_boundary(c->framer), t1.ns);
	return SCONN_OPEN;
}

enum sconn_status sconn_input(struct server_worker *w, struct sconn *c,
			      const char *buf, size_t n, uint64_t read_ns)
{
	stage_put(w, STATS_READ, read_ns, n);
	if (n) {
		W_ADD(w, bytes_read, n);
		if (c->st)
			stats_own_add(&c->st->bytes_read, n);
	}
	if (c->lingering)
		return n ? SCONN_OPEN : SCONN_DONE;
	if (!n) {
		/* the peer finished sending: answer what is queued, then close */
		c->eof = true;
		return SCONN_FLUSH_CLOSE;
	}
	if (w->s->cfg.kind == SERVER_ECHO)
		return out_put(c, buf, n) < 0 ? SCONN_DONE : SCONN_OPEN;
	return handle_http(w, c, buf, n);
}

enum sconn_status sconn_read(struct server_worker *w, struct sconn *c)
{
	uint64_t t0 = pm_now_ns();
	ssize_t n;

	do
		n = read(c->fd, w->buf, SERVER_READ_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return SCONN_OPEN;
		return SCONN_DONE;	/* ECONNRESET and friends */
	}
	return sconn_input(w, c, w->buf, (size_t)n, pm_now_ns() - t0);
}

void sconn_wrote(struct server_worker *w, struct sconn *c, size_t n, uint64_t ns)
{
	stage_put(w, STATS_WRITE, ns, n);
	c->out_off += n;
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->st && c->out_responses)
			stats_own_add(&c->st->responses, c->out_responses);
		c->out_responses = 0;
	}
}

int sconn_flush(struct server_worker *w, struct sconn *c)
{
	while (c->out_off < c->out_len) {
		uint64_t t0 = pm_now_ns();
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -errno;
		}
		sconn_wrote(w, c, (size_t)n, pm_now_ns() - t0);
	}
	return 0;
}

enum sconn_status sconn_expire(struct server_worker *w, struct sconn *c)
{
	if (c->lingering) {
		set_deadline(w, c, 0);
		return SCONN_DONE;
	}
	if (c->waiting_head) {
		c->waiting_head = false;
		set_deadline(w, c, 0);
		/* RFC 9110 §15.5.9; best effort, the connection closes anyway */
		if (respond_error(w, c, 408, "header timeout", false) < 0)
			return SCONN_DONE;
		return SCONN_FLUSH_CLOSE;
	}
	set_deadline(w, c, 0);
	return SCONN_OPEN;
}

enum sconn_status sconn_linger(struct server_worker *w, struct sconn *c)
{
	if (c->eof)
		return SCONN_DONE;	/* nothing more will come */
	if (c->lingering)
		return SCONN_OPEN;
	c->lingering = true;
	c->waiting_head = false;
	if (shutdown(c->fd, SHUT_WR) < 0)
		return SCONN_DONE;
	set_deadline(w, c, pm_now_ns() + SERVER_LINGER_MS * 1000000ULL);
	return SCONN_OPEN;
}

int sconn_fd(const struct sconn *c)
{
	return c->fd;
}

void *sconn_loop_data(struct sconn *c)
{
	return c->loop_data;
}

void sconn_set_loop_data(struct sconn *c, void *p)
{
	c->loop_data = p;
}

void sconn_close(struct server_worker *w, struct sconn *c)
{
	if (!c)
		return;
	dl_unlink(w, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->st)
		__atomic_store_n(&c->st->state, 2, __ATOMIC_RELEASE);
	close(c->fd);
	__atomic_fetch_sub(&w->s->live, 1, RELAXED);
	framer_free(c->framer);
	free(c->out);
	free(c->body);
	free(c);
}

/* ---- accept ---- */

static struct sconn *sconn_new(struct server_worker *w, int fd,
			       const struct sockaddr_storage *peer)
{
	struct server *s = w->s;
	struct sconn *c = calloc(1, sizeof(*c));
	const void *addr;
	uint16_t port;
	int family;

	if (!c)
		return NULL;
	c->w = w;
	c->fd = fd;
	c->minor_version = 1;
	if (s->cfg.kind == SERVER_HTTP &&
	    framer_new(&c->framer, &s->cfg.limits, &sconn_framer_ops, c) < 0) {
		free(c);
		return NULL;
	}
	if (listener_peer_key(peer, &family, &addr, &port) == 0)
		c->st = stats_conn_open(s->stats, family, addr, port);
	else
		__atomic_fetch_add(&s->stats->conns_overflow, 1, RELAXED);
	c->next = w->all;
	if (w->all)
		w->all->prev = c;
	w->all = c;
	if (s->cfg.kind == SERVER_HTTP)
		header_timer(w, c, true, pm_now_ns());
	return c;
}

int server_accept_fd(struct server *s, int nonblock, struct sockaddr_storage *peer)
{
	int fd;

	fd = listener_accept(s->lis, peer, nonblock);
	if ((fd == -EMFILE || fd == -ENFILE) && s->spare_fd >= 0) {
		/* Out of descriptors with connections waiting: release the spare,
		 * accept one and close it, so the backlog drains instead of the
		 * loop spinning on a listener that stays readable. */
		close(s->spare_fd);
		s->spare_fd = -1;
		fd = listener_accept(s->lis, peer, 1);
		if (fd >= 0) {
			close(fd);
			__atomic_fetch_add(&s->stats->connections_refused, 1, RELAXED);
		}
		s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		return -ECONNREFUSED;
	}
	if (fd < 0)
		return fd;
	if (__atomic_fetch_add(&s->live, 1, RELAXED) >= s->cfg.max_conns) {
		__atomic_fetch_sub(&s->live, 1, RELAXED);
		__atomic_fetch_add(&s->stats->connections_refused, 1, RELAXED);
		close(fd);
		return -ECONNREFUSED;
	}
	return fd;
}

struct sconn *sconn_attach(struct server_worker *w, int fd,
			   const struct sockaddr_storage *peer)
{
	struct sconn *c = sconn_new(w, fd, peer);

	if (!c) {
		__atomic_fetch_sub(&w->s->live, 1, RELAXED);
		close(fd);
		return NULL;
	}
	__atomic_fetch_add(&w->s->stats->connections, 1, RELAXED);
	return c;
}

void server_drop_fd(struct server *s, int fd)
{
	close(fd);
	__atomic_fetch_sub(&s->live, 1, RELAXED);
}

int server_listen_fd(const struct server *s)
{
	return listener_fd(s->lis);
}

/* ---- the server ---- */

void server_config_default(struct server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen = "127.0.0.1:0";
	cfg->io = SERVER_IO_EPOLL;
	cfg->kind = SERVER_HTTP;
	http_limits_default(&cfg->limits);
	cfg->max_conns = SERVER_DEFAULT_MAX_CONNS;
	cfg->header_timeout_ms = SERVER_DEFAULT_HEADER_TIMEOUT_MS;
}

int server_new(struct server **out, const struct server_config *cfg,
	       struct stats_block *stats, char *errmsg, size_t errlen)
{
	struct server *s;
	unsigned i;
	int rc;

	char why[sizeof(stats->start_error)] = "";

	*out = NULL;
	if (errmsg && errlen)
		errmsg[0] = '\0';
	if (cfg->ncounters > STATS_MAX_COUNTERS || (cfg->ncounters && !cfg->counters)) {
		snprintf(why, sizeof(why), "at most %d perf counters", STATS_MAX_COUNTERS);
		rc = -EINVAL;
		goto fail;
	}
	/* Keep the heap: glibc gives the top of the heap back past 128 KiB
	 * free, and a server whose live connections rise and fall then
	 * faults the same pages in again and again (measured on a replay of
	 * 20,000 requests: 1,600-3,000 minor faults, the server's CPU
	 * varying by 25% with them; 1,430 faults and steady with the heap
	 * kept).  A body up to 32 MiB comes from the heap too, not from a
	 * fresh mmap each time.  Process-wide: the server is the process. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(why, sizeof(why), "server: out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	s->cfg = *cfg;
	if (!s->cfg.max_conns)
		s->cfg.max_conns = SERVER_DEFAULT_MAX_CONNS;
	s->stats = stats;
	s->spare_fd = -1;
	rc = listener_new(&s->lis, cfg->listen ? cfg->listen : "127.0.0.1:0",
			  cfg->backlog, why, sizeof(why));
	if (rc < 0) {
		free(s);
		goto fail;
	}
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	stats->server_pid = getpid();
	stats->port = listener_port(s->lis);
	stats->ncounters = cfg->ncounters;
	for (i = 0; i < cfg->ncounters; i++) {
		const char *nm = cfg->counter_names && cfg->counter_names[i]
				 ? cfg->counter_names[i] : "counter";

		snprintf(stats->counter_name[i], STATS_COUNTER_NAME, "%s", nm);
	}
	__atomic_store_n(&stats->ready, 1, __ATOMIC_RELEASE);
	*out = s;
	return 0;
fail:
	if (!why[0])
		snprintf(why, sizeof(why), "%s", strerror(-rc));
	if (errmsg && errlen)
		snprintf(errmsg, errlen, "%s", why);
	stats_set_start_error(stats, "%s", why);
	return rc;
}

uint16_t server_port(const struct server *s)
{
	return listener_port(s->lis);
}

const char *server_name(const struct server *s)
{
	return listener_name(s->lis);
}

int server_serve(struct server *s, volatile sig_atomic_t *stop)
{
	int rc = ioloop_run(s, s->cfg.io, stop);

	if (rc < 0)	/* a loop names its own failed step; this is the fallback */
		server_fail(s, server_io_name(s->cfg.io), rc);
	return rc;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	listener_free(s->lis);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	free(s);
}

int server_run(const struct server_config *cfg, struct stats_block *stats,
	       volatile sig_atomic_t *stop)
{
	struct server *s;
	int rc;

	rc = server_new(&s, cfg, stats, NULL, 0);	/* the reason is in stats */
	if (rc < 0)
		return rc;
	rc = server_serve(s, stop);
	server_free(s);
	return rc;
}

int server_fail(struct server *s, const char *what, int err)
{
	stats_set_start_error(s->stats, "%s: %s", what, strerror(err < 0 ? -err : err));
	return err;
}

const char *server_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == ENOSYS || err == EPERM)
		return "io_uring is not available here (see kernel.io_uring_disabled): use --io epoll";
	return listener_strerror(err);
}

static const char *const io_names[] = {
	[SERVER_IO_BLOCKING] = "blocking",
	[SERVER_IO_EPOLL] = "epoll",
	[SERVER_IO_URING] = "uring",
};

const char *server_io_name(enum server_io io)
{
	return (unsigned)io < sizeof(io_names) / sizeof(io_names[0]) ? io_names[io] : "?";
}

int server_io_parse(const char *name, enum server_io *io)
{
	unsigned i;

	for (i = 0; i < sizeof(io_names) / sizeof(io_names[0]); i++)
		if (!strcmp(name, io_names[i])) {
			*io = (enum server_io)i;
			return 0;
		}
	return -EINVAL;
}
