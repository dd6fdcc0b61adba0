/*
 * capture_int.h: what the parts of the capture reader share, private to
 * replay/capture*.c (the API is capture.h):
 *
 *   capture.c          open / next / free, the libpcap reader, the filter
 *   capture_src.c      the byte source: a FILE*, or gzip through fopencookie
 *   capture_pcapng.c   the pcapng reader
 *   capture_decode.c   link layer -> IPv4/IPv6 -> TCP, and the counters
 *
 * Packet and block bytes are read through lib/bytes.h.
 */
#ifndef PKTMEM_REPLAY_CAPTURE_INT_H
#define PKTMEM_REPLAY_CAPTURE_INT_H

#include "replay/capture.h"

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <zlib.h>

/* Link-layer header types by their LINKTYPE_ numbers (tcpdump.org
 * linktypes.html) where they differ from the platform's DLT_ values. */
#define LT_RAW		101	/* LINKTYPE_RAW, DLT_RAW is 12 (14 on some BSDs) */
#define LT_IPV4		228
#define LT_IPV6		229
#define LT_NULL		0
#define LT_EN10MB	1
#define LT_LOOP		108
#define LT_SLL		113
#define LT_SLL2		276

/* Ethertypes (IEEE registry). */
#define ETH_IPV4	0x0800
#define ETH_IPV6	0x86dd
#define ETH_8021Q	0x8100
#define ETH_8021AD	0x88a8
#define ETH_QINQ	0x9100	/* pre-standard QinQ outer tag */

/* pcapng block types (draft-ietf-opsawg-pcapng section 4). */
#define PNG_SHB		0x0a0d0d0au
#define PNG_IDB		0x00000001u
#define PNG_PB		0x00000002u	/* obsolete Packet Block */
#define PNG_SPB		0x00000003u
#define PNG_EPB		0x00000006u
#define PNG_BOM		0x1a2b3c4du
/* A block bigger than this is taken as corruption, not as data (libpcap
 * uses 16 MiB as its own limit for pcapng blocks). */
#define PNG_MAX_BLOCK	(16u << 20)
#define PNG_MAX_IFACES	4096u

/* src: plain or gzip bytes behind a FILE* */

#define SRC_IN	(64 * 1024)

struct src {
	FILE *f;		/* the underlying file */
	bool own_f;		/* fclose(f) at the end (not stdin) */
	bool gzip;
	bool z_init;
	z_stream z;
	bool z_end;		/* saw Z_STREAM_END of the last member */
	int z_err;		/* 0, or CAPTURE_E_GZIP */
	bool z_short;		/* the error is an early end, not corruption */
	char z_msg[96];
	/* bytes read from f before the reader took over (magic sniffing) */
	uint8_t pre[4];
	size_t pre_len, pre_pos;
	uint8_t *in;		/* compressed input, SRC_IN bytes */
	/* decompressed bytes already produced but not yet handed out */
	uint8_t peek[64];
	size_t peek_len, peek_pos;
};

struct png_iface {
	int linktype;		/* DLT_ value */
	uint32_t snaplen;
	/* timestamp units: ts_div == 0 means 10^-exp10 seconds, else 2^-exp2 */
	bool ts_pow2;
	uint8_t ts_exp;
	int64_t ts_offset_s;
	int filter_idx;		/* index into cap->bpf, -1 before compiled */
};

struct bpf_slot {
	int linktype;
	struct bpf_program prog;
};

struct capture {
	struct src *src;
	FILE *fp;		/* what the reader reads: src->f or a cookie */
	pcap_t *pcap;		/* pcap files */
	int pcap_linktype;
	/* pcapng files */
	bool png;
	bool png_be;		/* this section is big-endian */
	uint8_t *blk;		/* current block, body after the 8-byte header */
	size_t blk_cap;
	struct png_iface *ifaces;
	uint32_t nifaces, ifaces_cap;
	/* filter */
	char *filter;
	struct bpf_slot bpf[8];
	int nbpf;
	bool eof;
	struct capture_stats st;
	char err[PCAP_ERRBUF_SIZE + 128];
};

int capture_set_err(struct capture *cap, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* capture_src.c */
/* Sniffs the first 4 bytes of cap->src; when they are the gzip magic,
 * sets up the inflater and returns the first 4 decompressed bytes
 * instead.  magic gets *got (<= 4) bytes.  0 or < 0 (cap's error set). */
int capture_src_sniff(struct capture *cap, uint8_t magic[4], size_t *got);
/* Sets cap->fp, what the reader reads: the file itself when plain and
 * seekable (got: bytes sniffed), else a cookie stream replaying the
 * sniffed bytes first.  0 or -errno. */
int capture_src_reader(struct capture *cap, size_t got);
void capture_src_release(struct src *s);

/* capture_pcapng.c */
/* Reads the section header that opens the file.  0 or < 0. */
int capture_png_open(struct capture *cap);
/* Reads blocks until one packet; 1 = packet, 0 = end, < 0 error. */
int capture_png_next(struct capture *cap, struct cap_pkt *pkt, const uint8_t **data);

/* capture_decode.c */
/* Counts one record read, whatever becomes of it. */
void capture_stats_record(struct capture_stats *st, const struct cap_pkt *pkt);
/* Fills pkt from one record and updates the counters. */
void capture_decode(struct capture *cap, struct cap_pkt *pkt, const uint8_t *data);

#endif
