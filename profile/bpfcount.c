/* bpfcount.c: per-stage counter deltas read by BPF (bpfcount.h). */
#include "profile/bpfcount.h"
#include "profile/perf.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "profile/bpf/stagecount.h"

/*
 * The BPF object, as bytes generated at build time from
 * profile/bpf/stagecount.bpf.c (clang -target bpf, then od into a C
 * initializer: see the Makefile).  A generated header rather than
 * `ld -r -b binary`: ld names the symbols after the object's path and
 * stamps the host's ELF flags on it, while a header compiles the same
 * under gcc, the sanitizer build and clang's fuzz build.  A C program
 * through libbpf rather than hand-assembled instructions: the program
 * needs maps, bounded loops and a CO-RE read of task_struct, which
 * libbpf relocates against the running kernel's BTF.
 */
static const unsigned char stagecount_obj[] = {
#include "stagecount.bpf.inc"
};

enum { TP_SI_ENTRY, TP_SI_EXIT, TP_SYS_ENTER, TP_SYS_EXIT, TP__N };

static const char *const tp_names[TP__N][2] = {
	{ "irq", "softirq_entry" }, { "irq", "softirq_exit" },
	{ "raw_syscalls", "sys_enter" }, { "raw_syscalls", "sys_exit" },
};
static const char *const prog_names[TP__N] = { "si_entry", "si_exit", "rd_enter", "rd_exit" };

struct bpfcount {
	struct bpf_object *obj;
	struct perf_tp tp[TP__N];
	struct bpf_link *link[TP__N];
	bool copy;		/* the copy stage's programs are wanted */
	int ncpus;		/* possible CPUs: the per-CPU map's width */
	int nev;
	struct bpfcount_event ev[BPFCOUNT_MAX_EVENTS];
	struct perf_event_attr attr[BPFCOUNT_MAX_EVENTS];
	int *fds;		/* ncpus * SC_MAX_EV, -1 = empty slot */
};


const char *bpfcount_source(enum bpfcount_stage stage)
{
	return stage == BPFCOUNT_SOFTIRQ
		? "bpf bpf_perf_event_read_value on irq:softirq_entry/exit (vec == 3)"
		: "bpf bpf_perf_event_read_value on raw_syscalls:sys_enter/exit (read family)";
}

/* libbpf prints its warnings to stderr by default; library code here
 * does not print, and every failure comes back as an errno. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* Sets a `const volatile` global of the program before load: its offset
 * in .rodata comes from the object's BTF. */
static int set_rodata(struct bpf_object *obj, const char *name, __u32 value)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, ".rodata");
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec, *var;
	const void *cur;
	size_t size = 0;
	char *data;
	int id, i, rc = -ENOENT;

	if (!m || !btf)
		return -ENOENT;
	cur = bpf_map__initial_value(m, &size);
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (!cur || id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, (__u32)id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		var = btf__type_by_id(btf, vs->type);
		if (!var || strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (vs->size != sizeof(value) || vs->offset + sizeof(value) > size)
			return -EINVAL;
		/* libbpf hands out the initial image read-only: copy, change,
		 * set back. */
		data = malloc(size);
		if (!data)
			return -ENOMEM;
		memcpy(data, cur, size);
		memcpy(data + vs->offset, &value, sizeof(value));
		rc = bpf_map__set_initial_value(m, data, size);
		free(data);
		return rc;
	}
	return rc;
}

static int field_off(const struct perf_tp *tp, const char *name, __u32 *off)
{
	const struct perf_tp_field *f = perf_tp_field(tp, name);

	if (!f)
		return PERF_E_NOFIELD;
	*off = f->offset;
	return 0;
}

