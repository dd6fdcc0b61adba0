/* rxring.c: the AF_PACKET RX ring and its BPF filter; see rxring.h. */
#include "replay/rxring.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

struct rxq {
	int fd;
	int version;
	uint8_t *ring;
	size_t ring_len;
	uint32_t block_size, block_nr, frame_size, frame_nr;
	uint32_t cur;			/* next block (V3) or frame (V2) to look at */
};

/* libpcap compiles the expression for Ethernet; every accepting "ret #k"
 * becomes "ret #snaplen" so only the headers are copied into the ring. */
static int attach_filter(int fd, const char *expr, uint32_t snaplen, char *err, size_t errlen)
{
	struct bpf_program prog;
	struct sock_fprog fp;
	pcap_t *p;
	unsigned int i;
	int rc = 0;

	p = pcap_open_dead(DLT_EN10MB, 65535);
	if (!p) {
		snprintf(err, errlen, "pcap_open_dead: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "filter '%s': %s", expr, pcap_geterr(p));
		pcap_close(p);
		return RXQ_E_FILTER;
	}
	for (i = 0; i < prog.bf_len; i++)
		if (BPF_CLASS(prog.bf_insns[i].code) == BPF_RET &&
		    BPF_RVAL(prog.bf_insns[i].code) == BPF_K && prog.bf_insns[i].k)
			prog.bf_insns[i].k = snaplen;
	/* struct bpf_insn and struct sock_filter have the same layout */
	fp.len = (unsigned short)prog.bf_len;
	fp.filter = (struct sock_filter *)prog.bf_insns;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "setsockopt(SO_ATTACH_FILTER): %s", strerror(errno));
	}
	pcap_freecode(&prog);
	pcap_close(p);
	return rc;
}

int rxq_new(struct rxq **out, int fd, const struct rxq_cfg *cfg, char *err, size_t errlen)
{
	struct sockaddr_ll sll = { 0 };
	struct rxq *q;
	uint32_t snap = cfg->snaplen ? cfg->snaplen : 128;
	uint32_t ring = cfg->ring_bytes ? cfg->ring_bytes : 4u << 20;
	int one = 1, v, rc;

	*out = NULL;
	q = calloc(1, sizeof(*q));
	if (!q) {
		close(fd);
		snprintf(err, errlen, "rxq_new: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	q->fd = fd;
	q->version = cfg->version == 2 ? 2 : 3;
	/* the filter goes on before bind so nothing unfiltered is queued */
	if (cfg->filter && (rc = attach_filter(fd, cfg->filter, snap, err, errlen)) < 0)
		goto fail;
	/* our own frames, seen on the way out, are not the server's */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	v = q->version == 2 ? TPACKET_V2 : TPACKET_V3;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "setsockopt(PACKET_VERSION): %s", strerror(errno));
		goto fail;
	}
	/* A frame holds the header, up to 16 bytes of padding before the MAC
	 * header (tpacket_rcv(): netoff = TPACKET_ALIGN(hdrlen + 16)) and
	 * snap bytes. */
	q->frame_size = TPACKET_ALIGN(TPACKET3_HDRLEN + 16 + snap);
	q->block_size = 1u << 16;	/* 64 KiB: many frames per block (see txring.c) */
	q->block_nr = ring / q->block_size;
	if (q->block_nr < 2)
		q->block_nr = 2;
	for (;;) {
		q->frame_nr = (q->block_size / q->frame_size) * q->block_nr;
		if (q->version == 3) {
			struct tpacket_req3 req = {
				.tp_block_size = q->block_size,
				.tp_block_nr = q->block_nr,
				.tp_frame_size = q->frame_size,
				.tp_frame_nr = q->frame_nr,
				/* a block is handed to us when full or after
				 * this many ms (rounded up to a jiffy) */
				.tp_retire_blk_tov = cfg->block_tov_ms ? cfg->block_tov_ms : 1,
			};
			rc = setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req));
		} else {
			struct tpacket_req req = {
				.tp_block_size = q->block_size,
				.tp_block_nr = q->block_nr,
				.tp_frame_size = q->frame_size,
				.tp_frame_nr = q->frame_nr,
			};
			rc = setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req));
		}
		if (rc == 0)
			break;
		if (errno != ENOMEM || q->block_nr <= 2) {
			rc = -errno;
			snprintf(err, errlen, "setsockopt(PACKET_RX_RING): %s", strerror(errno));
			goto fail;
		}
		q->block_nr /= 2;
	}
	q->ring_len = (size_t)q->block_size * q->block_nr;
	q->ring = mmap(NULL, q->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (q->ring == MAP_FAILED) {
		q->ring = NULL;
		rc = -errno;
		snprintf(err, errlen, "mmap(RX ring): %s", strerror(errno));
		goto fail;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = cfg->ifindex;
	sll.sll_protocol = htons(ETH_P_ALL);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "bind(AF_PACKET): %s", strerror(errno));
		goto fail;
	}
	*out = q;
	return 0;
fail:
	rxq_free(q);
	return rc;
}

static int poll_v3(struct rxq *q, void (*fn)(void *, const struct rxq_pkt *), void *ctx)
{
	int n = 0;

	for (;;) {
		struct tpacket_block_desc *bd =
			(struct tpacket_block_desc *)(q->ring + (size_t)q->cur * q->block_size);
		struct tpacket3_hdr *h;
		uint32_t i, num;

		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			return n;
		num = bd->hdr.bh1.num_pkts;
		h = (struct tpacket3_hdr *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
		for (i = 0; i < num; i++) {
			struct rxq_pkt p = { (uint8_t *)h + h->tp_mac, h->tp_snaplen, h->tp_len };

			fn(ctx, &p);
			n++;
			h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
		}
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		q->cur = (q->cur + 1) % q->block_nr;
	}
}

static int poll_v2(struct rxq *q, void (*fn)(void *, const struct rxq_pkt *), void *ctx)
{
	uint32_t fpb = q->block_size / q->frame_size;
	int n = 0;

	for (;;) {
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)(q->ring +
			(size_t)(q->cur / fpb) * q->block_size + (size_t)(q->cur % fpb) * q->frame_size);
		struct rxq_pkt p;

		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			return n;
		p.data = (uint8_t *)h + h->tp_mac;
		p.caplen = h->tp_snaplen;
		p.wirelen = h->tp_len;
		fn(ctx, &p);
		n++;
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		q->cur = (q->cur + 1) % q->frame_nr;
	}
}

int rxq_poll(struct rxq *q, void (*fn)(void *ctx, const struct rxq_pkt *p), void *ctx)
{
	return q->version == 3 ? poll_v3(q, fn, ctx) : poll_v2(q, fn, ctx);
}

int rxq_wait(struct rxq *q, int timeout_ms)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
	int n = poll(&pfd, 1, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n > 0;
}

uint64_t rxq_drops(struct rxq *q)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	if (getsockopt(q->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return 0;
	return st.tp_drops;
}

void rxq_free(struct rxq *q)
{
	if (!q)
		return;
	if (q->ring)
		munmap(q->ring, q->ring_len);
	if (q->fd >= 0)
		close(q->fd);
	free(q);
}
