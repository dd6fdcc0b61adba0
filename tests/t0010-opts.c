/*
 * t0010-opts: lib/opts, the one table per command that is its parser and
 * its --help: long, short and grouped options, "--x=v" and "--x v", "--"
 * ending the options, operands mixed with options and permuted to the end,
 * -h/--help, the one-line errors (unknown option, missing value, a value
 * given to an option that takes none, an ambiguous abbreviation), OPT_U64's
 * range checks, a callback's refusal, several parses in one process, and
 * the --help layout (the column, a name too long for it, multi-line help,
 * OPT_TEXT, hidden options, a command's own column, long-only names
 * indented under "-x, --long").
 */
#include "lib/opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"

/* What the test table stores into. */
static struct vals {
	bool quiet, verbose, seen_flag;
	const char *out, *name;
	uint64_t count, big, shortonly;
	int mode, cb_calls;
	const char *cb_arg;
} v;

static int mode_cb(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	int *mode = o->value;

	v.cb_calls++;
	v.cb_arg = arg;
	if (!strcmp(arg, "fast"))
		*mode = 1;
	else if (!strcmp(arg, "slow"))
		*mode = 2;
	else if (!strcmp(arg, "silent"))
		return -1;	/* refuses without a message */
	else {
		snprintf(err, errlen, "--mode '%s': want fast or slow", arg);
		return -1;
	}
	return 0;
}

static int flag_cb(const struct opt *o, const char *arg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	*(bool *)o->value = true;
	v.cb_arg = arg;
	v.cb_calls++;
	return 0;
}

static const struct opt table[] = {
	OPT_BOOL('q', "quiet", &v.quiet, "no output"),
	OPT_BOOL('v', "verbose", &v.verbose, "more output"),
	OPT_STRING('o', "out", &v.out, "FILE", "output file"),
	OPT_STRING(0, "name", &v.name, "NAME", NULL),
	OPT_U64('n', "count", &v.count, "N", 1, 100, "how many (1 to 100)"),
	OPT_U64(0, "big", &v.big, "N", 0, UINT64_MAX, "any whole number"),
	OPT_U64('s', NULL, &v.shortonly, "N", 0, 9, "a digit"),
	OPT_CALLBACK(0, "mode", &v.mode, "fast|slow", mode_cb, "the pace"),
	OPT_CALLBACK(0, "flag", &v.seen_flag, NULL, flag_cb, "a callback without a value"),
	OPT_BOOL(0, "seed-a", &v.quiet, NULL),
	OPT_BOOL(0, "seed-b", &v.quiet, NULL),
	OPT_END(),
};

static const struct opt_cmd cmd = {
	.name = "demo",
	.usage = "usage: pktmem demo [options] ARG...\n",
	.opts = table,
};

/* argv from a NULL-ended list of words (argv[0] = "demo"), parsed. */
static char *words[32];
static int nwords;
static char err[256];

static int parse(const char *first, ...)
{
	va_list ap;
	const char *w;

	memset(&v, 0, sizeof(v));
	nwords = 0;
	words[nwords++] = (char *)"demo";
	va_start(ap, first);
	for (w = first; w; w = va_arg(ap, const char *))
		words[nwords++] = (char *)w;
	va_end(ap);
	words[nwords] = NULL;
	return opts_parse(&cmd, nwords, words, err, sizeof(err));
}

#define SEE "; see 'pktmem demo --help'"

