/*
 * allocserver: a tiny HTTP/1.1 server for t95xx that calls malloc()
 * exactly K times (and free() K times) per request and nothing else per
 * request or connection, so the LD_PRELOAD interposer's count can be
 * checked exactly: allocations = K x requests.
 *
 *   allocserver PORT K
 *
 * Listens on 0.0.0.0:PORT and [::]:PORT (v6-only), one poll() loop, static
 * buffers; frames requests by Content-Length (no chunked bodies: use
 * Content-Length captures) and answers each "200 OK" with a 2-byte body.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXC 512
#define BUF 65536

struct conn {
	int fd;
	size_t len;
	unsigned long long body_left;
	char buf[BUF];
};

static struct conn conns[MAXC];
static struct pollfd pfd[MAXC + 2];
/* the blocks are stored here so the compiler cannot drop malloc/free */
static void *volatile keep[4096];

static int listen_on(int family, int port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if ((family == AF_INET ? bind(fd, (struct sockaddr *)&s4, sizeof(s4))
			       : bind(fd, (struct sockaddr *)&s6, sizeof(s6))) < 0 ||
	    listen(fd, 1024) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void one_request(int fd, int k)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	int i;

	for (i = 0; i < k && i < 4096; i++) {
		keep[i] = malloc(64 + (size_t)i);
		if (keep[i])
			*(volatile char *)keep[i] = 1;
	}
	for (i = 0; i < k && i < 4096; i++)
		free(keep[i]);
	if (write(fd, resp, sizeof(resp) - 1) < 0)
		return;
}

/* Consumes complete requests from c->buf; returns -1 on a bad head. */
static int serve(struct conn *c, int k)
{
	for (;;) {
		char *end, *p;
		size_t head;
		unsigned long long cl = 0;

		if (c->body_left) {
			size_t n = c->body_left < c->len ? (size_t)c->body_left : c->len;

			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			c->body_left -= n;
			if (c->body_left)
				return 0;
			one_request(c->fd, k);
			continue;
		}
		c->buf[c->len] = 0;
		end = strstr(c->buf, "\r\n\r\n");
		if (!end)
			return c->len >= BUF - 1 ? -1 : 0;
		head = (size_t)(end - c->buf) + 4;
		for (p = c->buf; (p = strstr(p, "\r\n")) && p < end; p += 2)
			if (!strncasecmp(p + 2, "content-length:", 15))
				cl = strtoull(p + 17, NULL, 10);
		memmove(c->buf, c->buf + head, c->len - head);
		c->len -= head;
		if (cl) {
			c->body_left = cl;
			continue;
		}
		one_request(c->fd, k);
	}
}

int main(int argc, char **argv)
{
	int port, k, lfd[2], i, n;

	if (argc != 3) {
		fprintf(stderr, "usage: allocserver PORT K\n");
		return 2;
	}
	port = atoi(argv[1]);
	k = atoi(argv[2]);
	lfd[0] = listen_on(AF_INET, port);
	lfd[1] = listen_on(AF_INET6, port);
	if (lfd[0] < 0) {
		perror("allocserver: listen");
		return 1;
	}
	for (i = 0; i < MAXC; i++)
		conns[i].fd = -1;
	for (;;) {
		int np = 0;

		pfd[np].fd = lfd[0];
		pfd[np++].events = POLLIN;
		pfd[np].fd = lfd[1];
		pfd[np++].events = POLLIN;
		for (i = 0; i < MAXC; i++) {
			pfd[np].fd = conns[i].fd;
			pfd[np++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (i = 0; i < 2; i++) {
			int fd;

			if (lfd[i] < 0 || !(pfd[i].revents & POLLIN))
				continue;
			while ((fd = accept4(lfd[i], NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				int j;

				for (j = 0; j < MAXC && conns[j].fd >= 0; j++)
					;
				if (j == MAXC) {
					close(fd);
					continue;
				}
				conns[j].fd = fd;
				conns[j].len = 0;
				conns[j].body_left = 0;
			}
		}
		for (i = 0; i < MAXC; i++) {
			struct conn *c = &conns[i];

			if (c->fd < 0 || !(pfd[i + 2].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = (int)read(c->fd, c->buf + c->len, BUF - 1 - c->len);
			if (n < 0 && errno == EAGAIN)
				continue;
			if (n <= 0 || (c->len += (size_t)n, serve(c, k) < 0)) {
				close(c->fd);
				c->fd = -1;
			}
		}
	}
}
