/*
 * err.c: see err.h.
 */
#include "lib/err.h"

#include <stdarg.h>
#include <stdio.h>

int pm_errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}
