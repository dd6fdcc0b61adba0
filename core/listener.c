/*
 * listener.c: socket, bind, listen, accept; see listener.h.
 */
#include "core/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct listener {
	int fd;
	uint16_t port;
	char name[80];
};

static int fail(char *buf, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "<what>: <strerror>" into buf; returns -err. */
static int fail(char *buf, size_t len, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (buf && len) {
		va_start(ap, fmt);
		n = vsnprintf(buf, len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < len && err)
			snprintf(buf + n, len - (size_t)n, ": %s", strerror(err));
	}
	return -err;
}

/* "HOST:PORT" -> sockaddr.  Empty host or "*" means any IPv4 address. */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[64];
	const char *colon, *h = s, *port_s;
	size_t hl;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(rb - h);
		port_s = rb + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
		port_s = colon + 1;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (!*port_s || *end || errno || port > 65535)
		return -EINVAL;
	if (!hl || !strcmp(host, "*")) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		in->sin_addr.s_addr = htonl(INADDR_ANY);
		*sl = sizeof(*in);
		return 0;
	}
	if (strchr(host, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*in6);
		return 0;
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*sl = sizeof(*in);
		return 0;
	}
}

static void format_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(in->sin_port));
	}
}

int listener_new(struct listener **out, const char *addr, int backlog,
		 char *errmsg, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	struct listener *l = NULL;
	int fd = -1, one = 1, rc;

	*out = NULL;
	if (errmsg && errlen)
		errmsg[0] = '\0';
	if (parse_addr(addr, &ss, &sl) < 0) {
		fail(errmsg, errlen, 0, "'%s': not HOST:PORT", addr);
		return -EINVAL;
	}
	if (backlog <= 0)
		backlog = LISTENER_DEFAULT_BACKLOG;
	/* non-blocking: every loop polls, then accepts until EAGAIN */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = fail(errmsg, errlen, errno, "socket");
		goto err;
	}
	/* a restarted server must not wait out TIME_WAIT on its port */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		rc = fail(errmsg, errlen, errno, "setsockopt SO_REUSEADDR");
		goto err;
	}
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) {
		rc = fail(errmsg, errlen, errno, "setsockopt IPV6_V6ONLY");
		goto err;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		rc = fail(errmsg, errlen, errno, "bind %s", addr);
		goto err;
	}
	if (listen(fd, backlog) < 0) {
		rc = fail(errmsg, errlen, errno, "listen %s", addr);
		goto err;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		rc = fail(errmsg, errlen, errno, "getsockname");
		goto err;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		rc = fail(errmsg, errlen, ENOMEM, "listener");
		goto err;
	}
	l->fd = fd;
	l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	format_addr(&ss, l->name, sizeof(l->name));
	*out = l;
	return 0;
err:
	if (fd >= 0)
		close(fd);
	return rc;
}

int listener_fd(const struct listener *l)
{
	return l->fd;
}

uint16_t listener_port(const struct listener *l)
{
	return l->port;
}

const char *listener_name(const struct listener *l)
{
	return l->name;
}

int listener_accept(struct listener *l, struct sockaddr_storage *peer, int nonblock)
{
	socklen_t sl = sizeof(*peer);
	int fd, one = 1;

	do
		fd = accept4(l->fd, (struct sockaddr *)peer, &sl,
			     SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		int e = errno;

		/* a peer that gave up before we got to it is not our failure */
		if (e == ECONNABORTED || e == EPROTO)
			e = EAGAIN;
		return -e;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

const char *listener_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case EADDRINUSE:
		return "the port is taken: pick another with --listen or use port 0 for any free one";
	case EACCES:
		return "ports below 1024 need root or CAP_NET_BIND_SERVICE: use a higher port";
	case EADDRNOTAVAIL:
		return "that address is not on this machine: use 127.0.0.1 or ::1";
	case EMFILE:
	case ENFILE:
		return "out of file descriptors: raise 'ulimit -n' or lower --max-conns";
	case EAFNOSUPPORT:
		return "this kernel has no IPv6: use an IPv4 address";
	case EINVAL:
		return "give the address as HOST:PORT, e.g. 127.0.0.1:0 or [::1]:8080";
	default:
		return strerror(err);
	}
}

int listener_peer_key(const struct sockaddr_storage *peer, int *family,
		      const void **addr, uint16_t *port)
{
	if (peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)peer;

		*family = AF_INET6;
		*addr = &in6->sin6_addr;
		*port = ntohs(in6->sin6_port);
		return 0;
	}
	if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)peer;

		*family = AF_INET;
		*addr = &in->sin_addr;
		*port = ntohs(in->sin_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}
