/*
 * fuzz-report.c: libFuzzer target for the report reader.  The input is
 * read with report_read_json_mem() (the same checks and messages as
 * report_read_json(), which only adds jansson's FILE reader in front),
 * which must either accept it or fail with one line in err, never crash,
 * leak or read out of bounds.  Accepted reports are rendered (text,
 * Markdown, HTML) and compared with themselves, so the renderers and the
 * verdict see every shape the validator lets through.  /dev/null is
 * opened once, not per input (a file per input cost more than the
 * reader).
 *
 *   make fuzz && build/fuzz/fuzz-report -dict=tests/fuzz/report.dict tests/fuzz/corpus-report
 */
#include "report/render.h"
#include "report/report.h"
#include "report/verdict.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct report *r = NULL;
	struct verdict *v = NULL;
	struct render_opts o = { .color = true };
	char err[512];

	if (!null) {
		null = fopen("/dev/null", "w");
		if (!null)
			abort();
	}
	if (report_read_json_mem((const char *)data, size, &r, err, sizeof(err)) < 0) {
		/* the contract: one line */
		if (!err[0] || strchr(err, '\n'))
			__builtin_trap();
		return 0;
	}
	render_text(null, r, &o);
	render_md(null, r);
	render_html(null, r);
	render_text_pair(null, r, r, &o);
	if (verdict_compare(r, r, NULL, &v) == 0) {
		render_verdict_text(null, v, &o);
		render_verdict_md(null, v);
		render_verdict_tap(null, v);
		verdict_free(v);
	}
	report_free(r);
	return 0;
}
