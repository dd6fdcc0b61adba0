/*
 * capdump: prints what capture.c decodes, for the ingest tests.
 *
 *   capdump [-p] [-f FILTER] CAPTURE
 *
 * Last line (always): "packets=N tcp=N payload=N missing=N truncated=N
 * skip=a,b,c,d,e,f format=F gzip=0|1 mid=0|1 links=DLT:N,..."; with -p
 * one line per packet before it.  Exit 0, or 2 with "error CODE: MSG".
 */
#include "replay/capture.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct capture *cap;
	struct cap_pkt pkt;
	const char *filter = NULL;
	char err[256];
	int per_pkt = 0, c, rc;
	uint64_t payload = 0;

	while ((c = getopt(argc, argv, "pf:")) != -1) {
		if (c == 'p')
			per_pkt = 1;
		else if (c == 'f')
			filter = optarg;
		else
			return 2;
	}
	if (optind >= argc)
		return 2;
	rc = capture_open(&cap, argv[optind], filter, err, sizeof(err));
	if (rc < 0) {
		printf("error %d: %s\n", rc, err);
		return 2;
	}
	while ((rc = capture_next(cap, &pkt)) == 1) {
		if (pkt.skip == CAP_SKIP_NONE)
			payload += pkt.payload_len;
		if (!per_pkt)
			continue;
		if (pkt.skip != CAP_SKIP_NONE) {
			printf("%" PRIu64 " skip=%d link=%d caplen=%u\n", pkt.ts_ns,
			       pkt.skip, pkt.linktype, pkt.caplen);
			continue;
		}
		char s[64], d[64];

		inet_ntop(pkt.family, pkt.src, s, sizeof(s));
		inet_ntop(pkt.family, pkt.dst, d, sizeof(d));
		printf("%" PRIu64 " link=%d if=%u vlan=%u:%u,%u %s.%u > %s.%u "
		       "flags=%02x seq=%u ack=%u win=%u mss=%u ws=%d sack=%d "
		       "len=%u missing=%u\n",
		       pkt.ts_ns, pkt.linktype, pkt.ifindex, pkt.nvlan, pkt.vlan[0],
		       pkt.vlan[1], s, pkt.sport, d, pkt.dport, pkt.flags, pkt.seq,
		       pkt.ack, pkt.win, pkt.mss, pkt.wscale, pkt.sack_ok,
		       pkt.payload_len, pkt.payload_missing);
	}
	const struct capture_stats *st = capture_stats(cap);

	if (rc < 0)
		printf("error %d: %s\n", rc, capture_error(cap));
	printf("packets=%" PRIu64 " tcp=%" PRIu64 " payload=%" PRIu64
	       " missing=%" PRIu64 " truncated=%" PRIu64 " skip=", st->packets,
	       st->tcp, payload, st->missing_bytes, st->truncated);
	for (int i = 1; i < CAP_SKIP__N; i++)
		printf("%s%" PRIu64, i > 1 ? "," : "", st->skipped[i]);
	printf(" format=%s gzip=%d mid=%d links=", st->format, st->gzip,
	       st->ended_mid_record);
	for (int i = 0; i < st->nlinks; i++)
		printf("%s%d:%" PRIu64, i ? "," : "", st->linktype[i], st->link_packets[i]);
	printf(" first=%" PRIu64 " last=%" PRIu64 "\n", st->first_ts_ns, st->last_ts_ns);
	capture_free(cap);
	return rc < 0 ? 2 : 0;
}
