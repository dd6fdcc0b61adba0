/*
 * opts.c: see opts.h.  getopt_long(3) does the scanning; the table is
 * turned into its struct option array and short-option string here.
 */
#include "lib/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define LONG_BASE 256	/* getopt_long's val for table entry i: LONG_BASE + i */

static size_t count_opts(const struct opt *t)
{
	size_t n = 0;

	while (t[n].type != OPT_T_END)
		n++;
	return n;
}

int opts_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int store(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	uint64_t v;

	switch (o->type) {
	case OPT_T_BOOL:
		*(bool *)o->value = true;
		return 0;
	case OPT_T_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPT_T_U64:
		if (opts_parse_u64(arg, o->min, o->max, &v) < 0) {
			if (o->max == UINT64_MAX)
				snprintf(err, errlen, "--%s '%s': want a whole number of at least %llu",
					 o->long_name, arg, (unsigned long long)o->min);
			else
				snprintf(err, errlen, "--%s '%s': want a whole number from %llu to %llu",
					 o->long_name, arg, (unsigned long long)o->min,
					 (unsigned long long)o->max);
			return -1;
		}
		*(uint64_t *)o->value = v;
		return 0;
	case OPT_T_CALLBACK:
		if (o->cb(o, arg, err, errlen) < 0) {
			if (!err[0])
				snprintf(err, errlen, "--%s: invalid value", o->long_name);
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

static void append_see(const struct opt_cmd *cmd, char *err, size_t errlen)
{
	size_t n = strlen(err);

	if (n < errlen)
		snprintf(err + n, errlen - n, "; see 'pktmem %s --help'", cmd->name);
}

int opts_parse(const struct opt_cmd *cmd, int argc, char **argv, char *err, size_t errlen)
{
	size_t n = count_opts(cmd->opts), i, k = 0, s = 0;
	struct option *lo = calloc(n + 2, sizeof(*lo));
	char *shorts = malloc(2 * n + 4);
	const struct opt *o;
	int c, rc = OPTS_ERROR;

	err[0] = '\0';
	if (!lo || !shorts) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* ':' first: a missing argument returns ':' instead of '?', and
	 * getopt prints nothing itself (opterr = 0 below). */
	shorts[s++] = ':';
	shorts[s++] = 'h';
	for (i = 0; i < n; i++) {
		o = &cmd->opts[i];
		if (o->type == OPT_T_TEXT)
			continue;
		if (o->long_name) {
			lo[k].name = o->long_name;
			lo[k].has_arg = o->argh ? required_argument : no_argument;
			lo[k].val = LONG_BASE + (int)i;
			k++;
		}
		if (o->short_name) {
			shorts[s++] = (char)o->short_name;
			if (o->argh)
				shorts[s++] = ':';
		}
	}
	lo[k].name = "help";
	lo[k].val = 'h';
	shorts[s] = '\0';

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (c == 'h') {
			rc = OPTS_HELP;
			goto out;
		}
		if (c == '?' || c == ':') {
			/* argv[optind - 1] is the word getopt stopped at; for a
			 * grouped short option it names the group, so name the
			 * letter itself. */
			const char *word = argv[optind - 1];

			if (c == ':')
				snprintf(err, errlen, "option '%s' needs a value",
					 optopt && optopt < LONG_BASE ? (char[]){ '-', (char)optopt, 0 } : word);
			else if (optopt)
				snprintf(err, errlen, "unknown option '-%c'", optopt);
			else
				snprintf(err, errlen, "unknown option '%s'", word);
			append_see(cmd, err, errlen);
			goto out;
		}
		if (c >= LONG_BASE) {
			o = &cmd->opts[c - LONG_BASE];
		} else {
			for (i = 0; i < n; i++)
				if (cmd->opts[i].type != OPT_T_TEXT && cmd->opts[i].short_name == c)
					break;
			o = &cmd->opts[i];
		}
		if (store(o, optarg, err, errlen) < 0) {
			append_see(cmd, err, errlen);
			goto out;
		}
	}
	rc = optind;
out:
	free(lo);
	free(shorts);
	return rc;
}

/* Prints text with every line after the first indented to col. */
static void print_indented(FILE *f, const char *text, int col)
{
	const char *nl;

	for (;;) {
		nl = strchr(text, '\n');
		if (!nl) {
			fprintf(f, "%s\n", text);
			return;
		}
		fprintf(f, "%.*s\n", (int)(nl - text), text);
		text = nl + 1;
		if (!*text)
			return;
		fprintf(f, "%*s", col, "");
	}
}

void opts_usage(const struct opt_cmd *cmd, FILE *f)
{
	const struct opt *o;
	int w;

	fputs(cmd->usage, f);
	if (cmd->intro)
		fputs(cmd->intro, f);
	for (o = cmd->opts; o->type != OPT_T_END; o++) {
		if (o->type == OPT_T_TEXT) {
			fputs(o->help, f);
			continue;
		}
		if (!o->help)
			continue;
		if (o->short_name && o->long_name)
			w = fprintf(f, "  -%c, --%s", o->short_name, o->long_name);
		else if (o->long_name)
			w = fprintf(f, "  --%s", o->long_name);
		else
			w = fprintf(f, "  -%c", o->short_name);
		if (o->argh)
			w += fprintf(f, " %s", o->argh);
		if (w + 2 > OPTS_HELP_COL)
			fprintf(f, "\n%*s", OPTS_HELP_COL, "");
		else
			fprintf(f, "%*s", OPTS_HELP_COL - w, "");
		print_indented(f, o->help, OPTS_HELP_COL);
	}
	if (cmd->outro)
		fputs(cmd->outro, f);
}
