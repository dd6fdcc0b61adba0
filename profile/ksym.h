/*
 * ksym.h: kernel symbols and the classification of sampled callchains into
 * pipeline stages.
 *
 * struct ksym holds the text symbols of /proc/kallsyms (or of a recorded
 * excerpt, for tests) sorted by address; ksym_lookup() finds the function
 * containing an address.  ksym_classify() walks a callchain from the leaf
 * and returns the stage of the nearest frame whose function belongs to
 * one.  Names are matched up to the first '.', so
 * "__netif_receive_skb_core.constprop.0" is "__netif_receive_skb_core".
 * Timer samples cannot fire with interrupts off and land on the next
 * irq-enable: such leaf frames ("*_irq_enable", "_raw_spin_unlock_irq*",
 * "__raw_callee_save_*") are skipped, and a chain with no stage frame
 * above them is "unattributed" rather than "other".
 *
 * ksym owns its symbol table; struct ksym_folded owns its stack strings.
 *
 * Caches: lookups and classification take a const struct ksym but fill
 * two memos inside it (an address -> symbol cache, and each symbol's
 * stage once matched against the rules), so a struct ksym is used by one
 * thread at a time (the profiler's reader thread, then the report).
 */
#ifndef PKTMEM_PROFILE_KSYM_H
#define PKTMEM_PROFILE_KSYM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum ksym_stage {
	KS_IRQ = 0,
	KS_SOFTIRQ,
	KS_IP,
	KS_TCP,
	KS_COPY,
	KS_PARSE,
	KS_ALLOC,
	KS_TRANSMIT,
	KS_OTHER,		/* kernel code of no stage */
	KS_USER,		/* user-space sample */
	KS_UNATTRIBUTED,	/* irq-enable leaf, no stage frame above */
	KS__N
};

struct ksym;

/* Loads "addr type name [module]" lines: /proc/kallsyms or a copy. */
int ksym_load(struct ksym **out, const char *path);
void ksym_free(struct ksym *k);
size_t ksym_count(const struct ksym *k);
/* Name of the function containing addr (NULL when none); *off = addr - start. */
const char *ksym_lookup(const struct ksym *k, uint64_t addr, uint64_t *off);

const char *ksym_stage_name(enum ksym_stage s);
/* Stage of one function name (KS_OTHER when it belongs to none). */
enum ksym_stage ksym_stage_of(const char *name);
/* True for frames skipped at the leaf (irq-enable landing spots). */
int ksym_is_irq_enable(const char *name);
/* Classifies a callchain as perf records it (leaf first, with
 * PERF_CONTEXT_* markers).  Kernel frames only; a chain that starts in
 * user space is KS_USER. */
enum ksym_stage ksym_classify(const struct ksym *k, const uint64_t *ips, size_t n);
/* The same for a chain of names, leaf first (tests, recorded chains). */
enum ksym_stage ksym_classify_names(const char *const *names, size_t n);

/* Folded stacks ("comm;[user];kroot;...;kleaf count") for flame graphs. */
struct ksym_folded;
struct ksym_folded *ksym_folded_new(void);
void ksym_folded_free(struct ksym_folded *f);
int ksym_folded_add(struct ksym_folded *f, const struct ksym *k, const char *comm,
		    const uint64_t *ips, size_t n);
/* The same, count times, with the user-space part given: user is the
 * chain's user frames from the outermost, ';'-separated ("main;server_run;
 * read"), or NULL for "[user]". */
int ksym_folded_add_user(struct ksym_folded *f, const struct ksym *k, const char *comm,
			 const char *user, const uint64_t *ips, size_t n, uint64_t count);
int ksym_folded_write(const struct ksym_folded *f, FILE *out);
size_t ksym_folded_count(const struct ksym_folded *f);

#endif
