/* netns.c: private namespaces + veth over rtnetlink; see netns.h. */
#include "replay/netns.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const uint8_t netns_client_mac[6] = { 0x02, 0x70, 0x6b, 0x00, 0x00, 0x02 };
const uint8_t netns_server_mac[6] = { 0x02, 0x70, 0x6b, 0x00, 0x00, 0x01 };

struct netns_topo {
	int home_fd;		/* the namespace we came from */
	int ns_fd[2];		/* [enum netns_side] */
	struct mnl_socket *nl[2];
	unsigned int seq;
	int ifindex[2];
	uint32_t mtu;
	/* client addresses with a neighbour entry already: bitmaps by idx */
	uint8_t have4[65536 / 8], have6[65536 / 8];
};

/* Runs fn-like steps inside a namespace: enter, then netns_leave(). */
static int enter(const struct netns_topo *t, enum netns_side side)
{
	return setns(t->ns_fd[side], CLONE_NEWNET) < 0 ? -errno : 0;
}

static int leave(const struct netns_topo *t)
{
	return setns(t->home_fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

int netns_socket(const struct netns_topo *t, enum netns_side side,
		 int domain, int type, int protocol)
{
	int fd, err;

	err = enter(t, side);
	if (err < 0)
		return err;
	fd = socket(domain, type, protocol);
	if (fd < 0)
		fd = -errno;
	err = leave(t);
	if (err < 0) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

int netns_join(const struct netns_topo *t, enum netns_side side)
{
	return enter(t, side);
}

FILE *netns_proc_net(const struct netns_topo *t, enum netns_side side,
		     const char *name)
{
	char path[64];
	FILE *f;
	int e;

	/* /proc/thread-self/net resolves against the calling thread's
	 * namespace at open time; the open file keeps showing that one. */
	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", name);
	if (enter(t, side) < 0)
		return NULL;
	f = fopen(path, "r");
	e = errno;
	if (leave(t) < 0) {
		if (f)
			fclose(f);
		return NULL;
	}
	errno = e;
	return f;
}

/* Sends one request and waits for its ACK (NLM_F_ACK): 0 or -errno. */
static int nl_talk(struct netns_topo *t, enum netns_side side, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(t->nl[side]);
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++t->seq;
	if (mnl_socket_sendto(t->nl[side], nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(t->nl[side], buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static int open_nl(struct netns_topo *t, enum netns_side side)
{
	int err = enter(t, side);

	if (err < 0)
		return err;
	t->nl[side] = mnl_socket_open(NETLINK_ROUTE);
	if (!t->nl[side])
		err = -errno;
	else if (mnl_socket_bind(t->nl[side], 0, MNL_SOCKET_AUTOPID) < 0)
		err = -errno;
	if (leave(t) < 0 && err == 0)
		err = -errno;
	return err;
}

/* A fresh namespace held by an fd, without staying in it. */
static int new_ns(struct netns_topo *t, int *fd)
{
	int err = 0;

	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	*fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		err = -errno;
	if (leave(t) < 0 && err == 0)
		err = -errno;
	return err;
}

static int link_up(struct netns_topo *t, enum netns_side side, int ifindex,
		   uint32_t mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_talk(t, side, nlh);
}

static int add_addr(struct netns_topo *t, enum netns_side side, int family,
		    const void *addr, int plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	size_t alen = family == AF_INET ? 4 : 16;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)plen;
	/* No duplicate address detection: the address is usable at once
	 * instead of "tentative" for a second (RFC 4862 section 5.4). */
	ifa->ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)t->ifindex[side];
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	return nl_talk(t, side, nlh);
}

static int add_route(struct netns_topo *t, enum netns_side side, int family,
		     const void *dst, int plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;	/* on-link: no gateway */
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, family == AF_INET ? 4 : 16, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)t->ifindex[side]);
	return nl_talk(t, side, nlh);
}

static int add_neigh(struct netns_topo *t, enum netns_side side, int family,
		     const void *dst, const uint8_t mac[6])
{
	/* zeroed: libmnl before 1.0.5 leaves attribute padding (6-byte
	 * MACs, names) unset, which would send stack bytes to the kernel */
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(memset(buf, 0, sizeof(buf)));
	struct ndmsg *nd;

	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = (unsigned char)family;
	nd->ndm_ifindex = t->ifindex[side];
	nd->ndm_state = NUD_PERMANENT;	/* never resolved, never expires */
	mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, dst);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	return nl_talk(t, side, nlh);
}

/* RTM_NEWLINK kind veth, created in the client namespace, its peer placed
 * straight into the server namespace with IFLA_NET_NS_FD. */
static int make_veth(struct netns_topo *t)
{
	/* zeroed: libmnl before 1.0.5 leaves attribute padding (6-byte
	 * MACs, names) unset, which would send stack bytes to the kernel */
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(memset(buf, 0, sizeof(buf)));
	struct ifinfomsg *ifm, *peer;
	struct nlattr *linfo, *data, *pinfo;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, NETNS_CLIENT_DEV);
	mnl_attr_put_u32(nlh, IFLA_MTU, t->mtu);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, netns_client_mac);
	linfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* VETH_INFO_PEER carries a whole ifinfomsg, then the peer's attrs
	 * (drivers/net/veth.c veth_newlink()). */
	peer = mnl_nlmsg_put_extra_header(nlh, sizeof(*peer));
	peer->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, NETNS_SERVER_DEV);
	mnl_attr_put_u32(nlh, IFLA_MTU, t->mtu);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, netns_server_mac);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)t->ns_fd[NETNS_SERVER]);
	mnl_attr_nest_end(nlh, pinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linfo);
	return nl_talk(t, NETNS_CLIENT, nlh);
}

