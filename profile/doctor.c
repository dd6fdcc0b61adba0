/* doctor.c: probes of what this machine lets pktmem measure (doctor.h). */
#include "profile/doctor.h"
#include "profile/bpfcount.h"
#include "profile/perf.h"
#include "profile/pfm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <liburing.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The tracepoints the profiler opens (profile/profiler.c). */
static const char *const tracepoints[][2] = {
	{ "irq", "irq_handler_entry" }, { "irq", "irq_handler_exit" },
	{ "irq", "softirq_entry" }, { "irq", "softirq_exit" },
	{ "napi", "napi_poll" }, { "net", "netif_receive_skb" },
	{ "raw_syscalls", "sys_enter" }, { "raw_syscalls", "sys_exit" },
	{ "skb", "skb_copy_datagram_iovec" }, { "sock", "sock_recv_length" },
	{ "kmem", "kmalloc" }, { "kmem", "kmem_cache_alloc" },
};
#define NTP (sizeof(tracepoints) / sizeof(tracepoints[0]))

static struct doctor_probe *add(struct doctor_report *r, const char *name,
				enum doctor_status st, bool required,
				const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static struct doctor_probe *add(struct doctor_report *r, const char *name,
				enum doctor_status st, bool required,
				const char *fix, const char *fmt, ...)
{
	struct doctor_probe *p;
	va_list ap;

	if (r->n >= DOCTOR_MAX_PROBES)
		return NULL;
	p = &r->probe[r->n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->status = st;
	p->required = required;
	snprintf(p->fix, sizeof(p->fix), "%s", st == DOCTOR_OK || !fix ? "" : fix);
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	return p;
}

const char *doctor_status_name(enum doctor_status s)
{
	switch (s) {
	case DOCTOR_OK: return "ok";
	case DOCTOR_WARN: return "warn";
	case DOCTOR_MISSING: return "missing";
	case DOCTOR_INFO: return "info";
	}
	return "?";
}

/* ---- privileges --------------------------------------------------------- */

static bool have_cap(cap_t caps, cap_value_t c)
{
	cap_flag_value_t v = CAP_CLEAR;

	if (!caps || !CAP_IS_SUPPORTED(c))
		return false;
	cap_get_flag(caps, c, CAP_EFFECTIVE, &v);
	return v == CAP_SET;
}

static void probe_privileges(struct doctor_report *r)
{
	static const struct { cap_value_t c; const char *name; } want[] = {
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN" }, { CAP_NET_RAW, "CAP_NET_RAW" },
		{ CAP_PERFMON, "CAP_PERFMON" }, { CAP_BPF, "CAP_BPF" },
		{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
	};
	cap_t caps = cap_get_proc();
	char have[160] = "", lack[160] = "";
	size_t i;
	bool net;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *dst = have_cap(caps, want[i].c) ? have : lack;

		snprintf(dst + strlen(dst), 160 - strlen(dst), "%s%s", *dst ? "," : "", want[i].name);
	}
	net = have_cap(caps, CAP_NET_ADMIN) && have_cap(caps, CAP_NET_RAW);
	add(r, "privileges", net ? DOCTOR_OK : DOCTOR_MISSING, true,
	    "run as root, or: setcap cap_net_admin,cap_net_raw,cap_perfmon,cap_bpf+ep pktmem",
	    "%s; effective: %s%s%s", geteuid() == 0 ? "root" : "not root",
	    *have ? have : "none", *lack ? "; lacking: " : "", lack);
	if (caps)
		cap_free(caps);
}

static void probe_paranoid(struct doctor_report *r)
{
	int par = perf_paranoid();
	bool priv = perf_privileged();

	add(r, "perf_event_paranoid", priv ? DOCTOR_OK : DOCTOR_MISSING, true,
	    "run as root (CAP_PERFMON) or: sysctl kernel.perf_event_paranoid=-1",
	    "kernel.perf_event_paranoid=%d%s", par,
	    priv ? (par > -1 ? " (no obstacle: CAP_PERFMON/CAP_SYS_ADMIN)" : "")
		 : ": tracepoints and system-wide events are refused");
}

/* ---- perf --------------------------------------------------------------- */

static void probe_pmu(struct doctor_report *r)
{
	struct perf_event_attr a = { .type = PERF_TYPE_HARDWARE,
				     .config = PERF_COUNT_HW_CPU_CYCLES,
				     .exclude_kernel = 1, .disabled = 1 };
	char why[256], pmus[256];
	int fd = perf_open(&a, 0, -1, -1, 0), n;

	if (fd >= 0)
		close(fd);
	add(r, "pmu", fd >= 0 ? DOCTOR_OK : DOCTOR_WARN, false,
	    "hardware counters need bare metal or a VM with a virtual PMU (e.g. KVM -cpu host); "
	    "without one pktmem samples cpu-clock and marks counter columns unavailable",
	    "%s", fd >= 0 ? "cycles counts: hardware counters available"
			  : perf_strerror(fd, "cycles", why, sizeof(why)));
	n = pfm_pmus(pmus, sizeof(pmus));
	if (n < 0)
		add(r, "libpfm4", DOCTOR_WARN, false, "install libpfm4 (Debian: libpfm4)",
		    "libpfm4 failed to initialize: --events names cannot be encoded");
	else
		add(r, "libpfm4", DOCTOR_INFO, false, NULL,
		    "detected PMUs: %s%s", n ? pmus : "none",
		    fd < 0 && n ? " (libpfm4 decides from cpuid; only opening proves a counter)" : "");
}

static void probe_tracefs(struct doctor_report *r, bool *tp_ok)
{
	struct perf_tp tp[NTP];
	char dir[300], why[256], nm[64];
	bool priv = false;
	size_t i;
	int rc;

	*tp_ok = false;
	memset(tp, 0, sizeof(tp));
	for (i = 0; i < NTP; i++) {
		snprintf(tp[i].sys, sizeof(tp[i].sys), "%s", tracepoints[i][0]);
		snprintf(tp[i].name, sizeof(tp[i].name), "%s", tracepoints[i][1]);
	}
	if (perf_tracefs_dir(dir, sizeof(dir)) == 0) {
		add(r, "tracefs", DOCTOR_OK, true, NULL, "mounted at %s", dir);
		rc = perf_tp_load(tp, NTP, &priv);
	} else {
		rc = perf_tp_load(tp, NTP, &priv);
		add(r, "tracefs", rc == 0 ? DOCTOR_WARN : DOCTOR_MISSING, true,
		    "as root: mount -t tracefs nodev /sys/kernel/tracing",
		    rc == 0 ? "not mounted; pktmem reads it through a private mount of its own"
			    : "not mounted, and mounting it privately failed (needs CAP_SYS_ADMIN)");
	}
	*tp_ok = rc == 0;
	for (i = 0; i < NTP; i++) {
		struct perf_event_attr a;
		struct perf_counter *c = NULL;
		int err = rc < 0 ? rc : tp[i].err;

		/* Unprivileged, the first obstacle to name is the permission. */
		if (err && !perf_privileged())
			err = -EACCES;

		snprintf(nm, sizeof(nm), "tracepoint %s:%s", tracepoints[i][0], tracepoints[i][1]);
		if (!err) {
			perf_attr_tp(&a, &tp[i]);
			err = perf_counter_open(&c, &a, getpid(), NULL);
			perf_counter_free(c);
		}
		if (err)
			*tp_ok = false;
		snprintf(why, sizeof(why), "%s:%s", tracepoints[i][0], tracepoints[i][1]);
		add(r, nm, err ? DOCTOR_MISSING : DOCTOR_OK, true,
		    "run as root or set kernel.perf_event_paranoid=-1; a missing tracepoint needs a newer kernel",
		    "%s", err ? perf_strerror(err, why, dir, sizeof(dir)) : "opens (id, fields read from tracefs)");
	}
}

static void probe_sampling(struct doctor_report *r)
{
	struct perf_event_attr a = { .type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_CPU_CLOCK,
				     .freq = 1, .sample_freq = 999, .disabled = 1,
				     .sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_CALLCHAIN };
	char why[256];
	int fd = perf_open(&a, -1, 0, -1, 0);

	if (fd >= 0)
		close(fd);
	add(r, "sampling cpu-clock (all CPUs)", fd >= 0 ? DOCTOR_OK : DOCTOR_MISSING, false,
	    "run as root or set kernel.perf_event_paranoid=-1",
	    "%s", fd >= 0 ? "999 Hz with kernel+user callchains" : perf_strerror(fd, "cpu-clock", why, sizeof(why)));
}

/* A two-instruction program (r0 = 0; exit) loaded as
 * BPF_PROG_TYPE_TRACEPOINT and attached to irq:softirq_entry. */
static void probe_bpf(struct doctor_report *r)
{
	struct bpf_insn insn[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct perf_tp tp = { .sys = "irq", .name = "softirq_entry" };
	struct perf_event_attr a;
	union bpf_attr ba;
	char why[256] = "";
	int prog, fd = -1, err = 0;

	memset(&ba, 0, sizeof(ba));
	ba.prog_type = BPF_PROG_TYPE_TRACEPOINT;
	ba.insn_cnt = 2;
	ba.insns = (uint64_t)(uintptr_t)insn;
	ba.license = (uint64_t)(uintptr_t)"GPL";
	prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &ba, sizeof(ba));
	if (prog < 0) {
		err = errno;
		snprintf(why, sizeof(why), "bpf(BPF_PROG_LOAD, tracepoint) = %s", strerror(err));
		goto out;
	}
	if (perf_tp_load(&tp, 1, NULL) < 0 || tp.err) {
		snprintf(why, sizeof(why), "loaded, but irq:softirq_entry has no id to attach to");
		err = ENOENT;
		goto out;
	}
	perf_attr_tp(&a, &tp);
	a.sample_period = 1;
	a.sample_type = PERF_SAMPLE_RAW;
	fd = perf_open(&a, -1, 0, -1, 0);
	if (fd < 0) {
		err = -fd;
		perf_strerror(fd, "irq:softirq_entry", why, sizeof(why));
		goto out;
	}
	if (ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog) < 0) {
		err = errno;
		snprintf(why, sizeof(why), "ioctl(PERF_EVENT_IOC_SET_BPF) = %s", strerror(err));
	}
out:
	add(r, "bpf on tracepoints", err ? DOCTOR_WARN : DOCTOR_OK, false,
	    "run as root (CAP_BPF + CAP_PERFMON); check kernel.unprivileged_bpf_disabled and lockdown",
	    "%s", err ? why : "a BPF_PROG_TYPE_TRACEPOINT program loads and attaches");
	if (fd >= 0)
		close(fd);
	if (prog >= 0)
		close(prog);
}

/* Loopback datagrams to ourselves: each send raises NET_RX, which runs
 * on local_bh_enable in this task. */
static void make_net_rx(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	char byte = 0;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), i;

	if (s < 0)
		return;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &alen) == 0)
		for (i = 0; i < 16; i++)
			if (sendto(s, &byte, 1, 0, (struct sockaddr *)&a, sizeof(a)) < 0)
				break;
	close(s);
}

