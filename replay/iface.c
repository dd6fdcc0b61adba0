/* iface.c: replaying onto a named interface; see iface.h. */
#include "replay/iface.h"

#include "lib/time.h"

#include "replay/tcpgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <net/if_arp.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETH_P_ARP_ 0x0806
#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86dd
#define ICMP6_NS 135	/* RFC 4861 section 4.3 */
#define ICMP6_NA 136	/* RFC 4861 section 4.4 */

static size_t alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* --- rtnetlink: one request, one answer --- */

/* Sends nlh and runs cb over the answer.  0 or -errno (the kernel's). */
static int nl_get(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned int portid;
	ssize_t n;
	int ret, err = 0;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_flags |= NLM_F_REQUEST;
	nlh->nlmsg_seq = (unsigned int)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			err = -errno;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
		if (ret < 0) {
			err = errno ? -errno : -EIO;
			break;
		}
		/* a GET without NLM_F_DUMP answers with one message */
		break;
	}
out:
	mnl_socket_close(nl);
	return err;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct iface_link *l = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	l->ifindex = ifm->ifi_index;
	l->flags = ifm->ifi_flags;
	/* the type goes into flags' high bits' place: keep it apart */
	if (ifm->ifi_type != ARPHRD_ETHER)
		l->flags |= 1u << 31;
	mnl_attr_for_each(a, nlh, sizeof(*ifm)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_MTU:
			l->mtu = mnl_attr_get_u32(a);
			break;
		case IFLA_ADDRESS:
			if (mnl_attr_get_payload_len(a) == 6)
				memcpy(l->mac, mnl_attr_get_payload(a), 6);
			break;
		case IFLA_LINKINFO: {
			const struct nlattr *in;

			mnl_attr_for_each_nested(in, a)
				if (mnl_attr_get_type(in) == IFLA_INFO_KIND)
					snprintf(l->kind, sizeof(l->kind), "%.*s",
						 (int)mnl_attr_get_payload_len(in),
						 (const char *)mnl_attr_get_payload(in));
			break;
		}
		}
	}
	return MNL_CB_OK;
}

int iface_link_get(const char *name, struct iface_link *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	bool ether;
	int err;

	memset(out, 0, sizeof(*out));
	if (!*name || strlen(name) >= sizeof(out->name))
		return IFACE_E_NOLINK;
	snprintf(out->name, sizeof(out->name), "%s", name);
	nlh->nlmsg_type = RTM_GETLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	err = nl_get(nlh, link_cb, out);
	if (err == -ENODEV)
		return IFACE_E_NOLINK;
	if (err < 0)
		return err;
	ether = !(out->flags & (1u << 31));
	out->flags &= ~(1u << 31);
	if (out->flags & IFF_LOOPBACK)
		return IFACE_E_LOOPBACK;
	if (!ether)
		return IFACE_E_NOTETHER;
	if (!(out->flags & IFF_UP))
		return IFACE_E_DOWN;
	/* IFF_RUNNING mirrors the operational state (RFC 2863 "up") */
	if (!(out->flags & IFF_RUNNING))
		return IFACE_E_NOCARRIER;
	return 0;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct iface_route *r = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t n = alen(rtm->rtm_family);

	r->type = rtm->rtm_type;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_OIF:
			r->oif = (int)mnl_attr_get_u32(a);
			break;
		case RTA_GATEWAY:
			if (mnl_attr_get_payload_len(a) == n) {
				memcpy(r->nexthop, mnl_attr_get_payload(a), n);
				r->gateway = true;
			}
			break;
		case RTA_PREFSRC:
			if (mnl_attr_get_payload_len(a) == n) {
				memcpy(r->src, mnl_attr_get_payload(a), n);
				r->have_src = true;
			}
			break;
		}
	}
	return MNL_CB_OK;
}

