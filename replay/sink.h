/*
 * sink.h: a minimal TCP server for the replayer's own tests and benchmarks:
 * accepts, reads everything, counts bytes per connection in the shared
 * stats block (core/stats.h), optionally echoes every byte back, closes
 * on the peer's FIN.  It never parses: the core server does that.
 *
 * It exists so the replay engine can be tested and measured against a
 * plain kernel listener, independent of the core server.
 */
#ifndef PKTMEM_REPLAY_SINK_H
#define PKTMEM_REPLAY_SINK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/stats.h"

struct sink_cfg {
	bool echo;		/* write back every byte read */
	const char *listen;	/* "127.0.0.1:0", "0.0.0.0:0", "[::]:0" (IPv6 only); NULL = "[::]:0" dual-stack */
	uint64_t close_after;	/* tests of failure paths: close a connection after
				 * reading this many bytes (0 = never) */
	uint64_t *hash;		/* shared, SINK_HASH_SLOTS entries: FNV-1a 64 of
				 * each connection's bytes, by stats slot (slots
				 * beyond go unhashed); may be NULL */
};

#define SINK_HASH_SLOTS 65536

/* Serves until *stop; returns 0 or -errno.  Sets st->port and st->ready. */
int sink_run(const struct sink_cfg *cfg, struct stats_block *st, volatile sig_atomic_t *stop);

/* FNV-1a 64 over n more bytes (start with SINK_FNV_INIT). */
#define SINK_FNV_INIT 14695981039346656037ull
uint64_t sink_fnv(uint64_t h, const uint8_t *p, size_t n);

#endif
