/* t6000: the topology and the rings on their own: namespaces and veth
 * built over netlink (MTU, addresses where they belong and nowhere else),
 * the TX ring's geometry follows the kernel's rules, every frame the ring
 * counts as sent arrives on the other side, raw sendto likewise, and the
 * ring is drained before it is freed. */
#include "tests/tap.h"

#include "replay/netns.h"
#include "replay/tcpgen.h"
#include "replay/rxring.h"
#include "replay/txring.h"
#include "replay/engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int mtu_of(const struct netns_topo *t, enum netns_side side, const char *dev)
{
	struct ifreq ifr;
	int fd = netns_socket(t, side, AF_INET, SOCK_DGRAM, 0), mtu = -1;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

static int bind_in(const struct netns_topo *t, enum netns_side side, int family, const uint8_t *addr)
{
	int fd = netns_socket(t, side, family, SOCK_DGRAM, 0), rc;

	if (fd < 0)
		return fd;
	if (family == AF_INET) {
		struct sockaddr_in sa = { .sin_family = AF_INET };

		memcpy(&sa.sin_addr, addr, 4);
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

		memcpy(&sa.sin6_addr, addr, 16);
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	rc = rc < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static void count(void *ctx, const struct rxq_pkt *p)
{
	struct tcpgen_rx rx;

	if (tcpgen_parse(p->data, p->caplen, p->wirelen, &rx) == 0 && rx.dport == 9)
		(*(int *)ctx)++;
}

static void send_frames(struct netns_topo *t, enum txq_via via, int n)
{
	struct txq_cfg tc = { .via = via, .ifindex = netns_ifindex(t, NETNS_CLIENT),
			      .max_frame = 14 + 1500, .ring_bytes = 256 << 10 };
	struct rxq_cfg rc = { .ifindex = netns_ifindex(t, NETNS_SERVER), .version = 2,
			      .filter = "tcp and dst port 9" };
	struct tcpgen_flow f = { .family = AF_INET };
	struct txq *q = NULL;
	struct rxq *rx = NULL;
	char err[256];
	uint8_t pay[600] = { 1 };
	int i, got = 0, rc2, full = 0;

	if ((rc2 = txq_new(&q, netns_socket(t, NETNS_CLIENT, AF_PACKET, SOCK_RAW, 0), &tc,
			   err, sizeof(err))) < 0) {
		ok(0, "%s: txq_new: %s", txq_via_name(via), err);
		return;
	}
	if (rxq_new(&rx, netns_socket(t, NETNS_SERVER, AF_PACKET, SOCK_RAW, 0), &rc, err, sizeof(err)) < 0) {
		ok(0, "rxq_new: %s", err);
		txq_free(q);
		return;
	}
	if (via == TXQ_MMAP) {
		const struct txq_stats *s = txq_stats(q);
		long page = sysconf(_SC_PAGESIZE);

		ok(s->frame_size % 16 == 0 && s->frame_size >= 32 + 10 + 1514,
		   "frame size %u: a multiple of TPACKET_ALIGNMENT holding header + frame", s->frame_size);
		ok(s->block_size % (uint32_t)page == 0 && (s->block_size & (s->block_size - 1)) == 0,
		   "block size %u: a power-of-two multiple of the page size", s->block_size);
		ok(s->frame_nr == (s->block_size / s->frame_size) * s->block_nr,
		   "frame_nr %u = frames per block x %u blocks", s->frame_nr, s->block_nr);
	}
	memcpy(f.src_mac, netns_client_mac, 6);
	memcpy(f.dst_mac, netns_server_mac, 6);
	netns_client_addr(AF_INET, 1, f.src);
	netns_server_addr(AF_INET, f.dst);
	f.sport = 5555;
	f.dport = 9;
	tcpgen_flow_init(&f);
	for (i = 0; i < n; i++) {
		struct tcpgen_seg s = { .seq = (uint32_t)i, .flags = TCPGEN_ACK, .win = 100,
					.wscale = -1, .payload = pay, .len = sizeof(pay) };
		uint8_t *slot;
		int len;

		while (!(slot = txq_slot(q))) {
			txq_flush(q);
			txq_reap(q);
			full = 1;
		}
		len = tcpgen_build(&f, &s, slot, 14 + 1500);
		txq_commit(q, (uint32_t)len);
		if (i % 50 == 49)
			txq_flush(q);
	}
	ok(txq_drain(q, 5000) == 0 && txq_pending(q) == 0, "%s: drained, no slot left with the kernel",
	   txq_via_name(via));
	is_int(txq_stats(q)->frames, n, "%s: %d frames confirmed sent", txq_via_name(via), n);
	is_int(txq_stats(q)->wrong_format, 0, "%s: none refused", txq_via_name(via));
	if (via == TXQ_MMAP)
		ok(full, "the ring filled and slots came back (ring of %u frames)", txq_stats(q)->frame_nr);
	for (i = 0; i < 100 && got < n; i++) {
		rxq_poll(rx, count, &got);
		if (got < n)
			rxq_wait(rx, 10);
	}
	is_int(got, n, "%s: every confirmed frame arrived on the other end", txq_via_name(via));
	txq_free(q);
	rxq_free(rx);
}

/* The probes `pktmem doctor` shares with replay, and the test-only
 * fault injection both honour (netns.h, txring.h). */
static void probes(void)
{
	char err[256] = "";
	int rc;

	rc = netns_probe(err, sizeof(err));
	ok(rc == 0, "netns_probe: ok (%s)", err);
	rc = txq_probe(err, sizeof(err));
	ok(rc == 0, "txq_probe: ok (%s)", err);
	setenv("PKTMEM_TEST_FAIL", "veth", 1);
	rc = netns_probe(err, sizeof(err));
	is_int(rc, -EOPNOTSUPP, "PKTMEM_TEST_FAIL=veth: netns_probe fails");
	is_str(err, "create veth: injected failure (PKTMEM_TEST_FAIL=veth)", "with the reason");
	setenv("PKTMEM_TEST_FAIL", "txring", 1);
	rc = txq_probe(err, sizeof(err));
	is_int(rc, -EOPNOTSUPP, "PKTMEM_TEST_FAIL=txring: txq_probe fails");
	is_str(err, "PACKET_TX_RING: injected failure (PKTMEM_TEST_FAIL=txring)", "with the reason");
	unsetenv("PKTMEM_TEST_FAIL");
	ok(if_nametoindex(NETNS_CLIENT_DEV) == 0, "the probes left no veth behind");
}

int main(void)
{
	struct netns_topo *t = NULL;
	struct netns_cfg cfg = { .mtu = 9000 };
	char err[256] = "";
	uint8_t a[16];
	int rc;

	if (engine_packet_path_unavailable())
		skip_all("needs root: %s", engine_packet_path_unavailable());
	plan_lazy();
	rc = netns_topo_new(&t, &cfg, err, sizeof(err));
	if (!ok(rc == 0, "topology built"))
		bail_out(err);
	is_int(mtu_of(t, NETNS_CLIENT, NETNS_CLIENT_DEV), 9000, "client veth MTU");
	is_int(mtu_of(t, NETNS_SERVER, NETNS_SERVER_DEV), 9000, "server veth MTU");
	netns_server_addr(AF_INET, a);
	is_int(bind_in(t, NETNS_SERVER, AF_INET, a), 0, "server IPv4 address is local in the server namespace");
	netns_server_addr(AF_INET6, a);
	is_int(bind_in(t, NETNS_SERVER, AF_INET6, a), 0, "server IPv6 address usable at once (no DAD)");
	netns_client_addr(AF_INET, 1, a);
	is_int(bind_in(t, NETNS_CLIENT, AF_INET, a), -EADDRNOTAVAIL,
	       "client address not local in the client namespace (its kernel cannot answer)");
	is_int(bind_in(t, NETNS_SERVER, AF_INET, a), -EADDRNOTAVAIL, "nor in the server namespace");
	ok(netns_add_client(t, AF_INET, a) == 0 && netns_add_client(t, AF_INET, a) == 0,
	   "static neighbour added (twice is fine)");
	ok(if_nametoindex(NETNS_CLIENT_DEV) == 0 && if_nametoindex(NETNS_SERVER_DEV) == 0,
	   "no veth end in the host namespace");

	send_frames(t, TXQ_MMAP, 3000);
	send_frames(t, TXQ_RAW, 500);
	netns_topo_free(t);
	probes();
	return exit_status();
}
