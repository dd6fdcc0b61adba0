/* sample.c: cycles / cpu-clock sampling with callchains (sample.h). */
#include "profile/sample.h"
#include "lib/time.h"
#include "profile/perf.h"
#include "profile/usym.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMM_CACHE 64
#define SEEN_CACHE 256		/* pids checked for a watched parent */
#define CHAIN_MAX (1u << 16)	/* distinct raw chains kept for naming */
#define TOP_MAX 4096		/* distinct user leaf functions counted */
#define IS_MARKER(ip) ((ip) >= (uint64_t)-4095)
#define USER_TOP 0x0000800000000000ULL	/* x86-64 user addresses end below */
/* User stack copied with each sample for DWARF unwinding: enough for the
 * core server's frames from the leaf up past server_run (98% of its
 * samples there with 8 KiB, as with 16 KiB; 39% with 4 KiB).  Every user
 * process's sample on the machine carries the copy, so no more. */
#define STACK_BYTES 8192
#define MAX_UFRAMES 127		/* perf's default callchain depth */
/* Watched samples' stacks kept for unwinding after the run: about 3500
 * samples of 8 KiB (a few seconds of a busy server at 999 Hz); past it
 * they are unwound at once. */
#define PEND_MAX_BYTES (32u << 20)

/* A watched process's callchain, kept raw until the run is over. */
struct chain {
	uint64_t *ips;		/* NULL: empty slot */
	uint32_t pid;
	uint16_t n;
	bool server;
	char comm[16];
	uint64_t count;
};

/* A watched sample put aside until the run is over: data holds ips[nr],
 * regs[nregs], then dyn bytes of user stack. */
struct pend {
	struct pend *next;
	uint32_t pid, tid;
	bool server;
	uint16_t nr;
	size_t dyn;
	char comm[16];
	uint64_t data[];
};

struct leaf {
	char name[160], module[64];
	bool named;
	uint64_t count;
};

struct sampler {
	struct perf_ring *ring;
	struct ksym *ksym;
	struct ksym_folded *folded;
	uint64_t sample_type;		/* what perf_sample_parse() reads */
	uint64_t regs_mask;		/* user registers and stacks: unwinding */
	unsigned nregs;
	uint64_t unwound, fp_only;	/* watched samples by how their user stack was walked */
	uint64_t unwind_ns;		/* spent unwinding (after the run, or past PEND_MAX_BYTES in the reader thread) */
	uint64_t chain_tmp[2 * MAX_UFRAMES + 8];
	struct pend *pend, **pend_tail;	/* watched samples to unwind after the run */
	size_t pend_bytes;
	bool cycles;
	int hz;
	uint64_t samples[KS__N], period[KS__N], lost;
	struct { uint32_t pid; char comm[20]; } comm[COMM_CACHE];
	unsigned ncomm;

	/* user-space names (usym.h) */
	struct usym *usym;
	int usym_err;			/* first failure to read a server's maps */
	struct { pid_t pid; bool server; uint64_t user; } watch[USYM_MAX_PIDS];
	int nwatch;
	struct { uint32_t pid; int8_t w; } seen[SEEN_CACHE];
	unsigned nseen;
	struct chain *chain;
	size_t chain_cap, nchain;
	uint64_t chain_dropped;		/* samples folded as [user]: table full */
	uint64_t srv_samples, srv_user;
	uint64_t add_ns, resolve_ns;
	bool symbolized;
	struct report_usyms top;
};

static int watch_add(struct sampler *s, pid_t pid, bool server)
{
	uint64_t t0 = pm_now_ns();
	int rc;

	if (s->nwatch >= USYM_MAX_PIDS)
		return -ENOSPC;
	rc = usym_add_pid(s->usym, pid);
	s->add_ns += pm_now_ns() - t0;
	if (rc < 0)
		return rc;
	s->watch[s->nwatch].pid = pid;
	s->watch[s->nwatch].server = server;
	s->watch[s->nwatch].user = 0;
	return s->nwatch++;
}

