/*
 * replay.c: 'pktmem replay CAPTURE...': replay the captures' TCP flows
 * into the built-in server through the real receive path, verify that the
 * server read exactly the capture's client bytes, print the summary.
 */
#include "cmd/cmd.h"

#include "core/stats.h"
#include "profile/attach.h"
#include "profile/pfm.h"
#include "report/render.h"
#include "report/report.h"
#include "lib/sha256.h"
#include "replay/engine.h"
#include "replay/iface.h"
#include "replay/load.h"
#include "replay/netns.h"
#include "replay/plan.h"
#include "replay/sink.h"
#include "replay/target.h"

/* The core server (core/server.h) is the default target once it is in the
 * tree; until then replays go into the sink (replay/sink.h). */
#include "core/sandbox.h"
#if __has_include("core/server.h")
#include "core/deser.h"
#include "core/server.h"
#define HAVE_CORE_SERVER 1
#else
#define HAVE_CORE_SERVER 0
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The one stop flag: SIGINT/SIGTERM stop sending; the server child
 * inherits the handler and stops on the engine's SIGTERM. */
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: pktmem replay [options] CAPTURE...\n"
"\n"
"Replays the captures' TCP flows into the built-in server through a private\n"
"network namespace and veth pair (a live TCP peer: fresh connections, live\n"
"sequence numbers, the captured segment boundaries), then checks that the\n"
"server read exactly each flow's client bytes.\n"
"\n"
"  --via mmap|raw|socket   transmit path: PACKET_MMAP TX ring (default),\n"
"                          AF_PACKET sendto per frame, or plain TCP sockets\n"
"                          over loopback (no privileges; chosen automatically\n"
"                          without CAP_NET_ADMIN/CAP_NET_RAW/CAP_SYS_ADMIN)\n"
"  --speed max|1x|Nx       as fast as possible (default), captured timing,\n"
"                          or N times faster (0.5x slower)\n"
"  --pps N                 data segments per second\n"
"  --loop N                replay the captures N times (fresh connections)\n"
"  --limit-flows N         only the first N flows\n"
"  --concurrency N         flows in flight at once (default 64)\n"
"  --resegment MSS         cut client payload into MSS-byte segments instead\n"
"                          of the captured boundaries\n"
"  --filter EXPR           pcap filter applied to the captures\n"
"  --server http|echo|sink the server: the core HTTP server (default; frames,\n"
"                          parses, deserializes, answers), echo (sends every\n"
"                          byte back), sink (counts bytes, never parses)\n"
"  --io blocking|epoll|uring, --deser tree|arena|none\n"
"                          the core server's I/O loop and deserializer\n"
"  --rx-ring v2|v3         the peer's receive ring (default v3; v2 hands over\n"
"                          every frame at once, but loses frames under large\n"
"                          responses: docs/replay.md)\n"
"  --qdisc-bypass          PACKET_QDISC_BYPASS on the TX socket\n"
"  --json FILE|-           write the full result: the stage table and the\n"
"                          replay summary (pktmem.report/1, what 'pktmem\n"
"                          report', 'compare' and 'gate' read), atomically;\n"
"                          '-': standard output, the text goes to stderr\n"
"  --summary-json FILE|-   write the replay summary alone (pktmem.replay/1)\n"
"  --profile off|counts|full\n"
"                          measure the stages: counting tracepoints (default),\n"
"                          plus timestamps, histograms and sampling, or nothing\n"
"                          (user stages still come from the server's clock)\n"
"  --events LIST           hardware counters for the server's stages (libpfm4\n"
"                          or perf names; default cycles,instructions,\n"
"                          cache-misses,branch-misses where a PMU exists);\n"
"                          also read by BPF per softirq and read(), with\n"
"                          cpu-clock (on with --events, or --profile full\n"
"                          where a PMU exists)\n"
"  --folded FILE           folded stacks for flamegraph.pl, the server's and the\n"
"                          replayer's user frames named (--profile full)\n"
"  --freq HZ               samples per second per CPU of --profile full (default\n"
"                          999; each costs the CPU it lands on, docs/profile.md)\n"

"  --iface IFACE --server-ip IP [--port N] [--client-net CIDR]\n"
"                          replay onto an existing interface, to a server on\n"
"                          another host (e.g. 'pktmem serve'): packet path\n"
"                          only, CAP_NET_RAW + CAP_NET_ADMIN; --port: the\n"
"                          server's port (default: each flow's captured one);\n"
"                          --client-net: number the clients in CIDR (default:\n"
"                          the captured addresses; docs/replay.md)\n"
"  --dump-frames FILE      write every frame sent (packet path) to a pcap\n"
"  --exec 'CMD ARGS' --port N\n"
"                          replay into your own server instead: pktmem starts\n"
"                          CMD (/bin/sh -c) in the server namespace, waits until\n"
"                          port N accepts, replays, stops it; allocations are\n"
"                          counted by an LD_PRELOAD interposer (docs/exec.md)\n"
"  --target HOST:PORT [--netns NAME]\n"
"                          replay (over TCP sockets) into a server you already\n"
"                          run, in network namespace NAME (/run/netns/NAME)\n"
"  --ready-timeout SECS    how long --exec/--target may take to accept (10)\n"
"  --flow-timeout SECS     socket path: give a flow up after SECS with no\n"
"                          progress (default 30; the packet path gives up\n"
"                          after its retransmissions)\n"
"  --no-preload            --exec without the allocation interposer\n"
"  -q, --quiet             no progress bar\n"
"testing:\n"
"  --test-extra-alloc      the core server allocates once more per request\n"
"                          with a body (to watch 'pktmem gate' fail)\n"
"\n"
"exit: 0 replayed and verified, 1 verification failed or interrupted,\n"
"2 usage or input error (also: --exec's command never accepted connections)\n");
}

struct opts {
	enum engine_via via;
	bool via_set;
	const char *speed, *json, *filter, *iface, *server_ip, *io, *deser;
	const char *server;
	double pps;
	uint32_t loops, concurrency, resegment, rx;
	uint64_t limit;
	bool quiet, qdisc_bypass, extra_alloc;
	const char *dump;
	/* --exec / --target: the user's own server (replay/target.h) */
	const char *exec, *target, *netns;
	uint32_t port, ready_ms, flow_timeout_ms;
	bool no_preload;
	enum profile_mode profile;
	const char *events, *folded;
	int freq;			/* --freq; 0: the sampler's default */
	const char *report;		/* --summary-json */
	const char *client_net;		/* --iface: --client-net CIDR */
};

/* --dump-frames: the frames as they went into the ring */
struct dump {
	pcap_t *p;
	pcap_dumper_t *d;
};

