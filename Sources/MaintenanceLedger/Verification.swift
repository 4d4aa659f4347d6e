import GRDB

/// `audit:verify`: proves the file is what the trail says it is, or names the first place it is not.
public struct VerificationReport: Sendable, Equatable {
    public let entryCount: Int64
    public let headHash: String
}

extension Ledger {
    static let trailTriggers = ["audit_trail_append_only_update", "audit_trail_append_only_delete", "audit_trail_chained"]

    /// Checks, in order: SQLite's integrity and foreign keys, the hash chain entry by entry,
    /// that every row of every ledger table equals the image its last trail entry recorded (and
    /// that no recorded row is gone), and last the triggers that protect the trail, so that an
    /// edit made after dropping one is reported by the sequence number it contradicts.
    /// Throws `LedgerError.verificationFailed` at the first problem.
    public func verify() throws -> VerificationReport {
        try database.read { db in
            try Self.checkSQLiteIntegrity(db)
            let head = try Self.checkChain(db)
            try Self.checkTablesAgreeWithTrail(db, head: head)
            try Self.checkTrailTriggers(db)
            return head
        }
    }

    private static func checkSQLiteIntegrity(_ db: Database) throws {
        let integrity = try String.fetchAll(db.cachedStatement(sql: "PRAGMA integrity_check"))
        guard integrity == ["ok"] else {
            throw LedgerError.verificationFailed("verification failed: SQLite integrity check: \(integrity.prefix(3).joined(separator: "; "))")
        }
        if let violation = try LedgerDatabase.firstForeignKeyViolation(db) {
            throw LedgerError.verificationFailed("verification failed: foreign key check: \(violation)")
        }
    }

    private static func checkTrailTriggers(_ db: Database) throws {
        let triggers = Set(try String.fetchAll(db.cachedStatement(sql: "SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        if let missing = trailTriggers.first(where: { !triggers.contains($0) }) {
            throw LedgerError.verificationFailed("verification failed: the trigger \(missing) that protects the trail is missing")
        }
    }

    private static func checkChain(_ db: Database) throws -> VerificationReport {
        var expectedSeq: Int64 = 1
        var previousHash = TrailEntry.genesisHash
        let cursor = try TrailEntry.fetchCursor(db.cachedStatement(sql: "SELECT * FROM audit_trail ORDER BY seq"))
        while let entry = try cursor.next() {
            guard entry.seq == expectedSeq else {
                throw LedgerError.verificationFailed("verification failed at seq \(expectedSeq): entry is missing (next is seq \(entry.seq))")
            }
            guard entry.prevHash == previousHash else {
                throw LedgerError.verificationFailed("verification failed at seq \(entry.seq): prev_hash does not match the hash of seq \(entry.seq - 1)")
            }
            guard entry.computedHash == entry.hash else {
                throw LedgerError.verificationFailed("verification failed at seq \(entry.seq): hash does not match the entry's content (the entry was altered)")
            }
            previousHash = entry.hash
            expectedSeq += 1
        }
        return VerificationReport(entryCount: expectedSeq - 1, headHash: previousHash)
    }

    private static func checkTablesAgreeWithTrail(_ db: Database, head: VerificationReport) throws {
        // The last image the trail holds of every row, keyed "table:id".
        var images: [String: (seq: Int64, image: String)] = [:]
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT audit_trail.seq, change.value ->> '$.table' AS tbl, change.value -> '$.row' ->> '$.id' AS id,
                   change.value -> '$.row' AS image
            FROM audit_trail, json_each(audit_trail.payload, '$.changes') AS change
            ORDER BY audit_trail.seq
            """))
        while let row = try cursor.next() {
            let key = "\(row["tbl"] as String? ?? "?"):\(row["id"] as Int64? ?? 0)"
            images[key] = (row["seq"], row["image"])
        }
        var firstMismatch: (seq: Int64, message: String)?
        func note(_ seq: Int64, _ message: String) {
            if firstMismatch == nil || seq < firstMismatch!.seq { firstMismatch = (seq, message) }
        }
        for table in LedgerTable.allCases {
            let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT * FROM \(table.rawValue) ORDER BY id"))
            while let row = try rows.next() {
                let id: Int64 = row["id"]
                let key = "\(table.rawValue):\(id)"
                guard let recorded = images.removeValue(forKey: key) else {
                    throw LedgerError.verificationFailed("verification failed: \(table.rawValue) row \(id) appears in no trail entry, which ends at seq \(head.entryCount) (the row was added outside maintledger, or entries after it were removed)")
                }
                if RowImage.json(row).compactText != recorded.image {
                    note(recorded.seq, "verification failed at seq \(recorded.seq): \(table.rawValue) row \(id) differs from what the trail recorded")
                }
            }
        }
        for (key, recorded) in images {
            note(recorded.seq, "verification failed at seq \(recorded.seq): \(key.replacingOccurrences(of: ":", with: " row ")) recorded by the trail is gone")
        }
        if let firstMismatch { throw LedgerError.verificationFailed(firstMismatch.message) }
    }
}
