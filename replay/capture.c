/*
 * capture.c: capture ingest (see capture.h): open, next, free; pcap files
 * through libpcap; the BPF filter.
 *
 * Layers, from the file up (the parts: capture_int.h):
 *   src      the byte source, plain or gzip (capture_src.c);
 *   reader   pcap files go to libpcap (pcap_fopen_offline_with_tstamp_
 *            precision, nanosecond precision so µs and ns files both yield
 *            ns); pcapng files are read by capture_pcapng.c;
 *   decode   link layer -> IPv4/IPv6 -> TCP (capture_decode.c).
 */
#include "replay/capture_int.h"

#include "lib/bytes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int capture_set_err(struct capture *cap, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cap->err, sizeof(cap->err), fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * libpcap 1.10 reads the 4-byte magic, then the other 20 header bytes, and
 * reports "tried to read 24 file header bytes, only got N" with N counted
 * after the magic: a 10-byte file "got 6", a 4-byte one "got 0".  Say how
 * long the header really was, as for files shorter than the magic.
 */
static int truncated_pcap_header(struct capture *cap, const char *perr)
{
	const char *p = strstr(perr, "only got ");
	size_t got;

	if (p && sscanf(p, "only got %zu", &got) == 1 && got < 20)
		return capture_set_err(cap, CAPTURE_E_TRUNCATED,
				       "truncated file header (%zu of 24 bytes)", got + 4);
	return capture_set_err(cap, CAPTURE_E_TRUNCATED, "truncated file header: %s", perr);
}

const char *capture_error(const struct capture *cap)
{
	return cap->err[0] ? cap->err : "no error";
}

const char *capture_strerror(int code)
{
	switch (code) {
	case CAPTURE_E_FORMAT: return "not a capture file (pcap, pcapng or gzip)";
	case CAPTURE_E_TRUNCATED: return "truncated file header";
	case CAPTURE_E_CORRUPT: return "corrupt capture (absurd record or block length)";
	case CAPTURE_E_GZIP: return "gzip stream corrupt or ends early";
	case CAPTURE_E_FILTER: return "filter does not compile";
	}
	return code < 0 ? strerror(-code) : "no error";
}

const struct capture_stats *capture_stats(const struct capture *cap)
{
	return &cap->st;
}

const char *capture_linktype_name(int linktype)
{
	static __thread char buf[16];

	switch (linktype) {
	case LT_NULL: return "NULL";
	case LT_EN10MB: return "EN10MB";
	case 12: case 14: case LT_RAW: return "RAW";
	case LT_LOOP: return "LOOP";
	case LT_SLL: return "LINUX_SLL";
	case LT_SLL2: return "LINUX_SLL2";
	case LT_IPV4: return "IPV4";
	case LT_IPV6: return "IPV6";
	}
	/* libpcap knows the rest by name */
	const char *n = pcap_datalink_val_to_name(linktype);

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "DLT %d", linktype);
	return buf;
}

const char *capture_skip_name(enum cap_skip why)
{
	static const char *const names[CAP_SKIP__N] = {
		[CAP_SKIP_NONE] = "none",
		[CAP_SKIP_LINKTYPE] = "link type not supported",
		[CAP_SKIP_NOT_IP] = "not IP",
		[CAP_SKIP_FRAGMENT] = "IP fragment (not reassembled)",
		[CAP_SKIP_NOT_TCP] = "not TCP",
		[CAP_SKIP_SHORT] = "headers cut short or malformed",
		[CAP_SKIP_FILTER] = "rejected by filter",
	};

	return (unsigned)why < CAP_SKIP__N ? names[why] : "?";
}

bool capture_linktype_supported(int linktype)
{
	switch (linktype) {
	case LT_NULL: case LT_EN10MB: case 12: case 14: case LT_RAW:
	case LT_LOOP: case LT_SLL: case LT_SLL2: case LT_IPV4: case LT_IPV6:
		return true;
	}
	return false;
}

/* Compiles the filter for a link type once; returns its slot or < 0. */
static int filter_for(struct capture *cap, int linktype)
{
	pcap_t *dead;
	int rc;

	for (int i = 0; i < cap->nbpf; i++)
		if (cap->bpf[i].linktype == linktype)
			return i;
	if (cap->nbpf == (int)(sizeof(cap->bpf) / sizeof(cap->bpf[0])))
		return capture_set_err(cap, CAPTURE_E_FILTER,
				       "filter: too many link types");
	dead = pcap_open_dead_with_tstamp_precision(linktype, 262144,
						     PCAP_TSTAMP_PRECISION_NANO);
	if (!dead)
		return capture_set_err(cap, -ENOMEM, "pcap_open_dead failed");
	rc = pcap_compile(dead, &cap->bpf[cap->nbpf].prog, cap->filter, 1,
			  PCAP_NETMASK_UNKNOWN);
	if (rc < 0) {
		capture_set_err(cap, CAPTURE_E_FILTER, "bad filter '%s' for %s: %s",
				cap->filter, capture_linktype_name(linktype),
				pcap_geterr(dead));
		pcap_close(dead);
		return CAPTURE_E_FILTER;
	}
	pcap_close(dead);
	cap->bpf[cap->nbpf].linktype = linktype;
	return cap->nbpf++;
}

