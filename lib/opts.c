/*
 * opts.c: see opts.h.  getopt_long(3) does the scanning; the table is
 * turned into its struct option array and short-option string here.
 */
#include "lib/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define LONG_BASE 256	/* getopt_long's val for table entry i: LONG_BASE + i; --help: LONG_BASE + n */

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

/* "--long", or "-s" for an option without a long name: how messages
 * name it. */
static const char *opt_name(const struct opt *o, char *buf, size_t len)
{
	if (o->long_name)
		snprintf(buf, len, "--%s", o->long_name);
	else
		snprintf(buf, len, "-%c", o->short_name);
	return buf;
}

static int store(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	char name[64];
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
				snprintf(err, errlen, "%s '%s': want a whole number of at least %llu",
					 opt_name(o, name, sizeof(name)), arg,
					 (unsigned long long)o->min);
			else
				snprintf(err, errlen, "%s '%s': want a whole number from %llu to %llu",
					 opt_name(o, name, sizeof(name)), arg,
					 (unsigned long long)o->min, (unsigned long long)o->max);
			return -1;
		}
		*(uint64_t *)o->value = v;
		return 0;
	case OPT_T_CALLBACK:
		if (o->cb(o, arg, err, errlen) < 0) {
			if (!err[0])
				snprintf(err, errlen, "%s: invalid value",
					 opt_name(o, name, sizeof(name)));
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

/* Long option named by val (LONG_BASE + i; i == n is "help"). */
static const char *long_name_of(const struct opt_cmd *cmd, size_t n, int val)
{
	size_t i = (size_t)(val - LONG_BASE);

	return i < n ? cmd->opts[i].long_name : "help";
}

/* True when more than one long name starts with the len bytes at p: an
 * abbreviation getopt_long(3) could not resolve. */
static bool ambiguous(const struct opt_cmd *cmd, const char *p, size_t len)
{
	const struct opt *o;
	int hits = len <= 4 && !strncmp("help", p, len);

	for (o = cmd->opts; o->type != OPT_T_END; o++)
		if (o->type != OPT_T_TEXT && o->long_name && !strncmp(o->long_name, p, len))
			hits++;
	return hits > 1;
}

/* The message for getopt's '?' (unknown, ambiguous, or a value given to
 * an option that takes none) and ':' (value missing); with opterr 0 it
 * prints nothing itself.  optopt is the letter of a short option, the val
 * of a known long one, 0 for any other long one; argv[optind - 1] is then
 * the word it stopped at (for a short option it may be the word before,
 * in the middle of a group: the letter is used). */
static void bad_option(const struct opt_cmd *cmd, size_t n, int c, char **argv, char *err,
		       size_t errlen)
{
	const char *word = argv[optind - 1];
	size_t len = strcspn(word, "=");

	if (optopt >= LONG_BASE)
		snprintf(err, errlen, c == ':' ? "option '--%s' needs a value" :
			 "option '--%s' takes no value", long_name_of(cmd, n, optopt));
	else if (optopt)
		snprintf(err, errlen, c == ':' ? "option '-%c' needs a value" :
			 "unknown option '-%c'", optopt);
	else if (len > 2 && ambiguous(cmd, word + 2, len - 2))
		snprintf(err, errlen, "option '%.*s' is ambiguous", (int)len, word);
	else
		snprintf(err, errlen, "unknown option '%.*s'", (int)len, word);
	append_see(cmd, err, errlen);
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
	/* ':' first: a missing argument returns ':' instead of '?'. */
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
	/* --help is a long option like the others (val LONG_BASE + n), so
	 * every long option's val is at least LONG_BASE */
	lo[k].name = "help";
	lo[k].val = LONG_BASE + (int)n;
	shorts[s] = '\0';

	/* optind 0, not 1: glibc then forgets the previous parse (a group
	 * left half read by an error, the ordering the optstring chose). */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (c == 'h' || c == LONG_BASE + (int)n) {
			rc = OPTS_HELP;
			goto out;
		}
		if (c == '?' || c == ':') {
			bad_option(cmd, n, c, argv, err, errlen);
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
	int col = cmd->help_col > 0 ? cmd->help_col : OPTS_HELP_COL;
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
			w = fprintf(f, "%s--%s", cmd->indent_long ? "      " : "  ", o->long_name);
		else
			w = fprintf(f, "  -%c", o->short_name);
		if (o->argh)
			w += fprintf(f, " %s", o->argh);
		/* at least one space between the name and its help */
		if (w >= col)
			fprintf(f, "\n%*s", col, "");
		else
			fprintf(f, "%*s", col - w, "");
		print_indented(f, o->help, col);
	}
	if (cmd->outro)
		fputs(cmd->outro, f);
}
