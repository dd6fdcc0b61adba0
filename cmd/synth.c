/* synth.c: 'pktmem synth': write a deterministic HTTP capture (replay/synth.h). */
#include "cmd/cmd.h"
#include "replay/synth.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
"usage: pktmem synth --out FILE [options]\n"
"\n"
"Writes a deterministic capture of complete HTTP/1.1 conversations: handshake\n"
"with MSS/window-scale/SACK options, requests, '200 OK' responses with\n"
"Content-Length, FIN both ways; correct IP and TCP checksums.  The same options\n"
"and seed give a byte-identical file.\n"
"\n"
"  -o, --out FILE          output file ('-' for standard output)\n"
"      --flows N           TCP connections (default 1)\n"
"      --requests N        requests per connection (default 1)\n"
"      --framing F         cl | chunked | none (GET, no body) | mixed (default cl)\n"
"      --body-size N       bytes per request body (default 64)\n"
"      --json              JSON bodies (default: printable filler)\n"
"      --pipeline N        requests sent before waiting for responses (default 1)\n"
"      --segment-size N    client MSS: payload bytes per segment (default 1460)\n"
"      --reorder R         rate 0..1: a client segment swapped with the next\n"
"      --retransmit R      rate 0..1: a client segment sent again later\n"
"      --duplicate R       rate 0..1: a client segment sent twice at once\n"
"      --ipv6              IPv6 instead of IPv4\n"
"      --vlan ID           an 802.1Q tag (en10mb, sll, sll2)\n"
"      --link L            en10mb | sll | sll2 | raw | null (default en10mb)\n"
"      --nanosecond        nanosecond timestamps\n"
"      --pcapng            pcapng instead of pcap\n"
"      --gzip              gzip the output\n"
"      --snaplen N         keep at most N bytes per packet (default 262144)\n"
"      --seed N            random seed (default 1)\n"
"  -q, --quiet             no summary line\n"
"  -h, --help              this help\n";

static int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long long x;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int parse_rate(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || !(*v >= 0 && *v <= 1))
		return -1;
	return 0;
}

