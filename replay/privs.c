/* privs.c: see privs.h */
#include "replay/privs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

int privs_drop_all(void)
{
	cap_t none = NULL;
	cap_value_t c;
	int rc = 0;

	/* The bounding set limits what an execve() could ever grant; dropping
	 * from it needs CAP_SETPCAP, so it goes first.  EINVAL past the
	 * kernel's last capability ends the loop (cap_max_bits() may be
	 * newer or older than the running kernel). */
	for (c = 0; c < 64; c++) {
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
			break;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EPERM) {
			rc = -errno;
			goto out;
		}
	}
	/* ambient capabilities survive execve of unprivileged programs */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	none = cap_init();	/* all three sets empty */
	if (!none) {
		rc = -errno;
		goto out;
	}
	if (cap_set_proc(none) < 0) {
		rc = -errno;
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = -errno;
out:
	if (none)
		cap_free(none);
	return rc;
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
