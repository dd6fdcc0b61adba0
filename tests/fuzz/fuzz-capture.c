/*
 * fuzz-capture: libFuzzer target for capture ingest (capture*.c): the input
 * is a whole capture file (pcap, pcapng or gzip of either), read to the
 * end with and without a filter.  Every decoded packet's payload is read
 * in full, so an out-of-bounds pointer faults under ASan.
 */
#include "replay/capture.h"

#include <stdio.h>
#include <string.h>

static void read_all(const uint8_t *data, size_t size, const char *filter)
{
	struct capture *cap;
	struct cap_pkt pkt;
	char err[256];
	FILE *f = fmemopen((void *)data, size, "rb");
	volatile uint8_t sink = 0;

	if (!f)
		return;
	if (capture_open_fp(&cap, f, filter, err, sizeof(err)) < 0)
		return;
	while (capture_next(cap, &pkt) == 1) {
		if (pkt.skip != CAP_SKIP_NONE)
			continue;
		for (uint32_t i = 0; i < pkt.payload_len; i++)
			sink ^= pkt.payload[i];
	}
	(void)capture_stats(cap);
	capture_free(cap);
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;	/* fmemopen() refuses size 0 */
	read_all(data, size, NULL);
	read_all(data, size, "tcp port 80");
	return 0;
}