int cmd_synth(int argc, char **argv)
{
	enum { O_FLOWS = 256, O_REQ, O_FRAMING, O_BODY, O_JSON, O_PIPE, O_SEG,
	       O_REORDER, O_RTX, O_DUP, O_V6, O_VLAN, O_LINK, O_NS, O_PNG, O_GZ,
	       O_SNAP, O_SEED };
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "flows", required_argument, NULL, O_FLOWS },
		{ "requests", required_argument, NULL, O_REQ },
		{ "framing", required_argument, NULL, O_FRAMING },
		{ "body-size", required_argument, NULL, O_BODY },
		{ "json", no_argument, NULL, O_JSON },
		{ "pipeline", required_argument, NULL, O_PIPE },
		{ "segment-size", required_argument, NULL, O_SEG },
		{ "reorder", required_argument, NULL, O_REORDER },
		{ "retransmit", required_argument, NULL, O_RTX },
		{ "duplicate", required_argument, NULL, O_DUP },
		{ "ipv6", no_argument, NULL, O_V6 },
		{ "vlan", required_argument, NULL, O_VLAN },
		{ "link", required_argument, NULL, O_LINK },
		{ "nanosecond", no_argument, NULL, O_NS },
		{ "pcapng", no_argument, NULL, O_PNG },
		{ "gzip", no_argument, NULL, O_GZ },
		{ "snaplen", required_argument, NULL, O_SNAP },
		{ "seed", required_argument, NULL, O_SEED },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct synth_opts o;
	struct synth_stats st;
	const char *out = NULL, *why;
	int c, quiet = 0, rc;
	uint32_t v;

	synth_opts_init(&o);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'q': quiet = 1; break;
		case 'h':
			fputs(usage, stdout);
			return cmd_finish_stdout("synth", EXIT_OK);
		case O_FLOWS: case O_REQ: case O_BODY: case O_PIPE: case O_SEG:
		case O_VLAN: case O_SNAP:
			if (parse_u32(optarg, &v)) {
				const char *name = "?";

				for (int i = 0; lo[i].name; i++)
					if (lo[i].val == c)
						name = lo[i].name;
				return cmd_error("synth", "'%s': not a number for --%s",
						 optarg, name);
			}
			if (c == O_FLOWS) o.flows = v;
			else if (c == O_REQ) o.requests = v;
			else if (c == O_BODY) o.body_size = v;
			else if (c == O_PIPE) o.pipeline = v;
			else if (c == O_SEG) o.segment_size = v;
			else if (c == O_VLAN) o.vlan = v > 4095 ? 4096 : (int)v;
			else o.snaplen = v;
			break;
		case O_SEED: {
			char *end;

			errno = 0;
			o.seed = strtoull(optarg, &end, 0);
			if (errno || !*optarg || *end)
				return cmd_error("synth", "'%s': not a number for --seed", optarg);
			break;
		}
		case O_FRAMING:
			if (!strcmp(optarg, "cl")) o.framing = SYNTH_FRAMING_CL;
			else if (!strcmp(optarg, "chunked")) o.framing = SYNTH_FRAMING_CHUNKED;
			else if (!strcmp(optarg, "none")) o.framing = SYNTH_FRAMING_NONE;
			else if (!strcmp(optarg, "mixed")) o.framing = SYNTH_FRAMING_MIXED;
			else
				return cmd_error("synth", "'%s': unknown framing (cl, chunked, none, mixed)",
						 optarg);
			break;
		case O_LINK:
			if (!strcmp(optarg, "en10mb")) o.link = SYNTH_LINK_EN10MB;
			else if (!strcmp(optarg, "sll")) o.link = SYNTH_LINK_SLL;
			else if (!strcmp(optarg, "sll2")) o.link = SYNTH_LINK_SLL2;
			else if (!strcmp(optarg, "raw")) o.link = SYNTH_LINK_RAW;
			else if (!strcmp(optarg, "null")) o.link = SYNTH_LINK_NULL;
			else
				return cmd_error("synth", "'%s': unknown link type (en10mb, sll, sll2, raw, null)",
						 optarg);
			break;
		case O_REORDER: case O_RTX: case O_DUP: {
			double r;

			if (parse_rate(optarg, &r))
				return cmd_error("synth", "'%s': a rate must be a number from 0 to 1",
						 optarg);
			if (c == O_REORDER) o.reorder = r;
			else if (c == O_RTX) o.retransmit = r;
			else o.duplicate = r;
			break;
		}
		case O_JSON: o.json = true; break;
		case O_V6: o.ipv6 = true; break;
		case O_NS: o.nanosecond = true; break;
		case O_PNG: o.pcapng = true; break;
		case O_GZ: o.gzip = true; break;
		case '?':
		default:
			if (optopt)
				return cmd_error("synth", "'-%c': unknown option or missing value (see --help)",
						 optopt);
			return cmd_error("synth", "'%s': unknown option or missing value (see --help)",
					 argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_error("synth", "'%s': unexpected argument (see --help)", argv[optind]);
	if (!out)
		return cmd_error("synth", "no output file: give --out FILE (see --help)");
	if (!strcmp(out, "-") && isatty(STDOUT_FILENO))
		return cmd_error("synth", "not writing a capture to a terminal: redirect standard output or give --out FILE");
	why = synth_opts_check(&o);
	if (why)
		return cmd_error("synth", "%s", why);
	rc = synth_write(&o, out, &st);
	if (rc < 0)
		return cmd_error("synth", "'%s': %s", out, strerror(-rc));
	if (!quiet && strcmp(out, "-"))
		printf("synth: wrote '%s': %" PRIu64 " packets, %" PRIu64 " flows, %" PRIu64
		       " requests, %" PRIu64 " bytes client to server\n", out, st.packets,
		       st.flows, st.requests, st.c2s_bytes);
	return cmd_finish_stdout("synth", EXIT_OK);
}
