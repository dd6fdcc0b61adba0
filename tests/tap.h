/*
 * tap.h: a small TAP producer for pktmem's C tests, read by prove.
 *
 * No "TAP version" line is printed: Debian's prove rejects version 14 and
 * needs none.  Usage:
 *
 *	plan(3);                      or  plan_lazy() ... done_testing();
 *	ok(x == 1, "x is one");
 *	is_int(got, 42, "answer");
 *	skip("needs CAP_NET_ADMIN");  one skipped test, with the reason
 *	skip_all("needs root");       whole file skipped (exits 0)
 *	return exit_status();
 */
#ifndef PKTMEM_TESTS_TAP_H
#define PKTMEM_TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_run, tap_failed, tap_planned;

static inline void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void plan_lazy(void) { tap_planned = -1; }

static inline __attribute__((format(printf, 2, 3)))
int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

static inline __attribute__((format(printf, 1, 2)))
void diag(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "# ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

#define is_int(got, want, ...) do {					\
	long long _g = (long long)(got), _w = (long long)(want);	\
	if (!ok(_g == _w, __VA_ARGS__))					\
		diag("  got %lld, want %lld", _g, _w);			\
} while (0)

#define is_str(got, want, ...) do {					\
	const char *_g = (got), *_w = (want);				\
	if (!ok(_g && _w && strcmp(_g, _w) == 0, __VA_ARGS__))		\
		diag("  got '%s', want '%s'", _g ? _g : "(null)",	\
		     _w ? _w : "(null)");				\
} while (0)

static inline __attribute__((format(printf, 1, 2)))
void skip(const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	printf("ok %d # SKIP ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline __attribute__((format(printf, 1, 2), noreturn))
void skip_all(const char *fmt, ...)
{
	va_list ap;

	printf("1..0 # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(0);
}

static inline __attribute__((noreturn))
void bail_out(const char *why)
{
	printf("Bail out! %s\n", why);
	fflush(stdout);
	exit(255);
}

static inline void done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	fflush(stdout);
}

static inline int exit_status(void)
{
	if (tap_planned < 0)
		done_testing();
	else if (tap_planned != tap_run)
		diag("planned %d tests but ran %d", tap_planned, tap_run);
	return tap_failed ? 1 : 0;
}

#endif
