/*
 * synth.h: write deterministic captures of HTTP/1.1 over TCP.
 *
 * Each flow is a complete conversation: a three-way handshake with MSS,
 * window-scale and SACK-permitted options, the client's requests (framed
 * by Content-Length, chunked, or GETs without a body; optionally
 * pipelined), the server's "HTTP/1.1 200 OK" responses with
 * Content-Length, and FIN both ways.  IP and TCP checksums are correct, so
 * a replayed frame passes the receiving stack's checks.  Client data can be
 * reordered, retransmitted and duplicated at chosen rates.
 *
 * Everything comes from the seed: the same options give a byte-identical
 * file (timestamps start at a fixed epoch, not at the wall clock; the gzip
 * header carries no mtime).
 *
 * pcap files are written by libpcap (pcap_dump); pcapng by this module (one
 * section, one interface, Enhanced Packet Blocks), since libpcap 1.10
 * cannot write pcapng.  Ownership: the caller owns the options and, for
 * synth_write_mem(), the returned buffer (free()).
 */
#ifndef PKTMEM_REPLAY_SYNTH_H
#define PKTMEM_REPLAY_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum synth_framing {
	SYNTH_FRAMING_CL,	/* POST with Content-Length */
	SYNTH_FRAMING_CHUNKED,	/* POST with Transfer-Encoding: chunked */
	SYNTH_FRAMING_NONE,	/* GET without a body */
	SYNTH_FRAMING_MIXED,	/* per request: GET, CL POST or chunked POST */
};

enum synth_link {
	SYNTH_LINK_EN10MB,
	SYNTH_LINK_SLL,
	SYNTH_LINK_SLL2,
	SYNTH_LINK_RAW,		/* LINKTYPE_RAW (101) */
	SYNTH_LINK_NULL,	/* BSD loopback, AF in little-endian order */
};

struct synth_opts {
	uint32_t flows;		/* TCP connections, >= 1 */
	uint32_t requests;	/* per flow */
	enum synth_framing framing;
	uint32_t body_size;	/* bytes per request body (POST) */
	bool json;		/* JSON bodies (else printable filler) */
	uint32_t pipeline;	/* requests sent before waiting, >= 1 */
	uint32_t segment_size;	/* client MSS: max payload bytes per segment */
	double reorder;		/* per client segment, 0..1 */
	double retransmit;
	double duplicate;
	bool ipv6;
	int vlan;		/* 802.1Q id 0..4095, -1 none */
	enum synth_link link;
	bool nanosecond;	/* ns timestamps (pcap magic a1b23c4d) */
	bool pcapng;
	bool gzip;
	uint32_t snaplen;	/* bytes kept per packet (cut packets) */
	uint64_t seed;
};

/* What was written: the ground truth for tests. */
struct synth_stats {
	uint64_t packets;
	uint64_t flows;
	uint64_t requests;
	uint64_t c2s_bytes;	/* client stream bytes (each byte once) */
	uint64_t s2c_bytes;
	uint64_t payload_bytes;	/* TCP payload summed over packets, retransmits
				 * and duplicates included, before snaplen */
	uint64_t captured_payload_bytes; /* the same after snaplen */
	uint64_t data_segments;	/* client data segments, first copies */
	uint64_t reordered;	/* client segments sent after their successor */
	uint64_t retransmitted;	/* extra copies sent later */
	uint64_t duplicated;	/* extra copies sent at once */
	uint64_t truncated;	/* packets cut by snaplen */
};

/* Defaults: 1 flow, 1 request, cl, 64-byte body, pipeline 1, segment
 * size 1460, EN10MB, µs pcap, snaplen 262144, seed 1. */
void synth_opts_init(struct synth_opts *o);

/* NULL when the options are usable, else one line saying why not. */
const char *synth_opts_check(const struct synth_opts *o);

/* Writes to path ("-" = stdout).  Returns 0 or negative errno
 * (-EINVAL: options rejected by synth_opts_check()).  st may be NULL. */
int synth_write(const struct synth_opts *o, const char *path,
		struct synth_stats *st);

/* The same into a malloc()ed buffer.  Only the tests call it
 * (tests/ingest.h, t1004-synth.c): captures built in memory, no file. */
int synth_write_mem(const struct synth_opts *o, uint8_t **buf, size_t *len,
		    struct synth_stats *st);

#endif
