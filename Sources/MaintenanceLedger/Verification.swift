import Crypto
import Foundation
import GRDB
import GRDBSQLite

/// `audit:verify`: proves the file is what the trail says it is, or names the first place it is not.
public struct VerificationReport: Sendable, Equatable {
    public let entryCount: Int64
    public let headHash: String
}

extension Ledger {
    static let trailTriggers = ["audit_trail_append_only_update", "audit_trail_append_only_delete", "audit_trail_chained"]

    /// Checks, in order: with `sqliteChecks`, SQLite's integrity and foreign keys; the hash chain
    /// entry by entry; that every row of every ledger table equals the image its last trail entry
    /// recorded (and that no recorded row is gone); last the triggers that protect the trail, so
    /// that an edit made after dropping one is reported by the sequence number it contradicts.
    /// Throws `LedgerError.verificationFailed` at the first problem.
    ///
    /// The table comparison already implies the foreign keys (every row is one maintledger wrote
    /// under them), so they and SQLite's integrity check (of indexes and pages, minutes on a
    /// ledger of gigabytes) run only on request.
    public func verify(sqliteChecks: Bool = false) throws -> VerificationReport {
        try database.read { db in
            if sqliteChecks { try Self.checkSQLiteIntegrity(db) }
            var images = try RecordedImages(db)
            let head = try Self.checkChain(db, collecting: &images)
            try Self.checkTablesAgreeWithTrail(db, &images, head: head)
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

    /// Recomputes every entry's hash from its stored columns (as `TrailEntry.computedHash` does,
    /// on bytes), and collects the row images of its payload.
    private static func checkChain(_ db: Database, collecting images: inout RecordedImages) throws -> VerificationReport {
        var expectedSeq: Int64 = 1
        var previousHash = Array(TrailEntry.genesisHash.utf8)
        var scratch: [UInt8] = []
        let statement = try db.makeStatement(sql: "SELECT seq, recorded_at, actor, action, subject, payload, prev_hash, hash FROM audit_trail ORDER BY seq")
        let rows = try Row.fetchCursor(statement)
        let sqlite = statement.sqliteStatement
        while try rows.next() != nil {
            let seq = sqlite3_column_int64(sqlite, 0)
            guard seq == expectedSeq else {
                throw LedgerError.verificationFailed("verification failed at seq \(expectedSeq): entry is missing (next is seq \(seq))")
            }
            guard columnBytes(sqlite, 6).elementsEqual(previousHash) else {
                throw LedgerError.verificationFailed("verification failed at seq \(seq): prev_hash does not match the hash of seq \(seq - 1)")
            }
            let payload = columnBytes(sqlite, 5)
            let hash = TrailEntry.hash(prevHash: columnBytes(sqlite, 6), seq: seq, texts: (Int32(1)...4).map { columnBytes(sqlite, $0) },
                                       payload: payload, scratch: &scratch)
            guard columnBytes(sqlite, 7).elementsEqual(hash) else {
                throw LedgerError.verificationFailed("verification failed at seq \(seq): hash does not match the entry's content (the entry was altered)")
            }
            guard images.collect(payload, seq: seq) else {
                throw LedgerError.verificationFailed("verification failed at seq \(seq): its payload is not a list of row changes")
            }
            previousHash = hash
            expectedSeq += 1
        }
        return VerificationReport(entryCount: expectedSeq - 1, headHash: String(decoding: previousHash, as: UTF8.self))
    }

    /// Streams every table in id order, renders each row as `Mutation` renders a trail image
    /// (`RowImage`) and compares digests.
    private static func checkTablesAgreeWithTrail(_ db: Database, _ images: inout RecordedImages, head: VerificationReport) throws {
        var firstMismatch: (seq: Int64, message: String)?
        func note(_ seq: Int64, _ message: String) {
            if firstMismatch == nil || seq < firstMismatch!.seq { firstMismatch = (seq, message) }
        }
        var image: [UInt8] = []
        for table in LedgerTable.allCases {
            let statement = try db.makeStatement(sql: "SELECT * FROM \(table.rawValue) ORDER BY id")
            let keys = RowImage.keys(statement.columnNames)
            let rows = try Row.fetchCursor(statement)
            let sqlite = statement.sqliteStatement
            while try rows.next() != nil {
                let id = sqlite3_column_int64(sqlite, 0)
                guard let recorded = images.take(table, id: id) else {
                    throw LedgerError.verificationFailed("verification failed: \(table.rawValue) row \(id) appears in no trail entry, which ends at seq \(head.entryCount) (the row was added outside maintledger, or entries after it were removed)")
                }
                image.removeAll(keepingCapacity: true)
                RowImage.append(sqlite, keys: keys, to: &image)
                if image.withUnsafeBytes(RecordedImages.digest) != recorded.digest {
                    note(recorded.seq, "verification failed at seq \(recorded.seq): \(table.rawValue) row \(id) differs from what the trail recorded")
                }
            }
        }
        for (table, id, seq) in images.remaining() {
            note(seq, "verification failed at seq \(seq): \(table.rawValue) row \(id) recorded by the trail is gone")
        }
        if let firstMismatch { throw LedgerError.verificationFailed(firstMismatch.message) }
    }

    /// A text column's bytes, valid until the statement steps again.
    private static func columnBytes(_ sqlite: SQLiteStatement, _ column: Int32) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: sqlite3_column_text(sqlite, column), count: Int(sqlite3_column_bytes(sqlite, column)))
    }
}