static int ifindex_in(struct netns_topo *t, enum netns_side side, const char *name)
{
	int err = enter(t, side);
	unsigned int idx;

	if (err < 0)
		return err;
	idx = if_nametoindex(name);
	err = idx ? (int)idx : -errno;
	if (leave(t) < 0)
		return -errno;
	return err;
}

void netns_client_addr(int family, uint32_t idx, uint8_t out[16])
{
	memset(out, 0, 16);
	if (family == AF_INET) {
		inet_pton(AF_INET, NETNS_CLIENT_NET4, out);
		out[2] = (uint8_t)(idx >> 8);
		out[3] = (uint8_t)idx;
	} else {
		inet_pton(AF_INET6, NETNS_CLIENT_NET6, out);
		out[14] = (uint8_t)(idx >> 8);
		out[15] = (uint8_t)idx;
	}
}

void netns_server_addr(int family, uint8_t out[16])
{
	memset(out, 0, 16);
	inet_pton(family, family == AF_INET ? NETNS_SERVER_IP4 : NETNS_SERVER_IP6, out);
}

int netns_add_client(struct netns_topo *t, int family, const uint8_t addr[16])
{
	uint32_t idx = family == AF_INET ? ((uint32_t)addr[2] << 8 | addr[3])
					 : ((uint32_t)addr[14] << 8 | addr[15]);
	uint8_t *have = family == AF_INET ? t->have4 : t->have6;
	int err;

	if (have[idx / 8] & (1u << (idx % 8)))
		return 0;
	err = add_neigh(t, NETNS_SERVER, family, addr, netns_client_mac);
	if (err == 0)
		have[idx / 8] |= (uint8_t)(1u << (idx % 8));
	return err;
}


/* PKTMEM_TEST_FAIL=name: see netns.h.  Read once per netns_topo_new(). */
static bool test_fail(const char *name)
{
	const char *v = getenv("PKTMEM_TEST_FAIL");

	return v && strcmp(v, name) == 0;
}

/* advise: the failed step's message carries netns_strerror()'s fix (the
 * replay's error line); without, the bare strerror() (doctor has a fix
 * column of its own). */
