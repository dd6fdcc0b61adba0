/* run.c: one replay run: options, privileges, the server, the engine
 * (run.h). */
#include "run/run-int.h"

#include "core/deser.h"
#include "core/sandbox.h"
#include "lib/err.h"
#include "profile/env.h"
#include "replay/netns.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <time.h>
#include <unistd.h>

void run_warn(const struct run *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!r->cfg.warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->cfg.warn(r->cfg.warn_arg, msg);
}

/* --- the options' combinations --- */

static int iface_options(const struct run_cfg *o, char *err, size_t errlen)
{
	if (!o->iface && !o->server_ip) {
		if (o->client_net)
			return pm_errf(err, errlen, -EINVAL,
				       "--client-net goes with --iface and --server-ip");
		return 0;
	}
	if (!o->iface || !o->server_ip)
		return pm_errf(err, errlen, -EINVAL,
			       "--iface and --server-ip go together: the interface to "
			       "transmit on and the server's address");
	if (o->exec || o->target || o->netns || o->ready_ms || o->no_preload)
		return pm_errf(err, errlen, -EINVAL,
			       "--iface replays to a server on another host: not with "
			       "--exec, --target, --netns, --ready-timeout or --no-preload");
	if (o->io || o->deser || strcmp(o->server, "http"))
		return pm_errf(err, errlen, -EINVAL,
			       "--server/--io/--deser choose pktmem's own server: with "
			       "--iface the server is the one at --server-ip");
	if (o->via_set && o->via == ENGINE_SOCKET)
		return pm_errf(err, errlen, -EINVAL,
			       "--via socket with --iface: the socket path lets this host's "
			       "kernel make the connections, so nothing is replayed as captured on the "
			       "interface; use --via mmap or raw (or --target HOST:PORT for plain sockets)");
	if (o->test_extra_alloc)
		return pm_errf(err, errlen, -EINVAL,
			       "--test-extra-alloc needs pktmem's own server, not --iface");
	return 0;
}

/* --exec/--target; --target fixes the path (sockets) and the port. */
static int target_options(struct run *r, char *err, size_t errlen)
{
	struct run_cfg *o = &r->cfg;
	char host[INET6_ADDRSTRLEN];
	uint16_t port;
	int e;

	if (!o->exec && !o->target) {
		if ((o->port && !o->iface) || o->netns || o->ready_ms || o->no_preload)
			return pm_errf(err, errlen, -EINVAL,
				       "--port/--netns/--ready-timeout/--no-preload go with "
				       "--exec or --target%s", o->port ? " (or --iface)" : "");
		return 0;
	}
	if (o->exec && o->target)
		return pm_errf(err, errlen, -EINVAL, "--exec and --target: choose one");
	if (o->io || o->deser || strcmp(o->server, "http"))
		return pm_errf(err, errlen, -EINVAL,
			       "--server/--io/--deser choose the built-in server: not with "
			       "--exec or --target");
	if (o->exec) {
		if (!*o->exec)
			return pm_errf(err, errlen, -EINVAL, "--exec: empty command");
		if (!o->port)
			return pm_errf(err, errlen, -EINVAL,
				       "--exec needs --port N: the port the command listens on");
		if (o->netns)
			return pm_errf(err, errlen, -EINVAL,
				       "--netns goes with --target (--exec runs the command in "
				       "pktmem's own server namespace)");
		return 0;
	}
	if (o->port)
		return pm_errf(err, errlen, -EINVAL,
			       "--target HOST:PORT carries the port: no --port");
	if ((e = target_parse_hostport(o->target, &r->tsa, &r->tsa_len, host, sizeof(host), &port)) < 0)
		return pm_errf(err, errlen, -EINVAL,
			       "--target '%s': %s", o->target, target_strerror(e));
	if (o->via_set && o->via != ENGINE_SOCKET)
		return pm_errf(err, errlen, -EINVAL,
			       "--target replays over TCP sockets (--via socket): the server "
			       "is in a namespace pktmem did not make, so no veth reaches it");
	o->via = ENGINE_SOCKET;
	o->via_set = true;
	o->port = port;
	return 0;
}

/* Whether this machine has a PMU the default counters would count on
 * (opening "cycles" is the test).  The one probe the replay's defaults
 * depend on: reading a group at every stage boundary is not free, and
 * without a PMU it counts nothing. */