int iface_route_get(int family, const uint8_t dst[16], int oif, struct iface_route *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int err;

	memset(out, 0, sizeof(*out));
	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)(alen(family) * 8);
	mnl_attr_put(nlh, RTA_DST, alen(family), dst);
	/* link-local destinations exist once per link: only the link says
	 * which route (and which source address) is meant */
	if (oif > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	err = nl_get(nlh, route_cb, out);
	if (err == -ENETUNREACH || err == -EHOSTUNREACH || err == -ENETDOWN)
		return IFACE_E_NOROUTE;
	if (err < 0)
		return err;
	if (out->type != RTN_UNICAST && out->type != RTN_LOCAL)
		return IFACE_E_NOROUTE;	/* blackhole, unreachable, prohibit */
	if (!out->gateway)
		memcpy(out->nexthop, dst, alen(family));
	return 0;
}

int iface_is_local(int family, const uint8_t addr[16])
{
	struct iface_route r;
	int err = iface_route_get(family, addr, 0, &r);

	/* broadcast addresses are "local" in the sense that matters: the
	 * kernel answers for them */
	if (err == IFACE_E_NOROUTE)
		return r.type == RTN_BROADCAST || r.type == RTN_LOCAL;
	return err == 0 && r.type == RTN_LOCAL;
}

struct neigh_ans {
	uint8_t mac[6];
	bool have;
	uint16_t state;
};

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_ans *n = data;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	n->state = ndm->ndm_state;
	mnl_attr_for_each(a, nlh, sizeof(*ndm))
		if (mnl_attr_get_type(a) == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6) {
			memcpy(n->mac, mnl_attr_get_payload(a), 6);
			n->have = true;
		}
	return MNL_CB_OK;
}

int iface_neigh_get(int family, const uint8_t addr[16], int ifindex, uint8_t mac[6])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;
	struct neigh_ans n = { .have = false };
	int err;

	/* a GET of one entry by NDA_DST: neigh_get(), Linux 4.20+ */
	nlh->nlmsg_type = RTM_GETNEIGH;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (unsigned char)family;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, alen(family), addr);
	err = nl_get(nlh, neigh_cb, &n);
	if (err < 0)
		return err == -ENOENT || err == -EINVAL ? -ENOENT : err;
	/* INCOMPLETE and FAILED hold no address worth using */
	if (!n.have || !(n.state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
				    NUD_PERMANENT | NUD_NOARP)))
		return -ENOENT;
	memcpy(mac, n.mac, 6);
	return 0;
}

/* --- ARP and neighbour discovery frames --- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ARP (RFC 826) for IPv4 over Ethernet: 28 bytes after the 14 of the
 * Ethernet header. */
static uint32_t arp_frame(uint8_t *f, uint16_t op, const uint8_t dmac[6], const uint8_t smac[6],
			  const uint8_t *sip, const uint8_t tmac[6], const uint8_t *tip)
{
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, ETH_P_ARP_);
	put16(f + 14, ARPHRD_ETHER);
	put16(f + 16, ETH_P_IP_);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, op);
	memcpy(f + 22, smac, 6);
	memcpy(f + 28, sip, 4);
	memcpy(f + 32, tmac, 6);
	memcpy(f + 38, tip, 4);
	return 42;
}

/* ICMPv6 NS or NA (RFC 4861 4.3/4.4) with one link-layer address option:
 * Ethernet 14 + IPv6 40 + ICMPv6 24 + option 8 = 86 bytes. */
static uint32_t nd_frame(uint8_t *f, uint8_t type, const uint8_t dmac[6], const uint8_t smac[6],
			 const uint8_t src[16], const uint8_t dst[16], const uint8_t target[16])
{
	uint8_t *ip = f + 14, *ic = ip + 40, pseudo[40];
	uint32_t sum;
	uint16_t c;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, ETH_P_IPV6_);
	memset(ip, 0, 40 + 32);
	ip[0] = 0x60;
	put16(ip + 4, 32);
	ip[6] = IPPROTO_ICMPV6;
	ip[7] = 255;	/* RFC 4861: hop limit 255, or the receiver drops it */
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	ic[0] = type;
	if (type == ICMP6_NA)
		ic[4] = 0x60;	/* Solicited, Override */
	memcpy(ic + 8, target, 16);
	ic[24] = type == ICMP6_NS ? 1 : 2;	/* source / target link-layer address */
	ic[25] = 1;			/* 8 bytes */
	memcpy(ic + 26, smac, 6);
	/* the pseudo-header of RFC 8200 section 8.1 */
	memcpy(pseudo, src, 16);
	memcpy(pseudo + 16, dst, 16);
	memset(pseudo + 32, 0, 8);
	pseudo[35] = 32;
	pseudo[39] = IPPROTO_ICMPV6;
	sum = tcpgen_sum(pseudo, 40, 0);
	sum = tcpgen_sum(ic, 32, sum);
	c = tcpgen_fold(sum);
	memcpy(ic + 2, &c, 2);
	return 86;
}

