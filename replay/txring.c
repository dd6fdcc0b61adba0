/* txring.c: PACKET_MMAP TX ring and raw sendto; see txring.h. */
#include "replay/txring.h"

#include "lib/time.h"
#include "replay/netns.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Ring arithmetic (Documentation/networking/packet_mmap.rst, "How to use
 * mmap() to improve transmission process" and "PACKET_MMAP settings";
 * checks in net/packet/af_packet.c packet_set_ring()):
 *
 *   - the ring is tp_block_nr blocks of tp_block_size bytes; each block is
 *     one physically contiguous allocation (alloc_pg_vec(), order =
 *     get_order(block_size)), so tp_block_size must be a multiple of the
 *     page size and is best a power of two pages (the rest of the order is
 *     wasted);
 *   - frames never straddle blocks: frames_per_block = block_size /
 *     frame_size, and tp_frame_nr must equal frames_per_block * block_nr
 *     exactly;
 *   - tp_frame_size must be a multiple of TPACKET_ALIGNMENT (16) and hold
 *     the frame header: for TPACKET_V2 the data of a TX frame starts at
 *     TPACKET2_HDRLEN - sizeof(struct sockaddr_ll) =
 *     TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) = 32 bytes into the slot
 *     (tpacket_snd(): data = ph.raw + po->tp_hdrlen - sizeof(sockaddr_ll));
 *   - frame i lives in block i / frames_per_block at offset
 *     (i % frames_per_block) * frame_size (packet_lookup_frame()).
 *
 * So: frame_size = TPACKET_ALIGN(32 + 10 (virtio_net_hdr) + max_frame);
 * block_size = the smallest power of two >= frame_size and >= 64 KiB (many
 * frames per block, little tail waste); block_nr = ring_bytes / block_size.
 * On ENOMEM the ring is halved and set up again, down to one block.
 *
 * Why a virtio_net_hdr with hdr_len = the whole frame (PACKET_VNET_HDR):
 * tpacket_fill_skb() copies only hdr_len bytes (at least the link header)
 * into the skb and attaches the rest as page fragments of the ring itself,
 * zero-copy.  The skb's destructor, which sets the slot back to
 * TP_STATUS_AVAILABLE, runs when the receiving IP layer orphans the skb
 * (ip_rcv_core(): "Must drop socket now because of tproxy"), long before
 * TCP has copied those fragments to the server: a slot refilled then would
 * change bytes already queued in the server's socket.  Asking for the
 * whole frame as "header" makes the skb linear: one memcpy of the frame,
 * and a slot that comes back really is free.  No offload flags are set, so
 * the checksums we compute are the ones the receiver verifies.
 */

#define TX_DATA_OFF 32u			/* TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) */
#define VNET_LEN sizeof(struct virtio_net_hdr)

struct txq_ops {
	uint8_t *(*slot)(struct txq *q);
	int (*commit)(struct txq *q, uint32_t len);
	int (*flush)(struct txq *q);
	int (*reap)(struct txq *q);
};

struct txq {
	const struct txq_ops *ops;
	enum txq_via via;
	int fd;
	int ifindex;
	uint32_t max_frame;
	struct txq_stats st;
	/* mmap */
	uint8_t *ring;
	size_t ring_len;
	uint32_t fpb;			/* frames per block */
	uint32_t head;			/* next slot the user fills (counts up) */
	uint32_t tail;			/* oldest slot not yet taken back */
	uint32_t queued;		/* filled since the last flush */
	/* raw */
	uint8_t *buf;
	uint32_t buf_len;
};

static inline struct tpacket2_hdr *frame_at(const struct txq *q, uint32_t i)
{
	uint32_t n = i % q->st.frame_nr;

	return (struct tpacket2_hdr *)(q->ring + (size_t)(n / q->fpb) * q->st.block_size +
				       (size_t)(n % q->fpb) * q->st.frame_size);
}

static inline uint32_t slot_status(const struct tpacket2_hdr *h)
{
	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
}

/* The slot is ours to write: the kernel is done with it and we took it back. */
static inline bool user_may_fill(const struct txq *q, const struct tpacket2_hdr *h)
{
	return q->head - q->tail < q->st.frame_nr && slot_status(h) == TP_STATUS_AVAILABLE;
}

/* Queued or in flight: the kernel may read the slot at any moment. */
static inline bool kernel_owns(const struct tpacket2_hdr *h)
{
	return slot_status(h) & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING);
}

static uint8_t *mmap_slot(struct txq *q)
{
	struct tpacket2_hdr *h = frame_at(q, q->head);

	if (!user_may_fill(q, h)) {
		q->st.ring_full++;
		return NULL;
	}
	return (uint8_t *)h + TX_DATA_OFF + VNET_LEN;
}

