/* target.c: the user's own server (--exec, --target); see target.h. */
#include "replay/target.h"

#include "preload/pktmem-alloc.h"
#include "replay/netns.h"
#include "replay/plan.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Written by the engine's child (target_run), read by the parent. */
struct target_shared {
	int32_t pid;
	int32_t exit_status;
	uint32_t exited_early;
	uint32_t started;		/* 1 once the port accepted */
	char err[320];
	uint64_t status[6], responses, response_bytes, parse_errors, stream_gaps;
	uint64_t capture_drops;
	uint32_t capture_failed;
	char capture_why[160];
	struct pktmem_alloc_counts a0, a1;	/* at the start and the end of the window */
	uint32_t window_closed;
};

struct target {
	struct target_cfg cfg;
	char *command, *preload, *host;
	char alloc_why[320];
	struct target_shared *sh;
	int alloc_fd;
	struct pktmem_alloc_block *ab;
};

const char *target_strerror(int err)
{
	switch (err) {
	case TARGET_E_EXITED: return "the command exited before it accepted connections";
	case TARGET_E_TIMEOUT: return "nothing accepted connections before the deadline";
	case TARGET_E_ADDR: return "want a numeric HOST:PORT (IPv6 as [ADDR]:PORT)";
	case TARGET_E_NETNS: return "no such network namespace (see 'ip netns list')";
	}
	return err < 0 ? strerror(-err) : "unknown error";
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- the program behind the command --- */

/* The first word that is not VAR=value or 'exec', resolved through PATH. */
static int resolve_program(const char *command, char *path, size_t n)
{
	const char *p = command;
	char word[1024];
	size_t len;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, " \t;&|<>()'\"");
		if (!len || len >= sizeof(word))
			return -ENOENT;
		memcpy(word, p, len);
		word[len] = 0;
		p += len;
		if (!strcmp(word, "exec") || (strchr(word, '=') && word[0] != '='))
			continue;
		break;
	}
	if (strchr(word, '/')) {
		snprintf(path, n, "%s", word);
		return access(path, X_OK) == 0 ? 0 : -errno;
	} else {
		const char *env = getenv("PATH"), *dir;
		char buf[4096];
		char *save = NULL;

		snprintf(buf, sizeof(buf), "%s", env ? env : "/usr/local/bin:/usr/bin:/bin");
		for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
			snprintf(path, n, "%s/%s", *dir ? dir : ".", word);
			if (access(path, X_OK) == 0)
				return 0;
		}
	}
	return -ENOENT;
}

