/*
 * bpfcount-cost: what the BPF stage counters (profile/bpfcount.c) cost per
 * tracepoint hit, measured on read(2) of one byte from /dev/zero, each
 * call one raw_syscalls:sys_enter and one sys_exit hit:
 *
 *   detached        no program attached (the baseline)
 *   filtered out    programs attached, this process not a server (the
 *                   cost every other syscall on the machine pays)
 *   cpu-clock       this process the server: 1 counter read per hit
 *   default events  cpu-clock + cycles,instructions,cache-misses,
 *                   branch-misses (without a PMU their slots are empty
 *                   and the reads fail -ENOENT)
 *
 * Prints ns per read() and per hit (difference to detached / 2), the
 * median of ROUNDS interleaved rounds.  Needs root.
 */
#include "profile/bpfcount.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CALLS 200000
#define ROUNDS 7

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double per_read(int fd)
{
	char c;
	double t0 = now();
	int i;

	for (i = 0; i < CALLS; i++)
		if (read(fd, &c, 1) != 1)
			abort();
	return (now() - t0) / CALLS;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	static const char *const names[] = { "detached", "filtered out", "cpu-clock", "default events" };
	struct bpfcount *b[4] = { NULL };
	double t[4][ROUNDS], med[4];
	char why[256];
	int fd = open("/dev/zero", O_RDONLY), k, r;

	for (k = 1; k < 4; k++) {
		struct bpfcount_cfg cfg = { .events = k == 2 ? "cpu-clock" : NULL, .nserver = 1 };

		cfg.server_pid[0] = k == 1 ? 1 : getpid();
		if (bpfcount_open(&b[k], &cfg, why, sizeof(why)) < 0) {
			fprintf(stderr, "bpfcount-cost: %s\n", why);
			return 1;
		}
	}
	for (r = 0; r < ROUNDS; r++)
		for (k = 0; k < 4; k++) {
			if (b[k] && bpfcount_enable(b[k]) < 0)
				return 1;
			t[k][r] = per_read(fd);
			if (b[k])
				bpfcount_disable(b[k]);
		}
	for (k = 0; k < 4; k++) {
		qsort(t[k], ROUNDS, sizeof(double), cmp);
		med[k] = t[k][ROUNDS / 2];
		printf("%-16s %7.0f ns per read()", names[k], med[k]);
		if (k)
			printf("  %+6.0f ns per tracepoint hit", (med[k] - med[0]) / 2);
		printf("\n");
	}
	for (k = 1; k < 4; k++)
		bpfcount_free(b[k]);
	close(fd);
	return 0;
}
