/* fuzz.h - What every fuzz target declares: libFuzzer's entry points.
 *
 * Each fuzz_<target>.c defines LLVMFuzzerTestOneInput (and may define
 * LLVMFuzzerInitialize). Built with clang -fsanitize=fuzzer it is a
 * libFuzzer binary (scripts/fuzz); built with replay.c instead it runs
 * the committed corpus once, as a regression test of every input that
 * ever crashed a target (docs/DESIGN.md, "Fuzzing"). */
#ifndef WSR_FUZZ_H
#define WSR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
