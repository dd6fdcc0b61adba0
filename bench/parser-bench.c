/*
 * parser-bench: pktmem's request-head parser against picohttpparser (as
 * built into Debian's libh2o) and nodejs http-parser (Debian's
 * libhttp-parser), on one deterministic corpus of realistic requests
 * (bench/parser-corpus.h), in one process, interleaved: every round runs
 * each contender once over the whole corpus, in a rotating order, and the
 * median and best rounds are reported.  Time is the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so preemption by other processes on a shared
 * machine does not count.  Also the framer (core/framing.c) fed each
 * whole request (head and body) as one read, the server's common case.
 *
 *	make bench-parser             (or build/bench/parser-bench [-n REQS] [-r ROUNDS])
 */
#include "core/framing.h"
#include "core/http-int.h"
#include "bench/parser-corpus.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* libh2o ships picohttpparser without its header: declared here. */
struct phr_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
		      const char **path, size_t *path_len, int *minor_version,
		      struct phr_header *headers, size_t *num_headers, size_t last_len);

#define MAXH 64

static struct corpus C;
static volatile size_t sink;	/* keeps results alive */

static uint64_t now_ns(void)
{
	struct timespec ts;

	/* this thread's CPU time: up to eight neighbours share these two
	 * CPUs, and time spent preempted is not the parser's */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- pktmem parser ---- */

static struct http_limits lim;

static int run_pktmem(void)
{
	struct http_header h[MAXH];
	struct http_request req = { .headers = h, .max_headers = MAXH };
	struct http_error err;
	size_t i, acc = 0;

	for (i = 0; i < C.n; i++) {
		int r = http_parse_request(C.buf + C.req[i].off, C.req[i].head_len, &req, &lim, &err);

		if (r != (int)C.req[i].head_len || req.num_headers != C.req[i].nheaders)
			return -1;
		acc += req.num_headers + req.method.len;
	}
	sink += acc;
	return 0;
}

/* ---- picohttpparser ---- */

static int run_pico(void)
{
	struct phr_header h[MAXH];
	const char *m, *p;
	size_t ml, pl, nh, i, acc = 0;
	int minor;

	for (i = 0; i < C.n; i++) {
		int r;

		nh = MAXH;
		r = phr_parse_request(C.buf + C.req[i].off, C.req[i].head_len, &m, &ml, &p, &pl,
				      &minor, h, &nh, 0);
		if (r != (int)C.req[i].head_len || nh != C.req[i].nheaders)
			return -1;
		acc += nh + ml;
	}
	sink += acc;
	return 0;
}

/* ---- http-parser: callbacks record the same slices the others return ---- */

struct hp_ctx {
	struct slice url;
	struct slice name[MAXH], value[MAXH];
	size_t nh;
	int done;
};

static int hp_url(http_parser *p, const char *at, size_t len)
{
	struct hp_ctx *c = p->data;

	c->url = slice_make(at, len);
	return 0;
}

static int hp_field(http_parser *p, const char *at, size_t len)
{
	struct hp_ctx *c = p->data;

	if (c->nh < MAXH)
		c->name[c->nh] = slice_make(at, len);
	return 0;
}

static int hp_value(http_parser *p, const char *at, size_t len)
{
	struct hp_ctx *c = p->data;

	if (c->nh < MAXH)
		c->value[c->nh++] = slice_make(at, len);
	return 0;
}

static int hp_headers_complete(http_parser *p)
{
	struct hp_ctx *c = p->data;

	c->done = 1;
	return 0;
}

static http_parser_settings hp_settings = {
	.on_url = hp_url,
	.on_header_field = hp_field,
	.on_header_value = hp_value,
	.on_headers_complete = hp_headers_complete,
};

static int run_http_parser(void)
{
	struct hp_ctx ctx;
	http_parser p;
	size_t i, acc = 0;

	for (i = 0; i < C.n; i++) {
		size_t r;

		http_parser_init(&p, HTTP_REQUEST);
		p.data = &ctx;
		ctx.nh = 0;
		ctx.done = 0;
		r = http_parser_execute(&p, &hp_settings, C.buf + C.req[i].off, C.req[i].head_len);
		if (r != C.req[i].head_len || !ctx.done || ctx.nh != C.req[i].nheaders)
			return -1;
		acc += ctx.nh + ctx.url.len;
	}
	sink += acc;
	return 0;
}

/* ---- pktmem framer: each request (head + body) as one read ---- */

static int fr_head(void *ctx, struct http_msg *m)
{
	*(size_t *)ctx += m->req->num_headers;
	return 0;
}

static int fr_body(void *ctx, struct http_msg *m, const char *p, size_t n)
{
	(void)m;
	(void)p;
	*(size_t *)ctx += n;
	return 0;
}

static const struct framer_ops fr_ops = { fr_head, fr_body, NULL };
static struct http_framer *framer;
static size_t fr_acc;

static int run_framer(void)
{
	size_t i;

	for (i = 0; i < C.n; i++) {
		size_t n = C.req[i].head_len + C.req[i].body_len;

		if (framer_feed(framer, C.buf + C.req[i].off, n) != (long)n)
			return -1;
	}
	sink += fr_acc;
	return framer_requests(framer) % C.n == 0 ? 0 : -1;
}

/* ---- harness ---- */

struct contender {
	const char *name;
	int (*run)(void);
	const char *scanner;	/* pktmem: which scanner, else NULL */
	double rps[64];
	int rounds;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(struct contender *c)
{
	double v[64];

	memcpy(v, c->rps, sizeof(v));
	qsort(v, (size_t)c->rounds, sizeof(double), cmp_double);
	return v[c->rounds / 2];
}

static double best_of(struct contender *c)
{
	double b = 0;
	int i;

	for (i = 0; i < c->rounds; i++)
		if (c->rps[i] > b)
			b = c->rps[i];
	return b;
}

int main(int argc, char **argv)
{
	struct contender cs[8];
	size_t ncs = 0, i, j, k, passes;
	size_t nreq = 2000, body_bytes = 0;
	int rounds = 31, opt, r;
	double t_pico = 0, t_hp = 0, t_best = 0;
	const char *best = NULL;

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n')
			nreq = strtoul(optarg, NULL, 10);
		else if (opt == 'r')
			rounds = atoi(optarg);
		else {
			fprintf(stderr, "usage: parser-bench [-n REQUESTS] [-r ROUNDS]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > 64 || nreq < 1) {
		fprintf(stderr, "parser-bench: rounds must be 1..64, requests >= 1\n");
		return 2;
	}
	corpus_build(&C, nreq);
	for (i = 0; i < C.n; i++)
		body_bytes += C.req[i].body_len;
	http_limits_default(&lim);
	lim.max_headers = MAXH;
	if (framer_new(&framer, &lim, &fr_ops, &fr_acc) != 0)
		return 1;

	http_scanner_select(NULL);
	best = http_scanner_name();
	cs[ncs++] = (struct contender){ "pktmem", run_pktmem, best };
	if (strcmp(best, "sse4.2") != 0 && http_scanner_available("sse4.2"))
		cs[ncs++] = (struct contender){ "pktmem", run_pktmem, "sse4.2" };
	cs[ncs++] = (struct contender){ "pktmem", run_pktmem, "scalar" };
	cs[ncs++] = (struct contender){ "picohttpparser (libh2o)", run_pico, NULL };
	cs[ncs++] = (struct contender){ "http-parser", run_http_parser, NULL };
	cs[ncs++] = (struct contender){ "pktmem framer", run_framer, best };

	/* check every contender parses the whole corpus the same way */
	for (i = 0; i < ncs; i++) {
		if (cs[i].scanner)
			http_scanner_select(cs[i].scanner);
		if (cs[i].run() != 0) {
			fprintf(stderr, "parser-bench: %s disagrees with the corpus\n", cs[i].name);
			return 1;
		}
	}
	/* passes per measurement: about 30 ms for the fastest contender
	 * (the quickest of five timings: neighbours on a shared machine) */
	{
		uint64_t t0, dt, best_dt = UINT64_MAX;

		http_scanner_select(best);
		for (r = 0; r < 5; r++) {
			t0 = now_ns();
			run_pktmem();
			dt = now_ns() - t0 + 1;
			if (dt < best_dt)
				best_dt = dt;
		}
		passes = (size_t)(30e6 / (double)best_dt) + 1;
	}

	for (r = 0; r < rounds; r++) {
		for (k = 0; k < ncs; k++) {
			struct contender *c = &cs[(k + (size_t)r) % ncs];
			uint64_t t0, t1;

			if (c->scanner)
				http_scanner_select(c->scanner);
			t0 = now_ns();
			for (j = 0; j < passes; j++)
				c->run();
			t1 = now_ns();
			c->rps[c->rounds++] = (double)(C.n * passes) * 1e9 / (double)(t1 - t0);
		}
	}

	printf("corpus: %zu requests (60%% browser GETs, 40%% API POSTs), %zu head bytes "
	       "(%.0f per request), %zu body bytes; %d rounds x %zu passes, interleaved\n",
	       C.n, C.head_bytes, (double)C.head_bytes / (double)C.n, body_bytes, rounds, passes);
	{
		FILE *la = fopen("/proc/loadavg", "r");
		char line[128];

		if (la && fgets(line, sizeof(line), la))
			printf("load average: %s", line);
		if (la)
			fclose(la);
	}
	printf("%-34s %12s %12s %12s\n", "contender (median of rounds)", "Mreq/s", "head MB/s",
	       "best Mreq/s");
	for (i = 0; i < ncs; i++) {
		double m = median(&cs[i]);
		char label[64];

		if (cs[i].scanner)
			snprintf(label, sizeof(label), "%s (%s)", cs[i].name, cs[i].scanner);
		else
			snprintf(label, sizeof(label), "%s", cs[i].name);
		printf("%-34s %12.3f %12.1f %12.3f\n", label, m / 1e6,
		       m * (double)C.head_bytes / (double)C.n / 1e6, best_of(&cs[i]) / 1e6);
		if (cs[i].run == run_pico)
			t_pico = m;
		else if (cs[i].run == run_http_parser)
			t_hp = m;
		else if (cs[i].run == run_pktmem && strcmp(cs[i].scanner, best) == 0)
			t_best = m;
	}
	printf("ratio pktmem (%s) / picohttpparser (libh2o): %.2fx   (target >= 1.3x)\n",
	       best, t_best / t_pico);
	printf("ratio pktmem (%s) / http-parser:             %.2fx   (target >= 5x)\n",
	       best, t_best / t_hp);
	framer_free(framer);
	corpus_free(&C);
	return 0;
}