/* The solicited-node multicast address of t and its MAC (RFC 4291 2.7.1,
 * RFC 2464 section 7). */
static void solicited(const uint8_t t[16], uint8_t addr[16], uint8_t mac[6])
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };

	memcpy(addr, pfx, 13);
	memcpy(addr + 13, t + 13, 3);
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, addr + 12, 4);
}

struct nd_msg {
	int kind;		/* 1 ARP request, 2 ARP reply, 3 NS, 4 NA */
	const uint8_t *smac;	/* the sender's link-layer address */
	const uint8_t *sip;	/* ARP sender / IPv6 source */
	const uint8_t *target;	/* ARP target / ND target */
	const uint8_t *lladdr;	/* ND option: the link-layer address (or NULL) */
};

/* Recognises ARP and ICMPv6 NS/NA frames (no VLAN tags: the RX filter
 * and the TX path are untagged). */
static int nd_parse(const uint8_t *f, uint32_t len, struct nd_msg *m)
{
	const uint8_t *ip, *ic, *o;
	uint32_t plen;

	memset(m, 0, sizeof(*m));
	if (len < 14)
		return -EINVAL;
	if (get16(f + 12) == ETH_P_ARP_) {
		if (len < 42 || get16(f + 14) != ARPHRD_ETHER || get16(f + 16) != ETH_P_IP_ ||
		    f[18] != 6 || f[19] != 4)
			return -EINVAL;
		m->kind = get16(f + 20) == 1 ? 1 : get16(f + 20) == 2 ? 2 : 0;
		m->smac = f + 22;
		m->sip = f + 28;
		m->target = f + 38;
		return m->kind ? 0 : -EINVAL;
	}
	if (get16(f + 12) != ETH_P_IPV6_ || len < 14 + 40 + 24)
		return -EINVAL;
	ip = f + 14;
	ic = ip + 40;
	plen = get16(ip + 4);
	if ((ip[0] >> 4) != 6 || ip[6] != IPPROTO_ICMPV6 || ip[7] != 255 || plen < 24 ||
	    (ic[0] != ICMP6_NS && ic[0] != ICMP6_NA) || ic[1] != 0)
		return -EINVAL;
	m->kind = ic[0] == ICMP6_NS ? 3 : 4;
	m->smac = f + 6;
	m->sip = ip + 8;
	m->target = ic + 8;
	/* options: type, length in 8-byte units, within the captured bytes */
	for (o = ic + 24; o + 8 <= f + len && o + 8 <= ic + plen && o[1]; o += o[1] * 8)
		if ((o[0] == 1 || o[0] == 2) && o[1] == 1)
			m->lladdr = o + 2;
	return 0;
}

