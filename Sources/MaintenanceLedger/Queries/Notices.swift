import LedgerCore
import LedgerStore

/// An upcoming-maintenance notice: what the seed's email tells a customer.
public struct Notice: Sendable {
    public let seq: Int64
    public let kind: String
    public let app: String
    public let addon: String
    /// A JSON array, as stored.
    public let attachments: String
    /// The same names joined by ", ", for tables.
    public let attachmentList: String
    public let window: String?
    public let scheduledFor: Timestamp
    public let requiredBy: Timestamp
    public let createdAt: Timestamp
    public let maintenanceUUID: String

    init(row: SQLRow) {
        seq = row["id"]
        kind = row["kind"]
        app = row["app"]
        addon = row["addon"]
        attachments = row["attachments"]
        attachmentList = row["attachment_list"] ?? ""
        window = row["window"]
        scheduledFor = row["scheduled_for"]
        requiredBy = row["required_by"]
        createdAt = row["created_at"]
        maintenanceUUID = row["maintenance_uuid"]
    }

    public var json: JSONValue {
        .object([
            ("seq", .int(seq)), ("kind", .string(kind)), ("app", .string(app)), ("addon", .string(addon)),
            ("attachments", .raw(attachments)), ("window", .optional(window)),
            ("scheduled_for", .string(scheduledFor.isoText)), ("required_by", .string(requiredBy.isoText)),
            ("created_at", .string(createdAt.isoText)), ("maintenance_uuid", .string(maintenanceUUID)),
        ])
    }
}

extension LedgerQuerying {
    /// `notices [--since-seq N]`: the notices after N, oldest first, one at a time (memory stays flat).
    public func notices(sinceSeq: Int64, _ body: (Notice) throws -> Void) throws {
        try reader.read { db in
            try db.rows("""
                SELECT notices.*, maintenances.uuid AS maintenance_uuid,
                       (SELECT group_concat(value, ', ') FROM json_each(notices.attachments)) AS attachment_list
                FROM notices JOIN maintenances ON maintenances.id = notices.maintenance_id
                WHERE notices.id > ? ORDER BY notices.id
                """, [sinceSeq]) { row in try body(Notice(row: row)) }
        }
    }
}
