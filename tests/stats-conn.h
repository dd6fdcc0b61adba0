/*
 * stats-conn.h: finds a peer's connection slot in a stats block, for the
 * tests that check what the server recorded about one client.
 */
#ifndef PKTMEM_TESTS_STATS_CONN_H
#define PKTMEM_TESTS_STATS_CONN_H

#include <string.h>
#include <sys/socket.h>

#include "core/stats.h"

/* The last slot of a peer (any state), or NULL. */
static inline const struct stats_conn *stats_conn_find(const struct stats_block *b, int family,
						       const void *addr, uint16_t port)
{
	uint32_t n = __atomic_load_n(&b->nconns, __ATOMIC_ACQUIRE);
	size_t alen = family == AF_INET6 ? 16 : 4;

	if (n > b->conn_cap)
		n = b->conn_cap;
	while (n-- > 0) {
		const struct stats_conn *c = &b->conn[n];

		if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == 0)
			continue;
		if (c->family == family && c->port == port && memcmp(c->addr, addr, alen) == 0)
			return c;
	}
	return NULL;
}

#endif