/* The kernel stages' exact counters (profile/bpfcount.c): the program
 * reads cpu-clock (software: the mechanism) and cycles (the PMU) on
 * NET_RX entry and exit. */
static void probe_bpf_counters(struct doctor_report *r)
{
	struct bpfcount_cfg cfg = { .events = "cycles" };
	struct bpfcount_result res;
	struct bpfcount *b = NULL;
	char why[256] = "", hw[256];
	const struct bpfcount_event *clk, *cyc;
	int rc;

	rc = bpfcount_open(&b, &cfg, why, sizeof(why));
	if (rc == 0 && (rc = bpfcount_enable(b)) < 0)
		snprintf(why, sizeof(why), "attaching: %s", strerror(-rc));
	if (rc == 0) {
		make_net_rx();
		bpfcount_disable(b);
		rc = bpfcount_read(b, BPFCOUNT_SOFTIRQ, &res);
		if (rc < 0)
			snprintf(why, sizeof(why), "reading the sums: %s", strerror(-rc));
	}
	if (rc < 0) {
		add(r, "bpf counter read (software)", DOCTOR_WARN, false,
		    "run as root (CAP_BPF + CAP_PERFMON); kernel stages then have no exact counters",
		    "%s", why);
		add(r, "bpf counter read (PMU)", DOCTOR_WARN, false,
		    "needs the BPF counter read first", "not tried: %s", why);
		bpfcount_free(b);
		return;
	}
	clk = &res.ev[0];
	cyc = &res.ev[1];
	if (!res.pairs)
		add(r, "bpf counter read (software)", DOCTOR_INFO, false, NULL,
		    "the program loads and attaches; no NET_RX ran during the probe to read %s on",
		    clk->name);
	else
		add(r, "bpf counter read (software)",
		    clk->read_errors ? DOCTOR_WARN : DOCTOR_OK, false,
		    "check the kernel log; kernel stages get no exact counters",
		    "bpf_perf_event_read_value(%s) on irq:softirq_entry/exit: %.0f ns per NET_RX "
		    "over %llu%s", clk->name, (double)clk->counter / (double)res.pairs,
		    (unsigned long long)res.pairs,
		    clk->read_errors ? " (some reads failed)" : "");
	if (cyc->cpus_open)
		add(r, "bpf counter read (PMU)", DOCTOR_OK, false, NULL,
		    "cycles opened on %d CPUs%s", cyc->cpus_open,
		    res.pairs && !cyc->read_errors ? ", read by the program" : "");
	else
		add(r, "bpf counter read (PMU)", DOCTOR_WARN, false,
		    "hardware counters need bare metal or a VM with a virtual PMU; kernel stages "
		    "then report cpu-clock only",
		    "%s%s", perf_strerror(cyc->open_err ? cyc->open_err : -ENODEV, "cycles", hw, sizeof(hw)),
		    cyc->read_err == -ENOENT ? "; bpf_perf_event_read_value = -ENOENT (empty slot)" : "");
	bpfcount_free(b);
}

