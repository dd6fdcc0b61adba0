/* report.c: 'pktmem report'. */
#include "cmd/cmd.h"

#include <string.h>

int cmd_report(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: pktmem report (not built yet)\n");
		return cmd_finish_stdout("report", EXIT_OK);
	}
	return cmd_not_built("report");
}
