/*
 * t5100-server: the core server over loopback with raw-socket clients, in
 * each --io mode: keep-alive and pipelining (responses in order), a request
 * split at every byte, every framing, Expect: 100-continue, rejections with
 * the right status then a close (smuggling shapes, 413, 431, 501), echo
 * mode, exact per-connection byte and request counts, no descriptor leak,
 * a clean (leak-free under LSan) exit.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioloop.h"
#include "tests/tap.h"
#include "tests/srvtest.h"

static char rbuf[1 << 20];

/* The "bytes" figures of the 200 responses, in order, comma-separated. */
static void bytes_seq(const char *r, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	while ((r = strstr(r, "{\"bytes\":"))) {
		unsigned long v = strtoul(r + 9, NULL, 10);

		n += (size_t)snprintf(out + n, cap - n, "%s%lu", n ? "," : "", v);
		r += 9;
	}
}

/* One connection: send req, read until close; returns what came back. */
static const char *exchange(struct srvtest *t, const char *req, size_t len, int *closed,
			    uint16_t *lport)
{
	int fd = srvtest_connect(t->port, lport);

	if (fd < 0) {
		*closed = 0;
		rbuf[0] = '\0';
		return rbuf;
	}
	srvtest_send(fd, req, len);
	srvtest_read(fd, rbuf, sizeof(rbuf), 5000, closed);
	close(fd);
	return rbuf;
}

static void rejects(struct srvtest *t, const char *io, const char *what, const char *req,
		    const char *status)
{
	uint16_t lp = 0;
	int closed;
	const char *r = exchange(t, req, strlen(req), &closed, &lp);
	const struct stats_conn *c;

	ok(strncmp(r, status, strlen(status)) == 0 && strstr(r, "\r\nConnection: close\r\n") &&
	   closed, "%s: %s: '%.12s' with Connection: close, then closed", io, what, status);
	if (strncmp(r, status, strlen(status)) != 0)
		diag("  got: %.200s", r);
	c = srvtest_conn(t, lp, 1);
	ok(c && c->rejected == 1 && c->last_status == atoi(status + 9) &&
	   c->bytes_read == strlen(req), "%s: %s: counted (rejected, status, bytes read)", io, what);
}

