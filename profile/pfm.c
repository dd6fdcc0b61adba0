/* pfm.c: event names -> perf_event_attr via libpfm4 (pfm.h). */
#include "profile/pfm.h"
#include "profile/perf.h"

#include <ctype.h>
#include <errno.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* perf's generic names (tools/perf/util/parse-events.c) that libpfm4's
 * "perf" PMU spells differently (lib/events/perf_events.h). */
static const struct {
	const char *perf, *pfm;
} xlate[] = {
	{ "LLC-misses", "perf::PERF_COUNT_HW_CACHE_LL:READ:MISS" },
	{ "LLC-loads", "perf::PERF_COUNT_HW_CACHE_LL:READ:ACCESS" },
	{ "LLC-load-misses", "perf::PERF_COUNT_HW_CACHE_LL:READ:MISS" },
	{ "LLC-stores", "perf::PERF_COUNT_HW_CACHE_LL:WRITE:ACCESS" },
	{ "LLC-store-misses", "perf::PERF_COUNT_HW_CACHE_LL:WRITE:MISS" },
	{ "L1-dcache-loads", "perf::PERF_COUNT_HW_CACHE_L1D:READ:ACCESS" },
	{ "L1-dcache-load-misses", "perf::PERF_COUNT_HW_CACHE_L1D:READ:MISS" },
	{ "L1-icache-load-misses", "perf::PERF_COUNT_HW_CACHE_L1I:READ:MISS" },
	{ "dTLB-load-misses", "perf::PERF_COUNT_HW_CACHE_DTLB:READ:MISS" },
	{ "dTLB-loads", "perf::PERF_COUNT_HW_CACHE_DTLB:READ:ACCESS" },
	{ "iTLB-load-misses", "perf::PERF_COUNT_HW_CACHE_ITLB:READ:MISS" },
	{ "branch-loads", "perf::PERF_COUNT_HW_CACHE_BPU:READ:ACCESS" },
	{ "branch-load-misses", "perf::PERF_COUNT_HW_CACHE_BPU:READ:MISS" },
	{ "cpu-cycles", "perf::PERF_COUNT_HW_CPU_CYCLES" },
	{ "branches", "perf::PERF_COUNT_HW_BRANCH_INSTRUCTIONS" },
	{ "branch-instructions", "perf::PERF_COUNT_HW_BRANCH_INSTRUCTIONS" },
	{ "cache-references", "perf::PERF_COUNT_HW_CACHE_REFERENCES" },
	{ "ref-cycles", "perf::PERF_COUNT_HW_REF_CPU_CYCLES" },
	{ "stalled-cycles-frontend", "perf::PERF_COUNT_HW_STALLED_CYCLES_FRONTEND" },
	{ "stalled-cycles-backend", "perf::PERF_COUNT_HW_STALLED_CYCLES_BACKEND" },
	{ "cpu-clock", "perf::PERF_COUNT_SW_CPU_CLOCK" },
	{ "task-clock", "perf::PERF_COUNT_SW_TASK_CLOCK" },
	{ "page-faults", "perf::PERF_COUNT_SW_PAGE_FAULTS" },
	{ "faults", "perf::PERF_COUNT_SW_PAGE_FAULTS" },
	{ "minor-faults", "perf::PERF_COUNT_SW_PAGE_FAULTS_MIN" },
	{ "major-faults", "perf::PERF_COUNT_SW_PAGE_FAULTS_MAJ" },
	{ "context-switches", "perf::PERF_COUNT_SW_CONTEXT_SWITCHES" },
	{ "cs", "perf::PERF_COUNT_SW_CONTEXT_SWITCHES" },
	{ "cpu-migrations", "perf::PERF_COUNT_SW_CPU_MIGRATIONS" },
};

/* perf's generic events (include/uapi/linux/perf_event.h): encoded here
 * when libpfm4 does not offer its "perf" PMU (LIBPFM_FORCE_PMU hides it). */
