/* ksym.c: /proc/kallsyms lookup and callchain classification (ksym.h). */
#include "profile/ksym.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ksym_ent {
	uint64_t addr;
	uint32_t name;		/* offset into pool */
	int8_t stage;		/* rule_stage() + 1, 0 = not yet known */
};

/* Recent callchain addresses and their entries: a sampled kernel repeats
 * the same few hundred return addresses, and the profiler's reader
 * thread classifies every sample of the machine during the run. */
#define ADDR_CACHE 4096
struct addr_slot {
	uint64_t addr;
	uint32_t idx;
};

struct ksym {
	struct ksym_ent *e;
	size_t n, cap;
	char *pool;
	size_t pool_len, pool_cap;
	struct addr_slot *cache;	/* ADDR_CACHE slots, filled by lookups */
};

static int cmp_ent(const void *a, const void *b)
{
	const struct ksym_ent *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int pool_add(struct ksym *k, const char *s, size_t n, uint32_t *off)
{
	if (k->pool_len + n + 1 > k->pool_cap) {
		size_t cap = k->pool_cap ? k->pool_cap * 2 : 1 << 20;
		char *p;

		while (cap < k->pool_len + n + 1)
			cap *= 2;
		p = realloc(k->pool, cap);
		if (!p)
			return -ENOMEM;
		k->pool = p;
		k->pool_cap = cap;
	}
	*off = (uint32_t)k->pool_len;
	memcpy(k->pool + k->pool_len, s, n);
	k->pool[k->pool_len + n] = 0;
	k->pool_len += n + 1;
	return 0;
}

int ksym_load(struct ksym **out, const char *path)
{
	char line[512], name[256], type;
	unsigned long long addr;
	struct ksym *k;
	bool nonzero = false;
	int rc = 0;
	FILE *f;

	*out = NULL;
	f = fopen(path ? path : "/proc/kallsyms", "re");
	if (!f)
		return -errno;
	k = calloc(1, sizeof(*k));
	if (!k) {
		fclose(f);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		/* Text symbols only: functions are what samples land in. */
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 65536;
			struct ksym_ent *e = realloc(k->e, cap * sizeof(*e));

			if (!e) {
				rc = -ENOMEM;
				goto fail;
			}
			k->e = e;
			k->cap = cap;
		}
		k->e[k->n].addr = addr;
		k->e[k->n].stage = 0;	/* realloc'd: not zeroed */
		if ((rc = pool_add(k, name, strlen(name), &k->e[k->n].name)) < 0)
			goto fail;
		k->n++;
		nonzero |= addr != 0;
	}
	fclose(f);
	f = NULL;
	if (!k->n || !nonzero) {
		/* kptr_restrict hides addresses from the unprivileged. */
		rc = k->n ? -EACCES : -ENOENT;
		goto fail;
	}
	qsort(k->e, k->n, sizeof(*k->e), cmp_ent);
	k->cache = calloc(ADDR_CACHE, sizeof(*k->cache));
	if (!k->cache) {
		rc = -ENOMEM;
		goto fail;
	}
	*out = k;
	return 0;
fail:
	if (f)
		fclose(f);
	ksym_free(k);
	return rc;
}

void ksym_free(struct ksym *k)
{
	if (!k)
		return;
	free(k->e);
	free(k->pool);
	free(k->cache);
	free(k);
}

size_t ksym_count(const struct ksym *k)
{
	return k ? k->n : 0;
}

