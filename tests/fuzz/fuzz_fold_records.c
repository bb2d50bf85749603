/*
 * libFuzzer harness: cd-fold's record importer on arbitrary bytes.
 * FUZZ_SOURCES: tools/cd-fold
 */
#define FOLD_FUZZ_FMT FMT_RECORDS
#include "fold_harness.h"
