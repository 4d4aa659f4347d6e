import Foundation
import LibFuzzerDriver

// libFuzzer's command line (see fuzz/README.md); it calls fuzzTrailPayload for every input.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzTrailPayload))
