/*
 * sandbox.h: a seccomp filter for the core server once it is set up.
 *
 * The server reads hostile bytes (a capture's requests, or the network's
 * for 'pktmem serve').  After its setup (namespace joined, capabilities
 * dropped) a bug in the parser or deserializer that gives an attacker
 * code execution should find the system calls that turn that into more
 * (a new program, another process's memory, a namespace, a kernel module,
 * a packet or netlink socket, the terminal's input queue) failing.
 *
 * A deny-list, answered with EPERM, not an allow-list and not a kill: the
 * same server runs under ASan+UBSan, valgrind and glibc, which make many
 * calls of their own that an allow-list would have to chase (and a kill
 * would turn into a crash report).  What stays allowed is what a server
 * uses: read/write/recv/send, accept4, epoll, io_uring (when asked),
 * threads (clone without namespace flags), mmap, futex, clocks, and
 * perf_event_open (the server's own per-thread counter group).
 *
 * sandbox_enter() applies to every thread of the caller (TSYNC) and to
 * everything it forks; it cannot be undone.  It sets no_new_privs (which
 * a filter needs without CAP_SYS_ADMIN).  No state.
 */
#ifndef PKTMEM_CORE_SANDBOX_H
#define PKTMEM_CORE_SANDBOX_H

enum {
	/* the server's I/O loop is io_uring: io_uring_setup/enter/register
	 * stay allowed (otherwise EPERM: io_uring runs socket operations
	 * where this filter cannot see them, IORING_OP_SOCKET included) */
	SANDBOX_URING = 1u << 0,
	/* the process writes no file after setup: opening a file for
	 * writing or creating, and renaming, linking, unlinking, chmod,
	 * chown, mkdir fail too.  Without capabilities the server is still
	 * uid 0, owner of most of the system's files. */
	SANDBOX_NO_FS_WRITE = 1u << 1,
};

/* Under AddressSanitizer (a test build) ptrace stays allowed:
 * LeakSanitizer's check at exit stops the process's threads with ptrace
 * (its own tracer thread), and would otherwise fail the exit.  1 in such
 * a build, 0 otherwise. */
int sandbox_allows_ptrace(void);

/* Threads of the calling process (/proc/self/status), 0 if unknown: a
 * change that must reach every thread needs to know whether there are
 * others. */
int sandbox_threads(void);

/* Installs the filter in the calling process.  0 or negative errno
 * (libseccomp's: -EFAULT for an internal failure, -ENOMEM, -EINVAL). */
int sandbox_enter(unsigned flags);

#endif