static void probe_io_uring(struct doctor_report *r)
{
	struct io_uring ring;
	int rc = io_uring_queue_init(4, &ring, 0);

	if (rc == 0)
		io_uring_queue_exit(&ring);
	add(r, "io_uring", rc == 0 ? DOCTOR_OK : DOCTOR_WARN, false,
	    "sysctl kernel.io_uring_disabled=0 (or use --io epoll)",
	    "%s%s", rc == 0 ? "io_uring_queue_init works" : "io_uring_queue_init: ",
	    rc == 0 ? "" : strerror(-rc));
}

/* ---- netns, veth, TX ring (in a throwaway child) ----------------------- */

static int veth_create(const char *a, const char *b)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *linkinfo, *data, *peer;
	unsigned seq = (unsigned)time(NULL), portid;
	int rc = 0;
	ssize_t n;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, a);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* VETH_INFO_PEER carries a struct ifinfomsg before its attributes
	 * (drivers/net/veth.c veth_newlink). */
	memset(mnl_nlmsg_get_payload_tail(nlh), 0, MNL_ALIGN(sizeof(struct ifinfomsg)));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, b);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0)
		rc = -errno;
out:
	mnl_socket_close(nl);
	return rc;
}

static int tx_ring(const char *dev)
{
	struct tpacket_req req = { .tp_block_size = 4096 * 4, .tp_block_nr = 2,
				   .tp_frame_size = 2048, .tp_frame_nr = 16 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd, v = TPACKET_V2, rc = 0;
	void *ring;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sll.sll_ifindex = (int)if_nametoindex(dev);
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0) {
		rc = -errno;
		goto out;
	}
	ring = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	munmap(ring, (size_t)req.tp_block_size * req.tp_block_nr);
	if (sll.sll_ifindex && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		rc = -errno;
out:
	close(fd);
	return rc;
}

static void probe_netns(struct doctor_report *r)
{
	int pfd[2], res[3] = { -ECHILD, -ECHILD, -ECHILD }, st;
	const char *fix_ns = "run as root (CAP_SYS_ADMIN for unshare(CLONE_NEWNET)), or "
			     "--via socket to replay over loopback without namespaces";
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		res[0] = unshare(CLONE_NEWNET) < 0 ? -errno : 0;
		if (res[0] == 0)
			res[1] = veth_create("pktmdoc0", "pktmdoc1");
		if (res[1] == 0)
			res[2] = tx_ring("pktmdoc0");
		/* The namespace and its veth pair die with this child. */
		if (write(pfd[1], res, sizeof(res)) != sizeof(res))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (pid > 0) {
		if (read(pfd[0], res, sizeof(res)) != sizeof(res))
			res[0] = -ECHILD;
		waitpid(pid, &st, 0);
	}
	close(pfd[0]);
	add(r, "netns", res[0] ? DOCTOR_MISSING : DOCTOR_OK, true, fix_ns, "%s%s",
	    res[0] ? "unshare(CLONE_NEWNET): " : "unshare(CLONE_NEWNET) works",
	    res[0] ? strerror(-res[0]) : "");
	add(r, "veth", res[1] ? DOCTOR_MISSING : DOCTOR_OK, true,
	    "needs CAP_NET_ADMIN and the veth module (modprobe veth)", "%s%s",
	    res[1] ? "RTM_NEWLINK veth: " : "a veth pair can be created (rtnetlink)",
	    res[1] ? (res[1] == -ECHILD ? "not tried" : strerror(-res[1])) : "");
	add(r, "packet_mmap_tx", res[2] ? DOCTOR_MISSING : DOCTOR_OK, true,
	    "needs CAP_NET_RAW; or --via socket", "%s%s",
	    res[2] ? "PACKET_TX_RING: " : "PACKET_TX_RING (TPACKET_V2) set up and mapped",
	    res[2] ? (res[2] == -ECHILD ? "not tried" : strerror(-res[2])) : "");
}

int doctor_run(struct doctor_report *r)
{
	bool tp_ok;
	size_t i;

	memset(r, 0, sizeof(*r));
	probe_privileges(r);
	probe_paranoid(r);
	probe_pmu(r);
	probe_tracefs(r, &tp_ok);
	probe_sampling(r);
	probe_bpf(r);
	probe_bpf_counters(r);
	probe_io_uring(r);
	probe_netns(r);
	r->can_replay = true;
	for (i = 0; i < r->n; i++)
		if (r->probe[i].required && r->probe[i].status == DOCTOR_MISSING)
			r->can_replay = false;
	(void)tp_ok;
	return 0;
}