int target_is_static(const char *command, char *path, size_t pathlen)
{
	unsigned char id[EI_NIDENT];
	int fd, rc, i, interp = 0;

	if ((rc = resolve_program(command, path, pathlen)) < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = 0;
	if (pread(fd, id, sizeof(id), 0) != (ssize_t)sizeof(id) || memcmp(id, ELFMAG, SELFMAG))
		goto out;	/* not ELF: a script, its interpreter decides */
	if (id[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;

		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
			goto out;
		for (i = 0; i < eh.e_phnum; i++) {
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
			    (ssize_t)sizeof(ph))
				goto out;
			interp |= ph.p_type == PT_INTERP;
		}
	} else if (id[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;
		Elf32_Phdr ph;

		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
			goto out;
		for (i = 0; i < eh.e_phnum; i++) {
			if (pread(fd, &ph, sizeof(ph), (off_t)eh.e_phoff + (off_t)i * eh.e_phentsize) !=
			    (ssize_t)sizeof(ph))
				goto out;
			interp |= ph.p_type == PT_INTERP;
		}
	} else {
		goto out;
	}
	rc = !interp;
out:
	close(fd);
	return rc;
}

int target_find_preload(char *path, size_t n)
{
	const char *env = getenv("PKTMEM_PRELOAD");
	char exe[4096];
	ssize_t len;
	char *slash;

	if (env && *env) {
		snprintf(path, n, "%s", env);
		return access(path, R_OK) == 0 ? 0 : -ENOENT;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return -ENOENT;
	exe[len] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	snprintf(path, n, "%s/libpktmem-alloc.so", exe);
	return access(path, R_OK) == 0 ? 0 : -ENOENT;
}

/* --- setup --- */

int target_new(struct target **out, const struct target_cfg *cfg)
{
	struct target *t = calloc(1, sizeof(*t));
	char prog[4096];
	int rc = 0;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	t->alloc_fd = -1;
	t->command = cfg->command ? strdup(cfg->command) : NULL;
	t->preload = cfg->preload ? strdup(cfg->preload) : NULL;
	t->host = cfg->host ? strdup(cfg->host) : NULL;
	t->cfg.command = t->command;
	t->cfg.preload = t->preload;
	t->cfg.host = t->host;
	t->sh = mmap(NULL, sizeof(*t->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->sh == MAP_FAILED) {
		t->sh = NULL;
		rc = -errno;
		goto fail;
	}
	if ((cfg->command && !t->command) || (cfg->preload && !t->preload) || (cfg->host && !t->host)) {
		rc = -ENOMEM;
		goto fail;
	}
	if (!t->command) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "--target: a server pktmem did not start "
			 "cannot be given the interposer (use --exec)");
	} else if (target_is_static(t->command, prog, sizeof(prog)) == 1) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "'%.200s' is statically linked (no PT_INTERP): "
			 "LD_PRELOAD cannot interpose its allocator", prog);
	} else if (!t->preload) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "%s",
			 cfg->alloc_why ? cfg->alloc_why : "no interposer");
	} else {
		/* the block: a memfd the command inherits (no CLOEXEC) */
		t->alloc_fd = memfd_create("pktmem-alloc", 0);
		if (t->alloc_fd < 0 || ftruncate(t->alloc_fd, sizeof(*t->ab)) < 0) {
			rc = -errno;
			goto fail;
		}
		t->ab = mmap(NULL, sizeof(*t->ab), PROT_READ | PROT_WRITE, MAP_SHARED, t->alloc_fd, 0);
		if (t->ab == MAP_FAILED) {
			t->ab = NULL;
			rc = -errno;
			goto fail;
		}
		t->ab->version = PKTMEM_ALLOC_VERSION;
		t->ab->size = sizeof(*t->ab);
		__atomic_store_n(&t->ab->magic, PKTMEM_ALLOC_MAGIC, __ATOMIC_RELEASE);
	}
	*out = t;
	return 0;
fail:
	target_free(t);
	return rc;
}

void target_free(struct target *t)
{
	if (!t)
		return;
	if (t->ab)
		munmap(t->ab, sizeof(*t->ab));
	if (t->alloc_fd >= 0)
		close(t->alloc_fd);
	if (t->sh)
		munmap(t->sh, sizeof(*t->sh));
	free(t->command);
	free(t->preload);
	free(t->host);
	free(t);
}

const char *target_error(const struct target *t)
{
	return t && t->sh ? t->sh->err : "";
}

int target_parse_hostport(const char *s, struct sockaddr_storage *sa, socklen_t *len,
			  char *host, size_t hostlen, uint16_t *port)
{
	char h[INET6_ADDRSTRLEN + 2];
	const char *colon, *hs = s;
	size_t hl;
	char *end;
	unsigned long p;

	memset(sa, 0, sizeof(*sa));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return TARGET_E_ADDR;
		hs = s + 1;
		hl = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return TARGET_E_ADDR;
		hl = (size_t)(colon - s);
	}
	if (!hl || hl >= sizeof(h))
		return TARGET_E_ADDR;
	memcpy(h, hs, hl);
	h[hl] = 0;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p < 1 || p > 65535)
		return TARGET_E_ADDR;
	if (inet_pton(AF_INET, h, &((struct sockaddr_in *)sa)->sin_addr) == 1) {
		((struct sockaddr_in *)sa)->sin_family = AF_INET;
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)p);
		*len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, h, &((struct sockaddr_in6 *)sa)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)sa)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)p);
		*len = sizeof(struct sockaddr_in6);
	} else {
		return TARGET_E_ADDR;
	}
	if (host)
		snprintf(host, hostlen, "%s", h);
	if (port)
		*port = (uint16_t)p;
	return 0;
}

