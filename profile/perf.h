/*
 * perf.h: a thin layer over perf_event_open(2) for the profiler.
 *
 * - Tracepoints: ids and field offsets come from tracefs
 *   (events/<sys>/<name>/{id,format}); nothing is hard-coded.  When tracefs
 *   is not mounted anywhere, a forked child mounts it in a private mount
 *   namespace, reads what is asked and exits, so the host is not changed.
 * - Counting: one event on a task and its threads (every existing thread,
 *   inherit=1 so new ones count too) or on every online CPU, with an
 *   optional in-kernel filter (PERF_EVENT_IOC_SET_FILTER).
 * - Ring buffers: mmap'd sample buffers and a parser for
 *   PERF_SAMPLE_{IP,TID,TIME,CPU,CALLCHAIN,RAW} records.
 * - perf_strerror(): turns perf_event_open's errno into advice, as perf's
 *   evsel__open_strerror() does.
 *
 * Ownership: every object here owns its file descriptors and mappings and
 * releases them in *_free().  Nothing prints; errors are negative errno or
 * PERF_E_*.
 */
#ifndef PKTMEM_PROFILE_PERF_H
#define PKTMEM_PROFILE_PERF_H

#include "lib/err.h"

#include <linux/perf_event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	PERF_E_NOTRACEFS = PM_E_PERF - 1,	/* tracefs neither mounted nor mountable */
	PERF_E_NOTP = PM_E_PERF - 2,		/* no such tracepoint in this kernel */
	PERF_E_FORMAT = PM_E_PERF - 3,		/* a tracefs format file we cannot read */
	PERF_E_NOFIELD = PM_E_PERF - 4,		/* tracepoint lacks a field we need */
};

#define PERF_TP_MAX_FIELDS 16

struct perf_tp_field {
	char name[40];
	uint16_t offset;	/* bytes from the start of the raw record */
	uint16_t size;		/* bytes */
	bool is_signed;
	bool data_loc;		/* __data_loc: u32 (len << 16 | offset) */
};

/* One tracepoint: fill sys and name, perf_tp_load() fills the rest. */
struct perf_tp {
	char sys[32];
	char name[48];
	int id;			/* PERF_TYPE_TRACEPOINT config; < 0 unknown */
	int err;		/* 0 or why id could not be read */
	int nfields;
	struct perf_tp_field field[PERF_TP_MAX_FIELDS];
};

/* Where tracefs is mounted ("/sys/kernel/tracing", ...), or -ENOENT. */
int perf_tracefs_dir(char *buf, size_t len);
/* Fills id and fields of n tracepoints.  Returns 0 when tracefs could be
 * read (each tp[i].err says whether that one exists), else a negative
 * code for all.  *private_mount set when a private mount had to be used. */
int perf_tp_load(struct perf_tp *tp, size_t n, bool *private_mount);
const struct perf_tp_field *perf_tp_field(const struct perf_tp *tp, const char *name);
/* Reads an unsigned or signed integer field of a raw record; 0 when the
 * record is too short. */
uint64_t perf_tp_get(const struct perf_tp_field *f, const void *raw, size_t rawlen);

/* perf_event_open(2); returns the fd or -errno. */
int perf_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
	      unsigned long flags);
void perf_attr_tp(struct perf_event_attr *attr, const struct perf_tp *tp);
int perf_set_filter(int fd, const char *filter);

/* Online CPU numbers (from /sys/devices/system/cpu/online); returns count. */
int perf_cpus(int *cpus, int max);

/* True when this process may open tracepoints and system-wide events
 * (root, CAP_PERFMON, CAP_SYS_ADMIN or perf_event_paranoid <= -1). */
bool perf_privileged(void);
int perf_paranoid(void);	/* kernel.perf_event_paranoid, or -100 unknown */

/* A counting event on a target: pid > 0 = that process's threads
 * (inherit), pid == -1 = every online CPU. */
struct perf_counter;
int perf_counter_open(struct perf_counter **out, const struct perf_event_attr *attr,
		      pid_t pid, const char *filter);
int perf_counter_enable(struct perf_counter *c);
int perf_counter_disable(struct perf_counter *c);
/* Sum over fds; scaled by enabled/running time when multiplexed. */
int perf_counter_read(const struct perf_counter *c, uint64_t *value);
void perf_counter_free(struct perf_counter *c);

/* Sample rings for nattr events (filters[i] may be NULL) on a target:
 * pid > 0 = that process's threads (inherit), -1 = every CPU.  One buffer
 * of `pages` (2^n) pages per CPU receives all the events of that CPU in
 * time order; tell tracepoints apart by the raw record's common_type. */
struct perf_ring;
int perf_ring_open(struct perf_ring **out, const struct perf_event_attr *attrs,
		   const char *const *filters, int nattr, pid_t pid, unsigned pages);
int perf_ring_enable(struct perf_ring *r);
int perf_ring_disable(struct perf_ring *r);
/* Poll fds (to wait on) and their count. */
int perf_ring_fds(const struct perf_ring *r, int *fds, int max);
/* Calls fn for every PERF_RECORD_SAMPLE waiting in every buffer; counts
 * PERF_RECORD_LOST into *lost.  Returns records seen. */
typedef void (*perf_sample_fn)(void *arg, const struct perf_event_header *h,
			       const void *rec, size_t len);
long perf_ring_drain(struct perf_ring *r, perf_sample_fn fn, void *arg, uint64_t *lost);
void perf_ring_free(struct perf_ring *r);

/* A parsed PERF_RECORD_SAMPLE (fields present per sample_type). */
struct perf_sample {
	uint64_t ip;
	uint32_t pid, tid;
	uint64_t time;		/* ns, perf clock */
	uint32_t cpu;
	uint64_t nr;		/* callchain entries */
	const uint64_t *ips;
	uint32_t raw_size;
	const void *raw;
};
int perf_sample_parse(uint64_t sample_type, const void *rec, size_t len,
		      struct perf_sample *s);

/* The read family: the syscalls whose window holds copy_to_user (this
 * architecture's numbers), for the copy stage's syscall filters. */
extern const long perf_read_syscalls[];
extern const size_t perf_nread_syscalls;

/* Advice for an error of perf_event_open or of this module, e.g.
 * "no PMU: perf_event_open(cycles) = ENOENT".  what names the event. */
const char *perf_strerror(int err, const char *what, char *buf, size_t len);

#endif
