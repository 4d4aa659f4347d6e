import Foundation
import LedgerCore
import LedgerStore

/// A trail entry as `rebuild` reads it from a line of NDJSON, in the shape `export --entity
/// trail` and `audit:trail --ndjson` write (`TrailEntry.json`, keys in that order), with its
/// payload in the form the ledger stores (format 2: the compact bytes, encoded anew from the
/// JSON, which has one encoding; format 1: the JSON text as stored), its hash checked against
/// its content and its link against the entry before.
struct ReadEntry: Sendable {
    let seq: Int64
    let compact: Bool
    /// recorded_at, actor, action and subject, back to back; each ends at its `textEnds`.
    let texts: [UInt8]
    let textEnds: [Int]
    let payload: [UInt8]
    /// As stored: format 2, 32 bytes; format 1, 64 hex digits.
    let hash: [UInt8]
    /// The hash's 32 bytes, whichever the format (the Merkle tree's leaf is made of them).
    let rawHash: [UInt8]
    /// Format 1: the previous entry's hash as stored, 64 hex digits; format 2: empty.
    let prevHash: [UInt8]
    /// Where it was read: "line N of FILE".
    let place: String
    /// The file's position among those read.
    let file: Int
    /// The rows its payload changes, decoded for the replay.
    let changes: RowChanges
    /// The entry as a row of `audit_trail`, and the nodes of `trail_tree` it completes, in their plain encodings.
    var trailRow: [UInt8] = []
    var nodeRows: [UInt8] = []

    /// The four texts, in place.
    func withTexts<Result>(_ body: ([UnsafeRawBufferPointer]) throws -> Result) rethrows -> Result {
        try Self.withTexts(texts, ends: textEnds, body)
    }

    /// Texts back to back in `texts`, each ending at its `ends`, in place.
    static func withTexts<Result>(_ texts: [UInt8], ends: [Int], _ body: ([UnsafeRawBufferPointer]) throws -> Result) rethrows -> Result {
        try texts.withUnsafeBytes { texts in
            var start = 0
            return try body(ends.map { end in
                defer { start = end }
                return UnsafeRawBufferPointer(rebasing: texts[start..<end])
            })
        }
    }
}

/// Reads trail entries from NDJSON lines in seq order, checking the chain as it goes: the seq
/// follows the one before, the entry links to its hash, and its own hash is its content's.
struct TrailLineReader {
    /// What each column keeps as it is bound (`RebuiltLedger.keptTags`).
    let keptTags: [[UInt8]]
    private var expectedSeq: Int64 = 1
    /// The previous entry's hash: its 32 bytes (format 2 links to them) and as stored (a format 1
    /// entry's prev_hash is that text).
    private var previousRaw = [UInt8](repeating: 0, count: 32)
    private var previousStored = Array(TrailEntry.genesisHash.utf8)
    private var firstCompact: Int64?
    private var tree = TreeCheck()
    private var scratch: [UInt8] = []
    /// A change's columns as the line names them: position and value.
    private var columns: [(Int, PayloadScanner.Scalar)] = []

    init(keptTags: [[UInt8]]) {
        self.keptTags = keptTags
    }

    private static let columnNames = LedgerTable.allCases.map { $0.columns.map { Array($0.utf8) } }
    private static let tableNames = LedgerTable.allCases.map { Array($0.rawValue.utf8) }
    private static let formatKey = Array(",\"format\":".utf8)

    /// The entry on `line`, at `place` ("line N of FILE").
    mutating func read(_ line: [UInt8], place: String, file: Int) throws -> ReadEntry {
        try line.withUnsafeBytes { try read($0, place: place, file: file) }
    }

