/*
 * time.h: the one clock pktmem's own timings read.
 *
 * CLOCK_MONOTONIC: it never steps (CLOCK_REALTIME does, under NTP or an
 * administrator), and it is read through the vDSO, without a system call
 * (vdso(7)).
 */
#ifndef PKTMEM_LIB_TIME_H
#define PKTMEM_LIB_TIME_H

#include <stdint.h>
#include <time.h>

#define PM_NS_PER_S 1000000000ULL

static inline uint64_t pm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * PM_NS_PER_S + (uint64_t)ts.tv_nsec;
}

#endif
