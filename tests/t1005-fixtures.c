/*
 * t1005: every committed fixture reads with the counts recorded when it
 * was made (fixtures/README.md); tshark agrees with these (t1011).  A
 * re-recorded fixture (regen.sh --recorded) needs its row updated.
 */
#include "tests/tap.h"
#include "tests/ingest.h"

static const struct {
	const char *name;
	uint64_t packets, tcp, payload, missing, truncated;
	const char *format;
	int gzip;
	const char *links;	/* DLT:packets,... in order of appearance */
} fx[] = {
	{ "curl-nginx.pcap", 18, 18, 7661, 0, 0, "pcap", 0, "1:18" },
	{ "curl-python-any.pcap", 34, 34, 4432, 0, 0, "pcap", 0, "276:34" },
	{ "demo.pcap", 920, 920, 84334, 0, 0, "pcap", 0, "1:920" },
	{ "synth-chunked.pcap", 63, 63, 25291, 0, 0, "pcap", 0, "1:63" },
	{ "synth-cl.pcap", 66, 66, 6624, 0, 0, "pcap", 0, "1:66" },
	{ "synth-impaired.pcap", 155, 155, 22549, 0, 0, "pcap", 0, "1:155" },
	{ "synth-ipv6.pcap", 36, 36, 3912, 0, 0, "pcap", 0, "1:36" },
	{ "synth-none.pcap", 78, 78, 3300, 0, 0, "pcap", 0, "1:78" },
	{ "synth-ns.pcap", 28, 28, 1292, 0, 0, "pcap-ns", 0, "1:28" },
	{ "synth-null-ipv6.pcap", 28, 28, 1292, 0, 0, "pcap", 0, "0:28" },
	{ "synth-pipelined.pcap", 36, 36, 10551, 0, 0, "pcap", 0, "1:36" },
	{ "synth-raw.pcap", 28, 28, 1292, 0, 0, "pcap", 0, "12:28" },
	{ "synth-sll.pcap", 28, 28, 1292, 0, 0, "pcap", 0, "113:28" },
	{ "synth-sll2.pcap", 36, 36, 7286, 0, 0, "pcap", 0, "276:36" },
	{ "synth-snaplen.pcap", 28, 28, 336, 3104, 8, "pcap", 0, "1:28" },
	{ "synth-vlan.pcap", 36, 36, 1938, 0, 0, "pcap", 0, "1:36" },
	{ "wrk-nginx.pcap", 400, 400, 40160, 0, 0, "pcap", 0, "1:400" },
	{ "dumpcap-lo-any.pcapng", 24, 24, 6550, 0, 0, "pcapng", 0, "1:12,113:12" },
	{ "synth.pcapng", 36, 36, 1890, 0, 0, "pcapng", 0, "1:36" },
	{ "synth-gzip.pcap.gz", 54, 54, 6768, 0, 0, "pcap", 1, "1:54" },
};

int main(void)
{
	const char *src = getenv("PKTMEM_SRC");
	char path[4096];

	plan_lazy();
	for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		struct capture *cap;
		char err[256], links[128] = "";
		int rc;

		snprintf(path, sizeof(path), "%s/fixtures/%s", src ? src : ".", fx[i].name);
		rc = capture_open(&cap, path, NULL, err, sizeof(err));
		if (!ok(rc == 0, "%s: opens (%s)", fx[i].name, err))
			continue;
		struct cap_pkt p;
		uint64_t payload = 0;

		while ((rc = capture_next(cap, &p)) == 1)
			if (p.skip == CAP_SKIP_NONE)
				payload += p.payload_len;
		const struct capture_stats *st = capture_stats(cap);

		for (int l = 0; l < st->nlinks; l++)
			snprintf(links + strlen(links), sizeof(links) - strlen(links), "%s%d:%llu",
				 l ? "," : "", st->linktype[l], (unsigned long long)st->link_packets[l]);
		ok(rc == 0 && !st->ended_mid_record, "%s: read to the end", fx[i].name);
		is_int(st->packets, fx[i].packets, "%s: packets", fx[i].name);
		is_int(st->tcp, fx[i].tcp, "%s: TCP packets", fx[i].name);
		is_int(payload, fx[i].payload, "%s: payload bytes", fx[i].name);
		is_int(st->missing_bytes, fx[i].missing, "%s: missing bytes", fx[i].name);
		is_int(st->truncated, fx[i].truncated, "%s: cut packets", fx[i].name);
		is_str(st->format, fx[i].format, "%s: format", fx[i].name);
		is_int(st->gzip, fx[i].gzip, "%s: gzip", fx[i].name);
		is_str(links, fx[i].links, "%s: link types", fx[i].name);
		capture_free(cap);
	}
	return exit_status();
}
