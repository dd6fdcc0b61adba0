/*
 * doctor-stubs.h: TEMPORARY.  The integrator deletes this file,
 * run/doctor-stubs.c and the include line in run/doctor.c when the
 * replay branch lands: replay/netns.h and replay/txring.h then declare
 * these two probes themselves (same signatures).
 */
#ifndef PKTMEM_RUN_DOCTOR_STUBS_H
#define PKTMEM_RUN_DOCTOR_STUBS_H

#include <stddef.h>

/* The replay's topology / TX ring built and torn down: 0, or a negative
 * code with a one-line reason in err naming the step first. */
int netns_probe(char *err, size_t errlen);
int txq_probe(char *err, size_t errlen);

#endif
