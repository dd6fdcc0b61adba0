/*
 * t5110-hostile: hostile and heavy load on the core server:
 * slowloris (a head trickled a byte at a time) is closed by the header
 * timeout while another client is served normally; a connection flood
 * beyond max_conns is accepted-and-closed (counted) and the server stays
 * responsive; descriptors come back afterwards.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioloop.h"
#include "tests/tap.h"
#include "tests/srvtest.h"

static char rbuf[65536];

static int get_ok(uint16_t port)
{
	int fd = srvtest_connect(port, NULL), closed;

	if (fd < 0)
		return 0;
	srvtest_send(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27);
	srvtest_read(fd, rbuf, sizeof(rbuf), 200, &closed);
	close(fd);
	return strncmp(rbuf, "HTTP/1.1 200 OK", 15) == 0;
}

static void slowloris(enum server_io io)
{
	const char *ion = server_io_name(io);
	static const char head[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
	struct server_config cfg;
	struct srvtest t;
	int fd, idle, closed = 0, others_ok = 1;
	size_t i;

	server_config_default(&cfg);
	cfg.io = io;
	cfg.header_timeout_ms = 500;
	if (srvtest_start(&t, &cfg) < 0) {
		ok(0, "%s: server starts", ion);
		return;
	}
	fd = srvtest_connect(t.port, NULL);
	idle = srvtest_connect(t.port, NULL);	/* connects, never sends */
	/* one byte every 50 ms: the head would take ~4 s, the timeout is 0.5 s */
	for (i = 0; i < sizeof(head) - 1 && !closed; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (srvtest_send(fd, head + i, 1) < 0 || poll(&p, 1, 50) > 0) {
			closed = 1;
			break;
		}
		if (i % 10 == 0)
			others_ok &= get_ok(t.port);
	}
	ok(closed && i < sizeof(head) - 1, "%s: slowloris closed before its head was complete", ion);
	srvtest_read(fd, rbuf, sizeof(rbuf), 2000, &closed);
	ok(closed && (rbuf[0] == '\0' || strncmp(rbuf, "HTTP/1.1 408 ", 13) == 0),
	   "%s: slowloris got 408 (or nothing) and EOF", ion);
	close(fd);
	srvtest_read(idle, rbuf, sizeof(rbuf), 3000, &closed);
	ok(closed, "%s: a connection that never sends is closed too", ion);
	close(idle);
	ok(others_ok && get_ok(t.port), "%s: other clients served meanwhile", ion);
	is_int(srvtest_snap(&t)->status[4], 2, "%s: two 408s counted", ion);
	is_int(srvtest_stop_server(&t), 0, "%s: clean exit", ion);
}

#define FLOOD 40
#define MAXC 8

static void flood(enum server_io io)
{
	const char *ion = server_io_name(io);
	struct server_config cfg;
	struct srvtest t;
	int fds[FLOOD], i, served = 0, refused = 0, fd0, fd1, closed;

	server_config_default(&cfg);
	cfg.io = io;
	cfg.max_conns = MAXC;
	if (srvtest_start(&t, &cfg) < 0) {
		ok(0, "%s: server starts", ion);
		return;
	}
	srvtest_sleep_ms(50);
	fd0 = srvtest_count_fds(t.pid);
	for (i = 0; i < FLOOD; i++)
		fds[i] = srvtest_connect(t.port, NULL);
	/* wait until the server has seen them all */
	for (i = 0; i < 500 && t.stats->connections + t.stats->connections_refused < FLOOD; i++)
		srvtest_sleep_ms(10);
	for (i = 0; i < FLOOD; i++) {
		if (fds[i] < 0)
			continue;
		srvtest_send(fds[i], "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27);
		srvtest_read(fds[i], rbuf, sizeof(rbuf), 200, &closed);
		if (strncmp(rbuf, "HTTP/1.1 200 OK", 15) == 0 && !closed)
			served++;
		else if (closed)
			refused++;
	}
	is_int(served, MAXC, "%s: flood: max_conns connections served", ion);
	is_int(refused, FLOOD - MAXC, "%s: flood: the rest closed", ion);
	is_int(t.stats->connections_refused, FLOOD - MAXC, "%s: flood: refusals counted", ion);
	for (i = 0; i < FLOOD; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* the server notices the closes; a new client must get through */
	for (i = 0; i < 100 && !get_ok(t.port); i++)
		srvtest_sleep_ms(10);
	ok(get_ok(t.port), "%s: responsive after the flood", ion);
	fd1 = srvtest_settled_fds(t.pid, fd0);
	ok(fd0 > 0 && fd1 == fd0, "%s: descriptors back to %d (now %d)", ion, fd0, fd1);
	is_int(srvtest_stop_server(&t), 0, "%s: clean exit", ion);
}

int main(void)
{
	const char *why;

	plan_lazy();
	slowloris(SERVER_IO_EPOLL);
	slowloris(SERVER_IO_BLOCKING);
	flood(SERVER_IO_EPOLL);
	flood(SERVER_IO_BLOCKING);
	if (ioloop_uring_probe(&why) < 0) {
		skip("io_uring: %s", why);
	} else {
		slowloris(SERVER_IO_URING);
		flood(SERVER_IO_URING);
	}
	return exit_status();
}
