# cd-fold --output pprof: profile.proto compiled by protoc-c (Debian's
# protobuf-c-compiler) at build time; the generated C is never committed.
GEN_HDRS += $(O)/gen/profile.pb-c.h

# one pattern rule: make knows one protoc-c run makes both files
$(O)/gen/%.pb-c.c $(O)/gen/%.pb-c.h: tools/cd-fold/%.proto
	@mkdir -p $(@D)
	protoc-c --proto_path=tools/cd-fold --c_out=$(O)/gen $*.proto

$(O)/gen/profile.pb-c.o: $(O)/gen/profile.pb-c.c $(O)/gen/profile.pb-c.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/bin/cd-fold: $(O)/gen/profile.pb-c.o
