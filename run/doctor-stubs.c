/*
 * doctor-stubs.c: TEMPORARY stand-ins for replay/'s netns_probe() and
 * txq_probe(), built on this branch's netns_topo_new()/txq_new() so
 * 'pktmem doctor' keeps working until the replay branch lands.  The
 * integrator deletes this file and run/doctor-stubs.h at that merge.
 * They do not honour PKTMEM_TEST_FAIL (t7410 skips until they are gone).
 */
#include "run/doctor-stubs.h"
#include "replay/netns.h"
#include "replay/txring.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int netns_probe(char *err, size_t errlen)
{
	struct netns_topo *t = NULL;
	const char *what = "";
	int rc = netns_topo_new(&t, NULL, &what);

	if (rc < 0)
		snprintf(err, errlen, "%s: %s", what, pm_err_is_module(rc) ? "refused" : strerror(-rc));
	netns_topo_free(t);
	return rc;
}

int txq_probe(char *err, size_t errlen)
{
	struct netns_cfg nc = { 0 };
	struct txq_cfg tc = { .via = TXQ_MMAP };
	struct netns_topo *t = NULL;
	struct txq *q = NULL;
	const char *what = "";
	int fd, rc;

	if ((rc = netns_topo_new(&t, &nc, &what)) < 0)
		goto fail;
	fd = netns_socket(t, NETNS_CLIENT, AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = fd;
		what = "socket(AF_PACKET)";
		goto fail;
	}
	tc.ifindex = netns_ifindex(t, NETNS_CLIENT);
	if ((rc = txq_new(&q, fd, &tc, &what)) < 0)
		goto fail;
	goto out;
fail:
	snprintf(err, errlen, "%s: %s", what, pm_err_is_module(rc) ? "refused" : strerror(-rc));
out:
	txq_free(q);
	netns_topo_free(t);
	return rc;
}
