import LedgerCore
import LedgerStore
import Crypto
import Foundation

/// The triggers that keep the trail, its tree and the checkpoints append-only, and the trail chained.
private let trailTriggers = ["audit_trail_append_only_update", "audit_trail_append_only_delete", "audit_trail_chained",
                             "trail_tree_append_only_update", "trail_tree_append_only_delete",
                             "checkpoints_append_only_update", "checkpoints_append_only_delete"]

/// `audit:verify`: proves the file is what the trail says it is, or names the first place it is not.
public struct VerificationReport: Sendable, Equatable {
    public let entryCount: Int64
    public let headHash: String
}

extension LedgerQuerying {
    /// Checks, in order: with `sqliteChecks`, SQLite's integrity and foreign keys; the hash chain
    /// entry by entry; that every row of every ledger table equals the image its last trail entry
    /// recorded (and that no recorded row is gone); that every node of the Merkle tree is the one
    /// the entries' hashes call for; last the triggers that protect the trail, so
    /// that an edit made after dropping one is reported by the sequence number it contradicts.
    /// Throws `LedgerError.verificationFailed` at the first problem.
    ///
    /// The table comparison already implies the foreign keys (every row is one maintledger wrote
    /// under them), so they and SQLite's integrity check (of indexes and pages, minutes on a
    /// ledger of gigabytes) run only on request.
    public func verify(sqliteChecks: Bool = false) throws -> VerificationReport {
        try verify(sqliteChecks: sqliteChecks, batchBytes: 1 << 20)
    }

    /// `batchBytes`: how much the reading thread copies out before a batch is checked (tests
    /// make it tiny, so that batches come back out of order all the time).
    func verify(sqliteChecks: Bool, batchBytes: Int) throws -> VerificationReport {
        do {
            return try reader.read { db in
                if sqliteChecks { try Self.checkSQLiteIntegrity(db) }
                var images = try RecordedImages(db)
                var tree = TreeCheck()
                let head = try Self.checkChain(db, collecting: &images, tree: &tree, batchBytes: batchBytes)
                try Self.checkTablesAgreeWithTrail(db, &images, head: head, batchBytes: batchBytes)
                // Derived from the entries' hashes: a row that differs says more, so it comes first.
                try tree.check(db)
                try Checkpoint.checkRecorded(db, head: head.entryCount)
                try Self.checkTrailTriggers(db)
                if let difference = try db.schemaDifference() { throw LedgerError.verificationFailed("verification failed: \(difference)") }
                return head
            }
        } catch where SQLiteFailure.isDamage(error) {
            // A page SQLite cannot read is a failed verification too, not an error of the tool.
            throw LedgerError.verificationFailed("verification failed: SQLite cannot read the file: \(SQLiteFailure.reason(error)!)")
        }
    }

    private static func checkSQLiteIntegrity(_ db: LedgerSQL) throws {
        let integrity = try db.values(String.self, "PRAGMA integrity_check")
        guard integrity == ["ok"] else {
            throw LedgerError.verificationFailed("verification failed: SQLite integrity check: \(integrity.prefix(3).joined(separator: "; "))")
        }
        if let violation = try db.firstForeignKeyViolation() {
            throw LedgerError.verificationFailed("verification failed: foreign key check: \(violation)")
        }
    }

