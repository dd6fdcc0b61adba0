/*
 * iface.h: replaying onto an interface the user names (--iface IFACE
 * --server-ip IP), to a server on another host that pktmem did not start.
 *
 *   this host                                        the server's host
 *   peer (peer.h) ── TX ring on IFACE ── wire ──►    kernel TCP ──► server
 *                 ◄─ RX ring on IFACE, BPF: the server's TCP, ARP, NS
 *
 * What it takes, all over rtnetlink (libmnl) or a packet socket on IFACE:
 *  - the link: index, MTU, MAC, flags (iface_link_get, RTM_GETLINK);
 *  - the server's next hop: the route to IP (RTM_GETROUTE): the gateway,
 *    or IP itself when on-link, and it must leave through IFACE;
 *  - the next hop's MAC: the kernel's neighbour table (RTM_GETNEIGH), or,
 *    when the kernel does not know it, an ARP request / IPv6 neighbour
 *    solicitation of our own on IFACE (iface_neigh_resolve);
 *  - the client addresses (struct iface_clients): the captured ones, or
 *    numbered into --client-net CIDR; never an address of this host (its
 *    kernel would answer the server's SYN-ACKs with RSTs) nor the server's;
 *  - answers for them: the replaying host does not own the client
 *    addresses, so the peer answers the server's ARP requests and neighbour
 *    solicitations for them itself, with IFACE's MAC
 *    (iface_clients_answer).  The host's kernel then receives the server's
 *    packets at its own MAC for an address it does not have and drops them
 *    (forwarding must be off on IFACE: iface_forwarding()).
 *
 * Ownership: struct iface_clients is opaque and owns its tables; the rest
 * are plain values.  Nothing here prints.
 */
#ifndef PKTMEM_REPLAY_IFACE_H
#define PKTMEM_REPLAY_IFACE_H

#include "lib/err.h"

#include "replay/engine.h"
#include "replay/plan.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Module errors (negative, below the errno range: lib/err.h). */
enum {
	IFACE_E_NOLINK = PM_E_IFACE - 1,	/* no interface of that name */
	IFACE_E_DOWN = PM_E_IFACE - 2,		/* the interface is not up */
	IFACE_E_LOOPBACK = PM_E_IFACE - 3,	/* a loopback interface */
	IFACE_E_NOTETHER = PM_E_IFACE - 4,	/* not an Ethernet-framed interface */
	IFACE_E_NOROUTE = PM_E_IFACE - 5,	/* no route to the server */
	IFACE_E_OTHERDEV = PM_E_IFACE - 6,	/* the route leaves through another interface */
	IFACE_E_NEIGH = PM_E_IFACE - 7,		/* no ARP / neighbour answer in time */
	IFACE_E_NOSRC = PM_E_IFACE - 8,		/* no IPv6 source to solicit from */
	IFACE_E_LOCAL = PM_E_IFACE - 9,		/* a client address of this host */
	IFACE_E_NETFULL = PM_E_IFACE - 10,	/* --client-net has no address left */
	IFACE_E_CIDR = PM_E_IFACE - 11,		/* not ADDR/PREFIX */
	IFACE_E_NOCARRIER = PM_E_IFACE - 12,	/* up, but no carrier (IFF_RUNNING off) */
	IFACE_E_PLAN = PM_E_IFACE - 13,		/* iface_remote_plan(): err says why */
};

struct iface_link {
	int ifindex;
	uint32_t mtu;		/* bytes of IP packet */
	uint8_t mac[6];
	unsigned int flags;	/* IFF_* */
	char name[16];
	char kind[16];		/* IFLA_INFO_KIND: "veth", ...; "" for a plain NIC */
};

/* RTM_GETLINK by name.  0, or IFACE_E_NOLINK / _LOOPBACK / _NOTETHER /
 * _DOWN / _NOCARRIER (out is filled as far as known), or -errno. */
int iface_link_get(const char *name, struct iface_link *out);

struct iface_route {
	int oif;		/* the interface the route leaves through */
	uint8_t nexthop[16];	/* the gateway, or the destination on-link */
	bool gateway;
	uint8_t src[16];	/* the preferred source (RTA_PREFSRC) */
	bool have_src;
	int type;		/* RTN_UNICAST, RTN_LOCAL, ... */
};

