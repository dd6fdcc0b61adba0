/* target.c: the user's own server (--exec, --target); see target.h. */
#include "replay/target.h"
#include "replay/target_int.h"

#include "lib/time.h"
#include "replay/netns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct target {
	struct target_cfg cfg;
	char *command, *preload, *host;
	char alloc_why[320];
	struct target_shared *sh;
	int alloc_fd;
	struct pktmem_alloc_block *ab;
};

const char *target_strerror(int err)
{
	switch (err) {
	case TARGET_E_EXITED: return "the command exited before it accepted connections";
	case TARGET_E_TIMEOUT: return "nothing accepted connections before the deadline";
	case TARGET_E_ADDR: return "want a numeric HOST:PORT (IPv6 as [ADDR]:PORT)";
	case TARGET_E_NETNS: return "no such network namespace (see 'ip netns list')";
	}
	return err < 0 ? strerror(-err) : "unknown error";
}

/* --- the program behind the command --- */

/* The first word that is not VAR=value or 'exec', resolved through PATH. */
static int resolve_program(const char *command, char *path, size_t n)
{
	const char *p = command;
	char word[1024];
	size_t len;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, " \t;&|<>()'\"");
		if (!len || len >= sizeof(word))
			return -ENOENT;
		memcpy(word, p, len);
		word[len] = 0;
		p += len;
		if (!strcmp(word, "exec") || (strchr(word, '=') && word[0] != '='))
			continue;
		break;
	}
	if (strchr(word, '/')) {
		snprintf(path, n, "%s", word);
		return access(path, X_OK) == 0 ? 0 : -errno;
	} else {
		const char *env = getenv("PATH"), *dir;
		char buf[4096];
		char *save = NULL;

		snprintf(buf, sizeof(buf), "%s", env ? env : "/usr/local/bin:/usr/bin:/bin");
		for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
			snprintf(path, n, "%s/%s", *dir ? dir : ".", word);
			if (access(path, X_OK) == 0)
				return 0;
		}
	}
	return -ENOENT;
}

int target_is_static(const char *command, char *path, size_t pathlen)
{
	unsigned char id[EI_NIDENT];
	int fd, rc, i, interp = 0;

	if ((rc = resolve_program(command, path, pathlen)) < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = 0;
	if (pread(fd, id, sizeof(id), 0) != (ssize_t)sizeof(id) || memcmp(id, ELFMAG, SELFMAG))
		goto out;	/* not ELF: a script, its interpreter decides */
	if (id[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;

		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
			goto out;
		for (i = 0; i < eh.e_phnum; i++) {
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
			    (ssize_t)sizeof(ph))
				goto out;
			interp |= ph.p_type == PT_INTERP;
		}
	} else if (id[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;
		Elf32_Phdr ph;

		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
			goto out;
		for (i = 0; i < eh.e_phnum; i++) {
			if (pread(fd, &ph, sizeof(ph), (off_t)eh.e_phoff + (off_t)i * eh.e_phentsize) !=
			    (ssize_t)sizeof(ph))
				goto out;
			interp |= ph.p_type == PT_INTERP;
		}
	} else {
		goto out;
	}
	rc = !interp;
out:
	close(fd);
	return rc;
}

int target_find_preload(char *path, size_t n)
{
	const char *env = getenv("PKTMEM_PRELOAD");
	char exe[4096];
	ssize_t len;
	char *slash;

	if (env && *env) {
		snprintf(path, n, "%s", env);
		return access(path, R_OK) == 0 ? 0 : -ENOENT;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return -ENOENT;
	exe[len] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	snprintf(path, n, "%s/libpktmem-alloc.so", exe);
	return access(path, R_OK) == 0 ? 0 : -ENOENT;
}

/* --- setup --- */

int target_new(struct target **out, const struct target_cfg *cfg)
{
	struct target *t = calloc(1, sizeof(*t));
	char prog[4096];
	int rc = 0;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	t->alloc_fd = -1;
	t->command = cfg->command ? strdup(cfg->command) : NULL;
	t->preload = cfg->preload ? strdup(cfg->preload) : NULL;
	t->host = cfg->host ? strdup(cfg->host) : NULL;
	t->cfg.command = t->command;
	t->cfg.preload = t->preload;
	t->cfg.host = t->host;
	t->sh = mmap(NULL, sizeof(*t->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->sh == MAP_FAILED) {
		t->sh = NULL;
		rc = -errno;
		goto fail;
	}
	if ((cfg->command && !t->command) || (cfg->preload && !t->preload) || (cfg->host && !t->host)) {
		rc = -ENOMEM;
		goto fail;
	}
	if (!t->command) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "--target: a server pktmem did not start "
			 "cannot be given the interposer (use --exec)");
	} else if (target_is_static(t->command, prog, sizeof(prog)) == 1) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "'%.200s' is statically linked (no PT_INTERP): "
			 "LD_PRELOAD cannot interpose its allocator", prog);
	} else if (!t->preload) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "%s",
			 cfg->alloc_why ? cfg->alloc_why : "no interposer");
	} else {
		/* the block: a memfd the command inherits (no CLOEXEC) */
		t->alloc_fd = memfd_create("pktmem-alloc", 0);
		if (t->alloc_fd < 0 || ftruncate(t->alloc_fd, sizeof(*t->ab)) < 0) {
			rc = -errno;
			goto fail;
		}
		t->ab = mmap(NULL, sizeof(*t->ab), PROT_READ | PROT_WRITE, MAP_SHARED, t->alloc_fd, 0);
		if (t->ab == MAP_FAILED) {
			t->ab = NULL;
			rc = -errno;
			goto fail;
		}
		t->ab->version = PKTMEM_ALLOC_VERSION;
		t->ab->size = sizeof(*t->ab);
		__atomic_store_n(&t->ab->magic, PKTMEM_ALLOC_MAGIC, __ATOMIC_RELEASE);
	}
	*out = t;
	return 0;
