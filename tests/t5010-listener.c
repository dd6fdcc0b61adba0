/*
 * t5010-listener: listen on IPv4 and IPv6 ephemeral ports, accept with
 * TCP_NODELAY, the anet-style error messages and advice.
 */
#include "core/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "tests/tap.h"

static int connect_to(int family, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd = socket(family, SOCK_STREAM, 0);

	if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		sl = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (void *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*in);
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(void)
{
	struct listener *l = NULL, *l2 = NULL;
	struct sockaddr_storage peer;
	char err[200], name[64];
	int rc, cfd, afd, v = 0, family;
	socklen_t vl = sizeof(v);
	const void *addr;
	uint16_t port;

	plan_lazy();
	rc = listener_new(&l, "127.0.0.1:0", 0, err, sizeof(err));
	is_int(rc, 0, "listen on 127.0.0.1:0");
	if (rc < 0)
		bail_out(err);
	ok(listener_port(l) != 0, "ephemeral port bound");
	snprintf(name, sizeof(name), "127.0.0.1:%u", listener_port(l));
	is_str(listener_name(l), name, "name");
	cfd = connect_to(AF_INET, listener_port(l));
	afd = listener_accept(l, &peer, 0);
	ok(afd >= 0, "accepted");
	getsockopt(afd, IPPROTO_TCP, TCP_NODELAY, &v, &vl);
	ok(v != 0, "TCP_NODELAY set on the accepted socket");
	ok(listener_peer_key(&peer, &family, &addr, &port) == 0 && family == AF_INET &&
	   port != 0, "peer key");
	close(afd);
	close(cfd);

	snprintf(name, sizeof(name), "127.0.0.1:%u", listener_port(l));
	rc = listener_new(&l2, name, 0, err, sizeof(err));
	is_int(rc, -EADDRINUSE, "second bind: EADDRINUSE");
	ok(strncmp(err, "bind 127.0.0.1:", 15) == 0 && strstr(err, strerror(EADDRINUSE)),
	   "message names the step and the error: %s", err);
	ok(strstr(listener_strerror(rc), "port 0") != NULL, "advice for EADDRINUSE");

	{
		int fl = fcntl(listener_fd(l), F_GETFL);

		fcntl(listener_fd(l), F_SETFL, fl | O_NONBLOCK);
		is_int(listener_accept(l, &peer, 1), -EAGAIN, "nothing waiting: -EAGAIN");
	}
	listener_free(l);
	listener_free(NULL);

	is_int(listener_new(&l, "nonsense", 0, err, sizeof(err)), -EINVAL, "bad address");
	ok(strstr(err, "'nonsense'") != NULL, "bad address quoted: %s", err);
	is_int(listener_new(&l, "127.0.0.1:99999", 0, err, sizeof(err)), -EINVAL, "bad port");
	is_int(listener_new(&l, "[::1:0", 0, err, sizeof(err)), -EINVAL, "bad brackets");

	rc = listener_new(&l, "[::1]:0", 16, err, sizeof(err));
	if (rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT) {
		skip("no IPv6 loopback here: %s", err);
	} else {
		is_int(rc, 0, "listen on [::1]:0");
		cfd = connect_to(AF_INET6, listener_port(l));
		afd = listener_accept(l, &peer, 0);
		ok(afd >= 0 && listener_peer_key(&peer, &family, &addr, &port) == 0 &&
		   family == AF_INET6, "IPv6 accept and peer key");
		ok(listener_name(l)[0] == '[', "IPv6 name bracketed: %s", listener_name(l));
		close(afd);
		close(cfd);
		listener_free(l);
	}
	return exit_status();
}
