/*
 * target_wire.c: the server's responses, read off the wire (target.h,
 * "Verification without the built-in server's stats block"): a packet
 * socket in the server namespace sees every TCP segment the server sends;
 * each connection's stream is put back in sequence order and framed
 * (status line, Content-Length, chunked, close-delimited), and responses
 * are counted by class into the shared block.
 */
#include "replay/target_int.h"

#include "lib/bytes.h"
#include "replay/plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum rstate {
	R_STATUS = 0,	/* status line */
	R_HEADER,	/* header lines until the empty one */
	R_BODY,		/* Content-Length bytes */
	R_CHUNK_SIZE,	/* chunk-size line */
	R_CHUNK_DATA,
	R_CHUNK_END,	/* CRLF after chunk data */
	R_TRAILER,	/* trailer lines until the empty one */
	R_CLOSE,	/* close-delimited body: everything to FIN */
	R_BAD,		/* framing lost: skip the rest */
};

struct rconn {
	uint64_t key;
	bool synced;
	uint32_t next;		/* next expected sequence number */
	enum rstate st;
	int status;
	bool chunked, has_len, no_body;
	uint64_t left;		/* body or chunk bytes still to skip */
	uint32_t llen;		/* bytes of the current line kept in line[] */
	bool ltrunc;		/* the line was longer than line[] */
	char line[240];
};

static void head_done(struct target_wire *c, struct rconn *r)
{
	if (r->st == R_BAD)
		return;
	if (r->status >= 100 && r->status < 200) {
		/* interim (100 Continue): another head follows */
		r->st = R_STATUS;
	} else if (r->no_body || r->status == 204 || r->status == 304) {
		r->st = R_STATUS;
	} else if (r->chunked) {
		r->st = R_CHUNK_SIZE;
	} else if (r->has_len) {
		r->st = r->left ? R_BODY : R_STATUS;
	} else {
		r->st = R_CLOSE;
	}
	(void)c;
}

static bool hdr_is(const char *line, const char *name)
{
	size_t n = strlen(name);

	return !strncasecmp(line, name, n) && line[n] == ':';
}

/* One complete line (without CRLF) in state st. */
static void on_line(struct target_wire *c, struct rconn *r)
{
	char *l = r->line;
	char *end;

	l[r->llen] = 0;
	switch (r->st) {
	case R_STATUS:
		if (!r->llen)
			return;	/* tolerate stray CRLF between responses */
		if (strncmp(l, "HTTP/", 5) || r->llen < 12 || l[8] != ' ' ||
		    l[9] < '0' || l[9] > '9' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9') {
			__atomic_fetch_add(&c->sh->parse_errors, 1, __ATOMIC_RELAXED);
			r->st = R_BAD;
			return;
		}
		r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
		__atomic_fetch_add(&c->sh->status[r->status >= 100 && r->status < 600 ? r->status / 100 : 0],
				   1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->sh->responses, 1, __ATOMIC_RELAXED);
		r->chunked = r->has_len = r->no_body = false;
		r->left = 0;
		r->st = R_HEADER;
		return;
	case R_HEADER:
		if (!r->llen) {
			head_done(c, r);
			return;
		}
		if (hdr_is(l, "content-length")) {
			r->has_len = true;
			r->left = strtoull(l + 15, &end, 10);
		} else if (hdr_is(l, "transfer-encoding") && strcasestr(l + 18, "chunked")) {
			r->chunked = true;
		}
		return;
	case R_CHUNK_SIZE:
		errno = 0;
		r->left = strtoull(l, &end, 16);
		if (errno || end == l) {
			__atomic_fetch_add(&c->sh->parse_errors, 1, __ATOMIC_RELAXED);
			r->st = R_BAD;
			return;
		}
		r->st = r->left ? R_CHUNK_DATA : R_TRAILER;
		return;
	case R_CHUNK_END:
		r->st = R_CHUNK_SIZE;
		return;
	case R_TRAILER:
		if (!r->llen)
			r->st = R_STATUS;
		return;
	default:
		return;
	}
}

