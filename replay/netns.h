/*
 * netns.h: the replay topology: two private network namespaces joined by a
 * veth pair, built over rtnetlink (libmnl), never by running `ip`.
 *
 *   client netns (replayer)                 server netns (core server)
 *   pmc0  02:70:6b:00:00:02  <== veth ==>   pms0  02:70:6b:00:00:01
 *   no addresses at all                     10.200.0.1/32, fd70:6b6d::1/128
 *                                           routes 10.201.0.0/16, fd70:6b6d:c::/64
 *                                           static neighbours for client addrs
 *
 * Both namespaces are unnamed: netns_topo_new() unshare()s into each in
 * turn, keeps an fd to it and setns()es back, so the calling process never
 * stays outside its own namespace.  They live only as long as that fd, the
 * sockets made inside them and the server child that joins one; when the
 * process dies (SIGKILL included) the kernel frees both namespaces and the
 * veth pair with them.  Nothing on the host is touched.
 *
 * The replaying side's kernel must never answer the server: the client
 * addresses exist nowhere in the client namespace and forwarding is off
 * there (the default in a new namespace), so its stack drops the server's
 * packets (counted as InAddrErrors, no ICMP, no RST).  The server reaches
 * the clients through NUD_PERMANENT neighbour entries added per client
 * address (netns_add_client), so no ARP/NDP is needed.
 *
 * Ownership: struct netns_topo is opaque and owns its namespace fds and
 * netlink sockets; sockets handed out by netns_socket() belong to the caller.
 */
#ifndef PKTMEM_REPLAY_NETNS_H
#define PKTMEM_REPLAY_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum netns_side { NETNS_CLIENT = 0, NETNS_SERVER = 1 };

#define NETNS_CLIENT_DEV "pmc0"
#define NETNS_SERVER_DEV "pms0"

/* Fixed, locally administered MACs (bit 1 of the first octet set). */
extern const uint8_t netns_client_mac[6];
extern const uint8_t netns_server_mac[6];

/* Server addresses and the client ranges, network byte order. */
#define NETNS_SERVER_IP4 "10.200.0.1"
#define NETNS_CLIENT_NET4 "10.201.0.0"	/* /16 */
#define NETNS_SERVER_IP6 "fd70:6b6d::1"
#define NETNS_CLIENT_NET6 "fd70:6b6d:c::"	/* /64 */

struct netns_cfg {
	uint32_t mtu;		/* both veth ends, bytes of IP packet; 0 = 1500 */
};

struct netns_topo;

/* Needs CAP_SYS_ADMIN (unshare/setns) and CAP_NET_ADMIN.  Returns 0 or a
 * negative errno and writes one line into err: the step that failed and
 * netns_strerror()'s advice ("unshare(CLONE_NEWNET): network namespaces
 * need root ...").  cfg may be NULL (MTU 1500).
 *
 * Test-only fault injection: when the environment variable
 * PKTMEM_TEST_FAIL is "veth", the veth-creation step fails with
 * -EOPNOTSUPP and err says "create veth: injected failure
 * (PKTMEM_TEST_FAIL=veth)", so a test can show that `pktmem doctor`
 * (netns_probe) and `pktmem replay` report the same failure.  Read here,
 * at setup only. */
int netns_topo_new(struct netns_topo **out, const struct netns_cfg *cfg,
		   char *err, size_t errlen);

/* The topology exactly as replay builds it (netns_topo_new: both
 * namespaces, the veth pair, addresses, routes), then torn down.  0 ok,
 * or a negative code with a one-line reason in err: the failed step and
 * strerror(), without netns_topo_new()'s advice (the caller has its own). */
int netns_probe(char *err, size_t errlen);
void netns_topo_free(struct netns_topo *t);

/* One line for an error of this module's calls (netns_topo_new,
 * netns_join...), with the fix where the cause is known. */
const char *netns_strerror(int err);

/* Moves the calling thread into a side's namespace for good (used by the
 * server child after fork()). */
int netns_join(const struct netns_topo *t, enum netns_side side);

/* socket() created inside a side's namespace; the caller stays where it is. */
int netns_socket(const struct netns_topo *t, enum netns_side side,
		 int domain, int type, int protocol);

/* Interface index of the veth end on a side. */
int netns_ifindex(const struct netns_topo *t, enum netns_side side);

/* Client address number idx (1..65534) of a family, as 16 bytes (IPv4 in
 * the first 4).  netns_add_client() installs its neighbour entry in the
 * server namespace (idempotent). */
void netns_client_addr(int family, uint32_t idx, uint8_t out[16]);
void netns_server_addr(int family, uint8_t out[16]);
int netns_add_client(struct netns_topo *t, int family, const uint8_t addr[16]);

/* Opens /proc/net/<name> as seen from a side's namespace ("snmp",
 * "netstat", "snmp6"). */
FILE *netns_proc_net(const struct netns_topo *t, enum netns_side side,
		     const char *name);

#endif
