// libFuzzer target: the reader of format 2 trail payloads (`CompactPayloadParser`) and their
// JSON (`CompactPayloadJSON`), which audit:verify, rebuild, audit:trail, exports and proofs run
// on every format 2 entry, whoever wrote the file.
//
// An input is an entry: its recorded_at and its actor, each a length byte and its bytes (read
// as UTF-8, as the ledger holds them: the reader and the encoder are given the same texts),
// then its payload. Beyond "no crash, no hang" it checks what docs/trail-format.md promises:
// - one encoding per value: whatever the reader accepts, the writer's encoder, given the
//   changes read with each value as SQLite would hold it (`resolve`), writes the same bytes;
// - the visitor sees what it is promised: an insert's every column after id in order, an
//   update's columns ascending and its 16-byte digest;
// - every value renders in place (`writePlain`, which verification runs in room reserved up
//   front) as the plain encoding of the resolved value, within `plainLimit` bytes (in a heap
//   block of exactly that size, so AddressSanitizer sees a byte past it), and `plainLimit` is
//   within what `CheckedBatches` reserves for it: 26 per payload byte the value took, a varint
//   and the longer of the entry's time and actor;
// - the JSON is there exactly when the reader accepts, holds one change per change read, with
//   the table's names for the columns read, the update's digest, and text that parses back.
import Foundation
import LedgerCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrailPayload(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = count == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: count))
    var position = 0
    func text() -> String? {
        guard position < input.count, input.count - position - 1 >= Int(input[position]) else { return nil }
        let bytes = input[(position + 1)..<(position + 1 + Int(input[position]))]
        position += 1 + bytes.count
        return String(decoding: bytes, as: UTF8.self)
    }
    guard let recordedAt = text(), let actor = text() else { return 0 }
    let payload = Array(input[position...])
    let entry = Entry(recordedAt: recordedAt, actor: actor, payload: payload)
    let changes = entry.read()
    let json = CompactPayloadJSON.render(payload, recordedAt: recordedAt, actor: actor)
    guard case .success(let changes) = changes else {
        entry.check(json == nil, "refused (\(changes)), yet rendered as JSON")
        return 0
    }
    entry.checkShapes(changes)
    entry.checkCanonical(changes)
    entry.checkJSON(json, changes)
    return 0
}

/// A change as the reader handed it over: each value as SQLite would hold it, with its
/// rendering in place and the room that rendering was given.
struct Change {
    let operation: CompactTrail.Operation
    let table: LedgerTable
    let id: Int64
    var values: [(column: Int, value: CompactValue, plain: [UInt8], limit: Int)] = []
    var digest: [UInt8]?
}

struct Collector: CompactChangeVisitor {
    let parser: CompactPayloadParser
    var changes: [Change] = []

    mutating func change(_ operation: CompactTrail.Operation, _ table: LedgerTable, id: Int64) {
        changes.append(Change(operation: operation, table: table, id: id))
    }

    mutating func value(column: Int, _ value: CompactValueRef) {
        let limit = parser.plainLimit(value)
        let room = UnsafeMutableRawPointer.allocate(byteCount: limit, alignment: 1)
        defer { room.deallocate() }
        var writer = ByteWriter(room)
        parser.writePlain(value, to: &writer)
        let plain = Array(UnsafeRawBufferPointer(start: room, count: room.distance(to: writer.next)))
        changes[changes.count - 1].values.append((column, parser.resolve(value), plain, limit))
    }

    mutating func endChange(digest: Range<Int>?) {
        changes[changes.count - 1].digest = digest.map { Array(parser.payload[$0]) }
    }
}

struct Entry {
    let recordedAt: String
    let actor: String
    let payload: [UInt8]

    func read() -> Result<[Change], Refusal> {
        CompactPayloadParser.withParser(payload, recordedAt: recordedAt, actor: actor) { parser in
            var collector = Collector(parser: parser)
            if let problem = parser.parse(&collector) { return .failure(Refusal(problem: problem)) }
            return .success(collector.changes)
        }
    }

