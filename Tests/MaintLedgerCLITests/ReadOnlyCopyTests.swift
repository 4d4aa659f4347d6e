import Foundation
import GRDB
import Testing

/// An auditor's copy in a folder they may read but not write is read read-only (it failed with
/// "attempt to write a readonly database"), and nothing is written beside it.
@Suite struct ReadOnlyCopyTests {
    /// A copy of the seed ledger in `copy/`, the folder 0555 and the file 0444; `wal` puts
    /// uncheckpointed changes beside it.
    static func readOnlyCopy(wal: Bool = false) throws -> (sandbox: LedgerSandbox, path: String) {
        let sandbox = try Fixture.seedExample()
        let folder = sandbox.folder.appendingPathComponent("copy")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        let path = folder.appendingPathComponent("ledger.sqlite").path
        try FileManager.default.copyItem(atPath: sandbox.dbPath, toPath: path)
        if wal {
            // A connection that wrote and has not checkpointed: its -wal holds the change.
            let writer = try DatabaseQueue(path: path)
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_mode = WAL")
                try db.execute(sql: "CREATE TABLE scratch (x); DROP TABLE scratch")
            }
            try FileManager.default.copyItem(atPath: path + "-wal", toPath: path + "-wal.kept")
            try writer.close()
            try FileManager.default.moveItem(atPath: path + "-wal.kept", toPath: path + "-wal")
            try? FileManager.default.removeItem(atPath: path + "-shm")
        }
        for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: file)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder.path)
        return (sandbox, path)
    }

    /// Runs the binary as someone who may read the copy but not write it: `nobody` when the
    /// tests run as root (who writes anywhere a mode allows), else the tests' own user.
    static func runReading(_ sandbox: LedgerSandbox, _ arguments: [String]) throws -> RunResult {
        let environment = ["MAINTLEDGER_NOW": sandbox.now, "MAINTLEDGER_ACTOR": sandbox.actor, "HOME": "/nonexistent", "PATH": "/usr/bin:/bin"]
        let (executable, prefix) = geteuid() == 0
            ? (URL(fileURLWithPath: "/usr/bin/setpriv"), ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", LedgerSandbox.binary.path])
            : (LedgerSandbox.binary, [])
        return try RunningBinary(executable: executable, arguments: prefix + arguments, environment: environment, folder: sandbox.folder).finish()
    }

    @Test func readCommandsReadACopyInAReadOnlyFolder() throws {
        let (sandbox, path) = try Self.readOnlyCopy()
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: (path as NSString).deletingLastPathComponent) }
        let before = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        #expect(try Self.runReading(sandbox, ["data:maintenances:info", Fixture.addon, "--db", path])
                == RunResult(stdout: SeedScenarioTests.seedInfoBlock, stderr: "", exitCode: 0))
        let verify = try Self.runReading(sandbox, ["audit:verify", "--db", path])
        #expect(verify.exitCode == 0 && verify.stdout.hasPrefix("ok: 6 entries verified, head "), "\(verify)")
        #expect(try Self.runReading(sandbox, ["sql", "SELECT count(*) AS n FROM maintenances", "--csv", "--db", path])
                == RunResult(stdout: "n\r\n1\r\n", stderr: "", exitCode: 0))
        #expect(try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent) == before)
    }

    /// Read without its -wal, the copy would lack changes; it is refused instead.
    @Test func aCopyWithChangesStillInItsWALIsRefused() throws {
        let (sandbox, path) = try Self.readOnlyCopy(wal: true)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: (path as NSString).deletingLastPathComponent) }
        #expect(try Self.runReading(sandbox, ["audit:verify", "--db", path]) == RunResult(stdout: "", stderr: """
            Error: \(path) has changes in \(path)-wal that reading it here would leave out, and its folder is read-only
            Copy the ledger with `sqlite3 LEDGER ".backup COPY"`, which folds them in, or read it where it can be written.

            """, exitCode: 1))
    }
}
