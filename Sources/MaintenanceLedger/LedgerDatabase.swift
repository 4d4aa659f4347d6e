import Foundation
import GRDB

/// The ledger file: opening, validating and migrating it, and the two ways in: `read` for
/// queries and `record` for mutations, which always append to the audit trail in the same
/// `BEGIN IMMEDIATE` transaction.
public final class LedgerDatabase {
    /// `PRAGMA application_id` of every ledger ('MLDG'); set by the first migration.
    static let applicationID: Int32 = 1_296_387_143

    public let path: String
    let queue: DatabaseQueue

    private init(path: String, queue: DatabaseQueue) {
        self.path = path
        self.queue = queue
    }

    public enum OpenMode: Sendable {
        /// Create the file (and its folders) when missing: commands that record something.
        case createIfMissing
        /// Refuse a missing file and create nothing: commands that only read.
        case mustExist
    }

    public static func open(at path: String, mode: OpenMode) throws -> LedgerDatabase {
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: path) {
            guard mode == .createIfMissing else {
                throw LedgerError.notFound("no ledger at \(path)",
                                           hint: "Record something first (for example `maintledger apps:create APP`), or point --db or MAINTLEDGER_DB at an existing ledger.")
            }
            try createEmptyFile(at: path)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            let ledger = LedgerDatabase(path: path, queue: try DatabaseQueue(path: path, configuration: configuration))
            try ledger.prepareSchema(mode: mode)
            return ledger
        } catch let error as LedgerError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw LedgerError.unusableDatabase("\(path) is not a SQLite database",
                                               hint: "Point --db at a ledger file, or at a new path to start one.")
        } catch {
            throw LedgerError.unusableDatabase("cannot use \(path): \(Self.describe(error))", hint: nil)
        }
    }

    private static func createEmptyFile(at path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw LedgerError.unusableDatabase("cannot create the folder for \(path): \(Self.describe(error))", hint: nil)
        }
        // The ledger names customers and who did what: readable by its owner only.
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw LedgerError.unusableDatabase("cannot create \(path)", hint: "Check that the folder is writable.")
        }
    }

    /// Refuses foreign files before anything is written to them, then migrates.
    private func prepareSchema(mode: OpenMode) throws {
        let migrator = Self.migrator()
        try queue.writeWithoutTransaction { db in
            let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            let objectCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
            if applicationID != Self.applicationID {
                guard objectCount == 0 else {
                    throw LedgerError.unusableDatabase("\(path) is not a maintledger ledger",
                                                       hint: "Point --db at a ledger file, or at a new path to start one.")
                }
                guard mode == .createIfMissing else {
                    throw LedgerError.notFound("\(path) holds no ledger yet",
                                               hint: "Record something first, for example `maintledger apps:create APP`.")
                }
            }
            if try migrator.hasBeenSuperseded(db) {
                throw LedgerError.unusableDatabase("\(path) was written by a newer maintledger (schema \(try migrator.appliedIdentifiers(db).sorted().last ?? "?"))",
                                                   hint: "Upgrade maintledger to read this ledger.")
            }
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        try migrator.migrate(queue)
    }

    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in Migrations.all {
            let sql = String(decoding: migration.sql, as: UTF8.self)
            migrator.registerMigration(migration.identifier) { db in
                try db.execute(sql: sql)
            }
        }
        return migrator
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        if let error = error as? CocoaError, let underlying = error.underlying { return underlying.localizedDescription }
        return error.localizedDescription
    }

    // MARK: Access

    /// The connection of the batch under way, if any: its commands share one transaction.
    private var batchConnection: Database?

    /// Runs a query in a read transaction (one consistent snapshot), or inside the batch under way.
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        if let batchConnection { return try body(batchConnection) }
        return try queue.read { db in try body(db) }
    }

    /// Runs a mutation in one `BEGIN IMMEDIATE` transaction (a savepoint inside a batch) and
    /// appends its trail entry there too. A mutation that changed no row appends nothing. Any
    /// throw rolls back everything the mutation did.
    public func record<T>(_ context: LedgerContext, _ body: (Mutation) throws -> T) throws -> T {
        func perform(_ db: Database) throws -> T {
            let mutation = try Mutation(db: db, context: context)
            let result = try body(mutation)
            try mutation.appendTrailEntry()
            return result
        }
        if let batchConnection {
            var result: T?
            try batchConnection.inSavepoint {
                result = try perform(batchConnection)
                return .commit
            }
            return result!
        }
        return try inImmediateTransaction(perform)
    }

    /// Runs many commands in one transaction: each keeps its own trail entry and rules, and a
    /// refused command rolls back only itself. Used by the engine and the simulator.
    public func batch<T>(_ body: () throws -> T) throws -> T {
        precondition(batchConnection == nil, "batches do not nest")
        return try inImmediateTransaction { db in
            batchConnection = db
            defer { batchConnection = nil }
            return try body()
        }
    }

    private func inImmediateTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            throw LedgerError.refused("the ledger stayed locked by another writer for 10 s", hint: "Try again.")
        }
    }
}

/// Who acts and when; every command gets one.
public struct LedgerContext: Sendable {
    public var now: Timestamp
    public var actor: String
    /// Makes generated names, uuids and default windows reproducible (tests, demos).
    public var seed: UInt64?

    public init(now: Timestamp, actor: String, seed: UInt64? = nil) {
        self.now = now
        self.actor = actor
        self.seed = seed
    }
}
