/*
 * verify.h: the replay engine's delivery check (engine.h describes what it
 * checks); private to the engine, in its own file because it is one idea:
 * pairing every replayed connection with the server's record of it, then
 * comparing bytes, contents and requests flow by flow.
 *
 * The caller owns everything passed; the check writes only into r
 * (failures, requests, flows_rejected, the copy check's fields, verified).
 */
#ifndef PKTMEM_REPLAY_VERIFY_H
#define PKTMEM_REPLAY_VERIFY_H

#include "core/stats.h"
#include "replay/engine.h"
#include "replay/peer.h"
#include "replay/plan.h"

/* Compares every replayed flow (res[0..nres)) with what the servers
 * recorded in blocks (blocks[1]: the IPv6 server's or NULL; both NULL for
 * a server on another host).  Waits up to cfg->verify_wait_ms for the
 * server to read what its kernel already ACKed.  0 or -ENOMEM. */
int engine_verify(const struct plan *plan, const struct engine_cfg *cfg,
		  const struct peer_result *res, uint64_t nres,
		  struct stats_block *const blocks[2], struct engine_result *r);

#endif