static void dump_frame(void *arg, const uint8_t *frame, uint32_t len)
{
	struct dump *dp = arg;
	struct pcap_pkthdr h;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	h.ts.tv_sec = ts.tv_sec;
	h.ts.tv_usec = ts.tv_nsec / 1000;
	h.caplen = h.len = len;
	pcap_dump((u_char *)dp->d, &h, frame);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_speed(const char *s, struct peer_cfg *pc)
{
	char *end;
	double v;

	if (!strcmp(s, "max")) {
		pc->timing = PEER_MAX;
		return 0;
	}
	v = strtod(s, &end);
	if (end == s || (*end && strcmp(end, "x")) || !(v > 0) || v > 1e6)
		return -1;
	pc->timing = PEER_SCALED;
	pc->speed = v;
	return 0;
}

/* --- the server the replay goes into --- */

struct server_choice {
	struct sink_cfg sink;
	bool core;
	struct prof_attach *prof;	/* NULL: not profiled */
	/* --iface: this host's kernel stages, the replayer's own context */
	struct profiler *host;
	/* the core server's per-thread counter group (--events) */
	struct perf_event_attr attrs[PFM_MAX_EVENTS];
	char names[PFM_MAX_EVENTS][PFM_NAME];
	const char *name_ptr[PFM_MAX_EVENTS];
	int nattrs;
#if HAVE_CORE_SERVER
	struct server_config sc;
#endif
};

#if HAVE_CORE_SERVER
static int run_core(void *arg, struct stats_block *st, const char *listen,
		    volatile sig_atomic_t *stop)
{
	struct server_choice *s = arg;
	int rc;

	s->sc.listen = listen;
	/* In the server child: the profiler opens its events on this pid
	 * before the first byte arrives, and gets the stats at the end. */
	prof_attach_child_ready(s->prof);
	rc = server_run(&s->sc, st, stop);
	prof_attach_child_done(s->prof, st);
	return rc;
}
#endif

static int run_sink(void *arg, struct stats_block *st, const char *listen,
		    volatile sig_atomic_t *stop)
{
	struct server_choice *s = arg;
	int rc;

	s->sink.listen = listen;
	prof_attach_child_ready(s->prof);
	rc = sink_run(&s->sink, st, stop);
	prof_attach_child_done(s->prof, st);
	return rc;
}

/* engine_server.forked: the profiler's thread starts once the server
 * children exist (prof_attach_start() says why), and waits for all of
 * them (an IPv4 and an IPv6 one when the capture holds both). */
static void start_profiler(void *arg, int nchildren)
{
	struct prof_attach **pa = arg;

	if (*pa && prof_attach_start(*pa, nchildren) < 0) {
		cmd_warn("replay", "profiler: cannot start its thread: stages not measured");
		prof_attach_free(*pa);
		*pa = NULL;
	}
}

/* --- progress on a terminal --- */

static void progress(void *arg, uint64_t done, uint64_t total)
{
	int width = 30, fill = total ? (int)(done * (uint64_t)width / total) : 0;

	(void)arg;
	fprintf(stderr, "\r[%.*s%*s] %" PRIu64 "/%" PRIu64 " flows", fill,
		"##############################", width - fill, "", done, total);
	fflush(stderr);
}

/* --- output --- */

static void to_summary(const struct engine_result *r, struct replay_summary *s)
{
	uint64_t i;
	double secs;

	memset(s, 0, sizeof(*s));
	snprintf(s->via, sizeof(s->via), "%s", engine_via_name(r->via));
	s->flows = r->flows;
	s->requests = r->requests;
	s->segments = r->peer.data_segments;
	s->bytes = r->peer.bytes;
	s->duration_ns = r->peer.duration_ns;
	secs = (double)s->duration_ns / 1e9;
	if (secs > 0) {
		s->segments_per_s = (double)s->segments / secs;
		s->mbit_per_s = (double)s->bytes * 8 / secs / 1e6;
		s->requests_per_s = (double)s->requests / secs;
	}
	s->retransmits = r->peer.retransmits + r->peer.syn_retransmits;
	s->server_drops = r->server_drops;
	s->skipped_flows = r->flows_skipped;
	s->verified = r->verified;
	if (r->nfailures)
		snprintf(s->verify_msg, sizeof(s->verify_msg), "%s", r->failures[0].msg);
	else if (r->copy_failed)
		snprintf(s->verify_msg, sizeof(s->verify_msg), "%s", r->copy_msg);
	else if (r->interrupted)
		snprintf(s->verify_msg, sizeof(s->verify_msg), "interrupted: not every flow was replayed");
	else
		snprintf(s->verify_msg, sizeof(s->verify_msg), "every flow's bytes%s match the capture",
			 r->requests_verified ? " and requests" : "");
	s->interrupted = r->interrupted;
	s->responses_2xx = r->server_responses_2xx;
	s->responses_4xx = r->server_responses_4xx;
	s->responses_5xx = r->server_responses_5xx;
	s->truncated_flows = r->flows_truncated;
	s->server_bytes_read = r->server_bytes_read;
	s->server_requests = r->server_requests;
	s->requests_verified = r->requests_verified;
	s->frames = r->peer.frames;
	s->gap_p50_ns = r->peer.gap_p50;
	s->gap_p99_ns = r->peer.gap_p99;
	s->late_p99_ns = r->peer.late_p99;
	s->cpu_replayer_ns = r->cpu_self_ns;
	s->cpu_server_ns = r->cpu_server_ns;
	s->failures_total = r->nfailures;
	for (i = 0; i < r->nfailures && i < REPORT_MAX_FAILURES; i++) {
		s->failure[i].flow = r->failures[i].flow_id;
		s->failure[i].loop = (uint32_t)r->failures[i].loop;
		snprintf(s->failure[i].msg, sizeof(s->failure[i].msg), "%s", r->failures[i].msg);
		s->nfailures = (size_t)i + 1;
	}
	for (i = 0; i < r->ncounters && i < REPORT_MAX_COUNTERS; i++) {
		snprintf(s->counter[i].name, sizeof(s->counter[i].name), "%s", r->counters[i].name);
		s->counter[i].delta = r->counters[i].delta;
		s->ncounters = (size_t)i + 1;
	}
}

static const char *human_ns(uint64_t ns, char *buf, size_t n)
{
	if (ns >= 1000000000ull)
		snprintf(buf, n, "%.2f s", (double)ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, n, "%.2f ms", (double)ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, n, "%.1f us", (double)ns / 1e3);
	else
		snprintf(buf, n, "%" PRIu64 " ns", ns);
	return buf;
}

/* --- --iface IFACE --server-ip IP (replay/iface.h) --- */

struct iface_run {
	struct iface_link link;
	struct iface_clients *clients;
	struct engine_remote rm;
	char nexthop[INET6_ADDRSTRLEN];
	bool gateway;
	bool resolved;		/* pktmem asked the wire (ARP / NS), not the kernel */
};

/* Option combinations for --iface; EXIT_OK or the usage error's code. */
static int iface_options(const struct opts *o)
{
	if (!o->iface && !o->server_ip) {
		if (o->client_net)
			return cmd_error("replay", "--client-net goes with --iface and --server-ip");
		return EXIT_OK;
	}
	if (!o->iface || !o->server_ip)
		return cmd_error("replay", "--iface and --server-ip go together: the interface to "
				 "transmit on and the server's address");
	if (o->exec || o->target || o->netns || o->ready_ms || o->no_preload)
		return cmd_error("replay", "--iface replays to a server on another host: not with "
				 "--exec, --target, --netns, --ready-timeout or --no-preload");
	if (o->io || o->deser || strcmp(o->server, HAVE_CORE_SERVER ? "http" : "sink"))
		return cmd_error("replay", "--server/--io/--deser choose pktmem's own server: with "
				 "--iface the server is the one at --server-ip");
	if (o->via_set && o->via == ENGINE_SOCKET)
		return cmd_error("replay", "--via socket with --iface: the socket path lets this host's "
				 "kernel make the connections, so nothing is replayed as captured on the "
				 "interface; use --via mmap or raw (or --target HOST:PORT for plain sockets)");
	if (o->extra_alloc)
		return cmd_error("replay", "--test-extra-alloc needs pktmem's own server, not --iface");
	return EXIT_OK;
}

/* Resolves the link, the route, the next hop's MAC and the client
 * addresses, and fills cfg->remote.  EXIT_OK or the error's code. */
static int iface_setup(const struct opts *o, const struct plan *plan, struct iface_run *ir,
		       struct engine_cfg *cfg)
{
	struct iface_clients_cfg cc;
	struct iface_route rt;
	char a[INET6_ADDRSTRLEN], dev[IF_NAMESIZE] = "?", ip[INET6_ADDRSTRLEN];
	uint8_t last[16] = { 0 };
	const char *scope;
	bool linklocal;
	int family, e;
	size_t n;
	size_t i;

	memset(&cc, 0, sizeof(cc));
	cc.prefix = -1;
	/* an IPv6 address may carry its zone, fe80::1%eth0: it must be the
	 * --iface link, the only one pktmem transmits on */
	scope = strchr(o->server_ip, '%');
	n = scope ? (size_t)(scope - o->server_ip) : strlen(o->server_ip);
	memcpy(ip, o->server_ip, n < sizeof(ip) ? n : 0);
	ip[n < sizeof(ip) ? n : 0] = '\0';
	family = AF_INET;
	if (inet_pton(AF_INET, ip, ir->rm.server_addr) != 1 || scope) {
		family = AF_INET6;
		if (inet_pton(AF_INET6, ip, ir->rm.server_addr) != 1)
			return cmd_error("replay", "--server-ip '%s': not an IPv4 or IPv6 address",
					 o->server_ip);
	}
	/* fe80::/10 */
	linklocal = family == AF_INET6 && ir->rm.server_addr[0] == 0xfe &&
		    (ir->rm.server_addr[1] & 0xc0) == 0x80;
	if (scope && !linklocal)
		return cmd_error("replay", "--server-ip '%s': a zone (%%%s) belongs to a link-local "
				 "address (fe80::/10) only", o->server_ip, scope + 1);
	if (o->client_net) {
		int cf;

		if ((e = iface_parse_cidr(o->client_net, &cf, cc.net, &cc.prefix)) < 0)
			return cmd_error("replay", "--client-net '%s': %s", o->client_net, iface_strerror(e));
		if (cf != family)
			return cmd_error("replay", "--client-net '%s' and --server-ip %s: not the same "
					 "address family", o->client_net, o->server_ip);
	}
	e = iface_link_get(o->iface, &ir->link);
	if (e == IFACE_E_DOWN)
		return cmd_error("replay", "--iface %s: the interface is down (ip link set %s up)",
				 o->iface, o->iface);
	if (e < 0)
		return cmd_error("replay", "--iface %s: %s", o->iface, iface_strerror(e));
	if (iface_forwarding(o->iface, family) == 1)
		return cmd_error("replay", "--iface %s: this host forwards %s on it (sysctl "
				 "net.%s.conf.%s.forwarding=1): it would forward the server's packets for "
				 "the client addresses instead of dropping them; turn forwarding off or "
				 "replay from a network namespace", o->iface, family == AF_INET ? "IPv4" : "IPv6",
				 family == AF_INET ? "ipv4" : "ipv6", o->iface);
	if (scope) {
		char *end;
		unsigned long zone = strtoul(scope + 1, &end, 10);

		if (!(scope[1] && !*end ? zone == (unsigned long)ir->link.ifindex
			: !strcmp(scope + 1, o->iface)))
			return cmd_error("replay", "--server-ip %s: the zone is not --iface %s (index "
					 "%d): a link-local address is reached on its own link only",
					 o->server_ip, o->iface, ir->link.ifindex);
	}
	e = iface_route_get(family, ir->rm.server_addr, linklocal ? ir->link.ifindex : 0, &rt);
	if (e < 0)
		return cmd_error("replay", "--server-ip %s: %s", o->server_ip, iface_strerror(e));
	if (iface_is_local(family, ir->rm.server_addr) == 1)
		return cmd_error("replay", "--server-ip %s is an address of this host: --iface replays "
				 "to another host (for a local server: --target or --exec)", o->server_ip);
	if (rt.oif != ir->link.ifindex) {
		if_indextoname((unsigned int)rt.oif, dev);
		return cmd_error("replay", "--server-ip %s is routed via %s, not --iface %s",
				 o->server_ip, dev, o->iface);
	}
	ir->gateway = rt.gateway;
	inet_ntop(family, rt.nexthop, ir->nexthop, sizeof(ir->nexthop));
	if (iface_neigh_get(family, rt.nexthop, ir->link.ifindex, ir->rm.dst_mac) < 0) {
		/* the kernel has no entry: ask the wire ourselves, 3 x 1 s */
		e = iface_neigh_resolve(&ir->link, family, rt.nexthop, rt.have_src ? rt.src : NULL,
					3, 1000, ir->rm.dst_mac);
		if (e < 0)
			return cmd_error("replay", "--server-ip %s: %s %s on %s: %s%s", o->server_ip,
					 ir->gateway ? "gateway" : "next hop", ir->nexthop, o->iface,
					 iface_strerror(e), e == IFACE_E_NEIGH ?
					 " within 3 s (is it up and on this link?)" : "");
		ir->resolved = true;
	}
	for (i = 0; i < plan->nflows; i++) {
		const struct plan_flow *f = plan->flow[i];

		if (f->skip != PLAN_OK)
			continue;
		if (f->family != family && !o->client_net)
			return cmd_error("replay", "flow %" PRIu64 " is %s and --server-ip %s is not: give "
					 "--client-net CIDR (%s) to map the clients", f->id,
					 f->family == AF_INET ? "IPv4" : "IPv6", o->server_ip,
					 family == AF_INET ? "IPv4" : "IPv6");
		/* one netlink round trip per address, not per flow: flows
		 * of one client usually follow each other */
		if (!o->client_net && i && !memcmp(f->caddr, last, 16))
			continue;
		memcpy(last, f->caddr, 16);
		if (!o->client_net && (iface_is_local(family, f->caddr) == 1 ||
				       !memcmp(f->caddr, ir->rm.server_addr, 16))) {
			inet_ntop(family, f->caddr, a, sizeof(a));
			return cmd_error("replay", "flow %" PRIu64 ": client address %s is %s: the kernel "
					 "would reset the replayed connections; map the clients elsewhere "
					 "with --client-net CIDR", f->id, a,
					 iface_is_local(family, f->caddr) == 1 ? "an address of this host"
									       : "the server's");
		}
	}
	cc.link = ir->link;
	cc.family = family;
	memcpy(cc.server, ir->rm.server_addr, 16);
	if ((e = iface_clients_new(&ir->clients, &cc)) < 0)
		return cmd_error("replay", "%s", iface_strerror(e));
	ir->rm.ifindex = ir->link.ifindex;
	ir->rm.mtu = ir->link.mtu;
	ir->rm.family = family;
	ir->rm.port = (uint16_t)o->port;
	memcpy(ir->rm.src_mac, ir->link.mac, 6);
	ir->rm.client_addr = iface_clients_addr;
	ir->rm.add_client = iface_clients_add;
	ir->rm.answer = iface_clients_answer;
	ir->rm.arg = ir->clients;
	cfg->remote = &ir->rm;
	cfg->server.foreign = true;
	cfg->server.counts_requests = false;
	return EXIT_OK;
}

/*
 * The summary's lines are composed whole, then a line longer than the
 * report table's 100 columns (issue #6) is wrapped by the table's own
 * wrapper under the value column: an exec target's command, a failure
 * message or a long count would otherwise run past a terminal's edge.
 */
#define SUMMARY_COLS 100
#define SUMMARY_INDENT 14
static void print_wrapped(const char *text)
{
	char label[SUMMARY_INDENT + 1];
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		bool labelled = len > SUMMARY_INDENT && line[0] == ' ';
		char *body = len > SUMMARY_COLS ? strndup(line, len) : NULL;

		if (!body) {
			printf("%.*s\n", (int)len, line);
		} else {
			/* "  verify      ": the label column stays as it is */
			snprintf(label, sizeof(label), "%.*s", labelled ? SUMMARY_INDENT : 0, line);
			render_wrap(stdout, label, body + strlen(label), SUMMARY_INDENT);
			free(body);
		}
		line += len + (nl ? 1 : 0);
	}
}

