/*
 * report-int.h: what report.c (the model and writer) and json_read.c (the
 * validating reader) share and nobody else needs, as libpcap's pcap-int.h.
 * Not for other directories: they see report.h.
 */
#ifndef PKTMEM_REPORT_REPORT_INT_H
#define PKTMEM_REPORT_REPORT_INT_H

#include <stddef.h>

/* Copies src (NULL: "") into a fixed field of size bytes, always
 * terminated, truncating. */
void report_setstr(char *dst, size_t size, const char *src);
#define SETSTR(field, src) report_setstr((field), sizeof(field), (src))

#endif