    private mutating func read(_ line: UnsafeRawBufferPointer, place: String, file: Int) throws -> ReadEntry {
        var scanner = PayloadScanner(line)
        func notAnEntry(_ seq: Int64? = nil, _ what: String = "") -> LedgerError {
            .badData("\(place)\(seq.map { " (seq \($0))" } ?? "") is not a trail entry as `export --entity trail` and `audit:trail --ndjson` write them\(what)",
                     hint: Self.hint)
        }
        guard scanner.expect("{\"seq\":"), let seq = scanner.integer() else {
            // A newer maintledger may write another shape: its format says so, wherever it is.
            if case .object(let fields)? = JSONValue.parse(Array(line)), case .int(let format)? = fields.first(where: { $0.0 == "format" })?.1, format > 2 {
                let seq = fields.first(where: { $0.0 == "seq" }).flatMap { if case .int(let seq) = $0.1 { seq } else { nil } }
                throw Self.newer(format, seq: seq, place: place)
            }
            throw notAnEntry()
        }
        guard let format = Self.format(line) else { throw notAnEntry(seq) }
        guard seq == expectedSeq else {
            if seq > expectedSeq {
                let missing = seq - 1 > expectedSeq ? "seq \(expectedSeq) to \(seq - 1) are" : "seq \(expectedSeq) is"
                throw LedgerError.badData("\(missing) missing: \(place) is seq \(seq)\(expectedSeq == 1 ? ", the first entry read" : ", after seq \(expectedSeq - 1)")",
                                          hint: Self.hint)
            }
            throw LedgerError.badData("\(place) is seq \(seq) again, after seq \(expectedSeq - 1)", hint: Self.hint)
        }
        guard format == 1 || format == 2 else {
            if format > 2 { throw Self.newer(Int64(format), seq: seq, place: place) }
            throw notAnEntry(seq, ": it names format \(format)")
        }
        let compact = format == 2
        if compact, firstCompact == nil { firstCompact = seq }
        guard compact || firstCompact == nil else {
            throw LedgerError.badData("seq \(seq) (\(place)) is a format 1 entry after format 2 ones (from seq \(firstCompact!)), which maintledger never writes",
                                      hint: Self.hint)
        }

        var texts: [UInt8] = []
        var textEnds: [Int] = []
        for key in ["recorded_at", "actor", "action", "subject"] as [StaticString] {
            guard scanner.expect(","), scanner.expectKey(key), scanner.text(into: &texts) else { throw notAnEntry(seq) }
            textEnds.append(texts.count)
        }
        guard scanner.expect(",\"payload\":") else { throw notAnEntry(seq) }
        var payload: [UInt8]
        if scanner.expect("null") {
            throw LedgerError.badData("seq \(seq) (\(place)) has no payload: the ledger it was exported from holds one that does not decode (`audit:verify` names it)",
                                      hint: Self.hint)
        } else if compact {
            let (recordedAt, actor) = (String(decoding: texts[..<textEnds[0]], as: UTF8.self), String(decoding: texts[textEnds[0]..<textEnds[1]], as: UTF8.self))
            var encoder = CompactPayloadEncoder(recordedAt: recordedAt, actor: actor)
            guard encode(&scanner, into: &encoder) else { throw notAnEntry(seq, ": its payload is not a list of row changes") }
            payload = encoder.bytes
        } else {
            let start = scanner.position
            guard scanner.expect("{"), scanner.skipObjectRest() else { throw notAnEntry(seq) }
            payload = Array(line[start..<scanner.position])
        }
        var prevHash: [UInt8] = []
        var hash: [UInt8] = []
        guard scanner.expect(","), scanner.expectKey("prev_hash"), scanner.text(into: &prevHash),
              scanner.expect(","), scanner.expectKey("hash"), scanner.text(into: &hash),
              scanner.expect(Self.formatKey) else { throw notAnEntry(seq) }

        // The link, then the hash (of the entry's content after the hash it links to).
        let linked = compact ? Hex.decode(digits: prevHash) == previousRaw : prevHash == previousStored
        guard linked else {
            throw LedgerError.badData("seq \(seq) (\(place)) does not follow seq \(seq - 1): its prev_hash is not the hash of seq \(seq - 1)", hint: Self.hint)
        }
        let matches = ReadEntry.withTexts(texts, ends: textEnds) { parts in
            payload.withUnsafeBytes { payloadBytes in
                if compact {
                    let computed = previousRaw.withUnsafeBytes {
                        TrailEntry.compactHash(prevHash: $0, seq: seq, texts: parts, payload: payloadBytes, scratch: &scratch)
                    }
                    return computed.bytes == Hex.decode(digits: hash)
                }
                return prevHash.withUnsafeBytes {
                    TrailEntry.jsonHash(prevHash: $0, seq: seq, texts: parts, payload: payloadBytes, scratch: &scratch)
                } == hash
            }
        }
        guard matches, let rawHash = Hex.decode(digits: hash), rawHash.count == 32 else {
            throw LedgerError.badData("seq \(seq) (\(place)) was altered: its hash does not match its content", hint: Self.hint)
        }
        if compact { hash = rawHash }
        var changes = RowChanges()
        let problem = ReadEntry.withTexts(texts, ends: textEnds) { parts in
            payload.withUnsafeBytes { RowChanges.decode($0, compact: compact, texts: parts, keptTags: keptTags, into: &changes) }
        }
        if let problem { throw LedgerError.badData("seq \(seq) (\(place)) does not replay: \(problem)", hint: Self.hint) }
        expectedSeq = seq + 1
        previousRaw = rawHash
        previousStored = compact ? rawHash : hash
        var entry = ReadEntry(seq: seq, compact: compact, texts: texts, textEnds: textEnds, payload: payload, hash: hash, rawHash: rawHash,
                              prevHash: compact ? [] : prevHash, place: place, file: file, changes: changes)
        addStoredRows(to: &entry)
        return entry
    }

