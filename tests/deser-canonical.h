/*
 * deser-canonical.h: the document a struct deser holds, as canonical JSON
 * text (tests and the fuzz target only; compiled into them, not into
 * libpktmem).
 */
#ifndef PKTMEM_TESTS_DESER_CANONICAL_H
#define PKTMEM_TESTS_DESER_CANONICAL_H

#include <stddef.h>

#include "core/deser.h"

/*
 * The current document as canonical JSON text: no whitespace, object keys
 * sorted bytewise (duplicates resolved), strings with only '"', '\\' and
 * control characters escaped (\uXXXX, lower-case hex), integers in
 * decimal, reals as "%.17g" with ".0" added when that looks like an
 * integer.  *out is malloc'd (free() it).  -EINVAL: no document held.
 */
int deser_canonical(struct deser *d, char **out, size_t *len);

#endif