int target_enter_netns(const char *name)
{
	char path[512];
	int fd, rc = 0;

	if (!*name || strchr(name, '/'))
		return TARGET_E_NETNS;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? TARGET_E_NETNS : -errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* --- response streams --- */

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

struct capture {
	int fd;
	uint16_t port;
	struct target_shared *sh;
	volatile int quit;
	struct rconn **tab;
	uint32_t cap, n;
	pthread_t thr;
	bool running;
};

static void head_done(struct capture *c, struct rconn *r)
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
static void on_line(struct capture *c, struct rconn *r)
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

static void feed(struct capture *c, struct rconn *r, const uint8_t *p, size_t n)
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

static struct rconn *conn_get(struct capture *c, uint64_t key, bool create)
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
static void on_packet(struct capture *c, const uint8_t *p, size_t n)
{
	const uint8_t *tcp, *dst;
	size_t iphl, ipl, thl, plen;
	int family;
	uint32_t seq, d;
	uint8_t flags;
	struct rconn *r;

	if (n < 20)
		return;
	if ((p[0] >> 4) == 4) {
		iphl = (size_t)(p[0] & 15) * 4;
		ipl = (size_t)p[2] << 8 | p[3];
		if (p[9] != IPPROTO_TCP || iphl < 20)
			return;
		family = AF_INET;
		dst = p + 16;
	} else if ((p[0] >> 4) == 6 && n >= 40) {
		iphl = 40;
		ipl = 40 + ((size_t)p[4] << 8 | p[5]);
		if (p[6] != IPPROTO_TCP)
			return;	/* extension headers: the replay never makes them */
		family = AF_INET6;
		dst = p + 24;
	} else {
		return;
	}
	/* a GSO packet on the transmit side may carry IP length 0 (IPv4 TSO
	 * over 64 KiB never happens here, but be safe): trust what arrived */
	if (ipl < iphl || ipl > n)
		ipl = n;
	if (ipl < iphl + 20)
		return;
	tcp = p + iphl;
	if (((uint16_t)tcp[0] << 8 | tcp[1]) != c->port)
		return;
	thl = (size_t)(tcp[12] >> 4) * 4;
	if (thl < 20 || iphl + thl > ipl)
		return;
	seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
	flags = tcp[13];
	plen = ipl - iphl - thl;
	r = conn_get(c, plan_peer_key(family, dst, (uint16_t)tcp[2] << 8 | tcp[3]), (flags & 0x02) != 0);
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
	feed(c, r, tcp + thl + d, plen - d);
	__atomic_fetch_add(&c->sh->response_bytes, plen - d, __ATOMIC_RELAXED);
	r->next += (uint32_t)(plen - d);
}

static void *capture_main(void *arg)
{
	struct capture *c = arg;
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
static int capture_start(struct capture *c, const char *dev, uint16_t port, char *why, size_t wn)
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
	if ((rc = pthread_create(&c->thr, NULL, capture_main, c)) != 0) {
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

static void capture_stop(struct capture *c)
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

/* --- the command --- */

static pid_t spawn(const struct target *t)
{
	pid_t parent = getpid(), pid = fork();
	char fdnum[16];
	const char *old;
	char *pre;
	int null;

	if (pid != 0)
		return pid;
	/* own process group, so stragglers (workers) can be found by it */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	/* the engine's child ignores SIGINT and has handlers: an ignored
	 * signal stays ignored across exec, so restore the defaults */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	{
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
	}
	null = open("/dev/null", O_RDONLY);
	if (null >= 0) {
		dup2(null, 0);
		close(null);
	}
	/* pktmem's stdout is its summary: the command's output goes to stderr */
	dup2(2, 1);
	if (t->ab) {
		snprintf(fdnum, sizeof(fdnum), "%d", t->alloc_fd);
		setenv(PKTMEM_ALLOC_ENV_FD, fdnum, 1);
		old = getenv("LD_PRELOAD");
		if (old && *old && asprintf(&pre, "%s:%s", t->preload, old) > 0)
			setenv("LD_PRELOAD", pre, 1);
		else
			setenv("LD_PRELOAD", t->preload, 1);
	}
	execl("/bin/sh", "sh", "-c", t->command, (char *)NULL);
	_exit(127);
}

static void describe_exit(char *out, size_t n, int status)
{
	if (WIFEXITED(status))
		snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, n, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, n, "stopped");
}

/* SIGTERM, up to 1.5 s, then SIGKILL to its whole process group (nginx's
 * workers, a shell's children); reaped. */
static void stop_command(pid_t pid)
{
	siginfo_t si;
	int i, status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 150; i++) {
		memset(&si, 0, sizeof(si));
		/* WNOWAIT: keep the zombie, so its pid (the group's id) cannot
		 * be reused before the group is killed */
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			break;
		usleep(10000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* pid and its descendants (breadth first, through
 * /proc/PID/task/TID/children), at most max. */
static int descendants(pid_t pid, pid_t *out, int max)
{
	int n = 0, i;

	if (pid <= 0 || max < 1)
		return 0;
	out[n++] = pid;
	for (i = 0; i < n && n < max; i++) {
		char path[320], buf[1024];
		struct dirent *de;
		DIR *d;

		snprintf(path, sizeof(path), "/proc/%d/task", (int)out[i]);
		d = opendir(path);
		if (!d)
			continue;
		while ((de = readdir(d)) && n < max) {
			char *p, *end;
			ssize_t len;
			int fd;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)out[i], de->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			len = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (len <= 0)
				continue;
			buf[len] = 0;
			for (p = buf; n < max; p = end) {
				long c = strtol(p, &end, 10);

				if (end == p)
					break;
				out[n++] = (pid_t)c;
			}
		}
		closedir(d);
	}
	return n;
}

/* The processes holding a listening TCP socket on port (--target: pktmem
 * did not start the server, so its pids come from the socket): the
 * socket inodes from /proc/net/tcp and tcp6 (this network namespace's),
 * then every /proc/PID/fd link "socket:[INODE]".  At most max pids; 0 and
 * why filled when there is none to see. */
static int listener_pids(uint16_t port, pid_t *out, int max, char *why, size_t wn)
{
	static const char *const tabs[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	unsigned long inode[16];
	int ninode = 0, n = 0, i, k;
	char line[512], path[300], link[64];
	struct dirent *de, *fe;
	DIR *d, *fd;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(tabs[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f) && ninode < 16) {
			unsigned lport, st;
			unsigned long ino;

			/* "sl local rem st tx:rx tr:when retrnsmt uid timeout inode" */
			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
				   &lport, &st, &ino) == 3 && lport == port && st == 0x0A && ino)
				inode[ninode++] = ino;
		}
		fclose(f);
	}
	if (!ninode) {
		snprintf(why, wn, "no listening socket on port %u in this network namespace's "
			 "/proc/net/tcp{,6}: the server's processes cannot be found", port);
		return 0;
	}
	d = opendir("/proc");
	if (!d) {
		snprintf(why, wn, "opendir /proc: %s", strerror(errno));
		return 0;
	}
	while ((de = readdir(d)) && n < max) {
		bool hit = false;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || atoi(de->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/fd", de->d_name);
		fd = opendir(path);
		if (!fd)
			continue;
		while (!hit && (fe = readdir(fd))) {
			ssize_t len;
			unsigned long ino;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%.20s/fd/%.20s", de->d_name, fe->d_name);
			len = readlink(path, link, sizeof(link) - 1);
			if (len <= 8)
				continue;
			link[len] = 0;
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			for (k = 0; k < ninode && !hit; k++)
				hit = inode[k] == ino;
		}
		closedir(fd);
		if (hit)
			out[n++] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	if (!n)
		snprintf(why, wn, "no process in this pid namespace holds port %u's listening socket "
			 "(a server in another pid namespace?)", port);
	return n;
}

/* connect() to addr within ms; 0 when it accepted. */
static int probe(const struct sockaddr *sa, socklen_t len, int ms)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), rc = -1, e = 0;
	socklen_t el = sizeof(e);
	struct pollfd pfd;

	if (fd < 0)
		return -errno;
	if (connect(fd, sa, len) == 0) {
		rc = 0;
	} else if (errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && !e)
			rc = 0;
	}
	close(fd);
	return rc;
}

