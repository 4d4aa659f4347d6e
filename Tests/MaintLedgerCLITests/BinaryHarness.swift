import Foundation
import GRDB
import Testing

/// What one run of the binary printed and returned.
struct RunResult: Equatable, CustomStringConvertible {
    var stdout: String
    var stderr: String
    var exitCode: Int32

    var description: String { "exit \(exitCode)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// A temp folder with a ledger path, and a way to run the real `maintledger` binary on it.
final class LedgerSandbox {
    let folder: URL
    let dbPath: String
    /// The clock every run gets as MAINTLEDGER_NOW unless a run names its own.
    var now = "2023-01-02T10:00:00.000Z"
    var actor = "alice"
    /// MAINTLEDGER_SEED for every run, when set.
    var seed: UInt64?

    /// `ledgerIn`: a subfolder of the sandbox to hold the ledger (a test mounts a disk there).
    init(ledgerIn subfolder: String? = nil) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("maintledger-cli-\(UUID().uuidString)")
        self.folder = folder
        let ledgerFolder = subfolder.map { folder.appendingPathComponent($0) } ?? folder
        try FileManager.default.createDirectory(at: ledgerFolder, withIntermediateDirectories: true)
        dbPath = ledgerFolder.appendingPathComponent("ledger.sqlite").path
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Puts a ledger's bytes at the sandbox's path, private as maintledger keeps its files
    /// (a copy readable by others would be made private, with a warning, by the next write).
    func install(_ ledger: Data) throws {
        try ledger.write(to: URL(fileURLWithPath: dbPath))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: dbPath)
    }

    /// The binary sits beside the test bundle in the build products folder.
    static let binary: URL = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("maintledger").path) {
            precondition(folder.path != "/", "cannot find the built maintledger binary")
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("maintledger")
    }()

    /// Runs `maintledger ARGS --db <ledger>` and waits for it.
    @discardableResult
    func run(_ arguments: [String], now: String? = nil, environment extra: [String: String] = [:], useDB: Bool = true) throws -> RunResult {
        try start(arguments, now: now, environment: extra, useDB: useDB).finish()
    }

    func run(_ arguments: String..., now: String? = nil) throws -> RunResult {
        try run(arguments, now: now)
    }

    /// Runs a shell line with BIN (the binary) and DB (the ledger) set, for redirections the
    /// harness does not make (`>/dev/full`, `2>&-`, a umask).
    func shell(_ script: String) throws -> RunResult {
        var environment = ["BIN": Self.binary.path, "DB": dbPath, "MAINTLEDGER_NOW": now, "MAINTLEDGER_ACTOR": actor,
                           "HOME": folder.path, "PATH": "/usr/bin:/bin"]
        if let seed { environment["MAINTLEDGER_SEED"] = String(seed) }
        return try RunningBinary(executable: URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", script], environment: environment,
                                 folder: folder).finish()
    }

    /// Starts the binary without waiting (for concurrency tests).
    func start(_ arguments: [String], now: String? = nil, environment extra: [String: String] = [:], useDB: Bool = true) throws -> RunningBinary {
        var environment = ["MAINTLEDGER_NOW": now ?? self.now, "MAINTLEDGER_ACTOR": actor, "HOME": folder.path, "PATH": "/usr/bin:/bin"]
        if let seed { environment["MAINTLEDGER_SEED"] = String(seed) }
        environment.merge(extra) { $1 }
        return try RunningBinary(executable: Self.binary, arguments: arguments + (useDB ? ["--db", dbPath] : []),
                                 environment: environment, folder: folder)
    }

    /// Counts rows of every table in the file (the ledger's and the trail's, whatever the
    /// schema adds), to prove a refusal changed nothing.
    func snapshot() throws -> [String: Int] {
        guard FileManager.default.fileExists(atPath: dbPath) else { return [:] }
        let queue = try DatabaseQueue(path: dbPath)
        return try queue.read { db in
            var counts: [String: Int] = [:]
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'") {
                counts[table] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)")
            }
            counts["content"] = try String.fetchAll(db, sql: "SELECT hex(hash) FROM audit_trail ORDER BY seq").joined().hashValue
            return counts
        }
    }

    /// Runs a command that must be refused: exact stderr and exit code, empty stdout, and
    /// every table and the trail exactly as before.
    func expectRefusal(_ arguments: [String], stderr: String, exitCode: Int32 = 1, now: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try snapshot()
        let result = try run(arguments, now: now)
        #expect(result == RunResult(stdout: "", stderr: stderr, exitCode: exitCode), sourceLocation: sourceLocation)
        #expect(try snapshot() == before, "a refusal changed the ledger", sourceLocation: sourceLocation)
    }
}

/// A started process whose output goes to files (no pipe can fill up and block it).
final class RunningBinary {
    private let process = Process()
    private let stdoutURL: URL
    private let stderrURL: URL

    init(executable: URL, arguments: [String], environment: [String: String], folder: URL) throws {
        let id = UUID().uuidString
        stdoutURL = folder.appendingPathComponent("\(id).out")
        stderrURL = folder.appendingPathComponent("\(id).err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    /// Sends `signal` to the process (a crash, with SIGKILL), if it has not exited yet.
    func kill(_ signal: Int32 = SIGKILL) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
    }

    func finish() throws -> RunResult {
        process.waitUntilExit()
        return RunResult(stdout: try String(contentsOf: stdoutURL, encoding: .utf8),
                         stderr: try String(contentsOf: stderrURL, encoding: .utf8),
                         exitCode: process.terminationStatus)
    }
}
