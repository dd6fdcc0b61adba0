/* replay_util.h: synthetic plans and the sink server for the replay tests. */
#ifndef PKTMEM_TESTS_REPLAY_UTIL_H
#define PKTMEM_TESTS_REPLAY_UTIL_H

#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "replay/engine.h"
#include "replay/plan.h"
#include "replay/sink.h"

static inline uint32_t ru_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A flow of nseg segments, sizes in [minlen, maxlen], bytes from seed. */
static inline struct plan_flow *ru_flow(struct plan *p, uint64_t id, int family, uint32_t nseg,
				 uint32_t minlen, uint32_t maxlen, uint32_t seed)
{
	struct plan_flow proto = { 0 }, *f;
	uint8_t buf[65536];
	uint64_t off = 0, ts = 1000000000ull + id * 1000000;
	uint32_t i, k;

	proto.id = id;
	proto.family = family;
	if (family == AF_INET) {
		inet_pton(AF_INET, "192.0.2.7", proto.caddr);
		inet_pton(AF_INET, "198.51.100.1", proto.saddr);
	} else {
		inet_pton(AF_INET6, "2001:db8::7", proto.caddr);
		inet_pton(AF_INET6, "2001:db8::1", proto.saddr);
	}
	proto.cport = (uint16_t)(40000 + id);
	proto.sport = 80;
	proto.first_ts_ns = ts;
	f = plan_add_flow(p, &proto);
	for (i = 0; i < nseg; i++) {
		uint32_t len = minlen + (maxlen > minlen ? ru_rand(&seed) % (maxlen - minlen + 1) : 0);

		for (k = 0; k < len; k++)
			buf[k] = (uint8_t)ru_rand(&seed);
		ts += 100000;	/* 100 us apart */
		plan_add_data(p, f, off, buf, len, ts);
		off += len;
	}
	return f;
}

struct ru_server {
	struct sink_cfg sink;
};

static inline int ru_sink_run(void *arg, struct stats_block *st, const char *listen,
		       volatile sig_atomic_t *stop)
{
	struct ru_server *s = arg;

	/* one table per family's server, as the engine reads them */
	if (listen[0] == '[')
		s->sink.hash += SINK_HASH_SLOTS;
	s->sink.listen = listen;
	return sink_run(&s->sink, st, stop);
}

/* The sink with a shared content-hash table, wired into cfg. */
static inline struct ru_server *ru_server_setup(struct engine_cfg *cfg, bool echo)
{
	static struct ru_server srv;

	memset(&srv, 0, sizeof(srv));
	srv.sink.echo = echo;
	srv.sink.hash = mmap(NULL, 2 * SINK_HASH_SLOTS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(srv.sink.hash, 0, 2 * SINK_HASH_SLOTS * sizeof(uint64_t));
	cfg->server.run = ru_sink_run;
	cfg->server.arg = &srv;
	cfg->server.content_fnv = srv.sink.hash;
	return &srv;
}

static inline void ru_server_reset(struct ru_server *s)
{
	memset(s->sink.hash, 0, 2 * SINK_HASH_SLOTS * sizeof(uint64_t));
}

static inline int ru_is_root(void)
{
	return geteuid() == 0 && engine_packet_path_unavailable() == NULL;
}

#endif
