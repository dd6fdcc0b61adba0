/* perf.c: perf_event_open, tracefs, counters and sample rings (perf.h). */
#include "profile/perf.h"
#include "core/privs.h"
#include "lib/io.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- tracefs ---------------------------------------------------------- */

static bool dir_has_events(const char *dir)
{
	char p[320];
	struct stat st;

	snprintf(p, sizeof(p), "%s/events", dir);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int perf_tracefs_dir(char *buf, size_t len)
{
	/* The documented places first (Documentation/trace/ftrace.rst), then
	 * whatever /proc/mounts says. */
	static const char *const known[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char line[512], dev[128], dir[300], type[64];
	FILE *f;
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (dir_has_events(known[i])) {
			snprintf(buf, len, "%s", known[i]);
			return 0;
		}
	f = fopen("/proc/mounts", "re");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %299s %63s", dev, dir, type) != 3)
			continue;
		if (!strcmp(type, "tracefs") && dir_has_events(dir)) {
			snprintf(buf, len, "%s", dir);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

/* "\tfield:__data_loc char[] name;\toffset:24;\tsize:4;\tsigned:0;" */
static void parse_field(struct perf_tp *tp, const char *line)
{
	struct perf_tp_field *f;
	const char *decl = strstr(line, "field:"), *semi, *p, *end;
	const char *off, *sz, *sg;
	size_t n;

	if (!decl || tp->nfields >= PERF_TP_MAX_FIELDS)
		return;
	decl += 6;
	semi = strchr(decl, ';');
	off = strstr(line, "offset:");
	sz = strstr(line, "size:");
	sg = strstr(line, "signed:");
	if (!semi || !off || !sz)
		return;
	/* The name is the last identifier of the declaration, before any
	 * array suffix. */
	end = semi;
	p = memchr(decl, '[', (size_t)(semi - decl));
	if (p && !strstr(decl, "__data_loc"))
		end = p;
	while (end > decl && !(isalnum((unsigned char)end[-1]) || end[-1] == '_'))
		end--;
	p = end;
	while (p > decl && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
		p--;
	n = (size_t)(end - p);
	if (n == 0 || n >= sizeof(f->name))
		return;
	f = &tp->field[tp->nfields++];
	memcpy(f->name, p, n);
	f->name[n] = 0;
	f->offset = (uint16_t)atoi(off + 7);
	f->size = (uint16_t)atoi(sz + 5);
	f->is_signed = sg ? atoi(sg + 7) != 0 : false;
	f->data_loc = strstr(decl, "__data_loc") && strstr(decl, "__data_loc") < semi;
}

#define LOAD_BUF 16384

/* buf: LOAD_BUF bytes of the caller's (load_private's child must not
 * allocate: see there). */
static void load_one(const char *dir, struct perf_tp *tp, char *buf)
{
	char path[480], *line, *save = NULL;
	int n;

	tp->id = -1;
	tp->nfields = 0;
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", dir, tp->sys, tp->name);
	n = (int)io_read_small(path, buf, LOAD_BUF);
	if (n < 0) {
		tp->err = n == -ENOENT ? PERF_E_NOTP : n;
		return;
	}
	tp->id = atoi(buf);
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", dir, tp->sys, tp->name);
	n = (int)io_read_small(path, buf, LOAD_BUF);
	if (n < 0) {
		tp->err = PERF_E_FORMAT;
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		parse_field(tp, line);
	tp->err = tp->nfields > 0 ? 0 : PERF_E_FORMAT;
}

/* tracefs is not mounted: mount it in a private mount namespace of a
 * child, so nothing changes for the host, and read what we need there. */
static int load_private(struct perf_tp *tp, size_t n)
{
	int pfd[2], status, rc = 0;
	size_t want = n * sizeof(*tp), got = 0;
	ssize_t r;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return rc;
	}
	if (pid == 0) {
		/* This process has other threads (the profiler starts from
		 * one): another thread may have held an allocator lock at the
		 * fork, so the child allocates nothing. */
		static char buf[LOAD_BUF];
		size_t i;

		close(pfd[0]);
		if (unshare(CLONE_NEWNS) < 0 ||
		    /* type "none": ignored for a propagation change, but
		     * valgrind rejects a NULL type pointer */
		    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0)
			_exit(10);
		for (i = 0; i < n; i++)
			load_one("/sys/kernel/tracing", &tp[i], buf);
		if (write(pfd[1], tp, want) != (ssize_t)want)
			_exit(11);
		_exit(0);
	}
	close(pfd[1]);
	while (got < want) {
		r = read(pfd[0], (char *)tp + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != want)
		return PERF_E_NOTRACEFS;
	return 0;
}

int perf_tp_load(struct perf_tp *tp, size_t n, bool *private_mount)
{
	char dir[300], *buf;
	size_t i;

	if (private_mount)
		*private_mount = false;
	if (perf_tracefs_dir(dir, sizeof(dir)) == 0) {
		if (!(buf = malloc(LOAD_BUF)))
			return -ENOMEM;
		for (i = 0; i < n; i++)
			load_one(dir, &tp[i], buf);
		free(buf);
		return 0;
	}
	if (private_mount)
		*private_mount = true;
	for (i = 0; i < n; i++) {
		tp[i].id = -1;
		tp[i].err = PERF_E_NOTRACEFS;
	}
	return load_private(tp, n);
}

const struct perf_tp_field *perf_tp_field(const struct perf_tp *tp, const char *name)
{
	int i;

	for (i = 0; i < tp->nfields; i++)
		if (!strcmp(tp->field[i].name, name))
			return &tp->field[i];
	return NULL;
}

uint64_t perf_tp_get(const struct perf_tp_field *f, const void *raw, size_t rawlen)
{
	const unsigned char *p = raw;

	if (!f || (size_t)f->offset + f->size > rawlen)
		return 0;
	p += f->offset;
	switch (f->size) {
	case 1: return f->is_signed ? (uint64_t)(int64_t)*(const int8_t *)p : *p;
	case 2: { uint16_t v; memcpy(&v, p, 2);
		  return f->is_signed ? (uint64_t)(int64_t)(int16_t)v : v; }
	case 4: { uint32_t v; memcpy(&v, p, 4);
		  return f->is_signed ? (uint64_t)(int64_t)(int32_t)v : v; }
	case 8: { uint64_t v; memcpy(&v, p, 8); return v; }
	default: return 0;
	}
}

/* ---- events ----------------------------------------------------------- */

int perf_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
	      unsigned long flags)
{
	long fd;

	if (!attr->size)
		attr->size = sizeof(*attr);
	fd = syscall(SYS_perf_event_open, attr, pid, cpu, group_fd,
		     flags | PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

void perf_attr_tp(struct perf_event_attr *attr, const struct perf_tp *tp)
{
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	attr->type = PERF_TYPE_TRACEPOINT;
	attr->config = (uint64_t)tp->id;
	attr->disabled = 1;
}

int perf_set_filter(int fd, const char *filter)
{
	return ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter) < 0 ? -errno : 0;
}

int perf_cpus(int *cpus, int max)
{
	char buf[256], *p, *end;
	int n = 0, a, b, i;

	if (io_read_small("/sys/devices/system/cpu/online", buf, sizeof(buf)) < 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		for (i = 0; i < c && n < max; i++)
			cpus[n++] = i;
		return n;
	}
	for (p = buf; *p && *p != '\n';) {
		a = (int)strtol(p, &end, 10);
		b = a;
		if (*end == '-')
			b = (int)strtol(end + 1, &end, 10);
		for (i = a; i <= b && n < max; i++)
			cpus[n++] = i;
		p = *end == ',' ? end + 1 : end;
		if (p == end && *p != ',' && *p)
			break;
	}
	return n;
}

int perf_paranoid(void)
{
	char buf[32];

	if (io_read_small("/proc/sys/kernel/perf_event_paranoid", buf, sizeof(buf)) < 0)
		return -100;
	return atoi(buf);
}

bool perf_privileged(void)
{
	/* CAP_PERFMON, or CAP_SYS_ADMIN as before Linux 5.8 */
	long long eff;

	if (perf_paranoid() <= -1)
		return true;
	eff = privs_effective();
	if (eff < 0)
		return geteuid() == 0;
	return eff & ((1LL << CAP_SYS_ADMIN) | (1LL << CAP_PERFMON));
}

/* The targets of a counter or ring: pid's threads or every CPU. */
struct target {
	int n;
	pid_t tid[256];
	int cpu[256];
};

static int target_list(struct target *t, pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	t->n = 0;
	if (pid < 0) {
		int cpus[256], n = perf_cpus(cpus, 256), i;

		for (i = 0; i < n; i++) {
			t->tid[t->n] = -1;
			t->cpu[t->n++] = cpus[i];
		}
		return t->n ? 0 : -ENODEV;
	}
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -ESRCH;
	while ((de = readdir(d)) && t->n < 256) {
		if (de->d_name[0] == '.')
			continue;
		t->tid[t->n] = atoi(de->d_name);
		t->cpu[t->n++] = -1;
	}
	closedir(d);
	return t->n ? 0 : -ESRCH;
}

struct perf_counter {
	int n;
	int fd[256];
};

int perf_counter_open(struct perf_counter **out, const struct perf_event_attr *attr0,
		      pid_t pid, const char *filter)
{
	struct perf_event_attr attr = *attr0;
	struct perf_counter *c;
	struct target t;
	int rc, i, fd;

	*out = NULL;
	rc = target_list(&t, pid);
	if (rc < 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	attr.size = sizeof(attr);
	attr.disabled = 1;
	attr.inherit = pid > 0;
	attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	for (i = 0; i < t.n; i++) {
		fd = perf_open(&attr, t.tid[i], t.cpu[i], -1, 0);
		if (fd == -ESRCH && pid > 0)
			continue;	/* that thread just exited */
		if (fd < 0) {
			rc = fd;
			goto fail;
		}
		c->fd[c->n++] = fd;
		if (filter && *filter && (rc = perf_set_filter(fd, filter)) < 0)
			goto fail;
	}
	if (!c->n) {
		rc = -ESRCH;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	perf_counter_free(c);
	return rc;
}

static int ioctl_all(const int *fds, int n, unsigned long req)
{
	int i;

	for (i = 0; i < n; i++)
		if (ioctl(fds[i], req, 0) < 0)
			return -errno;
	return 0;
}

int perf_counter_enable(struct perf_counter *c)
{
	return c ? ioctl_all(c->fd, c->n, PERF_EVENT_IOC_ENABLE) : 0;
}

int perf_counter_disable(struct perf_counter *c)
{
	return c ? ioctl_all(c->fd, c->n, PERF_EVENT_IOC_DISABLE) : 0;
}

int perf_counter_read(const struct perf_counter *c, uint64_t *value)
{
	uint64_t v[3], sum = 0;
	int i;

	*value = 0;
	if (!c)
		return -EBADF;
	for (i = 0; i < c->n; i++) {
		ssize_t n = read(c->fd[i], v, sizeof(v));

		if (n < 0)
			return -errno;
		if (n != (ssize_t)sizeof(v))
			return -EIO;
		/* Multiplexed: scale by the share of time it was counting. */
		if (v[2] && v[2] < v[1])
			v[0] = (uint64_t)((double)v[0] * (double)v[1] / (double)v[2]);
		sum += v[0];
	}
	*value = sum;
	return 0;
}

void perf_counter_free(struct perf_counter *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		close(c->fd[i]);
	free(c);
}

/* ---- rings ------------------------------------------------------------ */

#define RING_MAX_FDS 1024
#define RING_MAX_MAPS 256

struct perf_ring {
	int nfd, nmap;
	size_t map_len;		/* bytes: 1 + 2^k pages */
	unsigned char *scratch;	/* a record that wraps is copied here */
	int fd[RING_MAX_FDS];
	struct {
		int fd, cpu;
		struct perf_event_mmap_page *meta;
	} m[RING_MAX_MAPS];
};

/* Per-task rings cannot inherit unless they are per CPU as well
 * (kernel/events/core.c perf_mmap: "Don't allow mmap() of inherited
 * per-task counters"), so a task target is opened once per thread and
 * CPU, and every event on a CPU writes into that CPU's one buffer
 * (PERF_EVENT_IOC_SET_OUTPUT): records of one CPU stay in time order. */
int perf_ring_open(struct perf_ring **out, const struct perf_event_attr *attrs,
		   const char *const *filters, int nattr, pid_t pid, unsigned pages)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct perf_event_attr attr;
	struct perf_ring *r;
	struct target t;
	int cpus[256], ncpu, rc = 0, i, j, c, fd, k;
	void *mm;

	*out = NULL;
	if (pages == 0 || (pages & (pages - 1)) || nattr <= 0)
		return -EINVAL;	/* the data area must be 2^n pages */
	ncpu = perf_cpus(cpus, 256);
	if (ncpu <= 0)
		return -ENODEV;
	if (pid > 0) {
		rc = target_list(&t, pid);
		if (rc < 0)
			return rc;
	} else {
		t.n = 1;
		t.tid[0] = -1;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->map_len = (size_t)(pages + 1) * (size_t)psz;
	r->scratch = malloc(65536 + 8);	/* perf_event_header.size is a u16 */
	if (!r->scratch) {
		free(r);
		return -ENOMEM;
	}
	for (c = 0; c < ncpu; c++) {
		int out_fd = -1;

		for (i = 0; i < t.n; i++) {
			for (j = 0; j < nattr; j++) {
				if (r->nfd >= RING_MAX_FDS) {
					rc = -EMFILE;
					goto fail;
				}
				attr = attrs[j];
				attr.size = sizeof(attr);
				attr.disabled = 1;
				attr.inherit = pid > 0;
				fd = perf_open(&attr, t.tid[i], cpus[c], -1, 0);
				if (fd == -ESRCH && pid > 0)
					break;	/* that thread just exited */
				if (fd < 0) {
					rc = fd;
					goto fail;
				}
				r->fd[r->nfd++] = fd;
				if (filters && filters[j] && *filters[j] &&
				    (rc = perf_set_filter(fd, filters[j])) < 0)
					goto fail;
				if (out_fd >= 0) {
					if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, out_fd) < 0) {
						rc = -errno;
						goto fail;
					}
					continue;
				}
				mm = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
				if (mm == MAP_FAILED) {
					rc = -errno;
					goto fail;
				}
				k = r->nmap++;
				r->m[k].fd = fd;
				r->m[k].cpu = cpus[c];
				r->m[k].meta = mm;
				out_fd = fd;
			}
		}
	}
	if (!r->nmap) {
		rc = -ESRCH;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	perf_ring_free(r);
	return rc;
}

int perf_ring_enable(struct perf_ring *r)
{
	return r ? ioctl_all(r->fd, r->nfd, PERF_EVENT_IOC_ENABLE) : 0;
}

int perf_ring_disable(struct perf_ring *r)
{
	return r ? ioctl_all(r->fd, r->nfd, PERF_EVENT_IOC_DISABLE) : 0;
}

int perf_ring_fds(const struct perf_ring *r, int *fds, int max)
{
	int i;

	for (i = 0; r && i < r->nmap && i < max; i++)
		fds[i] = r->m[i].fd;
	return i;
}

long perf_ring_drain(struct perf_ring *r, perf_sample_fn fn, void *arg, uint64_t *lost)
{
	long seen = 0;
	int i;

	for (i = 0; r && i < r->nmap; i++) {
		struct perf_event_mmap_page *meta = r->m[i].meta;
		unsigned char *data = (unsigned char *)meta + meta->data_offset;
		uint64_t size = meta->data_size;
		/* Acquire pairs with the kernel's store of data_head
		 * (include/uapi/linux/perf_event.h, "User-space reading"). */
		uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
		uint64_t tail = meta->data_tail;

		while (tail < head) {
			struct perf_event_header h;
			uint64_t off = tail % size;
			const unsigned char *rec;

			if (off + sizeof(h) <= size) {
				memcpy(&h, data + off, sizeof(h));
			} else {
				size_t first = (size_t)(size - off);

				memcpy(&h, data + off, first);
				memcpy((char *)&h + first, data, sizeof(h) - first);
			}
			if (h.size < sizeof(h) || tail + h.size > head)
				break;
			if (off + h.size <= size) {
				rec = data + off;
			} else {
				size_t first = (size_t)(size - off);

				memcpy(r->scratch, data + off, first);
				memcpy(r->scratch + first, data, h.size - first);
				rec = r->scratch;
			}
			if (h.type == PERF_RECORD_SAMPLE) {
				seen++;
				if (fn)
					fn(arg, &h, rec + sizeof(h), h.size - sizeof(h));
			} else if (h.type == PERF_RECORD_LOST && lost) {
				uint64_t v[2];

				if (h.size >= sizeof(h) + sizeof(v)) {
					memcpy(v, rec + sizeof(h), sizeof(v));
					*lost += v[1];
				}
			}
			tail += h.size;
		}
		__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	}
	return seen;
}

void perf_ring_free(struct perf_ring *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < r->nmap; i++)
		munmap(r->m[i].meta, r->map_len);
	for (i = 0; i < r->nfd; i++)
		close(r->fd[i]);
	free(r->scratch);
	free(r);
}

int perf_sample_parse(uint64_t st, const void *rec, size_t len, struct perf_sample *s)
{
	const unsigned char *p = rec, *end = p + len;
	const uint64_t supported = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
				   PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD |
				   PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_RAW;
	uint64_t v;

	memset(s, 0, sizeof(*s));
	if (st & ~supported)
		return -EINVAL;
#define TAKE(dst) do { if ((size_t)(end - p) < 8) return -EINVAL; memcpy(&(dst), p, 8); p += 8; } while (0)
	if (st & PERF_SAMPLE_IP)
		TAKE(s->ip);
	if (st & PERF_SAMPLE_TID) {
		TAKE(v);
		s->pid = (uint32_t)v;
		s->tid = (uint32_t)(v >> 32);
	}
	if (st & PERF_SAMPLE_TIME)
		TAKE(s->time);
	if (st & PERF_SAMPLE_CPU) {
		TAKE(v);
		s->cpu = (uint32_t)v;
	}
	if (st & PERF_SAMPLE_PERIOD)
		TAKE(v);
	if (st & PERF_SAMPLE_CALLCHAIN) {
		TAKE(s->nr);
		if (s->nr > (uint64_t)(end - p) / 8)
			return -EINVAL;
		s->ips = (const uint64_t *)(const void *)p;
		p += s->nr * 8;
	}
	if (st & PERF_SAMPLE_RAW) {
		uint32_t sz;

		if ((size_t)(end - p) < 4)
			return -EINVAL;
		memcpy(&sz, p, 4);
		p += 4;
		if (sz > (size_t)(end - p))
			return -EINVAL;
		s->raw_size = sz;
		s->raw = p;
	}
#undef TAKE
	return 0;
}

/* ---- advice ----------------------------------------------------------- */

static const char *errno_name(int e)
{
	switch (e) {
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENODEV: return "ENODEV";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EBUSY: return "EBUSY";
	case ESRCH: return "ESRCH";
	case E2BIG: return "E2BIG";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC";
	default: return NULL;
	}
}

/* A tracepoint is named "sys:name"; libpfm names use "pmu::event". */
static bool is_tracepoint_name(const char *what)
{
	const char *c = what ? strchr(what, ':') : NULL;

	return c && c[1] != ':' && c != what;
}

const char *perf_strerror(int err, const char *what, char *buf, size_t len)
{
	int e = err < 0 ? -err : err;
	const char *en = errno_name(e);
	int par = perf_paranoid();

	if (!what)
		what = "event";
	switch (err) {
	case PERF_E_NOTRACEFS:
		snprintf(buf, len, "tracefs is not mounted and cannot be mounted here: "
			 "as root run 'mount -t tracefs nodev /sys/kernel/tracing'");
		return buf;
	case PERF_E_NOTP:
		snprintf(buf, len, "tracepoint %s does not exist in this kernel", what);
		return buf;
	case PERF_E_FORMAT:
		snprintf(buf, len, "tracepoint %s: unreadable format file in tracefs", what);
		return buf;
	case PERF_E_NOFIELD:
		snprintf(buf, len, "tracepoint %s lacks a field pktmem reads (kernel too old or too new)", what);
		return buf;
	}
	switch (e) {
	case EACCES:
	case EPERM:
		snprintf(buf, len, "perf_event_paranoid=%d: run as root or set "
			 "kernel.perf_event_paranoid=-1 (or grant CAP_PERFMON): "
			 "perf_event_open(%s) = %s", par, what, en);
		break;
	case ENOENT:
		if (is_tracepoint_name(what))
			snprintf(buf, len, "tracepoint %s does not exist in this kernel: "
				 "perf_event_open(%s) = ENOENT", what, what);
		else
			snprintf(buf, len, "no PMU: perf_event_open(%s) = ENOENT", what);
		break;
	case EINVAL:
		snprintf(buf, len, "perf_event_open(%s) = EINVAL: the kernel rejects the "
			 "attributes (unsupported event, filter or sample rate above "
			 "kernel.perf_event_max_sample_rate)", what);
		break;
	case EMFILE:
		snprintf(buf, len, "perf_event_open(%s) = EMFILE: too many open files; "
			 "raise 'ulimit -n' (one descriptor per CPU and event)", what);
		break;
	case ENODEV:
	case EOPNOTSUPP:
		snprintf(buf, len, "perf_event_open(%s) = %s: not supported by this "
			 "PMU or kernel (sampling or this mode)", what, en);
		break;
	case EBUSY:
		snprintf(buf, len, "perf_event_open(%s) = EBUSY: the PMU is in use by "
			 "another tool (e.g. the NMI watchdog: sysctl kernel.nmi_watchdog=0)", what);
		break;
	case ESRCH:
		snprintf(buf, len, "perf_event_open(%s) = ESRCH: the target process has exited", what);
		break;
	default:
		if (en)
			snprintf(buf, len, "perf_event_open(%s) = %s: %s", what, en, strerror(e));
		else
			snprintf(buf, len, "%s: %s", what, strerror(e));
		break;
	}
	return buf;
}

const long perf_read_syscalls[] = {
#ifdef __NR_read
	__NR_read,
#endif
#ifdef __NR_pread64
	__NR_pread64,
#endif
#ifdef __NR_readv
	__NR_readv,
#endif
#ifdef __NR_preadv
	__NR_preadv,
#endif
#ifdef __NR_preadv2
	__NR_preadv2,
#endif
#ifdef __NR_recvfrom
	__NR_recvfrom,
#endif
#ifdef __NR_recvmsg
	__NR_recvmsg,
#endif
#ifdef __NR_recvmmsg
	__NR_recvmmsg,
#endif
};
const size_t perf_nread_syscalls = sizeof(perf_read_syscalls) / sizeof(perf_read_syscalls[0]);
