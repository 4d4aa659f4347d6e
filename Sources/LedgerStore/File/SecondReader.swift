internal import GRDB
import LedgerCore

/// A second connection to a ledger, for reading part of one committed state on another thread
/// while `LedgerReader.readWithSecondConnection` reads the rest on the first.
///
/// The system's SQLite has no `sqlite3_snapshot_open`, so two read transactions cannot be told
/// to share a snapshot; this one proves that it sees the same state instead. It asks SQLite's
/// `PRAGMA data_version` twice: once before the first connection's read transaction begins,
/// and again as its own begins, after it. The value changes whenever any other connection has
/// committed since this one last read (maintledger, or anyone with sqlite3: a tamperer's edit
/// that adds no trail entry, and leaves the trail's length and head as they were, changes it
/// too). Equal, nothing was committed between the two, so both transactions see the state
/// committed last before the first ask. Not equal, `read` gives up, and the caller reads on the
/// first connection alone; a checkpoint in between may cause that too, which costs only time.
/// Neither connection takes or waits for a lock a writer holds.
package final class SecondReader: Sendable {
    private let queue: DatabaseQueue
    private let version: Int64

    /// nil when the file cannot be opened a second time (the caller reads on the first connection).
    init?(path: String) {
        guard let queue = try? LedgerReader.connection(path).queue,
              let version = try? queue.read({ db in try Int64.fetchOne(db, sql: "PRAGMA data_version") }) else { return nil }
        self.queue = queue
        self.version = version
    }

    /// Closes the connection; the caller does once the thread reading on it is done. (That
    /// thread's closure may hold this reader a moment longer: a connection still open when the
    /// process exits keeps the first one from being the last to close, which is the one that
    /// folds the WAL back and removes the `-wal` and `-shm` files.)
    package func close() {
        try? queue.close()
    }

    /// Runs `body` on this thread, in a read transaction of the second connection, when that
    /// transaction sees the state the first one does; nil, without running it, when it may not.
    package func read<T>(_ body: (LedgerSQL) throws -> T) throws -> T? {
        try queue.read { db in
            // The first statement of the transaction: it fixes the snapshot the rest reads.
            guard try Int64.fetchOne(db, sql: "PRAGMA data_version") == version else { return nil }
            return try body(LedgerSQL(db))
        }
    }
}
