import Crypto
import LedgerCore

/// Trail format 2: an entry's payload in bytes, the changes of its command back to back
/// (docs/trail-format.md defines it byte for byte, with an example):
///
///     change  = code id body          code: 0x10 · operation + table code (`LedgerTable.code`)
///     insert  = count value…          every column after id, in table order (count of them)
///     update  = count (column value)… digest
///                                     the columns the command set, by index, ascending; then
///                                     the first 16 bytes of SHA-256 of the whole row after it
///
/// Numbers are LEB128 varints (integers zigzag-encoded first). A value is a tag byte and its
/// data; texts that are the entry's own time or actor, a stored time or a uuid take 1, 1, ~7 and
/// 17 bytes instead of 24 to 37. Every value has exactly one encoding (`CompactPayloadParser`
/// refuses any other), so the bytes, and the hash over them, follow from the rows alone.
package enum CompactTrail {
    /// The first byte of the bytes a format 2 entry's hash covers (format 1's are hex digits).
    package static let formatTag: UInt8 = 0x02
    package static let digestCount = 16

    package enum Operation: UInt8, Sendable {
        case insert = 1, update = 2
    }

    package enum Tag: UInt8 {
        case null = 0, integer, real, text, blob
        /// A text in the stored time form, as milliseconds since 1970 (zigzag varint).
        case time
        /// The entry's `recorded_at` and `actor`.
        case recordedAt, actor
        /// A lowercase 8-4-4-4-12 hex uuid, as its 16 bytes.
        case uuid
    }

    package static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    package static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
    package static func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1))) }

    /// A value as row digests encode it: the tags null…blob only, texts as they are.
    package static func appendPlain(_ value: CompactValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(Tag.null.rawValue)
        case .integer(let number):
            out.append(Tag.integer.rawValue)
            appendVarint(zigzag(number), to: &out)
        case .real(let number):
            out.append(Tag.real.rawValue)
            withUnsafeBytes(of: number.bitPattern.bigEndian) { out.append(contentsOf: $0) }
        case .text(let text):
            out.append(Tag.text.rawValue)
            appendVarint(UInt64(text.count), to: &out)
            out.append(contentsOf: text)
        case .blob(let blob):
            out.append(Tag.blob.rawValue)
            appendVarint(UInt64(blob.count), to: &out)
            out.append(contentsOf: blob)
        }
    }

    /// The first 16 bytes of SHA-256 of a row's plain encoding (every column, id first).
    package static func digest(ofPlain bytes: UnsafeRawBufferPointer) -> [UInt8] {
        Array(SHA256.hash(data: bytes).prefix(digestCount))
    }

    /// A row's plain encoding, from the statement positioned on it.
    package static func appendPlain(_ row: RawColumns, columns: Int32, to out: inout [UInt8]) {
        for column in 0..<columns {
            let value = row.column(column)
            switch value.kind {
            case .null: appendPlain(.null, to: &out)
            case .integer: appendPlain(.integer(value.int64), to: &out)
            case .real: appendPlain(.real(value.double), to: &out)
            case .text, .blob: appendPlainBytes(value.kind == .text ? .text : .blob, value.bytes, to: &out)
            }
        }
    }

    /// `appendPlain(_:columns:to:)` for the loops that render every row of a ledger: the
    /// columns are read first, then the row is written in place at once.
    package static func appendPlain(_ row: RawColumns, columns: Int32, to out: inout ByteBuffer) {
        // A column as read: its tag, and its number (integer, zigzagged; real, its bits) or bytes.
        typealias Read = (tag: Tag, number: UInt64, bytes: UnsafeRawBufferPointer)
        withUnsafeTemporaryAllocation(of: Read.self, capacity: Int(columns)) { read in
            // At most a tag and a varint a column, and the texts' and blobs' bytes.
            var limit = 0
            for column in 0..<Int(columns) {
                let value = row.column(Int32(column))
                let none = UnsafeRawBufferPointer(start: nil, count: 0)
                let columnRead: Read = switch value.kind {
                case .null: (.null, 0, none)
                case .integer: (.integer, zigzag(value.int64), none)
                case .real: (.real, value.double.bitPattern, none)
                case .text: (.text, 0, value.bytes)
                case .blob: (.blob, 0, value.bytes)
                }
                read.initializeElement(at: column, to: columnRead)
                limit += 1 + ByteWriter.varintLimit + columnRead.bytes.count
            }
            out.append(upTo: limit) { writer in
                for column in read {
                    writer.byte(column.tag.rawValue)
                    switch column.tag {
                    case .integer: writer.varint(column.number)
                    case .real: writer.bigEndian(column.number)
                    case .text, .blob:
                        writer.varint(UInt64(column.bytes.count))
                        writer.bytes(column.bytes)
                    default: break
                    }
                }
            }
            read.deinitialize()
        }
    }

    /// A value bound to a row, as the row digest encodes what SQLite stores of it.
    package static func appendPlain(bound value: RowValue, to out: inout [UInt8]) {
        switch value {
        case .null: appendPlain(.null, to: &out)
        case .integer(let number): appendPlain(.integer(number), to: &out)
        case .text(var text): text.withUTF8 { appendPlainBytes(.text, UnsafeRawBufferPointer($0), to: &out) }
        case .time(let time):
            var text: [UInt8] = []
            time.appendStorageText(to: &text)
            text.withUnsafeBytes { appendPlainBytes(.text, $0, to: &out) }
        }
    }

    package static func appendPlainBytes(_ tag: Tag, _ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(tag.rawValue)
        appendVarint(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }
}

