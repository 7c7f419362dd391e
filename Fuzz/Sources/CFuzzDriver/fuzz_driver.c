// Header-only target: LLVMFuzzerRunDriver comes from libFuzzer (-sanitize=fuzzer) at link time.
#include "fuzz_driver.h"
