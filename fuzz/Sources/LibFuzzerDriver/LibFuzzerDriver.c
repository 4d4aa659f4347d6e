// Only the header matters: LLVMFuzzerRunDriver comes from libclang_rt.fuzzer (-sanitize=fuzzer).
#include "LibFuzzerDriver.h"
