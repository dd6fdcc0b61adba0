/*
 * report.h: the one result model, "pktmem.report/1".
 *
 * The profiler and the replayer fill a struct report; report.c writes it as
 * JSON (jansson) atomically, json_read.c reads it back with validation; the
 * renderers (render_*.c) and the gate (verdict.c) read nothing else.  Field
 * by field documentation: docs/report-schema.md.
 *
 * Honest measurement: every stage and metric has available = true and a
 * source, or available = false and a reason that says how to get it.  An
 * unavailable value is never printed as zero.
 */
#ifndef PKTMEM_REPORT_REPORT_H
#define PKTMEM_REPORT_REPORT_H

#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPORT_SCHEMA "pktmem.report/1"
/* The replay summary alone (--summary-json): a trial's "replay" object
 * with a "schema" key first. */
#define REPORT_SUMMARY_SCHEMA "pktmem.replay/2"
#define REPORT_HIST_BUCKETS 48	/* log2 ns buckets, as core/stats.h */
#define REPORT_MAX_METRICS 24
#define REPORT_REASON 256

/* Pipeline order, as a received segment passes them: wire side first,
 * user side last. */
enum report_stage {
	RS_IRQ = 0,
	RS_SOFTIRQ,
	RS_COPY,
	RS_PARSE,
	RS_ALLOC,
	RS_HANDLER,
	RS_WRITE,
	RS__N
};

/* How the gate compares a metric (the rules: verdict.h). */
enum metric_class {
	MC_EXACT = 0,		/* deterministic per build+capture: exact */
	MC_COUNT,		/* timing-sensitive counts: slack */
	MC_HW,			/* hardware counters: small tolerance */
	MC_TIMING,		/* ns, rates: rank test over trials */
	MC_INFO,		/* shown, never gated */
};

struct metric {
	char name[48];		/* "bytes_per_request", "ns_per_request", ... */
	char unit[16];		/* "ns", "bytes", "count", "req/s" */
	enum metric_class cls;
	bool lower_is_better;
	bool available;
	double value;
	char source[96];	/* "tracepoint skb:skb_copy_datagram_iovec" */
	char reason[REPORT_REASON]; /* when !available: why and the fix */
	double tolerance;	/* declared relative tolerance (0.01 = 1%);
				 * 0: the class default (verdict.h) */
};

struct stage_result {
	bool available;		/* false: the whole stage could not be measured */
	char reason[REPORT_REASON];
	char source[128];
	char note[REPORT_REASON]; /* "veth delivers without a hardware interrupt" */
	bool time_available;
	uint64_t count;		/* events: irqs, softirqs, read calls, requests */
	uint64_t bytes;		/* bytes through the stage, 0 if n/a */
	double time_ns;		/* total */
	bool has_hist;
	uint64_t hist[REPORT_HIST_BUCKETS];
	double p50_ns, p90_ns, p99_ns, max_ns;
	size_t nmetrics;
	struct metric metric[REPORT_MAX_METRICS];
};

#define REPORT_MAX_FAILURES 16
struct report_failure {
	uint64_t flow;		/* the capture's flow number */
	uint32_t loop;		/* --loop pass, 0 first */
	char msg[REPORT_REASON];
};

#define REPORT_MAX_COUNTERS 32
struct report_counter {
	char name[40];		/* "TcpExt:TCPBacklogDrop" */
	int64_t delta;
};

/* A foreign server's run (--exec or --target): what the replayer saw of
 * it.  Optional in the file (additive); shown, never gated. */
enum replay_target_kind {
	REPLAY_TARGET_EXEC = 0,	/* --exec: pktmem started it ("exec") */
	REPLAY_TARGET_ADDRESS,	/* --target: already listening ("target") */
};

/* The server's HTTP responses, as seen on the wire by a packet socket
 * (first copies of its payload, framed as HTTP/1). */
struct replay_target_responses {
	bool available;		/* false: not counted, reason says why */
	char reason[REPORT_REASON]; /* when !available; "" otherwise */
	uint64_t total;		/* responses framed */
	uint64_t status_1xx, status_2xx, status_3xx, status_4xx, status_5xx;
	uint64_t other;		/* status codes outside 100..599 */
	uint64_t bytes;		/* payload the server sent, first copies, bytes */
	uint64_t unframed;	/* response streams that could not be framed */
	uint64_t capture_drops;	/* packets the packet socket lost */
};

/* The server's heap calls, counted by the LD_PRELOAD interposer in every
 * process it started, from the first accepted probe to the stop. */
