/*
 * t5130: core/sandbox.h, the server's seccomp filter.  Each case runs in
 * a forked child that first checks the call works (or fails otherwise)
 * without the filter where that is safe, then calls sandbox_enter() as the
 * replay's server child and 'pktmem serve' do, and checks that what a
 * compromised parser must not do fails with EPERM while what a server
 * does (sockets of TCP/IP, bind, listen, accept4, read/write, epoll,
 * threads, perf_event_open on itself, reading files) still works.  Needs
 * no privilege: a filter installs with no_new_privs.
 */
#include "tests/tap.h"

#include "core/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/t5130-XXXXXX";

/* errno of a call that returned r (< 0: failed) */
#define FAILS_EPERM(r) ((r) < 0 && errno == EPERM)

static long sys_socket(unsigned long long fam)
{
	long fd = syscall(SYS_socket, fam, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0)
		close((int)fd);
	return fd;
}

static int unix_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd >= 0)
		close(fd);
	return fd < 0 ? -1 : 0;
}

static int netlink_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW, 0);

	if (fd >= 0)
		close(fd);
	return fd < 0 ? -1 : 0;
}

static int open_write(void)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "%s/w", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? -1 : 0;
}

static int tiocsti(void)
{
	int p[2], r;
	char c = 'x';

	if (pipe(p) < 0)
		return -2;
	r = ioctl(p[0], TIOCSTI, &c);
	close(p[0]);
	close(p[1]);
	return r;
}

static void *connector(void *arg)
{
	struct sockaddr_in *sa = arg;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd >= 0) {
		if (connect(fd, (struct sockaddr *)sa, sizeof(*sa)) == 0)
			(void)!write(fd, "GET / HTTP/1.1\r\n\r\n", 18);
		close(fd);
	}
	return NULL;
}

/* What the server does, after the filter: a listener, a thread that
 * connects, accept4, epoll, read.  Returns 0 when all worked. */