fail:
	target_free(t);
	return rc;
}

void target_free(struct target *t)
{
	if (!t)
		return;
	if (t->ab)
		munmap(t->ab, sizeof(*t->ab));
	if (t->alloc_fd >= 0)
		close(t->alloc_fd);
	if (t->sh)
		munmap(t->sh, sizeof(*t->sh));
	free(t->command);
	free(t->preload);
	free(t->host);
	free(t);
}

const char *target_error(const struct target *t)
{
	return t && t->sh ? t->sh->err : "";
}

int target_parse_hostport(const char *s, struct sockaddr_storage *sa, socklen_t *len,
			  char *host, size_t hostlen, uint16_t *port)
{
	char h[INET6_ADDRSTRLEN + 2];
	const char *colon, *hs = s;
	size_t hl;
	char *end;
	unsigned long p;

	memset(sa, 0, sizeof(*sa));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return TARGET_E_ADDR;
		hs = s + 1;
		hl = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return TARGET_E_ADDR;
		hl = (size_t)(colon - s);
	}
	if (!hl || hl >= sizeof(h))
		return TARGET_E_ADDR;
	memcpy(h, hs, hl);
	h[hl] = 0;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p < 1 || p > 65535)
		return TARGET_E_ADDR;
	if (inet_pton(AF_INET, h, &((struct sockaddr_in *)sa)->sin_addr) == 1) {
		((struct sockaddr_in *)sa)->sin_family = AF_INET;
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)p);
		*len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, h, &((struct sockaddr_in6 *)sa)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)sa)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)p);
		*len = sizeof(struct sockaddr_in6);
	} else {
		return TARGET_E_ADDR;
	}
	if (host)
		snprintf(host, hostlen, "%s", h);
	if (port)
		*port = (uint16_t)p;
	return 0;
}

