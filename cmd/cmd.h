/*
 * cmd.h: the command layer.  Only cmd/ prints diagnostics and picks exit
 * codes; library code below returns negative errno or a module's own
 * negative code and a *_strerror() that says what to do.
 *
 * Adding a command (the checklist):
 *   1. cmd/<name>.c defines int cmd_<name>(int argc, char **argv), with
 *      argv[0] == "<name>", and one options table (lib/opts.h) that is its
 *      parser and its --help, read by cmd_parse_options(); it returns the
 *      exit code and leaves flushing stdout to the dispatcher;
 *   2. one row in commands[] in cmd/pktmem.c;
 *   3. a CLI test numbered by its area, as tests/t1010-synth-cli.t,
 *      t2010-inspect-cli.t, t8400-compare-cli.t, and a README section.
 */
#ifndef PKTMEM_CMD_H
#define PKTMEM_CMD_H

#include <stdio.h>

/* Exit codes shared by every command; 'pktmem --help' (cmd/pktmem.c)
 * lists them for the user, and each command's --help says which it uses. */
enum {
	EXIT_OK = 0,
	EXIT_VERDICT = 1,	/* regression, verification failure, doctor: not all usable */
	EXIT_USAGE = 2,		/* usage or input error */
	EXIT_NOT_COMPARABLE = 3,
	EXIT_INCONCLUSIVE = 4,
};

int cmd_replay(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

/* "pktmem: <cmd>: <message>" on stderr, one line.  Returns EXIT_USAGE so a
 * caller can write "return cmd_error(...)". */
int cmd_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cmd_warn(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parses argv with the command's options table (lib/opts.h).  Returns the
 * index in argv of the first operand, or -1 with the exit code in *rc:
 * EXIT_OK after printing --help on stdout, EXIT_USAGE after the one-line
 * error ("pktmem: NAME: unknown option '--x'; see 'pktmem NAME --help'"). */
struct opt_cmd;
int cmd_parse_options(const struct opt_cmd *c, int argc, char **argv, int *rc);

/* Flush stdout and report a write error (full disk, closed pipe) as a
 * failure: returns rc unchanged when all went out, else rc or EXIT_USAGE
 * when rc was 0.  The dispatcher (cmd/pktmem.c) calls it once after every
 * command; a second call after a failed one reports nothing more. */
int cmd_finish_stdout(const char *cmd, int rc);

/* Writes JSON j (json_dumpf flags) to path atomically: a temp file beside
 * it, flushed, synced and closed with every error checked, then renamed;
 * on failure nothing is left behind.  "-" is standard output (checked at
 * exit by cmd_finish_stdout).  0 or negative errno (ENOSPC kept, not
 * turned into EIO). */
struct json_t;
int cmd_write_json(const char *path, const struct json_t *j, size_t flags);

/* True when colour may be used on stream f: a terminal and no NO_COLOR. */
int cmd_use_color(FILE *f);

const char *pktmem_version(void);
const char *pktmem_git_rev(void);

#endif
