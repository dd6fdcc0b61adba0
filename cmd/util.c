/* util.c: what every command shares: messages, options, stdout, colour, JSON files. */
#include "cmd/cmd.h"
#include "lib/io.h"
#include "lib/opts.h"
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "pktmem: CMD: PREFIXmessage" on stderr, after what stdout holds. */
static void vreport(const char *cmd, const char *prefix, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "pktmem: %s%s%s", cmd ? cmd : "", cmd ? ": " : "", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cmd_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, "", fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

void cmd_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, "warning: ", fmt, ap);
	va_end(ap);
}

int cmd_parse_options(const struct opt_cmd *c, int argc, char **argv, int *rc)
{
	char err[256];
	int first = opts_parse(c, argc, argv, err, sizeof(err));

	if (first == OPTS_HELP) {
		opts_usage(c, stdout);
		*rc = EXIT_OK;
		return -1;
	}
	if (first < 0) {
		*rc = cmd_error(c->name, "%s", err);
		return -1;
	}
	return first;
}

int cmd_finish_stdout(const char *cmd, int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int e = errno;

		cmd_error(cmd, "writing standard output: %s", strerror(e ? e : EIO));
		/* What could not be written is dropped and the error cleared:
		 * a second call (the dispatcher's, after a command's own)
		 * finds nothing to report, and exit() nothing to retry. */
		__fpurge(stdout);
		clearerr(stdout);
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