static inline void pkt_reset(struct cap_pkt *pkt)
{
	/* Only the fields decode may leave untouched need resetting; a
	 * full memset of the struct costs more than the decode itself. */
	pkt->nvlan = 0;
	pkt->family = 0;
	pkt->mss = 0;
	pkt->wscale = -1;
	pkt->sack_ok = false;
	pkt->payload = NULL;
	pkt->payload_len = 0;
	pkt->payload_missing = 0;
}

/* ------------------------------------------------------------------ */
/* pcap through libpcap                                                */

static int pcap_next_pkt(struct capture *cap, struct cap_pkt *pkt, const uint8_t **data)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	int rc = pcap_next_ex(cap->pcap, &h, &d);

	if (rc == 1) {
		pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
		pkt->caplen = h->caplen;
		pkt->wirelen = h->len;
		pkt->linktype = cap->pcap_linktype;
		pkt->ifindex = 0;
		*data = d;
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK || rc == 0)
		return 0;
	/* A gzip problem shows up to libpcap as a short or failed read. */
	if (cap->src->z_err)
		return 0;	/* reported by capture_next() */
	const char *e = pcap_geterr(cap->pcap);

	/* sf-pcap.c: "truncated dump file; tried to read N header bytes,
	 * only got M" (or "captured bytes"): the file ends inside a record. */
	if (!strncmp(e, "truncated dump file", 19)) {
		cap->st.ended_mid_record = true;
		return 0;
	}
	/* "invalid packet capture length N, bigger than maximum of M" and
	 * read errors: nothing after this point can be trusted. */
	return capture_set_err(cap, CAPTURE_E_CORRUPT, "%s", e);
}

/* ------------------------------------------------------------------ */
/* open / next / free                                                  */

static bool is_pcap_magic(const uint8_t m[4])
{
	static const uint32_t magics[] = {
		0xa1b2c3d4,	/* µs */
		0xa1b23c4d,	/* ns */
		0xa1b2cd34,	/* Kuznetzov's modified pcap; libpcap reads it */
	};
	struct pm_cur c = pm_cur(m, 4);
	uint32_t be = pm_be32(&c, 0), le = pm_le32(&c, 0);

	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (be == magics[i] || le == magics[i])
			return true;
	return false;
}

static int capture_open_src(struct capture **out, struct capture *cap,
			    const char *filter, char *err, size_t errlen);

int capture_open(struct capture **out, const char *path, const char *filter,
		 char *err, size_t errlen)
{
	FILE *f;
	struct stat sb;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!strcmp(path, "-"))
		return capture_open_fp(out, stdin, filter, err, errlen);
	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fclose(f);
		if (err && errlen)
			snprintf(err, errlen, "is a directory");
		return -EISDIR;
	}
	return capture_open_fp(out, f, filter, err, errlen);
}

int capture_open_fp(struct capture **out, FILE *f, const char *filter,
		    char *err, size_t errlen)
{
	struct capture *cap;
	struct src *s;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	cap = calloc(1, sizeof(*cap));
	s = calloc(1, sizeof(*s));
	if (!cap || !s) {
		free(cap);
		free(s);
		if (f != stdin)
			fclose(f);
		return -ENOMEM;
	}
	cap->src = s;
	s->f = f;
	s->own_f = f != stdin;
	return capture_open_src(out, cap, filter, err, errlen);
}

