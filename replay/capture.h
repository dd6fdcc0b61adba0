/*
 * capture.h: read packet captures and decode them down to TCP.
 *
 * libpcap reads pcap (µs or ns, either byte order) and pcapng; a gzip
 * stream (detected by its magic, not its name) is inflated by zlib on the
 * way in.  Each packet is decoded through bounds-checked accessors: a
 * capture may be cut anywhere, so nothing is read past caplen and bytes
 * missing because of snaplen are counted, never invented.
 *
 * Link types: Ethernet (802.1Q / 802.1ad / QinQ tags), Linux cooked v1 and
 * v2, raw IP (DLT_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6), BSD null/loopback.
 * Anything else is counted per link type and skipped.
 *
 * pcap files are read by libpcap (nanosecond precision, so µs and ns
 * files both give ns).  pcapng files are read by this module: libpcap 1.10
 * refuses a pcapng file whose interfaces have different link types, and
 * each packet here carries its own interface's link type.
 *
 * Ownership: struct capture is opaque; a struct cap_pkt points into the
 * reader's buffer and is valid until the next capture_next() call.
 */
#ifndef PKTMEM_REPLAY_CAPTURE_H
#define PKTMEM_REPLAY_CAPTURE_H

#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Module errors (negative, below the errno range: lib/err.h). */
enum {
	CAPTURE_E_FORMAT = PM_E_CAPTURE - 1,	/* not a pcap/pcapng/gzip capture */
	CAPTURE_E_TRUNCATED = PM_E_CAPTURE - 2,	/* file header or a record cut short */
	CAPTURE_E_CORRUPT = PM_E_CAPTURE - 3,	/* absurd record length, bad block */
	CAPTURE_E_GZIP = PM_E_CAPTURE - 4,		/* gzip stream corrupt or ends early */
	CAPTURE_E_FILTER = PM_E_CAPTURE - 5,	/* BPF filter does not compile */
};

/* Why a packet did not reach TCP; counted in capture_stats.skipped[]. */
enum cap_skip {
	CAP_SKIP_NONE = 0,
	CAP_SKIP_LINKTYPE,	/* link type not supported */
	CAP_SKIP_NOT_IP,	/* ARP, LLDP, ... */
	CAP_SKIP_FRAGMENT,	/* IPv4/IPv6 fragment: not reassembled */
	CAP_SKIP_NOT_TCP,	/* UDP, ICMP, ... */
	CAP_SKIP_SHORT,		/* headers cut by snaplen or malformed */
	CAP_SKIP_FILTER,	/* rejected by --filter */
	CAP_SKIP__N
};

struct cap_pkt {
	uint64_t ts_ns;		/* capture timestamp, ns since the epoch */
	uint32_t caplen;	/* bytes in the file */
	uint32_t wirelen;	/* bytes on the wire */
	int linktype;		/* DLT_* of this packet's interface */
	uint32_t ifindex;	/* pcapng interface id, 0 for pcap */
	uint8_t nvlan;		/* VLAN tags stripped (0..2+) */
	uint16_t vlan[2];	/* outermost first, 12-bit ids */

	enum cap_skip skip;	/* CAP_SKIP_NONE: the fields below are valid */

	int family;		/* AF_INET or AF_INET6 */
	uint8_t src[16];	/* IPv4 in the first 4 bytes, the rest zero */
	uint8_t dst[16];
	uint8_t ttl;		/* TTL / hop limit */

	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;		/* TH_FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 */
	uint16_t win;		/* raw window field, unscaled */
	uint16_t mss;		/* SYN option, 0 if absent */
	int8_t wscale;		/* SYN option, -1 if absent */
	bool sack_ok;		/* SYN option */

	const uint8_t *payload;	/* captured TCP payload bytes */
	uint32_t payload_len;	/* bytes present in payload */
	uint32_t payload_missing; /* payload bytes cut by snaplen */
};

struct capture_stats {
	uint64_t packets;		/* records read */
	uint64_t bytes;			/* caplen summed */
	uint64_t tcp;			/* packets decoded to TCP */
	uint64_t truncated;		/* packets with caplen < wirelen */
	uint64_t missing_bytes;		/* payload bytes cut by snaplen */
	uint64_t skipped[CAP_SKIP__N];
	uint64_t first_ts_ns, last_ts_ns;
	/* link types seen (up to 8, in order of first packet; DLT_
	 * values), with packet counts.  The unsupported ones, for the
	 * summary, are those capture_linktype_supported() says no to. */
	int nlinks;
	int linktype[8];
	uint64_t link_packets[8];
	char format[16];		/* "pcap", "pcap-ns", "pcapng" */
	bool gzip;
	bool ended_mid_record;		/* a warning: stats cover what was read */
};

struct capture;

/*
 * Opens path ("-" for stdin).  filter may be NULL; otherwise a pcap_compile
 * expression applied offline (skipped packets count as CAP_SKIP_FILTER).
 * Returns 0, or a negative code with err filled with one line saying what
 * is wrong (libpcap's own detail included), without the file name.
 */
int capture_open(struct capture **out, const char *path, const char *filter,
		 char *err, size_t errlen);

/* The same on an open stream (fmemopen() for in-memory captures, a pipe):
 * reads from its current position, takes ownership (fclose()s it, even on
 * failure), except of stdin. */
int capture_open_fp(struct capture **out, FILE *f, const char *filter,
		    char *err, size_t errlen);

/* Reads the next packet: 1 = *pkt filled (check pkt->skip), 0 = end of
 * capture, < 0 = error (a record cut short at the end is 0 with
 * stats.ended_mid_record set, not an error). */
int capture_next(struct capture *cap, struct cap_pkt *pkt);

const struct capture_stats *capture_stats(const struct capture *cap);

/* A module code (CAPTURE_E_*) or negative errno as a short phrase, for
 * callers that have no capture_error() text at hand. */
const char *capture_strerror(int code);

/* After capture_next() < 0: one line saying what is wrong. */
const char *capture_error(const struct capture *cap);

/* "EN10MB", "LINUX_SLL2", ... or "DLT 147" (thread-local buffer) */
const char *capture_linktype_name(int linktype);

/* True when packets of this DLT are decoded (not CAP_SKIP_LINKTYPE). */
bool capture_linktype_supported(int linktype);

/* "not IP", "IP fragment (not reassembled)", ... for summaries */
const char *capture_skip_name(enum cap_skip why);

void capture_free(struct capture *cap);

#endif
