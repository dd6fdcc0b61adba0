# bench/ingest.mk: capture_next() against a bare pcap_next_ex() loop.
#
#   make bench-ingest [INGEST_BENCH_MB=1024]
#
# Generates a synth capture of about INGEST_BENCH_MB MB in /tmp (HTTP
# flows, ~500-byte packets on average), runs build/bench/ingest-bench on
# it (best of 3 alternating rounds, page cache warm after the first),
# prints MB/s of each loop and the ratio, and deletes the file.
INGEST_BENCH_MB   ?= 1024
INGEST_BENCH_FILE ?= /tmp/pktmem-bench-ingest-$(shell id -u).pcap
# ~29.6 MB per 1000 flows with these options
INGEST_BENCH_FLOWS = $(shell echo $$(( $(INGEST_BENCH_MB) * 34 )))

build/bench/ingest-bench: bench/ingest-bench.c $(O)/libpktmem.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(O)/libpktmem.a $(LIBS)

.PHONY: bench-ingest
bench-ingest: pktmem build/bench/ingest-bench
	@echo "bench-ingest: writing ~$(INGEST_BENCH_MB) MB to $(INGEST_BENCH_FILE)"
	./pktmem synth -q --out $(INGEST_BENCH_FILE) --flows $(INGEST_BENCH_FLOWS) --requests 20 \
	  --framing mixed --json --body-size 1500 --segment-size 1448 --pipeline 2 --seed 1
	build/bench/ingest-bench $(INGEST_BENCH_FILE) 3 || { rm -f $(INGEST_BENCH_FILE); exit 1; }
	rm -f $(INGEST_BENCH_FILE)

bench: bench-ingest
