import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
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

    /// Records decode by position, and queries that stand in for a table (as-of) select the
    /// record's column list: both must be the table's own columns, in order.
    @Test func recordColumnListsAreTheTablesColumnsInOrder() throws {
        let fixture = try LedgerFixture()
        func columns(_ table: String) throws -> [String] {
            try fixture.database.inspect { db in try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table]) }
        }
        #expect(try columns("maintenances") == MaintenanceRecord.columns)
        #expect(try columns("audit_trail") == TrailEntry.columns)
        // Format 2 entries name columns by position and tables by code: both must be the schema's.
        for table in LedgerTable.allCases {
            #expect(try columns(table.rawValue) == table.columns, "\(table.rawValue)")
            #expect(LedgerTable(code: table.code) == table)
        }
        #expect(Set(LedgerTable.allCases.map(\.code)).count == LedgerTable.allCases.count)
    }

    /// Writers compare the schema by a fingerprint kept in the code: it must be that of what the
    /// migrations define (a new migration changes it, and this test says to what).
    @Test func theSchemaFingerprintIsThatOfTheMigrations() throws {
        let defined = try ExpectedSchema.fingerprintOfMigrations()
        #expect(defined == ExpectedSchema.fingerprintOfAllMigrations, "the migrations define \(defined)")
        let fixture = try LedgerFixture()
        let fresh = try fixture.database.inspect { db in try ExpectedSchema.fingerprint(ExpectedSchema.objects(db)) }
        #expect(fresh == defined, "a new ledger has \(fresh)")
    }

    @Test func createsTheFileWithItsFoldersPrivateAndInWALMode() throws {
        let fixture = try LedgerFixture()
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let pragmas = try fixture.database.inspect { db in
            try ["journal_mode", "foreign_keys", "synchronous", "application_id"].map { try String.fetchOne(db, sql: "PRAGMA \($0)") }
        }
        // synchronous 2 is FULL; the application id marks the file as a ledger.
        #expect(pragmas == ["wal", "1", "2", String(LedgerDatabase.applicationID)])
    }

    @Test func readingAMissingLedgerCreatesNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("maintledger-missing-\(UUID().uuidString)")
        let path = folder.appendingPathComponent("ledger.sqlite").path
        #expect(throws: LedgerError.self) { try LedgerReader.open(at: path) }
        #expect(throws: LedgerError.self) { try LedgerDatabase.openForUpgrade(at: path) }
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }

    /// The folder whose writability decides how a ledger is read (`ReadOnlyCopy`): where SQLite
    /// makes the `-wal` and `-shm` beside the file.
    @Test func theFolderOfALedgerPathIsWhatPrecedesItsLastSlash() {
        let cases = ["/tmp/a/ledger.sqlite": "/tmp/a", "/ledger.sqlite": "/", "ledger.sqlite": ".",
                     "a/ledger.sqlite": "a", "../ledger.sqlite": "..", "a//ledger.sqlite": "a/"]
        for (path, folder) in cases { #expect(ReadOnlyCopy.folder(of: path) == folder, "\(path)") }
    }

    /// Applied migrations are read without GRDB's schema cache; a ledger (or an empty file)
    /// without the table has none, whatever the case its name was written in.
    @Test func appliedMigrationsAreReadFromTheTableInAnyCase() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            #expect(try LedgerDatabase.appliedMigrations(db) == [])
            try db.execute(sql: "CREATE VIEW schema_migrations AS SELECT 'x' AS identifier")
            #expect(try LedgerDatabase.appliedMigrations(db) == [], "a view is not the table")
            try db.execute(sql: "DROP VIEW schema_migrations; CREATE TABLE Schema_Migrations (identifier TEXT); INSERT INTO Schema_Migrations VALUES ('0001_ledger_core')")
            #expect(try LedgerDatabase.appliedMigrations(db) == ["0001_ledger_core"])
        }
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

    /// 0004 rebuilds maintenances and their status changes, 0006 the trail: a ledger written
    /// under schema 3 must come out of the upgrade with every row as it was, every index a new
    /// ledger has (0007 changes some), and a trail that verifies. (The rows come from a fleet
    /// the release before format 2 simulated.)
    @Test func upgradingASchema3LedgerKeepsEveryRowAndStillVerifies() throws {
        let source = try LedgerFixture(format1: "fleet", now: "2022-12-31T00:00:00Z")
        let statuses = try source.database.inspect { db in try String.fetchAll(db, sql: "SELECT DISTINCT status FROM maintenances ORDER BY 1") }
        #expect(statuses == ["completed", "failed", "pending"], "the fleet should hold open, failed and completed maintenances")

        // The same content in a file that has only migrations 0001–0003, as schema 3 wrote it.
        // Schema 3's tables (checkpoints came with schema 5, maintenance_moves with 9: empty here).
        let tables = LedgerTable.allCases.filter { $0 != .checkpoints && $0 != .maintenanceMoves }.map(\.rawValue) + ["audit_trail"]
        let oldPath = try source.olderCopy("schema3.sqlite", migrations: 3, tables: tables) { (db: Database) throws in
            #expect(try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'maintenances'")?.contains("status IN (") == true)
        }

        /// Each index on the rebuilt tables: name, uniqueness, partial or not, and its columns.
        func indexes(_ db: Database) throws -> [String] {
            try ["maintenances", "maintenance_status_changes"].flatMap { (table: String) -> [String] in
                try Row.fetchAll(db, sql: "SELECT name, \"unique\", partial FROM pragma_index_list(?) ORDER BY name", arguments: [table]).map { index in
                    let (name, unique, partial): (String, Int, Int) = (index["name"], index["unique"], index["partial"])
                    let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno", arguments: [name])
                    return "\(table) \(name) unique=\(unique) partial=\(partial) (\(columns.joined(separator: ", ")))"
                }
            }
        }
        let schema3Indexes = try DatabaseQueue(path: oldPath).read(indexes)
        #expect(schema3Indexes.count == 9)
        let upgraded = try LedgerDatabase.open(at: oldPath, mode: .mustExist)
        #expect(try upgraded.inspect(indexes) == source.database.inspect(indexes))
        let (rules, migrations) = try upgraded.inspect { db in
            (try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'maintenances'") ?? "",
             try String.fetchAll(db, sql: "SELECT identifier FROM schema_migrations ORDER BY 1"))
        }
        #expect(!rules.contains(" IN ('") && rules.contains("status = 'cancelled'"))
        #expect(migrations == Migrations.all.map(\.identifier))
        func schemaObjects(_ database: LedgerDatabase) throws -> [String] {
            try database.inspect { db in try String.fetchAll(db, sql: "SELECT type || ' ' || name || ' on ' || tbl_name FROM sqlite_master ORDER BY name") }
        }
        #expect(try schemaObjects(upgraded) == schemaObjects(source.database))
        let upgradedFixture = Ledger(database: upgraded, context: LedgerContext(now: source.now, actor: "alice"))
        #expect(try upgradedFixture.verify() == source.ledger().verify())
        for table in LedgerTable.allCases.map(\.rawValue) {
            let read = { (database: LedgerDatabase) in
                try database.inspect { db in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY id").map(\.description) }
            }
            #expect(try read(upgraded) == read(source.database), "\(table) changed in the upgrade")
        }
    }

    /// An upgrade that would leave a broken reference is refused in one line, and the file keeps
    /// schema 3 whole: no migration recorded, the old tables and their rules still in place.
    @Test func anUpgradeOverABrokenReferenceIsRefusedAndChangesNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("maintledger-upgrade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("schema3.sqlite").path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let schema3 = try DatabaseQueue(path: path, configuration: configuration)
        try schema3.write { db in
            try db.execute(sql: "CREATE TABLE schema_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            for migration in Migrations.all.prefix(3) {
                try db.execute(sql: String(decoding: migration.sql, as: UTF8.self))
                try db.execute(sql: "INSERT INTO schema_migrations VALUES (?)", arguments: [migration.identifier])
            }
            // Edited outside maintledger: an attachment of an add-on and app that do not exist.
            try db.execute(sql: """
                INSERT INTO attachments (app_id, addon_id, name, attached_at) VALUES (7, 9, 'REDIS_URL', '2023-01-01T00:00:00.000Z')
                """)
        }
        func state() throws -> [String] {
            try schema3.read { db in
                try String.fetchAll(db, sql: "SELECT identifier FROM schema_migrations ORDER BY 1")
                    + String.fetchAll(db, sql: "SELECT name || ': ' || sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
                    + String.fetchAll(db, sql: "SELECT quote(app_id) || ' ' || name FROM attachments")
            }
        }
        let before = try state()
        #expect(before.contains { $0.hasPrefix("maintenances: ") && $0.contains("status IN (") })
        #expect(throws: LedgerError.unusableDatabase("cannot upgrade the ledger's schema: attachments row 1 refers to a missing addons row",
                                                     hint: "The file was edited outside maintledger; restore it from a backup.")) {
            try LedgerDatabase.open(at: path, mode: .mustExist)
        }
        #expect(try state() == before)
    }

    /// Verification renders rows as bytes; text that needs escaping must come out exactly as the
    /// trail recorded it (and an edit of it must still be seen).
    @Test func textThatNeedsEscapingVerifies() throws {
        let fixture = try LedgerFixture()
        try fixture.ledger().createApp(named: "example-app")
        let description = "premium \"HA\" \\ back\tslash\nnew line \u{1} é ✓ 🚀"
        _ = try fixture.ledger().createAddon(servicePlan: "heroku-redis:premium-0", app: "example-app", name: "redis-quoted-1", description: description)
        #expect(try fixture.ledger().verify().entryCount == 2)
        #expect(try fixture.ledger().verify(sqliteChecks: true).entryCount == 2)
        try fixture.database.queue.write { db in
            try db.execute(sql: "UPDATE addons SET description = ? WHERE name = 'redis-quoted-1'", arguments: [description + " "])
        }
        #expect(throws: LedgerError.verificationFailed("verification failed at seq 2: addons row 1 differs from what the trail recorded")) {
            try fixture.ledger().verify()
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

    /// An all-or-nothing batch runs its commands without savepoints: a refused command's first
    /// writes stay in the transaction, so the batch fails even if its body goes on, and nothing
    /// it did is kept.
    @Test func aRefusedCommandFailsAnAllOrNothingBatchEvenIfItsBodyGoesOn() throws {
        let fixture = try LedgerFixture()
        try fixture.ledger().createApp(named: "first-app")
        let before = try fixture.snapshot()
        let context = LedgerContext(now: fixture.now, actor: "alice")
        func app(_ name: String) -> KeyValuePairs<String, RowValue> {
            ["uuid": .text(UUID().uuidString.lowercased()), "name": .text(name), "maintenance_mode": .integer(0), "created_at": .time(fixture.now)]
        }
        #expect(throws: (any Error).self) {
            try fixture.database.allOrNothing {
                try fixture.database.record(context) { mutation in
                    mutation.describe(action: "test", subject: "app:second-app")
                    try mutation.insert(.apps, row: app("second-app"))
                }
                // Refused by the schema (a name too short) after its first row was written.
                _ = try? fixture.database.record(context) { mutation in
                    mutation.describe(action: "test", subject: "app:third-app")
                    try mutation.insert(.apps, row: app("third-app"))
                    try mutation.insert(.apps, row: app("x"))
                }
            }
        }
        #expect(try fixture.snapshot() == before)
        #expect(try fixture.ledger().verify().entryCount == 1)
    }

    /// `backup` copies a few thousand pages a step, to show its progress: the copy is still the
    /// ledger as one commit left it. A commit between two steps is not in it, and does not have
    /// SQLite start the copy again (the pages copied only grow).
    @Test func aCopyMadeInStepsIsTheLedgerAsOneCommitLeftIt() throws {
        let fixture = try LedgerFixture()
        for index in 0..<100 { try fixture.ledger().createApp(named: "app-\(index)") }
        let before = try fixture.ledger().verify()
        let copy = fixture.folder.appendingPathComponent("copy.sqlite").path
        var steps: [(done: Int, total: Int)] = []
        var commit: Result<Void, any Error> = .success(())
        try LedgerReader.open(at: fixture.path).copyWhole(into: copy, pagesPerStep: 1) { done, total in
            if steps.isEmpty { commit = Result { try fixture.ledger().createApp(named: "between-steps") } }
            steps.append((done, total))
        }
        try commit.get()
        #expect(steps.count > 10 && steps.map(\.done) == Array(1...steps.count) && steps.allSatisfy { $0.total == steps.count })
        let context = LedgerContext(now: fixture.now, actor: "alice")
        #expect(try LedgerQueries(reader: LedgerReader.openPrivateCopy(at: copy), context: context).verify() == before)
        #expect(try fixture.ledger().verify().entryCount == before.entryCount + 1)
    }
}
