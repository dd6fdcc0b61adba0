# bench/replay.mk: the replay helper's extra rules (included by the Makefile).
#
# load.c builds its capture loader only when replay/reasm.c exists
# (__has_include), which -MMD cannot record: rebuild it when that changes.
$(O)/replay/load.o: $(wildcard replay/reasm.c replay/httpx.h)
# cmd/replay.c uses the core server once core/server.h exists (same reason).
$(O)/cmd/replay.o: $(wildcard core/server.h)