int target_enter_netns(const char *name)
{
	char path[512];
	int fd, rc = 0;

	if (!*name || strchr(name, '/'))
		return TARGET_E_NETNS;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? TARGET_E_NETNS : -errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* --- the command --- */

static pid_t spawn(const struct target *t)
{
	pid_t parent = getpid(), pid = fork();
	char fdnum[16];
	const char *old;
	char *pre;
	int null;

	if (pid != 0)
		return pid;
	/* own process group, so stragglers (workers) can be found by it */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	/* the engine's child ignores SIGINT and has handlers: an ignored
	 * signal stays ignored across exec, so restore the defaults */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	{
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
	}
	null = open("/dev/null", O_RDONLY);
	if (null >= 0) {
		dup2(null, 0);
		close(null);
	}
	/* pktmem's stdout is its summary: the command's output goes to stderr */
	dup2(2, 1);
	if (t->ab) {
		snprintf(fdnum, sizeof(fdnum), "%d", t->alloc_fd);
		setenv(PKTMEM_ALLOC_ENV_FD, fdnum, 1);
		old = getenv("LD_PRELOAD");
		if (old && *old && asprintf(&pre, "%s:%s", t->preload, old) > 0)
			setenv("LD_PRELOAD", pre, 1);
		else
			setenv("LD_PRELOAD", t->preload, 1);
	}
	execl("/bin/sh", "sh", "-c", t->command, (char *)NULL);
	_exit(127);
}

static void describe_exit(char *out, size_t n, int status)
{
	if (WIFEXITED(status))
		snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, n, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, n, "stopped");
}

/* SIGTERM, up to 1.5 s, then SIGKILL to its whole process group (nginx's
 * workers, a shell's children); reaped. */
static void stop_command(pid_t pid)
{
	siginfo_t si;
	int i, status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 150; i++) {
		memset(&si, 0, sizeof(si));
		/* WNOWAIT: keep the zombie, so its pid (the group's id) cannot
		 * be reused before the group is killed */
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			break;
		usleep(10000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* pid and its descendants (breadth first, through
 * /proc/PID/task/TID/children), at most max. */
static int descendants(pid_t pid, pid_t *out, int max)
{
	int n = 0, i;

	if (pid <= 0 || max < 1)
		return 0;
	out[n++] = pid;
	for (i = 0; i < n && n < max; i++) {
		char path[320], buf[1024];
		struct dirent *de;
		DIR *d;

		snprintf(path, sizeof(path), "/proc/%d/task", (int)out[i]);
		d = opendir(path);
		if (!d)
			continue;
		while ((de = readdir(d)) && n < max) {
			char *p, *end;
			ssize_t len;
			int fd;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)out[i], de->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			len = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (len <= 0)
				continue;
			buf[len] = 0;
			for (p = buf; n < max; p = end) {
				long c = strtol(p, &end, 10);

				if (end == p)
					break;
				out[n++] = (pid_t)c;
			}
		}
		closedir(d);
	}
	return n;
}

/* The processes holding a listening TCP socket on port (--target: pktmem
 * did not start the server, so its pids come from the socket): the
 * socket inodes from /proc/net/tcp and tcp6 (this network namespace's),
 * then every /proc/PID/fd link "socket:[INODE]".  At most max pids; 0 and
 * why filled when there is none to see. */
static int listener_pids(uint16_t port, pid_t *out, int max, char *why, size_t wn)
{
	static const char *const tabs[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	unsigned long inode[16];
	int ninode = 0, n = 0, i, k;
	char line[512], path[300], link[64];
	struct dirent *de, *fe;
	DIR *d, *fd;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(tabs[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f) && ninode < 16) {
			unsigned lport, st;
			unsigned long ino;

			/* "sl local rem st tx:rx tr:when retrnsmt uid timeout inode" */
			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
				   &lport, &st, &ino) == 3 && lport == port && st == 0x0A && ino)
				inode[ninode++] = ino;
		}
		fclose(f);
	}
	if (!ninode) {
		snprintf(why, wn, "no listening socket on port %u in this network namespace's "
			 "/proc/net/tcp{,6}: the server's processes cannot be found", port);
		return 0;
	}
	d = opendir("/proc");
	if (!d) {
		snprintf(why, wn, "opendir /proc: %s", strerror(errno));
		return 0;
	}
	while ((de = readdir(d)) && n < max) {
		bool hit = false;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || atoi(de->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/fd", de->d_name);
		fd = opendir(path);
		if (!fd)
			continue;
		while (!hit && (fe = readdir(fd))) {
			ssize_t len;
			unsigned long ino;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%.20s/fd/%.20s", de->d_name, fe->d_name);
			len = readlink(path, link, sizeof(link) - 1);
			if (len <= 8)
				continue;
			link[len] = 0;
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			for (k = 0; k < ninode && !hit; k++)
				hit = inode[k] == ino;
		}
		closedir(fd);
		if (hit)
			out[n++] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	if (!n)
		snprintf(why, wn, "no process in this pid namespace holds port %u's listening socket "
			 "(a server in another pid namespace?)", port);
	return n;
}

/* connect() to addr within ms; 0 when it accepted. */
static int probe(const struct sockaddr *sa, socklen_t len, int ms)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), rc = -1, e = 0;
	socklen_t el = sizeof(e);
	struct pollfd pfd;

	if (fd < 0)
		return -errno;
	if (connect(fd, sa, len) == 0) {
		rc = 0;
	} else if (errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && !e)
			rc = 0;
	}
	close(fd);
	return rc;
}

