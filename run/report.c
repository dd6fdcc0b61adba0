/* run_report.c: a run's result as the report model (report/report.h):
 * the summary, the effective options, the capture and its hash, the
 * stage rows (run.h). */
#include "run/run-int.h"

#include "core/deser.h"
#include "lib/io.h"
#include "lib/sha256.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void run_summary_fill(const struct engine_result *r, struct replay_summary *s)
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
	s->cpu_replayer_ns = r->cpu_replayer_ns;
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

/*
 * cap.sha256: one capture: SHA-256 of its bytes as stored (a .gz is hashed
 * compressed).  Several: SHA-256 over the lines "<hex digest>  <base
 * name>\n" of each file in command-line order (sha256sum's format), so the
 * hash does not depend on the directory the captures were named from.
 * 0 or -errno.
 */
/* What a foreign server (--exec/--target) answered and allocated. */
static void target_fill(const struct run *r, struct replay_target *t)
{
	const struct run_cfg *o = &r->cfg;
	const struct target_report *tr = &r->tr;

	t->present = true;
	t->kind = o->exec ? REPLAY_TARGET_EXEC : REPLAY_TARGET_ADDRESS;
	if (o->exec)
		snprintf(t->command, sizeof(t->command), "%s", o->exec);
	else
		snprintf(t->address, sizeof(t->address), "%s", o->target);
	snprintf(t->netns, sizeof(t->netns), "%s", o->netns ? o->netns : "");
	t->port = (int)o->port;
	t->pid = tr->pid;
	t->exited_early = tr->exited_early;
	t->responses.available = !tr->capture_why;
	snprintf(t->responses.reason, sizeof(t->responses.reason), "%s",
		 tr->capture_why ? tr->capture_why : "");
	t->responses.total = tr->responses;
	t->responses.status_1xx = tr->status[1];
	t->responses.status_2xx = tr->status[2];
	t->responses.status_3xx = tr->status[3];
	t->responses.status_4xx = tr->status[4];
	t->responses.status_5xx = tr->status[5];
	t->responses.other = tr->status[0];
	t->responses.bytes = tr->response_bytes;
	t->responses.unframed = tr->parse_errors;
	t->responses.capture_drops = tr->capture_drops;
	t->alloc.available = tr->alloc_available;
	snprintf(t->alloc.reason, sizeof(t->alloc.reason), "%s", tr->alloc_why ? tr->alloc_why : "");
	t->alloc.processes = tr->alloc_inits;
	t->alloc.allocations = tr->allocs;
	t->alloc.malloc = tr->mallocs;
	t->alloc.calloc = tr->callocs;
	t->alloc.realloc = tr->reallocs;
	t->alloc.aligned = tr->memaligns;
	t->alloc.free = tr->frees;
	t->alloc.bytes = tr->alloc_bytes;
}

/* How --iface reached the server on another host. */
static void iface_fill(const struct run *r, struct replay_iface *f)
{
	const struct run_cfg *o = &r->cfg;

	f->present = true;
	snprintf(f->name, sizeof(f->name), "%s", r->ifp.link.name);
	snprintf(f->server_ip, sizeof(f->server_ip), "%s", o->server_ip ? o->server_ip : "");
	f->port = (int)o->port;
	snprintf(f->next_hop, sizeof(f->next_hop), "%s", r->ifp.nexthop);
	f->gateway = r->ifp.gateway;
	memcpy(f->next_hop_mac, r->rm.dst_mac, sizeof(f->next_hop_mac));
	f->resolved_by_pktmem = r->ifp.resolved;
	f->neighbour_answers = r->res.peer.answers;
	f->client_out_rsts = r->res.client_out_rsts;
}

/* The parts of the summary that only the run knows: the capture's packet
 * count and, for a server pktmem did not start, how it was reached. */
void run_summary_extras(const struct run *r, struct replay_summary *s)
{
	s->capture_packets = r->load.packets;
	if (r->tgt)
		target_fill(r, &s->target);
	if (r->cfg.iface)
		iface_fill(r, &s->iface);
}

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

int run_capture_hash(const char *const *paths, size_t n, char out[65])
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
static void effective_options(const struct run *r, struct report_options *ro)
{
	const struct run_cfg *o = &r->cfg;
	const char *io = "sink", *deser = "none";

	if (o->exec || o->target || o->iface) {
		/* not pktmem's server */
		io = o->exec ? "exec" : o->target ? "target" : "remote";
	} else if (r->core) {
		io = server_io_name(r->sc.io);
		deser = r->sc.kind == SERVER_HTTP ? deser_mode_name(r->sc.deser) : "none";
	}
	snprintf(ro->via, sizeof(ro->via), "%s", r->sum.via);
	snprintf(ro->io, sizeof(ro->io), "%s", io);
	snprintf(ro->deser, sizeof(ro->deser), "%s", deser);
	snprintf(ro->speed, sizeof(ro->speed), "%s", o->speed ? o->speed : "max");
	snprintf(ro->profile, sizeof(ro->profile), "%s", profile_mode_name(o->profile));
	snprintf(ro->events, sizeof(ro->events), "%s", o->events ? o->events : "");
	snprintf(ro->filter, sizeof(ro->filter), "%s", o->filter ? o->filter : "");
	ro->concurrency = (int)(o->concurrency ? o->concurrency : 64);	/* peer.h default */
}

