/*
 * engine.h: one replay, end to end.
 *
 *   plan ──► topology (netns.h: two private namespaces + veth) ──► server
 *   child in the server namespace (the core server, or any engine_server)
 *   ──► peer (peer.h) over the chosen transmit path (txring.h) ──►
 *   delivery verification against the server's shared stats block
 *   (core/stats.h) ──► struct engine_result.
 *
 * --via socket needs no privileges: no namespaces, the server child binds
 * 127.0.0.1 and the peer uses ordinary TCP sockets.
 *
 * Verification: per replayed flow, the server's bytes_read for the live
 * client address and port must equal the capture's planned client bytes,
 * and (when the server counts requests and the plan knows them) its
 * requests the plan's; any difference fails the run and names the flow and
 * the byte offset where the server's stream stops matching.
 *
 * Cleanup: the server child asks for SIGKILL when the engine's process dies
 * (PR_SET_PDEATHSIG); the namespaces and the veth pair die with the last
 * process and fd holding them.  SIGKILL at any moment leaves nothing.
 *
 * Ownership: the caller owns plan and result; result->failures is heap
 * (engine_result_release()).
 */
#ifndef PKTMEM_REPLAY_ENGINE_H
#define PKTMEM_REPLAY_ENGINE_H

#include "lib/err.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/stats.h"
#include "replay/peer.h"
#include "replay/plan.h"

enum engine_via { ENGINE_MMAP = 0, ENGINE_RAW, ENGINE_SOCKET };

/* Module errors (negative, below the errno range: lib/err.h). */
enum {
	ENGINE_E_SERVER = PM_E_ENGINE - 1,	/* the server child died or never listened */
	ENGINE_E_EMPTY = PM_E_ENGINE - 2,		/* nothing in the plan to replay */
};

/* The server the replay goes into.  run() is called in a forked child,
 * inside the server namespace (socket path: the host's): it listens on
 * listen ("0.0.0.0:0" or "[::]:0" IPv6-only in the namespace, one child per
 * address family the plan needs, each with its own stats block;
 * "127.0.0.1:0" on the socket path), sets st->port and then st->ready = 1,
 * and serves until *stop.  A run() that cannot listen returns < 0, and may
 * first say why in st->start_error (else the engine words its error); the
 * child's own setup steps (joining the namespace, dropping privileges,
 * the syscall filter) write theirs there too. */
struct engine_server {
	int (*run)(void *arg, struct stats_block *st, const char *listen,
		   volatile sig_atomic_t *stop);
	void *arg;
	bool counts_requests;	/* stats_conn.requests is meaningful */
	/* optional, shared memory: FNV-1a 64 of each connection's bytes by
	 * stats slot (sink.h); when set, contents are compared too */
	const uint64_t *content_fnv;
	/* a server pktmem did not build (replay/target.h): one child serves
	 * both address families on one port, and delivery is verified from
	 * the peer's side (the server's kernel ACKed every client byte),
	 * without a stats block's per-connection counts */
	bool foreign;
	/* socket path: connect here instead of 127.0.0.1:port; may be NULL */
	const struct sockaddr *connect_to;
	unsigned int connect_len;
	uint32_t ready_wait_ms;	/* for st->ready; 0 = 5000 */
	/* the child drops every capability (privs_drop_all()) after joining
	 * its namespace, before run(): for pktmem's own servers, which bind
	 * port 0 and need none; not for a foreign server that needs its own */
	bool drop_privs;
	/* with drop_privs: the child also installs core/sandbox.h's syscall
	 * filter with these flags (SANDBOX_*), after the drop */
	bool sandbox;
	unsigned sandbox_flags;
};

/* --iface IFACE --server-ip IP (replay/iface.h): the peer transmits on an
 * existing interface of this namespace to a server on another host; no
 * namespaces, no server child; delivery is verified as for a foreign
 * server (the server's kernel ACKed every client byte). */
struct engine_remote {
	int ifindex;
	uint32_t mtu;			/* the interface's */
	int family;			/* the server's; every flow is replayed in it */
	uint8_t server_addr[16];
	uint16_t port;			/* 0: each flow's captured server port */
	uint8_t src_mac[6], dst_mac[6];	/* the interface's, the next hop's */
	/* as peer_cfg's: client addresses, their ARP/NS, the answers */
	int (*client_addr)(void *arg, int family, uint32_t idx, const uint8_t *captured,
			   uint8_t out[16]);
	int (*add_client)(void *arg, int family, const uint8_t addr[16]);
	int (*answer)(void *arg, const uint8_t *frame, uint32_t len, uint8_t *out, uint32_t cap);
	void *arg;
};

/* What the caller does around the server children, all optional (NULL),
 * with one argument.  In the child: child_ready() after it joined its
 * namespace and dropped its privileges, before run() listens (a profiler
 * opens its events on the child here, before the first byte arrives);
 * child_done() after run() returned, on the child's own stats block.  In
 * the parent: forked() once every server child is forked, before waiting
 * for them, with how many there are (one per address family, so 1 or 2):
 * start threads here, not before engine_run (a child forked while another
 * thread holds a lock inherits it held); copied() while the replay runs;
 * finish() once the children have exited, before their stats blocks are
 * unmapped (blocks[1]: the IPv6 server's, or NULL; both NULL with
 * --iface): what the servers counted is read there, from the blocks
 * themselves. */