int target_run(void *arg, struct stats_block *st, const char *listen,
	       volatile sig_atomic_t *stop)
{
	struct target *t = arg;
	struct target_shared *sh = t->sh;
	struct target_wire cap;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	bool socket_path = listen && !strncmp(listen, "127.0.0.1", 9);
	uint32_t ready = t->cfg.ready_ms ? t->cfg.ready_ms : 10000;
	uint64_t deadline = pm_now_ns() / 1000000 + ready;
	char what[128];
	pid_t pid = 0;
	int status, rc = 0;

	memset(&cap, 0, sizeof(cap));
	cap.fd = -1;
	cap.sh = sh;
	/* where the peer will connect: the namespace's server address on the
	 * packet path, loopback on the socket path, HOST with --target */
	if (t->host) {
		char hp[INET6_ADDRSTRLEN + 16];

		snprintf(hp, sizeof(hp), strchr(t->host, ':') ? "[%s]:%u" : "%s:%u", t->host, t->cfg.port);
		target_parse_hostport(hp, &ss, &sl, NULL, 0, NULL);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		memset(&ss, 0, sizeof(ss));
		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->cfg.port);
		inet_pton(AF_INET, socket_path ? "127.0.0.1" : NETNS_SERVER_IP4, &sin->sin_addr);
		sl = sizeof(*sin);
	}
	if (t->command) {
		pid = spawn(t);
		if (pid < 0) {
			snprintf(sh->err, sizeof(sh->err), "fork: %s", strerror(errno));
			return -errno;
		}
		sh->pid = pid;
	}
	for (;;) {
		if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
			describe_exit(what, sizeof(what), status);
			snprintf(sh->err, sizeof(sh->err), "'%s' %s before it accepted connections on port %u",
				 t->command, what, t->cfg.port);
			sh->exit_status = status;
			pid = 0;
			rc = TARGET_E_EXITED;
			goto out;
		}
		if (probe((struct sockaddr *)&ss, sl, 200) == 0)
			break;
		if (*stop || pm_now_ns() / 1000000 >= deadline) {
			if (t->command)
				snprintf(sh->err, sizeof(sh->err), "'%s' did not accept connections on port %u "
					 "within %.1f s", t->command, t->cfg.port, ready / 1000.0);
			else
				snprintf(sh->err, sizeof(sh->err), "nothing accepts connections on %s:%u "
					 "(waited %.1f s)", t->host ? t->host : "127.0.0.1", t->cfg.port,
					 ready / 1000.0);
			rc = TARGET_E_TIMEOUT;
			goto out;
		}
		usleep(20000);
	}
	if (t->cfg.on_listening && !t->command) {
		/* --target: whoever holds the listening socket */
		pid_t lp[8];
		char why[256] = "";
		int nl = listener_pids(t->cfg.port, lp, 8, why, sizeof(why));

		t->cfg.on_listening(t->cfg.hook_arg, lp, nl, why);
	} else if (t->cfg.on_listening) {
		pid_t kids[8];
		int nk = descendants(pid, kids, 8), same = 0, i;

		/* a server may listen before it forks its workers (nginx's
		 * master does): wait until the process tree has stayed the
		 * same for 100 ms (at most 1 s) */
		for (i = 0; i < 50 && same < 5; i++) {
			pid_t again[8];
			int na;

			usleep(20000);
			na = descendants(pid, again, 8);
			same = na == nk && !memcmp(again, kids, sizeof(kids[0]) * (size_t)na) ? same + 1 : 0;
			memcpy(kids, again, sizeof(kids));
			nk = na;
		}

		t->cfg.on_listening(t->cfg.hook_arg, kids, nk, NULL);
	}
	/* the allocation window opens */
	if (t->ab)
		memcpy(&sh->a0, (const void *)&t->ab->c, sizeof(sh->a0));
	if (target_wire_start(&cap, socket_path || t->host ? NULL : NETNS_SERVER_DEV, t->cfg.port,
			  sh->capture_why, sizeof(sh->capture_why)) < 0)
		sh->capture_failed = 1;
	st->server_pid = pid;
	st->port = t->cfg.port;
	sh->started = 1;
	__atomic_store_n(&st->ready, 1, __ATOMIC_RELEASE);

	while (!*stop) {
		if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
			describe_exit(what, sizeof(what), status);
			snprintf(sh->err, sizeof(sh->err), "'%s' %s during the replay", t->command, what);
			sh->exit_status = status;
			sh->exited_early = 1;
			pid = 0;
		}
		usleep(10000);
	}
