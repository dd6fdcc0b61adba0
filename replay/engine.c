/* engine.c: one replay end to end; see engine.h. */
#include "replay/engine.h"

#include "core/sandbox.h"

#include "replay/netns.h"
#include "replay/plan.h"
#include "core/privs.h"
#include "replay/rxring.h"
#include "replay/sink.h"
#include "replay/tcpgen.h"
#include "replay/txring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *engine_via_name(enum engine_via via)
{
	switch (via) {
	case ENGINE_MMAP: return "mmap";
	case ENGINE_RAW: return "raw";
	case ENGINE_SOCKET: return "socket";
	}
	return "?";
}

uint32_t engine_mtu_for(const struct plan *plan)
{
	/* IPv6 40 + TCP 20 around the largest segment; at least Ethernet's
	 * 1500, at most what an IP length field (and veth, ETH_MAX_MTU) holds */
	uint32_t need = plan->max_seg_len + 60;

	if (need < 1500)
		need = 1500;
	if (need > 65535)
		need = 65535;
	return need;
}

static int cap_eff(unsigned long long *eff)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	*eff = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", eff) == 1)
			break;
	fclose(f);
	return 0;
}

const char *engine_iface_unavailable(void)
{
	unsigned long long eff;

	if (cap_eff(&eff) < 0)
		return "cannot read /proc/self/status";
	/* packet sockets on the interface: CAP_NET_RAW 13; the ring's
	 * PACKET_QDISC_BYPASS and ALLMULTI membership: CAP_NET_ADMIN 12 */
	if (!(eff & (1ull << 12)) || !(eff & (1ull << 13)))
		return "needs CAP_NET_RAW and CAP_NET_ADMIN (packet sockets on the interface): "
		       "run as root";
	return NULL;
}

const char *engine_packet_path_unavailable(void)
{
	unsigned long long eff;

	if (cap_eff(&eff) < 0)
		return "cannot read /proc/self/status";
	/* linux/capability.h: CAP_NET_ADMIN 12, CAP_NET_RAW 13, CAP_SYS_ADMIN 21 */
	if (!(eff & (1ull << 12)) || !(eff & (1ull << 13)) || !(eff & (1ull << 21)))
		return "no CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN (the network namespace, "
		       "veth and packet sockets need them)";
	return NULL;
}

/* --- /proc/net/snmp, netstat, snmp6 in a namespace --- */

#define MAX_CTR 512

struct ctrs {
	uint32_t n;
	char name[MAX_CTR][40];
	int64_t val[MAX_CTR];
};

/* "Tcp: A B C" then "Tcp: 1 2 3"; snmp6 is "Name value" per line. */
static void read_ctrs(FILE *f, struct ctrs *c, bool pairs)
{
	static const size_t L = 8192;
	char *hdr = malloc(L), *vals = malloc(L);

	if (!f || !hdr || !vals)
		goto out;
	if (!pairs) {
		char name[40];
		long long v;

		while (fgets(hdr, (int)L, f) && c->n < MAX_CTR)
			if (sscanf(hdr, "%39s %lld", name, &v) == 2) {
				snprintf(c->name[c->n], sizeof(c->name[0]), "%s", name);
				c->val[c->n++] = v;
			}
		goto out;
	}
	while (fgets(hdr, (int)L, f) && fgets(vals, (int)L, f)) {
		char *sh, *sv, *h, *v;
		char *pfx = strtok_r(hdr, " \n", &sh);

		strtok_r(vals, " \n", &sv);
		if (!pfx)
			continue;
		while ((h = strtok_r(NULL, " \n", &sh)) && (v = strtok_r(NULL, " \n", &sv)) &&
		       c->n < MAX_CTR) {
			snprintf(c->name[c->n], sizeof(c->name[0]), "%.12s%s", pfx, h);
			c->val[c->n++] = strtoll(v, NULL, 10);
		}
	}
out:
	free(hdr);
	free(vals);
	if (f)
		fclose(f);
}

/* A namespace's counter files, opened now, read later: a /proc/net file
 * keeps showing the namespace it was opened in and is generated when
 * read, so files opened at setup and read after the run give the values
 * after the run, without entering the namespace again (setns needs
 * CAP_SYS_ADMIN, which the replayer has given up by then). */