static bool pmu_usable(void)
{
	return pfm_pmu_probe() == 0;
}

/* The core server's counters (--events, or the default where a PMU
 * exists). */
static int server_counters(struct run *r, char *err, size_t errlen)
{
	char why[512];
	int k;

	r->nattrs = 0;
	if (!r->cfg.events && r->cfg.profile == PROFILE_OFF)
		return 0;
	if (r->cfg.events || pmu_usable()) {
		r->nattrs = pfm_encode_list(r->cfg.events, r->attrs, r->names, PFM_MAX_EVENTS, why,
					    sizeof(why));
		if (r->nattrs < 0)
			return pm_errf(err, errlen, -EINVAL, "--events: %s", why);
	}
	for (k = 0; k < r->nattrs; k++)
		r->name_ptr[k] = r->names[k];
	return 0;
}

/* The packet path needs CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN:
 * without them and without an explicit --via the run takes the socket
 * path (said by run_fallback()). */
static int privilege_policy(struct run *r, char *err, size_t errlen)
{
	struct run_cfg *o = &r->cfg;
	const char *why = o->iface ? engine_iface_unavailable() : engine_packet_path_unavailable();

	if (why && o->iface)
		return pm_errf(err, errlen, -EINVAL, "--iface %s: %s", o->iface, why);
	if (why && o->via != ENGINE_SOCKET) {
		if (o->via_set)
			return pm_errf(err, errlen, -EINVAL,
				       "--via %s: %s; run as root (sudo pktmem replay ...) "
				       "or use --via socket", engine_via_name(o->via), why);
		r->fallback = why;
		o->via = ENGINE_SOCKET;
	}
	return 0;
}

/* pktmem's own server: the core server (http, echo) or the sink. */
static int server_choice(struct run *r, char *err, size_t errlen)
{
	const struct run_cfg *o = &r->cfg;
	struct engine_server *es = &r->ecfg.server;

	r->sink.echo = !strcmp(o->server, "echo");
	es->arg = r;
	es->drop_privs = true;	/* sink and core server: see core/privs.h */
	/* and the syscall filter: they write no file once set up */
	es->sandbox = true;
	es->sandbox_flags = SANDBOX_NO_FS_WRITE;
	if (!strcmp(o->server, "sink"))
		goto check;
	r->core = true;
	server_config_default(&r->sc);
	r->sc.kind = r->sink.echo ? SERVER_ECHO : SERVER_HTTP;
	r->sc.deser = DESER_TREE;
	r->sc.io = SERVER_IO_EPOLL;
	if (o->io && server_io_parse(o->io, &r->sc.io) < 0)
		return pm_errf(err, errlen, -EINVAL,
			       "--io '%s': want blocking, epoll or uring", o->io);
	if (r->sc.io == SERVER_IO_URING)
		es->sandbox_flags |= SANDBOX_URING;
	if (o->deser && deser_mode_parse(o->deser, &r->sc.deser) < 0)
		return pm_errf(err, errlen, -EINVAL,
			       "--deser '%s': want tree, arena or none", o->deser);
	/* every flow in flight is a live connection */
	if (r->sc.max_conns < 2 * (o->concurrency ? o->concurrency : 64))
		r->sc.max_conns = 2 * (o->concurrency ? o->concurrency : 64);
	r->sc.test_extra_alloc = o->test_extra_alloc;
	es->counts_requests = !r->sink.echo;
	if (r->nattrs > 0) {
		r->sc.counters = r->attrs;
		r->sc.counter_names = r->name_ptr;
		r->sc.ncounters = (unsigned)r->nattrs;
	}
check:
	if (o->test_extra_alloc && (!r->core || r->sink.echo || o->exec || o->target))
		return pm_errf(err, errlen, -EINVAL,
			       "--test-extra-alloc needs pktmem's own --server http "
			       "(it allocates in the deserializer)");
	return 0;
}

