/*
 * libFuzzer harness: cd-fold's perf script importer on arbitrary bytes.
 * FUZZ_SOURCES: tools/cd-fold
 */
#define FOLD_FUZZ_FMT FMT_PERF
#include "fold_harness.h"
