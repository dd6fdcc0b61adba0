/*
 * deser-bench: `tree` (jansson through the counting allocator) vs `arena`
 * (pktmem's parser into a per-request arena) on realistic API bodies, plus
 * jansson with its default malloc as the peer without pktmem's hooks.
 *
 * Bodies are generated deterministically (seeded): a ~1 KB order POST and
 * a ~16 KB paginated user list, with escapes, non-ASCII text, integers,
 * reals, booleans and nulls in the proportions such APIs have.  Modes are
 * interleaved round by round; the figure is the median round.
 *
 *	deser-bench [-r ROUNDS] [-t MS_PER_ROUND]
 *	deser-bench -w PREFIX	writes the bodies to PREFIX-1k.json and
 *				PREFIX-16k.json (for wrk, curl) and exits
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/deser.h"

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16) % n;
}

struct buf {
	char p[1 << 16];
	size_t n;
};

static void add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	b->n += (size_t)vsnprintf(b->p + b->n, sizeof(b->p) - b->n, fmt, ap);
	va_end(ap);
}

static const char *first[] = { "Anna", "Björn", "Chloé", "Dmitri", "Émile", "Fatima", "Giulia",
			       "Hiroshi", "Ingrid", "José", "Kateřina", "Liam", "Mía", "Noah" };
static const char *last[] = { "Müller", "O'Brien", "García", "Nowak", "Rossi", "Smith", "Yılmaz",
			      "Dubois", "Kowalski", "Tanaka", "Andersson", "Silva" };
static const char *city[] = { "Berlin", "São Paulo", "Kraków", "Zürich", "Lyon", "Osaka", "Austin" };

static void gen_user(struct buf *b, unsigned id)
{
	const char *f = first[rnd(14)], *l = last[rnd(12)];

	add(b, "{\"id\":%u,\"uuid\":\"%08x-%04x-4%03x-a%03x-%08x%04x\",\"name\":\"%s %s\","
	    "\"email\":\"user%u@example.com\",\"active\":%s,\"score\":%u.%02u,"
	    "\"created_at\":\"2024-%02u-%02uT%02u:%02u:%02uZ\",\"roles\":[\"user\"%s],"
	    "\"address\":{\"street\":\"%u Main St\",\"city\":\"%s\",\"zip\":\"%05u\","
	    "\"geo\":{\"lat\":%d.%06u,\"lng\":%d.%06u}},"
	    "\"bio\":\"Likes \\\"quotes\\\" and\\nnew lines \\u2013 %u\","
	    "\"manager_id\":%s,\"logins\":%u}",
	    id, rnd(1u << 31), rnd(65536), rnd(4096), rnd(4096), rnd(1u << 31), rnd(65536), f, l,
	    id, rnd(4) ? "true" : "false", rnd(100), rnd(100), 1 + rnd(12), 1 + rnd(28),
	    rnd(24), rnd(60), rnd(60), rnd(3) ? "" : ",\"admin\"", 1 + rnd(999), city[rnd(7)],
	    rnd(100000), (int)rnd(180) - 90, rnd(1000000), (int)rnd(360) - 180, rnd(1000000),
	    rnd(1000), rnd(2) ? "null" : "17", rnd(5000));
}

/* ~1 KB: an order POST */
static void gen_order(struct buf *b)
{
	unsigned i;

	add(b, "{\"order_id\":\"ord_%08x%08x\",\"customer\":{\"id\":%u,\"name\":\"%s %s\","
	    "\"email\":\"c%u@example.org\",\"vip\":%s},\"currency\":\"EUR\",\"items\":[",
	    rnd(1u << 31), rnd(1u << 31), rnd(1000000), first[rnd(14)], last[rnd(12)],
	    rnd(100000), rnd(2) ? "true" : "false");
	for (i = 0; b->n < 700; i++)
		add(b, "%s{\"sku\":\"SKU-%05u\",\"title\":\"Item %u \\u00b7 size %c\",\"qty\":%u,"
		    "\"unit_price\":%u.%02u,\"discount\":%s}",
		    i ? "," : "", rnd(100000), rnd(1000), "SMLX"[rnd(4)], 1 + rnd(5), rnd(200),
		    rnd(100), rnd(3) ? "0.0" : "0.15");
	add(b, "],\"shipping\":{\"method\":\"express\",\"address\":{\"street\":\"%u Rue de l'Église\","
	    "\"city\":\"%s\",\"zip\":\"%05u\",\"country\":\"FR\"}},\"total\":%u.%02u,"
	    "\"paid\":true,\"coupon\":null,\"notes\":\"Leave at the door\\nring \\\"twice\\\"\","
	    "\"created_at\":\"2024-05-%02uT10:%02u:00+02:00\"}",
	    1 + rnd(200), city[rnd(7)], rnd(100000), rnd(2000), rnd(100), 1 + rnd(28), rnd(60));
}