static void capture_fill(const struct run *r, struct report_capture *cap)
{
	const struct plan *plan = r->plan;
	size_t i, n;

	snprintf(cap->path, sizeof(cap->path), "%s", r->captures[0]);
	n = strlen(cap->path);
	for (i = 1; i < r->ncaptures && n < sizeof(cap->path); i++)
		n += (size_t)snprintf(cap->path + n, sizeof(cap->path) - n, " %s", r->captures[i]);
	snprintf(cap->sha256, sizeof(cap->sha256), "%s", r->cap_sha);
	cap->packets = r->load.packets;
	cap->flows = r->load.flows;
	cap->requests = r->load.requests;
	cap->payload_bytes = plan->bytes;
	cap->span_ns = plan->last_ts_ns > plan->first_ts_ns ? plan->last_ts_ns - plan->first_ts_ns : 0;
}

/* The server's stages, from the profiler attached to it. */
static void stages_attached(struct run *r, struct trial *t, uint64_t expect_bytes)
{
	const struct target_report *tr = &r->tr;
	int rc;

	profiler_set_expected(prof_attach_profiler(r->prof), expect_bytes, r->res.peer.data_segments);
	if (r->tgt) {
		/* --exec/--target: the alloc row is the interposer's */
		struct profiler_foreign f = {
			.alloc_available = tr->alloc_available, .allocs = tr->allocs,
			.mallocs = tr->mallocs, .callocs = tr->callocs,
			.reallocs = tr->reallocs, .aligned = tr->memaligns, .frees = tr->frees,
			.alloc_bytes = tr->alloc_bytes, .processes = tr->alloc_inits,
			.requests = r->res.requests,
		};

		snprintf(f.alloc_why, sizeof(f.alloc_why), "%s", tr->alloc_why ? tr->alloc_why : "");
		profiler_set_foreign(prof_attach_profiler(r->prof), &f);
	}
	rc = prof_attach_finish(r->prof, t);
	if (rc < 0)
		run_warn(r, "profiler: the server never reported: stages not measured");
}

/* --iface: the server's stages happen on its host: unavailable; the
 * kernel stages are this host's (the server's ACKs and responses
 * arriving on IFACE), said so in a note. */
static void stages_iface(struct run *r, struct trial *t, uint64_t expect_bytes)
{
	int k;

	if (r->host) {
		profiler_stop(r->host);
		profiler_set_expected(r->host, expect_bytes, r->res.peer.data_segments);
		profiler_set_stats(r->host, NULL);
		profiler_fill(r->host, t);
	}
	for (k = 0; k < RS__N; k++) {
		struct stage_result *st = &t->stage[k];

		if (k > RS_SOFTIRQ)
			stage_set_unavailable(st, "the server runs on another host (--iface): "
					      "measure it there ('pktmem serve --json FILE')");
		else if (!r->host)
			stage_set_unavailable(st, "the server runs on another host (--iface) and "
					      "this host's kernel was not profiled (--profile off)");
		else
			snprintf(st->note, sizeof(st->note), "this host's, in the replayer's "
				 "context; packets: the server's ACKs and responses on %s (the "
				 "requests' receive path runs on the server's host%s)", r->cfg.iface,
				 !strcmp(r->ifp.link.kind, "veth") ? ", but a veth peer's runs in "
				 "this context too" : "");
	}
}

int run_report(struct run *r, struct report *rep)
{
	uint64_t expect = r->plan->bytes * (r->cfg.loops ? r->cfg.loops : 1);
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(rep->created, sizeof(rep->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	rep->env = r->env;
	effective_options(r, &rep->opt);
	capture_fill(r, &rep->cap);
	if (r->cap_sha_rc < 0)
		run_warn(r, "hashing the capture: %s: the report has no capture hash",
			 strerror(-r->cap_sha_rc));
	rep->trial[0].replay = r->sum;
	if (r->prof)
		stages_attached(r, &rep->trial[0], expect);
	if (r->cfg.iface)
		stages_iface(r, &rep->trial[0], expect);
	return 0;
}

int run_write_folded(struct run *r, FILE *f)
{
	return profiler_write_folded(prof_attach_profiler(r->prof), f);
}


int run_write_summary(const struct run *r, const char *path)
{
	/* "-" is written with write(2): what stdio holds must go first */
	if (!strcmp(path, "-"))
		fflush(stdout);
	return report_write_summary_json(&r->sum, path);
}
