/*
 * io.h: whole reads and writes, small files, atomic file replacement.
 *
 * The floor every layer uses for file descriptors and files: each call
 * retries EINTR and short transfers itself, so callers see all or an
 * error.  Returns 0 (or a length) on success, a negative errno on failure;
 * nothing here prints.  No state.
 */
#ifndef PKTMEM_LIB_IO_H
#define PKTMEM_LIB_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads exactly n bytes from fd.  0, -EIO when the descriptor ends first
 * (a peer that closed a pipe), or a negative errno. */
int io_read_full(int fd, void *buf, size_t n);

/* Writes all n bytes to fd.  0 or a negative errno. */
int io_write_full(int fd, const void *buf, size_t n);

/* Reads a small file (a /proc or /sys entry) into buf, at most size - 1
 * bytes, NUL-terminated.  Returns the length or a negative errno; buf is
 * "" on error.  size must be >= 1. */
ssize_t io_read_small(const char *path, char *buf, size_t size);

/* Strips trailing newlines and blanks in place; returns the new length. */
size_t io_rstrip(char *s);

/* Replaces path with data atomically: a temp file beside the target
 * (so rename(2) stays on one filesystem), fsync, rename.  Readers see
 * the old file or the whole new one, never a half one; on failure the
 * temp file is removed and the old file is untouched.  The new file's
 * mode is 0666 less the process's umask.  "-" writes to standard output;
 * a path that exists and is not a regular file (/dev/null, a FIFO, a
 * symbolic link such as /dev/stdout) is written in place, never replaced.  0 or a negative errno. */
int io_write_file_atomic(const char *path, const void *data, size_t len);

#endif
