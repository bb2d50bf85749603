/*
 * libFuzzer harness: cd-fold's macOS sample importer on arbitrary bytes.
 * FUZZ_SOURCES: tools/cd-fold
 */
#define FOLD_FUZZ_FMT FMT_SAMPLE
#include "fold_harness.h"