/* cpu-clock first, then the user's list without a second cpu-clock. */
static int parse_events(struct bpfcount *b, const char *list, char *why, size_t wlen)
{
	struct perf_event_attr attrs[PFM_MAX_EVENTS];
	char names[PFM_MAX_EVENTS][PFM_NAME];
	int n, i, rc;

	rc = pfm_encode(BPFCOUNT_CLOCK, &b->attr[0], NULL, 0, why, wlen);
	if (rc < 0)
		return rc;
	snprintf(b->ev[0].name, sizeof(b->ev[0].name), "%s", BPFCOUNT_CLOCK);
	b->nev = 1;
	n = pfm_encode_list(list && *list ? list : PFM_DEFAULT_EVENTS, attrs, names,
			    PFM_MAX_EVENTS, why, wlen);
	if (n < 0)
		return n;
	for (i = 0; i < n && b->nev < BPFCOUNT_MAX_EVENTS; i++) {
		if (!strcmp(names[i], BPFCOUNT_CLOCK))
			continue;
		b->attr[b->nev] = attrs[i];
		snprintf(b->ev[b->nev].name, sizeof(b->ev[b->nev].name), "%.*s", PFM_NAME - 1,
			 names[i]);
		b->nev++;
	}
	for (i = 0; i < b->nev; i++) {
		struct perf_event_attr *a = &b->attr[i];

		b->ev[i].software = a->type == PERF_TYPE_SOFTWARE;
		/* The kernel stages are all kernel work: count it.  Read
		 * locally by the program: no inherit, one CPU per event. */
		a->exclude_kernel = 0;
		a->exclude_user = 0;
		a->exclude_hv = 1;
		a->inherit = 0;
		a->disabled = 0;
		a->sample_period = 0;
		a->read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	}
	return 0;
}

static int open_counters(struct bpfcount *b)
{
	struct bpf_map *m = bpf_object__find_map_by_name(b->obj, "counters");
	int cpus[SC_MAX_CPUS], ncpu, c, i, fd, mfd;
	__u32 key;

	if (!m)
		return -ENOENT;
	mfd = bpf_map__fd(m);
	ncpu = perf_cpus(cpus, SC_MAX_CPUS);
	for (c = 0; c < ncpu; c++) {
		if (cpus[c] >= b->ncpus)
			continue;
		for (i = 0; i < b->nev; i++) {
			fd = perf_open(&b->attr[i], -1, cpus[c], -1, 0);
			if (fd < 0) {
				if (!b->ev[i].open_err)
					b->ev[i].open_err = fd;
				continue;
			}
			key = (__u32)(cpus[c] * SC_MAX_EV + i);
			if (bpf_map_update_elem(mfd, &key, &fd, BPF_ANY) < 0) {
				if (!b->ev[i].open_err)
					b->ev[i].open_err = -errno;
				close(fd);
				continue;
			}
			b->fds[key] = fd;
			b->ev[i].cpus_open++;
		}
	}
	return 0;
}

static int fill_maps(struct bpfcount *b, const struct bpfcount_cfg *cfg)
{
	int tfd = bpf_map__fd(bpf_object__find_map_by_name(b->obj, "tgids"));
	int rfd = bpf_map__fd(bpf_object__find_map_by_name(b->obj, "readnr"));
	__u32 key, val, old;
	size_t i;
	int k;

	if (tfd < 0 || rfd < 0)
		return -ENOENT;
	for (k = 0; k < cfg->nsoftirq + cfg->nserver; k++) {
		bool si = k < cfg->nsoftirq;

		key = (__u32)(si ? cfg->softirq_pid[k] : cfg->server_pid[k - cfg->nsoftirq]);
		val = si ? SC_F_SOFTIRQ : SC_F_SERVER;
		if (bpf_map_lookup_elem(tfd, &key, &old) == 0)
			val |= old;
		if (bpf_map_update_elem(tfd, &key, &val, BPF_ANY) < 0)
			return -errno;
	}
	val = 1;
	for (i = 0; i < perf_nread_syscalls; i++) {
		key = (__u32)perf_read_syscalls[i];
		if (key < SC_MAX_SYSNR && bpf_map_update_elem(rfd, &key, &val, BPF_ANY) < 0)
			return -errno;
	}
	return 0;
}

