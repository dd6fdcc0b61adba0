# bench/deser.mk: the deserializer benchmark (included by the Makefile).
#
#   make bench-deser      build and run: tree (jansson) vs arena on realistic
#                         1 KB and 16 KB API JSON bodies
#
# Figures: ns per document, MB/s, allocations and bytes per document.

DESER_BENCH_BIN = $(O)/bench/deser-bench

$(DESER_BENCH_BIN): bench/deser-bench.c $(O)/libpktmem.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(O)/libpktmem.a $(LIBS)

.PHONY: bench-deser
bench: $(DESER_BENCH_BIN)
bench-deser: $(DESER_BENCH_BIN)
	$(DESER_BENCH_BIN) $(DESER_BENCH_FLAGS)
