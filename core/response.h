/*
 * response.h: the core server's answers, written into the caller's buffer
 * without stdio: the handler's 200 with {"bytes":N,"fields":M}, and the
 * error answers (400, 408, 413, 431, 501 ...) with a plain-text reason.
 *
 * "Connection: close" when the connection is not kept; "Connection:
 * keep-alive" when an HTTP/1.0 one is (RFC 9112 §9.3); a response to HEAD
 * has the headers of the one to GET and no body (RFC 9110 §9.3.2).
 * Nothing is allocated and nothing is owned.
 */
#ifndef PKTMEM_CORE_RESPONSE_H
#define PKTMEM_CORE_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESPONSE_OK_MAX 224		/* bytes response_ok() writes at most */
#define RESPONSE_ERROR_MAX (256 + 160)	/* bytes response_error() writes at most */

/* 200 with {"bytes":bytes,"fields":fields} at p; returns its length. */
size_t response_ok(char *p, uint64_t bytes, uint64_t fields, bool keep, int minor_version,
		   bool head);
/* status with reason (NULL: the status's own text) as a text/plain body at
 * p, the reason cut at 158 bytes; returns its length. */
size_t response_error(char *p, int status, const char *reason, bool keep, int minor_version,
		      bool head);

#endif
