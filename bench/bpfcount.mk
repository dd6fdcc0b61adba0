# bench/bpfcount.mk: the BPF stage counters' cost (included by the Makefile).
#
#   make bench-bpfcount   ns per tracepoint hit: programs filtered out,
#                         counting cpu-clock, counting the default events
BPFCOUNT_BENCH_BIN = $(O)/bench/bpfcount-cost

$(BPFCOUNT_BENCH_BIN): bench/bpfcount-cost.c $(O)/libpktmem.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(O)/libpktmem.a $(LIBS)

.PHONY: bench-bpfcount
bench: $(BPFCOUNT_BENCH_BIN)
bench-bpfcount: $(BPFCOUNT_BENCH_BIN)
	$(BPFCOUNT_BENCH_BIN)
