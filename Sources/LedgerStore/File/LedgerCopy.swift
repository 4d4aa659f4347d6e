import Foundation
internal import GRDB
import LedgerCore

/// What `backup` asks of the file: a consistent copy of the ledger, and a way to read that copy.
extension LedgerReader {
    /// Copies the ledger into the empty file at `path` with SQLite's online backup API,
    /// `pagesPerStep` pages a step, every step under the one read transaction that this
    /// connection opens before the first: the copy is the ledger as one commit left it, whatever
    /// other processes record meanwhile (in WAL mode they go on recording while it runs).
    /// (A step opens a read transaction of its own only when the source has none open; then a
    /// commit between two steps would have SQLite start the copy again, and under a steady
    /// writer it might never end.) `progress` hears (pages copied, pages in all) after each step.
    ///
    /// The copy is written without a journal and without SQLite's syncs: it is a new file that
    /// the caller syncs once when it is whole, and removes on any failure.
    package func copyWhole(into path: String, pagesPerStep: Int32 = 4096, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF")
            try db.execute(sql: "PRAGMA synchronous = OFF")
        }
        let copy = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? copy.close() }
        try copy.writeWithoutTransaction { destination in
            try queue.read { ledger in
                // The transaction `read` began is deferred: this read opens it.
                _ = try Int.fetchOne(ledger, sql: "SELECT count(*) FROM sqlite_master")
                try withoutActuallyEscaping(progress) { progress in
                    try ledger.backup(to: destination, pagesPerStep: pagesPerStep) { step in progress(step.completedPageCount, step.totalPageCount) }
                }
            }
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
