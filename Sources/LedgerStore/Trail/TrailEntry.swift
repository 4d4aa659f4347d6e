import Crypto
internal import GRDB
import LedgerCore

/// The trail's last entry: what the next one chains to.
package struct TrailHead: Equatable {
    package let seq: Int64
    /// Hex, whichever format stored it.
    package let hash: String

    package static func read(_ sql: LedgerSQL) throws -> TrailHead? {
        try sql.row("SELECT seq, \(TrailEntry.hexHash("hash")) FROM audit_trail ORDER BY seq DESC LIMIT 1").map { TrailHead(seq: $0[0], hash: $0[1]) }
    }

    /// The hash of entry `seq` in hex, nil when there is none.
    package static func hash(at seq: Int64, _ sql: LedgerSQL) throws -> String? {
        try sql.value(String.self, "SELECT \(TrailEntry.hexHash("hash")) FROM audit_trail WHERE seq = ?", [seq])
    }
}

/// One entry of the tamper-evident trail, in either of its formats.
///
/// Format 1 (ledgers before schema 6): `payload` is JSON text holding every touched row's full
/// image, `prev_hash` and `hash` hex text, and `hash = SHA-256(prev_hash ‖ canonical)` where
/// `canonical` is the JSON array `[seq,"recorded_at","actor","action","subject",payload]`.
///
/// Format 2: `payload` is the compact bytes of `CompactTrail`, `hash` 32 bytes, `prev_hash` NULL
/// (the link is the previous entry's hash, stored once, there), and `hash = SHA-256(0x02 ‖ the
/// previous entry's 32-byte hash ‖ varint(seq) ‖ recorded_at ‖ actor ‖ action ‖ subject ‖
/// payload)`, each of the four texts preceded by its length in bytes as a varint.
public struct TrailEntry: PositionalRecord, Sendable {
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The table's columns in order.
    package static let columns = ["seq", "recorded_at", "actor", "action", "subject", "payload", "prev_hash", "hash"]

    /// What `init(columns:)` reads: the columns with both hashes in hex (a format 2 entry's
    /// `prev_hash` is the entry before's hash), then the entry's format, 1 or 2.
    package static func selectSQL(_ condition: String) -> String {
        """
        SELECT t.seq, t.recorded_at, t.actor, t.action, t.subject, t.payload,
               coalesce(t.prev_hash, (SELECT \(hexHash("p.hash")) FROM audit_trail p WHERE p.seq = t.seq - 1), '\(genesisHash)') AS prev_hash,
               \(hexHash("t.hash")) AS hash, CASE typeof(t.hash) WHEN 'blob' THEN 2 ELSE 1 END AS format
        FROM audit_trail t \(condition)
        """
    }

    /// SQL for a stored hash in hex, whichever format stored it.
    package static func hexHash(_ column: String) -> String {
        "CASE typeof(\(column)) WHEN 'blob' THEN lower(hex(\(column))) ELSE \(column) END"
    }

    public enum Format: Int, Sendable {
        case json = 1, compact = 2
    }

    public let seq: Int64
    public let recordedAt: String
    public let actor: String
    public let action: String
    public let subject: String
    public let format: Format
    /// Format 1: the JSON text's bytes; format 2: the compact bytes.
    public let payload: [UInt8]
    /// Hex, as every hash is shown.
    public let prevHash: String
    public var hash: String

    package init(seq: Int64, recordedAt: String, actor: String, action: String, subject: String, format: Format,
                 payload: [UInt8], prevHash: String) {
        self.seq = seq
        self.recordedAt = recordedAt
        self.actor = actor
        self.action = action
        self.subject = subject
        self.format = format
        self.payload = payload
        self.prevHash = prevHash
        self.hash = ""
        self.hash = computedHash
    }

    package init(columns row: RecordColumns) {
        // By position, as `selectSQL` reads them: `audit:trail` and exports decode every entry.
        seq = row[0]
        recordedAt = row[1]
        actor = row[2]
        action = row[3]
        subject = row[4]
        payload = row[5]
        prevHash = row[6]
        hash = row[7]
        format = (row[8] as Int) == 2 ? .compact : .json
    }

    /// The hash this entry's content and predecessor call for.
    package var computedHash: String {
        Hex.string(SHA256.hash(data: hashedBytes))
    }