int run_new(struct run **out, const struct run_cfg *cfg, char *err, size_t errlen)
{
	struct run *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return pm_errf(err, errlen, -EINVAL, "out of memory");
	r->cfg = *cfg;
	if (!r->cfg.server)
		r->cfg.server = "http";
	if ((rc = iface_options(&r->cfg, err, errlen)) < 0)
		goto fail;
	if (r->cfg.folded && r->cfg.profile != PROFILE_FULL) {
		rc = pm_errf(err, errlen, -EINVAL,
			     "--folded needs --profile full (stacks come from sampling)");
		goto fail;
	}
	if (r->cfg.freq && r->cfg.profile != PROFILE_FULL) {
		rc = pm_errf(err, errlen, -EINVAL,
			     "--freq needs --profile full (only full mode samples)");
		goto fail;
	}
	if ((rc = server_counters(r, err, errlen)) < 0)
		goto fail;
	if (r->cfg.pps > 0 && r->cfg.speed && r->cfg.timing == PEER_SCALED) {
		rc = pm_errf(err, errlen, -EINVAL,
			     "--pps and --speed Nx both set the pace: choose one");
		goto fail;
	}
	if ((rc = target_options(r, err, errlen)) < 0)
		goto fail;
	if (r->cfg.netns && (rc = target_enter_netns(r->cfg.netns)) < 0) {
		pm_errf(err, errlen, -EINVAL,
			"--netns '%s': %s", r->cfg.netns, target_strerror(rc));
		goto fail;
	}
	if ((rc = privilege_policy(r, err, errlen)) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	free(r);
	return rc;
}

const char *run_fallback(const struct run *r)
{
	return r->fallback;
}

int run_load(struct run *r, const char *const *captures, size_t n, char *err, size_t errlen)
{
	struct load_cfg lc = { .filter = r->cfg.filter, .limit_flows = r->cfg.limit_flows };
	int rc;

	r->captures = captures;
	r->ncaptures = n;
	r->plan = plan_new();
	if (!r->plan)
		return pm_errf(err, errlen, -EINVAL, "out of memory");
	if ((rc = load_captures(r->plan, captures, n, &lc, &r->load, err, errlen)) < 0)
		return rc;
	return server_choice(r, err, errlen);
}

/* --- the hooks around the server child (replay/engine.h) --- */

static int own_server_run(void *arg, struct stats_block *st, const char *listen,
		      volatile sig_atomic_t *stop)
{
	struct run *r = arg;

	if (r->core) {
		r->sc.listen = listen;
		return server_run(&r->sc, st, stop);
	}
	r->sink.listen = listen;
	return sink_run(&r->sink, st, stop);
}

/* In the server child: the profiler opens its events on this pid before
 * the first byte arrives. */
static void hook_child_ready(void *arg)
{
	struct run *r = arg;

	prof_attach_child_ready(r->prof);
}

static void hook_child_done(void *arg, struct stats_block *st)
{
	struct run *r = arg;

	prof_attach_child_done(r->prof, st);
}

/* The profiler's thread starts once the server children exist
 * (prof_attach_start() says why), and waits for all of them (an IPv4 and
 * an IPv6 one when the capture holds both). */
static void hook_forked(void *arg, int nchildren)
{
	struct run *r = arg;

	if (r->prof && prof_attach_start(r->prof, nchildren) < 0) {
		run_warn(r, "profiler: cannot start its thread: stages not measured");
		prof_attach_free(r->prof);
		r->prof = NULL;
	}
}

/* A foreign server: the profiler's count of bytes copied to its threads,
 * for the engine's delivery check. */
static int hook_copied(void *arg, uint64_t *bytes)
{
	struct run *r = arg;

	return prof_attach_copied(r->prof, bytes);
}

/* The servers have exited: the profiler reads their blocks. */
static void hook_finish(void *arg, const struct stats_block *const blocks[2])
{
	struct run *r = arg;

	prof_attach_stats(r->prof, blocks);
}

/* --exec/--target: the profiler watches the user's command (and what it
 * forked), not the engine's child that started it. */
static int target_listening(void *arg, const pid_t *pids, int n, const char *why)
{
	struct run *r = arg;

	if (n <= 0)
		return prof_attach_child_ready_none(r->prof, why);
	return prof_attach_child_ready_pids(r->prof, pids, n);
}

static int target_setup(struct run *r, char *err, size_t errlen)
{
	const struct run_cfg *o = &r->cfg;
	struct engine_cfg *cfg = &r->ecfg;
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
	tc.hook_arg = r;
	if ((e = target_new(&r->tgt, &tc)) < 0)
		return pm_errf(err, errlen, -EINVAL, "%s", target_strerror(e));
	cfg->server.run = target_run;
	cfg->server.arg = r->tgt;
	cfg->server.counts_requests = false;
	cfg->server.foreign = true;
	cfg->hooks.child_ready = NULL;
	cfg->hooks.child_done = NULL;
	/* the user's server may need its own privileges (nginx binds, setuid) */
	cfg->server.drop_privs = false;
	/* the engine waits a little longer than the target's own deadline,
	 * so the target's message (what the command did) is the one shown */
	cfg->server.ready_wait_ms = tc.ready_ms + 3000;
	if (o->target) {
		cfg->server.connect_to = (const struct sockaddr *)&r->tsa;
		cfg->server.connect_len = r->tsa_len;
	}
	return 0;
}

/* --- --dump-frames: the frames as they went into the ring --- */

static void dump_frame(void *arg, const uint8_t *frame, uint32_t len)
{
	struct run *r = arg;
	struct pcap_pkthdr h;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	h.ts.tv_sec = ts.tv_sec;
	h.ts.tv_usec = ts.tv_nsec / 1000;
	h.caplen = h.len = len;
	pcap_dump((u_char *)r->dump_d, &h, frame);
}

static int dump_open(struct run *r, char *err, size_t errlen)
{
	r->dump_p = pcap_open_dead(DLT_EN10MB, 65535);
	r->dump_d = r->dump_p ? pcap_dump_open(r->dump_p, r->cfg.dump_frames) : NULL;
	if (!r->dump_d)
		return pm_errf(err, errlen, -EINVAL,
			       "--dump-frames '%s': %s", r->cfg.dump_frames,
			       r->dump_p ? pcap_geterr(r->dump_p) : "out of memory");
	r->ecfg.peer.tap = dump_frame;
	r->ecfg.peer.tap_arg = r;
	return 0;
}

/* --- measurement --- */

static void profiler_setup(struct run *r)
{
	const struct run_cfg *o = &r->cfg;
	struct profiler_cfg pc = { .mode = o->profile, .folded = o->folded, .sample_hz = o->freq };

	snprintf(pc.events, sizeof(pc.events), "%s", o->events ? o->events : "");
	if (o->iface) {
		/* no server here: this host's kernel stages, in the
		 * replayer's context (run_report() marks the rest) */
		if (o->profile == PROFILE_OFF)
			return;
		snprintf(pc.dev, sizeof(pc.dev), "%s", o->iface);
		pc.veth = !strcmp(r->ifp.link.kind, "veth");
		pc.sender_pid[0] = getpid();
		pc.nsender = 1;
		if (profiler_start(&r->host, &pc) < 0)
			run_warn(r, "profiler: cannot start: stages not measured");
		return;
	}
	snprintf(pc.dev, sizeof(pc.dev), "%s", o->via == ENGINE_SOCKET ? "lo" : NETNS_SERVER_DEV);
	pc.veth = o->via != ENGINE_SOCKET;
	pc.loopback = o->via == ENGINE_SOCKET;
	if (prof_attach_new(&r->prof, &pc) < 0)
		run_warn(r, "profiler: cannot start: stages not measured");
	r->ecfg.hooks.forked = hook_forked;
	r->ecfg.hooks.copied = hook_copied;
	r->ecfg.hooks.finish = hook_finish;
}

/* What the replayer keeps after its setup besides what the engine adds
 * (engine_cfg.keep_caps; measured figures in docs/hardening.md). */
static unsigned long long keep_caps(const struct run_cfg *o)
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
	if (o->writes_files)
		keep |= 1ull << CAP_DAC_OVERRIDE;
	return keep;
}