    /// Gives the entry its row of `audit_trail` as stored (format 2: its payload and hash as
    /// blobs, no prev_hash; format 1: all three as text) and the nodes of `trail_tree` it completes.
    private mutating func addStoredRows(to entry: inout ReadEntry) {
        var trailRow: [UInt8] = []
        CompactTrail.appendPlain(.integer(entry.seq), to: &trailRow)
        entry.withTexts { texts in
            for text in texts { CompactTrail.appendPlainBytes(.text, text, to: &trailRow) }
        }
        let tag: CompactTrail.Tag = entry.compact ? .blob : .text
        entry.payload.withUnsafeBytes { CompactTrail.appendPlainBytes(tag, $0, to: &trailRow) }
        if entry.compact {
            CompactTrail.appendPlain(.null, to: &trailRow)
        } else {
            entry.prevHash.withUnsafeBytes { CompactTrail.appendPlainBytes(.text, $0, to: &trailRow) }
        }
        entry.hash.withUnsafeBytes { CompactTrail.appendPlainBytes(tag, $0, to: &trailRow) }
        var nodeRows: [UInt8] = []
        entry.rawHash.withUnsafeBytes { hash in
            tree.add(seq: entry.seq, hash: hash) { level, node in
                CompactTrail.appendPlain(.integer(entry.seq), to: &nodeRows)
                CompactTrail.appendPlain(.integer(Int64(level)), to: &nodeRows)
                node.withUnsafeBytes { CompactTrail.appendPlainBytes(.blob, $0, to: &nodeRows) }
            }
        }
        entry.trailRow = trailRow
        entry.nodeRows = nodeRows
    }

    static let hint = "Nothing was written; rebuild from the trail as maintledger exported it."

    private static func newer(_ format: Int64, seq: Int64?, place: String) -> LedgerError {
        .unusableDatabase("\(seq.map { "seq \($0) (\(place))" } ?? place) is in trail format \(format), which this maintledger does not know (it reads formats 1 and 2)",
                          hint: "Upgrade maintledger to rebuild from this trail; nothing was written.")
    }

    /// The format a line ends with, `,"format":N}`; nil when it does not end so.
    private static func format(_ line: UnsafeRawBufferPointer) -> Int? {
        var end = line.count - 1
        guard end > 0, line[end] == UInt8(ascii: "}") else { return nil }
        var format = 0
        var place = 1
        while end > 0, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[end - 1]), place <= 1_000_000 {
            end -= 1
            format += Int(line[end] - UInt8(ascii: "0")) * place
            place *= 10
        }
        guard place > 1, end >= formatKey.count, formatKey.elementsEqual(line[(end - formatKey.count)..<end]) else { return nil }
        return format
    }

    /// Encodes a format 2 payload's JSON, `{"changes":[{"op":…,"table":…,"row":{"id":…,…}(,"row_digest":…)},…]}`
    /// (`CompactPayloadJSON`), as the compact bytes it was rendered from; false if it is not one.
    private mutating func encode(_ scanner: inout PayloadScanner, into encoder: inout CompactPayloadEncoder) -> Bool {
        guard scanner.expect("{\"changes\":[") else { return false }
        repeat {
            guard scanner.expect("{\"op\":") else { return false }
            let operation: CompactTrail.Operation
            if scanner.expect("\"insert\"") { operation = .insert } else if scanner.expect("\"update\"") { operation = .update } else { return false }
            guard scanner.expect(",\"table\":"), let name = scanner.string(),
                  let ordinal = Self.tableNames.firstIndex(where: { sameBytes(UnsafeRawBufferPointer(rebasing: name), $0) }),
                  scanner.expect(",\"row\":{\"id\":"), let id = scanner.integer(), id >= 1 else { return false }
            let table = LedgerTable.allCases[ordinal]
            let names = Self.columnNames[ordinal]
            columns.removeAll(keepingCapacity: true)
            var next = 1
            while scanner.expect(",") {
                // An insert names every column in order; an update the columns it set, in order.
                guard let key = scanner.string(), scanner.expect(":") else { return false }
                let keyBytes = UnsafeRawBufferPointer(rebasing: key)
                guard let column = (next..<names.count).first(where: { sameBytes(keyBytes, names[$0]) }),
                      operation == .update || column == next, let value = scanner.scalar() else { return false }
                columns.append((column, value))
                next = column + 1
            }
            guard scanner.expect("}") else { return false }
            switch operation {
            case .insert:
                guard columns.count == names.count - 1, scanner.expect("}") else { return false }
                encoder.begin(.insert, table, id: id, count: columns.count)
                for (_, value) in columns { value.encode(scanner.bytes, into: &encoder) }
            case .update:
                var digest: [UInt8] = []
                guard !columns.isEmpty, scanner.expect(",\"row_digest\":"), scanner.text(into: &digest),
                      let bytes = Hex.decode(digits: digest), bytes.count == CompactTrail.digestCount, scanner.expect("}") else { return false }
                encoder.begin(.update, table, id: id, count: columns.count)
                for (column, value) in columns {
                    encoder.column(column)
                    value.encode(scanner.bytes, into: &encoder)
                }
                encoder.digest(bytes)
            }
        } while scanner.expect(",")
        return scanner.expect("]}")
    }
}

