/* util.c: the few output helpers every command shares. */
#include "cmd/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cmd_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "pktmem: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

void cmd_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "pktmem: %s%swarning: ", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cmd_not_built(const char *name)
{
	fprintf(stderr, "pktmem: '%s' is not built yet\n", name);
	return EXIT_USAGE;
}

int cmd_finish_stdout(const char *cmd, int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int e = errno;
		cmd_error(cmd, "writing standard output: %s", strerror(e ? e : EIO));
		return rc ? rc : EXIT_USAGE;
	}
	return rc;
}

int cmd_use_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");

	if (nc && *nc)
		return 0;
	return isatty(fileno(f));
}

static int dump_cb(const char *buf, size_t size, void *data)
{
	return fwrite(buf, 1, size, data) == size ? 0 : -1;
}

int cmd_write_json(const char *path, const struct json_t *j, size_t flags)
{
	char tmp[4096];
	FILE *f = NULL;
	int fd = -1, rc = 0;

	if (!strcmp(path, "-")) {
		if (json_dumpf(j, stdout, flags) < 0 || putchar('\n') == EOF)
			return -(errno ? errno : EIO);
		return 0;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	/* json_dump_callback, not json_dumpf: a short write keeps its errno */
	errno = 0;
	if (json_dump_callback(j, dump_cb, f, flags) < 0 || fputc('\n', f) == EOF ||
	    fflush(f) == EOF || fsync(fileno(f)) < 0) {
		rc = -(errno ? errno : EIO);
		fclose(f);
		goto fail;
	}
	if (fclose(f) == EOF) {
		rc = -(errno ? errno : EIO);
		goto fail;
	}
	/* mkostemp makes it 0600; a report is an ordinary file */
	chmod(tmp, 0644);
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	return rc;
}