static void test_parse(void)
{
	int rc;

	rc = parse(NULL, NULL);
	is_int(rc, 1, "no arguments: first operand index is argc");

	rc = parse("--quiet", "-v", "--out", "a.txt", "x", NULL);
	ok(rc == 5 && v.quiet && v.verbose && v.out && !strcmp(v.out, "a.txt"),
	   "long bool, short bool, '--out a.txt', operand at 5 (rc %d)", rc);
	is_str(words[rc], "x", "the operand");

	rc = parse("--out=b.txt", "--count=7", NULL);
	ok(rc == 3 && v.out && !strcmp(v.out, "b.txt") && v.count == 7,
	   "'--out=b.txt' and '--count=7' (rc %d)", rc);

	rc = parse("-qvo", "c.txt", NULL);
	ok(rc == 3 && v.quiet && v.verbose && v.out && !strcmp(v.out, "c.txt"),
	   "grouped '-qvo c.txt' (rc %d)", rc);
	rc = parse("-qod.txt", NULL);
	ok(rc == 2 && v.quiet && v.out && !strcmp(v.out, "d.txt"), "grouped '-qod.txt' (rc %d)", rc);
	rc = parse("-n", "3", "-n5", NULL);
	ok(rc == 4 && v.count == 5, "'-n 3 -n5': the last one wins (rc %d)", rc);

	rc = parse("--verb", NULL);
	ok(rc == 2 && v.verbose, "an unambiguous abbreviation: '--verb'");

	rc = parse("a", "-q", "b", "--out", "f", "c", "--", "-v", "--out", NULL);
	ok(rc == 5 && v.quiet && !v.verbose && v.out && !strcmp(v.out, "f"),
	   "operands mixed with options; '--' ends the options (rc %d)", rc);
	if (rc == 5 && nwords == 10) {
		ok(!strcmp(words[5], "a") && !strcmp(words[6], "b") && !strcmp(words[7], "c") &&
		   !strcmp(words[8], "-v") && !strcmp(words[9], "--out"),
		   "operands permuted to the end in their order, '--' dropped: %s %s %s %s %s",
		   words[5], words[6], words[7], words[8], words[9]);
	} else {
		ok(0, "operands permuted to the end");
	}
	rc = parse("-", "-q", NULL);
	ok(rc == 2 && v.quiet && !strcmp(words[2], "-"), "'-' alone is an operand");

	is_int(parse("-h", NULL), OPTS_HELP, "-h: OPTS_HELP");
	is_int(parse("x", "--help", "--bogus", NULL), OPTS_HELP, "--help after an operand: OPTS_HELP");
	is_int(parse("-qh", NULL), OPTS_HELP, "-qh: OPTS_HELP");
	is_int(parse("--", "--help", NULL), 2, "'-- --help': an operand");
	is_int(parse("--he", NULL), OPTS_HELP, "'--he' abbreviates --help");
	is_int(parse("--help=x", NULL), OPTS_ERROR, "'--help=x': an error");
	is_str(err, "option '--help' takes no value" SEE, "... message");
}

static void test_errors(void)
{
	is_int(parse("--x", NULL), OPTS_ERROR, "unknown long option: OPTS_ERROR");
	is_str(err, "unknown option '--x'" SEE, "unknown long option: message");
	is_int(parse("--x=3", NULL), OPTS_ERROR, "unknown long option with a value");
	is_str(err, "unknown option '--x'" SEE, "... the message names the option, not the value");
	is_int(parse("-qx", NULL), OPTS_ERROR, "unknown short option in a group");
	is_str(err, "unknown option '-x'" SEE, "... named by its letter");
	is_int(parse("--out", NULL), OPTS_ERROR, "missing value of a long option");
	is_str(err, "option '--out' needs a value" SEE, "... message");
	is_int(parse("-q", "-o", NULL), OPTS_ERROR, "missing value of a short option");
	is_str(err, "option '-o' needs a value" SEE, "... message");
	is_int(parse("--quiet=yes", NULL), OPTS_ERROR, "a value for an option that takes none");
	is_str(err, "option '--quiet' takes no value" SEE, "... message");
	is_int(parse("--seed", NULL), OPTS_ERROR, "an ambiguous abbreviation");
	is_str(err, "option '--seed' is ambiguous" SEE, "... message");
	/* the error is the first one met; what came before was stored */
	is_int(parse("-v", "--bogus", "-q", NULL), OPTS_ERROR, "stops at the first error");
	ok(v.verbose && !v.quiet, "... options before it stored, none after");
}