static void print_summary(FILE *out, const struct opts *o, const struct plan *plan, const struct load_info *li,
			  const struct engine_result *r, const struct replay_summary *s,
			  const struct iface_run *ifr)
{
	char a[32], b[32], c[32];
	uint32_t i;

	fprintf(out, "replay: %" PRIu64 " flows in the capture, %zu planned, via %s%s\n",
	       li->flows, plan->nflows - (size_t)r->flows_skipped, s->via,
	       s->interrupted ? " (INTERRUPTED: partial summary)" : "");
	if (ifr)
		fprintf(out, "  path        %s MTU %u, to %s via %s %s (%02x:%02x:%02x:%02x:%02x:%02x%s), "
		       "%s, RX ring TPACKET_V%d\n", ifr->link.name, r->mtu, o->server_ip,
		       ifr->gateway ? "gateway" : "on-link", ifr->nexthop, ifr->rm.dst_mac[0],
		       ifr->rm.dst_mac[1], ifr->rm.dst_mac[2], ifr->rm.dst_mac[3], ifr->rm.dst_mac[4],
		       ifr->rm.dst_mac[5], ifr->resolved ? ", resolved by pktmem" : "",
		       r->via == ENGINE_MMAP ? "TX ring" : "sendto() per frame", o->rx == 2 ? 2 : 3);
	else if (r->via == ENGINE_MMAP)
		fprintf(out, "  path        veth MTU %u, TX ring %u frames of %u bytes, RX ring TPACKET_V%d\n",
		       r->mtu, r->ring_frames, r->ring_frame_size, o->rx == 2 ? 2 : 3);
	else if (r->via == ENGINE_RAW)
		fprintf(out, "  path        veth MTU %u, sendto() per frame, RX ring TPACKET_V%d\n",
		       r->mtu, o->rx == 2 ? 2 : 3);
	else
		fprintf(out, "  path        TCP sockets over loopback: no NIC, softirq-side stages are the "
		       "loopback's, not a veth's\n");
	fprintf(out, "  flows       %" PRIu64 " replayed, %" PRIu64 " ok, %" PRIu64 " failed; %" PRIu64
	       " skipped, %" PRIu64 " truncated at a capture gap\n",
	       s->flows, r->peer.flows_ok, r->peer.flows_failed, s->skipped_flows, r->flows_truncated);
	for (i = 0; i < plan->nflows; i++) {
		const struct plan_flow *f = plan->flow[i];

		if (f->skip != PLAN_OK && f->skip != PLAN_SKIP_LIMIT)
			fprintf(out, "    skipped   flow %" PRIu64 ": %s\n", f->id, plan_skip_name(f->skip));
		else if (f->truncated)
			fprintf(out, "    truncated flow %" PRIu64 ": replayed %" PRIu64 " bytes, a %" PRIu64
			       "-byte hole at offset %" PRIu64 ", %" PRIu64 " captured bytes after it not sent\n",
			       f->id, f->bytes, f->gap_len, f->gap_off, f->lost_bytes);
	}
	if (r->flows_rejected)
		fprintf(out, "    %" PRIu64 " flows closed early by the server on a request its framer "
		       "rejects, as the capture predicts\n", r->flows_rejected);
	if (li->flows_beyond_limit)
		fprintf(out, "    %" PRIu64 " flows beyond --limit-flows\n", li->flows_beyond_limit);
	if (li->requests_known && r->requests_verified)
		fprintf(out, "  requests    %" PRIu64 " in the replayed bytes; server parsed %" PRIu64 "\n",
		       s->requests, r->server_requests);
	else if (li->requests_known)
		fprintf(out, "  requests    %" PRIu64 " in the replayed bytes (%s)\n", s->requests,
		       ifr ? "the server is on another host: its own count is there" :
		       "this server does not parse");
	fprintf(out, "  segments    %" PRIu64 " data segments, %" PRIu64 " bytes, %" PRIu64
	       " retransmitted, %" PRIu64 " split\n",
	       s->segments, s->bytes, s->retransmits, r->peer.splits);
	fprintf(out, "  rate        %s, %.0f segments/s, %.1f Mbit/s\n",
	       human_ns(s->duration_ns, a, sizeof(a)), s->segments_per_s, s->mbit_per_s);
	if (s->segments && ifr)
		fprintf(out, "  cpu         replayer %s per data segment; server unavailable: it runs on "
		       "another host\n", human_ns(r->cpu_self_ns / s->segments, a, sizeof(a)));
	else if (s->segments)
		fprintf(out, "  cpu         per data segment: replayer %s (receive path included), "
		       "server %s\n",
		       human_ns(r->cpu_self_ns / s->segments, a, sizeof(a)),
		       human_ns(r->cpu_server_ns / s->segments, b, sizeof(b)));
	if (r->peer.gap_samples)
		fprintf(out, "  gaps        p50 %s, p90 %s, p99 %s between data segments as sent\n",
		       human_ns(r->peer.gap_p50, a, sizeof(a)), human_ns(r->peer.gap_p90, b, sizeof(b)),
		       human_ns(r->peer.gap_p99, c, sizeof(c)));
	if (r->peer.late_max)
		fprintf(out, "  lateness    p50 %s, p99 %s, max %s behind the schedule\n",
		       human_ns(r->peer.late_p50, a, sizeof(a)), human_ns(r->peer.late_p99, b, sizeof(b)),
		       human_ns(r->peer.late_max, c, sizeof(c)));
	if (ifr)
		fprintf(out, "  server      %s on another host: ACKed %" PRIu64 " client bytes, sent %" PRIu64
		       " bytes back; this host: Tcp:OutRsts +%" PRIu64 ", %" PRIu64 " ARP/ND answers "
		       "for the clients", o->server_ip, r->bytes_acked, r->peer.server_bytes,
		       r->client_out_rsts, r->peer.answers);
	else if ((o->exec || o->target) && r->copy_checked)
		fprintf(out, "  server      not pktmem's: ACKed %" PRIu64 " client bytes, its threads read %"
		       PRIu64 " (kernel copies), sent %" PRIu64 " bytes back", r->bytes_acked,
		       r->copy_bytes, r->peer.server_bytes);
	else if (o->exec || o->target)
		fprintf(out, "  server      not pktmem's: ACKed %" PRIu64 " client bytes, sent %" PRIu64
		       " bytes back", r->bytes_acked, r->peer.server_bytes);
	else
		fprintf(out, "  server      read %" PRIu64 " bytes, sent %" PRIu64 " bytes back",
		       r->server_bytes_read, r->peer.server_bytes);
	if (r->via != ENGINE_SOCKET && !ifr)
		fprintf(out, ", kernel drops %" PRIu64, s->server_drops);
	fprintf(out, "\n");
	if (r->via != ENGINE_SOCKET && !ifr) {
		/* the counters that say something went wrong (all are in --json) */
		static const char *const bad[] = { "Drop", "Err", "Discard", "Overflow",
						   "Retrans", "Reset", "Abort", "Fail", "Prune" };
		bool any = false;
		size_t k;

		for (i = 0; i < r->ncounters; i++)
			for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
				if (strstr(r->counters[i].name, bad[k])) {
					fprintf(out, "%s %s=%+" PRId64, any ? "" : "  counters   ",
					       r->counters[i].name, r->counters[i].delta);
					any = true;
					break;
				}
		if (any)
			fprintf(out, "\n");
	}
	fprintf(out, "  verify      %s: %s\n", s->verified ? "ok" : (s->interrupted ? "incomplete" : "FAILED"),
	       s->verify_msg);
	if (r->copy_checked && !r->copy_failed && r->copy_msg[0])
		fprintf(out, "  read        %s\n", r->copy_msg);
}

