/*
 * fuzz-report.c: libFuzzer target for the report reader.  The input is
 * written to a memory file and read with report_read_json(), which must
 * either accept it or fail with one line in err, never crash, leak or read
 * out of bounds.  Accepted reports are rendered (text, Markdown, HTML) and
 * compared with themselves, so the renderers and the verdict see every
 * shape the validator lets through.
 *
 *   make fuzz && build/fuzz/fuzz-report -max_len=65536 tests/data
 */
#include "profile/render.h"
#include "profile/report.h"
#include "profile/verdict.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report *r = NULL;
	struct verdict *v = NULL;
	char path[64], err[512];
	FILE *null;
	int fd = memfd_create("fuzz-report", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (report_read_json(path, &r, err, sizeof(err)) < 0) {
		/* the contract: one line */
		if (!err[0] || strchr(err, '\n'))
			__builtin_trap();
		close(fd);
		return 0;
	}
	null = fopen("/dev/null", "w");
	if (null) {
		struct render_opts o = { .color = true };

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
		fclose(null);
	}
	report_free(r);
	close(fd);
	return 0;
}