/* The entry holding addr, or -1. */
static long lookup_idx(const struct ksym *k, uint64_t addr)
{
	size_t lo = 0, hi, mid;

	if (!k || !k->n || addr < k->e[0].addr)
		return -1;
	hi = k->n;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (k->e[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return (long)lo;
}

/* lookup_idx through the address cache (0 is no kernel address). */
static long cached_idx(const struct ksym *k, uint64_t addr)
{
	struct addr_slot *c;
	long i;

	if (!k || !k->cache || !addr)
		return lookup_idx(k, addr);
	c = &k->cache[(addr ^ (addr >> 12)) & (ADDR_CACHE - 1)];
	if (c->addr == addr)
		return c->idx;
	i = lookup_idx(k, addr);
	if (i >= 0) {
		c->addr = addr;
		c->idx = (uint32_t)i;
	}
	return i;
}

const char *ksym_lookup(const struct ksym *k, uint64_t addr, uint64_t *off)
{
	long i = lookup_idx(k, addr);

	if (i < 0)
		return NULL;
	if (off)
		*off = addr - k->e[i].addr;
	return k->pool + k->e[i].name;
}

static const char *const stage_names[KS__N] = {
	"irq", "softirq", "ip", "tcp", "copy", "parse", "alloc", "transmit",
	"other", "user", "unattributed",
};

const char *ksym_stage_name(enum ksym_stage s)
{
	return (unsigned)s < KS__N ? stage_names[s] : "?";
}

enum match { EXACT, PREFIX, SUFFIX };

/* The user-copy primitives also serve file reads, execve, getrandom...:
 * they are the copy stage only below a socket receive frame. */
#define KS_COPY_WEAK KS__N

/* First match wins, so the specific rules come before the broad prefixes
 * ("tcp_recvmsg" is the copy's syscall, not TCP's receive path).  Names
 * are from net/core/dev.c, net/ipv4/, lib/iov_iter.c, mm/slub.c (6.x). */
static const struct rule {
	const char *pat;
	enum match how;
	int stage;		/* enum ksym_stage or KS_COPY_WEAK */
} rules[] = {
	/* copy: a socket read down to copy_to_user */
	{ "_copy_to_iter", EXACT, KS_COPY_WEAK },
	{ "__check_object_size", EXACT, KS_COPY_WEAK },
	{ "check_heap_object", EXACT, KS_COPY_WEAK },
	{ "__virt_addr_valid", EXACT, KS_COPY_WEAK },
	{ "skb_copy_datagram_iter", EXACT, KS_COPY },
	{ "__skb_datagram_iter", EXACT, KS_COPY },
	{ "simple_copy_to_iter", EXACT, KS_COPY },
	{ "copy_user_generic", PREFIX, KS_COPY_WEAK },
	{ "rep_movs_alternative", EXACT, KS_COPY_WEAK },
	{ "_copy_to_user", EXACT, KS_COPY_WEAK },
	{ "tcp_recvmsg", PREFIX, KS_COPY },
	{ "inet_recvmsg", EXACT, KS_COPY },
	{ "inet6_recvmsg", EXACT, KS_COPY },
	{ "sock_recvmsg", EXACT, KS_COPY },
	{ "sock_read_iter", EXACT, KS_COPY },
	{ "____sys_recvmsg", EXACT, KS_COPY },
	{ "___sys_recvmsg", EXACT, KS_COPY },
	{ "__sys_recvfrom", EXACT, KS_COPY },
	{ "__x64_sys_recvfrom", EXACT, KS_COPY },
	{ "__x64_sys_recvmsg", EXACT, KS_COPY },
	/* alloc: the slab and page allocators, skb heads */
	{ "_noprof", SUFFIX, KS_ALLOC },
	{ "kmalloc", PREFIX, KS_ALLOC },
	{ "__kmalloc", PREFIX, KS_ALLOC },
	{ "kmem_cache_alloc", PREFIX, KS_ALLOC },
	{ "kmem_cache_free", EXACT, KS_ALLOC },
	{ "kfree", EXACT, KS_ALLOC },
	{ "__slab_alloc", PREFIX, KS_ALLOC },
	{ "___slab_alloc", EXACT, KS_ALLOC },
	{ "__slab_free", EXACT, KS_ALLOC },
	{ "slab_free", PREFIX, KS_ALLOC },
	{ "__alloc_skb", EXACT, KS_ALLOC },
	{ "kmalloc_reserve", EXACT, KS_ALLOC },
	{ "__alloc_pages", PREFIX, KS_ALLOC },
	{ "get_page_from_freelist", EXACT, KS_ALLOC },
	{ "skb_page_frag_refill", EXACT, KS_ALLOC },
	{ "page_frag_alloc", PREFIX, KS_ALLOC },
	{ "skb_release_data", EXACT, KS_ALLOC },
	{ "skb_free_head", EXACT, KS_ALLOC },
	{ "__kfree_skb", EXACT, KS_ALLOC },
	{ "kfree_skb", PREFIX, KS_ALLOC },
	{ "sk_skb_reason_drop", EXACT, KS_ALLOC },
	{ "consume_skb", EXACT, KS_ALLOC },
	{ "__consume_stateless_skb", EXACT, KS_ALLOC },
	/* transmit: handing frames to the device, and the device's hand-off */
	{ "veth_xmit", EXACT, KS_TRANSMIT },
	{ "dev_hard_start_xmit", EXACT, KS_TRANSMIT },
	{ "__dev_queue_xmit", EXACT, KS_TRANSMIT },
	{ "dev_queue_xmit", PREFIX, KS_TRANSMIT },
	{ "__dev_xmit_skb", EXACT, KS_TRANSMIT },
	{ "sch_direct_xmit", EXACT, KS_TRANSMIT },
	{ "validate_xmit_skb", PREFIX, KS_TRANSMIT },
	{ "packet_sendmsg", EXACT, KS_TRANSMIT },
	{ "packet_snd", EXACT, KS_TRANSMIT },
	{ "tpacket_snd", EXACT, KS_TRANSMIT },
	{ "__netif_rx", EXACT, KS_TRANSMIT },
	{ "netif_rx", PREFIX, KS_TRANSMIT },
	{ "enqueue_to_backlog", EXACT, KS_TRANSMIT },
	{ "neigh_resolve_output", EXACT, KS_TRANSMIT },
	{ "neigh_hh_output", EXACT, KS_TRANSMIT },
	{ "tcp_sendmsg", PREFIX, KS_TRANSMIT },	/* the sender's half of TCP */
	/* softirq: NET_RX and the receive core */
	{ "net_rx_action", EXACT, KS_SOFTIRQ },
	{ "__napi_poll", EXACT, KS_SOFTIRQ },
	{ "napi_poll", EXACT, KS_SOFTIRQ },
	{ "process_backlog", EXACT, KS_SOFTIRQ },
	{ "__netif_receive_skb", PREFIX, KS_SOFTIRQ },
	{ "netif_receive_skb", PREFIX, KS_SOFTIRQ },
	{ "napi_gro_", PREFIX, KS_SOFTIRQ },
	{ "gro_normal_", PREFIX, KS_SOFTIRQ },
	{ "veth_poll", EXACT, KS_SOFTIRQ },
	/* irq: hardware interrupt entry */
	{ "common_interrupt", EXACT, KS_IRQ },
	{ "asm_common_interrupt", EXACT, KS_IRQ },
	{ "handle_irq_event", PREFIX, KS_IRQ },
	{ "__handle_irq_event_percpu", EXACT, KS_IRQ },
	{ "handle_edge_irq", EXACT, KS_IRQ },
	{ "handle_fasteoi_irq", EXACT, KS_IRQ },
	{ "vring_interrupt", EXACT, KS_IRQ },
	{ "vp_interrupt", EXACT, KS_IRQ },
	/* tcp and ip: the protocol layers */
	{ "tcp_", PREFIX, KS_TCP },
	{ "__tcp_", PREFIX, KS_TCP },
	{ "tcp4_", PREFIX, KS_TCP },
	{ "tcp6_", PREFIX, KS_TCP },
	{ "inet_csk_", PREFIX, KS_TCP },
	{ "__inet_lookup", PREFIX, KS_TCP },
	{ "sk_filter", PREFIX, KS_TCP },
	{ "sock_def_readable", EXACT, KS_TCP },
	{ "ip_", PREFIX, KS_IP },
	{ "__ip_", PREFIX, KS_IP },
	{ "ip6_", PREFIX, KS_IP },
	{ "ipv6_", PREFIX, KS_IP },
	{ "nf_hook", PREFIX, KS_IP },
	{ "fib_", PREFIX, KS_IP },
	{ "raw_local_deliver", EXACT, KS_IP },
};

/* Compares name up to its first '.' (".constprop.0", ".isra.0", ".cold"). */
static bool rule_match(const struct rule *r, const char *name, size_t n)
{
	size_t pl = strlen(r->pat);

	switch (r->how) {
	case EXACT: return n == pl && !memcmp(name, r->pat, n);
	case PREFIX: return n >= pl && !memcmp(name, r->pat, pl);
	case SUFFIX: return n >= pl && !memcmp(name + n - pl, r->pat, pl);
	}
	return false;
}

static size_t base_len(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot ? (size_t)(dot - name) : strlen(name);
}

static int rule_stage(const char *name)
{
	size_t i, n;

	if (!name)
		return KS_OTHER;
	n = base_len(name);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rule_match(&rules[i], name, n))
			return rules[i].stage;
	return KS_OTHER;
}

enum ksym_stage ksym_stage_of(const char *name)
{
	int s = rule_stage(name);

	return s == KS_COPY_WEAK ? KS_COPY : (enum ksym_stage)s;
}

int ksym_is_irq_enable(const char *name)
{
	size_t n;

	if (!name)
		return 0;
	n = base_len(name);
	return (n >= 11 && !memcmp(name + n - 11, "_irq_enable", 11)) ||
	       !strncmp(name, "_raw_spin_unlock_irq", 20) ||
	       !strncmp(name, "__raw_callee_save_", 18);
}

/* stages[i]: rule_stage(names[i]) when known, else NULL (computed here). */
static enum ksym_stage classify(const char *const *names, const int *stages, size_t n)
{
	size_t i = 0;
	bool skipped = false;
	enum ksym_stage s;

	while (i < n && ksym_is_irq_enable(names[i])) {
		i++;
		skipped = true;
	}
	for (; i < n; i++) {
		int r = stages ? stages[i] : rule_stage(names[i]);
		size_t j;

		if (r == KS_COPY_WEAK) {
			for (j = i + 1; j < n; j++)
				if ((stages ? stages[j] : rule_stage(names[j])) == KS_COPY)
					return KS_COPY;
			continue;
		}
		s = (enum ksym_stage)r;
		if (s != KS_OTHER)
			return s;
	}
	return skipped ? KS_UNATTRIBUTED : KS_OTHER;
}

enum ksym_stage ksym_classify_names(const char *const *names, size_t n)
{
	return classify(names, NULL, n);
}

#define IS_MARKER(ip) ((ip) >= (uint64_t)-4095)

/* Kernel frames of a perf callchain (leaf first), resolved to names and,
 * when stages is given, their rule_stage() (kept per symbol: the rules
 * are matched once per symbol, not once per sample). */
static size_t kernel_frames(const struct ksym *k, const uint64_t *ips, size_t n,
			    const char **names, int *stages, size_t max, bool *user_leaf)
{
	bool kernel = true;	/* chains without markers start in the kernel */
	size_t i, m = 0;

	*user_leaf = false;
	for (i = 0; i < n; i++) {
		if (IS_MARKER(ips[i])) {
			kernel = ips[i] == PERF_CONTEXT_KERNEL;
			if (!kernel && m == 0)
				*user_leaf = true;
			continue;
		}
		if (!kernel)
			break;
		if (m < max) {
			long x = cached_idx(k, ips[i]);

			if (x < 0) {
				names[m] = "[unknown]";
				if (stages)
					stages[m] = KS_OTHER;
			} else {
				struct ksym_ent *e = &k->e[x];

				names[m] = k->pool + e->name;
				if (stages) {
					if (!e->stage)
						e->stage = (int8_t)(rule_stage(names[m]) + 1);
					stages[m] = e->stage - 1;
				}
			}
			m++;
		}
	}
	return m;
}

enum ksym_stage ksym_classify(const struct ksym *k, const uint64_t *ips, size_t n)
{
	const char *names[128];
	int stages[128];
	bool user_leaf;
	size_t m = kernel_frames(k, ips, n, names, stages, 128, &user_leaf);

	if (m == 0)
		return user_leaf || n == 0 ? KS_USER : KS_OTHER;
	return classify(names, stages, m);
}

/* ---- folded stacks ---------------------------------------------------- */

struct folded_ent {
	char *key;
	uint64_t count;
};

struct ksym_folded {
	struct folded_ent *t;
	size_t cap, n;
};

struct ksym_folded *ksym_folded_new(void)
{
	struct ksym_folded *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->cap = 1024;
	f->t = calloc(f->cap, sizeof(*f->t));
	if (!f->t) {
		free(f);
		return NULL;
	}
	return f;
}

void ksym_folded_free(struct ksym_folded *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->cap; i++)
		free(f->t[i].key);
	free(f->t);
	free(f);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int folded_grow(struct ksym_folded *f)
{
	struct folded_ent *old = f->t;
	size_t oldcap = f->cap, i, j;

	f->t = calloc(oldcap * 2, sizeof(*f->t));
	if (!f->t) {
		f->t = old;
		return -ENOMEM;
	}
	f->cap = oldcap * 2;
	for (i = 0; i < oldcap; i++) {
		if (!old[i].key)
			continue;
		j = hash_str(old[i].key) & (f->cap - 1);
		while (f->t[j].key)
			j = (j + 1) & (f->cap - 1);
		f->t[j] = old[i];
	}
	free(old);
	return 0;
}

int ksym_folded_add(struct ksym_folded *f, const struct ksym *k, const char *comm,
		    const uint64_t *ips, size_t n)
{
	return ksym_folded_add_user(f, k, comm, NULL, ips, n, 1);
}

int ksym_folded_add_user(struct ksym_folded *f, const struct ksym *k, const char *comm,
			 const char *user, const uint64_t *ips, size_t n, uint64_t count)
{
	const char *names[128];
	char key[8192];
	size_t m, len, i, j;
	bool user_leaf, has_user = false;
	int w;

	m = kernel_frames(k, ips, n, names, NULL, 128, &user_leaf);
	for (i = 0; i < n; i++)
		if (ips[i] == PERF_CONTEXT_USER)
			has_user = true;
	/* Root first: the task, then user space (its frames from the
	 * outermost, or "[user]" when not symbolized), then the kernel
	 * frames from the outermost to the leaf. */
	w = snprintf(key, sizeof(key), "%s%s%s", comm && *comm ? comm : "[unknown]",
		     has_user || user_leaf ? ";" : "",
		     has_user || user_leaf ? (user && *user ? user : "[user]") : "");
	len = w > 0 ? (size_t)w : 0;
	if (len >= sizeof(key))
		len = sizeof(key) - 1;
	for (i = m; i-- > 0 && len < sizeof(key) - 1;) {
		w = snprintf(key + len, sizeof(key) - len, ";%s", names[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	if (len >= sizeof(key))
		key[sizeof(key) - 1] = 0;
	/* Folded format: ';' separates frames, ' ' the count. */
	for (i = 0; key[i]; i++)
		if (key[i] == ' ')
			key[i] = '_';
	if (f->n * 2 >= f->cap && folded_grow(f) < 0)
		return -ENOMEM;
	j = hash_str(key) & (f->cap - 1);
	while (f->t[j].key && strcmp(f->t[j].key, key))
		j = (j + 1) & (f->cap - 1);
	if (!f->t[j].key) {
		f->t[j].key = strdup(key);
		if (!f->t[j].key)
			return -ENOMEM;
		f->n++;
	}
	f->t[j].count += count;
	return 0;
}

static int cmp_folded(const void *a, const void *b)
{
	const struct folded_ent *x = a, *y = b;

	return strcmp(x->key, y->key);
}

int ksym_folded_write(const struct ksym_folded *f, FILE *out)
{
	struct folded_ent *v;
	size_t i, m = 0;

	v = malloc((f->n ? f->n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < f->cap; i++)
		if (f->t[i].key)
			v[m++] = f->t[i];
	/* Sorted, so equal runs give byte-identical files. */
	qsort(v, m, sizeof(*v), cmp_folded);
	for (i = 0; i < m; i++)
		fprintf(out, "%s %llu\n", v[i].key, (unsigned long long)v[i].count);
	free(v);
	return ferror(out) ? -EIO : 0;
}

size_t ksym_folded_count(const struct ksym_folded *f)
{
	return f ? f->n : 0;
}
