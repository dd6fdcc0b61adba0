/*
 * privs.h: giving up capabilities once setup is done.
 *
 * pktmem runs as root (or with file capabilities) to make namespaces and a
 * veth pair, open packet sockets and map their rings, and open system-wide
 * perf events.  Once a process is past the part that needs them it keeps
 * only what it still uses, so a bug reached through hostile capture or
 * request bytes runs with as little as possible.
 *
 * Capabilities are per thread in Linux: these calls change the calling
 * thread only (libcap's cap_set_proc()), and threads created afterwards
 * inherit that.  Call them from a single-threaded process (the forked
 * server child is one) or accept that other threads keep theirs.
 *
 * Owner: harden.  No state.
 */
#ifndef PKTMEM_REPLAY_PRIVS_H
#define PKTMEM_REPLAY_PRIVS_H

/* Drop every capability for good: the bounding set (while CAP_SETPCAP is
 * still held), permitted, effective, inheritable and ambient sets, then
 * PR_SET_NO_NEW_PRIVS so no later execve() (setuid, file capabilities, or
 * root's own exec rule) can bring any back.  For a process that has
 * everything it needs open already: the server child after it joined its
 * namespace (binding port 0 needs no capability).  Reading or closing perf
 * events opened earlier needs none either; opening new self-monitoring
 * counters with exclude_kernel=1 needs none at perf_event_paranoid <= 2.
 * 0 or negative errno (the first step that failed; earlier steps stay). */
int privs_drop_all(void);

/* The calling thread's effective capability set as a 64-bit mask (bit n =
 * capability n), from /proc/thread-self/status; negative errno on error. */
long long privs_effective(void);

#endif