static void feed(struct target_wire *c, struct rconn *r, const uint8_t *p, size_t n)
{
	while (n) {
		switch (r->st) {
		case R_BODY:
		case R_CHUNK_DATA: {
			size_t k = r->left < n ? (size_t)r->left : n;

			r->left -= k;
			p += k;
			n -= k;
			if (!r->left)
				r->st = r->st == R_BODY ? R_STATUS : R_CHUNK_END;
			break;
		}
		case R_CLOSE:
		case R_BAD:
			return;
		default: {
			/* line states: collect up to LF */
			const uint8_t *lf = memchr(p, '\n', n);
			size_t k = lf ? (size_t)(lf - p) : n;
			size_t room = sizeof(r->line) - 1 - r->llen;

			if (k > room) {
				r->ltrunc = true;
				memcpy(r->line + r->llen, p, room);
				r->llen += (uint32_t)room;
			} else {
				memcpy(r->line + r->llen, p, k);
				r->llen += (uint32_t)k;
			}
			if (!lf) {
				return;
			}
			p += k + 1;
			n -= k + 1;
			if (r->llen && r->line[r->llen - 1] == '\r')
				r->llen--;
			on_line(c, r);
			r->llen = 0;
			r->ltrunc = false;
			break;
		}
		}
	}
}

static struct rconn *conn_get(struct target_wire *c, uint64_t key, bool create)
{
	uint32_t h;

	if (create && (c->n + 1) * 2 > c->cap) {
		uint32_t ncap = c->cap ? c->cap * 2 : 1024, i;
		struct rconn **nt = calloc(ncap, sizeof(*nt));

		if (!nt)
			return NULL;
		for (i = 0; i < c->cap; i++) {
			if (!c->tab[i])
				continue;
			for (h = (uint32_t)(c->tab[i]->key >> 7) & (ncap - 1); nt[h]; h = (h + 1) & (ncap - 1))
				;
			nt[h] = c->tab[i];
		}
		free(c->tab);
		c->tab = nt;
		c->cap = ncap;
	}
	if (!c->cap)
		return NULL;
	for (h = (uint32_t)(key >> 7) & (c->cap - 1); c->tab[h]; h = (h + 1) & (c->cap - 1))
		if (c->tab[h]->key == key)
			return c->tab[h];
	if (!create)
		return NULL;
	c->tab[h] = calloc(1, sizeof(**c->tab));
	if (!c->tab[h])
		return NULL;
	c->tab[h]->key = key;
	c->n++;
	return c->tab[h];
}

/* One IP packet the server sent (cooked: starts at the IP header). */
static void on_packet(struct target_wire *c, const uint8_t *p, size_t n)
{
	struct pm_cur b = pm_cur(p, n);
	const uint8_t *dst;
	size_t iphl, ipl, thl, plen;
	int family;
	uint32_t seq, d;
	uint8_t flags, v = pm_u8(&b, 0) >> 4;
	struct rconn *r;

	if (n < 20)
		return;
	if (v == 4) {
		iphl = (size_t)(pm_u8(&b, 0) & 15) * 4;
		ipl = pm_be16(&b, 2);
		if (pm_u8(&b, 9) != IPPROTO_TCP || iphl < 20)
			return;
		family = AF_INET;
		dst = pm_cur_at(&b, 16, 4);
	} else if (v == 6 && n >= 40) {
		iphl = 40;
		ipl = 40 + (size_t)pm_be16(&b, 4);
		if (pm_u8(&b, 6) != IPPROTO_TCP)
			return;	/* extension headers: the replay never makes them */
		family = AF_INET6;
		dst = pm_cur_at(&b, 24, 16);
	} else {
		return;
	}
	/* a GSO packet on the transmit side may carry IP length 0 (IPv4 TSO
	 * over 64 KiB never happens here, but be safe): trust what arrived */
	if (ipl < iphl || ipl > n)
		ipl = n;
	if (ipl < iphl + 20)
		return;
	if (pm_be16(&b, iphl) != c->port)
		return;
	thl = (size_t)(pm_u8(&b, iphl + 12) >> 4) * 4;
	if (thl < 20 || iphl + thl > ipl)
		return;
	seq = pm_be32(&b, iphl + 4);
	flags = pm_u8(&b, iphl + 13);
	plen = ipl - iphl - thl;
	r = conn_get(c, plan_peer_key(family, dst, pm_be16(&b, iphl + 2)), (flags & 0x02) != 0);
	if (!r)
		return;
	if (flags & 0x02) {	/* SYN-ACK: a new connection, ISN + 1 */
		uint64_t key = r->key;

		memset(r, 0, sizeof(*r));
		r->key = key;
		r->synced = true;
		r->next = seq + 1;
		return;
	}
	if (!r->synced || !plen)
		return;
	d = r->next - seq;	/* bytes of this segment already seen */
	if ((int32_t)d < 0) {
		/* a hole (we lost a packet): the stream cannot be framed */
		__atomic_fetch_add(&c->sh->stream_gaps, 1, __ATOMIC_RELAXED);
		if (r->st != R_BAD && r->st != R_CLOSE)
			__atomic_fetch_add(&c->sh->parse_errors, 1, __ATOMIC_RELAXED);
		r->st = R_BAD;
		r->next = seq + (uint32_t)plen;
		return;
	}
	if (d >= plen)
		return;	/* a copy: retransmission, or lo's second sighting */
	feed(c, r, p + iphl + thl + d, plen - d);
	__atomic_fetch_add(&c->sh->response_bytes, plen - d, __ATOMIC_RELAXED);
	r->next += (uint32_t)(plen - d);
}

