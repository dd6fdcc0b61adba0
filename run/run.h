/*
 * run.h: one replay run, the one place where replay/, profile/ and
 * report/ meet.
 *
 *   run_new      the options' combinations, the privilege policy (the
 *                socket path without CAP_NET_ADMIN/NET_RAW/SYS_ADMIN), the
 *                server's counters (--events, or the default where a PMU
 *                exists), --netns
 *   run_load     the captures into a plan (replay/load.h)
 *   run_replay   the topology and the server child (core server, sink,
 *                echo; --exec/--target through replay/target.h; --iface
 *                through replay/iface.h), the profiler around it
 *                (profile/attach.h), --dump-frames, the engine, the
 *                verdict: struct replay_summary
 *   run_report   the report model (report/report.h): environment,
 *                effective options, the capture and its hash, the stage
 *                rows
 *   run_free
 *
 * cmd/replay.c parses the options into struct run_cfg, prints what the
 * run says (run_view()) and picks the exit code; a test can drive a run
 * without the CLI.  Nothing here prints: a message the user should see
 * while the run goes on is handed to cfg->warn.
 *
 * Errors: negative (an errno or a module code) with one line in err,
 * worded for the user ("--iface eth9: no such interface").
 *
 * Ownership: the run owns the plan, the engine's result, the profiler,
 * the target and the --dump-frames file; cfg's strings must outlive it.
 */
#ifndef PKTMEM_RUN_RUN_H
#define PKTMEM_RUN_RUN_H

#include "profile/profiler.h"
#include "replay/engine.h"
#include "replay/iface.h"
#include "replay/load.h"
#include "replay/plan.h"
#include "replay/target.h"
#include "report/report.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct run_cfg {
	enum engine_via via;		/* default ENGINE_MMAP */
	bool via_set;			/* given: no fallback to the socket path */
	/* pacing: timing and its factor or rate (replay/peer.h); speed as
	 * given ("2x"), for the report's options (NULL: "max") */
	enum peer_timing timing;
	double speed_factor, pps;
	const char *speed;
	uint32_t loops, concurrency, resegment;	/* 0: the peer's defaults */
	uint64_t limit_flows;			/* 0: all */
	const char *filter;			/* pcap filter, NULL: none */
	int rx_version;				/* 2 or 3; 0: 3 */
	bool qdisc_bypass;
	/* pktmem's own server: "http" (the core server), "echo", "sink";
	 * --io and --deser for the core server (NULL: epoll, tree) */
	const char *server, *io, *deser;
	bool test_extra_alloc;
	/* --exec CMD / --target HOST:PORT [--netns NAME] */
	const char *exec, *target, *netns;
	uint32_t port;				/* --port; 0: none */
	uint32_t ready_ms, flow_timeout_ms;	/* 0: 10 s, 30 s */
	bool no_preload;
	/* --iface IFACE --server-ip IP [--client-net CIDR] */
	const char *iface, *server_ip, *client_net;
	/* measurement */
	enum profile_mode profile;
	const char *events;			/* NULL: the default where a PMU exists */
	bool folded;				/* --folded: stacks to write */
	int freq;				/* --profile full's rate; 0: default */
	/* files written after the run (the replayer keeps CAP_DAC_OVERRIDE
	 * for them: they land where the user said) */
	bool writes_files;
	const char *dump_frames;		/* pcap of every frame sent, NULL: none */
	/* progress (peer_cfg.progress), may be NULL */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	/* a message for the user while the run goes on (a measurement that
	 * could not start); may be NULL */
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
};

struct run;

/* What a replay did, for the text summary; valid until run_free(). */
struct run_view {
	const struct plan *plan;
	const struct load_info *load;
	const struct engine_result *result;
	const struct replay_summary *summary;
	const struct target_report *target;	/* --exec/--target, else NULL */
	const struct iface_path *iface;		/* --iface, else NULL */
	const char *peer_error;			/* a transmit error that stopped the run, or NULL */
	bool engine_ran;			/* the engine started (a progress line may show) */
};

/* Checks cfg and decides the path: 0, or a usage error with err.  When
 * the packet path is unavailable and --via was not given, the run takes
 * the socket path: run_fallback() says why. */
int run_new(struct run **out, const struct run_cfg *cfg, char *err, size_t errlen);
/* Why the run fell back to the socket path, or NULL. */
const char *run_fallback(const struct run *r);
/* Loads the captures (paths must outlive the run).  0 or < 0 with err. */
int run_load(struct run *r, const char *const *captures, size_t n, char *err, size_t errlen);
/* Replays.  0 when it ran (the verdict is in the summary: verified), or a
 * negative error with err (nothing replayed, or the server never
 * started). */
int run_replay(struct run *r, volatile sig_atomic_t *stop, char *err, size_t errlen);
const struct run_view *run_view(struct run *r);
/* Fills rep (report_new(1)) for trial 0: all but the tool's version and
 * revision, which are the caller's.  Warnings go to cfg->warn.  0 or
 * -errno. */
int run_report(struct run *r, struct report *rep);
/* --folded: the sampled stacks in flamegraph.pl's format.  0 or -errno. */
int run_write_folded(struct run *r, FILE *f);
/* --summary-json: the report's replay object.  0 or -errno. */
int run_write_summary(const struct run *r, const char *path);
void run_free(struct run *r);

#endif