/* The parent of pid from /proc/PID/stat ("pid (comm) S ppid ..."; the
 * comm may hold ')' itself), or -1. */
static pid_t parent_of(uint32_t pid)
{
	char path[48], buf[512], *p;
	ssize_t n;
	int fd, ppid;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* Index of pid in the watch list, or -1.  A process first seen whose
 * parent is a watched server (a worker forked after the start) is added
 * now, while it runs: reading its maps costs a few hundred us once. */
static int watch_of(struct sampler *s, uint32_t pid)
{
	unsigned i, slot;
	pid_t ppid;
	int w;

	for (w = 0; w < s->nwatch; w++)
		if ((uint32_t)s->watch[w].pid == pid)
			return w;
	if (!s->usym)
		return -1;
	for (i = 0; i < SEEN_CACHE && i < s->nseen; i++)
		if (s->seen[i].pid == pid)
			return s->seen[i].w;
	slot = s->nseen++ % SEEN_CACHE;
	s->seen[slot].pid = pid;
	s->seen[slot].w = -1;
	ppid = pid ? parent_of(pid) : -1;
	for (w = 0; ppid > 0 && w < s->nwatch; w++)
		if (s->watch[w].pid == ppid && s->watch[w].server) {
			s->seen[slot].w = (int8_t)watch_add(s, (pid_t)pid, true);
			if (s->seen[slot].w < 0)
				s->seen[slot].w = -1;
			break;
		}
	return s->seen[slot].w;
}

static uint64_t hash_chain(uint32_t pid, const uint64_t *ips, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ pid;	/* FNV-1a over words */
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ ips[i]) * 1099511628211ULL;
	return h;
}

static int chain_grow(struct sampler *s)
{
	struct chain *old = s->chain, *t;
	size_t cap = s->chain_cap ? s->chain_cap * 2 : 1024, i, j;

	t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (i = 0; i < s->chain_cap; i++) {
		if (!old[i].ips)
			continue;
		j = hash_chain(old[i].pid, old[i].ips, old[i].n) & (cap - 1);
		while (t[j].ips)
			j = (j + 1) & (cap - 1);
		t[j] = old[i];
	}
	free(old);
	s->chain = t;
	s->chain_cap = cap;
	return 0;
}

/* Keeps one sample of a watched process; -ENOSPC when the table is full. */
static int chain_keep(struct sampler *s, uint32_t pid, bool server, const char *comm,
		      const uint64_t *ips, size_t n)
{
	size_t j;

	if (n > UINT16_MAX)
		n = UINT16_MAX;
	if ((s->nchain + 1) * 2 > s->chain_cap) {
		if (s->chain_cap >= 2 * CHAIN_MAX || chain_grow(s) < 0)
			return -ENOSPC;
	}
	j = hash_chain(pid, ips, n) & (s->chain_cap - 1);
	while (s->chain[j].ips && (s->chain[j].pid != pid || s->chain[j].n != n ||
				   memcmp(s->chain[j].ips, ips, n * sizeof(*ips))))
		j = (j + 1) & (s->chain_cap - 1);
	if (!s->chain[j].ips) {
		s->chain[j].ips = malloc((n ? n : 1) * sizeof(*ips));
		if (!s->chain[j].ips)
			return -ENOMEM;
		memcpy(s->chain[j].ips, ips, n * sizeof(*ips));
		s->chain[j].pid = pid;
		s->chain[j].n = (uint16_t)n;
		s->chain[j].server = server;
		snprintf(s->chain[j].comm, sizeof(s->chain[j].comm), "%s", comm);
		s->nchain++;
	}
	s->chain[j].count++;
	return 0;
}

