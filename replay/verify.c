/* verify.c: the replay's delivery check against the servers' stats blocks
 * (verify.h). */
#include "replay/verify.h"

#include "replay/sink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Pairs every replayed connection with the server's record of it.  One
 * client address and port can carry several connections in one replay
 * (loopback hands the same ephemeral port out again across --loop passes),
 * so the server's records for an endpoint, in accept order (the order they
 * claimed slots), pair with the replayed connections to that endpoint in
 * the order they started (the results' index order: both schedulers start
 * flows loop by loop, flow by flow).  A later connection on a reused port
 * cannot start before the earlier one's client side closed, so the two
 * orders agree.  When the server holds more records for an endpoint than
 * were replayed to it, the newest ones pair. */
struct ctab {
	uint64_t *key;
	uint32_t *head, *tail, *nsrv, *nres;
	uint32_t *next;		/* per server slot: the endpoint's next record */
	uint32_t cap;
};

#define CTAB_NONE UINT32_MAX

static uint32_t ctab_entry(struct ctab *t, uint64_t k)
{
	uint32_t h;

	for (h = (uint32_t)(k >> 7) & (t->cap - 1); t->key[h] && t->key[h] != k;
	     h = (h + 1) & (t->cap - 1))
		;
	if (!t->key[h]) {
		t->key[h] = k;
		t->head[h] = t->tail[h] = CTAB_NONE;
	}
	return h;
}

static void ctab_free(struct ctab *t)
{
	free(t->key);
	free(t->head);
	free(t->tail);
	free(t->nsrv);
	free(t->nres);
	free(t->next);
	memset(t, 0, sizeof(*t));
}

/* Which server block a result was replayed to: [1] holds IPv6 when the
 * engine ran a second server for it. */
static int result_block(const struct peer_result *pr, struct stats_block *const blocks[2])
{
	return blocks[1] && pr->family == AF_INET6;
}

/* Fills match[i] for every started result replayed to block b (NULL: the
 * server has no record of it); leaves the others alone. */
static int ctab_match(struct stats_block *const blocks[2], int b, const struct peer_result *res,
		      uint64_t nres, const struct stats_conn **match)
{
	const struct stats_block *st = blocks[b];
	uint32_t n = st->nconns < st->conn_cap ? st->nconns : st->conn_cap, i, h;
	struct ctab t;
	uint64_t r;
	int err = 0;

	memset(&t, 0, sizeof(t));
	t.cap = 1024;
	while (t.cap < (uint64_t)n * 2 || t.cap < nres * 2)
		t.cap *= 2;
	t.key = calloc(t.cap, sizeof(*t.key));
	t.head = calloc(t.cap, sizeof(*t.head));
	t.tail = calloc(t.cap, sizeof(*t.tail));
	t.nsrv = calloc(t.cap, sizeof(*t.nsrv));
	t.nres = calloc(t.cap, sizeof(*t.nres));
	t.next = calloc(n ? n : 1, sizeof(*t.next));
	if (!t.key || !t.head || !t.tail || !t.nsrv || !t.nres || !t.next) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct stats_conn *c = &st->conn[i];

		t.next[i] = CTAB_NONE;
		if (!__atomic_load_n(&c->state, __ATOMIC_ACQUIRE))
			continue;
		h = ctab_entry(&t, plan_peer_key(c->family, c->addr, c->port));
		if (t.tail[h] == CTAB_NONE)
			t.head[h] = i;
		else
			t.next[t.tail[h]] = i;
		t.tail[h] = i;
		t.nsrv[h]++;
	}
	for (r = 0; r < nres; r++)
		if (res[r].family && result_block(&res[r], blocks) == b)
			t.nres[ctab_entry(&t, plan_peer_key(res[r].family, res[r].addr, res[r].port))]++;
	/* head becomes the cursor: past the records nothing pairs with */
	for (h = 0; h < t.cap; h++) {
		uint32_t skip = t.nsrv[h] > t.nres[h] ? t.nsrv[h] - t.nres[h] : 0;

		while (t.key[h] && skip-- && t.head[h] != CTAB_NONE)
			t.head[h] = t.next[t.head[h]];
	}
	for (r = 0; r < nres; r++) {
		if (!res[r].family || result_block(&res[r], blocks) != b)
			continue;
		h = ctab_entry(&t, plan_peer_key(res[r].family, res[r].addr, res[r].port));
		match[r] = t.head[h] == CTAB_NONE ? NULL : &st->conn[t.head[h]];
		if (t.head[h] != CTAB_NONE)
			t.head[h] = t.next[t.head[h]];
	}
