/* sandbox.c: the core server's seccomp deny-list; see sandbox.h. */
#include "core/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* Denied whatever their arguments: what a server never does and an
 * attacker inside it would want.  Names, not numbers: libseccomp resolves
 * them for the architecture and skips one this kernel ABI lacks. */
#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif
#ifndef ASAN_BUILD
#define ASAN_BUILD 0
#endif

int sandbox_allows_ptrace(void)
{
	return ASAN_BUILD;
}

static const char *const deny_always[] = {
	/* another program, possibly setuid or with file capabilities */
	"execve", "execveat", "uselib",
	/* other processes' memory and descriptors (same uid: allowed by
	 * ptrace_may_access() without any capability); ptrace below */
	"process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
	/* the filesystem's shape and namespaces */
	"mount", "umount2", "pivot_root", "chroot", "setns", "unshare",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
	"mount_setattr", "open_by_handle_at", "name_to_handle_at",
	/* the kernel itself */
	"bpf", "kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl",
	"syslog", "iopl", "ioperm", "vhangup", "lookup_dcookie", "fanotify_init",
	/* the keyring (shared by the uid), and page-fault games that widen
	 * kernel races */
	"keyctl", "add_key", "request_key", "userfaultfd",
};

/* Without SANDBOX_URING: io_uring performs socket, open and other
 * operations in the kernel where no filter sees them. */
static const char *const deny_uring[] = {
	"io_uring_setup", "io_uring_enter", "io_uring_register",
};

/* SANDBOX_NO_FS_WRITE: changing files by path. */
static const char *const deny_fs[] = {
	"creat", "truncate", "rename", "renameat", "renameat2", "link", "linkat",
	"symlink", "symlinkat", "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir",
	"mknod", "mknodat", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown",
	"fchownat", "utime", "utimes", "futimesat", "utimensat", "setxattr",
	"lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
	/* its open_how lives in memory, where a filter cannot look */
	"openat2",
};

static int deny(scmp_filter_ctx ctx, const char *name, unsigned n, const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;	/* not a system call on this architecture */
	return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, n, cmp);
}

static int deny_list(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = deny(ctx, names[i], 0, NULL)) < 0)
			return rc;
	return 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int sandbox_threads(void)
{
	char line[128];
	int n = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

int sandbox_enter(unsigned flags)
{
	/* clone() flags that make a namespace: an unprivileged process may
	 * still make a user namespace, and holds every capability inside */
	static const unsigned long ns_flags[] = {
		CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWIPC,
		CLONE_NEWUTS, CLONE_NEWCGROUP,
	};
	/* open(path, flags) and openat(dir, path, flags): the flags that
	 * write or create (O_TMPFILE needs O_WRONLY or O_RDWR) */
	static const int wr_flags[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND };
	scmp_filter_ctx ctx;
	struct scmp_arg_cmp c[1];
	size_t i;
	int rc, fam;

	/* Default: allow.  A 32-bit or x32 system call on x86-64 is not
	 * what this server makes: the same EPERM. */
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(EPERM))) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0)
		goto out;
	/* Every thread, when there are others (a filter is per thread, and
	 * inherited by threads made later).  Only then: TSYNC needs the
	 * seccomp(2) system call, which valgrind 3.19 does not know, while
	 * a single thread's filter loads through prctl(PR_SET_SECCOMP) too
	 * (libseccomp falls back by itself). */
	if (sandbox_threads() != 1 && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		goto out;
	if ((rc = deny_list(ctx, deny_always, COUNT(deny_always))) < 0)
		goto out;
	if (!sandbox_allows_ptrace() && (rc = deny(ctx, "ptrace", 0, NULL)) < 0)
		goto out;
	if (!(flags & SANDBOX_URING) && (rc = deny_list(ctx, deny_uring, COUNT(deny_uring))) < 0)
		goto out;

	/* socket(): TCP over IPv4 and IPv6 only; no packet, netlink, unix
	 * (the host's daemons listen on unix sockets), vsock, ... sockets.
	 * The kernel reads the family as an int; these compare all 64 bits,
	 * so a value with high bits set is denied too (> AF_INET6). */
	c[0] = SCMP_A0_64(SCMP_CMP_LT, AF_INET);
	if ((rc = deny(ctx, "socket", 1, c)) < 0)
		goto out;
	for (fam = AF_INET + 1; fam < AF_INET6; fam++) {
		c[0] = SCMP_A0_64(SCMP_CMP_EQ, (scmp_datum_t)fam);
		if ((rc = deny(ctx, "socket", 1, c)) < 0)
			goto out;
	}
	c[0] = SCMP_A0_64(SCMP_CMP_GT, AF_INET6);
	if ((rc = deny(ctx, "socket", 1, c)) < 0)
		goto out;
	/* socketpair() makes only connected pairs inside the process: no
	 * reach outside, left alone */

	/* Threads yes, namespaces no.  clone3() passes its flags in memory:
	 * ENOSYS, and glibc falls back to clone(), whose flags are seen. */
	for (i = 0; i < COUNT(ns_flags); i++) {
		c[0] = SCMP_A0_64(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
		if ((rc = deny(ctx, "clone", 1, c)) < 0)
			goto out;
	}
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0)
		goto out;

	/* Typing into the terminal the server inherited (TIOCSTI) or the
	 * console (TIOCLINUX).  The kernel reads the request as 32 bits. */
	c[0] = SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI);
	if ((rc = deny(ctx, "ioctl", 1, c)) < 0)
		goto out;
	c[0] = SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX);
	if ((rc = deny(ctx, "ioctl", 1, c)) < 0)
		goto out;

	/* personality(0xffffffff) only asks (ASan does); setting one could
	 * turn off address randomization for what the process maps next */
	c[0] = SCMP_A0_64(SCMP_CMP_NE, 0xffffffffu);
	if ((rc = deny(ctx, "personality", 1, c)) < 0)
		goto out;

	if (flags & SANDBOX_NO_FS_WRITE) {
		if ((rc = deny_list(ctx, deny_fs, COUNT(deny_fs))) < 0)
			goto out;
		for (i = 0; i < COUNT(wr_flags); i++) {
			c[0] = SCMP_A1_64(SCMP_CMP_MASKED_EQ, (scmp_datum_t)wr_flags[i],
					  (scmp_datum_t)wr_flags[i]);
			if ((rc = deny(ctx, "open", 1, c)) < 0)
				goto out;
			c[0] = SCMP_A2_64(SCMP_CMP_MASKED_EQ, (scmp_datum_t)wr_flags[i],
					  (scmp_datum_t)wr_flags[i]);
			if ((rc = deny(ctx, "openat", 1, c)) < 0)
				goto out;
		}
	}
	rc = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return rc;
}
