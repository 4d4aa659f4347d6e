import Crypto
import Foundation
import LedgerCore
import LedgerStore

/// Walks a payload's bytes. It only has to accept what `Mutation` writes (compact JSON) and
/// say no to anything else, never crash on it.
struct PayloadScanner {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private static let tableNames = LedgerTable.allCases.map { Array($0.rawValue.utf8) }

    /// Reads a payload as maintledger writes it, `{"changes":[{"op":"…","table":"…","row":{"id":N,…}},…]}`,
    /// and hands over each row image: its table's position in `LedgerTable.allCases`, its id and
    /// its bytes' range. False when the payload has another shape.
    static func rowImages(_ payload: UnsafeRawBufferPointer, _ image: (Int, Int64, Range<Int>) -> Void) -> Bool {
        rowChanges(payload) { _, table, id, range in image(table, id, range) }
    }

    /// `rowImages`, with whether each change is an insert (`"op":"insert"`) or an update
    /// (`"op":"update"`); nil for any other op.
    static func rowChanges(_ payload: UnsafeRawBufferPointer, _ image: (_ insert: Bool?, Int, Int64, Range<Int>) -> Void) -> Bool {
        var scanner = PayloadScanner(payload)
        guard scanner.expect("{\"changes\":[") else { return false }
        repeat {
            guard scanner.expect("{\"op\":") else { return false }
            let insert: Bool? = scanner.expect("\"insert\"") ? true : scanner.expect("\"update\"") ? false : nil
            guard insert != nil || scanner.skipString(), scanner.expect(",\"table\":"),
                  let name = scanner.string(), let table = tableNames.firstIndex(where: { sameBytes(UnsafeRawBufferPointer(rebasing: name), $0) }),
                  scanner.expect(",\"row\":") else { return false }
            let start = scanner.position
            guard scanner.expect("{\"id\":"), let id = scanner.integer(), scanner.skipObjectRest() else { return false }
            image(insert, table, id, start..<scanner.position)
            guard scanner.expect("}") else { return false }
        } while scanner.expect(",")
        return scanner.expect("]}") && scanner.atEnd
    }

    var atEnd: Bool { position == bytes.count }

    mutating func expect(_ literal: StaticString) -> Bool {
        expect(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    mutating func expect(_ expected: [UInt8]) -> Bool {
        expected.withUnsafeBytes { expect($0) }
    }

    mutating func expect(_ expected: UnsafeRawBufferPointer) -> Bool {
        let count = expected.count
        guard position + count <= bytes.count,
              count == 0 || memcmp(bytes.baseAddress! + position, expected.baseAddress!, count) == 0 else { return false }
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

/// The rows a trail entry's payload records, in either format.
enum RecordedRows {
    /// Calls `body` with each change's table and row id, in payload order; false when the
    /// payload does not decode.
    static func each(payload: UnsafeRawBufferPointer, compact: Bool, recordedAt: UnsafeRawBufferPointer, actor: UnsafeRawBufferPointer,
                     _ body: (LedgerTable, Int64) -> Void) -> Bool {
        guard compact else {
            return PayloadScanner.rowImages(payload) { table, id, _ in body(LedgerTable.allCases[table], id) }
        }
        var parser = CompactPayloadParser(payload: payload, recordedAt: recordedAt, actor: actor)
        return withoutActuallyEscaping(body) { body in
            var visitor = ChangedRows(body: body)
            return parser.parse(&visitor) == nil
        }
    }

    private struct ChangedRows: CompactChangeVisitor {
        let body: (LedgerTable, Int64) -> Void
        mutating func change(_ operation: CompactTrail.Operation, _ table: LedgerTable, id: Int64) { body(table, id) }
        mutating func value(column: Int, _ value: CompactValueRef) {}
        mutating func endChange(digest: Range<Int>?) {}
    }
}