struct ctr_files {
	FILE *f[3];
};

static void ctr_open(const struct netns_topo *t, enum netns_side side, struct ctr_files *cf)
{
	memset(cf, 0, sizeof(*cf));
	if (!t) {
		/* --iface: the namespace this process runs in */
		cf->f[0] = fopen("/proc/thread-self/net/snmp", "r");
		return;
	}
	cf->f[0] = netns_proc_net(t, side, "snmp");
	cf->f[1] = netns_proc_net(t, side, "netstat");
	cf->f[2] = netns_proc_net(t, side, "snmp6");
}

static void ctr_close(struct ctr_files *cf)
{
	int i;

	for (i = 0; i < 3; i++)
		if (cf->f[i])
			fclose(cf->f[i]);
	memset(cf, 0, sizeof(*cf));
}

/* Reads (and closes) the files. */
static void snapshot(struct ctr_files *cf, struct ctrs *c)
{
	c->n = 0;
	read_ctrs(cf->f[0], c, true);
	read_ctrs(cf->f[1], c, true);
	read_ctrs(cf->f[2], c, false);
	memset(cf, 0, sizeof(*cf));
}

static int64_t ctr_delta(const struct ctrs *a, const struct ctrs *b, const char *name)
{
	uint32_t i;

	for (i = 0; i < b->n; i++)
		if (!strcmp(b->name[i], name))
			return b->val[i] - (i < a->n && !strcmp(a->name[i], name) ? a->val[i] : 0);
	return 0;
}

/* Counters that mean "the server's kernel threw a packet away". */
static const char *const drop_ctrs[] = {
	"Ip:InDiscards", "Ip:InHdrErrors", "IpExt:InCsumErrors",
	"Tcp:InErrs", "Tcp:InCsumErrors",
	"TcpExt:ListenOverflows", "TcpExt:ListenDrops", "TcpExt:TCPBacklogDrop",
	"TcpExt:TCPRcvQDrop", "TcpExt:TCPZeroWindowDrop", "TcpExt:TCPOFODrop",
	"TcpExt:PFMemallocDrop", "TcpExt:TCPMinTTLDrop", "TcpExt:TCPReqQFullDrop",
	"Ip6InDiscards", "Ip6InHdrErrors",
};

static void ctr_summary(const struct ctrs *a, const struct ctrs *b, struct engine_result *r)
{
	uint32_t i;

	for (i = 0; i < sizeof(drop_ctrs) / sizeof(drop_ctrs[0]); i++) {
		int64_t d = ctr_delta(a, b, drop_ctrs[i]);

		if (d > 0)
			r->server_drops += (uint64_t)d;
	}
	for (i = 0; i < b->n && r->ncounters < sizeof(r->counters) / sizeof(r->counters[0]); i++) {
		int64_t d = b->val[i] - (i < a->n && !strcmp(a->name[i], b->name[i]) ? a->val[i] : 0);

		if (!d || strstr(b->name[i], "Octets") || strstr(b->name[i], "Max") ||
		    strstr(b->name[i], "RtoM") || strstr(b->name[i], "RtoAlgorithm") ||
		    strstr(b->name[i], "CurrEstab"))
			continue;
		snprintf(r->counters[r->ncounters].name, sizeof(r->counters[0].name), "%s", b->name[i]);
		r->counters[r->ncounters++].delta = d;
	}
}

/* --- the server child --- */

/* A block with a slot for every connection the run makes: verification
 * needs each one's record (anonymous shared memory: untouched slots cost
 * nothing). */
