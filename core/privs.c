/* privs.c: see privs.h */
#include "core/privs.h"

#include "core/sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/psx_syscall.h>
#include <sys/syscall.h>
#include <valgrind/valgrind.h>

int privs_keep_only(unsigned long long keep)
{
	cap_value_t c, last = cap_max_bits() - 1;
	cap_t want = cap_init(), cur = NULL;
	int rc = 0;

	if (!want)
		return -errno;
	/* valgrind 3.19 stops with an internal assertion (syswrap-main.c,
	 * "sci->status.what == SsIdle") when libpsx's signal interrupts a
	 * thread blocked in poll(): under valgrind a process with other
	 * threads keeps its capabilities (said in docs/hardening.md).  One
	 * thread (the server child) drops as anywhere. */
	if (RUNNING_ON_VALGRIND && sandbox_threads() != 1)
		goto out;
	/* The bounding set first (it needs CAP_SETPCAP, which goes below);
	 * libcap's cap_drop_bound() goes through libpsx: every thread.  Read
	 * each bit so a kernel with fewer capabilities than libcap knows
	 * ends the loop (EINVAL). */
	for (c = 0; c <= last && c < 64; c++) {
		if (keep & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
			break;
		if (cap_drop_bound(c) < 0 && errno != EPERM) {
			rc = -errno;
			goto out;
		}
	}
	if (cap_reset_ambient() < 0 && errno != EINVAL) {
		rc = -errno;
		goto out;
	}
	/* effective = permitted = keep (only what is held: asking for more
	 * fails with EPERM), inheritable empty */
	cur = cap_get_proc();
	if (!cur) {
		rc = -errno;
		goto out;
	}
	for (c = 0; c <= last && c < 64; c++) {
		cap_flag_value_t have = CAP_CLEAR;

		if ((keep & (1ull << c)) && cap_get_flag(cur, c, CAP_PERMITTED, &have) == 0 &&
		    have == CAP_SET) {
			cap_set_flag(want, CAP_EFFECTIVE, 1, &c, CAP_SET);
			cap_set_flag(want, CAP_PERMITTED, 1, &c, CAP_SET);
		}
	}
	if (cap_set_proc(want) < 0) {
		rc = -errno;
		goto out;
	}
	/* prctl(2) wants arguments 3 to 5 zero: psx_syscall6, not 3 */
	if (psx_syscall6(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) < 0)
		rc = -errno;
out:
	cap_free(cur);
	cap_free(want);
	return rc;
}

int privs_drop_all(void)
{
	return privs_keep_only(0);
}

long long privs_effective(void)
{
	char line[256];
	long long v = -ENOENT;
	FILE *f = fopen("/proc/thread-self/status", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7)) {
			v = (long long)strtoull(line + 7, NULL, 16);
			break;
		}
	fclose(f);
	return v;
}
