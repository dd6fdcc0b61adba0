/* engine.c: one replay end to end; see engine.h. */
#include "replay/engine.h"

#include "core/sandbox.h"

#include "replay/netns.h"
#include "replay/plan.h"
#include "core/privs.h"
#include "replay/rxring.h"
#include "replay/tcpgen.h"
#include "replay/txring.h"
#include "replay/verify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* In the child: the reason it stops before listening, into its stats
 * block where the parent reads it (its exit status alone cannot say which
 * step failed), then exit. */
static void __attribute__((noreturn, format(printf, 3, 4)))
child_fail(struct stats_block *st, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->start_error, sizeof(st->start_error), fmt, ap);
	va_end(ap);
	_exit(code);
}

/* In the child: the run's stop flag, set by the engine's SIGTERM. */
static volatile sig_atomic_t *child_stop;

static void child_on_term(int sig)
{
	(void)sig;
	*child_stop = 1;
}

static pid_t start_server(const struct engine_cfg *cfg, const struct netns_topo *topo,
			  struct stats_block *st, const char *listen, volatile sig_atomic_t *stop)
{
	struct sigaction sa;
	pid_t parent = getpid(), pid = fork();
	int rc;

	if (pid != 0)
		return pid;
	/* the child: dies with the replayer, whatever kills it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		child_fail(st, 1, "the replayer exited while the server started");
	/* ^C goes to the whole process group: the replayer stops us in order,
	 * with SIGTERM, which ends the run (not the process: the child still
	 * has its last words to write, and an inherited handler cannot be
	 * counted on when the engine is driven without the CLI).  No
	 * SA_RESTART: a loop blocked in a call sees EINTR and checks *stop. */
	signal(SIGINT, SIG_IGN);
	child_stop = stop;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = child_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	if (topo && (rc = netns_join(topo, NETNS_SERVER)) < 0)
		child_fail(st, 3, "joining the server namespace: %s", netns_strerror(rc));
	if (cfg->server.drop_privs && (rc = privs_drop_all()) < 0)
		child_fail(st, 5, "dropping capabilities: %s", strerror(-rc));
	/* the filter goes on after the drop: installing one needs either
	 * CAP_SYS_ADMIN or no_new_privs, which the drop set */
	if (cfg->server.drop_privs && cfg->server.sandbox &&
	    (rc = sandbox_enter(cfg->server.sandbox_flags)) < 0)
		child_fail(st, 6, "installing the syscall filter: %s", strerror(-rc));
	if (cfg->hooks.child_ready)
		cfg->hooks.child_ready(cfg->hooks.arg);
	rc = cfg->server.run(cfg->server.arg, st, listen, stop);
	if (cfg->hooks.child_done)
		cfg->hooks.child_done(cfg->hooks.arg, st);
	__atomic_store_n(&st->finished, 1, __ATOMIC_RELEASE);
	if (rc < 0 && !st->ready && !st->start_error[0])
		child_fail(st, 4, "%s", rc > -4096 ? strerror(-rc) : "its run function failed");
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

/* --- the run --- */

/* One engine_run(): what its steps share, released by run_release(). */
struct run_state {
	const struct plan *plan;
	const struct engine_cfg *cfg;
	struct engine_result *r;
	volatile sig_atomic_t *stop;
	char *err;
	size_t errlen;
	struct netns_topo *topo;
	struct stats_block *blocks[2];	/* [1]: the IPv6 server's */
	pid_t server[2];
	struct peer_cfg pc;
	struct peer_result *res;
	uint64_t nres;
	struct txq *tx;
	struct rxq *rx;
	struct ctrs *before, *after, *cbefore, *cafter;
	struct ctr_files srv_after, cli_after;
};

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

/* Counts the plan's flows, decides which servers to run (one per address
 * family on the packet path; one on the socket path or for a foreign
 * server; none with --iface) and maps their stats blocks. */
static int run_prepare(struct run_state *s)
{
	const struct plan *plan = s->plan;
	const struct engine_cfg *cfg = s->cfg;
	struct engine_result *r = s->r;
	bool fam_used[2] = { false, false };
	uint64_t i, conns;
	int k, rc;

	for (i = 0; i < plan->nflows; i++) {
		if (plan->flow[i]->skip == PLAN_OK)
			fam_used[plan->flow[i]->family == AF_INET6] = true;
		if (plan->flow[i]->skip != PLAN_OK)
			r->flows_skipped++;
		else if (plan->flow[i]->truncated)
			r->flows_truncated++;
	}
	if (r->flows_skipped == plan->nflows) {
		snprintf(s->err, s->errlen, "no flow with client payload to replay");
		return ENGINE_E_EMPTY;
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
			snprintf(s->err, s->errlen, "--iface needs the packet path");
			return -EINVAL;
		}
		fam_used[0] = fam_used[1] = false;
	}
	/* every (loop, flow) is a connection, plus room for strays (a
	 * client's retried SYN after a reset, a readiness probe) */
	conns = s->nres + 1024;
	if (conns > STATS_MAX_CONNS) {
		snprintf(s->err, s->errlen, "%llu connections (flows x loops) are more than one replay "
			 "can verify (%u): use fewer --loop passes", (unsigned long long)(conns - 1024),
			 STATS_MAX_CONNS - 1024);
		return -E2BIG;
	}
	/* a slot for every connection the run makes: verification needs each
	 * one's record (untouched slots of the shared mapping cost nothing) */
	for (k = 0; k < 2; k++) {
		if (fam_used[k] && (rc = stats_create(&s->blocks[k], (uint32_t)conns)) < 0) {
			snprintf(s->err, s->errlen, "stats block: %s", strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Makes the topology (packet path, own servers), forks the servers and
 * waits until they listen; fills the peer's server ports. */
static int run_servers(struct run_state *s)
{
	static const char *const listen[2] = { "0.0.0.0:0", "[::]:0" };
	const struct engine_cfg *cfg = s->cfg;
	int k, rc;

	if (cfg->via != ENGINE_SOCKET && !cfg->remote) {
		struct netns_cfg nc = { .mtu = engine_mtu_for(s->plan) };

		s->r->mtu = nc.mtu;
		rc = netns_topo_new(&s->topo, &nc, s->err, s->errlen);
		if (rc < 0)
			return rc;
	}
	for (k = 0; k < 2; k++) {
		if (!s->blocks[k])
			continue;
		s->server[k] = start_server(cfg, s->topo, s->blocks[k],
					    cfg->via == ENGINE_SOCKET ? "127.0.0.1:0" : listen[k], s->stop);
		if (s->server[k] < 0) {
			rc = -errno;
			snprintf(s->err, s->errlen, "fork: %s", strerror(errno));
			return rc;
		}
	}
	if (cfg->hooks.forked)
		cfg->hooks.forked(cfg->hooks.arg, (s->blocks[0] != NULL) + (s->blocks[1] != NULL));
	for (k = 0; k < 2; k++) {
		const struct stats_block *st = s->blocks[k];

		if (st && (rc = wait_ready(s->server[k], s->blocks[k], cfg->server.ready_wait_ms)) < 0) {
			snprintf(s->err, s->errlen, "the server (%s) did not start listening%s%.*s",
				 k ? "IPv6" : "IPv4", st->start_error[0] ? ": " : "",
				 (int)sizeof(st->start_error), st->start_error);
			return rc;
		}
		s->pc.server_port[k] = st ? st->port : 0;
	}
	if (cfg->server.foreign)
		s->pc.server_port[1] = s->pc.server_port[0];
	return 0;
}

/* --iface: the peer transmits to the server on another host. */
static void remote_peer_cfg(const struct engine_remote *rm, struct peer_cfg *pc,
			    struct engine_result *r)
{
	pc->server_port[0] = pc->server_port[1] = rm->port;
	pc->captured_port = !rm->port;
	pc->family = rm->family;
	memcpy(pc->server_addr, rm->server_addr, 16);
	pc->src_mac = rm->src_mac;
	pc->dst_mac = rm->dst_mac;
	pc->client_addr = rm->client_addr;
	pc->client_addr_arg = rm->arg;
	pc->answer = rm->answer;
	pc->answer_arg = rm->arg;
	pc->add_client = rm->add_client;
	pc->add_client_arg = rm->arg;
	r->mtu = rm->mtu;
}

/* The socket path: ordinary TCP connections to 127.0.0.1 (or the
 * foreign server's address). */
static int run_socket(struct run_state *s)
{
	const struct engine_cfg *cfg = s->cfg;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint64_t cpu0;
	int rc;

	sa.sin_port = htons(s->blocks[0]->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((rc = drop_caps(cfg, s->topo, s->err, s->errlen)) < 0)
		return rc;
	cpu0 = cpu_ns(RUSAGE_SELF);
	if (cfg->server.connect_to)
		rc = peer_run_socket(s->plan, &s->pc, cfg->server.connect_to, cfg->server.connect_len,
				     s->res, &s->r->peer, s->stop);
	else
		rc = peer_run_socket(s->plan, &s->pc, (const struct sockaddr *)&sa, sizeof(sa), s->res,
				     &s->r->peer, s->stop);
	s->r->cpu_replayer_ns = cpu_ns(RUSAGE_SELF) - cpu0;
	if (rc < 0)
		snprintf(s->err, s->errlen, "socket replay: %s", strerror(-rc));
	return rc;
}

/* The receive filter: the server's TCP; with --iface also what asks for
 * the client addresses (ARP, or ICMPv6 neighbour solicitations: type 135
 * right after a plain IPv6 header). */
static void rx_filter(const struct run_state *s, char *filter, size_t n)
{
	const struct engine_remote *rm = s->cfg->remote;
	char ip[INET6_ADDRSTRLEN], port[32] = "";

	if (!rm) {
		snprintf(filter, n, "tcp and ((src host %s and src port %u) or (src host %s and src port %u))",
			 NETNS_SERVER_IP4, s->pc.server_port[0], NETNS_SERVER_IP6, s->pc.server_port[1]);
		return;
	}
	inet_ntop(rm->family, rm->server_addr, ip, sizeof(ip));
	if (rm->port)
		snprintf(port, sizeof(port), " and src port %u", rm->port);
	snprintf(filter, n, "(tcp and src host %s%s) or %s", ip, port,
		 rm->family == AF_INET6 ? "(icmp6 and ip6[40] == 135)" : "arp");
}

/* The packet path's sockets and rings, and the counter files read after
 * the run. */
static int packet_setup(struct run_state *s)
{
	const struct engine_cfg *cfg = s->cfg;
	struct engine_result *r = s->r;
	struct txq_cfg tc = { 0 };
	struct rxq_cfg rcfg = { 0 };
	struct ctr_files now;
	char filter[160];
	int ifindex = cfg->remote ? cfg->remote->ifindex : netns_ifindex(s->topo, NETNS_CLIENT);
	uint32_t need = engine_mtu_for(s->plan);
	int rc, fd;

	if (s->topo) {
		ctr_open(s->topo, NETNS_SERVER, &now);
		snapshot(&now, s->before);
		ctr_open(s->topo, NETNS_SERVER, &s->srv_after);
	}
	ctr_open(s->topo, NETNS_CLIENT, &now);
	snapshot(&now, s->cbefore);
	ctr_open(s->topo, NETNS_CLIENT, &s->cli_after);
	tc.via = cfg->via == ENGINE_MMAP ? TXQ_MMAP : TXQ_RAW;
	tc.ifindex = ifindex;
	/* --iface: the link's MTU bounds what is sent (the peer's MSS), but a
	 * slot must hold any frame the peer may build */
	tc.max_frame = TCPGEN_ETH + (r->mtu > need ? r->mtu : need);
	tc.ring_bytes = cfg->ring_bytes;
	tc.qdisc_bypass = cfg->qdisc_bypass;
	fd = packet_socket(s->topo);
	if (fd < 0) {
		snprintf(s->err, s->errlen, "socket(AF_PACKET): %s", strerror(-fd));
		return fd;
	}
	if ((rc = txq_new(&s->tx, fd, &tc, s->err, s->errlen)) < 0)
		return rc;
	r->ring_frames = txq_stats(s->tx)->frame_nr;
	r->ring_frame_size = txq_stats(s->tx)->frame_size;
	fd = packet_socket(s->topo);
	if (fd < 0) {
		snprintf(s->err, s->errlen, "socket(AF_PACKET): %s", strerror(-fd));
		return fd;
	}
	if (cfg->remote && cfg->remote->family == AF_INET6) {
		/* neighbour solicitations go to a solicited-node multicast
		 * group: let the NIC pass them all */
		struct packet_mreq mr = { .mr_ifindex = cfg->remote->ifindex,
					  .mr_type = PACKET_MR_ALLMULTI };

		setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
	}
	rx_filter(s, filter, sizeof(filter));
	rcfg.ifindex = ifindex;
	rcfg.version = cfg->rx_version;
	rcfg.filter = filter;
	return rxq_new(&s->rx, fd, &rcfg, s->err, s->errlen);
}

/* The packet path: frames through the TX ring (or sendto) into the veth
 * or --iface, the server's answers through the RX ring. */
static int run_packet(struct run_state *s)
{
	const struct engine_cfg *cfg = s->cfg;
	struct engine_result *r = s->r;
	uint64_t cpu0;
	int rc;

	if ((rc = packet_setup(s)) < 0)
		return rc;
	if (!cfg->remote) {
		s->pc.add_client = add_client;
		s->pc.add_client_arg = s->topo;
	}
	if (!s->pc.mss)
		s->pc.mss = r->mtu - (cfg->remote && cfg->remote->family == AF_INET ? 40 : 60);
	if ((rc = drop_caps(cfg, s->topo, s->err, s->errlen)) < 0)
		return rc;
	cpu0 = cpu_ns(RUSAGE_SELF);
	rc = peer_run_packet(s->plan, &s->pc, s->tx, s->rx, s->res, &r->peer, s->stop);
	r->cpu_replayer_ns = cpu_ns(RUSAGE_SELF) - cpu0;
	r->frames_confirmed = txq_stats(s->tx)->frames;
	r->wrong_format = txq_stats(s->tx)->wrong_format;
	r->rx_drops = rxq_drops(s->rx);
	if (rc < 0) {
		r->peer_err = rc;
		snprintf(s->err, s->errlen, "transmit: %s", rc == TXQ_E_WRONG_FORMAT
			 ? "the kernel refused a frame (TP_STATUS_WRONG_FORMAT)" : strerror(-rc));
	}
	return rc;
}

/* After the replay: verification and the totals. */
static int run_collect(struct run_state *s)
{
	struct engine_result *r = s->r;
	uint64_t i;
	int k, rc;

	r->interrupted = r->peer.interrupted;
	for (i = 0; i < s->nres; i++) {
		if (s->plan->flow[s->res[i].flow]->skip == PLAN_OK && s->res[i].status != PEER_FLOW_PENDING)
			r->flows++;
		r->bytes_acked += s->res[i].acked;
	}
	/* a server that listened, then failed (its I/O loop's set-up after
	 * the listen: io_uring refused) wrote why: that, not a reset per flow */
	for (k = 0; k < 2; k++) {
		const struct stats_block *b = s->blocks[k];

		if (b && b->start_error[0]) {
			snprintf(s->err, s->errlen, "the server (%s) stopped: %.*s", k ? "IPv6" : "IPv4",
				 (int)sizeof(b->start_error), b->start_error);
			return ENGINE_E_SERVER;
		}
	}
	if ((rc = engine_verify(s->plan, s->cfg, s->res, s->nres, s->blocks, r)) < 0) {
		snprintf(s->err, s->errlen, "verify: %s", strerror(-rc));
		return rc;
	}
	for (k = 0; k < 2; k++) {
		struct stats_block tot;

		if (!s->blocks[k])
			continue;
		/* the server still runs: its threads' sections summed in; a
		 * foreign server's block reads 0 (the copy check set it) */
		stats_snapshot_totals(s->blocks[k], &tot);
		r->server_bytes_read += tot.bytes_read;
		r->server_requests += tot.requests;
		r->server_responses_2xx += tot.status[2];
		r->server_responses_4xx += tot.status[4];
		r->server_responses_5xx += tot.status[5];
	}
	if (s->topo) {
		snapshot(&s->srv_after, s->after);
		ctr_summary(s->before, s->after, r);
	}
	if (s->topo || s->cfg->remote) {
		snapshot(&s->cli_after, s->cafter);
		r->client_out_rsts = (uint64_t)ctr_delta(s->cbefore, s->cafter, "Tcp:OutRsts");
	}
	return 0;
}

/* Stops the servers, hands their blocks to the finish hook, then
 * releases everything. */
static void run_release(struct run_state *s, uint64_t kids0)
{
	const struct engine_hooks *h = &s->cfg->hooks;
	int k;

	ctr_close(&s->srv_after);
	ctr_close(&s->cli_after);
	rxq_free(s->rx);
	txq_free(s->tx);
	stop_server(s->server[0]);
	stop_server(s->server[1]);
	s->r->cpu_server_ns = cpu_ns(RUSAGE_CHILDREN) - kids0;
	if (h->finish)
		h->finish(h->arg, (const struct stats_block *const *)s->blocks);
	netns_topo_free(s->topo);
	for (k = 0; k < 2; k++)
		stats_destroy(s->blocks[k]);
	free(s->res);
	free(s->before);
	free(s->after);
	free(s->cbefore);
	free(s->cafter);
}

int engine_run(const struct plan *plan, const struct engine_cfg *cfg,
	       struct engine_result *r, volatile sig_atomic_t *stop,
	       char *err, size_t errlen)
{
	struct run_state s = { .plan = plan, .cfg = cfg, .r = r, .stop = stop, .err = err,
			       .errlen = errlen, .server = { -1, -1 }, .pc = cfg->peer };
	uint32_t loops = cfg->peer.loops ? cfg->peer.loops : 1;
	uint64_t kids0 = cpu_ns(RUSAGE_CHILDREN);
	int rc;

	memset(r, 0, sizeof(*r));
	r->via = cfg->via;
	s.nres = (uint64_t)plan->nflows * loops;
	r->failures = calloc(64, sizeof(*r->failures));
	s.res = calloc(s.nres ? s.nres : 1, sizeof(*s.res));
	s.before = calloc(1, sizeof(*s.before));
	s.after = calloc(1, sizeof(*s.after));
	s.cbefore = calloc(1, sizeof(*s.cbefore));
	s.cafter = calloc(1, sizeof(*s.cafter));
	if (!r->failures || !s.res || !s.before || !s.after || !s.cbefore || !s.cafter) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((rc = run_prepare(&s)) < 0 || (rc = run_servers(&s)) < 0)
		goto out;
	if (cfg->remote)
		remote_peer_cfg(cfg->remote, &s.pc, r);
	rc = cfg->via == ENGINE_SOCKET ? run_socket(&s) : run_packet(&s);
	if (rc < 0)
		goto out;
	rc = run_collect(&s);
out:
	run_release(&s, kids0);
	return rc;
}

void engine_result_release(struct engine_result *r)
{
	if (!r)
		return;
	free(r->failures);
	r->failures = NULL;
}