#define HWC(c, op, res) (PERF_COUNT_HW_CACHE_##c | (PERF_COUNT_HW_CACHE_OP_##op << 8) | \
			 (PERF_COUNT_HW_CACHE_RESULT_##res << 16))
static const struct {
	const char *name;
	uint32_t type;
	uint64_t config;
} generic[] = {
	{ "cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
	{ "cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
	{ "instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
	{ "cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES },
	{ "cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES },
	{ "branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS },
	{ "branch-instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS },
	{ "branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES },
	{ "ref-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES },
	{ "LLC-misses", PERF_TYPE_HW_CACHE, HWC(LL, READ, MISS) },
	{ "LLC-loads", PERF_TYPE_HW_CACHE, HWC(LL, READ, ACCESS) },
	{ "L1-dcache-load-misses", PERF_TYPE_HW_CACHE, HWC(L1D, READ, MISS) },
	{ "L1-dcache-loads", PERF_TYPE_HW_CACHE, HWC(L1D, READ, ACCESS) },
	{ "dTLB-load-misses", PERF_TYPE_HW_CACHE, HWC(DTLB, READ, MISS) },
	{ "cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK },
	{ "task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
	{ "page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
	{ "minor-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN },
	{ "major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ },
	{ "context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
	{ "cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS },
};

int pfm_init(void)
{
	/* pfm_initialize() is idempotent: later calls return PFM_SUCCESS. */
	return pfm_initialize() == PFM_SUCCESS ? 0 : PFM_E_INIT;
}

static int encode_raw(const char *name, struct perf_event_attr *attr)
{
	pfm_perf_encode_arg_t arg;
	struct perf_event_attr a;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&arg, 0, sizeof(arg));
	/* libpfm reads and fills only attr.size bytes, 0 meaning the 64 of
	 * PERF_ATTR_SIZE_VER0 (libpfm4 lib/pfmlib_perf_event.c) */
	a.size = sizeof(a);
	arg.attr = &a;
	arg.size = sizeof(arg);
	/* Count user and kernel: the stages run in both. */
	rc = pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
	if (rc != PFM_SUCCESS)
		return rc == PFM_ERR_NOTFOUND ? PFM_E_UNKNOWN : PFM_E_UNKNOWN;
	a.size = sizeof(a);
	*attr = a;
	return 0;
}

int pfm_encode(const char *name, struct perf_event_attr *attr,
	       char *translated, size_t tlen, char *why, size_t wlen)
{
	char alt[PFM_NAME * 2];
	const char *try = name;
	size_t i;
	int rc;

	if (why && wlen)
		why[0] = 0;
	if ((rc = pfm_init()) < 0) {
		if (why)
			snprintf(why, wlen, "libpfm4 failed to initialize");
		return rc;
	}
	for (i = 0; i < sizeof(xlate) / sizeof(xlate[0]); i++)
		if (!strcmp(name, xlate[i].perf))
			try = xlate[i].pfm;
	rc = encode_raw(try, attr);
	for (i = 0; rc < 0 && i < sizeof(generic) / sizeof(generic[0]); i++)
		if (!strcmp(name, generic[i].name)) {
			memset(attr, 0, sizeof(*attr));
			attr->size = sizeof(*attr);
			attr->type = generic[i].type;
			attr->config = generic[i].config;
			try = "generic perf event";
			rc = 0;
		}
	if (rc < 0 && strchr(name, '.') && !strchr(name, ':')) {
		/* Intel's documentation writes EVENT.UMASK; libpfm EVENT:UMASK. */
		snprintf(alt, sizeof(alt), "%s", name);
		for (i = 0; alt[i]; i++)
			if (alt[i] == '.')
				alt[i] = ':';
		if (encode_raw(alt, attr) == 0) {
			try = NULL;
			rc = 0;
		} else if (why) {
			snprintf(why, wlen, "unknown event '%s': libpfm4 writes Intel events "
				 "as EVENT:UMASK (e.g. INST_RETIRED:ANY_P); list them with "
				 "'showevtinfo'", name);
		}
	} else if (rc < 0 && why) {
		snprintf(why, wlen, "unknown event '%s' for the PMUs libpfm4 detects here "
			 "(perf's cache names are perf::PERF_COUNT_HW_CACHE_<CACHE>:<OP>:<RESULT>)",
			 name);
	}
	if (translated && tlen)
		snprintf(translated, tlen, "%s", try ? try : alt);
	return rc;
}

int pfm_encode_list(const char *list, struct perf_event_attr *attrs,
		    char names[][PFM_NAME], int max, char *why, size_t wlen)
{
	char buf[512], *tok, *save = NULL;
	int n = 0, rc;

	snprintf(buf, sizeof(buf), "%s", list && *list ? list : PFM_DEFAULT_EVENTS);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		if (!*tok)
			continue;
		if (n >= max) {
			if (why)
				snprintf(why, wlen, "more than %d events", max);
			return PFM_E_TOO_MANY;
		}
		rc = pfm_encode(tok, &attrs[n], NULL, 0, why, wlen);
		if (rc < 0)
			return rc;
		snprintf(names[n], PFM_NAME, "%s", tok);
		n++;
	}
	return n;
}

int pfm_probe(const struct perf_event_attr *attr0)
{
	struct perf_event_attr attr = *attr0;
	int fd;

	attr.size = sizeof(attr);
	attr.disabled = 1;
	/* User space only, so perf_event_paranoid=2 is no obstacle to
	 * asking whether the hardware exists. */
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	fd = perf_open(&attr, 0, -1, -1, 0);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int pfm_pmu_probe(void)
{
	struct perf_event_attr cyc;

	memset(&cyc, 0, sizeof(cyc));
	cyc.type = PERF_TYPE_HARDWARE;
	cyc.config = PERF_COUNT_HW_CPU_CYCLES;
	return pfm_probe(&cyc);
}

int pfm_pmus(char *buf, size_t len)
{
	pfm_pmu_info_t info;
	size_t used = 0;
	int i, n = 0, w;

	if (!len)
		return 0;
	buf[0] = 0;
	if (pfm_init() < 0)
		return PFM_E_INIT;
	for (i = PFM_PMU_NONE; i < PFM_PMU_MAX; i++) {
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (pfm_get_pmu_info(i, &info) != PFM_SUCCESS || !info.is_present)
			continue;
		w = snprintf(buf + used, len - used, "%s%s", n ? "," : "", info.name);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
		n++;
	}
	return n;
}
