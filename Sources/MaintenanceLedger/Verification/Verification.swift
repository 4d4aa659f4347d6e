import LedgerCore
import LedgerStore
import Crypto
import Foundation

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
        try verify(sqliteChecks: sqliteChecks, batchBytes: 1 << 20)
    }

    /// `batchBytes`: how much the reading thread copies out before a batch is checked (tests
    /// make it tiny, so that batches come back out of order all the time).
    func verify(sqliteChecks: Bool, batchBytes: Int) throws -> VerificationReport {
        try database.read { db in
            if sqliteChecks { try Self.checkSQLiteIntegrity(db) }
            var images = try RecordedImages(db)
            let head = try Self.checkChain(db, collecting: &images, batchBytes: batchBytes)
            try Self.checkTablesAgreeWithTrail(db, &images, head: head, batchBytes: batchBytes)
            try Self.checkTrailTriggers(db)
            return head
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
    private static func checkChain(_ db: LedgerSQL, collecting images: inout RecordedImages, batchBytes: Int) throws -> VerificationReport {
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
        try db.scan("SELECT seq, recorded_at, actor, action, subject, payload, prev_hash, hash FROM audit_trail ORDER BY seq") { entry in
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

private func sameBytes(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
    b.withUnsafeBytes { b in a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0) }
}

/// A batch of work `audit:verify` copies out of SQLite, to be checked on either core.
protocol CheckedBatch: SendableMetatype {
    init()
    mutating func check()
    mutating func reset()
}

/// Checks batches on two cores: the reading thread fills `filling` and submits it; a second
/// thread checks it if free, else the reading thread does. Checked batches come back to
/// `absorb` on the reading thread, not necessarily in order.
final class SharedChecking<Batch: CheckedBatch>: @unchecked Sendable {
    // Unchecked: `inFlight` belongs to the second thread from `submit` handing it over until the
    // reading thread's wait on `finished` succeeds; everything else is only the reading thread's.
    var filling = Batch()
    private var inFlight = Batch()
    private var busy = false
    private let queue = DispatchQueue(label: "maintledger.verify")
    private let finished = DispatchSemaphore(value: 0)

    func submit(_ absorb: (inout Batch) -> Void) {
        collect(waiting: false, absorb)
        if busy {
            checkHere(absorb)
        } else {
            swap(&filling, &inFlight)
            busy = true
            queue.async {
                self.inFlight.check()
                self.finished.signal()
            }
        }
    }

    /// Checks the last batch and waits for the second thread.
    func finish(_ absorb: (inout Batch) -> Void) {
        checkHere(absorb)
        collect(waiting: true, absorb)
    }

    /// Lets a batch still in flight finish, unread: a verify that throws leaves no work behind.
    func waitForSecondThread() {
        collect(waiting: true) { _ in }
    }

    private func checkHere(_ absorb: (inout Batch) -> Void) {
        filling.check()
        absorb(&filling)
        filling.reset()
    }

    private func collect(waiting: Bool, _ absorb: (inout Batch) -> Void) {
        guard busy, finished.wait(timeout: waiting ? .distantFuture : .now()) == .success else { return }
        busy = false
        absorb(&inFlight)
        inFlight.reset()
    }
}

/// The first of the problems noted, by `Place`: batches report theirs in any order, and the
/// verdict is the problem a single pass in seq order would meet first.
struct FirstProblem<Place: Comparable> {
    private(set) var place: Place?
    private(set) var message = ""

    mutating func note(_ place: Place, _ message: @autoclosure () -> String) {
        guard self.place.map({ place < $0 }) ?? true else { return }
        self.place = place
        self.message = message()
    }
}

/// Where the table comparison found a row wrong, in the order a single pass meets them: by the
/// seq that recorded the row, a differing row before a gone one, then by table and id.
struct RowPlace: Comparable {
    let seq: Int64
    let gone: Bool
    let table: Int
    let id: Int64

    static func < (a: RowPlace, b: RowPlace) -> Bool {
        (a.seq, a.gone ? 1 : 0, a.table, a.id) < (b.seq, b.gone ? 1 : 0, b.table, b.id)
    }
}

/// Trail entries copied out of SQLite; `check()` checks each entry's hash and payload and
/// digests the row images in it.
struct TrailBatch: CheckedBatch {
    /// The columns recorded_at … hash of each entry, back to back.
    private(set) var bytes: [UInt8] = []
    /// Entry i's seven columns start at `starts[8i] …` and end at `starts[8i + 7]`.
    private var starts: [Int] = []
    private var seqs: [Int64] = []
    private var images: [(table: Int, id: Int64, seq: Int64, digest: RecordedImages.Digest)] = []
    private var scratch: [UInt8] = []
    /// Set by `check()`: the first entry whose hash is not the hash of its content, or whose
    /// payload is not one maintledger writes, and what is wrong with it.
    private(set) var firstProblem: (seq: Int64, problem: String)?

    mutating func append(seq: Int64, columns: ClosedRange<Int>, _ column: (Int) -> UnsafeRawBufferPointer) {
        seqs.append(seq)
        for index in columns {
            starts.append(bytes.count)
            bytes.append(contentsOf: column(index))
        }
        starts.append(bytes.count)
    }

    mutating func check() {
        bytes.withUnsafeBytes { bytes in
            func column(_ entry: Int, _ index: Int) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: bytes[starts[8 * entry + index]..<starts[8 * entry + index + 1]])
            }
            for (entry, seq) in seqs.enumerated() {
                let payload = column(entry, 4)
                let hash = TrailEntry.hash(prevHash: column(entry, 5), seq: seq, texts: (0...3).map { column(entry, $0) },
                                           payload: payload, scratch: &scratch)
                guard sameBytes(column(entry, 6), hash) else {
                    firstProblem = (seq, "hash does not match the entry's content (the entry was altered)")
                    return
                }
                let wellFormed = PayloadScanner.rowImages(payload) { table, id, image in
                    images.append((table, id, seq, RecordedImages.digest(UnsafeRawBufferPointer(rebasing: payload[image]))))
                }
                guard wellFormed else {
                    firstProblem = (seq, "its payload is not a list of row changes")
                    return
                }
            }
        }
    }

    func record(into recorded: inout RecordedImages) {
        for image in images {
            recorded.record(image.table, id: image.id, RecordedImages.Recorded(seq: image.seq, digest: image.digest))
        }
    }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        seqs.removeAll(keepingCapacity: true)
        images.removeAll(keepingCapacity: true)
        firstProblem = nil
    }
}

