import Foundation
import LedgerCore

/// A value of a format 2 payload, read in place: ranges are into the payload.
package enum CompactValueRef {
    case null
    case integer(Int64)
    case real(Double)
    case text(Range<Int>)
    case blob(Range<Int>)
    case time(Int64)
    case recordedAt
    case actor
    case uuid(Range<Int>)
}

/// What reads a payload's changes, one at a time, as `CompactPayloadParser` meets them.
package protocol CompactChangeVisitor {
    mutating func change(_ operation: CompactTrail.Operation, _ table: LedgerTable, id: Int64)
    /// A column's value: an insert's every column after id, an update's columns set.
    mutating func value(column: Int, _ value: CompactValueRef)
    /// After the change's values; an update's row digest (a range of the payload), nil for an insert.
    mutating func endChange(digest: Range<Int>?)
}

/// Reads format 2 payloads (see `CompactTrail`) and refuses any bytes `CompactPayloadWriter`
/// would not have written: truncated, unknown codes, overlong varints, columns out of order, or
/// a value in another form than its one. Never traps, whatever the bytes.
package struct CompactPayloadParser {
    /// The entry's payload, `recorded_at` and actor (tags 6 and 7 stand for the last two).
    package let payload: UnsafeRawBufferPointer
    package let recordedAt: UnsafeRawBufferPointer
    package let actor: UnsafeRawBufferPointer
    /// The instants `recordedAt` and `actor` are the stored form of, if they are one: a time
    /// (tag 5) must be neither text, and comparing instants spares rendering every time.
    private let recordedAtInstant: Int64?
    private let actorInstant: Int64?
    private var position = 0

    package init(payload: UnsafeRawBufferPointer, recordedAt: UnsafeRawBufferPointer, actor: UnsafeRawBufferPointer) {
        self.payload = payload
        self.recordedAt = recordedAt
        self.actor = actor
        recordedAtInstant = Timestamp(storageBytes: recordedAt)?.millisecondsSinceEpoch
        actorInstant = Timestamp(storageBytes: actor)?.millisecondsSinceEpoch
    }

    /// Hands every change to `visitor`; what is wrong with the payload, or nil.
    package mutating func parse<Visitor: CompactChangeVisitor>(_ visitor: inout Visitor) -> String? {
        guard !payload.isEmpty else { return "it records no change" }
        while position < payload.count {
            let start = position
            let code = payload[position]
            position += 1
            guard let operation = CompactTrail.Operation(rawValue: code >> 4), let table = LedgerTable(code: code & 0x0F) else {
                return "byte \(start) is not a change's code"
            }
            guard let id = varint(), id >= 1, id <= UInt64(Int64.max) else { return "the change at byte \(start) has no row id" }
            visitor.change(operation, table, id: Int64(id))
            let width = table.columnCount
            guard let count = varint() else { return "the change at byte \(start) is cut short" }
            switch operation {
            case .insert:
                guard count == UInt64(width - 1) else { return "the insert at byte \(start) has \(count) columns; \(table.rawValue) has \(width - 1) after id" }
                for column in 1..<width {
                    guard let value = value() else { return "the value of column \(column) of the change at byte \(start) is not one maintledger writes" }
                    visitor.value(column: column, value)
                }
                visitor.endChange(digest: nil)
            case .update:
                guard count >= 1, count < UInt64(width) else { return "the update at byte \(start) sets \(count) columns" }
                var previous = 0
                for _ in 0..<count {
                    guard let column = varint(), column > UInt64(previous), column < UInt64(width) else {
                        return "the update at byte \(start) names its columns out of order"
                    }
                    guard let value = value() else { return "the value of column \(column) of the change at byte \(start) is not one maintledger writes" }
                    previous = Int(column)
                    visitor.value(column: previous, value)
                }
                guard payload.count - position >= CompactTrail.digestCount else { return "the update at byte \(start) is cut short" }
                visitor.endChange(digest: position..<(position + CompactTrail.digestCount))
                position += CompactTrail.digestCount
            }
        }
        return nil
    }

    private static func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    /// An unsigned LEB128 varint in its shortest form.
    private mutating func varint() -> UInt64? {
        // Most are one byte (small ids, column counts and positions, lengths of short texts).
        if position < payload.count, payload[position] < 0x80 {
            defer { position += 1 }
            return UInt64(payload[position])
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while position < payload.count {
            let byte = payload[position]
            position += 1
            guard shift < 63 || byte <= 1 else { return nil }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return byte == 0 && shift > 0 ? nil : result }
            shift += 7
        }
        return nil
    }

    private mutating func bytes(_ count: UInt64) -> Range<Int>? {
        guard count <= UInt64(payload.count - position) else { return nil }
        defer { position += Int(count) }
        return position..<(position + Int(count))
    }

    private mutating func value() -> CompactValueRef? {
        guard position < payload.count, let tag = CompactTrail.Tag(rawValue: payload[position]) else { return nil }
        position += 1
        switch tag {
        case .null: return .null
        case .integer: return varint().map { .integer(CompactTrail.unzigzag($0)) }
        case .real:
            guard let range = bytes(8) else { return nil }
            return .real(Double(bitPattern: UInt64(bigEndian: UnsafeRawBufferPointer(rebasing: payload[range]).loadUnaligned(as: UInt64.self))))
        case .blob: return varint().flatMap { bytes($0) }.map { .blob($0) }
        case .recordedAt: return .recordedAt
        // An actor that is also the entry's time must have been written as the time (tag 6).
        case .actor: return Self.same(actor, recordedAt) ? nil : .actor
        case .text:
            guard let range = varint().flatMap({ bytes($0) }) else { return nil }
            let text = UnsafeRawBufferPointer(rebasing: payload[range])
            // A text another tag encodes must have been written with it.
            guard !Self.same(text, recordedAt), !Self.same(text, actor), Timestamp(storageBytes: text) == nil,
                  UUIDText.bytes(text) == nil else { return nil }
            return .text(range)
        case .time:
            // In the stored form's range (any instant there renders as that form), and not the
            // entry's time or actor, which tags 6 and 7 stand for: its text is one of theirs
            // exactly when it is the instant theirs is the stored form of.
            guard let milliseconds = varint().map(CompactTrail.unzigzag), Timestamp.storedRange.contains(milliseconds),
                  milliseconds != recordedAtInstant, milliseconds != actorInstant else { return nil }
            return .time(milliseconds)
        case .uuid:
            guard let range = bytes(16) else { return nil }
            // A uuid whose text is the entry's time or actor must have been written as that
            // (tag 6 or 7); only a text of 36 bytes can be one.
            if recordedAt.count == 36 || actor.count == 36 {
                let text = UUIDText.text(payload[range])
                guard !text.withUnsafeBytes({ Self.same($0, recordedAt) || Self.same($0, actor) }) else { return nil }
            }
            return .uuid(range)
        }
    }
}

