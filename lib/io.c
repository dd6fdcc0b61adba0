/*
 * io.c: see io.h.
 */
#include "lib/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int io_read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		got += (size_t)r;
	}
	return 0;
}

int io_write_full(int fd, const void *buf, size_t n)
{
	size_t done = 0;
	ssize_t w;

	while (done < n) {
		w = write(fd, (const char *)buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		done += (size_t)w;
	}
	return 0;
}

ssize_t io_read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	while (got + 1 < size) {
		n = read(fd, buf + got, size - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			buf[0] = '\0';
			return n;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return (ssize_t)got;
}

size_t io_rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return n;
}

static mode_t file_mode(void)
{
	char buf[4096], *u;
	mode_t mask = 022;

	/* umask(2) would have to change the mask to read it; the status file
	 * shows it without touching process state. */
	if (io_read_small("/proc/self/status", buf, sizeof(buf)) > 0 && (u = strstr(buf, "Umask:")))
		mask = (mode_t)strtol(u + 6, NULL, 8);
	return 0666 & ~mask;
}

/* A path that names something other than a regular file (/dev/null, a
 * FIFO, a symbolic link such as /dev/stdout) is written in place:
 * renaming over it would replace the node, pipe or link with a regular
 * file (rename(2)).  O_TRUNC: a link to a longer file keeps no old tail. */
static int write_in_place(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY), rc;

	if (fd < 0)
		return -errno;
	rc = io_write_full(fd, data, len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int io_write_file_atomic(const char *path, const void *data, size_t len)
{
	struct stat st;
	char *tmp, *slash;
	int fd, rc;

	if (!strcmp(path, "-"))
		return io_write_full(STDOUT_FILENO, data, len);
	/* lstat: a symbolic link (/dev/stdout -> /proc/self/fd/1) is written
	 * through, whatever it points to; renaming over it would replace the
	 * link itself */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return write_in_place(path, data, len);
	tmp = malloc(strlen(path) + 32);
	if (!tmp)
		return -ENOMEM;
	slash = strrchr(path, '/');
	if (slash)
		sprintf(tmp, "%.*s/.%s.tmp.XXXXXX", (int)(slash - path), path, slash + 1);
	else
		sprintf(tmp, ".%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	if (fchmod(fd, file_mode()) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = io_write_full(fd, data, len);
	if (rc < 0)
		goto fail;
	if (fsync(fd) < 0) {
		rc = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		rc = -errno;
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}
