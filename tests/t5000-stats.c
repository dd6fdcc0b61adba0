/*
 * t5000-stats: the shared stats block: stage sums, log2 histograms and
 * percentiles, per-connection slots keyed by peer, the overflow count,
 * that a forked child's updates are seen by the parent, the snapshot
 * (the counter group's times included), the merge of two blocks, and the
 * writer sections: claimed, given back, summed by the snapshot.
 */
#include "core/stats.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/stats-conn.h"
#include "tests/tap.h"

int main(void)
{
	struct stats_block *b = NULL, *snap;
	struct stats_conn *c;
	const struct stats_conn *f;
	uint8_t a4[4] = { 127, 0, 0, 1 }, a6[16] = { [15] = 1 };
	unsigned i;
	pid_t pid;
	int st;

	plan_lazy();
	is_int(stats_create(&b, 0), 0, "stats_create");
	if (!b)
		bail_out("no stats block");
	ok(b->magic == STATS_MAGIC && b->version == STATS_VERSION &&
	   b->size == sizeof(*b) && b->conn_cap == STATS_DEFAULT_CONNS, "header set");

	/* 100 events of 1000 ns, 10 of 1e6 ns, 1 of 1e9 ns */
	for (i = 0; i < 100; i++)
		stats_stage_add(b, STATS_PARSE, 1000, 10);
	for (i = 0; i < 10; i++)
		stats_stage_add(b, STATS_PARSE, 1000000, 0);
	stats_stage_add(b, STATS_PARSE, 1000000000, 0);
	is_int(b->stage[STATS_PARSE].count, 111, "count");
	is_int(b->stage[STATS_PARSE].bytes, 1000, "bytes");
	is_int(b->stage[STATS_PARSE].total_ns, 100 * 1000 + 10 * 1000000 + 1000000000ULL, "total");
	is_int(b->stage[STATS_PARSE].max_ns, 1000000000, "max");
	is_int(b->stage[STATS_PARSE].hist[9], 100, "1000 ns in bucket 9 [512,1024)");
	ok(stats_percentile(&b->stage[STATS_PARSE], 50) >= 512 &&
	   stats_percentile(&b->stage[STATS_PARSE], 50) < 1024, "p50 in 1000's bucket");
	ok(stats_percentile(&b->stage[STATS_PARSE], 95) >= (1 << 19) &&
	   stats_percentile(&b->stage[STATS_PARSE], 95) < (1 << 20), "p95 in 1e6's bucket");
	is_int(stats_percentile(&b->stage[STATS_PARSE], 100), 1000000000, "p100 clamped to max");
	is_int(stats_percentile(&b->stage[STATS_WRITE], 50), 0, "empty stage: 0");
	stats_stage_add(b, STATS_READ, 0, 0);
	is_int(b->stage[STATS_READ].hist[0], 1, "0 ns in bucket 0");
	stats_stage_add(b, STATS_READ, UINT64_MAX, 0);
	is_int(b->stage[STATS_READ].hist[STATS_HIST_BUCKETS - 1], 1, "huge in the last bucket");
	is_str(stats_stage_name(STATS_DESER), "deser", "stage name");

	c = stats_conn_open(b, AF_INET, a4, 40000);
	ok(c && c->state == 1, "conn slot claimed");
	c->bytes_read = 123;
	stats_conn_open(b, AF_INET6, a6, 40000);
	f = stats_conn_find(b, AF_INET, a4, 40000);
	ok(f == c && f->bytes_read == 123, "found by address and port");
	ok(stats_conn_find(b, AF_INET, a4, 40001) == NULL, "other port not found");
	f = stats_conn_find(b, AF_INET6, a6, 40000);
	ok(f && f->family == AF_INET6, "IPv6 peer found");
	c = stats_conn_open(b, AF_INET, a4, 40000);
	c->bytes_read = 7;
	f = stats_conn_find(b, AF_INET, a4, 40000);
	ok(f == c && f->bytes_read == 7, "a reused peer finds its last slot");

	pid = fork();
	if (pid == 0) {
		struct stats_conn *cc = stats_conn_open(b, AF_INET, a4, 50000);

		cc->requests = 9;
		stats_stage_add(b, STATS_WRITE, 5, 5);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	f = stats_conn_find(b, AF_INET, a4, 50000);
	ok(f && f->requests == 9, "child's slot visible to the parent");
	is_int(b->stage[STATS_WRITE].count, 1, "child's stage visible to the parent");

	b->counter_enabled_ns = 1000;
	b->counter_running_ns = 400;
	b->counter_how = 1;
	b->stage[STATS_PARSE].counter[0] = 7;
	snap = malloc(stats_block_bytes(b->conn_cap));
	stats_snapshot(b, snap);
	is_int(snap->nconns, 4, "snapshot: nconns");
	is_int(snap->stage[STATS_PARSE].count, 111, "snapshot: stage");
	ok(snap->conn[0].bytes_read == 123 && snap->conn[4].state == 0, "snapshot: conns");
	ok(snap->counter_enabled_ns == 1000 && snap->counter_running_ns == 400 &&
	   snap->counter_how == 1, "snapshot: the counter group's times and how it was read");

	/* two servers' blocks (IPv4 and IPv6) add up */
	stats_merge(snap, b);
	is_int(snap->stage[STATS_PARSE].count, 222, "merge: stage counts add");
	is_int(snap->stage[STATS_PARSE].counter[0], 14, "merge: counters add");
	ok(snap->counter_enabled_ns == 2000 && snap->counter_running_ns == 800,
	   "merge: the group's time enabled and running add");
	is_int(snap->stage[STATS_PARSE].max_ns, 1000000000, "merge: max is the maximum");
	b->counter_how = 2;
	snap->counter_how = 0;
	stats_merge(snap, b);
	is_int(snap->counter_how, 2, "merge: how from the block that had a group");
	b->counter_how = 1;
	stats_merge(snap, b);
	is_int(snap->counter_how, 1, "merge: read() anywhere makes the sum's read()");
	free(snap);

	while (b->nconns < STATS_DEFAULT_CONNS)
		stats_conn_open(b, AF_INET, a4, 1);
	ok(stats_conn_open(b, AF_INET, a4, 2) == NULL, "full table: NULL");
	is_int(b->conns_overflow, 1, "full table: counted in conns_overflow");
	is_int(b->nconns, STATS_DEFAULT_CONNS, "nconns stays at the bound");
	stats_destroy(b);
	stats_destroy(NULL);

	/* a block sized for a long replay: slots beyond the default work */
	is_int(stats_create(&b, 200000), 0, "stats_create with 200000 slots");
	if (!b)
		bail_out("no stats block");
	while (b->nconns < 200000)
		if (!stats_conn_open(b, AF_INET, a4, (uint16_t)(b->nconns & 0xffff)))
			break;
	is_int(b->nconns, 200000, "200000 slots claimed");
	f = stats_conn_find(b, AF_INET, a4, (uint16_t)(199999 & 0xffff));
	ok(f == &b->conn[199999], "the last slot is found (newest first)");
	ok(stats_conn_open(b, AF_INET, a4, 2) == NULL, "then full");
	stats_destroy(b);
	is_int(stats_create(&b, STATS_MAX_CONNS + 1), -EINVAL, "more than STATS_MAX_CONNS: EINVAL");

	/* writer sections: summed by the snapshot, also once given back */
	{
		struct stats_worker *w0, *w1, *w;
		unsigned n = 0;

		is_int(stats_create(&b, 16), 0, "a small block");
		if (!b)
			bail_out("no stats block");
		is_int(b->worker_cap, STATS_MAX_WORKERS, "sections mapped");
		w0 = stats_worker_claim(b);
		w1 = stats_worker_claim(b);
		ok(w0 && w1 && w0 != w1 && b->nworkers == 2, "two sections claimed");
		stats_worker_stage_add(w0, STATS_PARSE, 1000, 10);
		stats_worker_stage_add(w1, STATS_PARSE, 3000, 20);
		stats_own_add(&w1->requests, 2);
		stats_own_max(&w0->alloc.peak_live_bytes, 70);
		stats_own_max(&w1->alloc.peak_live_bytes, 50);
		stats_stage_add(b, STATS_PARSE, 5, 0);
		b->requests = 1;
		snap = malloc(stats_block_bytes(b->conn_cap));
		stats_snapshot(b, snap);
		ok(snap->stage[STATS_PARSE].count == 3 && snap->stage[STATS_PARSE].bytes == 30 &&
		   snap->stage[STATS_PARSE].max_ns == 3000 && snap->stage[STATS_PARSE].hist[9] == 1 &&
		   snap->stage[STATS_PARSE].hist[11] == 1, "snapshot: sections summed into the stage");
		ok(snap->requests == 3 && snap->alloc.peak_live_bytes == 70,
		   "snapshot: counts add, peaks take the maximum");
		ok(snap->worker_cap == 0 && snap->nworkers == 0, "snapshot: a copy has no sections");
		{
			struct stats_block tot;

			stats_snapshot_totals(b, &tot);
			ok(tot.stage[STATS_PARSE].count == 3 && tot.requests == 3 && tot.conn_cap == 0 &&
			   tot.magic == STATS_MAGIC, "totals only: the same sums, no connection table");
		}
		stats_worker_release(w1);
		w = stats_worker_claim(b);
		ok(w == w1 && w->requests == 2, "a section given back is claimed again, sums kept");
		stats_worker_release(w);
		stats_worker_release(w0);
		/* every writer gone (a stopped or killed server): the sections
		 * still hold their sums, the snapshot still counts each once */
		ok(b->stage[STATS_PARSE].count == 1 && w0->stage[STATS_PARSE].count == 1,
		   "released sections keep their sums; the block's own fields stay apart");
		stats_snapshot(b, snap);
		ok(snap->stage[STATS_PARSE].count == 3 && snap->requests == 3 &&
		   snap->alloc.peak_live_bytes == 70, "snapshot after every release: counted once");
		while (stats_worker_claim(b))
			n++;
		is_int(n, STATS_MAX_WORKERS, "every section claimable, then NULL");
		free(snap);
		stats_destroy(b);
	}
	return exit_status();
}