/* --- the replay --- */

static void engine_setup(struct run *r)
{
	const struct run_cfg *o = &r->cfg;
	struct engine_cfg *c = &r->ecfg;

	c->via = o->via;
	c->rx_version = o->rx_version;
	c->qdisc_bypass = o->qdisc_bypass;
	c->peer.timing = o->timing;
	c->peer.speed = o->speed_factor;
	c->peer.loops = o->loops;
	c->peer.concurrency = o->concurrency;
	c->peer.resegment = o->resegment;
	c->peer.stall_ms = o->flow_timeout_ms;
	if (o->pps > 0) {
		c->peer.timing = PEER_PPS;
		c->peer.pps = o->pps;
	}
	c->peer.progress = o->progress;
	c->peer.progress_arg = o->progress_arg;
	c->server.run = own_server_run;
	c->hooks.child_ready = hook_child_ready;
	c->hooks.child_done = hook_child_done;
	c->hooks.arg = r;
}

/* The verdict's message for a server pktmem did not start. */
static void foreign_verdict(struct run *r)
{
	struct replay_summary *s = &r->sum;
	const struct engine_result *e = &r->res;

	if (r->tgt && r->tr.exited_early) {
		/* a server that died under the replay failed it, whatever its
		 * kernel ACKed before */
		s->verified = false;
		snprintf(s->verify_msg, sizeof(s->verify_msg), "%s", target_error(r->tgt));
	} else if ((r->tgt || r->cfg.iface) && s->verified) {
		snprintf(s->verify_msg, sizeof(s->verify_msg), "the server's kernel ACKed every client byte "
			 "of every flow%s", e->copy_checked && e->copy_bytes == e->copy_acked
			 ? " and its threads read them all (kernel copy counters)" : "");
	}
}

