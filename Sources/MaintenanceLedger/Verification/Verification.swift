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
    ///
    /// `progress` hears (entries read, the head's seq) as the chain is read, a batch at a time.
    public func verify(sqliteChecks: Bool = false, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> VerificationReport {
        var comparedRowByRow = false
        return try verify(sqliteChecks: sqliteChecks, batchBytes: 1 << 20, comparedRowByRow: &comparedRowByRow, progress: progress)
    }

    /// `batchBytes`: how much the reading thread copies out before a batch is checked (tests
    /// make it tiny, so that batches come back out of order all the time).
    func verify(sqliteChecks: Bool, batchBytes: Int) throws -> VerificationReport {
        var comparedRowByRow = false
        return try verify(sqliteChecks: sqliteChecks, batchBytes: batchBytes, comparedRowByRow: &comparedRowByRow)
    }

    /// `comparedRowByRow`: set when the tables' fingerprints did not settle the comparison
    /// (tests hold an untouched format 2 ledger to settling it). `afterSnapshot` runs once this
    /// connection's snapshot has begun and before the second connection's does (tests commit
    /// there, as a writer might at that moment).
    func verify(sqliteChecks: Bool, batchBytes: Int, comparedRowByRow: inout Bool,
                afterSnapshot: () throws -> Void = {}, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> VerificationReport {
        try verify(sqliteChecks: sqliteChecks, batchBytes: batchBytes, comparedRowByRow: &comparedRowByRow,
                   before: { _ in try afterSnapshot() }, after: { _, head in head }, progress: progress)
    }

    /// `verify`, with reads of the very state it checks: `before` runs on the snapshot before
    /// the checks (a refusal need not wait for them), `after` once they passed, in the same read
    /// transaction. Whatever a writer commits meanwhile, what they read is the committed state
    /// whose head the report names (`audit:report`'s figures and its head hash).
    func verify<T>(before: (LedgerSQL) throws -> Void, after: (LedgerSQL, VerificationReport) throws -> T) throws -> T {
        var comparedRowByRow = false
        return try verify(sqliteChecks: false, batchBytes: 1 << 20, comparedRowByRow: &comparedRowByRow, before: before, after: after,
                          progress: { _, _ in })
    }

    private func verify<T>(sqliteChecks: Bool, batchBytes: Int, comparedRowByRow: inout Bool,
                           before: (LedgerSQL) throws -> Void, after: (LedgerSQL, VerificationReport) throws -> T,
                           progress: (_ done: Int, _ total: Int) -> Void) throws -> T {
        do {
            return try reader.readWithSecondConnection { db, second in
                try before(db)
                if sqliteChecks { try Self.checkSQLiteIntegrity(db) }
                var images = try RecordedImages(db)
                var tree = TreeCheck()
                let (head, firstCompact, tables) = try Self.checkChain(db, tablesOn: second, collecting: &images, tree: &tree,
                                                                      batchBytes: batchBytes, progress: progress)
                if tables == nil || tables != images.fingerprints() {
                    comparedRowByRow = true
                    try Self.checkTablesAgreeWithTrail(db, &images, head: head, firstCompact: firstCompact, batchBytes: batchBytes)
                }
                // Derived from the entries' hashes: a row that differs says more, so it comes first.
                try tree.check(db)
                try Checkpoint.checkRecorded(db, head: head.entryCount)
                try Self.checkTrailTriggers(db)
                if let difference = try db.schemaDifference() { throw LedgerError.verificationFailed("verification failed: \(difference)") }
                return try after(db, head)
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
    /// on bytes), and collects the row digests of its payload. This thread reads, checks the
    /// order, the formats and the links, and copies entries into batches that `SharedChecking`
    /// checks on both cores. A problem is reported at the first seq that has one, whichever
    /// thread found it. Also returns the first format 2 entry's seq (past the end if none).
    ///
    /// When the first entry is format 2 (then every entry is, or the chain fails), a third
    /// thread meanwhile reads the tables on the second connection (`TableFingerprinting`), which
    /// sees the same committed state: SQLite's reading is then done on two cores, not one. The
    /// fingerprints come back with the report, nil when the tables were not read (a format 1
    /// trail, no second connection, a commit between the two transactions' beginnings) or a
    /// read of them failed: the row by row comparison then reads them on this connection, and
    /// says what is wrong, in the order it always has.
    private static func checkChain(_ db: LedgerSQL, tablesOn second: SecondReader?, collecting images: inout RecordedImages, tree: inout TreeCheck,
                                   batchBytes: Int, progress: (_ done: Int, _ total: Int) -> Void) throws -> (VerificationReport, firstCompact: Int64, tables: TableFingerprints?) {
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
        var firstCompact: Int64?
        // The previous entry's hash: format 1 links to its hex text, format 2 to its 32 bytes.
        var previousHex = Array(TrailEntry.genesisHash.utf8)
        var previousRaw = [UInt8](repeating: 0, count: 32)
        /// Copies the entry into the batch after checking what this thread checks; false at a problem.
        func read(_ entry: RawColumns) -> Bool {
            let seq = entry.int64(0)
            guard seq == expectedSeq else {
                note(expectedSeq, "entry is missing (next is seq \(seq))")
                return false
            }
            let hash = entry.column(7)
            if hash.kind == .blob {
                // Each column read once: a call into SQLite each, for every entry of the trail.
                let (payload, stored) = (entry.column(5), hash.bytes)
                guard entry.column(6).kind == .null, payload.kind == .blob, stored.count == 32 else {
                    note(seq, "it is neither a format 1 nor a format 2 entry")
                    return false
                }
                if firstCompact == nil { firstCompact = seq }
                // The stored hash stands for the computed one: the check of its batch compares them.
                let payloadBytes = payload.bytes
                previousRaw.withUnsafeBytes { previous in
                    checking.filling.append(seq: seq, compact: true, columns: 1...7) { column in
                        switch column {
                        case 5: payloadBytes
                        case 6: previous
                        case 7: stored
                        default: entry.column(Int32(column)).bytes
                        }
                    }
                }
                previousRaw.removeAll(keepingCapacity: true)
                previousRaw.append(contentsOf: stored)
            } else {
                guard firstCompact == nil else {
                    note(seq, "a format 1 entry follows format 2 ones (from seq \(firstCompact!)), which maintledger never writes")
                    return false
                }
                guard sameBytes(entry.text(6), previousHex) else {
                    note(seq, "prev_hash does not match the hash of seq \(seq - 1)")
                    return false
                }
                checking.filling.append(seq: seq, compact: false, columns: 1...7) { entry.column(Int32($0)).bytes }
                previousHex.removeAll(keepingCapacity: true)
                previousHex.append(contentsOf: entry.text(7))
                previousRaw = Hex.decode(String(decoding: previousHex, as: UTF8.self)) ?? []
            }
            previousRaw.withUnsafeBytes { tree.add(seq: seq, hash: $0) }
            expectedSeq += 1
            return true
        }

        let trail = try db.stream("SELECT \(TrailEntry.columns.joined(separator: ", ")) FROM audit_trail ORDER BY seq")
        var compact = true // no entry: then no row may be in a table
        try trail.next { first in
            compact = first.kind(7) == .blob
            return false
        }
        let tables = compact ? second.map { TableFingerprinting(reading: $0, batchBytes: batchBytes) } : nil
        // A verification that throws leaves no thread reading behind.
        defer { tables?.stop() }
        // Reported from this thread, the one reading, once a batch: of the last entry's seq.
        let headSeq = Int(try TrailHead.read(db)?.seq ?? 0)
        while firstProblem.place == nil, !trail.ended {
            try trail.next { entry in checking.filling.bytes.count < batchBytes && read(entry) }
            checking.submit(absorb)
            progress(Int(expectedSeq - 1), headSeq)
        }
        // The entries before a problem found here still count: one of them may be the first.
        checking.finish(absorb)
        if firstProblem.place != nil { throw LedgerError.verificationFailed(firstProblem.message) }
        let head = firstCompact == nil ? String(decoding: previousHex, as: UTF8.self) : Hex.string(previousRaw)
        return (VerificationReport(entryCount: expectedSeq - 1, headHash: head), firstCompact ?? expectedSeq, tables?.fingerprints())
    }

    /// Streams every table in id order, renders each row as the entry that last recorded it did
    /// (format 1: its JSON image, `RowImage`; format 2: its plain encoding, `CompactTrail`) into
    /// batches, and has `SharedChecking` compare their digests with the recorded ones.
    private static func checkTablesAgreeWithTrail(_ db: LedgerSQL, _ images: inout RecordedImages, head: VerificationReport,
                                                  firstCompact: Int64, batchBytes: Int) throws {
        let checking = SharedChecking<RenderedRows>()
        defer { checking.waitForSecondThread() }
        var firstMismatch = FirstProblem<RowPlace>()
        func absorb(_ compared: inout RenderedRows) {
            if let place = compared.firstMismatch.place { firstMismatch.note(place, compared.firstMismatch.message) }
        }
        for (ordinal, table) in LedgerTable.allCases.enumerated() {
            var keys: RowImage.Keys = []
            try db.scan("SELECT * FROM \(table.rawValue) ORDER BY id", columns: { keys = RowImage.keys($0) }) { row in
                let width = Int32(keys.count)
                let id = row.int64(0)
                guard let recorded = images.take(ordinal, id: id) else {
                    throw LedgerError.verificationFailed("verification failed: \(table.rawValue) row \(id) appears in no trail entry, which ends at seq \(head.entryCount) (the row was added outside maintledger, or entries after it were removed)")
                }
                checking.filling.append(table: ordinal, id: id, recorded: recorded) { rendered in
                    if recorded.seq >= firstCompact {
                        CompactTrail.appendPlain(row, columns: width, to: &rendered)
                    } else {
                        row.appendImage(keys: keys, to: &rendered)
                    }
                }
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
