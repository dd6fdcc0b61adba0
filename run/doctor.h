/*
 * doctor.h: what this machine lets pktmem measure and replay, probed by
 * trying.
 *
 * Every probe does the real thing once (opens the event, loads the BPF
 * program, builds the replay's own namespaces, veth pair and TX ring)
 * instead of guessing from versions or cpuid, and records the outcome
 * and the fix.  The probes are the ones the replay and the profiler use
 * themselves (profile/env.h, replay/netns.h netns_probe, replay/txring.h
 * txq_probe, core/ioloop.h ioloop_uring_probe, profile/pfm.h), so a row
 * says "ok" only where the replay's own setup works.  cmd/doctor.c
 * prints the table or JSON; nothing here prints.  The struct is plain
 * data owned by the caller.
 */
#ifndef PKTMEM_RUN_DOCTOR_H
#define PKTMEM_RUN_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

enum doctor_status {
	DOCTOR_OK = 0,
	DOCTOR_WARN,		/* works, with a caveat */
	DOCTOR_MISSING,		/* does not work here */
	DOCTOR_INFO,		/* a fact, not a verdict */
};

#define DOCTOR_MAX_PROBES 40

struct doctor_probe {
	char name[48];		/* "privileges", "tracepoint irq:softirq_entry", ... */
	enum doctor_status status;
	bool required;		/* the full default replay needs it */
	char detail[256];
	char fix[256];		/* "" when nothing to do */
};

struct doctor_report {
	size_t n;
	struct doctor_probe probe[DOCTOR_MAX_PROBES];
	bool can_replay;	/* every required probe is OK or WARN */
};

/* Runs every probe; returns 0 (individual failures are in the report). */
int doctor_run(struct doctor_report *r);
const char *doctor_status_name(enum doctor_status s);	/* "ok", "warn", ... */

#endif
