import LedgerCore

// What of format 2 needs SQLite or SHA-256: a row's plain encoding read from a statement, and
// its digest. The bytes themselves are Trail/Codec's.
extension CompactTrail {
    /// The first 16 bytes of SHA-256 of a row's plain encoding (every column, id first),
    /// appended: hashed on the stack (`SHA256Hasher`), with no array made on the way.
    package static func appendDigest(ofPlain bytes: UnsafeRawBufferPointer, to encoder: inout CompactPayloadEncoder) {
        SHA256Hasher.hash(bytes).withUnsafeBytes { encoder.digest($0.prefix(digestCount)) }
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
        case .time(let time) where time.isStorable:
            // Its storage text rendered in place: a text made first was an allocation per time.
            out.append(Tag.text.rawValue)
            appendVarint(UInt64(Timestamp.storageTextCount), to: &out)
            time.appendStorageText(to: &out)
        case .time(let time):
            var text: [UInt8] = []
            time.appendStorageText(to: &text)
            text.withUnsafeBytes { appendPlainBytes(.text, $0, to: &out) }
        }
    }
}

/// Reads bytes, varints (LEB128, as `CompactTrail.appendVarint` writes them) and runs of
/// bytes in place, never past the end.
package struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    package private(set) var position: Int

    package init(_ bytes: UnsafeRawBufferPointer, from position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    package mutating func byte() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    package mutating func varint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while shift < 64, let byte = byte() {
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    package mutating func bytes(_ count: UInt64) -> UnsafeRawBufferPointer? {
        guard count <= UInt64(bytes.count - position) else { return nil }
        defer { position += Int(count) }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + Int(count))])
    }

    /// A varint length and that many bytes.
    package mutating func lengthAndBytes() -> UnsafeRawBufferPointer? {
        varint().flatMap { bytes($0) }
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

/// Builds a format 2 payload from the rows a command wrote, read back from SQLite, through
/// `CompactPayloadEncoder`, which gives each value its form; an update's digest is made here.
package struct CompactPayloadWriter: Sendable {
    private var encoder: CompactPayloadEncoder
    /// An updated row's plain encoding, which its digest covers: kept to spare an allocation per update.
    private var plain: [UInt8] = []

    package init(recordedAt: String, actor: String) {
        encoder = CompactPayloadEncoder(recordedAt: recordedAt, actor: actor)
    }

    package var bytes: [UInt8] { encoder.bytes }

    package var isEmpty: Bool { encoder.bytes.isEmpty }

    /// An inserted row, whole: `row` is positioned on it, `columns` wide, id first.
    package mutating func insert(_ table: LedgerTable, _ row: RawColumns, columns: Int32) {
        encoder.begin(.insert, table, id: row.int64(0), count: Int(columns) - 1)
        for column in 1..<columns { append(row.column(column)) }
    }

    /// A row inserted whole, from the values bound to it (`Mutation.insert(_:row:)`), id first.
    package mutating func insert(_ table: LedgerTable, id: Int64, values: [RowValue]) {
        encoder.begin(.insert, table, id: id, count: values.count)
        for value in values { append(value) }
    }

    /// An update of a row held whole (`Mutation.update(_:id:from:set:)`): the columns set, as
    /// (index in the row, id being 0) ascending, and the digest of `row`, the whole row after it
    /// but its id.
    package mutating func update(_ table: LedgerTable, id: Int64, changed: some Collection<(index: Int, value: RowValue)>, row: [RowValue]) {
        encoder.begin(.update, table, id: id, count: changed.count)
        for column in changed {
            encoder.column(column.index)
            append(column.value)
        }
        plain.removeAll(keepingCapacity: true)
        CompactTrail.appendPlain(bound: .integer(id), to: &plain)
        for value in row { CompactTrail.appendPlain(bound: value, to: &plain) }
        appendDigestOfPlain()
    }

    /// A row prepared off the recording thread (`PreparedRows`), inserted whole with `id` and
    /// its open column filled with `value`: the encodings prepared, copied as they are.
    package mutating func insert(_ row: PreparedRows.Row, of rows: PreparedRows, id: Int64, filling value: Int64) {
        encoder.begin(.insert, row.table, id: id, count: row.columns.count)
        // The open column's encoding is empty: the columns before it, it, and those after.
        let open = row.open == 0 ? row.encodedStart : rows.columns[row.columns.lowerBound + row.open - 1].encodedEnd
        encoder.encoded(rows.bytes[row.encodedStart..<open])
        append(.integer(value))
        encoder.encoded(rows.bytes[open..<rows.columns[row.columns.upperBound - 1].encodedEnd])
    }

    /// Forgets the changes written so far (`PreparedRows` encodes one row at a time).
    package mutating func removeAll() {
        encoder.removeAll()
    }

    /// A value bound to a row, in the form its stored value takes (as `append(_: RawValue)`
    /// gives it when read back).
    package mutating func append(_ value: RowValue) {
        switch value {
        case .null: encoder.null()
        case .integer(let number): encoder.integer(number)
        case .text(var text): text.withUTF8 { encoder.text(UnsafeRawBufferPointer($0)) }
        case .time(let time): encoder.time(time)
        }
    }

    /// The columns an update set (`changed`, indexes ascending), and the digest of the whole row after it.
    package mutating func update(_ table: LedgerTable, _ row: RawColumns, columns: Int32, changed: [Int32]) {
        encoder.begin(.update, table, id: row.int64(0), count: changed.count)
        for column in changed {
            encoder.column(Int(column))
            append(row.column(column))
        }
        plain.removeAll(keepingCapacity: true)
        CompactTrail.appendPlain(row, columns: columns, to: &plain)
        appendDigestOfPlain()
    }

    private mutating func appendDigestOfPlain() {
        plain.withUnsafeBytes { CompactTrail.appendDigest(ofPlain: $0, to: &encoder) }
    }

    private mutating func append(_ value: RawValue) {
        switch value.kind {
        case .null: encoder.null()
        case .integer: encoder.integer(value.int64)
        case .real: encoder.real(value.double)
        case .blob: encoder.blob(value.bytes)
        case .text: encoder.text(value.bytes)
        }
    }
}
