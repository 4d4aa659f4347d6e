import Foundation
import LibFuzzerDriver

// The base ledger is built before the first input (its allocations are not the inputs').
workspace = Workspace()
// Its folder in /dev/shm goes when libFuzzer is done (a crash leaves it, to look at).
atexit { if let folder = workspace?.folder { try? FileManager.default.removeItem(atPath: folder) } }
// libFuzzer's command line (see fuzz/README.md); it calls fuzzImport for every input.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzImport))
