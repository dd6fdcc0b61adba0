/* util.c: the few output helpers every command shares. */
#include "cmd/cmd.h"
#include "lib/io.h"
#include "report/report.h"

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

int cmd_write_json(const char *path, const struct json_t *j, size_t flags)
{
	char *text, *nl;
	size_t len;
	int rc;

	/* One atomic writer in the project (temp file beside the target,
	 * fsync, rename; "-" is stdout): io_write_file_atomic(). */
	text = json_dumps(j, flags);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	nl = realloc(text, len + 2);
	if (!nl) {
		free(text);
		return -ENOMEM;
	}
	nl[len++] = '\n';
	nl[len] = '\0';
	if (!strcmp(path, "-"))
		fflush(stdout);	/* the text before it goes out first */
	rc = io_write_file_atomic(path, nl, len);
	free(nl);
	return rc;
}
