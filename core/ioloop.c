/*
 * ioloop.c: picks the I/O loop back-end (see ioloop.h).
 */
#include "core/ioloop.h"

#include <errno.h>

int ioloop_run(struct server *s, enum server_io io, volatile sig_atomic_t *stop)
{
	switch (io) {
	case SERVER_IO_BLOCKING:
		return ioloop_blocking_run(s, stop);
	case SERVER_IO_EPOLL:
		return ioloop_epoll_run(s, stop);
	case SERVER_IO_URING:
		return ioloop_uring_run(s, stop);
	}
	return -EINVAL;
}