    func checkShapes(_ changes: [Change]) {
        check(!changes.isEmpty, "accepted a payload of no change")
        for change in changes {
            let columns = change.values.map(\.column)
            switch change.operation {
            case .insert:
                check(columns == Array(1..<change.table.columnCount) && change.digest == nil,
                      "an insert into \(change.table.rawValue) handed over columns \(columns), digest \(change.digest.map { Hex.string($0) } ?? "none")")
            case .update:
                check(!columns.isEmpty && zip(columns, columns.dropFirst()).allSatisfy(<) && columns[0] >= 1
                      && columns.last! < change.table.columnCount && change.digest?.count == CompactTrail.digestCount,
                      "an update of \(change.table.rawValue) handed over columns \(columns), digest \(change.digest.map { Hex.string($0) } ?? "none")")
            }
        }
    }

    /// Writes the changes again with the writer's encoder, value by value, and checks each
    /// value's rendering against the bytes it took.
    func checkCanonical(_ changes: [Change]) {
        var encoder = CompactPayloadEncoder(recordedAt: recordedAt, actor: actor)
        let longerText = max(recordedAt.utf8.count, actor.utf8.count)
        for change in changes {
            encoder.begin(change.operation, change.table, id: change.id, count: change.values.count)
            for (column, value, plain, limit) in change.values {
                if change.operation == .update { encoder.column(column) }
                let start = encoder.bytes.count
                switch value {
                case .null: encoder.null()
                case .integer(let number): encoder.integer(number)
                case .real(let number): encoder.real(number)
                case .text(let text): text.withUnsafeBytes { encoder.text($0) }
                case .blob(let blob): blob.withUnsafeBytes { encoder.blob($0) }
                }
                let taken = encoder.bytes.count - start
                var expected: [UInt8] = []
                CompactTrail.appendPlain(value, to: &expected)
                check(plain == expected, "\(value) renders in place as \(Hex.string(plain)), not its plain encoding \(Hex.string(expected))")
                check(plain.count <= limit, "\(value) renders in \(plain.count) bytes, past its plainLimit \(limit)")
                check(limit <= 26 * taken + 1 + ByteWriter.varintLimit + longerText,
                      "\(value), \(taken) bytes of the payload, has a plainLimit \(limit) past the room verification reserves")
            }
            if let digest = change.digest { encoder.digest(digest) }
        }
        guard encoder.bytes != payload else { return }
        let differsAt = zip(encoder.bytes, payload).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(encoder.bytes.count, payload.count)
        fail("accepted, but written again it is \(Hex.string(encoder.bytes)): it differs at byte \(differsAt)")
    }

    func checkJSON(_ json: JSONValue?, _ changes: [Change]) {
        guard let json, case .object(let top) = json, top.count == 1, top[0].0 == "changes", case .array(let items) = top[0].1 else {
            fail("accepted, but its JSON is \(json?.compactText.prefix(300) ?? "missing")")
        }
        check(items.count == changes.count, "\(changes.count) changes read, \(items.count) in the JSON")
        for (item, change) in zip(items, changes) {
            guard case .object(let members) = item, members.count == (change.digest == nil ? 3 : 4),
                  case .object(let row) = members[2].1 else { fail("a change's JSON is \(item.compactText.prefix(300))") }
            check(members[0].1.compactText == (change.operation == .insert ? "\"insert\"" : "\"update\"")
                  && members[1].1.compactText == "\"\(change.table.rawValue)\"",
                  "a change's JSON names \(members[0].1.compactText) \(members[1].1.compactText)")
            check(row.map(\.0) == ["id"] + change.values.map { change.table.columns[$0.column] },
                  "a row's JSON holds \(row.map(\.0)), not the columns read")
            if let digest = change.digest {
                check(members[3].0 == "row_digest" && members[3].1.compactText == "\"\(Hex.string(digest))\"", "a digest's JSON is \(members[3])")
            }
        }
        var failure: JSONParseFailure?
        check(JSONValue.parse(Array(json.compactText.utf8), failure: &failure) != nil,
              "its JSON does not parse back (\(failure.map { "\($0.reason) at byte \($0.offset)" } ?? "")): \(json.compactText.prefix(300))")
    }

    func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
        if !condition() { fail(message()) }
    }

    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("""
            FuzzTrailPayload: \(message)
            recorded_at: \(recordedAt.debugDescription), actor: \(actor.debugDescription)
            payload: \(Hex.string(payload.prefix(2000)))

            """.utf8))
        fatalError(message)
    }
}

struct Refusal: Error, CustomStringConvertible {
    let problem: String
    var description: String { problem }
}