static int mmap_commit(struct txq *q, uint32_t len)
{
	struct tpacket2_hdr *h = frame_at(q, q->head);
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)((uint8_t *)h + TX_DATA_OFF);

	if (len > q->max_frame)
		return -EMSGSIZE;
	memset(vh, 0, sizeof(*vh));
	vh->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	vh->hdr_len = (uint16_t)len;	/* little-endian: vio_le() on every arch we build for */
	h->tp_len = len + (uint32_t)VNET_LEN;
	h->tp_snaplen = h->tp_len;
	__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	q->head++;
	q->queued++;
	return 0;
}

static int mmap_flush(struct txq *q)
{
	ssize_t n;

	if (!q->queued)
		return 0;
	q->queued = 0;
	q->st.flushes++;
	/* MSG_DONTWAIT: hand over what is queued, do not wait for completion
	 * (tpacket_snd() would sleep until every frame is sent otherwise).
	 * EINTR: a signal cut the call short, kick again (netsniff-ng ring_tx.h
	 * pull_and_flush_tx_ring() loops the same way).  EAGAIN/ENOBUFS: the
	 * device queue is full; the slots stay SEND_REQUEST, so the ring is
	 * marked as still holding frames (queued): the next flush kicks again
	 * even when nothing new was committed.  EINVAL: net/packet/af_packet.c
	 * tpacket_snd() returns it for a SEND_REQUEST slot it will not send
	 * (too short for the link header, a virtio_net_hdr it refuses) and,
	 * on that tpacket_error path, has already set the slot to
	 * TP_STATUS_WRONG_FORMAT, so txq_reap() counts it and returns
	 * TXQ_E_WRONG_FORMAT: the error is reported there, not lost here. */
	do
		n = sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
		q->queued = 1;
		return 0;
	}
	if (n < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

static int mmap_reap(struct txq *q)
{
	int n = 0, bad = 0;

	while (q->tail != q->head) {
		struct tpacket2_hdr *h = frame_at(q, q->tail);

		if (kernel_owns(h))
			break;
		if (slot_status(h) & TP_STATUS_WRONG_FORMAT) {
			q->st.wrong_format++;
			bad = 1;
			__atomic_store_n(&h->tp_status, TP_STATUS_AVAILABLE, __ATOMIC_RELEASE);
		} else {
			q->st.frames++;
			q->st.bytes += h->tp_len - VNET_LEN;
		}
		q->tail++;
		n++;
	}
	return bad ? TXQ_E_WRONG_FORMAT : n;
}

static const struct txq_ops mmap_ops = { mmap_slot, mmap_commit, mmap_flush, mmap_reap };

static uint8_t *raw_slot(struct txq *q)
{
	return q->buf;
}

static int raw_commit(struct txq *q, uint32_t len)
{
	ssize_t n;

	if (len > q->max_frame)
		return -EMSGSIZE;
	q->st.flushes++;
	for (;;) {
		n = send(q->fd, q->buf, len, 0);
		if (n == (ssize_t)len) {
			q->st.frames++;
			q->st.bytes += len;
			return 0;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* the device queue is full: let it drain, then again */
			sched_yield();
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
}

static int raw_flush(struct txq *q)
{
	(void)q;
	return 0;
}

static int raw_reap(struct txq *q)
{
	(void)q;
	return 0;
}

static const struct txq_ops raw_ops = { raw_slot, raw_commit, raw_flush, raw_reap };

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int setup_ring(struct txq *q, uint32_t ring_bytes)
{
	struct tpacket_req req;
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);

	q->st.frame_size = TPACKET_ALIGN(TX_DATA_OFF + (uint32_t)VNET_LEN + q->max_frame);
	q->st.block_size = pow2_at_least(q->st.frame_size);
	if (q->st.block_size < 65536)
		q->st.block_size = 65536;
	if (q->st.block_size < page)
		q->st.block_size = page;
	q->st.block_nr = ring_bytes / q->st.block_size;
	if (q->st.block_nr < 1)
		q->st.block_nr = 1;
	for (;;) {
		q->fpb = q->st.block_size / q->st.frame_size;
		q->st.frame_nr = q->fpb * q->st.block_nr;
		req.tp_block_size = q->st.block_size;
		req.tp_block_nr = q->st.block_nr;
		req.tp_frame_size = q->st.frame_size;
		req.tp_frame_nr = q->st.frame_nr;
		if (setsockopt(q->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) == 0)
			break;
		if (errno != ENOMEM || q->st.block_nr == 1)
			return -errno;
		q->st.block_nr /= 2;	/* shrink and retry */
	}
	q->ring_len = (size_t)q->st.block_size * q->st.block_nr;
	q->ring = mmap(NULL, q->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       q->fd, 0);
	if (q->ring == MAP_FAILED) {
		q->ring = NULL;
		return -errno;
	}
	return 0;
}

/* PKTMEM_TEST_FAIL=name: see txring.h.  Read once per txq_new(). */
static bool test_fail(const char *name)
{
	const char *v = getenv("PKTMEM_TEST_FAIL");

	return v && strcmp(v, name) == 0;
}

/* One named step of the setup: on failure, err says which and why. */
static int step_fail(const char *step, int rc, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", step, strerror(-rc));
	return rc;
}

int txq_new(struct txq **out, int fd, const struct txq_cfg *cfg, char *err, size_t errlen)
{
	struct sockaddr_ll sll = { 0 };
	struct txq *q;
	int one = 1, v = TPACKET_V2, rc;

	*out = NULL;
	q = calloc(1, sizeof(*q));
	if (!q) {
		close(fd);
		return step_fail("txq_new", -ENOMEM, err, errlen);
	}
	q->fd = fd;
	q->via = cfg->via;
	q->ifindex = cfg->ifindex;
	q->max_frame = cfg->max_frame ? cfg->max_frame : 1514;

	/* skip the qdisc layer: veth has none worth the lock */
	if (cfg->qdisc_bypass &&
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) {
		rc = step_fail("setsockopt(PACKET_QDISC_BYPASS)", -errno, err, errlen);
		goto fail;
	}
	if (cfg->via == TXQ_MMAP) {
		if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0) {
			rc = step_fail("setsockopt(PACKET_VERSION)", -errno, err, errlen);
			goto fail;
		}
		if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0) {
			rc = step_fail("setsockopt(PACKET_VNET_HDR)", -errno, err, errlen);
			goto fail;
		}
	}
	/* protocol 0: this socket only sends, the kernel queues nothing to it */
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = cfg->ifindex;
	sll.sll_protocol = 0;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = step_fail("bind(AF_PACKET)", -errno, err, errlen);
		goto fail;
	}
	if (cfg->via == TXQ_MMAP) {
		if (test_fail("txring")) {
			rc = -EOPNOTSUPP;
			snprintf(err, errlen, "PACKET_TX_RING: injected failure (PKTMEM_TEST_FAIL=txring)");
			goto fail;
		}
		rc = setup_ring(q, cfg->ring_bytes ? cfg->ring_bytes : 4u << 20);
		if (rc < 0) {
			step_fail("setsockopt(PACKET_TX_RING)", rc, err, errlen);
			goto fail;
		}
		q->ops = &mmap_ops;
	} else {
		int sndbuf = 4 << 20;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		q->buf_len = q->max_frame;
		q->buf = malloc(q->buf_len);
		if (!q->buf) {
			rc = step_fail("txq_new", -ENOMEM, err, errlen);
			goto fail;
		}
		q->ops = &raw_ops;
	}
	*out = q;
	return 0;