/* RTM_GETROUTE for dst (IPv4 in the first 4 bytes), leaving through
 * interface oif when oif > 0 (needed for IPv6 link-local, fe80::/10).
 * 0 or IFACE_E_NOROUTE or -errno. */
int iface_route_get(int family, const uint8_t dst[16], int oif, struct iface_route *out);

/* 1 when addr is an address of this host (or its broadcast), 0 if not. */
int iface_is_local(int family, const uint8_t addr[16]);

/* The kernel's neighbour entry for addr on ifindex (RTM_GETNEIGH): 0 and
 * mac filled when it holds a usable link-layer address, -ENOENT if not. */
int iface_neigh_get(int family, const uint8_t addr[16], int ifindex, uint8_t mac[6]);

/* Asks the wire: ARP request (IPv4, from src or 0.0.0.0) or neighbour
 * solicitation (IPv6, from src, which is needed) on the link, up to
 * tries times, wait_ms each.  0 and mac, IFACE_E_NEIGH, IFACE_E_NOSRC or
 * -errno.  Needs CAP_NET_RAW. */
int iface_neigh_resolve(const struct iface_link *l, int family, const uint8_t target[16],
			const uint8_t *src, int tries, int wait_ms, uint8_t mac[6]);

/* 1 if the kernel forwards this family's packets arriving on the link
 * (net.ipv4.conf.IFACE.forwarding, net.ipv6.conf.IFACE.forwarding), 0 if
 * not, -errno when it cannot tell. */
int iface_forwarding(const char *name, int family);

/* "10.1.0.0/24", "fd00::/64": family, network (host bits cleared), prefix. */
int iface_parse_cidr(const char *s, int *family, uint8_t net[16], int *prefix);

struct iface_clients_cfg {
	struct iface_link link;
	int family;			/* the server's */
	uint8_t server[16];
	/* --client-net: numbered addresses in it; prefix < 0: keep the
	 * captured ones */
	uint8_t net[16];
	int prefix;
};

struct iface_clients;

int iface_clients_new(struct iface_clients **out, const struct iface_clients_cfg *cfg);
void iface_clients_free(struct iface_clients *c);

/* peer_cfg.client_addr: the live address for the peer's address number
 * idx; captured is the captured client's (NULL: one more address for the
 * same client, its ports ran out).  Kept addresses must not be local
 * (IFACE_E_LOCAL); numbered ones skip this host's and the server's. */
int iface_clients_addr(void *arg, int family, uint32_t idx, const uint8_t *captured,
		       uint8_t out[16]);
/* peer_cfg.add_client: remembers addr so that its ARP / NS get answered. */
int iface_clients_add(void *arg, int family, const uint8_t addr[16]);
/* peer_cfg.answer: an ARP request or neighbour solicitation for one of
 * our client addresses gets its reply written at out; returns its length,
 * 0 when the frame is not one to answer. */
int iface_clients_answer(void *arg, const uint8_t *frame, uint32_t len, uint8_t *out,
			 uint32_t cap);
/* What the user asked for: --iface, --server-ip (an IPv6 link-local
 * one may carry its zone, fe80::1%eth0), --client-net (NULL: keep the
 * captured client addresses), --port (0: each flow's captured one). */
struct iface_opts {
	const char *iface, *server_ip, *client_net;
	uint16_t port;
};

/* The path the replay takes, for the summary; owns clients. */
struct iface_path {
	struct iface_link link;
	char nexthop[INET6_ADDRSTRLEN];
	bool gateway;		/* the next hop is a gateway, not the server */
	bool resolved;		/* pktmem asked the wire (ARP / NS), not the kernel */
	uint8_t nexthop_mac[6];
	struct iface_clients *clients;	/* iface_clients_free() */
};

/* The policy of a replay onto IFACE, in one place: the link must be up
 * and not forwarding, the server reached through it (a zone only on a
 * link-local address, and naming IFACE), not an address of this host; the
 * next hop's MAC from the kernel or the wire (3 x 1 s); every flow in the
 * server's family unless --client-net maps the clients, and no captured
 * client address of this host or the server's.  Fills path and rm (its
 * client callbacks on path->clients).  0, or a negative error with one
 * line in err naming the option at fault. */
int iface_remote_plan(const struct iface_opts *o, const struct plan *plan, struct iface_path *path,
		      struct engine_remote *rm, char *err, size_t errlen);

const char *iface_strerror(int err);

#endif
