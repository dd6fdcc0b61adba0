/*
 * fuzz-json: the JSON deserializer, both modes, differentially.
 *
 * Every input is parsed by `tree` (jansson) and `arena` (pktmem's parser)
 * from a copy of exactly the input's size (ASan catches any over-read).
 * They must agree: both reject (status 400 with a reason), or both accept
 * with the same canonical form and the same field count.  Any
 * disagreement aborts with both verdicts printed.
 *
 *	make fuzz && build/fuzz/fuzz-json -max_len=4096 corpus/
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/deser.h"
#include "tests/deser-canonical.h"

static struct deser *dt, *da;

/* Undefined behaviour is a finding too: stop at the first report. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static void die(const char *what, const uint8_t *data, size_t size,
		const struct deser_result *t, const struct deser_result *a,
		const char *ct, const char *ca)
{
	fprintf(stderr, "fuzz-json: %s\n  input (%zu bytes): %.*s\n", what, size,
		(int)(size > 300 ? 300 : size), (const char *)data);
	fprintf(stderr, "  tree:  status %d reason %s @%zu fields %llu canon %.300s\n", t->status,
		t->reason ? t->reason : "-", t->offset, (unsigned long long)t->fields, ct ? ct : "-");
	fprintf(stderr, "  arena: status %d reason %s @%zu fields %llu canon %.300s\n", a->status,
		a->reason ? a->reason : "-", a->offset, (unsigned long long)a->fields, ca ? ca : "-");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct deser_result t, a;
	char *body, *ct = NULL, *ca = NULL;
	size_t nt = 0, na = 0;
	int rt, ra;

	if (!dt) {
		struct deser_opts o;

		deser_opts_default(&o);
		o.mode = DESER_TREE;
		if (deser_new(&dt, &o) < 0)
			abort();
		o.mode = DESER_ARENA;
		o.arena_chunk = 256;	/* small: exercise chunk growth */
		if (deser_new(&da, &o) < 0)
			abort();
	}
	body = malloc(size ? size : 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	rt = deser_parse(dt, body, size, &t);
	ra = deser_parse(da, body, size, &a);
	if ((rt == 0) != (ra == 0))
		die("one accepts, the other rejects", data, size, &t, &a, NULL, NULL);
	if (rt != 0) {
		if (t.status != 400 || a.status != 400 || !t.reason || !a.reason)
			die("rejection without 400 and a reason", data, size, &t, &a, NULL, NULL);
		if (a.offset > size || t.offset > size)
			die("error offset past the end", data, size, &t, &a, NULL, NULL);
	} else {
		if (deser_canonical(dt, &ct, &nt) < 0 || deser_canonical(da, &ca, &na) < 0)
			abort();
		if (nt != na || memcmp(ct, ca, nt))
			die("canonical forms differ", data, size, &t, &a, ct, ca);
		if (t.fields != a.fields)
			die("field counts differ", data, size, &t, &a, ct, ca);
		if (a.frees != 0 || a.bytes > a.peak)
			die("arena figures inconsistent", data, size, &t, &a, ct, ca);
	}
	free(ct);
	free(ca);
	deser_reset(dt);
	deser_reset(da);
	free(body);
	return 0;
}