/// Writes bytes at a pointer, for the loops that render every row of a ledger: appending to an
/// array checks its uniqueness and its capacity at every byte and every piece. Whoever makes a
/// writer makes room first (`ByteBuffer.append(upTo:_:)`).
package struct ByteWriter {
    /// The most bytes `varint` writes.
    package static let varintLimit = 10

    package private(set) var next: UnsafeMutableRawPointer

    package init(_ start: UnsafeMutableRawPointer) { next = start }

    package mutating func byte(_ byte: UInt8) {
        next.storeBytes(of: byte, as: UInt8.self)
        next += 1
    }

    /// Unsigned LEB128, as `CompactTrail.appendVarint`.
    package mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            byte(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        byte(UInt8(value))
    }

    package mutating func bigEndian(_ value: UInt64) {
        next.storeBytes(of: value.bigEndian, as: UInt64.self)
        next += 8
    }

    package mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        guard let start = bytes.baseAddress, !bytes.isEmpty else { return }
        next.copyMemory(from: start, byteCount: bytes.count)
        next += bytes.count
    }

    /// A tag, the length of `bytes` and `bytes`: a text or blob in the plain encoding.
    package mutating func lengthAndBytes(_ tag: CompactTrail.Tag, _ bytes: UnsafeRawBufferPointer) {
        byte(tag.rawValue)
        varint(UInt64(bytes.count))
        self.bytes(bytes)
    }

    /// The 24 bytes of the stored form of `time`, which must be in `Timestamp.storedRange`.
    package mutating func storageText(of time: Timestamp) {
        time.writeStorageText(to: next)
        next += 24
    }

    /// The 36 bytes of the text of the uuid whose 16 `bytes` these are.
    package mutating func uuidText(_ bytes: UnsafeRawBufferPointer) {
        for (position, value) in bytes.enumerated() {
            // The dashes come after the 4th, 6th, 8th and 10th byte (8-4-4-4-12 digits).
            if position == 4 || position == 6 || position == 8 || position == 10 { byte(UInt8(ascii: "-")) }
            byte(Hex.digits[Int(value >> 4)])
            byte(Hex.digits[Int(value & 0x0F)])
        }
    }
}