static json_t *target_json(const struct opts *o, const struct target_report *tr);

static int write_json(const char *path, const struct replay_summary *s,
		      const struct engine_result *r, const struct load_info *li,
		      const struct opts *op, const struct target_report *tr,
		      const struct iface_run *ifr)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:I, s:I, s:I, s:b, s:s, s:b}",
			      "schema", "pktmem.replay/1", "via", s->via,
			      "flows", (json_int_t)s->flows, "requests", (json_int_t)s->requests,
			      "segments", (json_int_t)s->segments, "bytes", (json_int_t)s->bytes,
			      "duration_ns", (json_int_t)s->duration_ns,
			      "segments_per_s", s->segments_per_s, "mbit_per_s", s->mbit_per_s,
			      "requests_per_s", s->requests_per_s,
			      "retransmits", (json_int_t)s->retransmits,
			      "server_drops", (json_int_t)s->server_drops,
			      "skipped_flows", (json_int_t)s->skipped_flows,
			      "verified", s->verified, "verify_msg", s->verify_msg,
			      "interrupted", s->interrupted);
	json_t *fails = json_array();
	uint64_t i;
	int rc;

	if (!o || !fails)
		return -ENOMEM;
	json_object_set_new(o, "truncated_flows", json_integer((json_int_t)r->flows_truncated));
	json_object_set_new(o, "server_bytes_read", json_integer((json_int_t)r->server_bytes_read));
	json_object_set_new(o, "server_requests", json_integer((json_int_t)r->server_requests));
	json_object_set_new(o, "requests_verified", json_boolean(r->requests_verified));
	json_object_set_new(o, "capture_packets", json_integer((json_int_t)li->packets));
	json_object_set_new(o, "gap_p50_ns", json_integer((json_int_t)r->peer.gap_p50));
	json_object_set_new(o, "gap_p99_ns", json_integer((json_int_t)r->peer.gap_p99));
	json_object_set_new(o, "late_p99_ns", json_integer((json_int_t)r->peer.late_p99));
	json_object_set_new(o, "cpu_self_ns", json_integer((json_int_t)r->cpu_self_ns));
	json_object_set_new(o, "cpu_server_ns", json_integer((json_int_t)r->cpu_server_ns));
	json_object_set_new(o, "frames", json_integer((json_int_t)r->peer.frames));
	for (i = 0; i < r->nfailures && i < 64; i++)
		json_array_append_new(fails, json_pack("{s:I, s:i, s:s}", "flow",
						       (json_int_t)r->failures[i].flow_id, "loop",
						       (int)r->failures[i].loop, "msg", r->failures[i].msg));
	json_object_set_new(o, "failures", fails);
	if (tr)
		json_object_set_new(o, "target", target_json(op, tr));
	if (ifr) {
		char mac[18];
		const uint8_t *m = ifr->rm.dst_mac;

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		json_object_set_new(o, "iface", json_pack("{s:s, s:s, s:i, s:s, s:b, s:s, s:b, s:I, s:I}",
			"name", ifr->link.name, "server_ip", op->server_ip, "port", (int)op->port,
			"next_hop", ifr->nexthop, "gateway", ifr->gateway, "next_hop_mac", mac,
			"resolved_by_pktmem", ifr->resolved,
			"neighbour_answers", (json_int_t)r->peer.answers,
			"client_out_rsts", (json_int_t)r->client_out_rsts));
	}
	{
		json_t *ctr = json_object();
		uint32_t k;

		for (k = 0; k < r->ncounters; k++)
			json_object_set_new(ctr, r->counters[k].name, json_integer(r->counters[k].delta));
		json_object_set_new(o, "server_counters", ctr);
	}
	rc = cmd_write_json(path, o, JSON_INDENT(2));
	json_decref(o);
	return rc;
}

/* --- --exec / --target (replay/target.h) --- */

/* Checks the option combinations; EXIT_OK or the usage error's code. */
static int target_options(struct opts *o, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	uint16_t port;
	int e;

	if (!o->exec && !o->target) {
		if ((o->port && !o->iface) || o->netns || o->ready_ms || o->no_preload)
			return cmd_error("replay", "--port/--netns/--ready-timeout/--no-preload go with "
					 "--exec or --target%s", o->port ? " (or --iface)" : "");
		return EXIT_OK;
	}
	if (o->exec && o->target)
		return cmd_error("replay", "--exec and --target: choose one");
	if (o->io || o->deser || strcmp(o->server, HAVE_CORE_SERVER ? "http" : "sink"))
		return cmd_error("replay", "--server/--io/--deser choose the built-in server: not with "
				 "--exec or --target");
	if (o->exec) {
		if (!*o->exec)
			return cmd_error("replay", "--exec: empty command");
		if (!o->port)
			return cmd_error("replay", "--exec needs --port N: the port the command listens on");
		if (o->netns)
			return cmd_error("replay", "--netns goes with --target (--exec runs the command in "
					 "pktmem's own server namespace)");
		return EXIT_OK;
	}
	if (o->port)
		return cmd_error("replay", "--target HOST:PORT carries the port: no --port");
	if ((e = target_parse_hostport(o->target, sa, len, host, sizeof(host), &port)) < 0)
		return cmd_error("replay", "--target '%s': %s", o->target, target_strerror(e));
	if (o->via_set && o->via != ENGINE_SOCKET)
		return cmd_error("replay", "--target replays over TCP sockets (--via socket): the server "
				 "is in a namespace pktmem did not make, so no veth reaches it");
	o->via = ENGINE_SOCKET;
	o->via_set = true;
	o->port = port;
	return EXIT_OK;
}

/* The profiler watches the user's command (and what it forked), not the
 * engine's child that started it.  arg: &server_choice.prof, set after
 * target_setup() and before the engine forks. */
static int target_listening(void *arg, const pid_t *pids, int n, const char *why)
{
	struct prof_attach **pa = arg;

	if (n <= 0)
		return prof_attach_child_ready_none(*pa, why);
	return prof_attach_child_ready_pids(*pa, pids, n);
}

/* engine_server.copied: the profiler's count of bytes copied to the
 * server's threads, for the engine's delivery check. */
static int target_copied(void *arg, uint64_t *bytes)
{
	struct prof_attach **pa = arg;

	return prof_attach_copied(*pa, bytes);
}

static void target_done(void *arg, const struct stats_block *st)
{
	struct prof_attach **pa = arg;

	prof_attach_child_done(*pa, st);
}

