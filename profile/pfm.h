/*
 * pfm.h: hardware event names -> struct perf_event_attr through libpfm4.
 *
 * libpfm4 knows its own names ("INST_RETIRED:ANY_P",
 * "perf::PERF_COUNT_HW_CACHE_LL:READ:MISS"); perf's names that it does not
 * know ("LLC-misses", "L1-dcache-load-misses", Intel's dot syntax
 * "INST_RETIRED.ANY") are translated first, or the error explains the
 * libpfm spelling.  libpfm decides a PMU is present from cpuid alone, so
 * an encoded event proves nothing: pfm_probe() opens it to find out.
 *
 * libpfm4 keeps its own process-wide tables; pfm_init() may be called any
 * number of times.  LIBPFM_FORCE_PMU=skl (read by libpfm at init) encodes
 * another PMU's events without the hardware, for tests.
 */
#ifndef PKTMEM_PROFILE_PFM_H
#define PKTMEM_PROFILE_PFM_H

#include "lib/err.h"

#include <linux/perf_event.h>
#include <stddef.h>

#define PFM_DEFAULT_EVENTS "cycles,instructions,cache-misses,branch-misses"
#define PFM_MAX_EVENTS 8
#define PFM_NAME 48

enum {
	PFM_E_INIT = PM_E_PFM - 1,	/* pfm_initialize failed */
	PFM_E_UNKNOWN = PM_E_PFM - 2,	/* no such event (after translation) */
	PFM_E_TOO_MANY = PM_E_PFM - 3,	/* more than PFM_MAX_EVENTS */
};

int pfm_init(void);
/* Encodes one name.  On error why says what is wrong and the libpfm
 * spelling to use.  *translated (may be NULL) gets the name libpfm saw. */
int pfm_encode(const char *name, struct perf_event_attr *attr,
	       char *translated, size_t tlen, char *why, size_t wlen);
/* A comma-separated list; names[i] keep the user's spelling. */
int pfm_encode_list(const char *list, struct perf_event_attr *attrs,
		    char names[][PFM_NAME], int max, char *why, size_t wlen);
/* Opens the event on this thread (user space only) and closes it:
 * 0 when it counts here, else -errno from perf_event_open. */
int pfm_probe(const struct perf_event_attr *attr);
/* Is there a PMU here?  pfm_probe() of cycles: only opening a hardware
 * counter tells, libpfm4's cpuid answer does not.  0 or -errno
 * (-ENOENT: no PMU, as in a VM without a virtual one). */
int pfm_pmu_probe(void);
/* Names of the PMUs libpfm4 reports present, comma-separated. */
int pfm_pmus(char *buf, size_t len);

#endif