static const char *comm_of(struct sampler *s, uint32_t pid)
{
	char path[48], buf[20];
	unsigned i, slot;
	ssize_t n;
	int fd;

	for (i = 0; i < COMM_CACHE && i < s->ncomm; i++)
		if (s->comm[i].pid == pid)
			return s->comm[i].comm;
	slot = s->ncomm++ % COMM_CACHE;
	s->comm[slot].pid = pid;
	snprintf(s->comm[slot].comm, sizeof(s->comm[slot].comm), "%s",
		 pid ? "[exited]" : "swapper");
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	if (pid && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			buf[strcspn(buf, "\n")] = 0;
			snprintf(s->comm[slot].comm, sizeof(s->comm[slot].comm), "%s", buf);
		}
	}
	return s->comm[slot].comm;
}

int sampler_new(struct sampler **out, const struct sampler_cfg *cfg)
{
	struct perf_event_attr attr;
	struct sampler *s;
	unsigned ring_pages = 64;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->hz = cfg->hz > 0 ? cfg->hz : SAMPLE_DEFAULT_HZ;
	s->pend_tail = &s->pend;
	rc = ksym_load(&s->ksym, cfg->kallsyms);
	if (rc < 0)
		goto fail;
	if (cfg->folded && !(s->folded = ksym_folded_new())) {
		rc = -ENOMEM;
		goto fail;
	}
	if (cfg->nserver + cfg->nother > 0) {
		int i;

		rc = usym_new(&s->usym);
		if (rc < 0)
			goto fail;
		/* Their mappings now, while they run (usym.h says why). */
		for (i = 0; i < cfg->nserver; i++)
			if ((rc = watch_add(s, cfg->server[i], true)) < 0 && !s->usym_err)
				s->usym_err = rc;
		for (i = 0; i < cfg->nother; i++)
			watch_add(s, cfg->other[i], false);
	}
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.freq = 1;
	attr.sample_freq = (uint64_t)s->hz;
	attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
			   PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_CALLCHAIN;
	s->sample_type = attr.sample_type;
	/* Watched processes are unwound by DWARF CFI, as Debian's libc keeps
	 * no frame pointers: every sample then carries the user registers and
	 * a copy of the user stack (system-wide, so other processes' too, at
	 * about 1 us of copying each; only the watched are unwound). */
	if (s->nwatch && usym_regs_mask()) {
		s->regs_mask = usym_regs_mask();
		s->nregs = (unsigned)__builtin_popcountll(s->regs_mask);
		attr.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
		attr.sample_regs_user = s->regs_mask;
		attr.sample_stack_user = STACK_BYTES;
		ring_pages = 128;	/* 64 samples of 8 KiB per CPU, as before */
	}
	rc = -ENOENT;
	if (cfg->try_cycles) {
		attr.type = PERF_TYPE_HARDWARE;
		attr.config = PERF_COUNT_HW_CPU_CYCLES;
		rc = perf_ring_open(&s->ring, &attr, NULL, 1, cfg->pid, ring_pages);
		s->cycles = rc == 0;
	}
	if (rc < 0) {
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
		rc = perf_ring_open(&s->ring, &attr, NULL, 1, cfg->pid, ring_pages);
	}
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	sampler_free(s);
	return rc;
}

int sampler_enable(struct sampler *s) { return perf_ring_enable(s->ring); }
int sampler_disable(struct sampler *s) { return perf_ring_disable(s->ring); }
int sampler_fds(const struct sampler *s, int *fds, int max) { return perf_ring_fds(s->ring, fds, max); }
const char *sampler_event(const struct sampler *s) { return s->cycles ? "cycles" : "cpu-clock"; }
int sampler_hz(const struct sampler *s) { return s->hz; }

/*
 * The user registers and stack copy of a sample.  Layout after the
 * callchain (perf_event_open(2)): REGS_USER { u64 abi; u64 regs[nregs]
 * when abi != 0 }, STACK_USER { u64 size; u8 data[size]; u64 dyn_size
 * when size != 0 }.  0 with *regs (copied to regs_buf: the ring may not
 * align it), *stack and *dyn set, or -1 when the sample has none.
 */