static int target_setup(const struct opts *o, struct target **out, struct engine_cfg *cfg,
			const struct sockaddr *sa, socklen_t len, struct prof_attach **pa)
{
	struct target_cfg tc = { 0 };
	char preload[4096], host[INET6_ADDRSTRLEN];
	int e;

	tc.command = o->exec;
	tc.port = (uint16_t)o->port;
	tc.ready_ms = o->ready_ms ? o->ready_ms : 10000;
	if (o->target) {
		target_parse_hostport(o->target, &(struct sockaddr_storage){ 0 }, &(socklen_t){ 0 },
				      host, sizeof(host), NULL);
		tc.host = host;
	}
	if (o->exec && o->no_preload)
		tc.alloc_why = "--no-preload";
	else if (o->exec && target_find_preload(preload, sizeof(preload)) < 0)
		tc.alloc_why = "libpktmem-alloc.so not found next to pktmem: build it with "
			       "'make preload' or set PKTMEM_PRELOAD=/path/to/libpktmem-alloc.so";
	else if (o->exec)
		tc.preload = preload;
	tc.on_listening = target_listening;
	tc.on_done = target_done;
	tc.hook_arg = pa;
	if ((e = target_new(out, &tc)) < 0)
		return cmd_error("replay", "%s", target_strerror(e));
	cfg->server.run = target_run;
	cfg->server.arg = *out;
	cfg->server.counts_requests = false;
	cfg->server.foreign = true;
	cfg->server.copied = target_copied;
	cfg->server.copied_arg = pa;
	/* the user's server may need its own privileges (nginx binds, setuid) */
	cfg->server.drop_privs = false;
	/* the engine waits a little longer than the target's own deadline,
	 * so the target's message (what the command did) is the one shown */
	cfg->server.ready_wait_ms = tc.ready_ms + 3000;
	if (o->target) {
		cfg->server.connect_to = sa;
		cfg->server.connect_len = len;
	}
	return EXIT_OK;
}

static void print_target(FILE *out, const struct opts *o, const struct target_report *tr, uint64_t requests)
{
	if (o->exec)
		fprintf(out, "  target      '%s' (pid %d), port %u%s\n", o->exec, (int)tr->pid, o->port,
		       tr->exited_early ? ": EXITED during the replay" : "");
	else
		fprintf(out, "  target      %s%s%s\n", o->target, o->netns ? " in network namespace " : "",
		       o->netns ? o->netns : "");
	if (tr->capture_why)
		fprintf(out, "  responses   unavailable: %s\n", tr->capture_why);
	else
		fprintf(out, "  responses   %" PRIu64 " (2xx %" PRIu64 ", 4xx %" PRIu64 ", 5xx %" PRIu64
		       ", 1xx %" PRIu64 ", 3xx %" PRIu64 "), %" PRIu64 " bytes, %" PRIu64
		       " unframed%s\n", tr->responses, tr->status[2], tr->status[4], tr->status[5],
		       tr->status[1], tr->status[3], tr->response_bytes, tr->parse_errors,
		       tr->capture_drops ? " (the capture lost packets: counts are low)" : "");
	if (!tr->alloc_available)
		fprintf(out, "  alloc       unavailable: %s\n", tr->alloc_why);
	else if (requests)
		fprintf(out, "  alloc       %.2f allocations, %.2f frees, %.0f bytes per request "
		       "(%" PRIu64 " malloc, %" PRIu64 " calloc, %" PRIu64 " realloc, %" PRIu64
		       " aligned, %" PRIu64 " free over %" PRIu64 " requests; %" PRIu64 " processes)\n",
		       (double)tr->allocs / (double)requests, (double)tr->frees / (double)requests,
		       (double)tr->alloc_bytes / (double)requests, tr->mallocs, tr->callocs,
		       tr->reallocs, tr->memaligns, tr->frees, requests, tr->alloc_inits);
	else
		fprintf(out, "  alloc       %" PRIu64 " allocations, %" PRIu64 " frees, %" PRIu64
		       " bytes (the capture's requests are unknown)\n", tr->allocs, tr->frees,
		       tr->alloc_bytes);
}

static json_t *target_json(const struct opts *o, const struct target_report *tr)
{
	json_t *t = json_object(), *resp = json_object(), *al = json_object();

	json_object_set_new(t, "kind", json_string(o->exec ? "exec" : "target"));
	json_object_set_new(t, o->exec ? "command" : "address", json_string(o->exec ? o->exec : o->target));
	if (o->netns)
		json_object_set_new(t, "netns", json_string(o->netns));
	json_object_set_new(t, "port", json_integer(o->port));
	json_object_set_new(t, "pid", json_integer(tr->pid));
	json_object_set_new(t, "exited_early", json_boolean(tr->exited_early));
	json_object_set_new(resp, "available", json_boolean(!tr->capture_why));
	if (tr->capture_why)
		json_object_set_new(resp, "reason", json_string(tr->capture_why));
	json_object_set_new(resp, "total", json_integer((json_int_t)tr->responses));
	json_object_set_new(resp, "1xx", json_integer((json_int_t)tr->status[1]));
	json_object_set_new(resp, "2xx", json_integer((json_int_t)tr->status[2]));
	json_object_set_new(resp, "3xx", json_integer((json_int_t)tr->status[3]));
	json_object_set_new(resp, "4xx", json_integer((json_int_t)tr->status[4]));
	json_object_set_new(resp, "5xx", json_integer((json_int_t)tr->status[5]));
	json_object_set_new(resp, "other", json_integer((json_int_t)tr->status[0]));
	json_object_set_new(resp, "bytes", json_integer((json_int_t)tr->response_bytes));
	json_object_set_new(resp, "unframed", json_integer((json_int_t)tr->parse_errors));
	json_object_set_new(resp, "capture_drops", json_integer((json_int_t)tr->capture_drops));
	json_object_set_new(t, "responses", resp);
	json_object_set_new(al, "available", json_boolean(tr->alloc_available));
	if (!tr->alloc_available)
		json_object_set_new(al, "reason", json_string(tr->alloc_why ? tr->alloc_why : ""));
	json_object_set_new(al, "window", json_string("from the first accepted probe to the stop"));
	json_object_set_new(al, "processes", json_integer((json_int_t)tr->alloc_inits));
	json_object_set_new(al, "allocations", json_integer((json_int_t)tr->allocs));
	json_object_set_new(al, "malloc", json_integer((json_int_t)tr->mallocs));
	json_object_set_new(al, "calloc", json_integer((json_int_t)tr->callocs));
	json_object_set_new(al, "realloc", json_integer((json_int_t)tr->reallocs));
	json_object_set_new(al, "aligned", json_integer((json_int_t)tr->memaligns));
	json_object_set_new(al, "free", json_integer((json_int_t)tr->frees));
	json_object_set_new(al, "bytes", json_integer((json_int_t)tr->alloc_bytes));
	json_object_set_new(t, "alloc", al);
	return t;
}

/* --- the report (report/report.h) --- */

/*
 * cap.sha256: one capture: SHA-256 of its bytes as stored (a .gz is hashed
 * compressed).  Several: SHA-256 over the lines "<hex digest>  <base
 * name>\n" of each file in command-line order (sha256sum's format), so the
 * hash does not depend on the directory the captures were named from.
 * 0 or -errno.
 */
static int hash_file(const char *path, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	struct sha256 c;
	uint8_t buf[65536], out[32];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = 0, i;

	if (!f)
		return -errno;
	sha256_init(&c);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sha256_update(&c, buf, n);
	if (ferror(f))
		rc = -EIO;
	fclose(f);
	sha256_final(&c, out);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[out[i] >> 4];
		hex[2 * i + 1] = digits[out[i] & 15];
	}
	hex[64] = '\0';
	return rc;
}

static int capture_hash(const char *const *paths, size_t n, char out[65])
{
	struct sha256 c;
	uint8_t d[32];
	char hex[65];
	size_t i;
	int rc, k;

	if (n == 1)
		return hash_file(paths[0], out);
	sha256_init(&c);
	for (i = 0; i < n; i++) {
		const char *base = strrchr(paths[i], '/');

		rc = hash_file(paths[i], hex);
		if (rc < 0)
			return rc;
		base = base ? base + 1 : paths[i];
		sha256_update(&c, hex, 64);
		sha256_update(&c, "  ", 2);
		sha256_update(&c, base, strlen(base));
		sha256_update(&c, "\n", 1);
	}
	sha256_final(&c, d);
	for (k = 0; k < 32; k++)
		snprintf(out + 2 * k, 3, "%02x", d[k]);
	return 0;
}

/* The options as they took effect (defaults filled in), so that two runs
 * with and without an explicit default compare as equal. */
static void effective_options(const struct opts *o, const struct server_choice *srv,
			      const struct replay_summary *s, struct report_options *ro)
{
	const char *io = "sink", *deser = "none";

#if HAVE_CORE_SERVER
	if (o->exec || o->target || o->iface) {
		/* not pktmem's server */
		io = o->exec ? "exec" : o->target ? "target" : "remote";
	} else if (strcmp(o->server, "sink")) {
		io = server_io_name(srv->sc.io);
		deser = srv->sc.kind == SERVER_HTTP ? deser_mode_name(srv->sc.deser) : "none";
	}
#else
	(void)srv;
#endif
	snprintf(ro->via, sizeof(ro->via), "%s", s->via);
	snprintf(ro->io, sizeof(ro->io), "%s", io);
	snprintf(ro->deser, sizeof(ro->deser), "%s", deser);
	snprintf(ro->speed, sizeof(ro->speed), "%s", o->speed ? o->speed : "max");
	snprintf(ro->profile, sizeof(ro->profile), "%s", profile_mode_name(o->profile));
	snprintf(ro->events, sizeof(ro->events), "%s", o->events ? o->events : "");
	snprintf(ro->filter, sizeof(ro->filter), "%s", o->filter ? o->filter : "");
	ro->concurrency = (int)(o->concurrency ? o->concurrency : 64);	/* peer.h default */
}