out:
	if (t->ab && sh->started) {
		memcpy(&sh->a1, (const void *)&t->ab->c, sizeof(sh->a1));
		sh->window_closed = 1;
	}
	target_wire_stop(&cap);
	if (sh->started) {
		uint32_t k;

		for (k = 0; k < 6; k++)
			st->status[k] = sh->status[k];
	}
	stop_command(pid);
	return rc;
}

void target_report(struct target *t, uint64_t requests, struct target_report *o)
{
	const struct target_shared *sh = t->sh;
	struct pktmem_alloc_counts d;

	memset(o, 0, sizeof(*o));
	o->pid = sh->pid;
	o->exited_early = sh->exited_early;
	o->exit_status = sh->exit_status;
	memcpy(o->status, sh->status, sizeof(o->status));
	o->responses = sh->responses;
	o->response_bytes = sh->response_bytes;
	o->parse_errors = sh->parse_errors;
	o->stream_gaps = sh->stream_gaps;
	o->capture_drops = sh->capture_drops;
	if (sh->capture_failed)
		o->capture_why = sh->capture_why;
	o->alloc_inits = t->ab ? __atomic_load_n(&t->ab->inits, __ATOMIC_RELAXED) : 0;
	if (!t->ab) {
		o->alloc_why = t->alloc_why;
		return;
	}
	if (!sh->window_closed) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "the server never accepted connections");
		o->alloc_why = t->alloc_why;
		return;
	}
	if (!o->alloc_inits) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "the interposer never started in the command's "
			 "processes (environment cleared, a setuid program, or not dynamically linked)");
		o->alloc_why = t->alloc_why;
		return;
	}
	d.malloc_calls = sh->a1.malloc_calls - sh->a0.malloc_calls;
	d.calloc_calls = sh->a1.calloc_calls - sh->a0.calloc_calls;
	d.realloc_calls = sh->a1.realloc_calls - sh->a0.realloc_calls;
	d.memalign_calls = sh->a1.memalign_calls - sh->a0.memalign_calls;
	d.free_calls = sh->a1.free_calls - sh->a0.free_calls;
	d.bytes = sh->a1.bytes - sh->a0.bytes;
	o->mallocs = d.malloc_calls;
	o->callocs = d.calloc_calls;
	o->reallocs = d.realloc_calls;
	o->memaligns = d.memalign_calls;
	o->frees = d.free_calls;
	o->allocs = d.malloc_calls + d.calloc_calls + d.realloc_calls + d.memalign_calls;
	o->alloc_bytes = d.bytes;
	if (!o->allocs && !o->frees && requests) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "the interposer saw no malloc or free during "
			 "the replay: the server allocates without libc malloc (Go runtime, its own "
			 "allocator)");
		o->alloc_why = t->alloc_why;
		return;
	}
	o->alloc_available = true;
}