static int user_parts(const struct sampler *s, const struct perf_sample *ps,
		      const unsigned char *rec, size_t len, uint64_t *regs_buf,
		      const unsigned char **stack, size_t *dyn)
{
	const unsigned char *q = rec + 5 * 8 + 8 + ps->nr * 8, *end = rec + len;
	uint64_t abi, size = 0, d = 0;

	if ((size_t)(end - q) < 8)
		return -1;
	memcpy(&abi, q, 8);
	q += 8;
	if (!abi)
		return -1;
	if ((size_t)(end - q) < 8 * (size_t)s->nregs + 8 || s->nregs > USYM_NREGS + 1)
		return -1;
	memcpy(regs_buf, q, 8 * (size_t)s->nregs);
	q += 8 * (size_t)s->nregs;
	if ((size_t)(end - q) < 8)
		return -1;
	memcpy(&size, q, 8);
	q += 8;
	if (!size || (uint64_t)(end - q) < size + 8)
		return -1;
	memcpy(&d, q + size, 8);
	if (d > size)
		d = size;
	if (!d)
		return -1;
	*stack = q;
	*dyn = (size_t)d;
	return 0;
}

/*
 * A sample's user stack unwound by DWARF CFI (usym_unwind), put in place
 * of the frame-pointer part of its callchain ips[nr]: *out points to
 * s->chain_tmp then.  Kept as it was when the unwinder gets less than
 * the frame pointers did (a leaf without CFI, a stack beyond the copy).
 */
static size_t unwind(struct sampler *s, uint32_t pid, uint32_t tid, const uint64_t *ips,
		     size_t nr, const uint64_t *regs, const unsigned char *stack, size_t dyn,
		     const uint64_t **out)
{
	size_t kern = 0, fp = 0, i;
	uint64_t t0;
	int n;

	/* the kernel part: up to the user marker */
	while (kern < nr && ips[kern] != PERF_CONTEXT_USER)
		kern++;
	for (i = kern + 1; i < nr && !IS_MARKER(ips[i]); i++)
		fp++;
	if (kern > MAX_UFRAMES)
		return nr;
	memcpy(s->chain_tmp, ips, kern * 8);
	s->chain_tmp[kern] = PERF_CONTEXT_USER;
	t0 = pm_now_ns();
	n = usym_unwind(s->usym, (pid_t)pid, (pid_t)tid, regs, stack, dyn,
			s->chain_tmp + kern + 1, MAX_UFRAMES);
	s->unwind_ns += pm_now_ns() - t0;
	if (n < 2 && (size_t)n < fp) {
		s->fp_only++;
		return nr;
	}
	s->unwound++;
	*out = s->chain_tmp;
	return kern + 1 + (size_t)n;
}

/* Keeps a watched sample's chain, user part unwound from regs/stack when
 * given. */
static void keep(struct sampler *s, uint32_t pid, uint32_t tid, bool server, const char *comm,
		 const uint64_t *ips, size_t nr, const uint64_t *regs,
		 const unsigned char *stack, size_t dyn)
{
	const uint64_t *u = ips;
	size_t n = regs ? unwind(s, pid, tid, ips, nr, regs, stack, dyn, &u) : nr;

	if (chain_keep(s, pid, server, comm, u, n) == 0)
		return;
	/* the table is full: folded as [user] */
	s->chain_dropped++;
	if (s->folded)
		ksym_folded_add(s->folded, s->ksym, comm, ips, nr);
}

/* Unwinds the samples put aside during the run (after it: the unwinding
 * costs about 12 us a sample, which the reader thread would otherwise
 * take from the measured processes' CPUs). */
static void unwind_pending(struct sampler *s)
{
	struct pend *q;

	while ((q = s->pend)) {
		const uint64_t *ips = q->data, *regs = q->data + q->nr;

		s->pend = q->next;
		keep(s, q->pid, q->tid, q->server, q->comm, ips, q->nr, regs,
		     (const unsigned char *)(regs + s->nregs), q->dyn);
		free(q);
	}
	s->pend_tail = &s->pend;
	s->pend_bytes = 0;
}

