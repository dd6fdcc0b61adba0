# bench/exec.mk: the exec helper's rules (included by the Makefile).
#
# preload: the LD_PRELOAD allocation counter for `replay --exec`
# (preload/pktmem-alloc.c), next to the binary so pktmem finds it
# as <dir of pktmem>/libpktmem-alloc.so.  Built without sanitizers even in
# the san variant: it is loaded into the user's program, where an ASan
# runtime that is not first in the link order aborts at start.
PRELOAD_SO = $(O)/libpktmem-alloc.so
preload: $(PRELOAD_SO)
$(PRELOAD_SO): preload/pktmem-alloc.c preload/pktmem-alloc.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fPIC -shared $(WARN) -fvisibility=default -o $@ $<

# the test helpers of t95xx: one of them must be static (gcc -static) to
# check the 'unavailable' path; built only when the toolchain can.
$(O)/tests/helpers/allocserver-static: $(O)/tests/helpers/allocserver.o
	-$(CC) -static -o $@ $< 2>/dev/null || rm -f $@
preload: $(O)/tests/helpers/allocserver-static
# allocserver is loaded with the interposer: never with sanitizers (ASan
# refuses to start when another library comes first in LD_PRELOAD), and
# its per-request malloc count must not include a sanitizer's own.
$(O)/tests/helpers/allocserver.o: CFLAGS := -O2 -g
$(O)/tests/helpers/allocserver: LDFLAGS :=