int run_replay(struct run *r, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	const struct run_cfg *o = &r->cfg;
	struct iface_opts io = { .iface = o->iface, .server_ip = o->server_ip,
				 .client_net = o->client_net, .port = (uint16_t)o->port };
	int rc;

	engine_setup(r);
	if (o->iface) {
		if ((rc = iface_remote_plan(&io, r->plan, &r->ifp, &r->rm, err, errlen)) < 0)
			return rc;
		r->ecfg.remote = &r->rm;
		r->ecfg.server.foreign = true;
		r->ecfg.server.counts_requests = false;
	}
	if ((o->exec || o->target) && (rc = target_setup(r, err, errlen)) < 0)
		return rc;
	if (o->dump_frames && (rc = dump_open(r, err, errlen)) < 0)
		return rc;
	profiler_setup(r);
	/* What the report records about this machine and the capture, taken
	 * now: the engine gives up capabilities after its setup (the
	 * privileges line would then describe the drop, and a capture only
	 * root could read through CAP_DAC_READ_SEARCH could not be hashed). */
	report_env_probe(&r->env);
	r->cap_sha_rc = run_capture_hash(r->captures, r->ncaptures, r->cap_sha);
	if (r->cap_sha_rc < 0)
		r->cap_sha[0] = '\0';
	r->ecfg.drop_caps = !(o->exec || o->target);
	r->ecfg.keep_caps = keep_caps(o);
	r->engine_ran = true;
	rc = engine_run(r->plan, &r->ecfg, &r->res, stop, err, errlen);
	if (rc < 0 && rc != ENGINE_E_EMPTY && !r->res.peer_err) {
		/* the user's command: say what it did, not "the server" */
		if (r->tgt && *target_error(r->tgt))
			snprintf(err, errlen, "%s", target_error(r->tgt));
		return rc;
	}
	if (r->tgt) {
		target_report(r->tgt, r->res.requests, &r->tr);
		r->res.server_responses_2xx = r->tr.status[2];
		r->res.server_responses_4xx = r->tr.status[4];
		r->res.server_responses_5xx = r->tr.status[5];
	}
	if (rc == ENGINE_E_EMPTY) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, ": %llu flows, none with client payload",
			 (unsigned long long)r->load.flows);
		return rc;
	}
	if (r->res.peer_err)
		snprintf(r->peer_err, sizeof(r->peer_err), "%s", err);
	run_summary_fill(&r->res, &r->sum);
	run_summary_extras(r, &r->sum);
	foreign_verdict(r);
	return 0;
}

const struct run_view *run_view(struct run *r)
{
	struct run_view *v = &r->view;

	v->plan = r->plan;
	v->load = &r->load;
	v->result = &r->res;
	v->summary = &r->sum;
	v->target = r->tgt ? &r->tr : NULL;
	v->iface = r->cfg.iface ? &r->ifp : NULL;
	v->peer_error = r->res.peer_err ? r->peer_err : NULL;
	v->engine_ran = r->engine_ran;
	return v;
}

void run_free(struct run *r)
{
	if (!r)
		return;
	prof_attach_free(r->prof);
	profiler_free(r->host);
	if (r->dump_d)
		pcap_dump_close(r->dump_d);
	if (r->dump_p)
		pcap_close(r->dump_p);
	engine_result_release(&r->res);
	iface_clients_free(r->ifp.clients);
	target_free(r->tgt);
	plan_free(r->plan);
	free(r);
}
