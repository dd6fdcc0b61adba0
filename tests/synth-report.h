/*
 * synth-report.h: synthetic reports for the verdict and renderer tests
 * (t8xxx).  Seven stages as on this project's no-PMU VM: irq measured but
 * idle on veth, hardware counters unavailable, the rest with exact, count
 * and timing metrics.  Timings get seeded multiplicative noise so tests are
 * deterministic.
 */
#ifndef PKTMEM_TESTS_SYNTH_REPORT_H
#define PKTMEM_TESTS_SYNTH_REPORT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "report/report.h"

struct synth_rng { uint64_t s; };

static inline uint64_t synth_next(struct synth_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline double synth_unif(struct synth_rng *r)
{
	return ((double)(synth_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

static inline double synth_gauss(struct synth_rng *r)
{
	double u = synth_unif(r), v = synth_unif(r);

	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

struct synth_spec {
	size_t trials;
	double sigma;		/* lognormal sd of each timing, 0.03 ~ 3% */
	double shift[RS__N];	/* multiplicative change of a stage's time, 0 = none */
	double allocs;		/* alloc.allocs_per_request, exact */
	const char *cap_sha;
	const char *fingerprint;
	const char *via;
};

static inline void synth_spec_default(struct synth_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->trials = 5;
	s->sigma = 0.03;
	s->allocs = 18;
	s->cap_sha = "5d1f0c4a9e7b3a2f8c6d0e1b4a7f9c2d3e5b8a1c4d7f0e3a6b9c2d5f8e1a4b7c";
	s->fingerprint = "3b0e6f1c2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f";
	s->via = "mmap";
}

/* Fills r (made by report_new(sp->trials)) anew: reusing one report keeps
 * the calibration loops off the page allocator. */
static inline struct report *synth_fill(struct report *r, const struct synth_spec *sp,
					struct synth_rng *rng)
{
	/* ns per request of each stage at the reference */
	static const double ns[RS__N] = { 0, 2304, 1280, 450, 990, 180, 1170 };
	const double req = 1200;
	size_t t;
	int s;

	if (!r || r->ntrials != sp->trials)
		return NULL;
	snprintf(r->tool_version, sizeof(r->tool_version), "0.1.0");
	snprintf(r->git_rev, sizeof(r->git_rev), "synthetic");
	snprintf(r->created, sizeof(r->created), "2026-11-24T00:00:00Z");
	snprintf(r->env.kernel, sizeof(r->env.kernel), "Linux 6.1.0 x86_64");
	snprintf(r->env.cpu_model, sizeof(r->env.cpu_model), "AMD EPYC 7B13");
	r->env.cores = 2;
	snprintf(r->env.pmu_reason, sizeof(r->env.pmu_reason), "no PMU: perf_event_open(cycles) = ENOENT");
	snprintf(r->env.privileges, sizeof(r->env.privileges), "root");
	r->env.perf_event_paranoid = 2;
	snprintf(r->env.clocksource, sizeof(r->env.clocksource), "kvm-clock");
	snprintf(r->env.hostname, sizeof(r->env.hostname), "synth");
	snprintf(r->env.fingerprint, sizeof(r->env.fingerprint), "%s", sp->fingerprint);
	snprintf(r->opt.via, sizeof(r->opt.via), "%s", sp->via);
	snprintf(r->opt.io, sizeof(r->opt.io), "epoll");
	snprintf(r->opt.deser, sizeof(r->opt.deser), "tree");
	snprintf(r->opt.speed, sizeof(r->opt.speed), "max");
	snprintf(r->opt.profile, sizeof(r->opt.profile), "counters");
	r->opt.concurrency = 40;
	snprintf(r->cap.path, sizeof(r->cap.path), "synthetic.pcap");
	snprintf(r->cap.sha256, sizeof(r->cap.sha256), "%s", sp->cap_sha);
	r->cap.requests = 1200;
	r->cap.flows = 40;
	r->cap.packets = 6080;
	r->cap.payload_bytes = 1843200;

	for (t = 0; t < sp->trials; t++) {
		struct trial *tr = &r->trial[t];
		double total = 0;

		for (s = 0; s < RS__N; s++) {
			struct stage_result *st = &tr->stage[s];
			struct metric *m;
			double f = exp(sp->sigma * synth_gauss(rng)) * (1 + sp->shift[s]);

			memset(st, 0, sizeof(*st));
			st->available = true;
			st->time_available = true;
			snprintf(st->source, sizeof(st->source), "synthetic");
			st->count = s == RS_SOFTIRQ ? 64 : s == RS_IRQ ? 0 : 1200;
			st->time_ns = ns[s] * req * f;
			total += st->time_ns;
			if (s == RS_IRQ) {
				snprintf(st->note, sizeof(st->note), "veth delivers without a hardware interrupt");
				m = stage_add_metric(st, "irqs_per_request", "count", MC_COUNT);
				m->value = 0;
				continue;
			}
			m = stage_add_metric(st, "ns_per_request", "ns", MC_TIMING);
			m->value = st->time_ns / req;
			m = stage_add_metric(st, "cycles_per_request", "cycles", MC_HW);
			m->available = false;
			snprintf(m->reason, sizeof(m->reason), "no PMU: perf_event_open(cycles) = ENOENT");
			if (s == RS_COPY) {
				st->bytes = 1843200;
				m = stage_add_metric(st, "bytes_per_request", "bytes", MC_EXACT);
				m->value = 1536;
				m = stage_add_metric(st, "syscalls_per_request", "count", MC_COUNT);
				m->value = 2;
			}
			if (s == RS_ALLOC) {
				m = stage_add_metric(st, "allocs_per_request", "count", MC_EXACT);
				m->value = sp->allocs;
			}
		}
		snprintf(tr->replay.via, sizeof(tr->replay.via), "%s", sp->via);
		tr->replay.requests = 1200;
		tr->replay.flows = 40;
		tr->replay.bytes = 1843200;
		tr->replay.duration_ns = (uint64_t)(total * 1.2);
		tr->replay.requests_per_s = 1200 / (total * 1.2 / 1e9);
		tr->replay.verified = true;
		snprintf(tr->replay.verify_msg, sizeof(tr->replay.verify_msg), "all flows match");
	}
	return r;
}

static inline struct report *synth_report(const struct synth_spec *sp, struct synth_rng *rng)
{
	struct report *r = report_new(sp->trials);

	if (r && !synth_fill(r, sp, rng)) {
		report_free(r);
		return NULL;
	}
	return r;
}

#endif