struct replay_target_alloc {
	bool available;		/* false: not counted, reason says why */
	char reason[REPORT_REASON]; /* when !available; "" otherwise */
	uint64_t processes;	/* processes that loaded the interposer */
	uint64_t allocations;	/* malloc + calloc + realloc + aligned calls */
	uint64_t malloc, calloc, realloc; /* calls of each */
	uint64_t aligned;	/* calls of the aligned allocators (memalign family) */
	uint64_t free;		/* free calls */
	uint64_t bytes;		/* bytes requested */
};

struct replay_target {
	bool present;		/* an --exec or --target run */
	enum replay_target_kind kind;
	char command[1024];	/* kind EXEC: the --exec command line */
	char address[128];	/* kind ADDRESS: "HOST:PORT" as given to --target */
	char netns[256];	/* --netns NAME, "" when not given */
	int port;		/* TCP port the server listens on */
	int pid;		/* the command's (first) pid; 0 for --target */
	bool exited_early;	/* the command exited during the replay */
	struct replay_target_responses responses;
	struct replay_target_alloc alloc;
};

/* A replay onto a real interface (--iface): how the server was reached.
 * Optional in the file (additive); shown, never gated. */
struct replay_iface {
	bool present;		/* an --iface run */
	char name[16];		/* the interface (IFNAMSIZ) */
	char server_ip[64];	/* --server-ip, as given */
	int port;		/* the server's TCP port */
	char next_hop[64];	/* the gateway, or the server when on-link */
	bool gateway;		/* next_hop is a gateway */
	uint8_t next_hop_mac[6]; /* next_hop's link-layer address */
	bool resolved_by_pktmem; /* pktmem asked the wire (ARP / NS), not the kernel */
	uint64_t neighbour_answers; /* ARP / neighbour replies sent for the clients */
	uint64_t client_out_rsts; /* Tcp OutRsts in the replayer's namespace: must be 0 */
};

struct replay_summary {
	char via[16];		/* mmap, raw, socket */
	uint64_t flows, requests, segments, bytes;
	uint64_t duration_ns;
	double segments_per_s, mbit_per_s, requests_per_s;
	uint64_t retransmits;	/* by the replayer */
	uint64_t server_drops;	/* /proc/net/snmp deltas in the server netns */
	uint64_t skipped_flows;
	bool verified;		/* server bytes/requests == capture, per flow */
	char verify_msg[REPORT_REASON];
	bool interrupted;
	uint64_t responses_2xx, responses_4xx, responses_5xx;
	/* Optional in the file (additive: absent in older reports, read
	 * as 0 / empty); never compared by the gate. */
	uint64_t truncated_flows;	/* replayed only up to a capture gap */
	uint64_t server_bytes_read;	/* bytes the server read, all flows */
	uint64_t server_requests;	/* requests the server parsed */
	bool requests_verified;		/* requests were checked, not only bytes */
	uint64_t capture_packets;	/* packets read from the captures (0:
					 * not filled, not written) */
	uint64_t frames;		/* frames sent (packet paths) */
	uint64_t gap_p50_ns, gap_p99_ns; /* ns between data segments as sent */
	uint64_t late_p99_ns;		/* ns behind the schedule (paced runs) */
	uint64_t cpu_replayer_ns;	/* CPU time of the replayer, ns */
	uint64_t cpu_server_ns;		/* CPU time of the server, ns */
	uint64_t failures_total;	/* flows that failed verification */
	size_t nfailures;		/* the first REPORT_MAX_FAILURES of them */
	struct report_failure failure[REPORT_MAX_FAILURES];
	size_t ncounters;		/* non-zero server-side SNMP deltas */
	struct report_counter counter[REPORT_MAX_COUNTERS];
	struct replay_target target;	/* --exec / --target runs */
	struct replay_iface iface;	/* --iface runs */
};

/* The server's user-space code by sampling (--profile full): the
 * functions the sampled instruction pointer was in most often.  Optional
 * in the file (additive); shown, never gated. */
#define REPORT_MAX_USYMS 10
struct report_usym {
	char name[128];		/* function, "<module>+0x<off>", or "[unknown]" */
	char module[64];	/* base name of its ELF file, "" when none */
	uint64_t samples;	/* samples with the server running it (self) */
	double share;		/* % of the server's user-space samples */
};

struct report_usyms {
	bool present;		/* in the file / filled by the profiler */
	bool available;
	char reason[REPORT_REASON];
	char source[128];
	char note[REPORT_REASON]; /* "the server's binary 'x' has no symbol table" */
	uint64_t samples;	/* samples of the server's processes */
	uint64_t user_samples;	/* of those, taken in user space */
	uint64_t resolved;	/* of those, in a named function */
	uint64_t symbolize_ns;	/* cost of naming them (mappings, lookups), ns */
	uint64_t unwind_ns;	/* DWARF unwinding during the run, ns (0: none) */
	size_t ntop;
	struct report_usym top[REPORT_MAX_USYMS];
};

