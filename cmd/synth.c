/* synth.c: 'pktmem synth': write a deterministic HTTP capture (replay/synth.h). */
#include "cmd/cmd.h"
#include "lib/opts.h"
#include "replay/synth.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The OPT_CALLBACKs: each stores into o->value or says why not, naming
 * the value first ("'x': not a number for --flows"). */
static int opt_u32(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	if (parse_u32(arg, o->value)) {
		snprintf(err, errlen, "'%s': not a number for --%s", arg, o->long_name);
		return -1;
	}
	return 0;
}

/* Over 4095 is kept as 4096 for synth_opts_check() to refuse by name. */
static int opt_vlan(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	uint32_t v;

	if (parse_u32(arg, &v)) {
		snprintf(err, errlen, "'%s': not a number for --%s", arg, o->long_name);
		return -1;
	}
	*(int *)o->value = v > 4095 ? 4096 : (int)v;
	return 0;
}

static int opt_seed(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	*(uint64_t *)o->value = strtoull(arg, &end, 0);
	if (errno || !*arg || *end) {
		snprintf(err, errlen, "'%s': not a number for --seed", arg);
		return -1;
	}
	return 0;
}

static int opt_rate(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	if (parse_rate(arg, o->value)) {
		snprintf(err, errlen, "'%s': a rate must be a number from 0 to 1", arg);
		return -1;
	}
	return 0;
}

/* The names of --framing and --link, indexed by their enums. */
static const char *const framing_names[] = {
	[SYNTH_FRAMING_CL] = "cl", [SYNTH_FRAMING_CHUNKED] = "chunked",
	[SYNTH_FRAMING_NONE] = "none", [SYNTH_FRAMING_MIXED] = "mixed",
};
static const char *const link_names[] = {
	[SYNTH_LINK_EN10MB] = "en10mb", [SYNTH_LINK_SLL] = "sll", [SYNTH_LINK_SLL2] = "sll2",
	[SYNTH_LINK_RAW] = "raw", [SYNTH_LINK_NULL] = "null",
};

/* Index of arg in names[n], or -1. */
static int name_index(const char *arg, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return i;
	return -1;
}

static int opt_framing(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	int i = name_index(arg, framing_names, (int)(sizeof(framing_names) / sizeof(framing_names[0])));

	if (i < 0) {
		snprintf(err, errlen, "'%s': unknown framing (cl, chunked, none, mixed)", arg);
		return -1;
	}
	*(enum synth_framing *)o->value = (enum synth_framing)i;
	return 0;
}

static int opt_link(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	int i = name_index(arg, link_names, (int)(sizeof(link_names) / sizeof(link_names[0])));

	if (i < 0) {
		snprintf(err, errlen, "'%s': unknown link type (en10mb, sll, sll2, raw, null)", arg);
		return -1;
	}
	*(enum synth_link *)o->value = (enum synth_link)i;
	return 0;
}

int cmd_synth(int argc, char **argv)
{
	struct synth_opts o;
	const char *out = NULL, *why;
	bool quiet = false;
	const struct opt opts[] = {
		OPT_STRING('o', "out", &out, "FILE", "output file ('-' for standard output)"),
		OPT_CALLBACK(0, "flows", &o.flows, "N", opt_u32, "TCP connections (default 1)"),
		OPT_CALLBACK(0, "requests", &o.requests, "N", opt_u32,
			     "requests per connection (default 1)"),
		OPT_CALLBACK(0, "framing", &o.framing, "F", opt_framing,
			     "cl | chunked | none (GET, no body) | mixed (default cl)"),
		OPT_CALLBACK(0, "body-size", &o.body_size, "N", opt_u32,
			     "bytes per request body (default 64)"),
		OPT_BOOL(0, "json", &o.json, "JSON bodies (default: printable filler)"),
		OPT_CALLBACK(0, "pipeline", &o.pipeline, "N", opt_u32,
			     "requests sent before waiting for responses (default 1)"),
		OPT_CALLBACK(0, "segment-size", &o.segment_size, "N", opt_u32,
			     "client MSS: payload bytes per segment (default 1460)"),
		OPT_CALLBACK(0, "reorder", &o.reorder, "R", opt_rate,
			     "rate 0..1: a client segment swapped with the next"),
		OPT_CALLBACK(0, "retransmit", &o.retransmit, "R", opt_rate,
			     "rate 0..1: a client segment sent again later"),
		OPT_CALLBACK(0, "duplicate", &o.duplicate, "R", opt_rate,
			     "rate 0..1: a client segment sent twice at once"),
		OPT_BOOL(0, "ipv6", &o.ipv6, "IPv6 instead of IPv4"),
		OPT_CALLBACK(0, "vlan", &o.vlan, "ID", opt_vlan, "an 802.1Q tag (en10mb, sll, sll2)"),
		OPT_CALLBACK(0, "link", &o.link, "L", opt_link,
			     "en10mb | sll | sll2 | raw | null (default en10mb)"),
		OPT_BOOL(0, "nanosecond", &o.nanosecond, "nanosecond timestamps"),
		OPT_BOOL(0, "pcapng", &o.pcapng, "pcapng instead of pcap"),
		OPT_BOOL(0, "gzip", &o.gzip, "gzip the output"),
		OPT_CALLBACK(0, "snaplen", &o.snaplen, "N", opt_u32,
			     "keep at most N bytes per packet (default 262144)"),
		OPT_CALLBACK(0, "seed", &o.seed, "N", opt_seed, "random seed (default 1)"),
		OPT_BOOL('q', "quiet", &quiet, "no summary line"),
		OPT_TEXT("  -h, --help              this help\n"),
		OPT_END(),
	};
	const struct opt_cmd cmd = {
		.name = "synth",
		.usage = "usage: pktmem synth --out FILE [options]\n",
		.intro =
		"\n"
		"Writes a deterministic capture of complete HTTP/1.1 conversations: handshake\n"
		"with MSS/window-scale/SACK options, requests, '200 OK' responses with\n"
		"Content-Length, FIN both ways; correct IP and TCP checksums.  The same options\n"
		"and seed give a byte-identical file.\n"
		"\n",
		.opts = opts,
		.indent_long = true,
	};
	struct synth_stats st;
	int first, rc;

	synth_opts_init(&o);
	first = cmd_parse_options(&cmd, argc, argv, &rc);
	if (first < 0)
		return rc;
	if (first < argc)
		return cmd_error("synth", "'%s': unexpected argument (see --help)", argv[first]);
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
	return EXIT_OK;
}