fail:
	txq_free(q);
	return rc;
}

int txq_probe(char *err, size_t errlen)
{
	struct netns_cfg nc = { 0 };
	struct txq_cfg tc = { .via = TXQ_MMAP };
	struct netns_topo *t = NULL;
	struct txq *q = NULL;
	int fd, rc;

	if ((rc = netns_topo_new(&t, &nc, err, errlen)) < 0)
		return rc;
	fd = netns_socket(t, NETNS_CLIENT, AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = step_fail("socket(AF_PACKET)", fd, err, errlen);
		goto out;
	}
	tc.ifindex = netns_ifindex(t, NETNS_CLIENT);
	rc = txq_new(&q, fd, &tc, err, errlen);
out:
	txq_free(q);
	netns_topo_free(t);
	return rc;
}

uint8_t *txq_slot(struct txq *q)
{
	return q->ops->slot(q);
}

int txq_commit(struct txq *q, uint32_t len)
{
	return q->ops->commit(q, len);
}

int txq_flush(struct txq *q)
{
	return q->ops->flush(q);
}

int txq_reap(struct txq *q)
{
	return q->ops->reap(q);
}

uint32_t txq_pending(const struct txq *q)
{
	return q->head - q->tail;
}

int txq_drain(struct txq *q, int timeout_ms)
{
	uint64_t t0 = pm_now_ns();
	int err, bad = 0;

	for (;;) {
		if ((err = txq_flush(q)) < 0)
			return err;
		err = txq_reap(q);
		if (err == TXQ_E_WRONG_FORMAT)
			bad = 1;
		else if (err < 0)
			return err;
		if (txq_pending(q) == 0)
			return bad ? TXQ_E_WRONG_FORMAT : 0;
		if ((pm_now_ns() - t0) / 1000000 > (uint64_t)timeout_ms)
			return -ETIMEDOUT;
		usleep(100);
	}
}

const struct txq_stats *txq_stats(const struct txq *q)
{
	return &q->st;
}

const char *txq_via_name(enum txq_via via)
{
	return via == TXQ_MMAP ? "mmap" : "raw";
}

void txq_free(struct txq *q)
{
	if (!q)
		return;
	if (q->ring) {
		/* never unmap slots the kernel may still read */
		if (txq_pending(q))
			txq_drain(q, 1000);
		munmap(q->ring, q->ring_len);
	}
	free(q->buf);
	if (q->fd >= 0)
		close(q->fd);
	free(q);
}