static void test_u64(void)
{
	uint64_t x = 42;

	is_int(parse("--count", "1", NULL), 3, "--count 1 (min)");
	is_int(v.count, 1, "... stored");
	is_int(parse("--count", "100", NULL), 3, "--count 100 (max)");
	is_int(v.count, 100, "... stored");
	is_int(parse("--count", "0", NULL), OPTS_ERROR, "--count 0: below min");
	is_str(err, "--count '0': want a whole number from 1 to 100" SEE, "... message");
	is_int(parse("--count", "101", NULL), OPTS_ERROR, "--count 101: above max");
	is_int(parse("--count", "-1", NULL), OPTS_ERROR, "--count -1");
	is_int(parse("--count=", NULL), OPTS_ERROR, "--count '' (empty)");
	is_str(err, "--count '': want a whole number from 1 to 100" SEE, "... message");
	is_int(parse("--count", "12x", NULL), OPTS_ERROR, "--count 12x");
	is_int(parse("--count", " 12", NULL), OPTS_ERROR, "--count ' 12'");
	is_int(parse("--count", "+12", NULL), OPTS_ERROR, "--count +12");
	is_int(parse("--big", "18446744073709551615", NULL), 3, "--big UINT64_MAX");
	ok(v.big == UINT64_MAX, "... stored");
	is_int(parse("--big", "18446744073709551616", NULL), OPTS_ERROR, "--big UINT64_MAX + 1");
	is_str(err, "--big '18446744073709551616': want a whole number of at least 0" SEE,
	       "... message");
	is_int(parse("--big", "99999999999999999999999", NULL), OPTS_ERROR, "--big overflow");
	is_int(parse("-s", "10", NULL), OPTS_ERROR, "short-only -s 10: above max");
	is_str(err, "-s '10': want a whole number from 0 to 9" SEE, "... named by its letter");
	is_int(parse("-s7", NULL), 2, "short-only -s7");
	is_int(v.shortonly, 7, "... stored");

	is_int(opts_parse_u64("0", 0, 10, &x), 0, "opts_parse_u64 0");
	is_int(x, 0, "... value");
	is_int(opts_parse_u64("10", 0, 10, &x), 0, "opts_parse_u64 max");
	is_int(opts_parse_u64("11", 0, 10, &x), -ERANGE, "opts_parse_u64 max + 1: -ERANGE");
	is_int(opts_parse_u64("4", 5, 10, &x), -ERANGE, "opts_parse_u64 below min: -ERANGE");
	is_int(opts_parse_u64("18446744073709551616", 0, UINT64_MAX, &x), -ERANGE,
	       "opts_parse_u64 overflow: -ERANGE");
	is_int(opts_parse_u64("-1", 0, UINT64_MAX, &x), -EINVAL, "opts_parse_u64 -1: -EINVAL");
	is_int(opts_parse_u64("", 0, UINT64_MAX, &x), -EINVAL, "opts_parse_u64 '': -EINVAL");
	is_int(opts_parse_u64("12x", 0, UINT64_MAX, &x), -EINVAL, "opts_parse_u64 12x: -EINVAL");
	is_int(opts_parse_u64("0x10", 0, UINT64_MAX, &x), -EINVAL, "opts_parse_u64 0x10: -EINVAL");
	is_int(opts_parse_u64(NULL, 0, UINT64_MAX, &x), -EINVAL, "opts_parse_u64 NULL: -EINVAL");
	is_int(x, 10, "a refused number leaves *out alone");
}

static void test_callback(void)
{
	is_int(parse("--mode", "fast", NULL), 3, "callback accepts 'fast'");
	ok(v.mode == 1 && v.cb_calls == 1 && v.cb_arg && !strcmp(v.cb_arg, "fast"),
	   "... called once with the argument, stored");
	is_int(parse("--mode=lazy", NULL), OPTS_ERROR, "callback refuses 'lazy'");
	is_str(err, "--mode 'lazy': want fast or slow" SEE, "... its message, then the hint");
	is_int(parse("--mode", "silent", NULL), OPTS_ERROR, "callback refuses without a message");
	is_str(err, "--mode: invalid value" SEE, "... a message is made up");
	is_int(parse("--flag", NULL), 2, "callback without a value");
	ok(v.seen_flag && v.cb_calls == 1 && v.cb_arg == NULL, "... called with NULL");
}

/* getopt keeps state between calls: an error in the middle of a group
 * must not leak into the next parse. */