/// Table rows rendered as the trail records them, with the digests recorded for them;
/// `check()` finds the first that differs.
struct RenderedRows: CheckedBatch {
    struct Rendered {
        let table: Int
        let id: Int64
        let recorded: RecordedImages.Recorded
        /// Where its image ends in `bytes` (it starts where the previous one ends).
        let end: Int
    }
    private(set) var bytes: [UInt8] = []
    private var rows: [Rendered] = []
    private(set) var firstMismatch = FirstProblem<RowPlace>()

    mutating func append(table: Int, id: Int64, recorded: RecordedImages.Recorded, _ render: (inout [UInt8]) -> Void) {
        render(&bytes)
        rows.append(Rendered(table: table, id: id, recorded: recorded, end: bytes.count))
    }

    mutating func check() {
        bytes.withUnsafeBytes { bytes in
            var start = 0
            for row in rows {
                if RecordedImages.digest(UnsafeRawBufferPointer(rebasing: bytes[start..<row.end])) != row.recorded.digest {
                    let seq = row.recorded.seq
                    firstMismatch.note(RowPlace(seq: seq, gone: false, table: row.table, id: row.id),
                                       "verification failed at seq \(seq): \(LedgerTable.allCases[row.table].rawValue) row \(row.id) differs from what the trail recorded")
                }
                start = row.end
            }
        }
    }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        rows.removeAll(keepingCapacity: true)
        firstMismatch = FirstProblem()
    }
}

