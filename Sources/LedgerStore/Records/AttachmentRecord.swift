import LedgerCore

/// A row of `attachments`: an app's config var naming an add-on, live until detached.
package struct AttachmentRecord: PositionalRecord, Sendable {
    package let id: Int64
    package let appID: Int64
    package let addonID: Int64
    package let name: String
    package let attachedAt: Timestamp
    package let detachedAt: Timestamp?

    package init(columns row: RecordColumns) {
        id = row[0]
        appID = row[1]
        addonID = row[2]
        name = row[3]
        attachedAt = row[4]
        detachedAt = row[5]
    }

    /// The live attachments of those apps.
    package static func live(ofApps apps: [Int64], _ sql: LedgerSQL) throws -> [AttachmentRecord] {
        try sql.all(AttachmentRecord.self, from: .attachments, where: "app_id", in: apps).filter { $0.detachedAt == nil }
    }

    /// The live attachments of those add-ons.
    package static func live(ofAddons addons: [Int64], _ sql: LedgerSQL) throws -> [AttachmentRecord] {
        try sql.all(AttachmentRecord.self, from: .attachments, where: "addon_id", in: addons).filter { $0.detachedAt == nil }
    }
}
