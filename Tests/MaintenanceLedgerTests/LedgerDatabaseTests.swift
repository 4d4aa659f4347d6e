import Foundation
import GRDB
import Testing
@testable import MaintenanceLedger

@Suite struct LedgerDatabaseTests {
    @Test func everyMigrationFileIsEmbeddedInOrder() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../migrations").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.map { String($0.dropLast(4)) } == Migrations.all.map(\.identifier))
        for (file, migration) in zip(files, Migrations.all) {
            #expect(try Data(contentsOf: folder.appendingPathComponent(file)) == Data(migration.sql), "\(file) differs from the embedded copy")
        }
    }

    @Test func createsTheFileWithItsFoldersPrivateAndInWALMode() throws {
        let fixture = try LedgerFixture()
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let pragmas = try fixture.database.read { db in
            try ["journal_mode", "foreign_keys", "synchronous", "application_id"].map { try String.fetchOne(db, sql: "PRAGMA \($0)") }
        }
        // synchronous 2 is FULL; the application id marks the file as a ledger.
        #expect(pragmas == ["wal", "1", "2", String(LedgerDatabase.applicationID)])
    }

    @Test func readingAMissingLedgerCreatesNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("maintledger-missing-\(UUID().uuidString)")
        let path = folder.appendingPathComponent("ledger.sqlite").path
        #expect(throws: LedgerError.self) { try LedgerDatabase.open(at: path, mode: .mustExist) }
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }

    @Test func refusesForeignFilesAndLeavesThemUntouched() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("maintledger-foreign-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("notes.txt")
        try Data("not a database at all, just some notes\n".utf8).write(to: text)
        let other = folder.appendingPathComponent("other.sqlite")
        try DatabaseQueue(path: other.path).write { db in try db.execute(sql: "CREATE TABLE notes(body TEXT)") }
        for file in [text, other] {
            let before = try Data(contentsOf: file)
            #expect(throws: LedgerError.self) { try LedgerDatabase.open(at: file.path, mode: .createIfMissing) }
            #expect(try Data(contentsOf: file) == before)
        }
    }

    @Test func refusesALedgerFromANewerSchema() throws {
        let fixture = try LedgerFixture()
        let path = fixture.path
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO schema_migrations (identifier) VALUES ('9999_from_the_future')")
        }
        #expect(throws: LedgerError.unusableDatabase("\(path) was written by a newer maintledger (schema 9999_from_the_future)",
                                                     hint: "Upgrade maintledger to read this ledger.")) {
            try LedgerDatabase.open(at: path, mode: .mustExist)
        }
    }

    @Test func theSchemaRefusesWhatTheRulesForbid() throws {
        let fixture = try LedgerFixture()
        let addon = try fixture.premiumRedis()
        _ = try fixture.ledger().requireMaintenance(addon, requiredBy: Timestamp(iso: "2023-02-01T00:00:00Z")!)
        try fixture.database.queue.write { db in
            // Enumerations, formats and ranges are CHECKed; the trail is append-only.
            for sql in [
                "UPDATE maintenances SET status = 'bogus'",
                "UPDATE maintenances SET status = 'completed'", // no completed_at
                "INSERT INTO maintenances SELECT NULL, 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', addon_id, status, reason, method, required_by, scheduled_for, previously_scheduled_for, window, outside_window, started_at, completed_at, duration_seconds, server_created_at, customer_requested, emergency, created_at FROM maintenances", // a second open one
                "INSERT INTO windows (addon_id, day_of_week, start_minute, source, set_at, set_by) VALUES (1, 7, 0, 'customer', '2023-01-01T00:00:00.000Z', 'x')",
                "INSERT INTO windows (addon_id, day_of_week, start_minute, source, set_at, set_by) VALUES (1, 1, 15, 'customer', '2023-01-01T00:00:00.000Z', 'x')",
                "INSERT INTO windows (addon_id, day_of_week, start_minute, duration_minutes, source, set_at, set_by) VALUES (1, 1, 0, 60, 'customer', '2023-01-01T00:00:00.000Z', 'x')",
                "INSERT INTO windows (addon_id, day_of_week, start_minute, source, set_at, set_by) VALUES (99, 1, 0, 'customer', '2023-01-01T00:00:00.000Z', 'x')",
                "UPDATE apps SET created_at = '2023-01-01 00:00:00'",
                "UPDATE apps SET maintenance_mode = 2",
                "UPDATE audit_trail SET actor = 'mallory'",
                "DELETE FROM audit_trail",
                "DELETE FROM apps",
            ] {
                #expect(throws: DatabaseError.self, "\(sql)") { try db.execute(sql: sql) }
            }
        }
    }

    @Test func twoConnectionsWritingAtOnceBothSucceed() async throws {
        let fixture = try LedgerFixture()
        let path = fixture.path
        let context = LedgerContext(now: fixture.now, actor: "alice")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<2 {
                group.addTask {
                    let database = try LedgerDatabase.open(at: path, mode: .createIfMissing)
                    let ledger = Ledger(database: database, context: context)
                    for index in 0..<25 { try ledger.createApp(named: "app-\(writer)-\(index)") }
                }
            }
            try await group.waitForAll()
        }
        #expect(try fixture.count("apps") == 50)
        #expect(try fixture.count("audit_trail") == 50)
        #expect(try fixture.ledger().verify().entryCount == 50)
    }
}
