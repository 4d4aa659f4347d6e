import Foundation
import Testing

/// What maintledger signs and proves, checked by code nobody here wrote: Go's
/// golang.org/x/mod/sumdb/note and sumdb/tlog, in Tests/Interop/tlogcheck (built here from
/// Debian's golang-go and golang-golang-x-mod-dev, which .ci/run installs). And the other way:
/// a proof Go's tlog builds, signed with maintledger's key file, passes `audit:check-proof`.
@Suite(.enabled(if: GoChecker.binary != nil, "Go and golang.org/x/mod are not installed (apt-get install golang-go golang-golang-x-mod-dev); the interoperability tests are skipped"))
struct InteropTests {
    @Test func goChecksOurCheckpointsAndProofsAndRejectsAnyChangedByte() throws {
        let (sandbox, key, vkey) = try ProofCommandTests.signedLedger()
        try sandbox.ok(["apps:create", "second-app"])
        let checkpoint = try sandbox.ok(["audit:checkpoint", "--key", key]).stdout
        let size = try sandbox.expectVerifies() - 1
        let files = (
            note: try write(checkpoint, sandbox, "checkpoint.txt"),
            inclusion: try write(try sandbox.ok(["audit:prove", "3"]).stdout, sandbox, "entry.tlog-proof"),
            consistency: try write(try sandbox.ok(["audit:prove", "--from", "2"]).stdout, sandbox, "extension.proof"))

        #expect(try GoChecker.run(["note", vkey, files.note]) == RunResult(stdout: String(checkpoint.prefix { $0 != "—" }.dropLast()), stderr: "", exitCode: 0))
        #expect(try GoChecker.run(["inclusion", vkey, files.inclusion]) == RunResult(stdout: "ok: record 2 in tree \(size)\n", stderr: "", exitCode: 0))
        #expect(try GoChecker.run(["consistency", vkey, files.consistency]) == RunResult(stdout: "ok: tree \(size) extends tree 2\n", stderr: "", exitCode: 0))

        // Every sampled single-byte change of the proofs is rejected. Not the last base64 digit
        // before `=`: some of its bits are padding, so another letter there may decode to the same
        // bytes, which is the same proof (Go, like RFC 4648 decoders generally, accepts both).
        for (kind, path) in [("inclusion", files.inclusion), ("consistency", files.consistency), ("note", files.note)] {
            let original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            for offset in stride(from: 0, to: original.count, by: max(1, original.count / 60))
            where original[offset] != UInt8(ascii: "\n") && original[min(offset + 1, original.count - 1)] != UInt8(ascii: "=") {
                var changed = original
                changed[offset] = original[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
                try Data(changed).write(to: URL(fileURLWithPath: path + ".changed"))
                let result = try GoChecker.run([kind, vkey, path + ".changed"])
                #expect(result.exitCode == 1, "\(kind) with byte \(offset) changed: \(result)")
            }
        }
    }

    @Test func ourCheckerAcceptsAProofGosTlogBuilds() throws {
        let (sandbox, key, vkey) = try ProofCommandTests.signedLedger()
        let hashes = try sandbox.trailEntries().map { $0["hash"] as! String }.joined(separator: "\n")
        let ours = try sandbox.ok(["audit:checkpoint", "--key", key]) // signs with the same key file Go reads
        #expect(ours.exitCode == 0)
        let proof = try sandbox.ok(["audit:prove", "2"]).stdout
        let extraLine = try #require(proof.split(separator: "\n").first { $0.hasPrefix("extra ") })
        let extra = try #require(Data(base64Encoded: String(extraLine.dropFirst(6))))
        let extraPath = sandbox.folder.appendingPathComponent("extra.bin").path
        try extra.write(to: URL(fileURLWithPath: extraPath))
        let built = try GoChecker.run(["prove", key, try write(hashes, sandbox, "hashes.txt"), "1", extraPath])
        #expect(built.exitCode == 0, "\(built)")
        let path = try write(built.stdout, sandbox, "go.tlog-proof")
        let checked = try sandbox.run(["audit:check-proof", path, "--vkey", vkey], useDB: false)
        #expect(checked.exitCode == 0 && checked.stdout.hasPrefix("ok: entry 2 is in example.com/maintledger's checkpoint of "), "\(checked)")
    }

    private func write(_ text: String, _ sandbox: LedgerSandbox, _ name: String) throws -> String {
        let path = sandbox.folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// Tests/Interop/tlogcheck, built once per test run with Go in GOPATH mode against Debian's
/// golang.org/x/mod; nil when Go or the package is missing.
enum GoChecker {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/tlogcheck/main.go")

    nonisolated(unsafe) private static var builtFolder: String?

    static let binary: URL? = {
        let gopath = "/usr/share/gocode"
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/go"),
              FileManager.default.fileExists(atPath: gopath + "/src/golang.org/x/mod/sumdb/tlog/tlog.go") else { return nil }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("maintledger-go-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // The folder holds Go's build cache (about 5 MB): removed when the test process exits.
        builtFolder = folder.path
        atexit { if let folder = GoChecker.builtFolder { try? FileManager.default.removeItem(atPath: folder) } }
        let output = folder.appendingPathComponent("tlogcheck")
        let built = try? RunningBinary(executable: URL(fileURLWithPath: "/usr/bin/go"), arguments: ["build", "-o", output.path, source.path],
                                       environment: ["GO111MODULE": "off", "GOPATH": gopath, "GOCACHE": folder.appendingPathComponent("cache").path,
                                                     "HOME": folder.path, "PATH": "/usr/bin:/bin"], folder: folder).finish()
        return built?.exitCode == 0 ? output : nil
    }()

    static func run(_ arguments: [String]) throws -> RunResult {
        try RunningBinary(executable: binary!, arguments: arguments, environment: [:], folder: binary!.deletingLastPathComponent()).finish()
    }
}