    /// SHA-256 of a format 1 entry, from its stored columns: `prev_hash` then
    /// `[seq,"recorded_at","actor","action","subject",payload]`, in hex bytes (`audit:verify`
    /// passes the columns' bytes as SQLite holds them).
    package static func jsonHash(prevHash: UnsafeRawBufferPointer, seq: Int64, texts: [UnsafeRawBufferPointer],
                                 payload: UnsafeRawBufferPointer, scratch: inout [UInt8]) -> [UInt8] {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(UInt8(ascii: "["))
        JSONBytes.appendDecimal(seq, to: &scratch)
        for text in texts {
            scratch.append(UInt8(ascii: ","))
            JSONBytes.appendString(text, to: &scratch)
        }
        scratch.append(UInt8(ascii: ","))
        var hasher = SHA256Hasher()
        hasher.update(prevHash)
        hasher.update(scratch)
        hasher.update(payload)
        hasher.update(byte: UInt8(ascii: "]"))
        return hasher.finalize().withUnsafeBytes { Hex.bytes($0) }
    }

    /// SHA-256 of a format 2 entry, from its stored columns; `prevHash` is the previous entry's
    /// 32 bytes.
    package static func compactHash(prevHash: UnsafeRawBufferPointer, seq: Int64, texts: [UnsafeRawBufferPointer],
                                     payload: UnsafeRawBufferPointer, scratch: inout [UInt8]) -> SHA256Value {
        scratch.removeAll(keepingCapacity: true)
        appendCompactHeader(prevHash: prevHash, seq: seq, texts: texts, to: &scratch)
        var hasher = SHA256Hasher()
        hasher.update(scratch)
        hasher.update(payload)
        return hasher.finalize()
    }

    /// What a format 2 entry's hash covers before its payload.
    private static func appendCompactHeader(prevHash: some Collection<UInt8>, seq: Int64, texts: [UnsafeRawBufferPointer], to out: inout [UInt8]) {
        out.append(CompactTrail.formatTag)
        out.append(contentsOf: prevHash)
        CompactTrail.appendVarint(UInt64(seq), to: &out)
        for text in texts {
            CompactTrail.appendVarint(UInt64(text.count), to: &out)
            out.append(contentsOf: text)
        }
    }

    func insert(_ db: Database) throws {
        switch format {
        case .json:
            try db.cachedStatement(sql: Self.insertSQL).execute(binding: [
                .integer(seq), .text(recordedAt), .text(actor), .text(action), .text(subject),
                .text(String(decoding: payload, as: UTF8.self)), .text(prevHash), .text(hash),
            ])
        case .compact:
            try db.cachedStatement(sql: Self.insertSQL).execute(binding: [
                .integer(seq), .text(recordedAt), .text(actor), .text(action), .text(subject), .blob(payload), .null,
                .blob(Hex.decode(hash) ?? []),
            ])
        }
    }

    private static let insertSQL = "INSERT INTO audit_trail (\(columns.joined(separator: ", "))) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

    /// The payload as JSON: format 1's as stored, format 2's decoded (`CompactPayloadJSON`);
    /// nil for a format 2 payload that does not decode (only a tampered one).
    public var payloadJSON: JSONValue? {
        switch format {
        case .json: return .raw(String(decoding: payload, as: UTF8.self))
        case .compact: return CompactPayloadJSON.render(payload, recordedAt: recordedAt, actor: actor)
        }
    }

    /// The payload as a JSON value, parsed (format 1) or decoded (format 2); nil when it is neither.
    public var parsedPayload: JSONValue? {
        switch format {
        case .json: return JSONValue.parse(payload)
        case .compact: return payloadJSON
        }
    }

    /// The entry as `audit:trail --json` prints it, the payload as the object it is.
    public var json: JSONValue {
        .object([
            ("seq", .int(seq)), ("recorded_at", .string(recordedAt)), ("actor", .string(actor)),
            ("action", .string(action)), ("subject", .string(subject)), ("payload", payloadJSON ?? .null),
            ("prev_hash", .string(prevHash)), ("hash", .string(hash)), ("format", .int(Int64(format.rawValue))),
        ])
    }
}

extension [UInt8]: ColumnValue {
    static func decode(_ value: RowValue) -> [UInt8]? { String.decode(value).map { Array($0.utf8) } }