static void *stats_map(uint32_t conns)
{
	struct stats_block *b = mmap(NULL, stats_block_bytes(conns), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (b == MAP_FAILED)
		return NULL;
	stats_block_init(b, conns);
	return b;
}

static pid_t start_server(const struct engine_cfg *cfg, const struct netns_topo *topo,
			  struct stats_block *st, const char *listen, volatile sig_atomic_t *stop)
{
	pid_t parent = getpid(), pid = fork();
	int rc;

	if (pid != 0)
		return pid;
	/* the child: dies with the replayer, whatever kills it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/* ^C goes to the whole process group: the replayer stops us in order */
	signal(SIGINT, SIG_IGN);
	if (topo && netns_join(topo, NETNS_SERVER) < 0)
		_exit(3);
	if (cfg->server.drop_privs && privs_drop_all() < 0)
		_exit(5);
	/* the filter goes on after the drop: installing one needs either
	 * CAP_SYS_ADMIN or no_new_privs, which the drop set */
	if (cfg->server.drop_privs && cfg->server.sandbox &&
	    sandbox_enter(cfg->server.sandbox_flags) < 0)
		_exit(6);
	rc = cfg->server.run(cfg->server.arg, st, listen, stop);
	_exit(rc < 0 ? 4 : 0);
}

static void stop_server(pid_t pid)
{
	int i, status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 200; i++) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		/* ECHILD: wait_ready() reaped it already */
		if (w == pid || (w < 0 && errno == ECHILD))
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static int wait_ready(pid_t pid, struct stats_block *st, uint32_t ms)
{
	uint32_t i;
	int status;

	for (i = 0; i < (ms ? ms : 5000) / 5; i++) {
		if (__atomic_load_n(&st->ready, __ATOMIC_ACQUIRE))
			return 0;
		if (waitpid(pid, &status, WNOHANG) == pid)
			return ENGINE_E_SERVER;
		usleep(5000);
	}
	return ENGINE_E_SERVER;
}

/* --- verification --- */

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
		if ((part = cfg->server.copied(cfg->server.copied_arg, &got)) < 0)
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
	if ((part = cfg->server.copied(cfg->server.copied_arg, &got)) < 0)
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
static int verify(const struct plan *plan, const struct engine_cfg *cfg,
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
			if (!c || __atomic_load_n(&c->bytes_read, __ATOMIC_RELAXED) < pf->bytes ||
			    __atomic_load_n(&c->state, __ATOMIC_RELAXED) == 1)
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
	if (cfg->server.foreign && cfg->server.copied && !r->interrupted)
		verify_copied(plan, cfg, res, nres, wait_ms, r);
	r->verified = r->nfailures == 0 && !r->interrupted && !r->copy_failed;
out:
	free(match);
	return err;
}

/* --- the run --- */

static uint64_t cpu_ns(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) < 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

/* A packet socket in the client namespace, or (--iface) in ours. */
static int packet_socket(const struct netns_topo *topo)
{
	int fd;

	if (topo)
		return netns_socket(topo, NETNS_CLIENT, AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

static int add_client(void *arg, int family, const uint8_t addr[16])
{
	return netns_add_client(arg, family, addr);
}

/* Setup is over (namespaces, veth, packet sockets, rings; the servers
 * ready, which they are only once the profiler's thread opened its
 * events): the replayer keeps what the run still uses, in every thread
 * (the profiler's attach and reader threads included: privs.h).  What
 * remains is cleanup (closing descriptors, SIGTERM to children of the same
 * uid, neither needs a capability), reading /proc files opened earlier and
 * counters and rings already open. */
static int drop_caps(const struct engine_cfg *cfg, const struct netns_topo *topo,
		     char *err, size_t errlen)
{
	unsigned long long keep = cfg->keep_caps;
	int rc;

	if (!cfg->drop_caps)
		return 0;
	/* a neighbour entry in the server namespace per new client address,
	 * during the run (netns_add_client(): RTM_NEWNEIGH) */
	if (topo)
		keep |= 1ull << CAP_NET_ADMIN;
	rc = privs_keep_only(keep);
	if (rc < 0) {
		snprintf(err, errlen, "dropping capabilities after setup: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

int engine_run(const struct plan *plan, const struct engine_cfg *cfg,
	       struct engine_result *r, volatile sig_atomic_t *stop,
	       char *err, size_t errlen)
{
	struct netns_topo *topo = NULL;
	struct stats_block *blocks[2] = { NULL, NULL };
	struct txq *tx = NULL;
	struct rxq *rx = NULL;
	struct peer_result *res = NULL;
	struct peer_cfg pc = cfg->peer;
	struct ctrs *before = NULL, *after = NULL, *cbefore = NULL, *cafter = NULL;
	uint32_t loops = cfg->peer.loops ? cfg->peer.loops : 1;
	uint64_t nres = (uint64_t)plan->nflows * loops, i, conns;
	pid_t server[2] = { -1, -1 };
	struct ctr_files srv_after, cli_after;
	bool fam_used[2] = { false, false };
	int k;
	int rc = 0, fd;
	uint64_t cpu0 = 0, kids0 = cpu_ns(RUSAGE_CHILDREN);

	memset(r, 0, sizeof(*r));
	memset(&srv_after, 0, sizeof(srv_after));
	memset(&cli_after, 0, sizeof(cli_after));
	r->via = cfg->via;
	r->failures = calloc(64, sizeof(*r->failures));
	res = calloc(nres ? nres : 1, sizeof(*res));
	before = calloc(1, sizeof(*before));
	after = calloc(1, sizeof(*after));
	cbefore = calloc(1, sizeof(*cbefore));
	cafter = calloc(1, sizeof(*cafter));
	if (!r->failures || !res || !before || !after || !cbefore || !cafter) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < plan->nflows; i++) {
		if (plan->flow[i]->skip == PLAN_OK)
			fam_used[plan->flow[i]->family == AF_INET6] = true;
		if (plan->flow[i]->skip != PLAN_OK)
			r->flows_skipped++;
		else if (plan->flow[i]->truncated)
			r->flows_truncated++;
	}
	if (r->flows_skipped == plan->nflows) {
		rc = ENGINE_E_EMPTY;
		snprintf(err, errlen, "no flow with client payload to replay");
		goto out;
	}
	/* socket path: one server on 127.0.0.1 for every flow; packet path:
	 * one per address family (the core server listens on one address) */
	if (cfg->via == ENGINE_SOCKET || cfg->server.foreign) {
		fam_used[0] = true;
		fam_used[1] = false;
	}
	/* --iface: the server is on another host, nothing to start here */
	if (cfg->remote) {
		if (cfg->via == ENGINE_SOCKET) {
			rc = -EINVAL;
			snprintf(err, errlen, "--iface needs the packet path");
			goto out;
		}
		fam_used[0] = fam_used[1] = false;
	}
	/* every (loop, flow) is a connection, plus room for strays (a
	 * client's retried SYN after a reset, a readiness probe) */
	conns = nres + 1024;
	if (conns > STATS_MAX_CONNS) {
		rc = -E2BIG;
		snprintf(err, errlen, "%llu connections (flows x loops) are more than one replay can "
			 "verify (%u): use fewer --loop passes", (unsigned long long)(conns - 1024),
			 STATS_MAX_CONNS - 1024);
		goto out;
	}
	for (k = 0; k < 2; k++) {
		if (!fam_used[k])
			continue;
		blocks[k] = stats_map((uint32_t)conns);
		if (!blocks[k]) {
			rc = -errno;
			snprintf(err, errlen, "mmap(stats block): %s", strerror(errno));
			goto out;
		}
	}

	if (cfg->via != ENGINE_SOCKET && !cfg->remote) {
		struct netns_cfg nc = { .mtu = engine_mtu_for(plan) };

		r->mtu = nc.mtu;
		rc = netns_topo_new(&topo, &nc, err, errlen);
		if (rc < 0)
			goto out;
	}
	for (k = 0; k < 2; k++) {
		static const char *const listen[2] = { "0.0.0.0:0", "[::]:0" };

		if (!blocks[k])
			continue;
		server[k] = start_server(cfg, topo, blocks[k],
					 cfg->via == ENGINE_SOCKET ? "127.0.0.1:0" : listen[k], stop);
		if (server[k] < 0) {
			rc = -errno;
			snprintf(err, errlen, "fork: %s", strerror(errno));
			goto out;
		}
	}
	if (cfg->server.forked)
		cfg->server.forked(cfg->server.forked_arg, (blocks[0] != NULL) + (blocks[1] != NULL));
	for (k = 0; k < 2; k++) {
		if (blocks[k] && (rc = wait_ready(server[k], blocks[k], cfg->server.ready_wait_ms)) < 0) {
			snprintf(err, errlen, "the server (%s) did not start listening",
				 k ? "IPv6" : "IPv4");
			goto out;
		}
		pc.server_port[k] = blocks[k] ? blocks[k]->port : 0;
	}
	if (cfg->server.foreign)
		pc.server_port[1] = pc.server_port[0];
	if (cfg->remote) {
		const struct engine_remote *rm = cfg->remote;

		pc.server_port[0] = pc.server_port[1] = rm->port;
		pc.captured_port = !rm->port;
		pc.family = rm->family;
		memcpy(pc.server_addr, rm->server_addr, 16);
		pc.src_mac = rm->src_mac;
		pc.dst_mac = rm->dst_mac;
		pc.client_addr = rm->client_addr;
		pc.client_addr_arg = rm->arg;
		pc.answer = rm->answer;
		pc.answer_arg = rm->arg;
		r->mtu = rm->mtu;
	}

	if (cfg->via == ENGINE_SOCKET) {
		struct sockaddr_in sa = { .sin_family = AF_INET };

		sa.sin_port = htons(blocks[0]->port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((rc = drop_caps(cfg, topo, err, errlen)) < 0)
			goto out;
		cpu0 = cpu_ns(RUSAGE_SELF);
		if (cfg->server.connect_to)
			rc = peer_run_socket(plan, &pc, cfg->server.connect_to, cfg->server.connect_len,
					     res, &r->peer, stop);
		else
			rc = peer_run_socket(plan, &pc, &sa, sizeof(sa), res, &r->peer, stop);
		r->cpu_self_ns = cpu_ns(RUSAGE_SELF) - cpu0;
		if (rc < 0) {
			snprintf(err, errlen, "socket replay: %s", strerror(-rc));
			goto out;
		}
	} else {
		struct txq_cfg tc = { 0 };
		struct rxq_cfg rcfg = { 0 };
		char filter[160];

		int ifindex = cfg->remote ? cfg->remote->ifindex : netns_ifindex(topo, NETNS_CLIENT);
		uint32_t need = engine_mtu_for(plan);
		struct ctr_files now;

		if (topo) {
			ctr_open(topo, NETNS_SERVER, &now);
			snapshot(&now, before);
			ctr_open(topo, NETNS_SERVER, &srv_after);
		}
		ctr_open(topo, NETNS_CLIENT, &now);
		snapshot(&now, cbefore);
		ctr_open(topo, NETNS_CLIENT, &cli_after);
		tc.via = cfg->via == ENGINE_MMAP ? TXQ_MMAP : TXQ_RAW;
		tc.ifindex = ifindex;
		/* --iface: the link's MTU bounds what is sent (the peer's MSS),
		 * but a slot must hold any frame the peer may build */
		tc.max_frame = TCPGEN_ETH + (r->mtu > need ? r->mtu : need);
		tc.ring_bytes = cfg->ring_bytes;
		tc.qdisc_bypass = cfg->qdisc_bypass;
		fd = packet_socket(topo);
		if (fd < 0) {
			rc = fd;
			snprintf(err, errlen, "socket(AF_PACKET): %s", strerror(-rc));
			goto out;
		}
		if ((rc = txq_new(&tx, fd, &tc, err, errlen)) < 0)
			goto out;
		r->ring_frames = txq_stats(tx)->frame_nr;
		r->ring_frame_size = txq_stats(tx)->frame_size;
		fd = packet_socket(topo);
		if (fd < 0) {
			rc = fd;
			snprintf(err, errlen, "socket(AF_PACKET): %s", strerror(-rc));
			goto out;
		}
		if (cfg->remote) {
			const struct engine_remote *rm = cfg->remote;
			char ip[INET6_ADDRSTRLEN], port[32] = "";

			inet_ntop(rm->family, rm->server_addr, ip, sizeof(ip));
			if (rm->port)
				snprintf(port, sizeof(port), " and src port %u", rm->port);
			/* the server's TCP, and what asks for our client
			 * addresses: ARP, or ICMPv6 neighbour solicitations
			 * (type 135 right after a plain IPv6 header) */
			snprintf(filter, sizeof(filter), "(tcp and src host %s%s) or %s", ip, port,
				 rm->family == AF_INET6 ? "(icmp6 and ip6[40] == 135)" : "arp");
			if (rm->family == AF_INET6) {
				/* neighbour solicitations go to a solicited-node
				 * multicast group: let the NIC pass them all */
				struct packet_mreq mr = { .mr_ifindex = rm->ifindex,
							  .mr_type = PACKET_MR_ALLMULTI };

				setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
			}
		} else {
			snprintf(filter, sizeof(filter),
				 "tcp and ((src host %s and src port %u) or (src host %s and src port %u))",
				 NETNS_SERVER_IP4, pc.server_port[0], NETNS_SERVER_IP6, pc.server_port[1]);
		}
		rcfg.ifindex = ifindex;
		rcfg.version = cfg->rx_version;
		rcfg.filter = filter;
		if ((rc = rxq_new(&rx, fd, &rcfg, err, errlen)) < 0)
			goto out;
		pc.add_client = add_client;
		pc.add_client_arg = topo;
		if (cfg->remote) {
			pc.add_client = cfg->remote->add_client;
			pc.add_client_arg = cfg->remote->arg;
		}
		if (!pc.mss)
			pc.mss = r->mtu - (cfg->remote && cfg->remote->family == AF_INET ? 40 : 60);
		if ((rc = drop_caps(cfg, topo, err, errlen)) < 0)
			goto out;
		cpu0 = cpu_ns(RUSAGE_SELF);
		rc = peer_run_packet(plan, &pc, tx, rx, res, &r->peer, stop);
		r->cpu_self_ns = cpu_ns(RUSAGE_SELF) - cpu0;
		r->frames_confirmed = txq_stats(tx)->frames;
		r->wrong_format = txq_stats(tx)->wrong_format;
		r->rx_drops = rxq_drops(rx);
		if (rc < 0) {
			r->peer_err = rc;
			snprintf(err, errlen, "transmit: %s", rc == TXQ_E_WRONG_FORMAT
				 ? "the kernel refused a frame (TP_STATUS_WRONG_FORMAT)" : strerror(-rc));
			goto out;
		}
	}
	r->interrupted = r->peer.interrupted;
	for (i = 0; i < nres; i++) {
		if (plan->flow[res[i].flow]->skip == PLAN_OK && res[i].status != PEER_FLOW_PENDING)
			r->flows++;
		r->bytes_acked += res[i].acked;
	}
	if ((rc = verify(plan, cfg, res, nres, blocks, r)) < 0) {
		snprintf(err, errlen, "verify: %s", strerror(-rc));
		goto out;
	}
	for (k = 0; k < 2; k++) {
		if (!blocks[k])
			continue;
		/* a foreign server's block reads 0: verify_copied() set it */
		r->server_bytes_read += blocks[k]->bytes_read;
		r->server_requests += blocks[k]->requests;
		r->server_responses_2xx += blocks[k]->status[2];
		r->server_responses_4xx += blocks[k]->status[4];
		r->server_responses_5xx += blocks[k]->status[5];
	}
	if (topo) {
		snapshot(&srv_after, after);
		ctr_summary(before, after, r);
	}
	if (topo || cfg->remote) {
		snapshot(&cli_after, cafter);
		r->client_out_rsts = (uint64_t)ctr_delta(cbefore, cafter, "Tcp:OutRsts");
	}
out:
	ctr_close(&srv_after);
	ctr_close(&cli_after);
	rxq_free(rx);
	txq_free(tx);
	stop_server(server[0]);
	stop_server(server[1]);
	r->cpu_server_ns = cpu_ns(RUSAGE_CHILDREN) - kids0;
	netns_topo_free(topo);
	for (k = 0; k < 2; k++)
		if (blocks[k])
			munmap(blocks[k], stats_block_bytes(blocks[k]->conn_cap));
	free(res);
	free(before);
	free(after);
	free(cbefore);
	free(cafter);
	return rc;
}

void engine_result_release(struct engine_result *r)
{
	if (!r)
		return;
	free(r->failures);
	r->failures = NULL;
}
