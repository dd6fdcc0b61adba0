/*
 * env.h: the one probe of the machine a measurement runs on.
 *
 * What a report records about where it was measured (struct report_env:
 * kernel, CPU, PMU, capabilities, perf_event_paranoid, clocksource, and a
 * fingerprint to tell machines apart), and the capability check behind
 * it.  'pktmem doctor' (run/doctor.c), the replay and the report's env
 * block all call these, so they cannot disagree about the machine.
 *
 * Each probe tries the real thing once (opens a cycles counter, reads the
 * capability sets of the calling thread), never a version number.
 * Nothing here prints; no state.
 */
#ifndef PKTMEM_PROFILE_ENV_H
#define PKTMEM_PROFILE_ENV_H

#include "report/report.h"

#include <stdbool.h>

/* The capabilities pktmem uses (linux/capability.h), as held by the
 * calling thread: names comma-separated in one fixed order
 * ("CAP_NET_ADMIN,CAP_NET_RAW,CAP_PERFMON,CAP_BPF,CAP_SYS_ADMIN"). */
struct env_privs {
	bool root;			/* effective uid 0 */
	bool all;			/* every one of them held */
	unsigned long long eff;		/* the effective set, bit n = capability n */
	char have[128];			/* "" when none */
	char lack[128];			/* "" when none */
};

/* Fills p.  0, or a negative errno when the sets could not be read (then
 * nothing is held). */
int env_privs_probe(struct env_privs *p);

/* Fills env; fields that cannot be read say "unknown" (paranoid: -99). */
void report_env_probe(struct report_env *env);

#endif
