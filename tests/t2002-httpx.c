/*
 * t2002: HTTP/1.x request extraction from a client stream (httpx.h):
 * the same requests whatever the segment boundaries (a split at every
 * byte offset, and one byte at a time), framing of each kind, pipelining,
 * gaps (stepped over inside a Content-Length body, resync elsewhere), a
 * framing the framer refuses (close-delimited), non-HTTP streams and a
 * capture that begins mid-stream.
 */
#include "tests/tap.h"

#include "replay/httpx.h"

#include <stdbool.h>

#define MAXREQ 16

struct got {
	struct httpx_req r[MAXREQ];
	int n;
};

static void on_req(void *ctx, const struct httpx_req *q)
{
	struct got *g = ctx;

	if (g->n < MAXREQ)
		g->r[g->n] = *q;
	g->n++;
}

static struct httpx_stream *mk(struct got *g)
{
	struct httpx_stream *s = NULL;

	memset(g, 0, sizeof(*g));
	if (httpx_stream_new(&s, NULL, on_req, g) < 0)
		bail_out("httpx_stream_new");
	return s;
}

static const char stream[] =
	"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
	"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"
	"DELETE /d?q=1 HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";

static bool same(const struct got *a, const struct got *b)
{
	int i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n && i < MAXREQ; i++) {
		const struct httpx_req *x = &a->r[i], *y = &b->r[i];
		if (strcmp(x->method, y->method) || strcmp(x->target, y->target) ||
		    x->framing != y->framing || x->head_bytes != y->head_bytes ||
		    x->body_bytes != y->body_bytes || x->complete != y->complete ||
		    x->wire_body_bytes != y->wire_body_bytes ||
		    x->minor_version != y->minor_version || x->index != y->index)
			return false;
	}
	return true;
}

static void feed_split(struct got *g, const char *p, size_t n, size_t at)
{
	struct httpx_stream *s = mk(g);

	httpx_stream_data(s, 0, (const uint8_t *)p, at, 1);
	httpx_stream_data(s, at, (const uint8_t *)p + at, n - at, 2);
	httpx_stream_end(s);
	httpx_stream_free(s);
}

static void test_splits(void)
{
	size_t n = sizeof(stream) - 1, at;
	struct got whole, g;
	int bad = 0;
	struct httpx_stream *s;

	feed_split(&whole, stream, n, n);
	is_int(whole.n, 4, "four requests");
	is_str(whole.r[0].method, "GET", "1: GET");
	is_str(whole.r[0].target, "/a", "1: target");
	is_int(whole.r[0].framing, HTTPX_FRAMING_NONE, "1: no body");
	is_int(whole.r[0].head_bytes, 28, "1: head bytes");
	is_int(whole.r[1].framing, HTTPX_FRAMING_LENGTH, "2: Content-Length");
	is_int(whole.r[1].body_bytes, 5, "2: body bytes");
	is_int(whole.r[2].framing, HTTPX_FRAMING_CHUNKED, "3: chunked");
	is_int(whole.r[2].body_bytes, 5, "3: decoded body bytes");
	is_int(whole.r[2].wire_body_bytes, 24, "3: wire body bytes incl. chunk framing");
	is_str(whole.r[3].method, "DELETE", "4: DELETE");
	is_int(whole.r[3].minor_version, 0, "4: HTTP/1.0");
	ok(whole.r[0].complete && whole.r[3].complete, "all complete");
	is_int(whole.r[1].pipelined, 1, "no response between: pipelined");
	is_int(whole.r[0].pipelined, 0, "the first is never pipelined");

	for (at = 0; at <= n; at++) {
		feed_split(&g, stream, n, at);
		if (!same(&whole, &g)) {
			if (!bad)
				diag("split at %zu: %d requests", at, g.n);
			bad++;
		}
	}
	is_int(bad, 0, "split at every byte offset: the same requests");

	/* one byte at a time */
	s = mk(&g);
	for (at = 0; at < n; at++)
		httpx_stream_data(s, at, (const uint8_t *)stream + at, 1, at);
	httpx_stream_end(s);
	httpx_stream_free(s);
	ok(same(&whole, &g), "one byte at a time: the same requests");
}

static void test_pipelining(void)
{
	struct got g;
	struct httpx_stream *s = mk(&g);
	const char *a = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n";
	size_t n = strlen(a);

	httpx_stream_data(s, 0, (const uint8_t *)a, n, 1);
	httpx_stream_server_data(s, 100);		/* response */
	httpx_stream_data(s, n, (const uint8_t *)a, n, 2);
	httpx_stream_data(s, 2 * n, (const uint8_t *)a, n, 3);	/* no response yet */
	httpx_stream_end(s);
	ok(g.n == 3 && !g.r[1].pipelined && g.r[2].pipelined,
	   "pipelined: only a request sent before the previous response");
	is_int(httpx_stream_stats(s)->pipelined, 1, "pipelined: counted once");
	httpx_stream_free(s);
}