/* Puts a watched sample aside for unwind_pending; -1 when over the
 * memory bound (it is then unwound at once). */
static int defer(struct sampler *s, uint32_t pid, uint32_t tid, bool server, const char *comm,
		 const uint64_t *ips, size_t nr, const uint64_t *regs,
		 const unsigned char *stack, size_t dyn)
{
	size_t words = nr + s->nregs, sz = sizeof(struct pend) + words * 8 + dyn;
	struct pend *q;

	if (s->pend_bytes + sz > PEND_MAX_BYTES || nr > UINT16_MAX || !(q = malloc(sz)))
		return -1;
	q->next = NULL;
	q->pid = pid;
	q->tid = tid;
	q->server = server;
	q->nr = (uint16_t)nr;
	q->dyn = dyn;
	snprintf(q->comm, sizeof(q->comm), "%s", comm);
	memcpy(q->data, ips, nr * 8);
	memcpy(q->data + nr, regs, s->nregs * 8);
	memcpy((unsigned char *)(q->data + words), stack, dyn);
	*s->pend_tail = q;
	s->pend_tail = &q->next;
	s->pend_bytes += sz;
	return 0;
}

static void on_sample(void *arg, const struct perf_event_header *h, const void *rec, size_t len)
{
	struct sampler *s = arg;
	struct perf_sample ps;
	enum ksym_stage st;
	uint64_t period;
	const unsigned char *p = rec;
	int w;

	(void)h;
	/* REGS_USER and STACK_USER come after what perf_sample_parse()
	 * reads: user_parts() takes them */
	if (perf_sample_parse(s->sample_type, rec, len, &ps) < 0)
		return;
	/* PERIOD follows IP, TID, TIME, CPU: 4 words in. */
	memcpy(&period, p + 32, 8);
	st = ksym_classify(s->ksym, ps.ips, ps.nr);
	s->samples[st]++;
	s->period[st] += period;
	w = watch_of(s, ps.pid);
	if (w >= 0 && s->watch[w].server) {
		s->srv_samples++;
		if (ps.nr && ps.ips[0] == PERF_CONTEXT_USER) {
			s->srv_user++;
			s->watch[w].user++;
		}
	}
	/* A watched process's chain is named after the run; the rest is
	 * folded now with "[user]". */
	if (w >= 0 && (s->folded || s->watch[w].server)) {
		uint64_t regs[USYM_NREGS + 1];
		const unsigned char *stack = NULL;
		const char *comm = comm_of(s, ps.pid);
		size_t dyn = 0;
		bool srv = s->watch[w].server;

		if (!s->regs_mask || user_parts(s, &ps, p, len, regs, &stack, &dyn) < 0)
			keep(s, ps.pid, ps.tid, srv, comm, ps.ips, ps.nr, NULL, NULL, 0);
		else if (defer(s, ps.pid, ps.tid, srv, comm, ps.ips, ps.nr, regs, stack, dyn) < 0)
			keep(s, ps.pid, ps.tid, srv, comm, ps.ips, ps.nr, regs, stack, dyn);
		return;
	}
	if (s->folded)
		ksym_folded_add(s->folded, s->ksym, comm_of(s, ps.pid), ps.ips, ps.nr);
}

long sampler_drain(struct sampler *s)
{
	return perf_ring_drain(s->ring, on_sample, s, &s->lost);
}

void sampler_counts(const struct sampler *s, uint64_t samples[KS__N],
		    uint64_t period[KS__N], uint64_t *lost)
{
	memcpy(samples, s->samples, sizeof(s->samples));
	memcpy(period, s->period, sizeof(s->period));
	if (lost)
		*lost = s->lost;
}

static int cmp_leaf(const void *a, const void *b)
{
	const struct leaf *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Adds count samples to the leaf function (name, module). */
static void leaf_add(struct leaf *t, size_t *n, const char *name, const char *module,
		     bool named, uint64_t count)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp(t[i].name, name) && !strcmp(t[i].module, module))
			break;
	if (i == *n) {
		if (*n >= TOP_MAX)
			return;
		snprintf(t[i].name, sizeof(t[i].name), "%s", name);
		snprintf(t[i].module, sizeof(t[i].module), "%s", module);
		t[i].named = named;
		t[i].count = 0;
		(*n)++;
	}
	t[i].count += count;
}

