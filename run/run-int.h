/*
 * run-int.h: the run's state, shared by run.c (the replay) and
 * run_report.c (the report); not for callers of run.h.
 */
#ifndef PKTMEM_RUN_RUN_INT_H
#define PKTMEM_RUN_RUN_INT_H

#include "run/run.h"

#include "core/deser.h"
#include "core/server.h"
#include "profile/attach.h"
#include "profile/pfm.h"
#include "replay/sink.h"

#include <pcap/pcap.h>

struct run {
	struct run_cfg cfg;		/* cfg.via: the path taken */
	const char *fallback;		/* why the socket path, or NULL */
	const char *const *captures;
	size_t ncaptures;
	struct plan *plan;
	struct load_info load;

	/* the server */
	bool core;			/* the core server (not the sink) */
	struct server_config sc;
	struct sink_cfg sink;
	struct target *tgt;		/* --exec/--target */
	struct target_report tr;
	struct sockaddr_storage tsa;	/* --target's address */
	socklen_t tsa_len;
	/* --iface */
	struct iface_path ifp;
	struct engine_remote rm;
	/* the core server's per-thread counter group (--events) */
	struct perf_event_attr attrs[PFM_MAX_EVENTS];
	char names[PFM_MAX_EVENTS][PFM_NAME];
	const char *name_ptr[PFM_MAX_EVENTS];
	int nattrs;

	/* measurement */
	struct prof_attach *prof;	/* the server's stages; NULL: not profiled */
	struct profiler *host;		/* --iface: this host's kernel stages */
	struct report_env env;		/* taken before the engine drops capabilities */
	char cap_sha[65];
	int cap_sha_rc;

	/* --dump-frames */
	pcap_t *dump_p;
	pcap_dumper_t *dump_d;

	struct engine_cfg ecfg;
	struct engine_result res;
	struct replay_summary sum;
	bool engine_ran;
	char peer_err[512];
	struct run_view view;
};

void run_warn(const struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* cap.sha256 of the captures (run_report.c); 0 or -errno. */
int run_capture_hash(const char *const *paths, size_t n, char out[65]);
/* The engine's result as the report's replay summary. */
void run_summary_fill(const struct engine_result *e, struct replay_summary *s);
void run_summary_extras(const struct run *r, struct replay_summary *s);

#endif