/// The last image the trail recorded of every row, as a SHA-256 digest (128 bits kept) with the
/// seq that recorded it: 24 bytes a row instead of the image's text. Tables go by their
/// position in `LedgerTable.allCases`.
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
    /// Per table, the largest id kept in `tables`: twice the table's largest id, at least 1024. A trail
    /// recording ids beyond (only a tampered one does) costs memory by its rows, not its ids.
    private let denseLimits: [Int64]
    private var sparse = [[Int64: Recorded]](repeating: [:], count: LedgerTable.allCases.count)

    init(_ db: LedgerSQL) throws {
        denseLimits = try LedgerTable.allCases.map { table in
            max(1024, 2 * (try db.value(Int64.self, "SELECT max(id) FROM \(table.rawValue)") ?? 0))
        }
    }

    static func digest(_ bytes: UnsafeRawBufferPointer) -> Digest {
        SHA256.hash(data: bytes).withUnsafeBytes { digest in
            Digest(high: digest.loadUnaligned(fromByteOffset: 0, as: UInt64.self), low: digest.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
    }

    /// Keeps the image with the later seq (batches of the trail are checked in any order), and
    /// of one entry's images of a row the last (they come in payload order, and an entry is
    /// never split between batches).
    mutating func record(_ table: Int, id: Int64, _ recorded: Recorded) {
        guard id >= 1, id <= denseLimits[table] else {
            if (sparse[table][id]?.seq ?? 0) <= recorded.seq { sparse[table][id] = recorded }
            return
        }
        if tables[table].count < id {
            tables[table].append(contentsOf: repeatElement(Recorded(seq: 0, digest: Digest(high: 0, low: 0)), count: max(Int(id) - tables[table].count, tables[table].count)))
        }
        if tables[table][Int(id) - 1].seq <= recorded.seq { tables[table][Int(id) - 1] = recorded }
    }

    /// The recorded image of a row, removed so that what remains at the end is gone from the tables.
    mutating func take(_ table: Int, id: Int64) -> Recorded? {
        guard id >= 1, id <= denseLimits[table] else { return sparse[table].removeValue(forKey: id) }
        guard id <= tables[table].count, tables[table][Int(id) - 1].seq != 0 else { return nil }
        defer { tables[table][Int(id) - 1].seq = 0 }
        return tables[table][Int(id) - 1]
    }

    /// Every recorded row not taken: (table, id, seq).
    func remaining() -> [(Int, Int64, Int64)] {
        tables.indices.flatMap { table in
            let dense = tables[table].enumerated().filter { $0.element.seq != 0 }.map { (table, Int64($0.offset + 1), $0.element.seq) }
            let far = sparse[table].map { (table, $0.key, $0.value.seq) }
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

    private static let tableNames = LedgerTable.allCases.map { Array($0.rawValue.utf8) }

    /// Reads a payload as maintledger writes it, `{"changes":[{"op":"…","table":"…","row":{"id":N,…}},…]}`,
    /// and hands over each row image: its table's position in `LedgerTable.allCases`, its id and
    /// its bytes' range. False when the payload has another shape.
    static func rowImages(_ payload: UnsafeRawBufferPointer, _ image: (Int, Int64, Range<Int>) -> Void) -> Bool {
        var scanner = PayloadScanner(payload)
        guard scanner.expect("{\"changes\":[") else { return false }
        repeat {
            guard scanner.expect("{\"op\":"), scanner.skipString(), scanner.expect(",\"table\":"),
                  let name = scanner.string(), let table = tableNames.firstIndex(where: { sameBytes(UnsafeRawBufferPointer(rebasing: name), $0) }),
                  scanner.expect(",\"row\":") else { return false }
            let start = scanner.position
            guard scanner.expect("{\"id\":"), let id = scanner.integer(), scanner.skipObjectRest() else { return false }
            image(table, id, start..<scanner.position)
            guard scanner.expect("}") else { return false }
        } while scanner.expect(",")
        return scanner.expect("]}") && scanner.atEnd
    }

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
        return text.isEmpty || memchr(bytes.baseAddress! + text.startIndex, Int32(UInt8(ascii: "\\")), text.count) == nil ? text : nil
    }

    /// Past the string that starts here. Most of a payload's bytes are inside strings, so this
    /// finds each closing quote with `memchr` and counts the backslashes before it.
    mutating func skipString() -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return false }
        let base = bytes.baseAddress!
        var from = position + 1
        while from < bytes.count, let found = memchr(base + from, Int32(UInt8(ascii: "\"")), bytes.count - from) {
            let quote = base.distance(to: UnsafeRawPointer(found))
            var backslashes = 0
            while quote - backslashes - 1 > position, bytes[quote - backslashes - 1] == UInt8(ascii: "\\") { backslashes += 1 }
            if backslashes % 2 == 0 {
                position = quote + 1
                return true
            }
            from = quote + 1
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
