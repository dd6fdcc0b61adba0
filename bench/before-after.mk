# bench/before-after.mk: two builds side by side (bench/before-after.sh).
#
#   make bench-before-after BEFORE=/path/to/old/pktmem [BA_ARGS="7 100"]
#
# Build the old revision in a worktree first, e.g.
#   git worktree add /tmp/before REV && make -C /tmp/before pktmem
.PHONY: bench-before-after
bench-before-after: pktmem
	@[ -n "$(BEFORE)" ] || { echo "bench-before-after: set BEFORE=/path/to/old/pktmem"; exit 2; }
	sh bench/before-after.sh $(BEFORE) $(CURDIR)/$(PKTMEM_BIN) $(BA_ARGS)