int target_run(void *arg, struct stats_block *st, const char *listen,
	       volatile sig_atomic_t *stop)
{
	struct target *t = arg;
	struct target_shared *sh = t->sh;
	struct capture cap;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	bool socket_path = listen && !strncmp(listen, "127.0.0.1", 9);
	uint32_t ready = t->cfg.ready_ms ? t->cfg.ready_ms : 10000;
	uint64_t deadline = now_ms() + ready;
	char what[128];
	pid_t pid = 0;
	int status, rc = 0;

	memset(&cap, 0, sizeof(cap));
	cap.fd = -1;
	cap.sh = sh;
	/* where the peer will connect: the namespace's server address on the
	 * packet path, loopback on the socket path, HOST with --target */
	if (t->host) {
		char hp[INET6_ADDRSTRLEN + 16];

		snprintf(hp, sizeof(hp), strchr(t->host, ':') ? "[%s]:%u" : "%s:%u", t->host, t->cfg.port);
		target_parse_hostport(hp, &ss, &sl, NULL, 0, NULL);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		memset(&ss, 0, sizeof(ss));
		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->cfg.port);
		inet_pton(AF_INET, socket_path ? "127.0.0.1" : NETNS_SERVER_IP4, &sin->sin_addr);
		sl = sizeof(*sin);
	}
	if (t->command) {
		pid = spawn(t);
		if (pid < 0) {
			snprintf(sh->err, sizeof(sh->err), "fork: %s", strerror(errno));
			return -errno;
		}
		sh->pid = pid;
	}
	for (;;) {
		if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
			describe_exit(what, sizeof(what), status);
			snprintf(sh->err, sizeof(sh->err), "'%s' %s before it accepted connections on port %u",
				 t->command, what, t->cfg.port);
			sh->exit_status = status;
			pid = 0;
			rc = TARGET_E_EXITED;
			goto out;
		}
		if (probe((struct sockaddr *)&ss, sl, 200) == 0)
			break;
		if (*stop || now_ms() >= deadline) {
			if (t->command)
				snprintf(sh->err, sizeof(sh->err), "'%s' did not accept connections on port %u "
					 "within %.1f s", t->command, t->cfg.port, ready / 1000.0);
			else
				snprintf(sh->err, sizeof(sh->err), "nothing accepts connections on %s:%u "
					 "(waited %.1f s)", t->host ? t->host : "127.0.0.1", t->cfg.port,
					 ready / 1000.0);
			rc = TARGET_E_TIMEOUT;
			goto out;
		}
		usleep(20000);
	}
	if (t->cfg.on_listening && !t->command) {
		/* --target: whoever holds the listening socket */
		pid_t lp[8];
		char why[256] = "";
		int nl = listener_pids(t->cfg.port, lp, 8, why, sizeof(why));

		t->cfg.on_listening(t->cfg.hook_arg, lp, nl, why);
	} else if (t->cfg.on_listening) {
		pid_t kids[8];
		int nk = descendants(pid, kids, 8), same = 0, i;

		/* a server may listen before it forks its workers (nginx's
		 * master does): wait until the process tree has stayed the
		 * same for 100 ms (at most 1 s) */
		for (i = 0; i < 50 && same < 5; i++) {
			pid_t again[8];
			int na;

			usleep(20000);
			na = descendants(pid, again, 8);
			same = na == nk && !memcmp(again, kids, sizeof(kids[0]) * (size_t)na) ? same + 1 : 0;
			memcpy(kids, again, sizeof(kids));
			nk = na;
		}

		t->cfg.on_listening(t->cfg.hook_arg, kids, nk, NULL);
	}
	/* the allocation window opens */
	if (t->ab)
		memcpy(&sh->a0, (const void *)&t->ab->c, sizeof(sh->a0));
	if (capture_start(&cap, socket_path || t->host ? NULL : NETNS_SERVER_DEV, t->cfg.port,
			  sh->capture_why, sizeof(sh->capture_why)) < 0)
		sh->capture_failed = 1;
	st->server_pid = pid;
	st->port = t->cfg.port;
	sh->started = 1;
	__atomic_store_n(&st->ready, 1, __ATOMIC_RELEASE);

	while (!*stop) {
		if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
			describe_exit(what, sizeof(what), status);
			snprintf(sh->err, sizeof(sh->err), "'%s' %s during the replay", t->command, what);
			sh->exit_status = status;
			sh->exited_early = 1;
			pid = 0;
		}
		usleep(10000);
	}
