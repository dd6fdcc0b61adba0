/*
 * privs.h: giving up capabilities once setup is done.
 *
 * pktmem runs as root (or with file capabilities) to make namespaces and a
 * veth pair, open packet sockets and map their rings, and open system-wide
 * perf events.  Once a process is past the part that needs them it keeps
 * only what it still uses, so a bug reached through hostile capture or
 * request bytes runs with as little as possible.
 *
 * Capabilities, the bounding set and no_new_privs are per thread in
 * Linux (capset(2) changes the caller only).  pktmem links libpsx (see
 * the Makefile), which makes libcap apply every change to all threads of
 * the process: the kernel offers no call that changes another thread, so
 * libpsx interrupts each thread with a signal and has it make the same
 * system call itself.  This is the robust choice over "each thread drops
 * its own at the right moment": a thread that someone adds later, or a
 * library's, cannot be forgotten, and the change is one call at one point
 * in the run.  Threads created afterwards inherit the reduced sets.
 *
 * No state.
 */
#ifndef PKTMEM_CORE_PRIVS_H
#define PKTMEM_CORE_PRIVS_H

/* Drop every capability for good, in every thread (see above):
 * privs_keep_only(0).  The bounding set (while CAP_SETPCAP is still
 * held), permitted, effective, inheritable and ambient sets, then
 * PR_SET_NO_NEW_PRIVS so no later execve() (setuid, file capabilities, or
 * root's own exec rule) can bring any back.  For a process that has
 * everything it needs open already: the server child after it joined its
 * namespace (binding port 0 needs no capability).  Reading or closing perf
 * events opened earlier needs none either; opening new self-monitoring
 * counters with exclude_kernel=1 needs none at perf_event_paranoid <= 2.
 * 0 or negative errno (the first step that failed; earlier steps stay). */
int privs_drop_all(void);

/* Keeps only the capabilities in keep (bit n = capability n, as in
 * /proc/PID/status) in every thread of the process: effective and
 * permitted become keep (minus what was not held), inheritable and
 * ambient empty, the bounding set keep (when CAP_SETPCAP is held; without
 * it the bounding set stays as it is), and no_new_privs is set.  For a
 * process past its setup: the replayer once the namespaces, veth, packet
 * sockets, rings and the profiler's events are open.  Not reversible.
 * 0 or negative errno (the first step that failed; earlier steps stay). */
int privs_keep_only(unsigned long long keep);

/* The calling thread's effective capability set as a 64-bit mask (bit n =
 * capability n), from /proc/thread-self/status; negative errno on error. */
long long privs_effective(void);

#endif
