/*
 * ingest.h: helpers shared by the capture/synth tests (t1000-t1499).
 *
 * capsum_*() read a whole capture through capture.h and summarise it,
 * with a hash over every decoded field, so two encodings of the same
 * traffic (pcap vs pcapng, plain vs gzip, either byte order) can be
 * compared in one line.
 */
#ifndef PKTMEM_TESTS_INGEST_H
#define PKTMEM_TESTS_INGEST_H

#include "replay/capture.h"
#include "replay/synth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct capsum {
	int open_rc;		/* capture_open*() */
	int next_rc;		/* last capture_next(): 0 or < 0 */
	char err[256];
	uint64_t packets, tcp, payload, missing, truncated, syns;
	uint64_t skipped[CAP_SKIP__N];
	uint64_t hash;		/* FNV-1a over decoded fields and payload */
	char format[16];
	bool gzip, mid;
	int nlinks;
	int linktype[8];
};

/* set by tests that only count: the byte-wise hash dominates their time */
static int capsum_no_hash;

static inline uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static inline void capsum_cap(struct capture *cap, struct capsum *s)
{
	struct cap_pkt p;
	int rc;

	s->hash = 0xcbf29ce484222325ull;
	while ((rc = capture_next(cap, &p)) == 1) {
		s->hash = fnv(s->hash, &p.ts_ns, sizeof(p.ts_ns));
		s->hash = fnv(s->hash, &p.skip, sizeof(p.skip));
		if (p.skip != CAP_SKIP_NONE)
			continue;
		s->payload += p.payload_len;
		if (p.flags & 0x02)
			s->syns++;
		if (capsum_no_hash)
			continue;
		s->hash = fnv(s->hash, p.src, 16);
		s->hash = fnv(s->hash, p.dst, 16);
		s->hash = fnv(s->hash, &p.sport, 2);
		s->hash = fnv(s->hash, &p.dport, 2);
		s->hash = fnv(s->hash, &p.seq, 4);
		s->hash = fnv(s->hash, &p.ack, 4);
		s->hash = fnv(s->hash, &p.flags, 1);
		s->hash = fnv(s->hash, &p.mss, 2);
		s->hash = fnv(s->hash, &p.wscale, 1);
		s->hash = fnv(s->hash, p.payload, p.payload_len);
		s->hash = fnv(s->hash, &p.payload_missing, 4);
	}
	s->next_rc = rc;
	if (rc < 0)
		snprintf(s->err, sizeof(s->err), "%s", capture_error(cap));
	const struct capture_stats *st = capture_stats(cap);

	s->packets = st->packets;
	s->tcp = st->tcp;
	s->missing = st->missing_bytes;
	s->truncated = st->truncated;
	memcpy(s->skipped, st->skipped, sizeof(s->skipped));
	memcpy(s->format, st->format, sizeof(s->format));
	s->gzip = st->gzip;
	s->mid = st->ended_mid_record;
	s->nlinks = st->nlinks;
	memcpy(s->linktype, st->linktype, sizeof(s->linktype));
}

/* Summarises n bytes at buf as a capture; returns s->open_rc. */
static inline int capsum_mem(const void *buf, size_t n, const char *filter,
			     struct capsum *s)
{
	struct capture *cap;
	FILE *f;

	memset(s, 0, sizeof(*s));
	/* glibc's fmemopen() refuses size 0 */
	f = n ? fmemopen((void *)buf, n, "rb") : fopen("/dev/null", "rb");
	if (!f)
		return s->open_rc = -errno;
	s->open_rc = capture_open_fp(&cap, f, filter, s->err, sizeof(s->err));
	if (s->open_rc < 0)
		return s->open_rc;
	capsum_cap(cap, s);
	capture_free(cap);
	return 0;
}

static inline int capsum_path(const char *path, const char *filter, struct capsum *s)
{
	struct capture *cap;

	memset(s, 0, sizeof(*s));
	s->open_rc = capture_open(&cap, path, filter, s->err, sizeof(s->err));
	if (s->open_rc < 0)
		return s->open_rc;
	capsum_cap(cap, s);
	capture_free(cap);
	return 0;
}

/* synth into memory; bails out on failure */
static inline uint8_t *synth_mem(const struct synth_opts *o, size_t *n,
				 struct synth_stats *st)
{
	uint8_t *buf;
	int rc = synth_write_mem(o, &buf, n, st);

	if (rc < 0) {
		printf("Bail out! synth_write_mem: %s (%s)\n", strerror(-rc),
		       synth_opts_check(o) ? synth_opts_check(o) : "");
		exit(255);
	}
	return buf;
}

static inline uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
		*n = (size_t)len;
	}
	fclose(f);
	return buf;
}

#endif