/* Fills the report, prints the stage table, writes --json (json_fd >= 0:
 * the real standard output for --json -, stdout being stderr meanwhile).
 * Returns 0, or EXIT_USAGE when a file asked for could not be written. */
static int profile_report(const struct opts *o, const struct server_choice *srv,
			  const struct plan *plan, const struct load_info *li,
			  const struct engine_result *r, const struct replay_summary *s,
			  struct prof_attach *pa, const struct target_report *tr,
			  const char *const *captures, size_t ncaptures, int json_fd,
			  const struct iface_run *ifr, const struct report_env *env,
			  const char *cap_sha, int cap_sha_rc)
{
	struct render_opts ro = { .color = json_fd < 0 && cmd_use_color(stdout) };
	struct report *rep = report_new(1);
	uint32_t loops = o->loops ? o->loops : 1;
	struct tm tm;
	time_t now = time(NULL);
	int rc, ret = 0;

	if (!rep)
		return o->json ? cmd_error("replay", "out of memory: no report") : 0;
	snprintf(rep->tool_version, sizeof(rep->tool_version), "%s", pktmem_version());
	snprintf(rep->git_rev, sizeof(rep->git_rev), "%s", pktmem_git_rev());
	gmtime_r(&now, &tm);
	strftime(rep->created, sizeof(rep->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	rep->env = *env;
	effective_options(o, srv, s, &rep->opt);
	snprintf(rep->cap.path, sizeof(rep->cap.path), "%s", captures[0]);
	if (ncaptures > 1) {
		size_t i, n = strlen(rep->cap.path);

		for (i = 1; i < ncaptures && n < sizeof(rep->cap.path); i++)
			n += (size_t)snprintf(rep->cap.path + n, sizeof(rep->cap.path) - n, " %s",
					      captures[i]);
	}
	snprintf(rep->cap.sha256, sizeof(rep->cap.sha256), "%s", cap_sha);
	if (cap_sha_rc < 0)
		cmd_warn("replay", "hashing the capture: %s: the report has no capture hash",
			 strerror(-cap_sha_rc));
	rep->cap.packets = li->packets;
	rep->cap.flows = li->flows;
	rep->cap.requests = li->requests;
	rep->cap.payload_bytes = plan->bytes;
	rep->cap.span_ns = plan->last_ts_ns > plan->first_ts_ns ?
			   plan->last_ts_ns - plan->first_ts_ns : 0;
	rep->trial[0].replay = *s;
	if (pa) {
		profiler_set_expected(prof_attach_profiler(pa), plan->bytes * loops,
				      r->peer.data_segments);
		if (tr) {
			/* --exec/--target: the alloc row is the interposer's */
			struct profiler_foreign f = {
				.alloc_available = tr->alloc_available, .allocs = tr->allocs,
				.mallocs = tr->mallocs, .callocs = tr->callocs,
				.reallocs = tr->reallocs, .aligned = tr->memaligns, .frees = tr->frees,
				.alloc_bytes = tr->alloc_bytes, .processes = tr->alloc_inits,
				.requests = r->requests,
			};

			snprintf(f.alloc_why, sizeof(f.alloc_why), "%s", tr->alloc_why ? tr->alloc_why : "");
			profiler_set_foreign(prof_attach_profiler(pa), &f);
		}
		rc = prof_attach_finish(pa, &rep->trial[0]);
		if (rc < 0)
			cmd_warn("replay", "profiler: the server never reported: stages not measured");
	}
	if (ifr) {
		/* the server's stages happen on its host: unavailable; the
		 * kernel stages are this host's (the server's ACKs and
		 * responses arriving on IFACE), said so in a note */
		int k;

		if (srv->host) {
			profiler_stop(srv->host);
			profiler_set_expected(srv->host, plan->bytes * loops, r->peer.data_segments);
			profiler_set_stats(srv->host, NULL);
			profiler_fill(srv->host, &rep->trial[0]);
		}
		for (k = 0; k < RS__N; k++) {
			struct stage_result *st = &rep->trial[0].stage[k];

			if (k > RS_SOFTIRQ)
				stage_set_unavailable(st, "the server runs on another host (--iface): "
						      "measure it there ('pktmem serve --json FILE')");
			else if (!srv->host)
				stage_set_unavailable(st, "the server runs on another host (--iface) and "
						      "this host's kernel was not profiled (--profile off)");
			else
				snprintf(st->note, sizeof(st->note), "this host's, in the replayer's "
					 "context; packets: the server's ACKs and responses on %s (the "
					 "requests' receive path runs on the server's host%s)", o->iface,
					 !strcmp(ifr->link.kind, "veth") ? ", but a veth peer's runs in "
					 "this context too" : "");
		}
	}
	putchar('\n');
	if (render_text(stdout, rep, &ro) < 0)
		cmd_warn("replay", "writing the stage table failed");
	if (json_fd >= 0 && (fflush(stdout) != 0 || dup2(json_fd, STDOUT_FILENO) < 0))
		ret = cmd_error("replay", "--json -: %s", strerror(errno));
	if (o->json && !ret && (rc = report_write_json(rep, o->json)) < 0)
		ret = cmd_error("replay", "writing '%s': %s", o->json, report_strerror(rc));
	if (o->folded) {
		FILE *f = fopen(o->folded, "w");

		rc = f ? profiler_write_folded(prof_attach_profiler(pa), f) : -errno;
		if (f && fclose(f) != 0 && rc == 0)
			rc = -errno;
		if (rc < 0) {
			ret = cmd_error("replay", "--folded '%s': %s", o->folded, strerror(-rc));
		}
	}
	report_free(rep);
	return ret;
}

/* What the replayer keeps after its setup besides what the engine adds
 * (engine_cfg.keep_caps; measured figures in docs/hardening.md). */
static unsigned long long keep_caps(const struct opts *o)
{
	unsigned long long keep = 0;

	/* The BPF stage counters (--events; --profile full where a PMU
	 * exists: the profiler's own rule) are read at the end with
	 * bpf(BPF_MAP_LOOKUP_ELEM): kernels before 6.5 check CAP_BPF on
	 * every bpf() command when unprivileged BPF is off (Debian's
	 * default), map reads on an open map included. */
	if (profiler_wants_bpf(o->profile, o->events))
		keep |= 1ull << CAP_BPF;
	/* Files written after the run (atomically: a temp file beside the
	 * target, then rename) land where the user said, often a directory
	 * root does not own (sudo from a home directory): creating a file
	 * there takes CAP_DAC_OVERRIDE. */
	if ((o->json && strcmp(o->json, "-")) || (o->report && strcmp(o->report, "-")) ||
	    o->folded)
		keep |= 1ull << CAP_DAC_OVERRIDE;
	return keep;
}

/* "2.5" -> 2500 ms; seconds above 0 up to an hour. */
static int parse_secs(const char *s, uint32_t *ms)
{
	char *end;
	double secs = strtod(s, &end);

	if (end == s || *end || !(secs > 0) || secs > 3600)
		return -EINVAL;
	*ms = (uint32_t)(secs * 1000);
	return 0;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "via", required_argument, NULL, 'v' },
		{ "speed", required_argument, NULL, 's' },
		{ "pps", required_argument, NULL, 'p' },
		{ "loop", required_argument, NULL, 'l' },
		{ "limit-flows", required_argument, NULL, 'L' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "resegment", required_argument, NULL, 'r' },
		{ "filter", required_argument, NULL, 'f' },
		{ "json", required_argument, NULL, 'j' },
		{ "iface", required_argument, NULL, 'i' },
		{ "server-ip", required_argument, NULL, 'I' },
		{ "client-net", required_argument, NULL, 'C' },
		{ "io", required_argument, NULL, 'o' },
		{ "deser", required_argument, NULL, 'd' },
		{ "server", required_argument, NULL, 'S' },
		{ "rx-ring", required_argument, NULL, 'R' },
		{ "qdisc-bypass", no_argument, NULL, 'Q' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dump-frames", required_argument, NULL, 'D' },
		{ "exec", required_argument, NULL, 'X' },
		{ "port", required_argument, NULL, 'K' },
		{ "target", required_argument, NULL, 'T' },
		{ "netns", required_argument, NULL, 'N' },
		{ "ready-timeout", required_argument, NULL, 'W' },
		{ "flow-timeout", required_argument, NULL, 'O' },
		{ "no-preload", no_argument, NULL, 'Z' },
		{ "profile", required_argument, NULL, 'P' },
		{ "events", required_argument, NULL, 'E' },
		{ "folded", required_argument, NULL, 'F' },
		{ "freq", required_argument, NULL, 'H' },
		{ "summary-json", required_argument, NULL, 'J' },
		{ "report", required_argument, NULL, 'j' },	/* older name of --json */
		{ "test-extra-alloc", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .via = ENGINE_MMAP, .server = HAVE_CORE_SERVER ? "http" : "sink",
			  .profile = PROFILE_COUNTS };
	struct engine_cfg cfg;
	struct engine_result r;
	struct replay_summary s;
	struct load_info li;
	struct load_cfg lc = { 0 };
	struct server_choice srv;
	struct target *tgt = NULL;
	struct iface_run ifr;
	struct target_report tr;
	struct sockaddr_storage tsa;
	socklen_t tsa_len = 0;
	struct plan *plan = NULL;
	struct dump dp = { NULL, NULL };
	struct sigaction sa;
	struct report_env env;
	char err[512] = "", cap_sha[65] = "";
	int cap_sha_rc;
	const char *why;
	uint64_t v;
	int c, rc = EXIT_OK, erc, wfail = 0, json_fd = -1;

	memset(&cfg, 0, sizeof(cfg));
	memset(&r, 0, sizeof(r));
	memset(&srv, 0, sizeof(srv));
	memset(&tr, 0, sizeof(tr));
	memset(&ifr, 0, sizeof(ifr));
	optind = 1;
	while ((c = getopt_long(argc, argv, "hq", lopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return cmd_finish_stdout("replay", EXIT_OK);
		case 'v':
			o.via_set = true;
			if (!strcmp(optarg, "mmap"))
				o.via = ENGINE_MMAP;
			else if (!strcmp(optarg, "raw"))
				o.via = ENGINE_RAW;
			else if (!strcmp(optarg, "socket"))
				o.via = ENGINE_SOCKET;
			else
				return cmd_error("replay", "--via '%s': want mmap, raw or socket", optarg);
			break;
		case 's':
			if (parse_speed(optarg, &cfg.peer) < 0)
				return cmd_error("replay", "--speed '%s': want max, 1x or a factor like 2x", optarg);
			o.speed = optarg;
			break;
		case 'p': {
			char *end;

			o.pps = strtod(optarg, &end);
			if (end == optarg || *end || !(o.pps > 0))
				return cmd_error("replay", "--pps '%s': want a positive rate", optarg);
			break;
		}
		case 'l':
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > 1000000)
				return cmd_error("replay", "--loop '%s': want 1..1000000", optarg);
			o.loops = (uint32_t)v;
			break;
		case 'L':
			if (parse_u64(optarg, &v) < 0 || v < 1)
				return cmd_error("replay", "--limit-flows '%s': want a positive count", optarg);
			o.limit = v;
			break;
		case 'c':
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > 65536)
				return cmd_error("replay", "--concurrency '%s': want 1..65536", optarg);
			o.concurrency = (uint32_t)v;
			break;
		case 'r':
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > 65000)
				return cmd_error("replay", "--resegment '%s': want 1..65000 bytes", optarg);
			o.resegment = (uint32_t)v;
			break;
		case 'f':
			o.filter = optarg;
			break;
		case 'j':
			o.json = optarg;
			break;
		case 'i':
			o.iface = optarg;
			break;
		case 'I':
			o.server_ip = optarg;
			break;
		case 'C':
			o.client_net = optarg;
			break;
		case 'o':
			o.io = optarg;
			break;
		case 'd':
			o.deser = optarg;
			break;
		case 'S':
			if (strcmp(optarg, "sink") && strcmp(optarg, "echo") && strcmp(optarg, "http"))
				return cmd_error("replay", "--server '%s': want http, echo or sink", optarg);
			if (!HAVE_CORE_SERVER && !strcmp(optarg, "http"))
				return cmd_error("replay", "--server http: the core server is not built yet");
			o.server = optarg;
			break;
		case 'R':
			if (!strcmp(optarg, "v2") || !strcmp(optarg, "2"))
				o.rx = 2;
			else if (!strcmp(optarg, "v3") || !strcmp(optarg, "3"))
				o.rx = 3;
			else
				return cmd_error("replay", "--rx-ring '%s': want v2 or v3", optarg);
			break;
		case 'Q':
			o.qdisc_bypass = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'D':
			o.dump = optarg;
			break;
		case 'X':
			o.exec = optarg;
			break;
		case 'K':
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > 65535)
				return cmd_error("replay", "--port '%s': want 1..65535", optarg);
			o.port = (uint32_t)v;
			break;
		case 'T':
			o.target = optarg;
			break;
		case 'N':
			o.netns = optarg;
			break;
		case 'W':
			if (parse_secs(optarg, &o.ready_ms) < 0)
				return cmd_error("replay", "--ready-timeout '%s': want seconds, 0..3600", optarg);
			break;
		case 'O':
			if (parse_secs(optarg, &o.flow_timeout_ms) < 0)
				return cmd_error("replay", "--flow-timeout '%s': want seconds, 0..3600", optarg);
			break;
		case 'Z':
			o.no_preload = true;
			break;
		case 'P':
			if (profile_mode_parse(optarg, &o.profile) < 0)
				return cmd_error("replay", "--profile '%s': want off, counts or full", optarg);
			break;
		case 'E':
			o.events = optarg;
			break;
		case 'F':
			o.folded = optarg;
			break;
		case 'H': {
			/* the kernel refuses a frequency above this sysctl */
			uint64_t max = 100000;
			char mb[32];
			FILE *mf = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "r");

			if (mf) {
				if (fgets(mb, sizeof(mb), mf)) {
					mb[strcspn(mb, "\n")] = '\0';
					if (parse_u64(mb, &v) == 0 && v > 0)
						max = v < INT_MAX ? v : INT_MAX;
				}
				fclose(mf);
			}
			if (parse_u64(optarg, &v) < 0 || v < 1)
				return cmd_error("replay", "--freq '%s': want samples per second, 1..%" PRIu64,
						 optarg, max);
			if (v > max)
				return cmd_error("replay", "--freq %" PRIu64 ": above kernel.perf_event_max_sample_rate "
						 "(%" PRIu64 "): lower it, or raise the sysctl", v, max);
			o.freq = (int)v;
			break;
		}
		case 'J':
			o.report = optarg;
			break;
		case 'x':
			o.extra_alloc = true;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return cmd_error("replay", "no capture given");
	}
	if ((erc = iface_options(&o)) != EXIT_OK)
		return erc;
	if (o.folded && o.profile != PROFILE_FULL)
		return cmd_error("replay", "--folded needs --profile full (stacks come from sampling)");
	if (o.freq && o.profile != PROFILE_FULL)
		return cmd_error("replay", "--freq needs --profile full (only full mode samples)");
	if (o.events || o.profile != PROFILE_OFF) {
		/* Counters for the server's stages: the user's list, or the
		 * default where a PMU exists (reading a group at every stage
		 * boundary is not free, and without a PMU it counts nothing). */
		char ewhy[512];
		struct perf_event_attr cyc;
		int k;

		srv.nattrs = 0;
		if (o.events || (pfm_encode("cycles", &cyc, NULL, 0, ewhy, sizeof(ewhy)) == 0 &&
				 pfm_probe(&cyc) == 0)) {
			srv.nattrs = pfm_encode_list(o.events, srv.attrs, srv.names, PFM_MAX_EVENTS,
						     ewhy, sizeof(ewhy));
			if (srv.nattrs < 0)
				return cmd_error("replay", "--events: %s", ewhy);
		}
		for (k = 0; k < srv.nattrs; k++)
			srv.name_ptr[k] = srv.names[k];
	}
	if (o.pps > 0 && o.speed && cfg.peer.timing == PEER_SCALED)
		return cmd_error("replay", "--pps and --speed Nx both set the pace: choose one");
	if ((erc = target_options(&o, &tsa, &tsa_len)) != EXIT_OK)
		return erc;

	if (o.netns && (erc = target_enter_netns(o.netns)) < 0)
		return cmd_error("replay", "--netns '%s': %s", o.netns, target_strerror(erc));
	why = o.iface ? engine_iface_unavailable() : engine_packet_path_unavailable();
	if (why && o.iface)
		return cmd_error("replay", "--iface %s: %s", o.iface, why);
	if (why && o.via != ENGINE_SOCKET) {
		if (o.via_set)
			return cmd_error("replay", "--via %s: %s; run as root (sudo pktmem replay ...) "
					 "or use --via socket", engine_via_name(o.via), why);
		fprintf(stderr, "pktmem: replay: using --via socket: %s; run as root for the full "
			"veth path (sudo pktmem replay ...)\n", why);
		o.via = ENGINE_SOCKET;
	}

	plan = plan_new();
	if (!plan)
		return cmd_error("replay", "out of memory");
	lc.filter = o.filter;
	lc.limit_flows = o.limit;
	erc = load_captures(plan, (const char *const *)argv + optind, (size_t)(argc - optind), &lc,
			    &li, err, sizeof(err));
	if (erc < 0) {
		rc = cmd_error("replay", "%s", err);
		goto out;
	}

	cfg.via = o.via;
	cfg.rx_version = o.rx;
	cfg.qdisc_bypass = o.qdisc_bypass;
	cfg.peer.loops = o.loops;
	cfg.peer.concurrency = o.concurrency;
	cfg.peer.resegment = o.resegment;
	cfg.peer.stall_ms = o.flow_timeout_ms;
	if (o.pps > 0) {
		cfg.peer.timing = PEER_PPS;
		cfg.peer.pps = o.pps;
	}
	if (!o.quiet && isatty(STDERR_FILENO))
		cfg.peer.progress = progress;
	srv.sink.echo = !strcmp(o.server, "echo");
	cfg.server.run = run_sink;
	cfg.server.arg = &srv;
	cfg.server.drop_privs = true;	/* sink and core server: see privs.h */
	/* and the syscall filter: they write no file once set up */
	cfg.server.sandbox = true;
	cfg.server.sandbox_flags = SANDBOX_NO_FS_WRITE;
