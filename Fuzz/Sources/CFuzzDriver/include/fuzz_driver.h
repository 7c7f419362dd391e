// libFuzzer's driver entry (compiler-rt's FuzzerInterface): each fuzz target's `_main` hands it
// argc, argv and the target's per-input function. Declared once here for every target.
#pragma once
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
