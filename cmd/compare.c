/* compare.c: 'pktmem compare'. */
#include "cmd/cmd.h"

#include <string.h>

int cmd_compare(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: pktmem compare (not built yet)\n");
		return cmd_finish_stdout("compare", EXIT_OK);
	}
	return cmd_not_built("compare");
}
