/*
 * err.h: the one registry of pktmem's own error codes.
 *
 * Convention, every layer: a function returns >= 0 on success and a
 * negative value on failure: -errno when a system call or library gave
 * one, else a module code below.  Module codes lie below -PM_E_ERRNO_MAX,
 * so they can never be read as an errno (the kernel's errno values stop
 * at MAX_ERRNO, 4095: include/linux/err.h), and each module has its own
 * block of 100 so no two modules share a value.  A module's *_strerror()
 * turns its codes, and the errno values it knows the cause of, into one
 * line saying what to do; a construction that can fail for many reasons
 * takes an errbuf (char *err, size_t errlen) naming the step that failed.
 * A handle whose later calls can fail for a reason worth more than a code
 * keeps that message with it, read by *_error(handle) (capture_error(),
 * target_error(); libpcap's pcap_geterr() is the model).
 *
 * To add a module: a new base here, codes PM_E_<MOD> - 1, - 2, ... in the
 * module's header.
 */
#ifndef PKTMEM_LIB_ERR_H
#define PKTMEM_LIB_ERR_H

#include <stddef.h>

#define PM_E_ERRNO_MAX 4095

enum pm_err_base {
	PM_E_CAPTURE = -10000,	/* replay/capture.h */
	PM_E_REPORT = -10100,	/* report/report.h */
	PM_E_PERF = -10200,	/* profile/perf.h */
	PM_E_PFM = -10300,	/* profile/pfm.h */
	PM_E_NETNS = -10400,	/* replay/netns.h */
	PM_E_TXQ = -10500,	/* replay/txring.h */
	PM_E_ENGINE = -10600,	/* replay/engine.h */
	PM_E_TARGET = -10700,	/* replay/target.h */
	PM_E_IFACE = -10800,	/* replay/iface.h */
};

/* Writes one line into err (printf-style) and returns code: the errbuf
 * convention's one step, "return pm_errf(err, errlen, -EINVAL, ...)". */
int pm_errf(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
