import Foundation
import GRDB
import LedgerStore
import Testing

/// Commands that only read take no write lock and never change the file: a support engineer's
/// look-up answers while an import holds the lock, and an old ledger is not upgraded by a read.
@Suite struct ReadersNeverWaitTests {
    /// Every command that only reads, on the fixture with a pending maintenance.
    static let readCommands: [[String]] = [
        ["addons"], ["redis:info"] + LedgerSandbox.exampleApp, ["maintenance"] + LedgerSandbox.exampleApp,
        ["data:maintenances"] + LedgerSandbox.exampleApp, ["data:maintenances:info", Fixture.addon, "--json"],
        ["data:maintenances:history", Fixture.addon], ["data:maintenances:window", Fixture.addon],
        ["history", "--limit", "20"], ["notices"], ["audit:trail", "--csv"], ["audit:verify"],
        ["audit:overdue"], ["audit:compliance"], ["audit:windows"], ["sql", "SELECT count(*) FROM maintenances"],
    ]

    /// Before: each of these waited for the lock and gave up after 10 s with exit 75. Now each
    /// prints what it prints on an idle ledger, the last committed state, beside a writer that
    /// holds the lock with a change it has not committed.
    @Test func everyReadAnswersWhileAWriterHoldsTheLock() throws {
        let sandbox = try Fixture.pendingMaintenance()
        let idle = try Self.readCommands.map { try sandbox.ok($0) }
        let writer = try DatabaseQueue(path: sandbox.dbPath)
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(sql: "UPDATE apps SET maintenance_mode = 1")
            for (arguments, expected) in zip(Self.readCommands, idle) {
                #expect(try sandbox.run(arguments) == expected, "\(arguments.joined(separator: " "))")
            }
            // A command that records does wait, and says it is worth retrying.
            #expect(try sandbox.run(["maintenance:on"] + LedgerSandbox.exampleApp).exitCode == 75)
            try db.execute(sql: "ROLLBACK")
        }
    }

    /// An export (the scheduled job's read) runs beside a writer too, and writes its files.
    @Test func anExportRunsWhileAWriterHoldsTheLock() throws {
        let sandbox = try Fixture.pendingMaintenance()
        let folder = sandbox.folder.appendingPathComponent("exports").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let writer = try DatabaseQueue(path: sandbox.dbPath)
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            let result = try sandbox.run(["export", "--to", folder])
            #expect(result.exitCode == 0, "\(result)")
            try db.execute(sql: "ROLLBACK")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).contains { $0.hasSuffix(".ndjson") })
    }

    /// Reading leaves the ledger's bytes as they were and no `-wal` or `-shm` beside it.
    @Test func aReadLeavesTheFileAsItWas() throws {
        let sandbox = try Fixture.pendingMaintenance()
        let before = try LedgerSandbox.bytes(sandbox.dbPath)
        for arguments in Self.readCommands { try sandbox.ok(arguments) }
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == before)
        #expect(try sandbox.folderContents().filter { $0.hasPrefix("ledger.sqlite") } == ["ledger.sqlite"])
    }

    /// Before: any read upgraded an old ledger under the write lock. Now reads refuse it, say
    /// how to upgrade it and leave it byte for byte; `migrate` upgrades it, and says so.
    @Test func aLedgerThatNeedsAnUpgradeIsSaidSoAndUpgradedByMigrate() throws {
        let sandbox = try LedgerSandbox()
        let last = Migrations.all.last!.identifier
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        try DatabaseQueue(path: sandbox.dbPath, configuration: configuration).write { db in
            try db.execute(sql: "CREATE TABLE schema_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            for migration in Migrations.all.dropLast() {
                try db.execute(sql: String(decoding: migration.sql, as: UTF8.self))
                try db.execute(sql: "INSERT INTO schema_migrations VALUES (?)", arguments: [migration.identifier])
            }
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        let old = try LedgerSandbox.bytes(sandbox.dbPath)
        for arguments in [["history"], ["audit:verify"], ["addons"]] {
            #expect(try sandbox.run(arguments) == RunResult(stdout: "", stderr: """
                Error: \(sandbox.dbPath) needs an upgrade (\(last)) before it can be read; reading never changes it
                Run `maintledger migrate` (any command that records upgrades it too).

                """, exitCode: 1))
        }
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == old)
        #expect(try sandbox.run(["migrate"]) == RunResult(stdout: "upgraded: applied \(last); schema \(last)\n", stderr: "", exitCode: 0))
        #expect(try sandbox.run(["migrate"]) == RunResult(stdout: "up to date: schema \(last)\n", stderr: "", exitCode: 0))
        #expect(try sandbox.run(["history"]) == RunResult(stdout: "", stderr: "No maintenances match\n", exitCode: 0))
        #expect(try sandbox.expectVerifies() == 0)
    }

    /// `migrate` upgrades what exists; it creates no ledger (and no folder) where there is none.
    @Test func migrateRefusesAMissingLedgerAndCreatesNothing() throws {
        let sandbox = try LedgerSandbox()
        let path = sandbox.folder.appendingPathComponent("nowhere/ledger.sqlite").path
        #expect(try sandbox.run(["migrate", "--db", path], useDB: false) == RunResult(stdout: "", stderr: """
            Error: no ledger at \(path)
            Record something first (for example `maintledger apps:create APP`), or point --db or MAINTLEDGER_DB at an existing ledger.

            """, exitCode: 1))
        #expect(!FileManager.default.fileExists(atPath: sandbox.folder.appendingPathComponent("nowhere").path))
    }
}
