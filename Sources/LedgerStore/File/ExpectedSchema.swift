import Crypto
internal import GRDB
import LedgerCore

/// The schema a ledger must have: exactly the tables, indexes, views and triggers its applied
/// migrations define, each with the SQL they give it. Anything else in the file was put there
/// by someone else (a trigger that rewrites what commands write, a no-op in place of the trail's
/// chain check) and is named.
enum ExpectedSchema {
    /// One object of `sqlite_master`.
    struct Object: Equatable {
        let type: String
        let name: String
        let table: String
        let sql: String?

        var described: String { "\(type) \(name)" }
    }

    /// The objects of `sqlite_master` that are no part of the ledger and change no answer, so
    /// that no one is refused for them:
    /// - the tables `sqlite_stat1` and `sqlite_stat4`, the query planner's statistics (`ANALYZE`),
    ///   which any SQLite tool may write;
    /// - Litestream's two bookkeeping tables, exactly as it creates them (docs/litestream.md): it
    ///   adds them to every database it replicates, and a restored ledger has them too.
    /// Only these tables, named exactly (Litestream's with their exact SQL), are passed over: any
    /// other object is compared, whatever its name, and so is any trigger or index on them.
    static let passedOver = """
        (type = 'table' AND (name IN ('sqlite_stat1', 'sqlite_stat4')
            OR (name = '_litestream_seq' AND sql = 'CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)')
            OR (name = '_litestream_lock' AND sql = 'CREATE TABLE _litestream_lock (id INTEGER)')))
        """

    private static let objectsSQL = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE NOT \(passedOver) ORDER BY type, name"

    /// SHA-256 of the objects every migration defines, as this SQLite writes them (a test holds
    /// it to `objects(definedBy:)`; a new migration changes it).
    static let fingerprintOfAllMigrations = "e8cc864bf7f0c2264cce912e955596a83250600f2898c848db7f5b8f6ddc29f6"

    /// How the file differs from what its migrations define, for a person ("trigger zz is
    /// defined by no migration"); nil when it has exactly their objects.
    ///
    /// A ledger with every migration applied is first compared by fingerprint, in microseconds;
    /// only when that differs are the migrations applied to a database in memory (about 6 ms)
    /// to name the difference, or to find none (a SQLite version that writes the SQL of renamed
    /// tables differently).
    static func firstDifference(_ db: Database) throws -> String? {
        let actual = try objects(db)
        let applied = try LedgerDatabase.appliedMigrations(db)
        if Set(applied) == Set(Migrations.all.map(\.identifier)), fingerprint(actual) == fingerprintOfAllMigrations { return nil }
        let expected = try objects(definedBy: applied)
        let names = Set(actual.map(\.described)).union(expected.map(\.described)).sorted()
        for name in names {
            let found = actual.first { $0.described == name }, defined = expected.first { $0.described == name }
            switch (found, defined) {
            case (nil, _): return "\(name) is missing"
            case (_, nil): return "\(name) is defined by no migration"
            case let (found?, defined?) where found != defined: return "\(name) differs from its migration's"
            default: continue
            }
        }
        return nil
    }

    static func fingerprint(_ objects: [Object]) -> String {
        var hasher = SHA256()
        for object in objects {
            for field in [object.type, object.name, object.table, object.sql ?? "NULL"] {
                hasher.update(data: Array(field.utf8) + [0])
            }
        }
        return Hex.string(hasher.finalize())
    }

    /// The fingerprint of what all the migrations define.
    static func fingerprintOfMigrations() throws -> String {
        fingerprint(try objects(definedBy: Migrations.all.map(\.identifier)))
    }

    static func objects(_ db: Database) throws -> [Object] {
        try Row.fetchAll(db, sql: objectsSQL).map { Object(type: $0[0], name: $0[1], table: $0[2], sql: $0[3]) }
    }

    /// The objects the migrations define, as applying them to an empty database in memory
    /// leaves them.
    private static func objects(definedBy identifiers: [String]) throws -> [Object] {
        try DatabaseQueue().writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.inTransaction {
                try LedgerDatabase.createMigrationsTable(db)
                for migration in Migrations.all where identifiers.contains(migration.identifier) {
                    try db.execute(sql: String(decoding: migration.sql, as: UTF8.self))
                }
                return .commit
            }
            return try Self.objects(db)
        }
    }
}