/* Names the user frames of every kept chain (once, after the run): folds
 * them and counts the server's user-space leaves. */
static void symbolize(struct sampler *s)
{
	struct leaf *leaves = NULL;
	size_t nleaves = 0, i, k;
	uint64_t t0 = pm_now_ns(), resolved = 0;
	char *ustr = NULL;

	if (s->symbolized)
		return;
	s->symbolized = true;
	unwind_pending(s);
	leaves = calloc(TOP_MAX, sizeof(*leaves));
	ustr = malloc(8192);
	if (!leaves || !ustr)
		goto out;
	for (i = 0; i < s->chain_cap; i++) {
		const struct chain *c = &s->chain[i];
		size_t first = c->n, last, len = 0;
		bool user_leaf;

		if (!c->ips)
			continue;
		/* The user frames: after PERF_CONTEXT_USER up to the next
		 * marker, leaf first. */
		for (k = 0; k < c->n; k++)
			if (c->ips[k] == PERF_CONTEXT_USER) {
				first = k + 1;
				break;
			}
		for (last = first; last < c->n && !IS_MARKER(c->ips[last]); last++)
			;
		user_leaf = c->n && c->ips[0] == PERF_CONTEXT_USER;
		/* Frames above the leaf come from following frame pointers
		 * through code that may not keep them (Debian's libc): the
		 * first return address outside every mapped file is where the
		 * walk went astray, and it ends the stack there. */
		for (k = first; k < last; k++) {
			uint64_t a = k == first && user_leaf ? c->ips[k] : c->ips[k] - 1;

			if (k > first && (c->ips[k] < 4096 || c->ips[k] >= USER_TOP ||
					  usym_name(s->usym, (pid_t)c->pid, a, ustr, 64, NULL) < 0)) {
				last = k;
				break;
			}
		}
		ustr[0] = 0;
		for (k = last; k-- > first;) {
			char name[160];
			const char *mod;
			/* Frames above the leaf are return addresses: the call
			 * is the byte before (a call as a function's last
			 * instruction returns into the next function). */
			uint64_t a = k == first && user_leaf ? c->ips[k] : c->ips[k] - 1;
			int rc = usym_name(s->usym, (pid_t)c->pid, a, name, sizeof(name), &mod);
			char *q;
			int w;

			for (q = name; *q; q++)
				if (*q == ';')
					*q = ':';
			w = snprintf(ustr + len, 8192 - len, "%s%s", len ? ";" : "", name);
			if (w > 0 && (size_t)w < 8192 - len)
				len += (size_t)w;
			if (k == first && user_leaf && c->server) {
				leaf_add(leaves, &nleaves, name, mod, rc == 1, c->count);
				if (rc == 1)
					resolved += c->count;
			}
		}
		if (s->folded)
			ksym_folded_add_user(s->folded, s->ksym, c->comm, len ? ustr : NULL,
					     c->ips, c->n, c->count);
	}
	qsort(leaves, nleaves, sizeof(*leaves), cmp_leaf);
	for (i = 0; i < nleaves && i < REPORT_MAX_USYMS; i++) {
		struct report_usym *u = &s->top.top[i];

		/* a name longer than the report's field is cut, not dropped */
		snprintf(u->name, sizeof(u->name), "%.*s", (int)sizeof(u->name) - 1, leaves[i].name);
		snprintf(u->module, sizeof(u->module), "%s", leaves[i].module);
		u->samples = leaves[i].count;
		u->share = s->srv_user ? 100.0 * (double)leaves[i].count / (double)s->srv_user : 0;
	}
	s->top.ntop = i;
	s->top.resolved = resolved;
out:
	free(leaves);
	free(ustr);
	s->resolve_ns = pm_now_ns() - t0;
}