static void *wire_main(void *arg)
{
	struct target_wire *c = arg;
	/* a GSO packet is one IP packet of up to 64 KiB */
	size_t bufsz = 65536 + 256;
	uint8_t *buf = malloc(bufsz);

	if (!buf)
		return NULL;
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		ssize_t n;
		int quit = __atomic_load_n(&c->quit, __ATOMIC_ACQUIRE);

		/* once asked to quit: drain what is queued, then stop */
		if (!quit && poll(&pfd, 1, 50) <= 0)
			continue;
		n = recv(c->fd, buf, bufsz, MSG_DONTWAIT);
		if (n < 0) {
			if (quit && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)
				break;
			continue;
		}
		on_packet(c, buf, (size_t)n);
	}
	free(buf);
	return NULL;
}

/* A packet socket on the server side that sees what the server sends:
 * cooked (SOCK_DGRAM: from the IP header), BPF "tcp src port P". */
int target_wire_start(struct target_wire *c, const char *dev, uint16_t port, char *why, size_t wn)
{
	struct sockaddr_ll sll = { 0 };
	struct bpf_program prog;
	struct sock_fprog fp;
	char expr[64];
	pcap_t *pc = NULL;
	int one_mb = 32 << 20, rc = 0;

	c->port = port;
	c->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (c->fd < 0) {
		snprintf(why, wn, "socket(AF_PACKET): %s", strerror(errno));
		return -errno;
	}
	/* before bind: no packet reaches the socket unfiltered */
	snprintf(expr, sizeof(expr), "tcp src port %u", port);
	pc = pcap_open_dead(DLT_RAW, 65535);
	if (!pc || pcap_compile(pc, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(why, wn, "filter '%s': %s", expr, pc ? pcap_geterr(pc) : "out of memory");
		rc = -EINVAL;
		goto fail;
	}
	fp.len = (unsigned short)prog.bf_len;
	fp.filter = (struct sock_filter *)prog.bf_insns;
	rc = setsockopt(c->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
	pcap_freecode(&prog);
	if (rc < 0) {
		rc = -errno;
		snprintf(why, wn, "setsockopt(SO_ATTACH_FILTER): %s", strerror(errno));
		goto fail;
	}
	/* room for bursts: SO_RCVBUFFORCE needs CAP_NET_ADMIN, else the
	 * ordinary limit */
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &one_mb, sizeof(one_mb)) < 0)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &one_mb, sizeof(one_mb));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = dev ? (int)if_nametoindex(dev) : 0;
	if (bind(c->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = -errno;
		snprintf(why, wn, "bind(AF_PACKET, %s): %s", dev ? dev : "any", strerror(errno));
		goto fail;
	}
	if ((rc = pthread_create(&c->thr, NULL, wire_main, c)) != 0) {
		snprintf(why, wn, "pthread_create: %s", strerror(rc));
		rc = -rc;
		goto fail;
	}
	c->running = true;
	pcap_close(pc);
	return 0;
fail:
	if (pc)
		pcap_close(pc);
	close(c->fd);
	c->fd = -1;
	return rc;
}

void target_wire_stop(struct target_wire *c)
{
	struct tpacket_stats ts;
	socklen_t tl = sizeof(ts);
	uint32_t i;

	if (c->running) {
		__atomic_store_n(&c->quit, 1, __ATOMIC_RELEASE);
		pthread_join(c->thr, NULL);
	}
	if (c->fd >= 0) {
		if (getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &ts, &tl) == 0)
			c->sh->capture_drops += ts.tp_drops;
		close(c->fd);
	}
	for (i = 0; i < c->cap; i++)
		free(c->tab[i]);
	free(c->tab);
}

