/* response.c: the core server's answers; see response.h. */
#include "core/response.h"

#include <stdio.h>
#include <string.h>

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	default: return status >= 500 ? "Internal Server Error" : "Bad Request";
	}
}

size_t response_error(char *p, int status, const char *reason, bool keep, int minor_version,
		      bool head)
{
	char hdr[256], body[160];
	int bn, hn;

	bn = snprintf(body, sizeof(body), "%s\n", reason ? reason : status_text(status));
	if (bn < 0 || (size_t)bn >= sizeof(body))
		bn = (int)sizeof(body) - 1;
	hn = snprintf(hdr, sizeof(hdr),
		      "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		      "Content-Length: %d\r\n%s\r\n",
		      status, status_text(status), bn,
		      keep ? (minor_version == 0 ? "Connection: keep-alive\r\n" : "")
			   : "Connection: close\r\n");
	if (hn < 0 || (size_t)hn >= sizeof(hdr))
		hn = (int)sizeof(hdr) - 1;
	memcpy(p, hdr, (size_t)hn);
	if (head)
		return (size_t)hn;
	memcpy(p + hn, body, (size_t)bn);
	return (size_t)hn + (size_t)bn;
}

/* Decimal of v into p (no NUL); returns its length. */
static size_t put_u64(char *p, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

#define PUT_LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) += sizeof(s) - 1)

size_t response_ok(char *p, uint64_t bytes, uint64_t fields, bool keep, int minor_version,
		   bool head)
{
	char body[64], *b = body, *start = p;
	size_t bn;

	PUT_LIT(b, "{\"bytes\":");
	b += put_u64(b, bytes);
	PUT_LIT(b, ",\"fields\":");
	b += put_u64(b, fields);
	PUT_LIT(b, "}\n");
	bn = (size_t)(b - body);
	PUT_LIT(p, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ");
	p += put_u64(p, bn);
	if (!keep)
		PUT_LIT(p, "\r\nConnection: close");
	else if (minor_version == 0)
		PUT_LIT(p, "\r\nConnection: keep-alive");
	PUT_LIT(p, "\r\n\r\n");
	if (!head) {
		memcpy(p, body, bn);
		p += bn;
	}
	return (size_t)(p - start);
}
