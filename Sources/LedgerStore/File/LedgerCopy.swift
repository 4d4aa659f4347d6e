import Foundation
internal import GRDB
import LedgerCore

/// What `backup` asks of the file: a consistent copy of the ledger, and a way to read that copy.
extension LedgerReader {
    /// Copies the ledger into the empty file at `path` with SQLite's online backup API, every
    /// page in one step, so under one read transaction: the copy is the ledger as one commit left
    /// it, whatever other processes record meanwhile. (In WAL mode they go on recording while it
    /// runs. A copy in several steps would let them in between steps, and SQLite would start it
    /// again after each of their commits: under a steady writer it might never end.)
    ///
    /// The copy is written without a journal and without SQLite's syncs: it is a new file that
    /// the caller syncs once when it is whole, and removes on any failure.
    package func copyWhole(into path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF")
            try db.execute(sql: "PRAGMA synchronous = OFF")
        }
        let copy = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? copy.close() }
        try copy.writeWithoutTransaction { destination in
            try queue.read { ledger in try ledger.backup(to: destination) }
        }
    }

    /// Opens a copy that this process has just written and that no other process writes (a
    /// backup before it is put in place), `immutable`: reading it makes no `-wal` or `-shm`
    /// beside it, for which the disk the copy has just filled may have no room.
    package static func openPrivateCopy(at path: String) throws -> LedgerReader {
        try LedgerDatabase.opening(path, reading: true) {
            let queue = try ReadOnlyCopy.immutableQueue(path)
            try queue.read { db in try LedgerDatabase.checkReadable(db, path: path, canUpgrade: false) }
            return LedgerReader(path: path, queue: queue)
        }
    }
}
