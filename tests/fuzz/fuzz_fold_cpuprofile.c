/*
 * libFuzzer harness: cd-fold's Chrome .cpuprofile importer on arbitrary
 * bytes, its folded output checked line by line (no NUL, ' COUNT' ends
 * every line): names in a profile are arbitrary JSON strings.
 * FUZZ_SOURCES: tools/cd-fold
 */
#define FOLD_FUZZ_FMT FMT_CPUPROFILE
#include "fold_harness.h"
