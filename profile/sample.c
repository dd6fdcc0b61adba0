/* sample.c: cycles / cpu-clock sampling with callchains (sample.h). */
#include "profile/sample.h"
#include "profile/perf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMM_CACHE 64

struct sampler {
	struct perf_ring *ring;
	struct ksym *ksym;
	struct ksym_folded *folded;
	uint64_t sample_type;
	bool cycles;
	int hz;
	uint64_t samples[KS__N], period[KS__N], lost;
	struct { uint32_t pid; char comm[20]; } comm[COMM_CACHE];
	unsigned ncomm;
};

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
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->hz = cfg->hz > 0 ? cfg->hz : SAMPLE_DEFAULT_HZ;
	rc = ksym_load(&s->ksym, cfg->kallsyms);
	if (rc < 0)
		goto fail;
	if (cfg->folded && !(s->folded = ksym_folded_new())) {
		rc = -ENOMEM;
		goto fail;
	}
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.freq = 1;
	attr.sample_freq = (uint64_t)s->hz;
	attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
			   PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_CALLCHAIN;
	s->sample_type = attr.sample_type;
	rc = -ENOENT;
	if (cfg->try_cycles) {
		attr.type = PERF_TYPE_HARDWARE;
		attr.config = PERF_COUNT_HW_CPU_CYCLES;
		rc = perf_ring_open(&s->ring, &attr, NULL, 1, cfg->pid, 64);
		s->cycles = rc == 0;
	}
	if (rc < 0) {
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
		rc = perf_ring_open(&s->ring, &attr, NULL, 1, cfg->pid, 64);
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

static void on_sample(void *arg, const struct perf_event_header *h, const void *rec, size_t len)
{
	struct sampler *s = arg;
	struct perf_sample ps;
	enum ksym_stage st;
	uint64_t period;
	const unsigned char *p = rec;

	(void)h;
	if (perf_sample_parse(s->sample_type, rec, len, &ps) < 0)
		return;
	/* PERIOD follows IP, TID, TIME, CPU: 4 words in. */
	memcpy(&period, p + 32, 8);
	st = ksym_classify(s->ksym, ps.ips, ps.nr);
	s->samples[st]++;
	s->period[st] += period;
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

int sampler_write_folded(const struct sampler *s, FILE *f)
{
	if (!s->folded)
		return -EINVAL;
	return ksym_folded_write(s->folded, f);
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	perf_ring_free(s->ring);
	ksym_folded_free(s->folded);
	ksym_free(s->ksym);
	free(s);
}