out:
	ctab_free(&t);
	return err;
}

/* match[] for every result, both blocks. */
static int match_all(struct stats_block *const blocks[2], const struct peer_result *res,
		     uint64_t nres, const struct stats_conn **match)
{
	int b, err;

	memset(match, 0, nres * sizeof(*match));
	for (b = 0; b < 2; b++)
		if (blocks[b] && (err = ctab_match(blocks, b, res, nres, match)) < 0)
			return err;
	return 0;
}

static void add_failure(struct engine_result *r, const struct plan_flow *pf, uint32_t loop,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add_failure(struct engine_result *r, const struct plan_flow *pf, uint32_t loop,
			const char *fmt, ...)
{
	va_list ap;
	struct engine_failure *e;

	r->nfailures++;
	if (r->nfailures > 64)
		return;
	e = &r->failures[r->nfailures - 1];
	e->flow_id = pf->id;
	e->loop = loop;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static void fmt_peer(char *out, size_t n, int family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, a, sizeof(a));
	snprintf(out, n, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

/* A foreign server keeps no per-connection counts, but the profiler counts
 * what the kernel copies to its threads: it must have read every byte its
 * kernel ACKed.  Exact when every flow closed cleanly; a flow the server
 * reset or closed early may leave bytes legitimately unread (reported,
 * not failed).  More than was ACKed: the server reads other sockets too
 * (upstreams, its own channels), reported.  Waits up to wait_ms for the
 * server to read (the counter lags the reads by up to 20 ms). */
static void verify_copied(const struct plan *plan, const struct engine_cfg *cfg,
			  const struct peer_result *res, uint64_t nres, uint32_t wait_ms,
			  struct engine_result *r)
{
	uint64_t want = 0, got = 0, last = UINT64_MAX, i;
	uint32_t waited = 0, still = 0;
	bool exact = true;
	int part = 0;

	for (i = 0; i < nres; i++) {
		const struct plan_flow *pf = plan->flow[res[i].flow];

		if (pf->skip != PLAN_OK || res[i].status == PEER_FLOW_PENDING)
			continue;
		want += res[i].acked;
		if (res[i].status != PEER_FLOW_OK || pf->expect_close)
			exact = false;
	}
	for (;;) {
		if ((part = cfg->hooks.copied(cfg->hooks.arg, &got)) < 0)
			return;
		if (got >= want || waited >= wait_ms)
			break;
		/* not exact: settled once it stops moving for 100 ms */
		still = got == last ? still + 1 : 0;
		if ((!exact || part) && still >= 10)
			break;
		last = got;
		usleep(10000);
		waited += 10;
	}
	/* one more drain period: a copy still in the ring would show as more */
	usleep(30000);
	if ((part = cfg->hooks.copied(cfg->hooks.arg, &got)) < 0)
		return;
	r->copy_checked = true;
	r->copy_bytes = got;
	r->copy_acked = want;
	r->server_bytes_read = got;
	if (got < want && part) {
		snprintf(r->copy_msg, sizeof(r->copy_msg), "the threads watched read %llu of the %llu "
			 "bytes the server's kernel ACKed; it started threads or processes after the "
			 "profiler attached, so not every read is counted (not verified)",
			 (unsigned long long)got, (unsigned long long)want);
	} else if (got < want && exact) {
		r->copy_failed = true;
		snprintf(r->copy_msg, sizeof(r->copy_msg), "the server's threads read %llu of the %llu "
			 "bytes its kernel ACKed (kernel copy counters): %llu bytes never read",
			 (unsigned long long)got, (unsigned long long)want,
			 (unsigned long long)(want - got));
	} else if (got < want) {
		snprintf(r->copy_msg, sizeof(r->copy_msg), "the server's threads read %llu of the %llu "
			 "bytes its kernel ACKed; flows it reset or closed early account for the rest",
			 (unsigned long long)got, (unsigned long long)want);
	} else if (got > want) {
		snprintf(r->copy_msg, sizeof(r->copy_msg), "the server's threads read %llu bytes, %llu "
			 "more than the replay delivered (it reads other sockets too)",
			 (unsigned long long)got, (unsigned long long)(got - want));
	}
}

/* Compares every replayed flow with what the server read.  Waits (up to
 * wait_ms) for the server to read what its kernel already ACKed. */
int engine_verify(const struct plan *plan, const struct engine_cfg *cfg,
		  const struct peer_result *res, uint64_t nres,
		  struct stats_block *const blocks[2], struct engine_result *r)
{
	bool foreign = cfg->server.foreign || cfg->remote;
	uint32_t wait_ms = cfg->verify_wait_ms ? cfg->verify_wait_ms : 3000, waited = 0;
	const struct stats_conn **match = calloc(nres ? nres : 1, sizeof(*match));
	uint64_t i;
	int err = 0;

	if (!match)
		return -ENOMEM;
	/* a foreign server keeps no per-connection record to wait for */
	for (; !foreign;) {
		bool pending = false;

		if ((err = match_all(blocks, res, nres, match)) < 0)
			goto out;
		for (i = 0; i < nres && !pending; i++) {
			const struct peer_result *pr = &res[i];
			const struct plan_flow *pf = plan->flow[pr->flow];
			const struct stats_conn *c = match[i];

			if (pf->skip != PLAN_OK || pr->status != PEER_FLOW_OK)
				continue;
			/* state first, with acquire: a slot seen closed (2)
			 * has its final bytes and requests visible */
			if (!c || __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == 1 ||
			    __atomic_load_n(&c->bytes_read, __ATOMIC_RELAXED) < pf->bytes)
				pending = true;
		}
		if (!pending || waited >= wait_ms)
			break;
		usleep(10000);
		waited += 10;
	}
	if (!foreign && (err = match_all(blocks, res, nres, match)) < 0)
		goto out;

	r->nfailures = 0;
	r->requests_verified = cfg->server.counts_requests && !foreign;
	for (i = 0; i < nres; i++) {
		const struct peer_result *pr = &res[i];
		const struct plan_flow *pf = plan->flow[pr->flow];
		const struct stats_conn *c;
		char who[80];
		uint64_t got;
		int b = result_block(pr, blocks);

		if (pf->skip != PLAN_OK)
			continue;
		if (pf->requests_known && pr->status != PEER_FLOW_PENDING)
			r->requests += pf->requests;
		else
			r->requests_verified = false;
		fmt_peer(who, sizeof(who), pr->family, pr->addr, pr->port);
		if (pf->expect_close && foreign && pr->acked < pf->bytes &&
		    (pr->status == PEER_FLOW_OK || pr->status == PEER_FLOW_RESET)) {
			/* a foreign server may refuse such a request and close
			 * before the rest arrived: counted, not a failure */
			r->flows_rejected++;
			continue;
		}
		if (pf->expect_close && !foreign &&
		    (pr->status == PEER_FLOW_OK || pr->status == PEER_FLOW_RESET)) {
			/* the framer rejects one of its requests: the server
			 * answers and closes; it must have read no more than
			 * the capture holds, and have seen the connection */
			c = match[i];
			if (!c)
				add_failure(r, pf, pr->loop, "flow %llu (client %s): the server has no record of "
					    "the connection", (unsigned long long)pf->id, who);
			else if (c->bytes_read > pf->bytes)
				add_failure(r, pf, pr->loop, "flow %llu (client %s): the server read %llu bytes, "
					    "more than the capture's %llu", (unsigned long long)pf->id, who,
					    (unsigned long long)c->bytes_read, (unsigned long long)pf->bytes);
			else
				r->flows_rejected++;
			continue;
		}
		if (pr->status != PEER_FLOW_OK &&
		    !(foreign && pr->status == PEER_FLOW_RESET && pr->acked == pf->bytes)) {
			if (pr->status == PEER_FLOW_ABORTED || pr->status == PEER_FLOW_PENDING) {
				if (r->interrupted)
					continue;
			}
			add_failure(r, pf, pr->loop, "flow %llu (client %s): %s after %llu of %llu bytes",
				    (unsigned long long)pf->id, who, peer_status_name(pr->status),
				    (unsigned long long)pr->acked, (unsigned long long)pf->bytes);
			continue;
		}
		if (foreign) {
			/* delivered = the server's kernel ACKed every byte (it
			 * may then reset: an early close with unread data) */
			if (pr->acked != pf->bytes)
				add_failure(r, pf, pr->loop, "flow %llu (client %s): the server ACKed %llu "
					    "bytes, the capture has %llu", (unsigned long long)pf->id, who,
					    (unsigned long long)pr->acked, (unsigned long long)pf->bytes);
			continue;
		}
		c = match[i];
		if (!c) {
			add_failure(r, pf, pr->loop, "flow %llu (client %s): the server has no record of "
				    "the connection (byte offset 0 of %llu)", (unsigned long long)pf->id, who,
				    (unsigned long long)pf->bytes);
			continue;
		}
		got = __atomic_load_n(&c->bytes_read, __ATOMIC_RELAXED);
		if (got != pf->bytes) {
			add_failure(r, pf, pr->loop, "flow %llu (client %s): the server read %llu bytes, the "
				    "capture has %llu: streams differ from byte offset %llu",
				    (unsigned long long)pf->id, who, (unsigned long long)got,
				    (unsigned long long)pf->bytes,
				    (unsigned long long)(got < pf->bytes ? got : pf->bytes));
			continue;
		}
		if (cfg->server.content_fnv && (size_t)(c - blocks[b]->conn) < SINK_HASH_SLOTS) {
			uint64_t h = SINK_FNV_INIT;
			uint32_t j;

			for (j = 0; j < pf->nseg; j++)
				h = sink_fnv(h, pf->seg[j].data, pf->seg[j].len);
			if (h != cfg->server.content_fnv[(size_t)b * SINK_HASH_SLOTS + (size_t)(c - blocks[b]->conn)]) {
				add_failure(r, pf, pr->loop, "flow %llu (client %s): the server read %llu bytes "
					    "but different ones than the capture's", (unsigned long long)pf->id,
					    who, (unsigned long long)got);
				continue;
			}
		}
		if (cfg->server.counts_requests && pf->requests_known &&
		    __atomic_load_n(&c->requests, __ATOMIC_RELAXED) != pf->requests)
			add_failure(r, pf, pr->loop, "flow %llu (client %s): the server parsed %llu requests, "
				    "the capture has %llu", (unsigned long long)pf->id, who,
				    (unsigned long long)c->requests, (unsigned long long)pf->requests);
	}
	if (cfg->server.foreign && cfg->hooks.copied && !r->interrupted)
		verify_copied(plan, cfg, res, nres, wait_ms, r);
	r->verified = r->nfailures == 0 && !r->interrupted && !r->copy_failed;
out:
	free(match);
	return err;
}

