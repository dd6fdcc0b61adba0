/*
 * http-int.h: choosing the request parser's scanner, for the tests and
 * benchmarks that run every scanner over the same inputs.  The server
 * never calls these: it runs the best one this CPU has (http.h).
 */
#ifndef PKTMEM_CORE_HTTP_INT_H
#define PKTMEM_CORE_HTTP_INT_H

#include "core/http.h"

/* Use the portable scanner from now on (1) or the best (0). */
void http_force_scalar(int on);
/*
 * Run the named scanner ("scalar", "sse4.2", "avx2", or "best"/NULL) from
 * now on.  -EINVAL for an unknown name, -ENOTSUP when this CPU lacks it.
 * Process-wide: do not call while other threads parse.
 */
int http_scanner_select(const char *name);
/* 1 when this CPU (and build) can run the named scanner. */
int http_scanner_available(const char *name);

#endif