#if HAVE_CORE_SERVER
	if (strcmp(o.server, "sink")) {
		server_config_default(&srv.sc);
		srv.sc.kind = srv.sink.echo ? SERVER_ECHO : SERVER_HTTP;
		srv.sc.deser = DESER_TREE;
		srv.sc.io = SERVER_IO_EPOLL;
		if (o.io && server_io_parse(o.io, &srv.sc.io) < 0) {
			rc = cmd_error("replay", "--io '%s': want blocking, epoll or uring", o.io);
			goto out;
		}
		if (srv.sc.io == SERVER_IO_URING)
			cfg.server.sandbox_flags |= SANDBOX_URING;
		if (o.deser && deser_mode_parse(o.deser, &srv.sc.deser) < 0) {
			rc = cmd_error("replay", "--deser '%s': want tree, arena or none", o.deser);
			goto out;
		}
		/* every flow in flight is a live connection */
		if (srv.sc.max_conns < 2 * (o.concurrency ? o.concurrency : 64))
			srv.sc.max_conns = 2 * (o.concurrency ? o.concurrency : 64);
		srv.sc.test_extra_alloc = o.extra_alloc;
		cfg.server.run = run_core;
		cfg.server.counts_requests = !srv.sink.echo;
		if (srv.nattrs > 0) {
			srv.sc.counters = srv.attrs;
			srv.sc.counter_names = srv.name_ptr;
			srv.sc.ncounters = (unsigned)srv.nattrs;
		}
	}
	if (o.extra_alloc && (!strcmp(o.server, "sink") || srv.sink.echo || o.exec || o.target)) {
		rc = cmd_error("replay", "--test-extra-alloc needs pktmem's own --server http "
			       "(it allocates in the deserializer)");
		goto out;
	}
