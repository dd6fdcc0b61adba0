/*
 * ingest-bench: capture_next() against the libpcap limit.
 *
 *   ingest-bench FILE [ROUNDS]
 *
 * Alternates a bare pcap_next_ex() loop (libpcap's own reader, touching
 * only the record header) and a capture_next() loop (read + decode to
 * TCP) over FILE, ROUNDS times each (default 3), and prints the best
 * throughput of each in MB/s of file (10^6 bytes/s) and their ratio.
 */
#include "replay/capture.h"

#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run_bare(const char *path, uint64_t *pkts, uint64_t *bytes)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	struct pcap_pkthdr *h;
	const u_char *d;

	if (!p) {
		fprintf(stderr, "ingest-bench: '%s': %s\n", path, err);
		return -1;
	}
	*pkts = *bytes = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		(*pkts)++;
		*bytes += h->caplen;
	}
	pcap_close(p);
	return 0;
}

static int run_capture(const char *path, uint64_t *pkts, uint64_t *payload)
{
	struct capture *cap;
	struct cap_pkt pkt;
	char err[256];

	if (capture_open(&cap, path, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "ingest-bench: '%s': %s\n", path, err);
		return -1;
	}
	*pkts = *payload = 0;
	while (capture_next(cap, &pkt) == 1) {
		(*pkts)++;
		if (pkt.skip == CAP_SKIP_NONE)
			*payload += pkt.payload_len;
	}
	capture_free(cap);
	return 0;
}

int main(int argc, char **argv)
{
	struct stat sb;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	double best_bare = 1e30, best_cap = 1e30;
	uint64_t p1 = 0, b1 = 0, p2 = 0, b2 = 0;
	struct rusage ru;

	if (argc < 2 || stat(argv[1], &sb) < 0) {
		fprintf(stderr, "usage: ingest-bench FILE [ROUNDS]\n");
		return 2;
	}
	for (int r = 0; r < rounds; r++) {
		double t = now_s();

		if (run_bare(argv[1], &p1, &b1) < 0)
			return 2;
		t = now_s() - t;
		if (t < best_bare)
			best_bare = t;
		t = now_s();
		if (run_capture(argv[1], &p2, &b2) < 0)
			return 2;
		t = now_s() - t;
		if (t < best_cap)
			best_cap = t;
	}
	getrusage(RUSAGE_SELF, &ru);
	double mb = (double)sb.st_size / 1e6;

	printf("file: %.1f MB, %" PRIu64 " packets, %" PRIu64 " TCP payload bytes\n", mb, p2, b2);
	printf("bare pcap_next_ex: %8.1f MB/s  %6.1f Mpkt/s  (%.3f s, best of %d)\n",
	       mb / best_bare, (double)p1 / best_bare / 1e6, best_bare, rounds);
	printf("capture_next:      %8.1f MB/s  %6.1f Mpkt/s  (%.3f s, best of %d)\n",
	       mb / best_cap, (double)p2 / best_cap / 1e6, best_cap, rounds);
	printf("ratio capture_next / bare: %.2f\n", best_bare / best_cap);
	printf("peak RSS: %ld KiB\n", ru.ru_maxrss);
	return p1 == p2 ? 0 : 1;
}
