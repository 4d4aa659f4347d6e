import Crypto
internal import GRDB
import LedgerCore

/// The trail's last entry: what the next one chains to.
package struct TrailHead: Equatable {
    package let seq: Int64
    package let hash: String

    package static func read(_ sql: LedgerSQL) throws -> TrailHead? {
        try sql.row("SELECT seq, hash FROM audit_trail ORDER BY seq DESC LIMIT 1").map { TrailHead(seq: $0[0], hash: $0[1]) }
    }
}

/// One entry of the tamper-evident trail.
///
/// `hash = SHA-256(prev_hash ‖ canonical)` where `prev_hash` is the previous entry's hex hash
/// (64 zeros for the first) and `canonical` is the JSON array
/// `[seq,"recorded_at","actor","action","subject",payload]` with `payload` as stored.
public struct TrailEntry: PositionalRecord, Sendable {
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The table's columns in order, as `init(columns:)` reads them.
    package static let columns = ["seq", "recorded_at", "actor", "action", "subject", "payload", "prev_hash", "hash"]

    public let seq: Int64
    public let recordedAt: String
    public let actor: String
    public let action: String
    public let subject: String
    public let payload: String
    public let prevHash: String
    public var hash: String

    package init(seq: Int64, recordedAt: String, actor: String, action: String, subject: String, payload: String, prevHash: String) {
        self.seq = seq
        self.recordedAt = recordedAt
        self.actor = actor
        self.action = action
        self.subject = subject
        self.payload = payload
        self.prevHash = prevHash
        self.hash = ""
        self.hash = computedHash
    }

    package init(columns row: RecordColumns) {
        // By position, in table order: `audit:trail` and exports decode every entry.
        seq = row[0]
        recordedAt = row[1]
        actor = row[2]
        action = row[3]
        subject = row[4]
        payload = row[5]
        prevHash = row[6]
        hash = row[7]
    }

    /// The hash this entry's content and predecessor call for.
    package var computedHash: String {
        var scratch: [UInt8] = []
        let hash = Array(prevHash.utf8).withUnsafeBytes { prevHash in
            Array(payload.utf8).withUnsafeBytes { payload in
                Self.hash(prevHash: prevHash, seq: seq, texts: [recordedAt.utf8, actor.utf8, action.utf8, subject.utf8],
                          payload: payload, scratch: &scratch)
            }
        }
        return String(decoding: hash, as: UTF8.self)
    }

    /// SHA-256 of `prev_hash` then `[seq,"recorded_at","actor","action","subject",payload]`, as
    /// hex bytes, from the stored columns (`audit:verify` passes their bytes as SQLite holds them).
    @inlinable package static func hash<Text: Collection<UInt8>>(prevHash: UnsafeRawBufferPointer, seq: Int64, texts: [Text],
                                              payload: UnsafeRawBufferPointer, scratch: inout [UInt8]) -> [UInt8] {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(UInt8(ascii: "["))
        JSONBytes.appendDecimal(seq, to: &scratch)
        for text in texts {
            scratch.append(UInt8(ascii: ","))
            JSONBytes.appendString(text, to: &scratch)
        }
        scratch.append(UInt8(ascii: ","))
        var hasher = SHA256()
        hasher.update(bufferPointer: prevHash)
        scratch.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: payload)
        withUnsafeBytes(of: UInt8(ascii: "]")) { hasher.update(bufferPointer: $0) }
        return Hex.bytes(hasher.finalize())
    }

    func insert(_ db: Database) throws {
        try db.cachedStatement(sql: Self.insertSQL).execute(arguments: [seq, recordedAt, actor, action, subject, payload, prevHash, hash])
    }

    private static let insertSQL = "INSERT INTO audit_trail (\(columns.joined(separator: ", "))) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

    /// The entry as `audit:trail --json` prints it, the payload as the object it is.
    public var json: JSONValue {
        .object([
            ("seq", .int(seq)), ("recorded_at", .string(recordedAt)), ("actor", .string(actor)),
            ("action", .string(action)), ("subject", .string(subject)), ("payload", .raw(payload)),
            ("prev_hash", .string(prevHash)), ("hash", .string(hash)),
        ])
    }
}


extension TrailEntry {
    /// The bytes the entry's hash covers: `prev_hash` then the canonical JSON array.
    public var hashedBytes: [UInt8] {
        var canonical: [UInt8] = [UInt8(ascii: "[")]
        JSONBytes.appendDecimal(seq, to: &canonical)
        for text in [recordedAt, actor, action, subject] {
            canonical.append(UInt8(ascii: ","))
            JSONBytes.appendString(text.utf8, to: &canonical)
        }
        return Array(prevHash.utf8) + canonical + [UInt8(ascii: ",")] + Array(payload.utf8) + [UInt8(ascii: "]")]
    }

    /// The entry whose hashed bytes these are (as a proof carries them), its hash their SHA-256;
    /// nil when they are not a prev_hash and a canonical array.
    public init?(hashedBytes bytes: [UInt8]) {
        guard bytes.count > 66, bytes[64] == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]"),
              case .array(let fields)? = JSONValue.parse(Array(bytes[64...])), fields.count == 6,
              case .int(let seq) = fields[0], case .string(let recordedAt) = fields[1], case .string(let actor) = fields[2],
              case .string(let action) = fields[3], case .string(let subject) = fields[4] else { return nil }
        let prevHash = String(decoding: bytes[..<64], as: UTF8.self)
        // The payload is the array's last element as it stands in the bytes, not as re-encoded.
        let prefix = TrailEntry(seq: seq, recordedAt: recordedAt, actor: actor, action: action, subject: subject, payload: "", prevHash: prevHash)
        let payloadStart = prefix.hashedBytes.count - 1
        guard payloadStart < bytes.count - 1, Array(bytes[..<payloadStart]) == Array(prefix.hashedBytes.dropLast()) else { return nil }
        self.init(seq: seq, recordedAt: recordedAt, actor: actor, action: action, subject: subject,
                  payload: String(decoding: bytes[payloadStart..<(bytes.count - 1)], as: UTF8.self), prevHash: prevHash)
        guard hashedBytes == bytes else { return nil }
    }
}