/* ~16 KB: a page of users */
static void gen_page(struct buf *b)
{
	unsigned i = 0;

	add(b, "{\"data\":[");
	while (b->n < 15800) {
		if (i)
			add(b, ",");
		gen_user(b, 1000 + i++);
	}
	add(b, "],\"page\":3,\"per_page\":%u,\"total\":1234,\"next\":\"/v1/users?page=4&per_page=%u\"}",
	    i, i);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum { M_TREE, M_ARENA, M_JANSSON, M__N };
static const char *mname[M__N] = { "tree", "arena", "jansson" };

/* One round: as many documents as fit in `ms`; returns ns per document. */
static double round_ns(int m, struct deser *d, const char *body, size_t len, unsigned ms)
{
	struct deser_result r;
	uint64_t t0 = now_ns(), t, n = 0;

	if (m == M_JANSSON)
		json_set_alloc_funcs(malloc, free);
	do {
		for (int i = 0; i < 64; i++) {
			if (m == M_JANSSON) {
				json_t *j = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

				if (!j)
					abort();
				json_decref(j);
			} else {
				if (deser_parse(d, body, len, &r) < 0)
					abort();
				deser_reset(d);
			}
		}
		n += 64;
		t = now_ns();
	} while (t - t0 < ms * 1000000ull);
	if (m == M_JANSSON)
		json_set_alloc_funcs(alloc_malloc, alloc_free);
	return (double)(t - t0) / (double)n;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static struct buf bodies[2];
	const char *names[2] = { "1 KB order POST", "16 KB user page" };
	unsigned rounds = 15, ms = 100;
	const char *wprefix = NULL;
	struct deser *d[2];
	struct deser_opts o;
	int c, k, m;

	while ((c = getopt(argc, argv, "r:t:w:")) != -1) {
		if (c == 'w')
			wprefix = optarg;
		else if (c == 'r')
			rounds = (unsigned)atoi(optarg);
		else if (c == 't')
			ms = (unsigned)atoi(optarg);
		else
			return 2;
	}
	if (rounds < 1 || rounds > 1000)
		rounds = 15;
	gen_order(&bodies[0]);
	gen_page(&bodies[1]);
	if (wprefix) {
		for (k = 0; k < 2; k++) {
			char path[4096];
			FILE *f;

			snprintf(path, sizeof(path), "%s-%s.json", wprefix, k ? "16k" : "1k");
			f = fopen(path, "wb");
			if (!f || fwrite(bodies[k].p, 1, bodies[k].n, f) != bodies[k].n || fclose(f)) {
				perror(path);
				return 1;
			}
		}
		return 0;
	}
	deser_opts_default(&o);
	o.mode = DESER_TREE;
	deser_new(&d[M_TREE], &o);
	o.mode = DESER_ARENA;
	deser_new(&d[M_ARENA], &o);

	printf("deser-bench: %u rounds x %u ms, modes interleaved, median round\n", rounds, ms);
	printf("%-16s %-8s %7s %10s %8s %7s %7s %10s %8s %6s\n", "body", "mode", "bytes", "ns/doc",
	       "MB/s", "fields", "allocs", "bytes/doc", "peak", "heap");
	for (k = 0; k < 2; k++) {
		const char *body = bodies[k].p;
		size_t len = bodies[k].n;
		double t[M__N][1000], med[M__N];
		struct deser_result r[2];

		for (m = 0; m < 2; m++) {
			if (deser_parse(d[m], body, len, &r[m]) < 0) {
				fprintf(stderr, "deser-bench: %s rejects the %s body: %s at %zu\n",
					mname[m], names[k], r[m].reason, r[m].offset);
				return 1;
			}
			deser_reset(d[m]);
		}
		for (m = 0; m < M__N; m++)	/* warm-up */
			round_ns(m, m < 2 ? d[m] : NULL, body, len, ms / 2);
		for (unsigned i = 0; i < rounds; i++)
			for (m = 0; m < M__N; m++)
				t[m][i] = round_ns(m, m < 2 ? d[m] : NULL, body, len, ms);
		for (m = 0; m < M__N; m++) {
			qsort(t[m], rounds, sizeof(double), dcmp);
			med[m] = t[m][rounds / 2];
		}
		for (m = 0; m < M__N; m++) {
			if (m < 2)
				printf("%-16s %-8s %7zu %10.0f %8.1f %7llu %7llu %10llu %8llu %6llu\n", names[k],
				       mname[m], len, med[m], (double)len * 1e3 / med[m],
				       (unsigned long long)r[m].fields, (unsigned long long)r[m].allocs,
				       (unsigned long long)r[m].bytes, (unsigned long long)r[m].peak,
				       (unsigned long long)r[m].heap_allocs);
			else
				printf("%-16s %-8s %7zu %10.0f %8.1f %7s %7llu %10s %8s %6llu\n", names[k],
				       "jansson", len, med[m], (double)len * 1e3 / med[m], "-",
				       (unsigned long long)r[M_TREE].allocs, "(=tree)", "-",
				       (unsigned long long)r[M_TREE].allocs);
		}
		printf("%-16s ratios: tree/arena time %.2fx, jansson(plain malloc)/arena %.2fx, "
		       "tree/jansson %.2fx (cost of counting hooks + field walk); "
		       "allocations tree/arena %.1fx\n", names[k], med[M_TREE] / med[M_ARENA],
		       med[M_JANSSON] / med[M_ARENA], med[M_TREE] / med[M_JANSSON],
		       (double)r[M_TREE].allocs / (double)r[M_ARENA].allocs);
	}
	deser_free(d[0]);
	deser_free(d[1]);
	return 0;
}
