/* replay.c: 'pktmem replay'. */
#include "cmd/cmd.h"

#include <string.h>

int cmd_replay(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: pktmem replay (not built yet)\n");
		return cmd_finish_stdout("replay", EXIT_OK);
	}
	return cmd_not_built("replay");
}