struct trial {
	struct stage_result stage[RS__N];
	struct replay_summary replay;
	struct report_usyms usyms;
};

struct report_env {
	char kernel[128];
	char cpu_model[128];
	int cores;
	bool pmu;
	char pmu_reason[REPORT_REASON];
	char privileges[128];	/* "root", "CAP_NET_ADMIN,CAP_PERFMON", "none" */
	int perf_event_paranoid;
	char clocksource[32];
	char hostname[64];
	char fingerprint[65];	/* sha256 of cpu model, cores, kernel: same machine? */
};

struct report_options {
	char via[16], io[16], deser[16], speed[32], profile[16];
	char events[256];
	char filter[256];
	int concurrency;
};

struct report_capture {
	char path[1024];
	char sha256[65];
	uint64_t packets, flows, requests, payload_bytes;
	uint64_t span_ns;
};

/* A regression the baseline's owner accepted: the gate lists it as a
 * warning with the reason instead of failing.  metric is the gate's name
 * "<stage>.<metric>" (verdict.h), e.g. "alloc.allocs_per_request". */
#define REPORT_MAX_ACKS 16
struct report_ack {
	char metric[96];
	char reason[REPORT_REASON];
};

struct report {
	char schema[32];	/* REPORT_SCHEMA */
	char tool_version[32];
	char git_rev[48];
	char created[32];	/* ISO 8601 UTC */
	struct report_env env;
	struct report_options opt;
	struct report_capture cap;
	size_t ntrials;
	struct trial *trial;	/* ntrials, heap */
	size_t nacks;
	struct report_ack ack[REPORT_MAX_ACKS];
};

/* Module errors (negative, below errno). */
enum {
	REPORT_E_SCHEMA = PM_E_REPORT - 1,	/* wrong schema name or version */
	REPORT_E_INVALID = PM_E_REPORT - 2,	/* missing field or wrong type */
	REPORT_E_SYNTAX = PM_E_REPORT - 3,	/* not JSON / truncated */
	REPORT_E_VERSION = PM_E_REPORT - 4,	/* a pktmem.report of another version */
};

const char *report_stage_name(enum report_stage s);	/* "irq", "softirq", ... */
/* -1 when name is not a stage. */
int report_stage_from_name(const char *name);
const char *report_class_name(enum metric_class c);	/* "exact", "count", ... */
int report_class_from_name(const char *name);		/* -1 when unknown */
/* Text for a negative code from this module (errno or REPORT_E_*). */
const char *report_strerror(int err);

struct report *report_new(size_t ntrials);
void report_free(struct report *r);
/* Adds a metric to a stage; returns it (NULL when full). */
struct metric *stage_add_metric(struct stage_result *st, const char *name,
				const char *unit, enum metric_class cls);
void stage_set_unavailable(struct stage_result *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* JSON: write atomically (temp + rename in path's directory; "-" = stdout). */
int report_write_json(const struct report *r, const char *path);
/* The replay summary alone, REPORT_SUMMARY_SCHEMA: the object a report
 * holds as trials[i].replay, the same fields, with "schema" first; written
 * as report_write_json writes. */
int report_write_summary_json(const struct replay_summary *s, const char *path);
/* Reads and validates; on error err says what is wrong (one line). */
int report_read_json(const char *path, struct report **out, char *err, size_t errlen);
/* The same from len bytes in memory (not NUL-terminated), with the same
 * checks and messages: for readers that already hold the bytes (the
 * fuzz target, which would otherwise pay a file per input). */
int report_read_json_mem(const char *buf, size_t len, struct report **out, char *err,
			 size_t errlen);

/* The user symbols of all trials summed (samples added per name and
 * module, shares recomputed), for renderers: false when no trial has
 * them; out->available false with trial 0's reason when none measured. */
bool report_usyms_merge(const struct report *r, struct report_usyms *out);

/* Summary over trials of a stage's time or a metric: median, min, max, MAD. */
struct report_stat { double median, min, max, mad; size_t n; };
int report_stage_time_stat(const struct report *r, enum report_stage s,
			   struct report_stat *out);
/* The same over the trials where the stage's metric `name` is available;
 * -ENOENT when it is in none. */
int report_metric_stat(const struct report *r, enum report_stage s,
		       const char *name, struct report_stat *out);
/* Finds a metric by name in a stage (NULL when absent). */
const struct metric *stage_find_metric(const struct stage_result *st, const char *name);
/* Median, min, max and MAD (median absolute deviation, unscaled) of v[n];
 * sorts v in place.  n == 0 gives all zero. */
void report_stat_of(double *v, size_t n, struct report_stat *out);

#endif
