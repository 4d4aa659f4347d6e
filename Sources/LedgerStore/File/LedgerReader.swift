import Foundation
internal import GRDB
import LedgerCore

/// A ledger file opened by a command that only reads: it answers questions, each in one
/// consistent snapshot, and cannot record (`LedgerDatabase`, opened to record, is one too).
///
/// A reader never waits for a writer and never changes the file: it takes no write lock, its
/// connection is `query_only`, and it does not migrate (a ledger that needs an upgrade is
/// refused with the command that upgrades it). In WAL mode it reads the last committed
/// snapshot while a writer holds the lock, for a moment or for a whole import. A missing file
/// is refused and nothing is created.
public class LedgerReader {
    /// `PRAGMA application_id` of every ledger ('MLDG'); set by the first migration.
    package static let applicationID: Int32 = 1_296_387_143

    public let path: String
    let queue: DatabaseQueue

    init(path: String, queue: DatabaseQueue) {
        self.path = path
        self.queue = queue
    }

    /// For commands that only read.
    public static func open(at path: String) throws -> LedgerReader {
        guard FileManager.default.fileExists(atPath: path) else { throw LedgerDatabase.missing(path) }
        try LedgerDatabase.refuseIrregularFile(path)
        return try LedgerDatabase.opening(path, reading: true) {
            let (queue, isCopy) = try connection(path)
            try queue.read { db in try LedgerDatabase.checkReadable(db, path: path, canUpgrade: !isCopy) }
            return LedgerReader(path: path, queue: queue)
        }
    }

    /// A connection for reading the file at `path`, and whether it is a copy this process may
    /// not write (which is opened read-only, see `ReadOnlyCopy`).
    static func connection(_ path: String) throws -> (queue: DatabaseQueue, isCopy: Bool) {
        guard ReadOnlyCopy.isReadOnly(path) else { return (try DatabaseQueue(path: path, configuration: readerConfiguration), false) }
        return (try ReadOnlyCopy.queue(path), true)
    }

    /// A connection that reads: `query_only`, with no transaction but deferred ones, so it
    /// never asks for the write lock. It is opened read-write all the same (SQLite's
    /// SQLITE_OPEN_READONLY would leave the `-wal` and `-shm` files behind): the last
    /// connection to close a WAL ledger folds the WAL back and removes both, which changes no
    /// content. The busy timeout covers only the moment SQLite rebuilds the WAL index after a
    /// crash; a reader is not otherwise kept waiting.
    private static var readerConfiguration: Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA query_only = 1") }
        return configuration
    }

    /// Runs a query in a read transaction: one consistent snapshot. (A thin shell around the
    /// non-generic `readSnapshot`: see `LedgerSQL`.)
    package final func read<T>(_ body: (LedgerSQL) throws -> T) throws -> T {
        var result: T?
        try readSnapshot { result = try body($0) }
        return result!
    }

    /// `read`, with a second connection to the file for `body` to hand to another thread:
    /// `SecondReader.read` reads there in the same committed state as `body` here, or not at
    /// all (nil: the file could not be opened again).
    package final func readWithSecondConnection<T>(_ body: (LedgerSQL, SecondReader?) throws -> T) throws -> T {
        // Asks for the state's version before this connection's snapshot begins.
        let second = SecondReader(path: path)
        defer { second?.close() }
        return try read { db in
            // This connection's snapshot begins here, at its first read, before the second's.
            _ = try db.value(Int64.self, "SELECT count(*) FROM sqlite_master")
            return try body(db, second)
        }
    }

    func readSnapshot(_ body: (LedgerSQL) throws -> Void) throws {
        try queue.read { db in try body(LedgerSQL(db)) }
    }
}
