/*
 * attach.h: a profiler around a server that someone else forks.
 *
 * The replay engine forks the server child inside engine_run(), so the
 * caller never sees its pid between the fork and the first packet.  attach
 * bridges that through the engine's hooks (replay/engine.h, set by run/):
 * in the child, prof_attach_child_ready() sends the child's
 * pid to a thread of the parent; once every child has (one per address
 * family), the thread starts one profiler on all their pids and
 * acknowledges them; only then do the servers start listening.  When a
 * server stops, prof_attach_child_done() adds what only the child can
 * measure (its page faults) to its stats block; once the children have
 * exited, the parent reads their shared blocks directly, before the
 * engine unmaps them (prof_attach_stats(): the header without the
 * connection table, the children's blocks added up; a child the engine
 * had to kill is left out, its stages unmeasured).
 *
 *	prof_attach_new(&a, &cfg);         parent, before engine_run()
 *	  (fork the server children)
 *	prof_attach_start(a, nchildren);   parent, after the forks
 *	  child: prof_attach_child_ready(a); run...; prof_attach_child_done(a, st);
 *	prof_attach_stats(a, blocks);      parent, children exited, blocks mapped
 *	prof_attach_finish(a, &trial);     parent, after engine_run()
 *	prof_attach_free(a);
 *
 * The parent side owns the pipes, the thread and the profiler.
 */
#ifndef PKTMEM_PROFILE_ATTACH_H
#define PKTMEM_PROFILE_ATTACH_H

#include "core/stats.h"
#include "profile/profiler.h"
#include "report/report.h"

#include <stdio.h>

struct prof_attach;

/* cfg: mode, dev, veth, expected_*, folded...; server_pid and stats are
 * filled in later; the sender defaults to this process. */
int prof_attach_new(struct prof_attach **out, const struct profiler_cfg *cfg);
/* Starts the parent's thread.  Only after every server child is forked: a
 * child forked while another thread holds a lock (an allocator's: ASan's
 * is not fork-safe) inherits it held and deadlocks at its next malloc.
 * The children's first messages wait in the pipe until then.  nchildren:
 * how many were forked (the engine runs one per address family); the
 * thread starts one profiler on all of them once each said READY, then
 * acknowledges them all.  One that has not reported 2 s after the first
 * does not hold the others up (they give up after 4 s): the profiler
 * starts without it, and its kernel-side events are missing (said in the
 * copy stage's note).  a may be NULL (not profiled): 0. */
int prof_attach_start(struct prof_attach *a, int nchildren);
/* In the forked server child, before listening: returns once the parent
 * has its events open (or after 5 s without an answer: < 0). */
int prof_attach_child_ready(struct prof_attach *a);
/* The same for a server that is not the child itself (replay --exec: the
 * user's command and the processes it forked, at most PROFILER_MAX_PIDS). */
int prof_attach_child_ready_pids(struct prof_attach *a, const pid_t *pids, int n);
/* The same when the server's processes cannot be found (replay --target
 * into a server in another pid namespace): the profiler watches no server
 * process and its server-side stages say why. */
int prof_attach_child_ready_none(struct prof_attach *a, const char *why);
/* In the child, after serving: its minor page faults since ready into st
 * (the server does not count them itself). */
void prof_attach_child_done(struct prof_attach *a, struct stats_block *st);
/* In the parent, once the server children have exited and before their
 * blocks are unmapped: copies their headers (blocks[1] may be NULL), adds
 * them up, and stops the profiler (the servers are done). */
void prof_attach_stats(struct prof_attach *a, const struct stats_block *const blocks[2]);
/* In the parent, after the server has exited: stops and fills t.
 * -ESRCH when the child never reported (t untouched but the user stages
 * unavailable). */
int prof_attach_finish(struct prof_attach *a, struct trial *t);
struct profiler *prof_attach_profiler(struct prof_attach *a);	/* NULL before ready */
/* In the parent, while the server runs: profiler_copy_bytes() of the
 * profiler once it started (0 all, 1 part of the server's reads; -ENODATA
 * before, or when not counted). */
int prof_attach_copied(struct prof_attach *a, uint64_t *bytes);
/* The error profiler_start() gave in the thread, 0 if none. */
int prof_attach_error(const struct prof_attach *a);
void prof_attach_free(struct prof_attach *a);

#endif
