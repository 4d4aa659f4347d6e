// libFuzzer's entry for programs that have their own main (SwiftPM links every executable
// target with `main` set to the target's entry point, so libFuzzer's own main is not used).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
