/*
 * reasm-bare: the libpcap limit for bench-reasm: a bare pcap_next_ex()
 * loop that touches only the record headers.
 *
 *   reasm-bare FILE     prints "packets bytes"
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t pkts = 0, bytes = 0;
	pcap_t *p;

	if (argc != 2) {
		fprintf(stderr, "usage: reasm-bare FILE\n");
		return 2;
	}
	p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p) {
		fprintf(stderr, "reasm-bare: '%s': %s\n", argv[1], err);
		return 2;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		pkts++;
		bytes += h->caplen;
	}
	pcap_close(p);
	printf("%" PRIu64 " %" PRIu64 "\n", pkts, bytes);
	return 0;
}