int bpfcount_open(struct bpfcount **out, const struct bpfcount_cfg *cfg, char *why, size_t wlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "stagecount");
	struct bpfcount *b;
	struct bpf_map *m;
	__u32 vec_off = 0, id_off = 0;
	char tmp[160];
	int i, rc;

	*out = NULL;
	if (why && wlen)
		why[0] = 0;
	if (!cfg || cfg->nsoftirq < 0 || cfg->nsoftirq > BPFCOUNT_MAX_PIDS ||
	    cfg->nserver < 0 || cfg->nserver > BPFCOUNT_MAX_PIDS)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->copy = cfg->nserver > 0;
	rc = parse_events(b, cfg->events, why, wlen);
	if (rc < 0)
		goto fail;

	for (i = 0; i < TP__N; i++) {
		snprintf(b->tp[i].sys, sizeof(b->tp[i].sys), "%s", tp_names[i][0]);
		snprintf(b->tp[i].name, sizeof(b->tp[i].name), "%s", tp_names[i][1]);
	}
	rc = perf_tp_load(b->tp, TP__N, NULL);
	for (i = 0; rc == 0 && i < TP__N; i++)
		if (b->tp[i].err && (i < TP_SYS_ENTER || b->copy))
			rc = b->tp[i].err;
	if (rc == 0)
		rc = field_off(&b->tp[TP_SI_ENTRY], "vec", &vec_off);
	if (rc == 0 && b->copy)
		rc = field_off(&b->tp[TP_SYS_ENTER], "id", &id_off);
	if (rc < 0) {
		if (why)
			snprintf(why, wlen, "%s", perf_strerror(rc, "tracefs", tmp, sizeof(tmp)));
		goto fail;
	}

	libbpf_set_print(quiet);
	b->obj = bpf_object__open_mem(stagecount_obj, sizeof(stagecount_obj), &oo);
	if (!b->obj) {
		rc = -errno;
		if (why)
			snprintf(why, wlen, "bpf_object__open_mem: %s", strerror(-rc));
		goto fail;
	}
	rc = libbpf_num_possible_cpus();
	if (rc < 0)
		goto fail;
	b->ncpus = rc < SC_MAX_CPUS ? rc : SC_MAX_CPUS;
	m = bpf_object__find_map_by_name(b->obj, "counters");
	rc = m ? bpf_map__set_max_entries(m, (__u32)(b->ncpus * SC_MAX_EV)) : -ENOENT;
	if (rc == 0)
		rc = set_rodata(b->obj, "vec_off", vec_off);
	if (rc == 0 && b->copy)
		rc = set_rodata(b->obj, "sys_id_off", id_off);
	if (rc == 0)
		rc = set_rodata(b->obj, "nev", (__u32)b->nev);
	if (rc == 0)
		rc = set_rodata(b->obj, "si_all", cfg->nsoftirq == 0);
	if (rc < 0) {
		if (why)
			snprintf(why, wlen, "bpf object: cannot set its parameters: %s", strerror(-rc));
		goto fail;
	}
	if (!b->copy) {
		/* Unloaded programs cost nothing on every syscall. */
		bpf_program__set_autoload(bpf_object__find_program_by_name(b->obj, "rd_enter"), false);
		bpf_program__set_autoload(bpf_object__find_program_by_name(b->obj, "rd_exit"), false);
	}
	rc = bpf_object__load(b->obj);
	if (rc < 0) {
		if (why)
			snprintf(why, wlen, "bpf(BPF_PROG_LOAD) of the stage counter program: %s",
				 strerror(-rc));
		goto fail;
	}
	b->fds = malloc(sizeof(*b->fds) * (size_t)b->ncpus * SC_MAX_EV);
	if (!b->fds) {
		rc = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < b->ncpus * SC_MAX_EV; i++)
		b->fds[i] = -1;
	rc = fill_maps(b, cfg);
	if (rc == 0)
		rc = open_counters(b);
	if (rc < 0) {
		if (why)
			snprintf(why, wlen, "bpf maps: %s", strerror(-rc));
		goto fail;
	}
	if (!b->ev[0].cpus_open) {
		rc = b->ev[0].open_err ? b->ev[0].open_err : -ENODEV;
		if (why)
			snprintf(why, wlen, "%s", perf_strerror(rc, BPFCOUNT_CLOCK, tmp, sizeof(tmp)));
		goto fail;
	}
	*out = b;
	return 0;