/// Bytes written in place by a `ByteWriter`, in storage that only grows: a batch of
/// verification fills one, is checked and starts again.
package struct ByteBuffer {
    /// Initialized all along (zeros past `count`): Swift arrays have no uninitialized tail.
    private var storage: [UInt8] = []
    package private(set) var count = 0

    package init() {}

    /// Lets `write` write at most `limit` bytes at the end.
    package mutating func append(upTo limit: Int, _ write: (inout ByteWriter) -> Void) {
        if storage.count - count < limit {
            storage.append(contentsOf: repeatElement(0, count: max(count + limit, 2 * storage.count) - storage.count))
        }
        let start = count
        count = storage.withUnsafeMutableBytes { buffer in
            var writer = ByteWriter(buffer.baseAddress! + start)
            write(&writer)
            let end = buffer.baseAddress!.distance(to: writer.next)
            precondition(end - start <= limit, "a writer wrote past the room it asked for")
            return end
        }
    }

    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        append(upTo: bytes.count) { $0.bytes(bytes) }
    }

    package mutating func removeAll() { count = 0 }

    package func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }
}

/// A column's value as SQLite holds it.
package enum CompactValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text([UInt8])
    case blob([UInt8])
}

/// Builds a format 2 payload from the rows a command wrote, read back from SQLite.
package struct CompactPayloadWriter {
    private let recordedAt: [UInt8]
    private let actor: [UInt8]
    /// The instants `recordedAt` and `actor` are the stored form of, if they are.
    private let recordedAtTime: Timestamp?
    private let actorTime: Timestamp?
    package private(set) var bytes: [UInt8] = []
    private var plain: [UInt8] = []

    package init(recordedAt: String, actor: String) {
        self.recordedAt = Array(recordedAt.utf8)
        self.actor = Array(actor.utf8)
        recordedAtTime = self.recordedAt.withUnsafeBytes { Timestamp(storageBytes: $0) }
        actorTime = self.actor.withUnsafeBytes { Timestamp(storageBytes: $0) }
    }

    package var isEmpty: Bool { bytes.isEmpty }

    /// An inserted row, whole: `row` is positioned on it, `columns` wide, id first.
    package mutating func insert(_ table: LedgerTable, _ row: RawColumns, columns: Int32) {
        header(.insert, table, id: row.int64(0))
        CompactTrail.appendVarint(UInt64(columns - 1), to: &bytes)
        for column in 1..<columns { append(row, column) }
    }

    /// A row inserted whole, from the values bound to it (`Mutation.insert(_:row:)`), id first.
    package mutating func insert(_ table: LedgerTable, id: Int64, values: [RowValue]) {
        header(.insert, table, id: id)
        CompactTrail.appendVarint(UInt64(values.count), to: &bytes)
        for value in values { append(value) }
    }

    /// An update of a row held whole (`Mutation.update(_:id:from:set:)`): the columns set, as
    /// (index in the row, id being 0) ascending, and the digest of `row`, the whole row after it
    /// but its id.
    package mutating func update(_ table: LedgerTable, id: Int64, changed: [(index: Int, value: RowValue)], row: [RowValue]) {
        header(.update, table, id: id)
        CompactTrail.appendVarint(UInt64(changed.count), to: &bytes)
        for column in changed {
            CompactTrail.appendVarint(UInt64(column.index), to: &bytes)
            append(column.value)
        }
        plain.removeAll(keepingCapacity: true)
        CompactTrail.appendPlain(bound: .integer(id), to: &plain)
        for value in row { CompactTrail.appendPlain(bound: value, to: &plain) }
        bytes.append(contentsOf: plain.withUnsafeBytes { CompactTrail.digest(ofPlain: $0) })
    }

    /// A value bound to a row, in the form its stored value takes (as `append(_:_:)` reads it back).
    private mutating func append(_ value: RowValue) {
        switch value {
        case .null: bytes.append(CompactTrail.Tag.null.rawValue)
        case .integer(let number):
            bytes.append(CompactTrail.Tag.integer.rawValue)
            CompactTrail.appendVarint(CompactTrail.zigzag(number), to: &bytes)
        case .text(var text): text.withUTF8 { appendText(UnsafeRawBufferPointer($0)) }
        case .time(let time): appendTime(time)
        }
    }

    /// A time, bound as its storage text, in the form `appendText` would find for that text,
    /// without making it: its text is the entry's time or actor exactly when it is the instant
    /// they are the stored form of, and is itself in the stored form when that can hold it.
    private mutating func appendTime(_ time: Timestamp) {
        if time == recordedAtTime {
            bytes.append(CompactTrail.Tag.recordedAt.rawValue)
        } else if time == actorTime {
            bytes.append(CompactTrail.Tag.actor.rawValue)
        } else if time.isStorable {
            bytes.append(CompactTrail.Tag.time.rawValue)
            CompactTrail.appendVarint(CompactTrail.zigzag(time.millisecondsSinceEpoch), to: &bytes)
        } else {
            var text: [UInt8] = []
            time.appendStorageText(to: &text)
            text.withUnsafeBytes { appendText($0) }
        }
    }

    /// The columns an update set (`changed`, indexes ascending), and the digest of the whole row after it.
    package mutating func update(_ table: LedgerTable, _ row: RawColumns, columns: Int32, changed: [Int32]) {
        header(.update, table, id: row.int64(0))
        CompactTrail.appendVarint(UInt64(changed.count), to: &bytes)
        for column in changed {
            CompactTrail.appendVarint(UInt64(column), to: &bytes)
            append(row, column)
        }
        plain.removeAll(keepingCapacity: true)
        CompactTrail.appendPlain(row, columns: columns, to: &plain)
        bytes.append(contentsOf: plain.withUnsafeBytes { CompactTrail.digest(ofPlain: $0) })
    }

    private mutating func header(_ operation: CompactTrail.Operation, _ table: LedgerTable, id: Int64) {
        bytes.append(operation.rawValue << 4 | table.code)
        CompactTrail.appendVarint(UInt64(id), to: &bytes)
    }

    private mutating func append(_ row: RawColumns, _ column: Int32) {
        let value = row.column(column)
        switch value.kind {
        case .null: bytes.append(CompactTrail.Tag.null.rawValue)
        case .integer:
            bytes.append(CompactTrail.Tag.integer.rawValue)
            CompactTrail.appendVarint(CompactTrail.zigzag(value.int64), to: &bytes)
        case .real: CompactTrail.appendPlain(.real(value.double), to: &bytes)
        case .blob: CompactTrail.appendPlainBytes(.blob, value.bytes, to: &bytes)
        case .text: appendText(value.bytes)
        }
    }

    /// A text in the shortest of its forms, tried in the order the format fixes.
    private mutating func appendText(_ text: UnsafeRawBufferPointer) {
        if text.elementsEqual(recordedAt) {
            bytes.append(CompactTrail.Tag.recordedAt.rawValue)
        } else if text.elementsEqual(actor) {
            bytes.append(CompactTrail.Tag.actor.rawValue)
        } else if let time = Timestamp(storageBytes: text) {
            bytes.append(CompactTrail.Tag.time.rawValue)
            CompactTrail.appendVarint(CompactTrail.zigzag(time.millisecondsSinceEpoch), to: &bytes)
        } else if let uuid = UUIDText.bytes(text) {
            bytes.append(CompactTrail.Tag.uuid.rawValue)
            bytes.append(contentsOf: uuid)
        } else {
            CompactTrail.appendPlainBytes(.text, text, to: &bytes)
        }
    }
}

/// Lowercase 8-4-4-4-12 hex uuids and their 16 bytes.
package enum UUIDText {
    private static let dashes: Set<Int> = [8, 13, 18, 23]

    package static func bytes(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        guard text.count == 36 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var high: UInt8?
        for (index, character) in text.enumerated() {
            if dashes.contains(index) {
                guard character == UInt8(ascii: "-") else { return nil }
                continue
            }
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let pending = high {
                bytes.append(pending << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }

    package static func text(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var text = Hex.bytes(bytes)
        for dash in dashes.sorted() { text.insert(UInt8(ascii: "-"), at: dash) }
        return text
    }
}
