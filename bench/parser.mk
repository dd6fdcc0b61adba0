# bench/parser.mk: the parser benchmark (included by the Makefile).
#
#   make bench-parser      build and run build/bench/parser-bench
#
# Links picohttpparser from Debian's libh2o (no header shipped: the bench
# declares phr_parse_request itself) and nodejs http-parser
# (libhttp-parser-dev).  Run it on the default (std) build: sanitizer
# figures mean nothing.

PARSER_BENCH = build/bench/parser-bench

.PHONY: bench-parser
bench-parser: $(PARSER_BENCH)
	$(PARSER_BENCH)

$(PARSER_BENCH): bench/parser-bench.c bench/parser-corpus.h $(O)/libpktmem.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ bench/parser-bench.c $(O)/libpktmem.a -lh2o -lhttp_parser

bench: $(PARSER_BENCH)