extension CompactPayloadParser {
    /// `body` given a parser of `payload`, an entry's payload of that time and actor, valid
    /// only inside it: for a payload held in an array, not read in place from SQLite.
    package static func withParser<Result>(_ payload: [UInt8], recordedAt: String, actor: String,
                                           _ body: (inout CompactPayloadParser) -> Result) -> Result {
        let recordedAt = Array(recordedAt.utf8), actor = Array(actor.utf8)
        return payload.withUnsafeBytes { payload in
            recordedAt.withUnsafeBytes { recordedAt in
                actor.withUnsafeBytes { actor in
                    var parser = CompactPayloadParser(payload: payload, recordedAt: recordedAt, actor: actor)
                    return body(&parser)
                }
            }
        }
    }

    /// The value as SQLite holds it (times and uuids as their text).
    package func resolve(_ value: CompactValueRef) -> CompactValue {
        switch value {
        case .null: return .null
        case .integer(let number): return .integer(number)
        case .real(let number): return .real(number)
        case .text(let range): return .text(Array(payload[range]))
        case .blob(let range): return .blob(Array(payload[range]))
        case .time(let milliseconds):
            var text: [UInt8] = []
            Timestamp(millisecondsSinceEpoch: milliseconds).appendStorageText(to: &text)
            return .text(text)
        case .recordedAt: return .text(Array(recordedAt))
        case .actor: return .text(Array(actor))
        case .uuid(let range): return .text(UUIDText.text(payload[range]))
        }
    }