    private static func checkTrailTriggers(_ db: LedgerSQL) throws {
        let triggers = Set(try db.values(String.self, "SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        if let missing = trailTriggers.first(where: { !triggers.contains($0) }) {
            throw LedgerError.verificationFailed("verification failed: the trigger \(missing) that protects the trail is missing")
        }
    }

    /// Recomputes every entry's hash from its stored columns (as `TrailEntry.computedHash` does,
    /// on bytes), and collects the row images of its payload. This thread reads, checks the
    /// order and the links, and copies entries into batches that `SharedChecking` checks on both
    /// cores. A problem is reported at the first seq that has one, whichever thread found it.
    private static func checkChain(_ db: LedgerSQL, collecting images: inout RecordedImages, tree: inout TreeCheck,
                                   batchBytes: Int) throws -> VerificationReport {
        let checking = SharedChecking<TrailBatch>()
        defer { checking.waitForSecondThread() }
        var firstProblem = FirstProblem<Int64>()
        func note(_ seq: Int64, _ problem: String) {
            firstProblem.note(seq, "verification failed at seq \(seq): \(problem)")
        }
        func absorb(_ checked: inout TrailBatch) {
            if let (seq, problem) = checked.firstProblem { note(seq, problem) } else { checked.record(into: &images) }
        }

        var expectedSeq: Int64 = 1
        var previousHash = Array(TrailEntry.genesisHash.utf8)
        try db.scan("SELECT \(TrailEntry.columns.joined(separator: ", ")) FROM audit_trail ORDER BY seq") { entry in
            let seq = entry.int64(0)
            guard seq == expectedSeq else {
                note(expectedSeq, "entry is missing (next is seq \(seq))")
                return false
            }
            guard sameBytes(entry.text(6), previousHash) else {
                note(seq, "prev_hash does not match the hash of seq \(seq - 1)")
                return false
            }
            // The stored hash stands for the computed one: the check of its batch compares them.
            previousHash.removeAll(keepingCapacity: true)
            previousHash.append(contentsOf: entry.text(7))
            tree.add(seq: seq, hash: entry.text(7))
            checking.filling.append(seq: seq, columns: 1...7) { entry.text(Int32($0)) }
            expectedSeq += 1
            if checking.filling.bytes.count >= batchBytes { checking.submit(absorb) }
            return firstProblem.place == nil
        }
        // The entries before a problem found here still count: one of them may be the first.
        checking.finish(absorb)
        if firstProblem.place != nil { throw LedgerError.verificationFailed(firstProblem.message) }
        return VerificationReport(entryCount: expectedSeq - 1, headHash: String(decoding: previousHash, as: UTF8.self))
    }

    /// Streams every table in id order, renders each row as `Mutation` renders a trail image
    /// (`RowImage`) into batches, and has `SharedChecking` compare their digests with the recorded ones.
    private static func checkTablesAgreeWithTrail(_ db: LedgerSQL, _ images: inout RecordedImages, head: VerificationReport, batchBytes: Int) throws {
        let checking = SharedChecking<RenderedRows>()
        defer { checking.waitForSecondThread() }
        var firstMismatch = FirstProblem<RowPlace>()
        func absorb(_ compared: inout RenderedRows) {
            if let place = compared.firstMismatch.place { firstMismatch.note(place, compared.firstMismatch.message) }
        }
        for (ordinal, table) in LedgerTable.allCases.enumerated() {
            var keys: RowImage.Keys = []
            try db.scan("SELECT * FROM \(table.rawValue) ORDER BY id", columns: { keys = RowImage.keys($0) }) { row in
                let id = row.int64(0)
                guard let recorded = images.take(ordinal, id: id) else {
                    throw LedgerError.verificationFailed("verification failed: \(table.rawValue) row \(id) appears in no trail entry, which ends at seq \(head.entryCount) (the row was added outside maintledger, or entries after it were removed)")
                }
                checking.filling.append(table: ordinal, id: id, recorded: recorded) { row.appendImage(keys: keys, to: &$0) }
                if checking.filling.bytes.count >= batchBytes { checking.submit(absorb) }
                return true
            }
        }
        checking.finish(absorb)
        for (table, id, seq) in images.remaining() {
            firstMismatch.note(RowPlace(seq: seq, gone: true, table: table, id: id),
                               "verification failed at seq \(seq): \(LedgerTable.allCases[table].rawValue) row \(id) recorded by the trail is gone")
        }
        if firstMismatch.place != nil { throw LedgerError.verificationFailed(firstMismatch.message) }
    }
}

func sameBytes(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
    b.withUnsafeBytes { b in a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0) }
}
