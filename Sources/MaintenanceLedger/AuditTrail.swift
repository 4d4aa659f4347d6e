import Crypto
import GRDB

/// One entry of the tamper-evident trail.
///
/// `hash = SHA-256(prev_hash ‖ canonical)` where `prev_hash` is the previous entry's hex hash
/// (64 zeros for the first) and `canonical` is the JSON array
/// `[seq,"recorded_at","actor","action","subject",payload]` with `payload` as stored.
public struct TrailEntry: Sendable, FetchableRecord {
    public static let genesisHash = String(repeating: "0", count: 64)

    public let seq: Int64
    public let recordedAt: String
    public let actor: String
    public let action: String
    public let subject: String
    public let payload: String
    public let prevHash: String
    public var hash: String

    init(seq: Int64, recordedAt: String, actor: String, action: String, subject: String, payload: String, prevHash: String) {
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

    public init(row: Row) {
        seq = row["seq"]
        recordedAt = row["recorded_at"]
        actor = row["actor"]
        action = row["action"]
        subject = row["subject"]
        payload = row["payload"]
        prevHash = row["prev_hash"]
        hash = row["hash"]
    }

    var canonicalContent: String {
        let fields: [JSONValue] = [.int(seq), .string(recordedAt), .string(actor), .string(action), .string(subject)]
        return "[" + fields.map(\.compactText).joined(separator: ",") + "," + payload + "]"
    }

    /// The hash this entry's content and predecessor call for.
    var computedHash: String {
        var hasher = SHA256()
        hasher.update(data: Array(prevHash.utf8))
        hasher.update(data: Array(canonicalContent.utf8))
        return hasher.finalize().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    func insert(_ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO audit_trail (seq, recorded_at, actor, action, subject, payload, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [seq, recordedAt, actor, action, subject, payload, prevHash, hash])
    }

    /// The last entry's sequence number and hash (what the next entry chains to).
    static func head(_ db: Database) throws -> (seq: Int64, hash: String)? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit_trail ORDER BY seq DESC LIMIT 1")).map { ($0[0], $0[1]) }
    }

    /// The entry as `audit:trail --json` prints it, the payload as the object it is.
    public var json: JSONValue {
        .object([
            ("seq", .int(seq)), ("recorded_at", .string(recordedAt)), ("actor", .string(actor)),
            ("action", .string(action)), ("subject", .string(subject)), ("payload", .raw(payload)),
            ("prev_hash", .string(prevHash)), ("hash", .string(hash)),
        ])
    }
}
