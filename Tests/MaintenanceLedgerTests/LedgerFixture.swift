import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintenanceLedger

/// A ledger in a temp folder, opened through the library, with a settable clock.
final class LedgerFixture {
    let folder: URL
    let path: String
    let database: LedgerDatabase
    var now: Timestamp

    init(now: String = "2023-01-02T10:00:00Z") throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("maintledger-lib-\(UUID().uuidString)")
        path = folder.appendingPathComponent("nested/ledger.sqlite").path
        database = try LedgerDatabase.open(at: path, mode: .createIfMissing)
        self.now = Timestamp(iso: now)!
    }

    /// A copy of a ledger the release before the compact trail wrote (Tests/Fixtures/format1,
    /// every entry format 1), upgraded in place as it opens.
    init(format1 name: String, now: String) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("maintledger-lib-\(UUID().uuidString)")
        path = folder.appendingPathComponent("nested/ledger.sqlite").path
        try Self.unpackFormat1(name, to: path)
        database = try LedgerDatabase.open(at: path, mode: .mustExist)
        self.now = Timestamp(iso: now)!
    }

    static let format1Folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/format1").standardized

    /// Writes the fixture's ledger, as the old release left it, at `path`.
    static func unpackFormat1(_ name: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gunzip.arguments = ["-dc", format1Folder.appendingPathComponent("\(name).ledger.gz").path]
        try #require(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]))
        gunzip.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try gunzip.run()
        gunzip.waitUntilExit()
        try #require(gunzip.terminationStatus == 0, "gzip could not unpack \(name)")
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// A new file at `name` in the fixture's folder as an older maintledger wrote it: only the
    /// first `migrations` applied, then `tables` copied from this ledger (the caller checks the
    /// older schema first with `before`, on the new file). Its trail must be format 1, as older
    /// schemas hold no other.
    func olderCopy(_ name: String, migrations: Int, tables: [String], before: (Database) throws -> Void = { _ in }) throws -> String {
        let path = folder.appendingPathComponent(name).path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        try DatabaseQueue(path: path, configuration: configuration).write { db in
            try db.execute(sql: "CREATE TABLE schema_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            for migration in Migrations.all.prefix(migrations) {
                try db.execute(sql: String(decoding: migration.sql, as: UTF8.self))
                try db.execute(sql: "INSERT INTO schema_migrations VALUES (?)", arguments: [migration.identifier])
            }
            try before(db)
            try db.execute(sql: "ATTACH DATABASE ? AS source", arguments: [self.path])
            for table in tables { try db.execute(sql: "INSERT INTO main.\(table) SELECT * FROM source.\(table) ORDER BY rowid") }
        }
        return path
    }

    /// The command layer at the fixture's clock, acting as `actor`.
    func ledger(at time: String? = nil, actor: String = "alice") -> Ledger {
        if let time { now = Timestamp(iso: time)! }
        return Ledger(database: database, context: LedgerContext(now: now, actor: actor, seed: 7))
    }

    /// An app with one premium Key-Value Store add-on whose window is Fridays 18:00.
    @discardableResult
    func premiumRedis(app: String = "example-app", addon: String = "redis-lively-12345", plan: String = "premium-0") throws -> AddonSelector {
        let ledger = ledger()
        if try database.inspect({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM apps WHERE name = ?", arguments: [app]) }) == 0 {
            try ledger.createApp(named: app)
        }
        _ = try ledger.createAddon(servicePlan: "heroku-redis:\(plan)", app: app, name: addon)
        if (try? Plan.parse(plan, service: .redis).get())?.hasWindows == true {
            _ = try ledger.updateWindow(AddonSelector(addon, app: nil), day: "friday", time: "18:00")
        }
        return AddonSelector(addon, app: nil)
    }

    func count(_ table: String) throws -> Int {
        try database.inspect { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)")! }
    }

    /// Every table's rows and the trail, as text: equal snapshots mean nothing changed.
    func snapshot() throws -> String {
        try database.inspect { db in
            try (LedgerTable.allCases.map(\.rawValue) + ["audit_trail"]).map { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid").map(\.description).joined(separator: "\n")
            }.joined(separator: "\n--\n")
        }
    }

    /// Expects `body` to throw exactly `expected` and to leave every table and the trail as they were.
    func expectRefusal(_ expected: LedgerError, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) throws {
        let before = try snapshot()
        #expect(throws: expected, sourceLocation: sourceLocation, performing: body)
        #expect(try snapshot() == before, "a refusal changed the ledger", sourceLocation: sourceLocation)
    }
}

extension LedgerDatabase {
    /// Tests look into the file with GRDB's own API, beside the store's.
    func inspect<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.read(body)
    }

    /// Edits the file behind the store's back, as someone with sqlite3 could.
    func inspectWriting(_ body: (Database) throws -> Void) throws {
        try queue.writeWithoutTransaction(body)
    }
}