int iface_neigh_resolve(const struct iface_link *l, int family, const uint8_t target[16],
			const uint8_t *src, int tries, int wait_ms, uint8_t mac[6])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[16] = { 0 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	uint8_t frame[128], rx[2048], dst[16], dmac[6];
	uint32_t flen;
	int fd, err = IFACE_E_NEIGH, t;

	if (family == AF_INET6 && !src)
		return IFACE_E_NOSRC;
	if (family == AF_INET)
		flen = arp_frame(frame, 1, bcast, l->mac, src ? src : zero, zero, target);
	else {
		solicited(target, dst, dmac);
		flen = nd_frame(frame, ICMP6_NS, dmac, l->mac, src, dst, target);
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
		    htons(family == AF_INET ? ETH_P_ARP_ : ETH_P_IPV6_));
	if (fd < 0)
		return -errno;
	sll.sll_protocol = htons(family == AF_INET ? ETH_P_ARP_ : ETH_P_IPV6_);
	sll.sll_ifindex = l->ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		goto out;
	}
	for (t = 0; t < tries; t++) {
		uint64_t t0;

		if (send(fd, frame, flen, 0) < 0) {
			err = -errno;
			goto out;
		}
		t0 = pm_now_ns();
		for (;;) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			long left;
			struct nd_msg m;
			ssize_t n;

			left = wait_ms - (long)((pm_now_ns() - t0) / 1000000);
			if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
				break;
			n = recv(fd, rx, sizeof(rx), MSG_DONTWAIT);
			if (n <= 0 || nd_parse(rx, (uint32_t)n, &m) < 0)
				continue;
			if (family == AF_INET && m.kind == 2 && !memcmp(m.sip, target, 4)) {
				memcpy(mac, m.smac, 6);
				err = 0;
				goto out;
			}
			if (family == AF_INET6 && m.kind == 4 && !memcmp(m.target, target, 16)) {
				memcpy(mac, m.lladdr ? m.lladdr : m.smac, 6);
				err = 0;
				goto out;
			}
		}
	}
out:
	close(fd);
	return err;
}

int iface_forwarding(const char *name, int family)
{
	char path[96], v[8] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/forwarding",
		 family == AF_INET6 ? "ipv6" : "ipv4", name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(v, sizeof(v), f))
		v[0] = 0;
	fclose(f);
	return v[0] == '1';
}

int iface_parse_cidr(const char *s, int *family, uint8_t net[16], int *prefix)
{
	char a[64], *slash, *end;
	long p;
	int i;

	if (strlen(s) >= sizeof(a))
		return IFACE_E_CIDR;
	snprintf(a, sizeof(a), "%s", s);
	slash = strchr(a, '/');
	if (!slash)
		return IFACE_E_CIDR;
	*slash = 0;
	memset(net, 0, 16);
	if (inet_pton(AF_INET, a, net) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, a, net) == 1)
		*family = AF_INET6;
	else
		return IFACE_E_CIDR;
	p = strtol(slash + 1, &end, 10);
	/* at least 2 host bits: a network and a broadcast address are no
	 * client's (IPv4), and one address is better given as itself */
	if (end == slash + 1 || *end || p < 0 || p > (long)alen(*family) * 8 - 2)
		return IFACE_E_CIDR;
	*prefix = (int)p;
	for (i = 0; i < (int)alen(*family) * 8; i++)
		if (i >= p)
			net[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return 0;
}

/* --- the client addresses --- */

struct iface_clients {
	struct iface_clients_cfg cfg;
	uint64_t next;			/* --client-net: next host number to try */
	uint8_t (*set)[17];		/* family byte + address; [0] == 0: empty */
	uint32_t cap, n;
};

