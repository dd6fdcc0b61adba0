/*
 * replay_text.c: see replay_text.h.
 */
#include "cmd/replay_text.h"

#include "report/render.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * The summary's lines are composed whole, then a line longer than the
 * report table's 100 columns is wrapped by the table's own
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

static void print_summary(FILE *out, const struct run_cfg *o, const struct run_view *v)
{
	const struct plan *plan = v->plan;
	const struct load_info *li = v->load;
	const struct engine_result *r = v->result;
	const struct replay_summary *s = v->summary;
	const struct iface_path *ifr = v->iface;
	int rx = o->rx_version == 2 ? 2 : 3;
	char a[32], b[32], c[32];
	uint32_t i;

	fprintf(out, "replay: %" PRIu64 " flows in the capture, %zu planned, via %s%s\n",
	       li->flows, plan->nflows - (size_t)r->flows_skipped, s->via,
	       s->interrupted ? " (INTERRUPTED: partial summary)" : "");
	if (ifr)
		fprintf(out, "  path        %s MTU %u, to %s via %s %s (%02x:%02x:%02x:%02x:%02x:%02x%s), "
		       "%s, RX ring TPACKET_V%d\n", ifr->link.name, r->mtu, o->server_ip,
		       ifr->gateway ? "gateway" : "on-link", ifr->nexthop, ifr->nexthop_mac[0],
		       ifr->nexthop_mac[1], ifr->nexthop_mac[2], ifr->nexthop_mac[3], ifr->nexthop_mac[4],
		       ifr->nexthop_mac[5], ifr->resolved ? ", resolved by pktmem" : "",
		       r->via == ENGINE_MMAP ? "TX ring" : "sendto() per frame", rx);
	else if (r->via == ENGINE_MMAP)
		fprintf(out, "  path        veth MTU %u, TX ring %u frames of %u bytes, RX ring TPACKET_V%d\n",
		       r->mtu, r->ring_frames, r->ring_frame_size, rx);
	else if (r->via == ENGINE_RAW)
		fprintf(out, "  path        veth MTU %u, sendto() per frame, RX ring TPACKET_V%d\n",
		       r->mtu, rx);
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
		       "another host\n", human_ns(r->cpu_replayer_ns / s->segments, a, sizeof(a)));
	else if (s->segments)
		fprintf(out, "  cpu         per data segment: replayer %s (receive path included), "
		       "server %s\n",
		       human_ns(r->cpu_replayer_ns / s->segments, a, sizeof(a)),
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

static void print_target(FILE *out, const struct run_cfg *o, const struct target_report *tr, uint64_t requests)
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

void replay_print_text(const struct run_cfg *o, const struct run_view *v)
{
	char *text = NULL;
	size_t tlen = 0;
	FILE *m = open_memstream(&text, &tlen);

	print_summary(m ? m : stdout, o, v);
	if (v->target)
		print_target(m ? m : stdout, o, v->target, v->result->requests);
	if (m) {
		fclose(m);
		print_wrapped(text);
		free(text);
	}
}