static int capture_open_src(struct capture **out, struct capture *cap,
			    const char *filter, char *err, size_t errlen)
{
	struct src *s = cap->src;
	uint8_t magic[4];
	struct pm_cur m = pm_cur(magic, sizeof(magic));
	size_t got;
	int rc;
	char perr[PCAP_ERRBUF_SIZE];

	if ((rc = capture_src_sniff(cap, magic, &got)) < 0)
		goto fail;
	cap->st.gzip = s->gzip;
	if (got < 4) {
		if (got == 0)
			rc = capture_set_err(cap, CAPTURE_E_TRUNCATED, "empty file");
		else
			rc = capture_set_err(cap, CAPTURE_E_TRUNCATED,
					     "truncated file header (%zu bytes)", got);
		goto fail;
	}
	cap->png = pm_be32(&m, 0) == PNG_SHB;
	if (!cap->png && !is_pcap_magic(magic)) {
		rc = capture_set_err(cap, CAPTURE_E_FORMAT,
				     "not a capture file (pcap, pcapng or gzip)");
		goto fail;
	}
	if ((rc = capture_src_reader(cap, got)) < 0)
		goto fail;
	/* larger reads than glibc's st_blksize default; kept under malloc's
	 * mmap threshold so that opening stays cheap */
	setvbuf(cap->fp, NULL, _IOFBF, 64 * 1024);
	if (cap->png) {
		snprintf(cap->st.format, sizeof(cap->st.format), "pcapng");
		if ((rc = capture_png_open(cap)) < 0)
			goto fail;
	} else {
		cap->pcap = pcap_fopen_offline_with_tstamp_precision(
			cap->fp, PCAP_TSTAMP_PRECISION_NANO, perr);
		if (!cap->pcap) {
			if (s->z_err)
				rc = capture_set_err(cap, CAPTURE_E_GZIP, "%s", s->z_msg);
			else if (strstr(perr, "truncated"))
				rc = truncated_pcap_header(cap, perr);
			else
				rc = capture_set_err(cap, CAPTURE_E_FORMAT, "%s", perr);
			goto fail;
		}
		cap->pcap_linktype = pcap_datalink(cap->pcap);
		snprintf(cap->st.format, sizeof(cap->st.format), "%s",
			 pm_be32(&m, 0) == 0xa1b23c4d || pm_be32(&m, 0) == 0x4d3cb2a1 ?
			 "pcap-ns" : "pcap");
	}
	if (filter && *filter) {
		cap->filter = strdup(filter);
		if (!cap->filter) {
			rc = -ENOMEM;
			goto fail;
		}
		/* Check the syntax now (pcapng interfaces come later). */
		rc = filter_for(cap, cap->png ? LT_EN10MB : cap->pcap_linktype);
		if (rc < 0)
			goto fail;
	}
	*out = cap;
	return 0;
fail:
	if (err && errlen)
		snprintf(err, errlen, "%s", cap->err[0] ? cap->err :
			 rc == -ENOMEM ? "out of memory" : strerror(-rc));
	capture_free(cap);
	return rc < 0 ? rc : CAPTURE_E_FORMAT;
}

int capture_next(struct capture *cap, struct cap_pkt *pkt)
{
	const uint8_t *data = NULL;
	int rc;

	if (cap->eof)
		return 0;
	pkt_reset(pkt);
	rc = cap->png ? capture_png_next(cap, pkt, &data) : pcap_next_pkt(cap, pkt, &data);
	if (rc <= 0) {
		cap->eof = true;
		if (rc == 0 && cap->src->z_err)
			return capture_set_err(cap, CAPTURE_E_GZIP, "%s", cap->src->z_msg);
		if (rc == 0 && cap->png && ferror(cap->fp))
			return capture_set_err(cap, -EIO, "read error");
		return rc;
	}
	if (cap->filter) {
		struct png_iface *ifc = cap->png ? &cap->ifaces[pkt->ifindex] : NULL;
		int idx = ifc ? ifc->filter_idx : 0;
		struct pcap_pkthdr h = {
			.caplen = pkt->caplen, .len = pkt->wirelen,
		};

		if (idx < 0) {
			idx = filter_for(cap, pkt->linktype);
			if (idx < 0) {
				cap->eof = true;
				return idx;
			}
			ifc->filter_idx = idx;
		}
		if (!pcap_offline_filter(&cap->bpf[idx].prog, &h, data)) {
			/* counted as read, skipped before decoding */
			capture_stats_record(&cap->st, pkt);
			pkt->skip = CAP_SKIP_FILTER;
			cap->st.skipped[CAP_SKIP_FILTER]++;
			return 1;
		}
	}
	capture_decode(cap, pkt, data);
	return 1;
}

void capture_free(struct capture *cap)
{
	if (!cap)
		return;
	for (int i = 0; i < cap->nbpf; i++)
		pcap_freecode(&cap->bpf[i].prog);
	if (cap->pcap)
		pcap_close(cap->pcap);	/* fclose(cap->fp) */
	else if (cap->fp)
		fclose(cap->fp);
	capture_src_release(cap->src);
	free(cap->filter);
	free(cap->ifaces);
	free(cap->blk);
	free(cap);
}
