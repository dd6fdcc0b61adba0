/*
 * sample.h: statistical sampling with kernel and user callchains.
 *
 * `cycles` where a PMU exists (frequency mode), otherwise the `cpu-clock`
 * software timer, at 999 Hz by default (the cost is linear in the
 * frequency, 50-100 us of the interrupted CPU per sample in a VM:
 * docs/profile.md, "Overhead").  Either system-wide (pid == -1: every CPU, the
 * only way to see NET_RX running in other tasks' context) or on one
 * process's threads.  Each sample is classified by ksym_classify() and
 * optionally folded for a flame graph.
 *
 * User frames are named (usym.h) for the watched processes: the server's
 * (and the processes it forks later), whose user-space samples also make
 * the top-symbol list, and other processes of the run (the replayer).
 * Their mappings are recorded at sampler_new() and when a server child
 * first shows up; their chains are kept raw and named only after the run
 * (sampler_user_symbols, sampler_write_folded), so the lookups cost
 * nothing inside the measured window.  Their user stacks are unwound by
 * DWARF CFI from a copy taken with each sample (x86-64; frame pointers
 * otherwise and as the fallback), also after the run: the copies are kept
 * until then (up to a bound).  Everything else folds as "[user]".
 *
 * A struct sampler owns its ring, its symbol tables and its folded stacks.
 * The caller drains it periodically (sampler_drain) from one thread.
 */
#ifndef PKTMEM_PROFILE_SAMPLE_H
#define PKTMEM_PROFILE_SAMPLE_H

#include "profile/ksym.h"
#include "report/report.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define SAMPLE_DEFAULT_HZ 999

struct sampler;

struct sampler_cfg {
	pid_t pid;		/* -1: system-wide */
	int hz;			/* 0: SAMPLE_DEFAULT_HZ */
	bool try_cycles;	/* use cycles when the PMU opens */
	bool folded;		/* keep folded stacks */
	const char *kallsyms;	/* NULL: /proc/kallsyms */
	const pid_t *server;	/* user frames named, top symbols; alive now */
	int nserver;
	const pid_t *other;	/* user frames named in folded stacks only */
	int nother;
};

int sampler_new(struct sampler **out, const struct sampler_cfg *cfg);
int sampler_enable(struct sampler *s);
int sampler_disable(struct sampler *s);
int sampler_fds(const struct sampler *s, int *fds, int max);
long sampler_drain(struct sampler *s);
/* "cycles" or "cpu-clock". */
const char *sampler_event(const struct sampler *s);
int sampler_hz(const struct sampler *s);
/* Samples per class and the sum of their periods (cycles or ns). */
void sampler_counts(const struct sampler *s, uint64_t samples[KS__N],
		    uint64_t period[KS__N], uint64_t *lost);
/* Folded stacks, user frames of the watched processes named. */
int sampler_write_folded(struct sampler *s, FILE *f);
/* The server's top user symbols (self samples in user space). */
void sampler_user_symbols(struct sampler *s, struct report_usyms *out);
void sampler_free(struct sampler *s);

#endif
