// libFuzzer target: `import` (`Ledger.importMaintenances`, the public API the CLI calls) on a
// real ledger file. The input is the file imported, as is: NDJSON lines, truncated lines,
// invalid UTF-8, anything.
//
// The ledger is built once per process (migrations, then `seeds/import-base.ndjson`, a slice
// of the demo's `history --ndjson`, so that lines naming known apps, add-ons and uuids take
// the paths that compare with what is recorded), kept in /dev/shm, and copied back after
// every import that changed it, so each input runs on the same ledger.
//
// Beyond "no crash, no hang" it checks the import's promises:
// - a refusal is a `LedgerError`, exit 65 (bad data) or 1 (refused), one line (the CLI
//   escapes control characters, but a message must not depend on that), and it names its
//   line; the ledger is exactly as before (`audit:verify` accepts it, with the trail's length
//   and head as before: every row is what the trail recorded);
// - an accepted file counts its lines as getline does, leaves a ledger `audit:verify`
//   accepts, and importing it again records nothing and changes nothing.
import Foundation
import LedgerCore
import LedgerStore
import MaintenanceLedger

/// The fixed clock: after everything the demo's year holds.
let now = Timestamp(iso: ProcessInfo.processInfo.environment["FUZZ_IMPORT_NOW"] ?? "2024-06-01T00:00:00Z")!
let context = LedgerContext(now: now, actor: "fuzz", seed: 1)

final class Workspace: @unchecked Sendable {
    let folder: String
    let ledgerPath: String
    let inputPath: String
    let pristine: Data
    let pristineCounts: VerificationReport
    var ledger: Ledger!

    init() {
        let base = ProcessInfo.processInfo.environment["FUZZ_IMPORT_BASE"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../seeds/import-base.ndjson").standardized.path
        let scratch = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        folder = "\(scratch)/maintledger-fuzz-import-\(getpid())"
        try? FileManager.default.removeItem(atPath: folder)
        try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        ledgerPath = folder + "/ledger.sqlite"
        inputPath = folder + "/input.ndjson"
        do {
            let ledger = Ledger(database: try LedgerDatabase.openForWriting(at: ledgerPath), context: context)
            let summary = try ledger.importMaintenances(from: try LineReader(path: base), source: base)
            FileHandle.standardError.write(Data("FuzzImport: base ledger from \(base): \(summary)\n".utf8))
        } catch {
            fatalError("cannot build the base ledger from \(base): \(error)")
        }
        // The database is closed (the WAL folded back in): the main file is the whole ledger.
        precondition(!FileManager.default.fileExists(atPath: ledgerPath + "-wal"), "the base ledger kept its WAL")
        pristine = try! Data(contentsOf: URL(fileURLWithPath: ledgerPath))
        ledger = Ledger(database: try! LedgerDatabase.openForWriting(at: ledgerPath), context: context)
        pristineCounts = try! Self.counts(ledger)
    }

    /// The trail's length and head, from `audit:verify` (which also proves every table is what
    /// the trail recorded): a refusal must leave both as they were.
    static func counts(_ ledger: Ledger) throws -> VerificationReport {
        try ledger.verify()
    }

    /// Back to the base ledger (a new file: the ledger refuses a file replaced under it).
    func reset() {
        ledger = nil // closes the file
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledgerPath + suffix) }
        try! pristine.write(to: URL(fileURLWithPath: ledgerPath))
        try! FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: ledgerPath)
        ledger = Ledger(database: try! LedgerDatabase.openForWriting(at: ledgerPath), context: context)
    }
}

nonisolated(unsafe) var workspace: Workspace?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImport(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    if workspace == nil { workspace = Workspace() }
    let space = workspace!
    let bytes = count == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: count))
    try! Data(bytes).write(to: URL(fileURLWithPath: space.inputPath))
    let summary: ImportSummary
    do {
        summary = try space.ledger.importMaintenances(from: try LineReader(path: space.inputPath), source: "input.ndjson")
    } catch let error as LedgerError {
        check([65, 1].contains(error.exitCode), "refused with exit \(error.exitCode): \(error)", bytes)
        check(error.message.hasPrefix("line "), "a refusal that names no line: \(error.message.debugDescription)", bytes)
        check(!error.message.contains("\n") && !(error.hint ?? "").contains("\n"), "a refusal of several lines: \(error)", bytes)
        let after = try? Workspace.counts(space.ledger)
        check(after == space.pristineCounts, "a refused import changed the ledger: \(space.pristineCounts) → \(String(describing: after))", bytes)
        return 0
    } catch {
        fail("refused with an error that is no LedgerError (the CLI prints it as ArgumentParser does, exit 1): \(error)", bytes)
    }
    let expectedLines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count - (bytes.last == 0x0A || bytes.isEmpty ? 1 : 0)
    check(summary.lines == expectedLines, "counted \(summary.lines) lines, getline reads \(expectedLines)", bytes)
    let after: VerificationReport
    do {
        after = try Workspace.counts(space.ledger)
    } catch {
        fail("audit:verify refuses what the import recorded: \(error)", bytes)
    }
    guard after != space.pristineCounts else { return 0 }
    do {
        let again = try space.ledger.importMaintenances(from: try LineReader(path: space.inputPath), source: "input.ndjson")
        check(again.maintenancesRecorded == 0 && again.appsCreated == 0 && again.addonsCreated == 0 && again.attachmentsCreated == 0,
              "importing the file again recorded more: \(again)", bytes)
        check(try! Workspace.counts(space.ledger) == after, "importing the file again changed the ledger", bytes)
    } catch {
        fail("importing the file again was refused: \(error)", bytes)
    }
    space.reset()
    return 0
}

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, _ bytes: [UInt8]) {
    if !condition() { fail(message(), bytes) }
}

func fail(_ message: String, _ bytes: [UInt8]) -> Never {
    FileHandle.standardError.write(Data("FuzzImport: \(message)\ninput: \(String(decoding: bytes.prefix(2000), as: UTF8.self).debugDescription)\n".utf8))
    fatalError(message)
}
