/*
 * libFuzzer harness: cd-fold's DTrace ustack importer on arbitrary bytes.
 * FUZZ_SOURCES: tools/cd-fold
 */
#define FOLD_FUZZ_FMT FMT_DTRACE
#include "fold_harness.h"
