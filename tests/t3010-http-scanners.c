/*
 * t3010: the three scanners agree.  Valid heads are mutated at random
 * (seeded, so a failure repeats): one byte replaced by a byte from an
 * interesting set or any byte, bytes dropped or duplicated; each result
 * (return value, every slice, or status/reason/offset) must be the same
 * from the portable, SSE4.2 and AVX2 scanners, with inputs ending at a
 * guard page.
 */
#include "core/http-int.h"
#include "tests/tap.h"
#include "tests/http-guard.h"

#include <stdint.h>
#include <stdio.h>

static const char *const seeds[] = {
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /index.html?q=1&r=%2F HTTP/1.1\r\nHost: www.example.com\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
	"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
	"Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n\r\n",
	"POST /api/v2/orders HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\n"
	"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N\r\n"
	"Content-Length: 17\r\nX-Request-Id: 7f0c3c2e-8a41-4b6e-9d2a-3f5e1c0b9a77\r\n\r\n{\"order\":\"abc\"}\r\n",
	"OPTIONS * HTTP/1.0\r\nX-Odd|~Name: \t v\xc3\xa9 \t\r\n\r\n",
	"CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n",
};

static const unsigned char interesting[] = {
	0, '\t', '\n', '\r', ' ', '"', '(', ')', ',', '/', ':', ';', '@', '[', '\\', ']',
	'{', '|', '}', '~', 0x7f, 0x80, 0xff, 'a', '1', 0x1f, 0x21, 0x7e,
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

struct result {
	int r;
	struct http_error err;
	struct http_request req;
	struct http_header h[64];
};

static struct guard guard;

static void run(const char *in, size_t len, int bare_lf, struct result *res)
{
	struct http_limits lim;
	const char *p = guard_place(&guard, in, len);

	http_limits_default(&lim);
	lim.allow_bare_lf = bare_lf;
	lim.max_headers = 64;
	memset(res, 0, sizeof(*res));
	res->req.headers = res->h;
	res->req.max_headers = 64;
	res->r = http_parse_request(p, len, &res->req, &lim, &res->err);
	/* slices as offsets so results from the same placement compare */
}

static int same(const struct result *a, const struct result *b)
{
	size_t i;

	if (a->r != b->r)
		return 0;
	if (a->r == -1)
		return a->err.status == b->err.status && a->err.reason == b->err.reason &&
		       a->err.offset == b->err.offset;
	if (a->r == -2)
		return 1;
	if (a->req.method.ptr != b->req.method.ptr || a->req.method.len != b->req.method.len ||
	    a->req.target.ptr != b->req.target.ptr || a->req.target.len != b->req.target.len ||
	    a->req.minor_version != b->req.minor_version || a->req.num_headers != b->req.num_headers)
		return 0;
	for (i = 0; i < a->req.num_headers; i++)
		if (a->h[i].name.ptr != b->h[i].name.ptr || a->h[i].name.len != b->h[i].name.len ||
		    a->h[i].value.ptr != b->h[i].value.ptr || a->h[i].value.len != b->h[i].value.len)
			return 0;
	return 1;
}

/*
 * Systematic: a field of every name length around the vector widths and
 * value lengths 0..200 with OWS around it, at several distances from the
 * end of the input, must come out exact from every scanner; then each byte
 * of such a line replaced by a delimiter or CTL must give the same verdict
 * from every scanner.
 */
static void sweep(const char *const *avail, size_t nsc)
{
	static const unsigned nlens[] = { 1, 2, 31, 32, 33, 62, 63, 64, 65 };
	static const char *const ows[] = { "", " ", "\t ", "  \t" };
	static const unsigned char inj[] = { 0, '\r', '\n', ':', ' ', '\t', 0x7f, 0x80, '(' };
	static struct result res[3];
	char buf[1024], name[80], val[256];
	size_t ni, v, o, k, s, i, j, len;
	int exact_bad = 0, agree_bad = 0, n_exact = 0, n_agree = 0;

	for (ni = 0; ni < sizeof(nlens) / sizeof(nlens[0]); ni++) {
		memset(name, 'N', nlens[ni]);
		name[nlens[ni]] = 0;
		for (v = 0; v <= 200; v++) {
			memset(val, 'v', v);
			if (v > 2)
				val[v / 2] = ' ';	/* inner whitespace is kept */
			val[v] = 0;
			for (o = 0; o < 4; o++) {
				for (k = 0; k < 4; k++) {
					len = (size_t)snprintf(buf, sizeof(buf),
						"GET / HTTP/1.1\r\nA: b\r\n%s:%s%s%s\r\n%s%s%s\r\n",
						name, ows[o], val, ows[3 - o],
						k > 0 ? "Z: z\r\n" : "", k > 1 ? "Y: 0123456789abcdef\r\n" : "",
						k > 2 ? "X: 0123456789abcdef0123456789abcdef0123456789\r\n" : "");
					for (s = 0; s < nsc; s++) {
						http_scanner_select(avail[s]);
						run(buf, len, 0, &res[s]);
						n_exact++;
						if (res[s].r != (int)len || res[s].req.num_headers < 2 ||
						    res[s].h[1].name.len != nlens[ni] ||
						    res[s].h[1].value.len != v ||
						    memcmp(res[s].h[1].value.ptr, val, v) != 0) {
							if (exact_bad++ < 3)
								diag("sweep %s: name %u value %zu ows %zu k %zu: r=%d",
								     avail[s], nlens[ni], v, o, k, res[s].r);
						}
					}
					if (k != 3 || o != 1 || v % 7 != 0)
						continue;
					/* each byte of the field line replaced */
					for (i = 22; i < 22 + nlens[ni] + v + 5 && i < len; i++) {
						for (j = 0; j < sizeof(inj); j++) {
							char save = buf[i];

							buf[i] = (char)inj[j];
							for (s = 0; s < nsc; s++) {
								http_scanner_select(avail[s]);
								run(buf, len, 0, &res[s]);
							}
							for (s = 1; s < nsc; s++) {
								n_agree++;
								if (!same(&res[0], &res[s]) && agree_bad++ < 3)
									diag("sweep: byte %zu = %02x: %s %d vs %s %d",
									     i, inj[j], avail[0], res[0].r,
									     avail[s], res[s].r);
							}
							buf[i] = save;
						}
					}
				}
			}
		}
	}
	http_scanner_select(NULL);
	ok(exact_bad == 0, "sweep: %d parses of fields around vector widths exact (%d wrong)",
	   n_exact, exact_bad);
	ok(agree_bad == 0, "sweep: %d comparisons with a byte replaced agree (%d differ)",
	   n_agree, agree_bad);
}

int main(void)
{
	static const char *const scanners[] = { "scalar", "sse4.2", "avx2" };
	static struct result res[3];
	char buf[2048];
	size_t nsc = 0, s, i;
	const char *avail[3];
	int iter, bad = 0, outcomes[3] = { 0, 0, 0 };

	for (s = 0; s < 3; s++)
		if (http_scanner_available(scanners[s]))
			avail[nsc++] = scanners[s];
	plan(5);
	sweep(avail, nsc);
	if (nsc < 2) {
		skip("only the portable scanner on this CPU");
		skip("only the portable scanner on this CPU");
		skip("only the portable scanner on this CPU");
		return exit_status();
	}
	for (iter = 0; iter < 60000; iter++) {
		const char *seed = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
		size_t len = strlen(seed), m, nmut = 1 + rnd() % 3;
		int bare_lf = (int)(rnd() % 4 == 0);

		memcpy(buf, seed, len);
		for (m = 0; m < nmut && len > 1; m++) {
			size_t at = rnd() % len;

			switch (rnd() % 4) {
			case 0:
				buf[at] = (char)interesting[rnd() % sizeof(interesting)];
				break;
			case 1:
				buf[at] = (char)(rnd() & 0xff);
				break;
			case 2:	/* drop a byte */
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
				break;
			default:	/* duplicate a byte */
				if (len + 1 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, len - at);
					len++;
				}
			}
		}
		if (rnd() % 8 == 0)
			len = rnd() % len;	/* a truncated read */
		for (s = 0; s < nsc; s++) {
			http_scanner_select(avail[s]);
			run(buf, len, bare_lf, &res[s]);
		}
		for (s = 1; s < nsc; s++) {
			if (!same(&res[0], &res[s])) {
				if (bad++ < 5) {
					diag("iteration %d: %s and %s differ (r %d vs %d)", iter,
					     avail[0], avail[s], res[0].r, res[s].r);
					for (i = 0; i < len; i++)
						fprintf(stderr, "%02x", (unsigned char)buf[i]);
					fprintf(stderr, "\n");
				}
			}
		}
		outcomes[res[0].r >= 0 ? 0 : res[0].r == -1 ? 1 : 2]++;
	}
	http_scanner_select(NULL);
	ok(bad == 0, "%zu scanners agree on 60000 mutated heads (%d differ)", nsc, bad);
	ok(outcomes[0] > 1000, "mutations leave valid heads (%d)", outcomes[0]);
	ok(outcomes[1] > 1000 && outcomes[2] > 100, "mutations give bad (%d) and partial (%d) heads",
	   outcomes[1], outcomes[2]);
	guard_release(&guard);
	return exit_status();
}
