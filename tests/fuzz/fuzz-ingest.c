/*
 * fuzz-ingest: libFuzzer target for the whole inspect path: the input
 * bytes are a capture file (pcap, pcapng or gzip of either) read by
 * capture.c, reassembled by reasm.c, its client streams framed by
 * httpx.c, summarised by inspect.c and rendered as JSON.
 *
 *	make fuzz && build/fuzz/fuzz-ingest -max_total_time=60 [corpus/]
 *
 * Seeds: the captures in fixtures/.  The input goes through a memfd so
 * the reader sees a real file, as it would from the command line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "replay/inspect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct inspect_opts o = { .max_reorder_bytes = 1 << 16, .max_flow_rows = 8 };
	struct inspect_result *r = NULL;
	char path[64], err[256];

	if (fd < 0) {
		fd = memfd_create("fuzz-ingest", 0);
		if (fd < 0)
			abort();
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (inspect_run(path, &o, &r, err, sizeof(err)) == 0) {
		json_t *j = inspect_result_json(r);
		char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

		free(s);
		json_decref(j);
		inspect_result_free(r);
	}
	return 0;
}
