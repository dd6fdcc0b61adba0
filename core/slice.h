/*
 * slice.h: a {ptr,len} view into someone else's bytes (haproxy's ist,
 * picohttpparser's name/value pairs).  Passed by value; never owns memory.
 */
#ifndef PKTMEM_CORE_SLICE_H
#define PKTMEM_CORE_SLICE_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

struct slice {
	const char *ptr;
	size_t len;
};

#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })

static inline struct slice slice_make(const char *p, size_t n)
{
	return (struct slice){ p, n };
}

/* Case-insensitive comparison with a C string (header names, tokens). */
static inline int slice_ieq(struct slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(s.ptr, lit, n) == 0;
}

static inline int slice_eq(struct slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

#endif
