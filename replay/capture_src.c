/*
 * capture_src.c: the capture's byte source (capture_int.h): a FILE*
 * (regular file or stdin), and when the first two bytes are the gzip magic
 * (RFC 1952 section 2.3.1: 1f 8b) a zlib inflater on top, exposed to
 * libpcap as a FILE* through fopencookie(3).
 */
#include "replay/capture_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Raw bytes from the underlying file, after any sniffed prefix. */
static size_t src_raw_read(struct src *s, uint8_t *buf, size_t n)
{
	size_t got = 0;

	if (s->pre_pos < s->pre_len) {
		got = s->pre_len - s->pre_pos;
		if (got > n)
			got = n;
		memcpy(buf, s->pre + s->pre_pos, got);
		s->pre_pos += got;
	}
	if (got < n)
		got += fread(buf + got, 1, n - got, s->f);
	return got;
}

/* Inflate up to n bytes into buf; 0 at the end or on error (s->z_err). */
static size_t src_inflate(struct src *s, uint8_t *buf, size_t n)
{
	s->z.next_out = buf;
	s->z.avail_out = (uInt)n;
	while (s->z.avail_out > 0 && !s->z_err && !s->z_end) {
		if (s->z.avail_in == 0) {
			size_t got = src_raw_read(s, s->in, SRC_IN);

			if (got == 0) {
				if (ferror(s->f))
					snprintf(s->z_msg, sizeof(s->z_msg),
						 "read error: %s", strerror(errno));
				else {
					snprintf(s->z_msg, sizeof(s->z_msg),
						 "gzip stream ends early");
					s->z_short = true;
				}
				s->z_err = CAPTURE_E_GZIP;
				break;
			}
			s->z.next_in = s->in;
			s->z.avail_in = (uInt)got;
		}
		int rc = inflate(&s->z, Z_NO_FLUSH);

		if (rc == Z_STREAM_END) {
			/* RFC 1952 allows several members back to back: go
			 * on if more input follows, else stop cleanly. */
			if (s->z.avail_in == 0) {
				size_t got = src_raw_read(s, s->in, SRC_IN);

				if (got == 0) {
					s->z_end = true;
					break;
				}
				s->z.next_in = s->in;
				s->z.avail_in = (uInt)got;
			}
			if (inflateReset(&s->z) != Z_OK) {
				snprintf(s->z_msg, sizeof(s->z_msg), "gzip: inflateReset failed");
				s->z_err = CAPTURE_E_GZIP;
			}
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			snprintf(s->z_msg, sizeof(s->z_msg), "corrupt gzip data: %s",
				 s->z.msg ? s->z.msg : zError(rc));
			s->z_err = CAPTURE_E_GZIP;
		}
	}
	return n - s->z.avail_out;
}

static ssize_t src_cookie_read(void *cookie, char *buf, size_t n)
{
	struct src *s = cookie;
	size_t got = 0;

	if (s->peek_pos < s->peek_len) {
		got = s->peek_len - s->peek_pos;
		if (got > n)
			got = n;
		memcpy(buf, s->peek + s->peek_pos, got);
		s->peek_pos += got;
		if (got == n)
			return (ssize_t)got;
	}
	if (s->gzip)
		got += src_inflate(s, (uint8_t *)buf + got, n - got);
	else
		got += src_raw_read(s, (uint8_t *)buf + got, n - got);
	/* A corrupt stream reads as an error, so libpcap stops at once;
	 * an early end reads as end of file and is reported afterwards. */
	if (got == 0 && s->z_err && !s->z_short) {
		errno = EIO;
		return -1;
	}
	return (ssize_t)got;
}

static int src_cookie_close(void *cookie)
{
	(void)cookie;	/* struct src is released by capture_free() */
	return 0;
}

void capture_src_release(struct src *s)
{
	if (!s)
		return;
	if (s->z_init)
		inflateEnd(&s->z);
	if (s->f && s->own_f)
		fclose(s->f);
	free(s->in);
	free(s);
}

int capture_src_sniff(struct capture *cap, uint8_t magic[4], size_t *got)
{
	struct src *s = cap->src;

	/* Sniff the first bytes; they are replayed to the reader through
	 * s->pre, so pipes work as well as files. */
	*got = fread(s->pre, 1, 4, s->f);
	s->pre_len = *got;
	if (*got >= 2 && s->pre[0] == 0x1f && s->pre[1] == 0x8b) {
		s->gzip = true;
		s->in = malloc(SRC_IN);
		if (!s->in)
			return -ENOMEM;
		/* 16 + MAX_WBITS: a gzip wrapper, not zlib (zlib.h) */
		if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
			return -ENOMEM;
		s->z_init = true;
		s->peek_len = src_inflate(s, s->peek, 4);
		memcpy(magic, s->peek, s->peek_len);
		*got = s->peek_len;
		if (s->z_err && (!s->z_short || *got < 4))
			return capture_set_err(cap, CAPTURE_E_GZIP, "%s", s->z_msg);
		return 0;
	}
	if (ferror(s->f)) {
		int rc = -errno;

		return capture_set_err(cap, rc, "read error: %s", strerror(-rc));
	}
	memcpy(magic, s->pre, *got);
	return 0;
}

int capture_src_reader(struct capture *cap, size_t got)
{
	struct src *s = cap->src;
	cookie_io_functions_t io = {
		.read = src_cookie_read, .close = src_cookie_close,
	};

	if (!s->gzip && s->f != stdin && ftell(s->f) == (long)got &&
	    fseek(s->f, 0, SEEK_SET) == 0) {
		/* A plain seekable file: libpcap reads it straight. */
		s->pre_len = 0;
		cap->fp = s->f;
		s->own_f = false;	/* pcap_close() / fclose(cap->fp) own it */
		return 0;
	}
	cap->fp = fopencookie(s, "rb", io);
	return cap->fp ? 0 : -errno;
}
