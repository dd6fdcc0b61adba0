/*
 * t7300: libpfm4 event names -> perf_event_attr, without a PMU:
 * LIBPFM_FORCE_PMU makes libpfm encode Skylake (and, in a child, Zen 4)
 * events from tables alone.  Also: perf's names libpfm does not know are
 * translated or explained, and availability is decided by opening.
 */
#include "profile/perf.h"
#include "profile/pfm.h"
#include "tests/tap.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

static int zen4_child(void)
{
	struct perf_event_attr a;
	char why[256], pmus[256];

	setenv("LIBPFM_FORCE_PMU", "amd64_fam19h_zen4", 1);
	if (pfm_pmus(pmus, sizeof(pmus)) < 1 || !strstr(pmus, "amd64_fam19h_zen4"))
		return 10;
	if (pfm_encode("RETIRED_INSTRUCTIONS", &a, NULL, 0, why, sizeof(why)) < 0)
		return 11;
	/* AMD PPR: RETIRED_INSTRUCTIONS is event 0xC0 */
	if (a.type != PERF_TYPE_RAW || (a.config & 0xff) != 0xc0)
		return 12;
	return 0;
}

int main(void)
{
	struct perf_event_attr a, list[PFM_MAX_EVENTS];
	char why[512], tr[128], pmus[256], names[PFM_MAX_EVENTS][PFM_NAME];
	int rc, st, cyc;
	pid_t pid;

	plan_lazy();
	pid = fork();
	if (pid == 0)
		_exit(zen4_child());
	waitpid(pid, &st, 0);
	is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0,
	       "LIBPFM_FORCE_PMU=amd64_fam19h_zen4: RETIRED_INSTRUCTIONS is raw 0xc0");

	setenv("LIBPFM_FORCE_PMU", "skl", 1);
	ok(pfm_pmus(pmus, sizeof(pmus)) >= 1 && strstr(pmus, "skl"), "forced PMU detected (%s)", pmus);

	rc = pfm_encode("INST_RETIRED:ANY_P", &a, NULL, 0, why, sizeof(why));
	ok(rc == 0 && a.type == PERF_TYPE_RAW && (a.config & 0xff) == 0xc0,
	   "INST_RETIRED:ANY_P -> raw event 0xc0 (config %#llx)", (unsigned long long)a.config);
	ok(a.size == sizeof(a), "attr.size set");
	rc = pfm_encode("MEM_LOAD_RETIRED:L3_MISS", &a, NULL, 0, why, sizeof(why));
	ok(rc == 0 && a.type == PERF_TYPE_RAW && (a.config & 0xffff) == 0x20d1,
	   "MEM_LOAD_RETIRED:L3_MISS -> raw 0x20d1 (config %#llx)", (unsigned long long)a.config);

	rc = pfm_encode("LLC-misses", &a, tr, sizeof(tr), why, sizeof(why));
	ok(rc == 0 && a.type == PERF_TYPE_HW_CACHE &&
	   a.config == (PERF_COUNT_HW_CACHE_LL | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
			(PERF_COUNT_HW_CACHE_RESULT_MISS << 16)),
	   "perf's LLC-misses -> HW_CACHE LL:READ:MISS (%s)", tr);
	rc = pfm_encode("cycles", &a, NULL, 0, why, sizeof(why));
	ok(rc == 0 && a.type == PERF_TYPE_HARDWARE && a.config == PERF_COUNT_HW_CPU_CYCLES,
	   "cycles -> PERF_TYPE_HARDWARE cycles");
	rc = pfm_encode("INST_RETIRED.ANY", &a, NULL, 0, why, sizeof(why));
	ok(rc == PFM_E_UNKNOWN && strstr(why, "INST_RETIRED:ANY_P"),
	   "Intel dot syntax explained: '%s'", why);
	rc = pfm_encode("no-such-event", &a, NULL, 0, why, sizeof(why));
	ok(rc == PFM_E_UNKNOWN && strstr(why, "no-such-event"), "unknown event named: '%s'", why);

	rc = pfm_encode_list(NULL, list, names, PFM_MAX_EVENTS, why, sizeof(why));
	is_int(rc, 4, "default list encodes 4 events");
	ok(rc == 4 && !strcmp(names[0], "cycles") && !strcmp(names[3], "branch-misses"),
	   "default names kept in the user's spelling");
	rc = pfm_encode_list("cycles, INST_RETIRED:ANY_P", list, names, PFM_MAX_EVENTS, why, sizeof(why));
	ok(rc == 2 && list[1].type == PERF_TYPE_RAW, "a mixed list encodes");
	rc = pfm_encode_list("cycles,cycles,cycles,cycles,cycles,cycles,cycles,cycles,cycles",
			     list, names, PFM_MAX_EVENTS, why, sizeof(why));
	is_int(rc, PFM_E_TOO_MANY, "more than PFM_MAX_EVENTS refused");

	/* Encoding proves nothing: only opening does.  Both answers must
	 * agree with a plain perf_event_open of cycles here. */
	pfm_encode("cycles", &a, NULL, 0, why, sizeof(why));
	cyc = pfm_probe(&a);
	if (cyc == -ENOENT) {
		char buf[256];

		perf_strerror(cyc, "cycles", buf, sizeof(buf));
		is_str(buf, "no PMU: perf_event_open(cycles) = ENOENT", "no PMU: the reason names ENOENT");
		pfm_encode("INST_RETIRED:ANY_P", &a, NULL, 0, why, sizeof(why));
		is_int(pfm_probe(&a), -ENOENT, "a forced-PMU event encodes but does not open here");
		skip("no PMU on this machine: counting a real hardware event is not possible");
	} else {
		is_int(cyc, 0, "a PMU exists: cycles opens");
		pfm_encode("instructions", &a, NULL, 0, why, sizeof(why));
		is_int(pfm_probe(&a), 0, "PMU: instructions opens");
	}
	return exit_status();
}