static void test_reparse(void)
{
	is_int(parse("-vxq", NULL), OPTS_ERROR, "an error in the middle of '-vxq'");
	is_int(parse("-v", "y", NULL), 2, "the next parse starts afresh");
	ok(v.verbose && !v.quiet, "... and sees only its own options");
	is_int(parse("y", "-v", NULL), 2, "a parse after that still permutes");
}

static char *usage_of(const struct opt_cmd *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		bail_out("open_memstream");
	opts_usage(c, f);
	fclose(f);
	return buf;
}

static void test_usage(void)
{
	static const struct opt t[] = {
		OPT_BOOL('q', "quiet", &v.quiet, "no output"),
		OPT_STRING(0, "out", &v.out, "FILE", "where it goes"),
		OPT_STRING(0, "name", &v.name, "NAME", NULL),
		OPT_TEXT("grouped:\n  --a N, --b N       two options on one line\n"),
		OPT_U64(0, "a-rather-long-option", &v.count, "VALUE", 0, 9,
			"too long for the column:\nits help starts below"),
		OPT_U64(0, "twenty-two-chars", &v.count, "N", 0, 9, "one space"),
		OPT_U64('n', "count", &v.count, "N", 0, 9, "first line\nsecond line\n"),
		OPT_U64('s', NULL, &v.big, "N", 0, 9, "short only"),
		OPT_END(),
	};
	const struct opt_cmd c = {
		.name = "demo",
		.usage = "usage: pktmem demo [options]\n",
		.intro = "\nDoes nothing.\n\n",
		.opts = t,
		.outro = "\nexit: 0\n",
	};
	const char *want =
		"usage: pktmem demo [options]\n"
		"\n"
		"Does nothing.\n"
		"\n"
		"  -q, --quiet             no output\n"
		"  --out FILE              where it goes\n"
		"grouped:\n"
		"  --a N, --b N       two options on one line\n"
		"  --a-rather-long-option VALUE\n"
		"                          too long for the column:\n"
		"                          its help starts below\n"
		"  --twenty-two-chars N    one space\n"
		"  -n, --count N           first line\n"
		"                          second line\n"
		"  -s N                    short only\n"
		"\n"
		"exit: 0\n";
	char *got = usage_of(&c);

	is_str(got, want, "opts_usage: column 26, wrapping, multi-line help, OPT_TEXT, hidden");
	if (strcmp(got, want))
		diag("got:\n%s", got);
	free(got);

	/* a name that reaches column 25 keeps its help on the same line
	 * after one space; at 26 it wraps */
	{
		static const struct opt t2[] = {
			OPT_STRING(0, "server", &v.out, "http|echo|sink", "25 wide"),
			OPT_STRING(0, "serverx", &v.out, "http|echo|sink", "26 wide"),
			OPT_END(),
		};
		const struct opt_cmd c2 = { .name = "demo", .usage = "u\n", .opts = t2 };

		got = usage_of(&c2);
		is_str(got, "u\n"
			    "  --server http|echo|sink 25 wide\n"
			    "  --serverx http|echo|sink\n"
			    "                          26 wide\n",
		       "a name one short of the column: one space; at the column: wraps");
		free(got);
	}

	/* a command's own column; long-only names under "-x, --long" */
	{
		static const struct opt t3[] = {
			OPT_STRING('o', "out", &v.out, "FILE", "output"),
			OPT_U64(0, "flows", &v.count, "N", 0, 9, "connections"),
			OPT_U64(0, "segment-size", &v.count, "N", 0, 9, "wraps at 16"),
			OPT_END(),
		};
		const struct opt_cmd c3 = { .name = "demo", .usage = "u\n", .opts = t3,
					    .help_col = 16, .indent_long = true };

		got = usage_of(&c3);
		is_str(got, "u\n"
			    "  -o, --out FILE\n"
			    "                output\n"
			    "      --flows N connections\n"
			    "      --segment-size N\n"
			    "                wraps at 16\n",
		       "help_col 16, indent_long");
		free(got);
	}
}

int main(void)
{
	plan_lazy();
	test_parse();
	test_errors();
	test_u64();
	test_callback();
	test_reparse();
	test_usage();
	return exit_status();
}
