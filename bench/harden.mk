# bench/harden.mk: the harden helper's extra rules (included by the Makefile).
#
# bench-soak: replay a capture in a loop to >= 1 million requests in one
# process, sampling the server child's RSS and descriptors every second
# (bench/soak.sh; root for the packet path, else it says so and uses
# --via socket).  SOAK_LOOPS, SOAK_CAPTURE override the defaults.
.PHONY: bench-soak bench-harden
bench-soak: pktmem
	sh bench/soak.sh $(CURDIR)/$(PKTMEM_BIN)
bench-harden: bench-soak
bench: bench-harden
