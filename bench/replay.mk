# bench/replay.mk: the replay benchmark (included by the Makefile).
#
# bench-replay: pktmem's live replay vs tcpreplay --topspeed and trafgen
# sending the same frames blind (root; see bench/replay-bench.sh).
.PHONY: bench-replay
bench-replay: pktmem
	ROUNDS=$${ROUNDS:-3} sh bench/replay-bench.sh $(CURDIR)/$(PKTMEM_BIN)
bench: bench-replay
