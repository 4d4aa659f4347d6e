import Foundation
internal import GRDB
import LedgerCore

/// A ledger file opened by a command that only reads: it answers questions, each in one
/// consistent snapshot, and cannot record (`LedgerDatabase`, opened to record, is one too).
///
/// Opening one today still goes through the writer's path (the schema is checked, and upgraded
/// when needed, under the write lock), except on a ledger this process may not write (an
/// auditor's read-only copy), which is opened read-only. A missing file is refused and nothing
/// is created.
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
        guard FileManager.default.fileExists(atPath: path), ReadOnlyCopy.isReadOnly(path) else {
            return try LedgerDatabase.open(at: path, mode: .mustExist)
        }
        return try LedgerDatabase.opening(path) {
            let queue = try ReadOnlyCopy.queue(path)
            try queue.read { db in try LedgerDatabase.checkReadable(db, path: path) }
            return LedgerReader(path: path, queue: queue)
        }
    }

    /// Runs a query in a read transaction: one consistent snapshot. (A thin shell around the
    /// non-generic `readSnapshot`: see `LedgerSQL`.)
    package final func read<T>(_ body: (LedgerSQL) throws -> T) throws -> T {
        var result: T?
        try readSnapshot { result = try body($0) }
        return result!
    }

    func readSnapshot(_ body: (LedgerSQL) throws -> Void) throws {
        try queue.read { db in try body(LedgerSQL(db)) }
    }
}