int sampler_write_folded(struct sampler *s, FILE *f)
{
	if (!s->folded)
		return -EINVAL;
	symbolize(s);
	return ksym_folded_write(s->folded, f);
}

void sampler_user_symbols(struct sampler *s, struct report_usyms *out)
{
	char exe[64] = "";
	int w, i;

	symbolize(s);
	*out = s->top;
	out->present = true;
	out->samples = s->srv_samples;
	out->user_samples = s->srv_user;
	out->symbolize_ns = s->add_ns + s->resolve_ns;
	out->unwind_ns = s->unwind_ns;
	if (s->regs_mask)
		snprintf(out->source, sizeof(out->source),
			 "sampling %s %d Hz, user stacks by DWARF CFI (%llu) or frame pointer "
			 "(%llu), names by elfutils libdwfl", sampler_event(s), s->hz,
			 (unsigned long long)s->unwound, (unsigned long long)s->fp_only);
	else
		snprintf(out->source, sizeof(out->source),
			 "sampling %s %d Hz, user stacks by frame pointer, names by elfutils libdwfl",
			 sampler_event(s), s->hz);
	for (w = 0; w < s->nwatch && !s->watch[w].server; w++)
		;
	if (w == s->nwatch) {
		if (s->usym_err)
			snprintf(out->reason, sizeof(out->reason),
				 "cannot read the server's mappings (/proc/PID/maps): %s",
				 strerror(-s->usym_err));
		else
			snprintf(out->reason, sizeof(out->reason), "no server process to watch");
		return;
	}
	/* The binary that ran most: "sh -c CMD" (--exec) is a server pid
	 * too, but not the one whose symbols matter. */
	for (i = w + 1; i < s->nwatch; i++)
		if (s->watch[i].server && s->watch[i].user > s->watch[w].user)
			w = i;
	if (usym_main_has_symbols(s->usym, s->watch[w].pid, exe, sizeof(exe)) == 0)
		snprintf(out->note, sizeof(out->note),
			 "the server's binary '%s' has no symbol table (stripped?): its own frames "
			 "show as %s+0x<offset>", exe, exe);
	if (!s->srv_samples)
		snprintf(out->reason, sizeof(out->reason),
			 "no sample of the server's processes (it ran for less than the sampling "
			 "period?): a longer replay (--loop N) gets more");
	else if (!s->srv_user)
		snprintf(out->reason, sizeof(out->reason),
			 "none of the server's %llu samples was in user space: a longer replay "
			 "(--loop N) gets more", (unsigned long long)s->srv_samples);
	else if (!out->resolved)
		snprintf(out->reason, sizeof(out->reason),
			 "no user-space sample of the server was in a named function%s%s%s",
			 out->note[0] ? " ('" : "", out->note[0] ? exe : "",
			 out->note[0] ? "' has no symbol table: stripped or static without symbols)" : "");
	else
		out->available = true;
	if (s->lost)
		snprintf(out->note + strlen(out->note), sizeof(out->note) - strlen(out->note),
			 "%ssamples lost (ring buffer full): %llu", out->note[0] ? "; " : "",
			 (unsigned long long)s->lost);
	if (s->chain_dropped)
		snprintf(out->note + strlen(out->note), sizeof(out->note) - strlen(out->note),
			 "%s%llu samples not named (more than %u distinct stacks)",
			 out->note[0] ? "; " : "", (unsigned long long)s->chain_dropped, CHAIN_MAX);
}

void sampler_free(struct sampler *s)
{
	size_t i;

	if (!s)
		return;
	perf_ring_free(s->ring);
	while (s->pend) {
		struct pend *q = s->pend;

		s->pend = q->next;
		free(q);
	}
	for (i = 0; i < s->chain_cap; i++)
		free(s->chain[i].ips);
	free(s->chain);
	usym_free(s->usym);
	ksym_folded_free(s->folded);
	ksym_free(s->ksym);
	free(s);
}