extension PayloadScanner {
    /// A JSON value other than an object or array, as a row's column: a text is a range of the
    /// bytes read, or its bytes decoded when it holds an escape.
    enum Scalar {
        case null
        case integer(Int64)
        case real(Double)
        case text(Range<Int>)
        case escaped([UInt8])

        /// The value in its one form in a format 2 payload; `bytes`, the bytes the scanner read.
        func encode(_ bytes: UnsafeRawBufferPointer, into encoder: inout CompactPayloadEncoder) {
            switch self {
            case .null: encoder.null()
            case .integer(let number): encoder.integer(number)
            case .real(let number): encoder.real(number)
            case .text(let range): encoder.text(UnsafeRawBufferPointer(rebasing: bytes[range]))
            case .escaped(let text): text.withUnsafeBytes { encoder.text($0) }
            }
        }
    }

    /// `"key":`
    mutating func expectKey(_ key: StaticString) -> Bool {
        expect("\"") && expect(key) && expect("\":")
    }

    /// A JSON string, its bytes decoded and appended to `out`.
    mutating func text(into out: inout [UInt8]) -> Bool {
        switch scalar() {
        case .text(let range)?: out.append(contentsOf: bytes[range])
        case .escaped(let text)?: out.append(contentsOf: text)
        default: return false
        }
        return true
    }

    /// `null`, a number (a real when it has a fraction or an exponent) or a string.
    mutating func scalar() -> Scalar? {
        guard position < bytes.count else { return nil }
        switch bytes[position] {
        case UInt8(ascii: "n"): return expect("null") ? .null : nil
        case UInt8(ascii: "\""):
            let start = position
            guard skipString() else { return nil }
            let text = (start + 1)..<(position - 1)
            guard !text.isEmpty, memchr(bytes.baseAddress! + text.lowerBound, Int32(UInt8(ascii: "\\")), text.count) != nil else { return .text(text) }
            // An escape: the JSON parser decodes it (rare in a trail: texts a person typed).
            guard case .string(let decoded)? = JSONValue.parse(Array(bytes[start..<position])) else { return nil }
            return .escaped(Array(decoded.utf8))
        default:
            let start = position
            while position < bytes.count, Self.isNumberByte(bytes[position]) { position += 1 }
            let number = bytes[start..<position]
            guard !number.isEmpty else { return nil }
            if !number.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                var parsed: Int64 = 0
                let negative = number.first == UInt8(ascii: "-")
                let digits = number.dropFirst(negative ? 1 : 0)
                guard !digits.isEmpty else { return nil }
                for digit in digits {
                    guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
                    let (times10, overflow) = parsed.multipliedReportingOverflow(by: 10)
                    let (next, carry) = negative ? times10.subtractingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
                                                 : times10.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
                    guard !overflow, !carry else { return nil }
                    parsed = next
                }
                return .integer(parsed)
            }
            return Double(String(decoding: number, as: UTF8.self)).map(Scalar.real)
        }
    }

    /// A byte of a JSON number: a digit, a sign, a point or an exponent's `e`.
    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): true
        default: false
        }
    }
}
