import Crypto
import Foundation
import LedgerCore
import LedgerStore

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
/// digests the rows it recorded (format 1: their images; format 2: an inserted row's plain
/// encoding, an updated row's digest as recorded).
struct TrailBatch: CheckedBatch {
    /// The columns recorded_at … hash of each entry, back to back, the previous entry's hash
    /// (32 bytes) standing for a format 2 entry's prev_hash.
    private(set) var bytes: [UInt8] = []
    /// Entry i's seven columns start at `starts[8i] …` and end at `starts[8i + 7]`.
    private var starts: [Int] = []
    private var seqs: [Int64] = []
    private var compact: [Bool] = []
    private var plain: [UInt8] = []
    private var images: [(table: Int, id: Int64, seq: Int64, digest: RecordedImages.Digest)] = []
    private var scratch: [UInt8] = []
    /// Set by `check()`: the first entry whose hash is not the hash of its content, or whose
    /// payload is not one maintledger writes, and what is wrong with it.
    private(set) var firstProblem: (seq: Int64, problem: String)?

    mutating func append(seq: Int64, compact isCompact: Bool, columns: ClosedRange<Int>, _ column: (Int) -> UnsafeRawBufferPointer) {
        seqs.append(seq)
        compact.append(isCompact)
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
            // Reused for every entry: the four texts' places, without an array each.
            var texts = [UnsafeRawBufferPointer](repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: 4)
            for (entry, seq) in seqs.enumerated() {
                let payload = column(entry, 4)
                for index in 0...3 { texts[index] = column(entry, index) }
                let stored = column(entry, 6)
                let matches = compact[entry]
                    ? TrailEntry.compactHash(prevHash: column(entry, 5), seq: seq, texts: texts, payload: payload, scratch: &scratch) == SHA256Value(stored)
                    : sameBytes(stored, TrailEntry.jsonHash(prevHash: column(entry, 5), seq: seq, texts: texts, payload: payload, scratch: &scratch))
                guard matches else {
                    // A format 2 entry's hash covers the hash before it, stored only there.
                    let altered = compact[entry] && seq > 1 ? "the entry, or the hash of seq \(seq - 1) it follows, was altered" : "the entry was altered"
                    firstProblem = (seq, "hash does not match the entry's content (\(altered))")
                    return
                }
                if compact[entry] {
                    // Room for any change's plain encoding (see `CompactPayloadParser.plainLimit`).
                    let room = 1 + ByteWriter.varintLimit + payload.count * (26 + 1 + ByteWriter.varintLimit + max(texts[0].count, texts[1].count))
                    if plain.count < room { plain = [UInt8](repeating: 0, count: max(room, 2 * plain.count)) }
                    let problem = plain.withUnsafeMutableBytes { plain in
                        var parser = CompactPayloadParser(payload: payload, recordedAt: texts[0], actor: texts[1])
                        var recorder = RowRecorder(parser: parser, seq: seq, images: images, room: plain.baseAddress!)
                        images = []
                        let problem = parser.parse(&recorder)
                        images = recorder.images
                        return problem
                    }
                    if let problem {
                        firstProblem = (seq, "its payload is not one maintledger writes (\(problem))")
                        return
                    }
                } else {
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
        compact.removeAll(keepingCapacity: true)
        images.removeAll(keepingCapacity: true)
        firstProblem = nil
    }
}

/// A block of ids of one table (its ids `block << 12` to `(block << 12) + 4095`): the unit of
/// `TableFingerprints`. The tables are read in blocks so that each block's rows come in one
/// batch and the trail's side can fold the same rows without knowing how batches fell.
struct TableBlock: Hashable {
    static let idBits = 12

    let table: Int
    let block: Int64

    init(table: Int, id: Int64) {
        self.table = table
        block = id >> Self.idBits
    }
}

/// Of each block of each table, a SHA-256 over its rows' ids and digests in id order (the
/// first 16 bytes of SHA-256 of the row's plain encoding): computed from the tables as they
/// are read (`HashedRows`) and from the digests the trail recorded (`RecordedImages`). Equal
/// when, and only when, every row is as recorded and no recorded row is gone, as the row by row
/// comparison would find, which then need not read the tables again.
typealias TableFingerprints = [TableBlock: SHA256Value]

extension TableFingerprints {
    static func fold(_ hasher: inout SHA256Hasher, id: Int64, digest: RecordedImages.Digest) {
        withUnsafeBytes(of: (id.littleEndian, digest.high, digest.low)) { hasher.update($0) }
    }
}

/// Table rows as their plain encodings (the form a format 2 entry's digest covers), hashed by
/// `check()` into the fingerprints of their blocks.
struct HashedRows {
    private(set) var bytes = ByteBuffer()
    /// Each row's table, id and where its encoding ends in `bytes` (it starts where the one before ends).
    private var rows: [(table: Int, id: Int64, end: Int)] = []
    private(set) var fingerprints: [(TableBlock, SHA256Value)] = []

    /// The block of the last row appended.
    var lastBlock: TableBlock? { rows.last.map { TableBlock(table: $0.table, id: $0.id) } }

    mutating func append(table: Int, id: Int64, _ render: (inout ByteBuffer) -> Void) {
        render(&bytes)
        rows.append((table, id, bytes.count))
    }

    mutating func check() {
        bytes.withUnsafeBytes { bytes in
            var start = 0
            var block: TableBlock?
            var hasher = SHA256Hasher()
            for row in rows {
                let digest = RecordedImages.digest(UnsafeRawBufferPointer(rebasing: bytes[start..<row.end]))
                let rowBlock = TableBlock(table: row.table, id: row.id)
                if rowBlock != block {
                    if let block { fingerprints.append((block, hasher.finalize())) }
                    block = rowBlock
                    hasher = SHA256Hasher()
                }
                TableFingerprints.fold(&hasher, id: row.id, digest: digest)
                start = row.end
            }
            if let block { fingerprints.append((block, hasher.finalize())) }
        }
    }

    func record(into tables: inout TableFingerprints) {
        for (block, fingerprint) in fingerprints { tables[block] = fingerprint }
    }

    mutating func reset() {
        bytes.removeAll()
        rows.removeAll(keepingCapacity: true)
        fingerprints.removeAll(keepingCapacity: true)
    }
}

/// The tables' fingerprints, computed on a thread of its own from the second connection while
/// verification reads the trail on the first: each batch of rows (`TableReader`) hashed where
/// it was read, as reading and hashing the tables is about as much work as reading the trail.
final class TableFingerprinting: @unchecked Sendable {
    // Unchecked: `result` is written by the reading thread before it signals `done`, and read
    // only after a wait on `done` has succeeded; `stopped` is behind its lock.
    private var result: TableFingerprints?
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopped = false

    init(reading second: SecondReader, batchBytes: Int) {
        DispatchQueue(label: "maintledger.verify.tables").async {
            // A read that fails is told again, in its place, by the row by row comparison.
            self.result = (try? second.read { db in try self.fingerprints(db, batchBytes: batchBytes) }) ?? nil
            self.done.signal()
        }
    }

    /// Waits for the thread; nil when the second connection may not read the state the first
    /// one does, or a read failed. May be called again (the signal is put back for the next).
    func fingerprints() -> TableFingerprints? {
        done.wait()
        done.signal()
        return result
    }

    /// Has the thread stop at its next batch (the trail failed: the tables are not needed) and
    /// waits for it.
    func stop() {
        lock.withLock { stopped = true }
        _ = fingerprints()
    }

    private func fingerprints(_ db: LedgerSQL, batchBytes: Int) throws -> TableFingerprints? {
        var tables = TableReader(db)
        var rows = HashedRows()
        var fingerprints = TableFingerprints()
        while !tables.ended {
            if lock.withLock({ stopped }) { return nil }
            try tables.read(into: &rows, bytes: batchBytes)
            rows.check()
            rows.record(into: &fingerprints)
            rows.reset()
        }
        return fingerprints
    }
}

/// The ledger's tables for `HashedRows`: each in id order, one after the other in
/// `LedgerTable.allCases` order, each row as its plain encoding.
struct TableReader {
    let db: LedgerSQL
    private var table = 0
    private var rows: RowStream?

    init(_ db: LedgerSQL) { self.db = db }

    var ended: Bool { table == LedgerTable.allCases.count }

    /// Appends rows to `batch` until it holds `bytes` and the next row is of another
    /// `TableBlock` (a block's rows must all be in one batch), or the tables end.
    mutating func read(into batch: inout HashedRows, bytes: Int) throws {
        while !ended {
            if rows == nil { rows = try db.stream("SELECT * FROM \(LedgerTable.allCases[table].rawValue) ORDER BY id") }
            let (table, width) = (self.table, rows!.columnCount)
            try rows!.next { row in
                let id = row.int64(0)
                guard batch.bytes.count < bytes || batch.lastBlock == TableBlock(table: table, id: id) else { return false }
                batch.append(table: table, id: id) { CompactTrail.appendPlain(row, columns: width, to: &$0) }
                return true
            }
            guard rows!.ended else { return }
            rows = nil
            self.table += 1
        }
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

/// The digest of each row a format 2 entry recorded: an inserted row's from its values, in the
/// plain encoding the table side renders; an updated row's as the entry recorded it.
private struct RowRecorder: CompactChangeVisitor {
    let parser: CompactPayloadParser
    let seq: Int64
    var images: [(table: Int, id: Int64, seq: Int64, digest: RecordedImages.Digest)]
    /// Where an inserted row's plain encoding is written, with room for any change of the payload.
    let room: UnsafeMutableRawPointer
    private var writer: ByteWriter
    private var inserted = false
    private var table = 0
    private var id: Int64 = 0

    init(parser: CompactPayloadParser, seq: Int64, images: [(table: Int, id: Int64, seq: Int64, digest: RecordedImages.Digest)],
         room: UnsafeMutableRawPointer) {
        self.parser = parser
        self.seq = seq
        self.images = images
        self.room = room
        writer = ByteWriter(room)
    }

    mutating func change(_ operation: CompactTrail.Operation, _ table: LedgerTable, id: Int64) {
        self.table = table.ordinal
        self.id = id
        inserted = operation == .insert
        writer = ByteWriter(room)
        if inserted {
            writer.byte(CompactTrail.Tag.integer.rawValue)
            writer.varint(CompactTrail.zigzag(id))
        }
    }

    mutating func value(column: Int, _ value: CompactValueRef) {
        // An update records its row's digest: the columns it set need no rendering.
        if inserted { parser.writePlain(value, to: &writer) }
    }

    mutating func endChange(digest: Range<Int>?) {
        let recorded = digest.map { RecordedImages.Digest(UnsafeRawBufferPointer(rebasing: parser.payload[$0])) }
            ?? RecordedImages.digest(UnsafeRawBufferPointer(start: room, count: room.distance(to: writer.next)))
        images.append((table, id, seq, recorded))
    }
}