static void run_http(enum server_io io)
{
	const char *ion = server_io_name(io);
	struct server_config cfg;
	struct srvtest t;
	const struct stats_block *sb;
	const struct stats_conn *c;
	char seq[256], big[8192];
	const char *r;
	uint16_t lp;
	int fd, closed, fds0, fds1;
	size_t i;
	static const char pipelined[] =
		"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
		"GET /2 HTTP/1.1\r\nHost: a\r\nUser-Agent: t5100\r\n\r\n"
		"POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
		"POST /4 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nTrailer: x\r\n\r\n"
		"GET /5 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	static const char one[] = "POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz";

	server_config_default(&cfg);
	cfg.io = io;
	cfg.deser = DESER_NONE;
	cfg.limits.max_header_bytes = 1024;
	cfg.limits.max_body_bytes = 1000;
	if (srvtest_start(&t, &cfg) < 0) {
		ok(0, "%s: server starts", ion);
		return;
	}
	fds0 = srvtest_count_fds(t.pid);

	r = exchange(&t, pipelined, sizeof(pipelined) - 1, &closed, &lp);
	is_int(srvtest_count(r, "HTTP/1.1 200 OK\r\n"), 5, "%s: pipelined: 5 responses", ion);
	bytes_seq(r, seq, sizeof(seq));
	is_str(seq, "0,0,5,7,0", "%s: pipelined: answered in order, bodies de-chunked", ion);
	ok(closed && srvtest_count(r, "Connection: close") == 1,
	   "%s: Connection: close on the last one, then closed", ion);
	c = srvtest_conn(&t, lp, 1);
	ok(c != NULL, "%s: connection tracked by peer port", ion);
	if (c) {
		is_int(c->bytes_read, sizeof(pipelined) - 1, "%s: bytes read exact", ion);
		is_int(c->requests, 5, "%s: requests exact", ion);
		is_int(c->responses, 5, "%s: responses exact", ion);
	}

	/* one byte per send: the server sees the request split at every byte */
	fd = srvtest_connect(t.port, &lp);
	for (i = 0; i < sizeof(one) - 1; i++) {
		srvtest_send(fd, one + i, 1);
		srvtest_sleep_ms(2);
	}
	srvtest_read(fd, rbuf, sizeof(rbuf), 300, &closed);
	ok(strstr(rbuf, "HTTP/1.1 200 OK") && strstr(rbuf, "{\"bytes\":3,") && !closed,
	   "%s: split at every byte: 200, keep-alive", ion);
	close(fd);
	c = srvtest_conn(&t, lp, 1);
	ok(c && c->bytes_read == sizeof(one) - 1 && c->requests == 1,
	   "%s: split: counts exact", ion);

	/* Expect: 100-continue before the body */
	fd = srvtest_connect(t.port, NULL);
	srvtest_send(fd, "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
			 "Expect: 100-continue\r\n\r\n", 71);
	srvtest_read(fd, rbuf, sizeof(rbuf), 300, &closed);
	ok(strncmp(rbuf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0, "%s: 100 Continue", ion);
	srvtest_send(fd, "ok", 2);
	srvtest_read(fd, rbuf, sizeof(rbuf), 300, &closed);
	ok(strstr(rbuf, "HTTP/1.1 200 OK") && strstr(rbuf, "{\"bytes\":2,"), "%s: then 200", ion);
	close(fd);

	r = exchange(&t, "GET / HTTP/1.0\r\n\r\n", 18, &closed, NULL);
	ok(strncmp(r, "HTTP/1.1 200 OK", 15) == 0 && closed,
	   "%s: HTTP/1.0 without keep-alive: 200 then closed", ion);
	fd = srvtest_connect(t.port, NULL);
	srvtest_send(fd, "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 43);
	srvtest_read(fd, rbuf, sizeof(rbuf), 300, &closed);
	ok(strstr(rbuf, "Connection: keep-alive\r\n") && !strstr(rbuf, "{") && !closed,
	   "%s: HEAD, 1.0 keep-alive: no body, stays open", ion);
	close(fd);

	rejects(&t, ion, "Content-Length with Transfer-Encoding",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 400 ");
	rejects(&t, ion, "duplicate Content-Length",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"HTTP/1.1 400 ");
	rejects(&t, ion, "bad chunk size",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 400 ");
	rejects(&t, ion, "obs-fold",
		"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", "HTTP/1.1 400 ");
	rejects(&t, ion, "body over --max-body-bytes",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", "HTTP/1.1 413 ");
	rejects(&t, ion, "transfer coding not ending in chunked",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", "HTTP/1.1 400 ");
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
	memcpy(big + 2000, "\r\n\r\n", 5);
	rejects(&t, ion, "headers over --max-header-bytes", big, "HTTP/1.1 431 ");

	/* a rejection after good pipelined requests: those are answered first */
	{
		static const char gb[] = "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n"
					 "GET /bad\x01 HTTP/1.1\r\n\r\n";

		r = exchange(&t, gb, sizeof(gb) - 1, &closed, NULL);
	}
	ok(strncmp(r, "HTTP/1.1 200 OK", 15) == 0 && strstr(r, "HTTP/1.1 400 ") && closed,
	   "%s: good then bad: 200, 400, closed", ion);

	fds1 = srvtest_settled_fds(t.pid, fds0);
	ok(fds0 > 0 && fds1 == fds0, "%s: no descriptor leak (%d before, %d after)", ion, fds0, fds1);
	sb = srvtest_snap(&t);
	ok(sb->requests >= 10 && sb->stage[STATS_PARSE].count == sb->requests &&
	   sb->stage[STATS_READ].count > 0 && sb->stage[STATS_WRITE].count > 0,
	   "%s: stage counts recorded", ion);
	is_int(srvtest_stop_server(&t), 0, "%s: clean exit on SIGTERM", ion);
}

static void run_echo(enum server_io io)
{
	const char *ion = server_io_name(io);
	struct server_config cfg;
	struct srvtest t;
	const struct stats_conn *c;
	static char msg[100000];
	size_t i, got = 0;
	uint16_t lp;
	int fd, closed;

	server_config_default(&cfg);
	cfg.io = io;
	cfg.kind = SERVER_ECHO;
	if (srvtest_start(&t, &cfg) < 0) {
		ok(0, "%s: echo server starts", ion);
		return;
	}
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('a' + i % 26);
	fd = srvtest_connect(t.port, &lp);
	/* send and read in turns so neither side's buffers fill */
	for (i = 0; i < sizeof(msg); i += 10000) {
		srvtest_send(fd, msg + i, 10000);
		while (got < i + 10000) {
			size_t n = srvtest_read(fd, rbuf + got, 10001, 2000, &closed);

			if (!n)
				break;
			got += n;
		}
	}
	shutdown(fd, SHUT_WR);
	got += srvtest_read(fd, rbuf + got, sizeof(rbuf) - got, 2000, &closed);
	ok(got == sizeof(msg) && memcmp(rbuf, msg, sizeof(msg)) == 0 && closed,
	   "%s: echo: 100000 bytes back unchanged, closed after EOF", ion);
	close(fd);
	c = srvtest_conn(&t, lp, 1);
	ok(c && c->bytes_read == sizeof(msg) && c->requests == 0, "%s: echo: bytes counted", ion);
	is_int(srvtest_stop_server(&t), 0, "%s: echo: clean exit", ion);
}

static void run_deser(enum server_io io, enum deser_mode mode)
{
	const char *ion = server_io_name(io), *mn = deser_mode_name(mode);
	struct server_config cfg;
	struct srvtest t;
	const struct stats_block *sb;
	static const char req[] =
		"POST /j HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
		"Content-Length: 30\r\n\r\n{\"a\":[1,2,{\"b\":\"x\"}],\"c\":null}"
		"POST /bad HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n{\"a\":"
		"POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3\r\n[1,\r\n3\r\n2,3\r\n1\r\n]\r\n0\r\n\r\n";
	int fd, closed;

	server_config_default(&cfg);
	cfg.io = io;
	cfg.deser = mode;
	if (srvtest_start(&t, &cfg) < 0) {
		ok(0, "%s/%s: server starts", ion, mn);
		return;
	}
	fd = srvtest_connect(t.port, NULL);
	srvtest_send(fd, req, sizeof(req) - 1);
	srvtest_read(fd, rbuf, sizeof(rbuf), 500, &closed);
	close(fd);
	ok(strstr(rbuf, "{\"bytes\":30,\"fields\":7}") != NULL,
	   "%s/%s: JSON body: 7 fields deserialized", ion, mn);
	ok(strstr(rbuf, "HTTP/1.1 400 ") && !strstr(rbuf, "Connection: close"),
	   "%s/%s: invalid JSON: 400, connection kept (framing intact)", ion, mn);
	ok(strstr(rbuf, "{\"bytes\":7,\"fields\":4}") && !closed,
	   "%s/%s: chunked JSON after it: 4 fields", ion, mn);
	sb = srvtest_snap(&t);
	ok(sb->alloc.fields == 11 && sb->stage[STATS_DESER].count == 3,
	   "%s/%s: alloc stage: fields and parses counted", ion, mn);
	ok(mode != DESER_TREE || sb->alloc.allocs > 0, "%s/%s: allocations counted", ion, mn);
	is_int(srvtest_stop_server(&t), 0, "%s/%s: clean exit", ion, mn);
}

int main(void)
{
	const char *why;

	plan_lazy();
	run_http(SERVER_IO_EPOLL);
	run_http(SERVER_IO_BLOCKING);
	run_echo(SERVER_IO_EPOLL);
	run_echo(SERVER_IO_BLOCKING);
	run_deser(SERVER_IO_EPOLL, DESER_TREE);
	run_deser(SERVER_IO_EPOLL, DESER_ARENA);
	run_deser(SERVER_IO_BLOCKING, DESER_TREE);
	{
		/* a server that cannot listen leaves its reason in the block */
		struct stats_block *b = NULL;
		struct server_config cfg;
		volatile sig_atomic_t stop = 1;

		server_config_default(&cfg);
		cfg.listen = "192.0.2.1:0";	/* TEST-NET-1 (RFC 5737): not ours */
		if (stats_create(&b, 16) < 0)
			bail_out("no stats block");
		ok(server_run(&cfg, b, &stop) < 0 && !b->ready &&
		   strncmp(b->start_error, "bind 192.0.2.1:0: ", 18) == 0,
		   "start failure: the step in start_error ('%s')", b->start_error);
		stats_destroy(b);
	}
	if (ioloop_uring_probe(&why) < 0) {
		skip("io_uring: %s", why);
	} else {
		run_http(SERVER_IO_URING);
		run_echo(SERVER_IO_URING);
	}
	return exit_status();
}
