# bench/profile.mk: the profiler's own overhead (docs/profile.md).
#   make bench-profile         paired runs of a TCP request/response load
#                              over veth with --profile off, counts, full,
#                              then of 'pktmem replay' on the demo capture
bench: $(O)/bench/profile-overhead
.PHONY: bench-profile
bench-profile: $(O)/bench/profile-overhead pktmem
	$(O)/bench/profile-overhead $(PROFILE_BENCH_ARGS)
	PKTMEM=$(CURDIR)/$(PKTMEM_BIN) sh bench/profile-replay.sh $(PROFILE_REPLAY_ARGS)
$(O)/bench/profile-overhead: bench/profile-overhead.c $(O)/libpktmem.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(O)/libpktmem.a $(LIBS)
