/* version.c: version and git revision, set by the Makefile at build time. */
#include "cmd/cmd.h"

#ifndef PKTMEM_VERSION
#define PKTMEM_VERSION "0.0.0"
#endif
#ifndef PKTMEM_GIT_REV
#define PKTMEM_GIT_REV "unknown"
#endif

const char *pktmem_version(void) { return PKTMEM_VERSION; }
const char *pktmem_git_rev(void) { return PKTMEM_GIT_REV; }