static void test_gaps(void)
{
	struct got g;
	struct httpx_stream *s = mk(&g);
	const char *h = "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
	const char *next = "GET /after HTTP/1.1\r\nHost: x\r\n\r\n";
	size_t hn = strlen(h);
	char body[100];

	memset(body, 'b', sizeof(body));
	/* a gap inside a Content-Length body: stepped over, still framed */
	httpx_stream_data(s, 0, (const uint8_t *)h, hn, 1);
	httpx_stream_data(s, hn, (const uint8_t *)body, 30, 1);
	httpx_stream_gap(s, hn + 30, 40);
	httpx_stream_data(s, hn + 70, (const uint8_t *)body, 30, 1);
	httpx_stream_data(s, hn + 100, (const uint8_t *)next, strlen(next), 1);
	httpx_stream_end(s);
	ok(g.n == 2 && g.r[0].cut_by_gap && !g.r[0].complete &&
	   g.r[0].body_bytes == 100, "gap in a CL body: request flagged, framing kept");
	ok(g.n == 2 && !strcmp(g.r[1].target, "/after") && g.r[1].complete,
	   "gap in a CL body: the next request still found");
	is_int(httpx_stream_stats(s)->resyncs, 0, "gap in a CL body: no resync");
	httpx_stream_free(s);

	/* a gap in a head: the request is lost, the next one found */
	s = mk(&g);
	httpx_stream_data(s, 0, (const uint8_t *)"GET /x HT", 9, 1);
	httpx_stream_gap(s, 9, 20);
	httpx_stream_data(s, 29, (const uint8_t *)"ost: x\r\n\r\n", 10, 1);
	httpx_stream_data(s, 39, (const uint8_t *)next, strlen(next), 1);
	httpx_stream_end(s);
	ok(g.n == 1 && !strcmp(g.r[0].target, "/after"),
	   "gap in a head: resync at the next request line");
	ok(httpx_stream_stats(s)->partial_heads == 1 &&
	   httpx_stream_stats(s)->skipped_bytes == 10,
	   "gap in a head: partial head and skipped bytes counted");
	httpx_stream_free(s);

	/* a gap after a whole request line: the request is reported */
	s = mk(&g);
	httpx_stream_data(s, 0, (const uint8_t *)"PUT /p HTTP/1.1\r\nHo", 19, 1);
	httpx_stream_gap(s, 19, 1000);
	httpx_stream_data(s, 1019, (const uint8_t *)next, strlen(next), 1);
	httpx_stream_data(s, 1019 + strlen(next), (const uint8_t *)"GET /cut HTTP/1.1\r\n", 19, 1);
	httpx_stream_end(s);
	ok(g.n == 3 && !strcmp(g.r[0].method, "PUT") && !strcmp(g.r[0].target, "/p") &&
	   g.r[0].cut_by_gap && !g.r[0].complete && g.r[0].framing == HTTPX_FRAMING_CLOSE,
	   "head cut after its request line: reported, incomplete, framing unknown");
	ok(g.n == 3 && !strcmp(g.r[2].target, "/cut") && !g.r[2].complete && !g.r[2].cut_by_gap,
	   "head cut by the end of the stream: reported, incomplete");
	httpx_stream_free(s);

	/* a gap in a chunked body: that request incomplete */
	s = mk(&g);
	{
		const char *c = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
		httpx_stream_data(s, 0, (const uint8_t *)c, strlen(c), 1);
		httpx_stream_gap(s, strlen(c), 10);
		httpx_stream_data(s, strlen(c) + 10, (const uint8_t *)next, strlen(next), 1);
		httpx_stream_end(s);
	}
	ok(g.n == 2 && g.r[0].cut_by_gap && !g.r[0].complete &&
	   g.r[0].framing == HTTPX_FRAMING_CHUNKED && g.r[1].complete,
	   "gap in a chunked body: incomplete, then the next request");
	httpx_stream_free(s);

	/* the stream ends inside a body */
	s = mk(&g);
	httpx_stream_data(s, 0, (const uint8_t *)h, hn, 1);
	httpx_stream_data(s, hn, (const uint8_t *)body, 10, 1);
	httpx_stream_end(s);
	ok(g.n == 1 && !g.r[0].complete && g.r[0].body_bytes == 10,
	   "end inside a body: incomplete");
	httpx_stream_free(s);
}

static void test_refused_and_not_http(void)
{
	struct got g;
	struct httpx_stream *s = mk(&g);
	const char *smug = "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /y HTTP/1.1\r\n\r\n";
	const char *ok1 = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	httpx_stream_data(s, 0, (const uint8_t *)ok1, strlen(ok1), 1);
	httpx_stream_data(s, strlen(ok1), (const uint8_t *)smug, strlen(smug), 1);
	httpx_stream_end(s);
	ok(g.n == 2 && g.r[1].error_status == 400 &&
	   g.r[1].framing == HTTPX_FRAMING_CLOSE && !strcmp(g.r[1].method, "POST"),
	   "CL+TE: reported with its error, close-delimited");
	if (g.n == 2)
		diag("reason: %s", g.r[1].error_reason ? g.r[1].error_reason : "-");
	is_int(g.n == 2 ? g.r[1].body_bytes : 0, 24, "CL+TE: the rest of the stream is its body");
	httpx_stream_free(s);

	s = mk(&g);
	httpx_stream_data(s, 0, (const uint8_t *)"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, 1);
	httpx_stream_data(s, 11, (const uint8_t *)ok1, strlen(ok1), 1);
	httpx_stream_end(s);
	ok(g.n == 0 && httpx_stream_stats(s)->not_http, "TLS: not HTTP, no requests");
	httpx_stream_free(s);

	/* mid-stream: begins inside a body */
	s = mk(&g);
	httpx_stream_midstream(s);
	httpx_stream_data(s, 0, (const uint8_t *)"tail of a body\r\n", 16, 1);
	httpx_stream_data(s, 16, (const uint8_t *)ok1, strlen(ok1), 1);
	httpx_stream_end(s);
	ok(g.n == 1 && !strcmp(g.r[0].target, "/") && !httpx_stream_stats(s)->not_http,
	   "mid-stream: the first request line is found");
	httpx_stream_free(s);
}

int main(void)
{
	plan_lazy();
	test_splits();
	test_pipelining();
	test_gaps();
	test_refused_and_not_http();
	return exit_status();
}