#else
	if (o.io || o.deser)
		cmd_warn("replay", "--io/--deser: the core server is not built yet; replaying into the sink");
#endif

	if (o.iface && (rc = iface_setup(&o, plan, &ifr, &cfg)) != EXIT_OK)
		goto out;
	if ((o.exec || o.target) &&
	    (rc = target_setup(&o, &tgt, &cfg, (struct sockaddr *)&tsa, tsa_len, &srv.prof)) != EXIT_OK)
		goto out;

	if (o.dump) {
		dp.p = pcap_open_dead(DLT_EN10MB, 65535);
		dp.d = dp.p ? pcap_dump_open(dp.p, o.dump) : NULL;
		if (!dp.d) {
			rc = cmd_error("replay", "--dump-frames '%s': %s", o.dump,
				       dp.p ? pcap_geterr(dp.p) : "out of memory");
			goto out;
		}
		cfg.peer.tap = dump_frame;
		cfg.peer.tap_arg = &dp;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (o.iface && o.profile != PROFILE_OFF) {
		/* no server here: this host's kernel stages, in the
		 * replayer's context (profile_report marks the rest) */
		struct profiler_cfg pc = { .mode = o.profile, .folded = o.folded != NULL,
					   .sample_hz = o.freq };

		snprintf(pc.dev, sizeof(pc.dev), "%s", o.iface);
		pc.veth = !strcmp(ifr.link.kind, "veth");
		pc.sender_pid[0] = getpid();
		pc.nsender = 1;
		snprintf(pc.events, sizeof(pc.events), "%s", o.events ? o.events : "");
		if (profiler_start(&srv.host, &pc) < 0)
			cmd_warn("replay", "profiler: cannot start: stages not measured");
	}
	if (!o.iface) {
		/* --iface: no server here to attach to (see above) */
		struct profiler_cfg pc = { .mode = o.profile, .folded = o.folded != NULL,
					   .sample_hz = o.freq };

		snprintf(pc.dev, sizeof(pc.dev), "%s", o.via == ENGINE_SOCKET ? "lo" : NETNS_SERVER_DEV);
		pc.veth = o.via != ENGINE_SOCKET;
		pc.loopback = o.via == ENGINE_SOCKET;
		snprintf(pc.events, sizeof(pc.events), "%s", o.events ? o.events : "");
		if (prof_attach_new(&srv.prof, &pc) < 0)
			cmd_warn("replay", "profiler: cannot start: stages not measured");
		cfg.server.forked = start_profiler;
		cfg.server.forked_arg = &srv.prof;
	}
	/* What the report records about this machine and the capture, taken
	 * now: the engine gives up capabilities after its setup (the
	 * privileges line would then describe the drop, and a capture only
	 * root could read through CAP_DAC_READ_SEARCH could not be hashed). */
	report_env_probe(&env);
	cap_sha_rc = capture_hash((const char *const *)argv + optind, (size_t)(argc - optind),
				  cap_sha);
	if (cap_sha_rc < 0)
		cap_sha[0] = '\0';
	cfg.drop_caps = !(o.exec || o.target);
	cfg.keep_caps = keep_caps(&o);
	erc = engine_run(plan, &cfg, &r, &stop_flag, err, sizeof(err));
	if (cfg.peer.progress)
		fprintf(stderr, "\r\033[K");
	if (erc < 0 && erc != ENGINE_E_EMPTY && !r.peer_err) {
		/* the user's command: say what it did, not "the server" */
		if (tgt && *target_error(tgt))
			rc = cmd_error("replay", "%s", target_error(tgt));
		else
			rc = cmd_error("replay", "%s", err);
		goto out;
	}
	if (tgt) {
		target_report(tgt, r.requests, &tr);
		r.server_responses_2xx = tr.status[2];
		r.server_responses_4xx = tr.status[4];
		r.server_responses_5xx = tr.status[5];
	}
	if (erc == ENGINE_E_EMPTY) {
		rc = cmd_error("replay", "%s: %" PRIu64 " flows, none with client payload", err, li.flows);
		goto out;
	}
	to_summary(&r, &s);
	if (tgt && tr.exited_early) {
		/* a server that died under the replay failed it, whatever its
		 * kernel ACKed before */
		s.verified = false;
		snprintf(s.verify_msg, sizeof(s.verify_msg), "%s", target_error(tgt));
	} else if ((tgt || o.iface) && s.verified) {
		snprintf(s.verify_msg, sizeof(s.verify_msg), "the server's kernel ACKed every client byte "
			 "of every flow%s", r.copy_checked && r.copy_bytes == r.copy_acked
			 ? " and its threads read them all (kernel copy counters)" : "");
	}
	/* --json -: standard output is the report's, the text goes to stderr */
	if (o.json && !strcmp(o.json, "-")) {
		fflush(stdout);
		json_fd = dup(STDOUT_FILENO);
		if (json_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			rc = cmd_error("replay", "--json -: dup: %s", strerror(errno));
			goto out;
		}
	}
	{
		char *text = NULL;
		size_t tlen = 0;
		FILE *m = open_memstream(&text, &tlen);

		print_summary(m ? m : stdout, &o, plan, &li, &r, &s, o.iface ? &ifr : NULL);
		if (o.exec || o.target)
			print_target(m ? m : stdout, &o, &tr, r.requests);
		if (m) {
			fclose(m);
			print_wrapped(text);
			free(text);
		}
	}
	wfail = profile_report(&o, &srv, plan, &li, &r, &s, srv.prof, tgt ? &tr : NULL,
			       (const char *const *)argv + optind, (size_t)(argc - optind), json_fd,
			       o.iface ? &ifr : NULL, &env, cap_sha, cap_sha_rc);
	if (r.peer_err)
		cmd_error("replay", "%s", err);
	{
		uint64_t i;

		for (i = 0; i < r.nfailures && i < 64; i++)
			cmd_error("replay", "verify: %s", r.failures[i].msg);
		if (r.copy_failed)
			cmd_error("replay", "verify: %s", r.copy_msg);
		if (r.nfailures > 64)
			cmd_error("replay", "verify: ... and %" PRIu64 " more flows", r.nfailures - 64);
	}
	rc = s.verified && !r.peer_err ? EXIT_OK : EXIT_VERDICT;
	if (o.report && (erc = write_json(o.report, &s, &r, &li, &o,
					  o.exec || o.target ? &tr : NULL, o.iface ? &ifr : NULL)) < 0)
		rc = cmd_error("replay", "writing '%s': %s", o.report, strerror(-erc));
	if (wfail)
		rc = EXIT_USAGE;
out:
	if (json_fd >= 0)
		close(json_fd);
	prof_attach_free(srv.prof);
	profiler_free(srv.host);
	if (dp.d)
		pcap_dump_close(dp.d);
	if (dp.p)
		pcap_close(dp.p);
	engine_result_release(&r);
	iface_clients_free(ifr.clients);
	target_free(tgt);
	plan_free(plan);
	return cmd_finish_stdout("replay", rc);
}
