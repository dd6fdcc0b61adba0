/* inspect.c: 'pktmem inspect'. */
#include "cmd/cmd.h"

#include <string.h>

int cmd_inspect(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: pktmem inspect (not built yet)\n");
		return cmd_finish_stdout("inspect", EXIT_OK);
	}
	return cmd_not_built("inspect");
}
