# bench/reasm.mk: 'pktmem inspect' against tshark, tcpflow and a bare
# pcap_next_ex() loop, throughput and peak RSS.
#
#   make bench-reasm [REASM_BENCH_MB=1024] [REASM_TSHARK_MB=256] [REASM_ROUNDS=3]
#
# Generates a synth capture of about REASM_BENCH_MB MB in /tmp, times each
# tool on it (best of REASM_ROUNDS; CPU seconds, user + sys, and wall),
# and deletes it.  tshark keeps per-packet state for the whole capture
# (its RSS grows with the file), so it reads a REASM_TSHARK_MB MB prefix
# of the same capture; MB/s are comparable, its RSS is a lower bound.
REASM_BENCH_MB    ?= 1024
REASM_TSHARK_MB   ?= 256
REASM_ROUNDS      ?= 3
REASM_BENCH_FILE  ?= /tmp/pktmem-bench-reasm-$(shell id -u).pcap

build/bench/reasm-bare: bench/reasm-bare.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< -lpcap

.PHONY: bench-reasm
bench-reasm: pktmem build/bench/reasm-bare
	bench/reasm-bench.sh $(REASM_BENCH_FILE) $(REASM_BENCH_MB) $(REASM_TSHARK_MB) $(REASM_ROUNDS)

bench: bench-reasm
