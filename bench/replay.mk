# bench/replay.mk: the replay helper's extra rules (included by the Makefile).
#
# load.c builds its capture loader only when replay/reasm.c exists
# (__has_include), which -MMD cannot record: rebuild it when that changes.
$(O)/replay/load.o: $(wildcard replay/reasm.c replay/httpx.h)
# cmd/replay.c uses the core server once core/server.h exists (same reason).
$(O)/cmd/replay.o: $(wildcard core/server.h)

# bench-replay: pktmem's live replay vs tcpreplay --topspeed and trafgen
# sending the same frames blind (root; see bench/replay-bench.sh).
.PHONY: bench-replay
bench-replay: pktmem
	ROUNDS=$${ROUNDS:-3} sh bench/replay-bench.sh $(CURDIR)/$(PKTMEM_BIN)
bench: bench-replay