out:
	if (t->ab && sh->started) {
		memcpy(&sh->a1, (const void *)&t->ab->c, sizeof(sh->a1));
		sh->window_closed = 1;
	}
	capture_stop(&cap);
	if (sh->started) {
		uint32_t k;

		for (k = 0; k < 6; k++)
			st->status[k] = sh->status[k];
		if (t->cfg.on_done)
			t->cfg.on_done(t->cfg.hook_arg, st);
	}
	stop_command(pid);
	return rc;
}

void target_report(struct target *t, uint64_t requests, struct target_report *o)
{
	const struct target_shared *sh = t->sh;
	struct pktmem_alloc_counts d;

	memset(o, 0, sizeof(*o));
	o->pid = sh->pid;
	o->exited_early = sh->exited_early;
	o->exit_status = sh->exit_status;
	memcpy(o->status, sh->status, sizeof(o->status));
	o->responses = sh->responses;
	o->response_bytes = sh->response_bytes;
	o->parse_errors = sh->parse_errors;
	o->stream_gaps = sh->stream_gaps;
	o->capture_drops = sh->capture_drops;
	if (sh->capture_failed)
		o->capture_why = sh->capture_why;
	o->alloc_inits = t->ab ? __atomic_load_n(&t->ab->inits, __ATOMIC_RELAXED) : 0;
	if (!t->ab) {
		o->alloc_why = t->alloc_why;
		return;
	}
	if (!sh->window_closed) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "the server never accepted connections");
		o->alloc_why = t->alloc_why;
		return;
	}
	if (!o->alloc_inits) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "the interposer never started in the command's "
			 "processes (environment cleared, a setuid program, or not dynamically linked)");
		o->alloc_why = t->alloc_why;
		return;
	}
	d.malloc_calls = sh->a1.malloc_calls - sh->a0.malloc_calls;
	d.calloc_calls = sh->a1.calloc_calls - sh->a0.calloc_calls;
	d.realloc_calls = sh->a1.realloc_calls - sh->a0.realloc_calls;
	d.memalign_calls = sh->a1.memalign_calls - sh->a0.memalign_calls;
	d.free_calls = sh->a1.free_calls - sh->a0.free_calls;
	d.bytes = sh->a1.bytes - sh->a0.bytes;
	o->mallocs = d.malloc_calls;
	o->callocs = d.calloc_calls;
	o->reallocs = d.realloc_calls;
	o->memaligns = d.memalign_calls;
	o->frees = d.free_calls;
	o->allocs = d.malloc_calls + d.calloc_calls + d.realloc_calls + d.memalign_calls;
	o->alloc_bytes = d.bytes;
	if (!o->allocs && !o->frees && requests) {
		snprintf(t->alloc_why, sizeof(t->alloc_why), "the interposer saw no malloc or free during "
			 "the replay: the server allocates without libc malloc (Go runtime, its own "
			 "allocator)");
		o->alloc_why = t->alloc_why;
		return;
	}
	o->alloc_available = true;
}