int iface_clients_new(struct iface_clients **out, const struct iface_clients_cfg *cfg)
{
	struct iface_clients *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->next = 1;
	c->cap = 1024;
	c->set = calloc(c->cap, sizeof(*c->set));
	if (!c->set) {
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void iface_clients_free(struct iface_clients *c)
{
	if (!c)
		return;
	free(c->set);
	free(c);
}

static uint32_t set_hash(const uint8_t k[17])
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 17; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

static void set_key(uint8_t k[17], int family, const uint8_t addr[16])
{
	memset(k, 0, 17);
	k[0] = family == AF_INET6 ? 6 : 4;
	memcpy(k + 1, addr, alen(family));
}

static bool set_has(const struct iface_clients *c, const uint8_t k[17])
{
	uint32_t h;

	for (h = set_hash(k) & (c->cap - 1); c->set[h][0]; h = (h + 1) & (c->cap - 1))
		if (!memcmp(c->set[h], k, 17))
			return true;
	return false;
}

static int set_put(struct iface_clients *c, const uint8_t k[17])
{
	uint32_t h, i;

	if (set_has(c, k))
		return 0;
	if ((c->n + 1) * 2 > c->cap) {
		uint32_t cap = c->cap * 2;
		uint8_t (*s)[17] = calloc(cap, sizeof(*s));

		if (!s)
			return -ENOMEM;
		for (i = 0; i < c->cap; i++) {
			if (!c->set[i][0])
				continue;
			for (h = set_hash(c->set[i]) & (cap - 1); s[h][0]; h = (h + 1) & (cap - 1))
				;
			memcpy(s[h], c->set[i], 17);
		}
		free(c->set);
		c->set = s;
		c->cap = cap;
	}
	for (h = set_hash(k) & (c->cap - 1); c->set[h][0]; h = (h + 1) & (c->cap - 1))
		;
	memcpy(c->set[h], k, 17);
	c->n++;
	return 0;
}

int iface_clients_addr(void *arg, int family, uint32_t idx, const uint8_t *captured,
		       uint8_t out[16])
{
	struct iface_clients *c = arg;
	int hostbits = (int)alen(family) * 8 - c->cfg.prefix;
	uint64_t limit;

	(void)idx;
	memset(out, 0, 16);
	if (c->cfg.prefix < 0) {
		/* the captured address, unless this host owns it */
		if (!captured)
			return -EADDRNOTAVAIL;
		memcpy(out, captured, alen(family));
		if (iface_is_local(family, out) == 1 || !memcmp(out, c->cfg.server, alen(family)))
			return IFACE_E_LOCAL;
		return 0;
	}
	/* host numbers 1.., below the IPv4 broadcast; at most 2^24 tried */
	limit = hostbits >= 24 ? (1ull << 24) : (1ull << hostbits) - (family == AF_INET ? 1 : 0);
	for (; c->next < limit; c->next++) {
		uint64_t h = c->next;
		int i;

		memcpy(out, c->cfg.net, 16);
		for (i = (int)alen(family) - 1; i >= 0 && h; i--, h >>= 8)
			out[i] |= (uint8_t)(h & 0xff);
		if (!memcmp(out, c->cfg.server, alen(family)) || iface_is_local(family, out) == 1)
			continue;
		c->next++;
		return 0;
	}
	return IFACE_E_NETFULL;
}

int iface_clients_add(void *arg, int family, const uint8_t addr[16])
{
	uint8_t k[17];

	set_key(k, family, addr);
	return set_put(arg, k);
}

int iface_clients_answer(void *arg, const uint8_t *frame, uint32_t len, uint8_t *out,
			 uint32_t cap)
{
	struct iface_clients *c = arg;
	const uint8_t *mac = c->cfg.link.mac;
	struct nd_msg m;
	uint8_t k[17];

	if (cap < 86 || nd_parse(frame, len, &m) < 0)
		return 0;
	if (m.kind == 1) {
		set_key(k, AF_INET, m.target);
		if (!set_has(c, k))
			return 0;
		return (int)arp_frame(out, 2, m.smac, mac, m.target, m.smac, m.sip);
	}
	if (m.kind == 3) {
		static const uint8_t unspec[16] = { 0 };

		set_key(k, AF_INET6, m.target);
		/* from :: it is duplicate address detection: not for us */
		if (!set_has(c, k) || !memcmp(m.sip, unspec, 16))
			return 0;
		return (int)nd_frame(out, ICMP6_NA, m.lladdr ? m.lladdr : m.smac, mac, m.target,
				     m.sip, m.target);
	}
	return 0;
}

/* --- the plan for a replay onto IFACE (iface_remote_plan) --- */

/* Resolves the link, the route, the next hop's MAC and the client
 * addresses (iface.h). */
int iface_remote_plan(const struct iface_opts *o, const struct plan *plan, struct iface_path *ir,
		      struct engine_remote *rm, char *err, size_t errlen)
{
	struct iface_clients_cfg cc;
	struct iface_route rt;
	char a[INET6_ADDRSTRLEN], dev[IF_NAMESIZE] = "?", ip[INET6_ADDRSTRLEN];
	uint8_t last[16] = { 0 };
	const char *scope;
	bool linklocal;
	int family, e;
	size_t n;
	size_t i;

	memset(&cc, 0, sizeof(cc));
	cc.prefix = -1;
	/* an IPv6 address may carry its zone, fe80::1%eth0: it must be the
	 * --iface link, the only one pktmem transmits on */
	scope = strchr(o->server_ip, '%');
	n = scope ? (size_t)(scope - o->server_ip) : strlen(o->server_ip);
	memcpy(ip, o->server_ip, n < sizeof(ip) ? n : 0);
	ip[n < sizeof(ip) ? n : 0] = '\0';
	family = AF_INET;
	if (inet_pton(AF_INET, ip, rm->server_addr) != 1 || scope) {
		family = AF_INET6;
		if (inet_pton(AF_INET6, ip, rm->server_addr) != 1)
			return pm_errf(err, errlen, IFACE_E_PLAN,
				       "--server-ip '%s': not an IPv4 or IPv6 address",
				       o->server_ip);
	}
	/* fe80::/10 */
	linklocal = family == AF_INET6 && rm->server_addr[0] == 0xfe &&
		    (rm->server_addr[1] & 0xc0) == 0x80;
	if (scope && !linklocal)
		return pm_errf(err, errlen, IFACE_E_PLAN,
			       "--server-ip '%s': a zone (%%%s) belongs to a link-local "
			       "address (fe80::/10) only", o->server_ip, scope + 1);
	if (o->client_net) {
		int cf;

		if ((e = iface_parse_cidr(o->client_net, &cf, cc.net, &cc.prefix)) < 0)
			return pm_errf(err, errlen, IFACE_E_PLAN,
				       "--client-net '%s': %s", o->client_net, iface_strerror(e));
		if (cf != family)
			return pm_errf(err, errlen, IFACE_E_PLAN,
				       "--client-net '%s' and --server-ip %s: not the same "
				       "address family", o->client_net, o->server_ip);
	}
	e = iface_link_get(o->iface, &ir->link);
	if (e == IFACE_E_DOWN)
		return pm_errf(err, errlen, IFACE_E_PLAN,
			       "--iface %s: the interface is down (ip link set %s up)",
			       o->iface, o->iface);
	if (e < 0)
		return pm_errf(err, errlen, IFACE_E_PLAN,
			       "--iface %s: %s", o->iface, iface_strerror(e));
	if (iface_forwarding(o->iface, family) == 1)
		return pm_errf(err, errlen, IFACE_E_PLAN,
			       "--iface %s: this host forwards %s on it (sysctl "
			       "net.%s.conf.%s.forwarding=1): it would forward the server's packets for "
			       "the client addresses instead of dropping them; turn forwarding off or "
			       "replay from a network namespace", o->iface, family == AF_INET ? "IPv4" : "IPv6",
			       family == AF_INET ? "ipv4" : "ipv6", o->iface);
	if (scope) {
		char *end;
		unsigned long zone = strtoul(scope + 1, &end, 10);

		if (!(scope[1] && !*end ? zone == (unsigned long)ir->link.ifindex
			: !strcmp(scope + 1, o->iface)))
			return pm_errf(err, errlen, IFACE_E_PLAN,
				       "--server-ip %s: the zone is not --iface %s (index "
				       "%d): a link-local address is reached on its own link only",
				       o->server_ip, o->iface, ir->link.ifindex);
	}
	e = iface_route_get(family, rm->server_addr, linklocal ? ir->link.ifindex : 0, &rt);
	if (e < 0)
		return pm_errf(err, errlen, IFACE_E_PLAN,
			       "--server-ip %s: %s", o->server_ip, iface_strerror(e));
	if (iface_is_local(family, rm->server_addr) == 1)
		return pm_errf(err, errlen, IFACE_E_PLAN,
			       "--server-ip %s is an address of this host: --iface replays "
			       "to another host (for a local server: --target or --exec)", o->server_ip);
	if (rt.oif != ir->link.ifindex) {
		if_indextoname((unsigned int)rt.oif, dev);
		return pm_errf(err, errlen, IFACE_E_PLAN,
			       "--server-ip %s is routed via %s, not --iface %s",
			       o->server_ip, dev, o->iface);
	}
	ir->gateway = rt.gateway;
	inet_ntop(family, rt.nexthop, ir->nexthop, sizeof(ir->nexthop));
	if (iface_neigh_get(family, rt.nexthop, ir->link.ifindex, rm->dst_mac) < 0) {
		/* the kernel has no entry: ask the wire ourselves, 3 x 1 s */
		e = iface_neigh_resolve(&ir->link, family, rt.nexthop, rt.have_src ? rt.src : NULL,
					3, 1000, rm->dst_mac);
		if (e < 0)
			return pm_errf(err, errlen, IFACE_E_PLAN,
				       "--server-ip %s: %s %s on %s: %s%s", o->server_ip,
				       ir->gateway ? "gateway" : "next hop", ir->nexthop, o->iface,
				       iface_strerror(e), e == IFACE_E_NEIGH ?
				       " within 3 s (is it up and on this link?)" : "");
		ir->resolved = true;
	}
	for (i = 0; i < plan->nflows; i++) {
		const struct plan_flow *f = plan->flow[i];

		if (f->skip != PLAN_OK)
			continue;
		if (f->family != family && !o->client_net)
			return pm_errf(err, errlen, IFACE_E_PLAN,
				       "flow %" PRIu64 " is %s and --server-ip %s is not: give "
				       "--client-net CIDR (%s) to map the clients", f->id,
				       f->family == AF_INET ? "IPv4" : "IPv6", o->server_ip,
				       family == AF_INET ? "IPv4" : "IPv6");
		/* one netlink round trip per address, not per flow: flows
		 * of one client usually follow each other */
		if (!o->client_net && i && !memcmp(f->caddr, last, 16))
			continue;
		memcpy(last, f->caddr, 16);
		if (!o->client_net && (iface_is_local(family, f->caddr) == 1 ||
				       !memcmp(f->caddr, rm->server_addr, 16))) {
			inet_ntop(family, f->caddr, a, sizeof(a));
			return pm_errf(err, errlen, IFACE_E_PLAN,
				       "flow %" PRIu64 ": client address %s is %s: the kernel "
				       "would reset the replayed connections; map the clients elsewhere "
				       "with --client-net CIDR", f->id, a,
				       iface_is_local(family, f->caddr) == 1 ? "an address of this host"
				       : "the server's");
		}
	}
	cc.link = ir->link;
	cc.family = family;
	memcpy(cc.server, rm->server_addr, 16);
	if ((e = iface_clients_new(&ir->clients, &cc)) < 0)
		return pm_errf(err, errlen, IFACE_E_PLAN, "%s", iface_strerror(e));
	rm->ifindex = ir->link.ifindex;
	rm->mtu = ir->link.mtu;
	rm->family = family;
	rm->port = o->port;
	memcpy(rm->src_mac, ir->link.mac, 6);
	memcpy(ir->nexthop_mac, rm->dst_mac, 6);
	rm->client_addr = iface_clients_addr;
	rm->add_client = iface_clients_add;
	rm->answer = iface_clients_answer;
	rm->arg = ir->clients;
	return 0;
}

const char *iface_strerror(int err)
{
	switch (err) {
	case IFACE_E_NOLINK: return "no such interface";
	case IFACE_E_DOWN: return "the interface is down (ip link set IFACE up)";
	case IFACE_E_LOOPBACK: return "a loopback interface: replay onto loopback is the socket "
				      "path (--via socket) or the default veth topology";
	case IFACE_E_NOTETHER: return "not an Ethernet interface (pktmem writes Ethernet frames)";
	case IFACE_E_NOROUTE: return "no route to the server";
	case IFACE_E_OTHERDEV: return "the route to the server leaves through another interface";
	case IFACE_E_NEIGH: return "no answer to ARP / neighbour solicitation";
	case IFACE_E_NOSRC: return "no IPv6 source address on the interface to solicit from";
	case IFACE_E_LOCAL: return "a client address is an address of this host or the server's";
	case IFACE_E_NETFULL: return "--client-net has no free address left";
	case IFACE_E_CIDR: return "want ADDRESS/PREFIX with at least 2 host bits";
	case IFACE_E_PLAN: return "cannot replay onto the interface";
	case IFACE_E_NOCARRIER: return "the interface is up but has no carrier (no link; a veth "
				       "whose peer is down)";
	}
	return strerror(-err);
}