    static func decode(_ row: Row, _ index: Int) -> [UInt8] {
        switch (row[index] as DatabaseValue).storage {
        case .string(let text): Array(text.utf8)
        case .blob(let data): Array(data)
        default: []
        }
    }

    static func decode(_ columns: RawColumns, _ index: Int32) -> [UInt8]? {
        switch columns.kind(index) {
        case .text: Array(columns.text(index))
        case .blob: Array(columns.blob(index))
        default: nil
        }
    }
}

extension TrailEntry {
    /// The bytes the entry's hash covers. Format 1: `prev_hash` (hex) then the canonical JSON
    /// array; format 2: 0x02, the previous hash's 32 bytes, then as `compactHash` says.
    public var hashedBytes: [UInt8] {
        switch format {
        case .json:
            var canonical: [UInt8] = [UInt8(ascii: "[")]
            JSONBytes.appendDecimal(seq, to: &canonical)
            for text in [recordedAt, actor, action, subject] {
                canonical.append(UInt8(ascii: ","))
                JSONBytes.appendString(text.utf8, to: &canonical)
            }
            return Array(prevHash.utf8) + canonical + [UInt8(ascii: ",")] + payload + [UInt8(ascii: "]")]
        case .compact:
            var bytes: [UInt8] = []
            let texts = [recordedAt, actor, action, subject].map { Array($0.utf8) }
            texts[0].withUnsafeBytes { t0 in texts[1].withUnsafeBytes { t1 in texts[2].withUnsafeBytes { t2 in texts[3].withUnsafeBytes { t3 in
                Self.appendCompactHeader(prevHash: Hex.decode(prevHash) ?? [], seq: seq, texts: [t0, t1, t2, t3], to: &bytes)
            } } } }
            return bytes + payload
        }
    }

    /// The entry whose hashed bytes these are (as a proof carries them), its hash their SHA-256;
    /// nil when they are not the bytes of an entry of either format.
    public init?(hashedBytes bytes: [UInt8]) {
        if bytes.first == CompactTrail.formatTag {
            self.init(compactHashedBytes: bytes)
        } else {
            self.init(jsonHashedBytes: bytes)
        }
        guard hashedBytes == bytes else { return nil }
    }

    private init?(jsonHashedBytes bytes: [UInt8]) {
        guard bytes.count > 66, bytes[64] == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]"),
              case .array(let fields)? = JSONValue.parse(Array(bytes[64...])), fields.count == 6,
              case .int(let seq) = fields[0], case .string(let recordedAt) = fields[1], case .string(let actor) = fields[2],
              case .string(let action) = fields[3], case .string(let subject) = fields[4] else { return nil }
        let prevHash = String(decoding: bytes[..<64], as: UTF8.self)
        // The payload is the array's last element as it stands in the bytes, not as re-encoded.
        let prefix = TrailEntry(seq: seq, recordedAt: recordedAt, actor: actor, action: action, subject: subject, format: .json,
                                payload: [], prevHash: prevHash)
        let payloadStart = prefix.hashedBytes.count - 1
        guard payloadStart < bytes.count - 1, Array(bytes[..<payloadStart]) == Array(prefix.hashedBytes.dropLast()) else { return nil }
        self.init(seq: seq, recordedAt: recordedAt, actor: actor, action: action, subject: subject, format: .json,
                  payload: Array(bytes[payloadStart..<(bytes.count - 1)]), prevHash: prevHash)
    }

    private init?(compactHashedBytes bytes: [UInt8]) {
        let read: (seq: UInt64, texts: [String], end: Int)? = bytes.withUnsafeBytes { bytes in
            guard bytes.count > 33 else { return nil }
            var reader = ByteReader(bytes, from: 33)
            var texts: [String] = []
            guard let seq = reader.varint() else { return nil }
            for _ in 0..<4 {
                guard let text = reader.lengthAndBytes() else { return nil }
                texts.append(String(decoding: text, as: UTF8.self))
            }
            return (seq, texts, reader.position)
        }
        guard let read, read.seq >= 1, read.seq <= UInt64(Int64.max) else { return nil }
        // The caller checks the bytes round-trip: overlong varints and invalid UTF-8 do not.
        self.init(seq: Int64(read.seq), recordedAt: read.texts[0], actor: read.texts[1], action: read.texts[2], subject: read.texts[3],
                  format: .compact, payload: Array(bytes[read.end...]), prevHash: Hex.string(bytes[1..<33]))
    }
}