/// The last image the trail recorded of every row, as a SHA-256 digest (128 bits kept) with the
/// seq that recorded it: 24 bytes a row instead of the image's text.
struct RecordedImages {
    struct Recorded {
        var seq: Int64
        var digest: Digest
    }
    struct Digest: Equatable {
        var high: UInt64
        var low: UInt64
    }

    /// Per table; row ids are dense from 1, so an array indexed by id (seq 0: none recorded).
    private var tables = [[Recorded]](repeating: [], count: LedgerTable.allCases.count)
    /// Per table, the largest id kept in `tables`: twice the table's largest id. A trail
    /// recording ids beyond (only a tampered one does) costs memory by its rows, not its ids.
    private let denseLimits: [Int64]
    private var sparse: [LedgerTable: [Int64: Recorded]] = [:]
    private static let ordinals = Dictionary(uniqueKeysWithValues: LedgerTable.allCases.enumerated().map { ($1, $0) })

    init(_ db: Database) throws {
        denseLimits = try LedgerTable.allCases.map { table in
            max(1024, 2 * (try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM \(table.rawValue)")) ?? 0))
        }
    }
    private static let tableNames = LedgerTable.allCases.map { (name: Array($0.rawValue.utf8), table: $0) }

    static func digest(_ bytes: UnsafeRawBufferPointer) -> Digest {
        SHA256.hash(data: bytes).withUnsafeBytes { digest in
            Digest(high: digest.loadUnaligned(fromByteOffset: 0, as: UInt64.self), low: digest.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
    }

    /// Reads a payload as maintledger writes it, `{"changes":[{"op":"…","table":"…","row":{"id":N,…}},…]}`,
    /// and records each row's image; false when the payload has another shape.
    mutating func collect(_ payload: UnsafeRawBufferPointer, seq: Int64) -> Bool {
        var scanner = PayloadScanner(payload)
        guard scanner.expect("{\"changes\":[") else { return false }
        repeat {
            guard scanner.expect("{\"op\":"), scanner.skipString(), scanner.expect(",\"table\":"),
                  let name = scanner.string(), let table = Self.tableNames.first(where: { $0.name.elementsEqual(name) })?.table,
                  scanner.expect(",\"row\":") else { return false }
            let start = scanner.position
            guard scanner.expect("{\"id\":"), let id = scanner.integer(), scanner.skipObjectRest() else { return false }
            record(table, id: id, Recorded(seq: seq, digest: Self.digest(UnsafeRawBufferPointer(rebasing: payload[start..<scanner.position]))))
            guard scanner.expect("}") else { return false }
        } while scanner.expect(",")
        return scanner.expect("]}") && scanner.atEnd
    }

    private mutating func record(_ table: LedgerTable, id: Int64, _ recorded: Recorded) {
        let index = Self.ordinals[table]!
        guard id >= 1, id <= denseLimits[index] else { sparse[table, default: [:]][id] = recorded; return }
        if tables[index].count < id {
            tables[index].append(contentsOf: repeatElement(Recorded(seq: 0, digest: Digest(high: 0, low: 0)), count: max(Int(id) - tables[index].count, tables[index].count)))
        }
        tables[index][Int(id) - 1] = recorded
    }

    /// The recorded image of a row, removed so that what remains at the end is gone from the tables.
    mutating func take(_ table: LedgerTable, id: Int64) -> Recorded? {
        let index = Self.ordinals[table]!
        guard id >= 1, id <= denseLimits[index] else { return sparse[table]?.removeValue(forKey: id) }
        guard id <= tables[index].count, tables[index][Int(id) - 1].seq != 0 else { return nil }
        defer { tables[index][Int(id) - 1].seq = 0 }
        return tables[index][Int(id) - 1]
    }

    /// Every recorded row not taken: (table, id, seq).
    func remaining() -> [(LedgerTable, Int64, Int64)] {
        LedgerTable.allCases.flatMap { table in
            let dense = tables[Self.ordinals[table]!].enumerated().filter { $0.element.seq != 0 }.map { (table, Int64($0.offset + 1), $0.element.seq) }
            let far = (sparse[table] ?? [:]).map { (table, $0.key, $0.value.seq) }
            return dense + far
        }
    }
}

/// Walks a payload's bytes. It only has to accept what `Mutation` writes (compact JSON) and
/// say no to anything else, never crash on it.
private struct PayloadScanner {
    private let bytes: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { position == bytes.count }

    mutating func expect(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count,
              memcmp(bytes.baseAddress! + position, literal.utf8Start, count) == 0 else { return false }
        position += count
        return true
    }

    /// A string without escapes (table names), returned without its quotes.
    mutating func string() -> UnsafeRawBufferPointer.SubSequence? {
        let start = position
        guard skipString() else { return nil }
        let text = bytes[(start + 1)..<(position - 1)]
        return text.contains(UInt8(ascii: "\\")) ? nil : text
    }

    mutating func skipString() -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return false }
        position += 1
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\\"): position += 2
            case UInt8(ascii: "\""): position += 1; return true
            default: position += 1
            }
        }
        return false
    }

    /// A non-negative integer (row ids).
    mutating func integer() -> Int64? {
        var value: Int64 = 0
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (next, carry) = times10.addingReportingOverflow(Int64(bytes[position] - UInt8(ascii: "0")))
            guard !overflow, !carry else { return nil }
            value = next
            position += 1
        }
        return position > start && value >= 0 ? value : nil
    }

    /// Past the `}` that closes the object this position is inside of, strings and nesting included.
    mutating func skipObjectRest() -> Bool {
        var depth = 1
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""): guard skipString() else { return false }; continue
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { position += 1; return true }
            default: break
            }
            position += 1
        }
        return false
    }
}