    /// The value as a row digest encodes it (`CompactTrail.appendPlain`).
    package func appendPlain(_ value: CompactValueRef, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: plainLimit(value), alignment: 1) { room in
            var writer = ByteWriter(room.baseAddress!)
            writePlain(value, to: &writer)
            out.append(contentsOf: UnsafeRawBufferPointer(start: room.baseAddress!, count: room.baseAddress!.distance(to: writer.next)))
        }
    }

    /// The most bytes `writePlain` writes for a value (a tag, a length, its bytes). No more
    /// than 26 for each byte of the payload the value takes, and a varint's 10 and the length
    /// of the entry's time or actor: a value takes at least one byte (a time 26 for 2, a uuid
    /// 38 for 17, the entry's time or actor 11 and its length for 1, any other as many as it takes).
    package func plainLimit(_ value: CompactValueRef) -> Int {
        switch value {
        case .null, .integer, .real: 1 + ByteWriter.varintLimit
        case .time: 26
        case .uuid: 38
        case .text(let range), .blob(let range): 1 + ByteWriter.varintLimit + range.count
        case .recordedAt: 1 + ByteWriter.varintLimit + recordedAt.count
        case .actor: 1 + ByteWriter.varintLimit + actor.count
        }
    }

    /// The value as a row digest encodes it, written in place (room for `plainLimit` bytes):
    /// no `CompactValue` is built (a time or a uuid would be an array).
    package func writePlain(_ value: CompactValueRef, to writer: inout ByteWriter) {
        switch value {
        case .null: writer.byte(CompactTrail.Tag.null.rawValue)
        case .integer(let number):
            writer.byte(CompactTrail.Tag.integer.rawValue)
            writer.varint(CompactTrail.zigzag(number))
        case .real(let number):
            writer.byte(CompactTrail.Tag.real.rawValue)
            writer.bigEndian(number.bitPattern)
        case .time(let milliseconds):
            writer.byte(CompactTrail.Tag.text.rawValue)
            writer.byte(24)
            writer.storageText(of: Timestamp(millisecondsSinceEpoch: milliseconds))
        case .uuid(let range):
            writer.byte(CompactTrail.Tag.text.rawValue)
            writer.byte(36)
            writer.uuidText(UnsafeRawBufferPointer(rebasing: payload[range]))
        case .text(let range): writer.lengthAndBytes(CompactTrail.Tag.text, UnsafeRawBufferPointer(rebasing: payload[range]))
        case .blob(let range): writer.lengthAndBytes(CompactTrail.Tag.blob, UnsafeRawBufferPointer(rebasing: payload[range]))
        case .recordedAt: writer.lengthAndBytes(CompactTrail.Tag.text, recordedAt)
        case .actor: writer.lengthAndBytes(CompactTrail.Tag.text, actor)
        }
    }
}

/// A format 2 payload as JSON, in format 1's shape: `{"changes":[{"op":…,"table":…,"row":{…}},…]}`.
/// An insert's row is whole; an update's holds its id and the columns it set, and the change
/// carries `row_digest`, the hex digest of the whole row after it.
package struct CompactPayloadJSON: CompactChangeVisitor {
    private let parser: CompactPayloadParser
    private var changes: [JSONValue] = []
    private var current: (operation: CompactTrail.Operation, table: LedgerTable, row: [(String, JSONValue)])?

    private init(_ parser: CompactPayloadParser) { self.parser = parser }

    /// nil when the bytes are not a payload maintledger writes.
    package static func render(_ payload: [UInt8], recordedAt: String, actor: String) -> JSONValue? {
        CompactPayloadParser.withParser(payload, recordedAt: recordedAt, actor: actor) { parser in
            var json = CompactPayloadJSON(parser)
            guard parser.parse(&json) == nil else { return nil }
            return .object([("changes", .array(json.changes))])
        }
    }

    package mutating func change(_ operation: CompactTrail.Operation, _ table: LedgerTable, id: Int64) {
        current = (operation, table, [("id", .int(id))])
    }

    package mutating func value(column: Int, _ value: CompactValueRef) {
        guard let table = current?.table else { return }
        let json: JSONValue = switch parser.resolve(value) {
        case .null: .null
        case .integer(let number): .int(number)
        case .real(let number): .double(number)
        case .text(let text): .string(String(decoding: text, as: UTF8.self))
        case .blob(let blob): .string(Hex.string(blob))
        }
        current?.row.append((table.columns[column], json))
    }

    package mutating func endChange(digest: Range<Int>?) {
        guard let (operation, table, row) = current else { return }
        var change: [(String, JSONValue)] = [
            ("op", .string(operation == .insert ? "insert" : "update")), ("table", .string(table.rawValue)), ("row", .object(row)),
        ]
        if let digest { change.append(("row_digest", .string(Hex.string(parser.payload[digest])))) }
        changes.append(.object(change))
        current = nil
    }
}