static int topo_new(struct netns_topo **out, const struct netns_cfg *cfg, bool advise,
		    char *errbuf, size_t errlen)
{
	struct netns_topo *t;
	const char *what;
	uint8_t a[16];
	int err;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(errbuf, errlen, "netns_topo_new: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	t->ns_fd[0] = t->ns_fd[1] = -1;
	t->mtu = cfg && cfg->mtu ? cfg->mtu : 1500;
	t->seq = (unsigned int)time(NULL);

	what = "open /proc/thread-self/ns/net";
	t->home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->home_fd < 0) {
		err = -errno;
		goto fail;
	}
	what = "unshare(CLONE_NEWNET)";
	if ((err = new_ns(t, &t->ns_fd[NETNS_CLIENT])) < 0 ||
	    (err = new_ns(t, &t->ns_fd[NETNS_SERVER])) < 0)
		goto fail;
	what = "netlink socket";
	if ((err = open_nl(t, NETNS_CLIENT)) < 0 || (err = open_nl(t, NETNS_SERVER)) < 0)
		goto fail;
	if (test_fail("veth")) {
		err = -EOPNOTSUPP;
		snprintf(errbuf, errlen, "create veth: injected failure (PKTMEM_TEST_FAIL=veth)");
		goto out;
	}
	what = "RTM_NEWLINK veth";
	if ((err = make_veth(t)) < 0)
		goto fail;
	what = "if_nametoindex";
	if ((err = ifindex_in(t, NETNS_CLIENT, NETNS_CLIENT_DEV)) < 0)
		goto fail;
	t->ifindex[NETNS_CLIENT] = err;
	if ((err = ifindex_in(t, NETNS_SERVER, NETNS_SERVER_DEV)) < 0)
		goto fail;
	t->ifindex[NETNS_SERVER] = err;

	what = "RTM_NEWLINK up";
	if ((err = link_up(t, NETNS_SERVER, 1, 0)) < 0 ||	/* lo */
	    (err = link_up(t, NETNS_CLIENT, 1, 0)) < 0 ||
	    (err = link_up(t, NETNS_SERVER, t->ifindex[NETNS_SERVER], 0)) < 0 ||
	    (err = link_up(t, NETNS_CLIENT, t->ifindex[NETNS_CLIENT], 0)) < 0)
		goto fail;

	what = "RTM_NEWADDR";
	netns_server_addr(AF_INET, a);
	if ((err = add_addr(t, NETNS_SERVER, AF_INET, a, 32)) < 0)
		goto fail;
	netns_server_addr(AF_INET6, a);
	if ((err = add_addr(t, NETNS_SERVER, AF_INET6, a, 128)) < 0)
		goto fail;
	what = "RTM_NEWROUTE";
	inet_pton(AF_INET, NETNS_CLIENT_NET4, a);
	if ((err = add_route(t, NETNS_SERVER, AF_INET, a, 16)) < 0)
		goto fail;
	inet_pton(AF_INET6, NETNS_CLIENT_NET6, a);
	if ((err = add_route(t, NETNS_SERVER, AF_INET6, a, 64)) < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	snprintf(errbuf, errlen, "%s: %s", what, advise ? netns_strerror(err) : strerror(-err));
out:
	netns_topo_free(t);
	return err;
}

int netns_topo_new(struct netns_topo **out, const struct netns_cfg *cfg,
		   char *errbuf, size_t errlen)
{
	return topo_new(out, cfg, true, errbuf, errlen);
}

int netns_probe(char *err, size_t errlen)
{
	struct netns_topo *t;
	int rc = topo_new(&t, NULL, false, err, errlen);

	netns_topo_free(t);
	return rc;
}

int netns_ifindex(const struct netns_topo *t, enum netns_side side)
{
	return t->ifindex[side];
}

void netns_topo_free(struct netns_topo *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < 2; i++) {
		if (t->nl[i])
			mnl_socket_close(t->nl[i]);
		if (t->ns_fd[i] >= 0)
			close(t->ns_fd[i]);
	}
	if (t->home_fd >= 0)
		close(t->home_fd);
	free(t);
}

const char *netns_strerror(int err)
{
	switch (err) {
	case -EPERM:
		return "network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN); "
		       "run as root, or use --via socket";
	case -EINVAL:
		return "the kernel refused the request (network namespaces or veth not built in?)";
	case -EEXIST:
		return "the link already exists";
	default:
		return strerror(-err);
	}
}
