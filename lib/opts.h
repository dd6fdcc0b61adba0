/*
 * opts.h: one table per command that is both its option parser and its
 * --help text (git's parse-options idea: the list cannot drift from the
 * help because there is only one list).
 *
 * A command declares a `static const struct opt opts[]` ended by
 * OPT_END(), and a `struct opt_cmd` naming the command, its usage line,
 * the paragraph under it and the text after the options.  opts_parse()
 * stores each option's value where the table says, in table order of
 * appearance on the command line (GNU rules: options and operands may mix,
 * "--" ends the options, "--name=value" and "--name value" both work,
 * short options may be grouped).  -h and --help are always recognised.
 *
 * Values: OPT_BOOL sets a bool to true; OPT_STRING stores the argument
 * (a pointer into argv, which outlives the command); OPT_U64 parses a
 * decimal whole number and checks it against [min, max]; OPT_CALLBACK
 * hands the argument (NULL for an option without one) to a function that
 * stores it and may refuse it with a message.
 *
 * The help text: each entry prints as "  -s, --long ARGH" padded to
 * column OPTS_HELP_COL (or the command's help_col), then its help; a help
 * string may hold several lines ('\n'), each indented to the column; an
 * entry whose name reaches the column starts its help on the next line.
 * With indent_long, an option without a short name prints as
 * "      --long ARGH", its name under the long names of "-s, --long"
 * entries.  OPT_TEXT prints its text as is
 * (a heading such as "testing:", or one entry that describes several
 * options).  An option with help == NULL is parsed but not listed (an
 * alias, or an option an OPT_TEXT line describes).
 *
 * No state beyond getopt's own globals; one command parses at a time.
 */
#ifndef PKTMEM_LIB_OPTS_H
#define PKTMEM_LIB_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OPTS_HELP_COL 26

enum opt_type {
	OPT_T_END = 0,
	OPT_T_TEXT,
	OPT_T_BOOL,
	OPT_T_STRING,
	OPT_T_U64,
	OPT_T_CALLBACK,
};

struct opt;

/* Stores arg (NULL for an option without argument) for o; returns 0, or
 * a negative value with a one-line message in err (without the command
 * prefix: "--via 'x': want mmap, raw or socket"). */
typedef int (*opt_cb)(const struct opt *o, const char *arg, char *err, size_t errlen);

struct opt {
	enum opt_type type;
	int short_name;			/* 0: none */
	const char *long_name;		/* without "--"; NULL for text */
	void *value;			/* bool *, const char **, uint64_t *, or the callback's */
	const char *argh;		/* the argument's name in --help; NULL: takes none */
	const char *help;		/* NULL: parsed, not listed */
	uint64_t min, max;		/* OPT_U64: accepted range, inclusive */
	opt_cb cb;			/* OPT_CALLBACK */
};

#define OPT_END() { .type = OPT_T_END }
#define OPT_TEXT(t) { .type = OPT_T_TEXT, .help = (t) }
#define OPT_BOOL(s, l, v, h) \
	{ .type = OPT_T_BOOL, .short_name = (s), .long_name = (l), .value = (v), .help = (h) }
#define OPT_STRING(s, l, v, a, h) \
	{ .type = OPT_T_STRING, .short_name = (s), .long_name = (l), .value = (v), .argh = (a), .help = (h) }
#define OPT_U64(s, l, v, a, lo, hi, h) \
	{ .type = OPT_T_U64, .short_name = (s), .long_name = (l), .value = (v), .argh = (a), \
	  .help = (h), .min = (lo), .max = (hi) }
/* a == NULL: the option takes no argument and cb gets NULL */
#define OPT_CALLBACK(s, l, v, a, f, h) \
	{ .type = OPT_T_CALLBACK, .short_name = (s), .long_name = (l), .value = (v), .argh = (a), \
	  .help = (h), .cb = (f) }

struct opt_cmd {
	const char *name;		/* "replay": messages say "see 'pktmem replay --help'" */
	const char *usage;		/* "usage: pktmem replay [options] CAPTURE...\n" */
	const char *intro;		/* printed after the usage line, or NULL */
	const struct opt *opts;		/* ended by OPT_END() */
	const char *outro;		/* printed after the options ("exit: ..."), or NULL */
	int help_col;			/* column of the options' help; 0: OPTS_HELP_COL */
	bool indent_long;		/* "      --long": see above */
};

enum {
	OPTS_HELP = -1,		/* -h or --help: print opts_usage() to stdout, exit 0 */
	OPTS_ERROR = -2,	/* err holds the message */
};

/* Parses argv[1..argc-1].  Returns the index in argv of the first operand
 * (getopt_long permutes the operands to the end; argc when there are
 * none), OPTS_HELP, or OPTS_ERROR with one line in err: an unknown or
 * ambiguous option, a missing argument, a value for an option that takes
 * none, a number out of range, or a callback's refusal, ending in
 * "; see 'pktmem NAME --help'".  Options are stored as they come: on an
 * error, those before it are set. */
int opts_parse(const struct opt_cmd *cmd, int argc, char **argv, char *err, size_t errlen);

/* The whole --help text: usage, intro, the table, outro. */
void opts_usage(const struct opt_cmd *cmd, FILE *f);

/* Decimal whole number in [min, max] ("-", "+", blanks, an empty string
 * and overflow are refused).  0 or -EINVAL / -ERANGE. */
int opts_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
