# bench/server.mk: the core server against nginx under wrk.
#
#   make bench-server              interleaved runs, ratio of requests/s
#   make bench-server ROUNDS=5 DURATION=5 CONNS=16
#
# Needs wrk and nginx (Debian nginx-light); each server is started on an
# ephemeral/high loopback port by the script and stopped by its PID.
.PHONY: bench-server
bench-server: pktmem
	sh bench/server-bench.sh $(CURDIR)/$(PKTMEM_BIN) $(or $(ROUNDS),3) $(or $(DURATION),3) $(or $(CONNS),16)