fail:
	bpfcount_free(b);
	return rc;
}

/* One tracepoint event (any CPU: a tracepoint program runs for every hit
 * of its tracepoint) carrying the program; the link owns the fd. */
static int attach(struct bpfcount *b, int t)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(b->obj, prog_names[t]);
	struct perf_event_attr a;
	int fd;

	if (!prog)
		return -ENOENT;
	perf_attr_tp(&a, &b->tp[t]);
	a.disabled = 1;
	fd = perf_open(&a, -1, 0, -1, 0);
	if (fd < 0)
		return fd;
	b->link[t] = bpf_program__attach_perf_event(prog, fd);
	if (!b->link[t]) {
		int err = -errno;

		close(fd);
		return err;
	}
	return 0;
}

int bpfcount_enable(struct bpfcount *b)
{
	/* Exits first: an exit without its entry is ignored, while an entry
	 * whose exit is not attached yet would leave a stale start. */
	static const int order[TP__N] = { TP_SI_EXIT, TP_SYS_EXIT, TP_SI_ENTRY, TP_SYS_ENTER };
	int i, rc;

	if (!b)
		return -EINVAL;
	for (i = 0; i < TP__N; i++) {
		if (b->link[order[i]] || (!b->copy && order[i] >= TP_SYS_ENTER))
			continue;
		rc = attach(b, order[i]);
		if (rc < 0) {
			bpfcount_disable(b);
			return rc;
		}
	}
	return 0;
}

int bpfcount_disable(struct bpfcount *b)
{
	/* Entries first, so pairs in flight still finish. */
	static const int order[TP__N] = { TP_SI_ENTRY, TP_SYS_ENTER, TP_SI_EXIT, TP_SYS_EXIT };
	int i;

	if (!b)
		return -EINVAL;
	for (i = 0; i < TP__N; i++) {
		bpf_link__destroy(b->link[order[i]]);
		b->link[order[i]] = NULL;
	}
	return 0;
}

int bpfcount_read(const struct bpfcount *b, enum bpfcount_stage stage, struct bpfcount_result *r)
{
	struct sc_sums *v;
	__u32 key = (__u32)stage;
	int fd, c, i, ncpu, rc = 0;

	if (!b || !r || (unsigned)stage >= BPFCOUNT__N)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->nev = b->nev;
	memcpy(r->ev, b->ev, sizeof(r->ev));
	fd = bpf_map__fd(bpf_object__find_map_by_name(b->obj, "sums"));
	/* A per-CPU map's lookup fills one value per possible CPU. */
	ncpu = libbpf_num_possible_cpus();
	if (fd < 0 || ncpu <= 0)
		return -ENOENT;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, v) < 0) {
		rc = -errno;
		goto out;
	}
	for (c = 0; c < ncpu; c++) {
		r->hits += v[c].hits;
		r->pairs += v[c].pairs;
		r->migrated += v[c].migrated;
		r->slept += v[c].slept;
		for (i = 0; i < b->nev; i++) {
			struct bpfcount_event *e = &r->ev[i];
			const struct sc_ev_sum *s = &v[c].ev[i];

			e->counter += s->counter;
			e->enabled += s->enabled;
			e->running += s->running;
			e->read_errors += s->errors;
			if (s->last_err)
				e->read_err = (int)s->last_err;
			if (s->running < s->enabled)
				e->multiplexed = true;
		}
	}
	for (i = 0; i < b->nev; i++) {
		struct bpfcount_event *e = &r->ev[i];

		e->scaled = (double)e->counter;
		if (e->multiplexed && e->running)
			e->scaled = (double)e->counter * (double)e->enabled / (double)e->running;
	}
out:
	free(v);
	return rc;
}

void bpfcount_free(struct bpfcount *b)
{
	int i;

	if (!b)
		return;
	bpfcount_disable(b);
	if (b->fds)
		for (i = 0; i < b->ncpus * SC_MAX_EV; i++)
			if (b->fds[i] >= 0)
				close(b->fds[i]);
	free(b->fds);
	bpf_object__close(b->obj);
	free(b);
}