static int serve_one(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct epoll_event ev = { .events = EPOLLIN }, got;
	pthread_t thr;
	char buf[64];
	int lfd, cfd = -1, ep = -1, rc = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
		goto out;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		goto out;
	if (pthread_create(&thr, NULL, connector, &sa) != 0)
		goto out;
	if (epoll_wait(ep, &got, 1, 5000) == 1 &&
	    (cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0 && read(cfd, buf, sizeof(buf)) > 0)
		rc = 0;
	pthread_join(thr, NULL);
out:
	if (cfd >= 0)
		close(cfd);
	if (ep >= 0)
		close(ep);
	if (lfd >= 0)
		close(lfd);
	return rc;
}

static int perf_self(void)
{
	struct perf_event_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	if (fd >= 0)
		close((int)fd);
	return fd < 0 ? -errno : 0;
}

static int uring_setup(void)
{
	struct io_uring_params p;
	long fd;

	memset(&p, 0, sizeof(p));
	fd = syscall(SYS_io_uring_setup, 2, &p);
	if (fd >= 0)
		close((int)fd);
	return fd < 0 ? -1 : 0;
}

static int seccomp_mode(void)
{
	char line[128];
	int mode = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

/* The default filter (the replay's server child: no file writes). */
static void child_default(void)
{
	int self_data = 42, copy = 0, rc, perf_before = perf_self();
	struct iovec l = { &copy, sizeof(copy) }, r = { &self_data, sizeof(self_data) };
	char *const argv[] = { (char *)"true", NULL };
	long cl;

	/* without the filter these work (or fail for another reason) */
	ok(unix_socket() == 0, "before: socket(AF_UNIX) works");
	ok(netlink_socket() == 0, "before: socket(AF_NETLINK) works");
	ok(open_write() == 0, "before: open(O_WRONLY|O_CREAT) works");
	ok(process_vm_readv(getpid(), &l, 1, &r, 1, 0) == sizeof(int), "before: process_vm_readv on itself works");
	ok(tiocsti() < 0 && errno == ENOTTY, "before: TIOCSTI on a pipe is ENOTTY");
	ok(syscall(SYS_bpf, 0xffff, NULL, 0) < 0 && errno != EPERM, "before: bpf(bad command) is not EPERM");

	rc = sandbox_enter(SANDBOX_NO_FS_WRITE);
	is_int(rc, 0, "sandbox_enter(SANDBOX_NO_FS_WRITE)");
	is_int(seccomp_mode(), 2, "/proc/self/status says Seccomp: 2 (filter)");

	ok(FAILS_EPERM(execve("/bin/true", argv, environ)), "execve: EPERM");
	ok(FAILS_EPERM(syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, environ, 0)), "execveat: EPERM");
	ok(FAILS_EPERM(unix_socket()), "socket(AF_UNIX): EPERM");
	ok(FAILS_EPERM(netlink_socket()), "socket(AF_NETLINK): EPERM");
	ok(FAILS_EPERM(sys_socket(AF_PACKET)), "socket(AF_PACKET): EPERM");
	ok(FAILS_EPERM(sys_socket(AF_VSOCK)), "socket(AF_VSOCK): EPERM");
	ok(FAILS_EPERM(sys_socket(0)), "socket(AF_UNSPEC): EPERM");
	ok(FAILS_EPERM(sys_socket((1ull << 32) | AF_INET)), "socket(AF_INET with high bits): EPERM");
	ok(FAILS_EPERM(unshare(CLONE_NEWUSER)), "unshare(CLONE_NEWUSER): EPERM");
	cl = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, NULL, NULL, 0);
	if (cl == 0)
		_exit(0);	/* the filter let it through: the test fails below */
	if (cl > 0)
		waitpid((pid_t)cl, NULL, 0);
	ok(FAILS_EPERM(cl), "clone(CLONE_NEWUSER): EPERM");
	ok(syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS, "clone3: ENOSYS (glibc falls back to clone)");
	ok(FAILS_EPERM(syscall(SYS_setns, 0, 0)), "setns: EPERM");
	if (sandbox_allows_ptrace())
		skip("ptrace stays allowed in an AddressSanitizer build (LeakSanitizer needs it at exit)");
	else
		ok(FAILS_EPERM(syscall(SYS_ptrace, 0 /* TRACEME */, 0, 0, 0)), "ptrace(TRACEME): EPERM");
	ok(FAILS_EPERM(process_vm_readv(getpid(), &l, 1, &r, 1, 0)), "process_vm_readv: EPERM");
	ok(FAILS_EPERM(syscall(SYS_bpf, 0xffff, NULL, 0)), "bpf: EPERM");
	ok(FAILS_EPERM(syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, NULL)), "mount: EPERM");
	ok(FAILS_EPERM(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0)), "keyctl: EPERM");
	ok(FAILS_EPERM(syscall(SYS_userfaultfd, 0)), "userfaultfd: EPERM");
	ok(FAILS_EPERM(syscall(SYS_finit_module, -1, "", 0)), "finit_module: EPERM");
	ok(FAILS_EPERM(personality(PER_LINUX | ADDR_NO_RANDOMIZE)), "personality(ADDR_NO_RANDOMIZE): EPERM");
	ok(personality(0xffffffff) >= 0, "personality(query) still works");
	ok(FAILS_EPERM(tiocsti()), "ioctl(TIOCSTI): EPERM");
	ok(FAILS_EPERM(uring_setup()), "io_uring_setup without SANDBOX_URING: EPERM");
	ok(FAILS_EPERM(open_write()), "open(O_WRONLY|O_CREAT): EPERM");
	{
		char a[64], b[64];

		snprintf(a, sizeof(a), "%s/w", tmpdir);
		snprintf(b, sizeof(b), "%s/v", tmpdir);
		ok(FAILS_EPERM(rename(a, b)), "rename: EPERM");
		ok(FAILS_EPERM(unlink(a)), "unlink: EPERM");
	}

	/* what a server does */
	ok(open("/proc/self/status", O_RDONLY | O_CLOEXEC) >= 0, "open(O_RDONLY) works");
	ok(sys_socket(AF_INET6) >= 0 || errno == EAFNOSUPPORT, "socket(AF_INET6) works");
	ok(serve_one() == 0, "socket, bind, listen, epoll, a thread's connect, accept4, read work");
	rc = perf_self();
	ok(rc == perf_before, "perf_event_open(task-clock, self) as without the filter (%d, %d)",
	   rc, perf_before);
}

static void child_uring(void)
{
	int before = uring_setup();

	is_int(sandbox_enter(SANDBOX_URING), 0, "sandbox_enter(SANDBOX_URING)");
	if (before < 0)
		skip("io_uring_setup fails without the filter here too");
	else
		ok(uring_setup() == 0, "io_uring_setup with SANDBOX_URING works");
	ok(open_write() == 0, "without SANDBOX_NO_FS_WRITE files can be written");
	ok(FAILS_EPERM(execve("/bin/true", (char *const[]){ (char *)"true", NULL }, environ)),
	   "execve: still EPERM");
}

/* Runs fn in a child; its TAP lines continue the numbering. */
static void in_child(void (*fn)(void), const char *what)
{
	int p[2], st, counts[2] = { 0, 0 };
	pid_t pid;

	fflush(stdout);
	if (pipe(p) < 0)
		bail_out("pipe");
	pid = fork();
	if (pid < 0)
		bail_out("fork");
	if (pid == 0) {
		close(p[0]);
		fn();
		counts[0] = tap_run;
		counts[1] = tap_failed;
		(void)!write(p[1], counts, sizeof(counts));
		fflush(stdout);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], counts, sizeof(counts)) == sizeof(counts)) {
		tap_run = counts[0];
		tap_failed = counts[1];
	}
	close(p[0]);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: the child exited normally", what);
}

int main(void)
{
	char path[64];

	plan_lazy();
	if (!mkdtemp(tmpdir))
		bail_out("mkdtemp");
	in_child(child_default, "default filter");
	in_child(child_uring, "SANDBOX_URING");
	snprintf(path, sizeof(path), "%s/w", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return exit_status();
}
