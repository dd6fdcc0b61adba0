/*
 * ioloop_uring.c: io_uring back-end (liburing).
 */
#include "core/ioloop.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>

int ioloop_uring_probe(const char **reason)
{
	struct io_uring r;
	FILE *f;
	int rc, dis = 0;

	f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	if (f) {
		if (fscanf(f, "%d", &dis) != 1)
			dis = 0;
		fclose(f);
	}
	if (dis == 2) {
		*reason = "kernel.io_uring_disabled is 2";
		return -EPERM;
	}
	rc = io_uring_queue_init(4, &r, 0);
	if (rc < 0) {
		*reason = rc == -ENOSYS ? "io_uring_queue_init: ENOSYS (kernel without io_uring)"
		    : rc == -EPERM ? "io_uring_queue_init: EPERM (io_uring_disabled or seccomp)"
		    : "io_uring_queue_init failed";
		return rc;
	}
	io_uring_queue_exit(&r);
	*reason = "io_uring_queue_init works";
	return 0;
}

int ioloop_uring_run(struct server *s, volatile sig_atomic_t *stop)
{
	(void)s;
	(void)stop;
	return -ENOSYS;
}