struct engine_hooks {
	void (*child_ready)(void *arg);
	void (*child_done)(void *arg, struct stats_block *st);
	void (*forked)(void *arg, int nchildren);
	/* a foreign server: bytes the kernel has copied to its threads so
	 * far (the profiler's skb:skb_copy_datagram_iovec count): 0 and
	 * *bytes, 1 and *bytes when that may be only part of its reads (it
	 * started threads the count does not see), < 0 when not counted;
	 * with 0, verification also checks that the server read every byte
	 * its kernel ACKed */
	int (*copied)(void *arg, uint64_t *bytes);
	void (*finish)(void *arg, const struct stats_block *const blocks[2]);
	void *arg;
};

struct engine_cfg {
	enum engine_via via;
	const struct engine_remote *remote;	/* NULL: pktmem's own topology */
	struct peer_cfg peer;		/* server_port and add_client are set by the engine */
	struct engine_server server;
	struct engine_hooks hooks;
	int rx_version;			/* TPACKET_V2 or V3 for the RX ring; 0 = 3 */
	uint32_t ring_bytes;		/* TX ring; 0 = 4 MiB */
	bool qdisc_bypass;		/* default false; see docs/replay.md */
	uint32_t verify_wait_ms;	/* for the server to read what was ACKed; 0 = 3000 */
	/* The replayer keeps only these capabilities (bit n = capability n)
	 * once its setup is done (namespaces, veth, packet sockets and rings,
	 * the server children ready, so the profiler's events open), in every
	 * thread (privs_keep_only()).  The engine adds what the run itself
	 * still uses: CAP_NET_ADMIN on its own topology (a neighbour entry per
	 * new client address, rtnetlink checks the sender at send time). */
	bool drop_caps;
	unsigned long long keep_caps;
};

struct engine_failure {
	uint64_t flow_id;	/* the capture's flow number */
	uint32_t loop;
	char msg[256];
};

/* One named kernel counter's change in the server namespace. */
struct engine_counter {
	char name[40];		/* "TcpExt:TCPBacklogDrop" */
	int64_t delta;
};

struct engine_result {
	enum engine_via via;
	struct peer_stats peer;
	uint64_t flows;			/* replayed (loops included) */
	uint64_t bytes_acked;		/* client bytes the server's kernel ACKed, all
					 * flows (socket path: written, or ACKed
					 * by SIOCOUTQ when a flow stalled) */
	uint64_t flows_skipped;		/* per pass */
	uint64_t flows_truncated;	/* per pass: replayed up to a hole */
	uint64_t flows_rejected;	/* closed early by the server, as the capture predicts */
	uint64_t requests;		/* planned requests (0 if unknown) */
	uint64_t server_bytes_read, server_requests;
	uint64_t server_responses_2xx, server_responses_4xx, server_responses_5xx;
	uint64_t frames_confirmed;	/* TX slots back without WRONG_FORMAT */
	uint64_t wrong_format;
	uint64_t rx_drops;		/* RX ring full */
	uint32_t mtu;
	uint32_t ring_frames, ring_frame_size;
	uint64_t server_drops;		/* sum of the drop counters below */
	struct engine_counter counters[32];	/* non-zero deltas, server side */
	uint32_t ncounters;
	uint64_t client_out_rsts;	/* Tcp OutRsts in the replayer's namespace: must be 0 */
	bool verified;			/* every flow matched */
	bool requests_verified;		/* requests were compared too */
	uint64_t nfailures;
	struct engine_failure *failures;	/* first 64 */
	bool interrupted;
	int peer_err;			/* a transmit error that stopped the run */
	/* CPU (getrusage), ns: the replaying process during the replay (the
	 * veth receive path runs in its context), and the server children */
	uint64_t cpu_replayer_ns, cpu_server_ns;
	/* a foreign server with copied(): what the kernel copied to its
	 * threads (also in server_bytes_read) against what its kernel ACKed;
	 * copy_msg says how they differ ("" when equal); copy_failed: the
	 * server left ACKed bytes unread with no flow reset or closed early
	 * and the count covers all its threads (verified is false then) */
	bool copy_checked, copy_failed;
	uint64_t copy_bytes, copy_acked;
	char copy_msg[256];
};

/* Runs the replay.  Returns 0 when it ran (check result->verified), or a
 * negative error with err filled (one line, what failed first; a server
 * child that did not start says why, from its stats block's
 * start_error). */
int engine_run(const struct plan *plan, const struct engine_cfg *cfg,
	       struct engine_result *result, volatile sig_atomic_t *stop,
	       char *err, size_t errlen);
void engine_result_release(struct engine_result *r);

/* Why the full path is not available to this process, or NULL if it is
 * (CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN in the effective set). */
const char *engine_packet_path_unavailable(void);

/* The same for --iface (CAP_NET_RAW and CAP_NET_ADMIN; no namespaces). */
const char *engine_iface_unavailable(void);

const char *engine_via_name(enum engine_via via);

/* The largest IP packet the plan needs (MTU for the veth), bytes. */
uint32_t engine_mtu_for(const struct plan *plan);

#endif
