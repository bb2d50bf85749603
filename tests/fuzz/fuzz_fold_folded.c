/*
 * libFuzzer harness: cd-fold's folded importer on arbitrary bytes.
 * FUZZ_SOURCES: tools/cd-fold
 */
#define FOLD_FUZZ_FMT FMT_FOLDED
#include "fold_harness.h"
