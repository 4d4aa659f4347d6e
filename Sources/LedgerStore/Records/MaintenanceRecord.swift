internal import GRDB
import LedgerCore

/// A row of `maintenances`.
public struct MaintenanceRecord: PositionalRecord, Sendable {
    public let id: Int64
    public let uuid: String
    public let addonID: Int64
    public let status: MaintenanceStatus
    public let reason: MaintenanceReason
    public let method: MaintenanceMethod
    public let requiredBy: Timestamp
    public let scheduledFor: Timestamp?
    public let previouslyScheduledFor: Timestamp?
    public let window: String?
    public let outsideWindow: Bool
    public let startedAt: Timestamp?
    public let completedAt: Timestamp?
    public let durationSeconds: Int64?
    public let serverCreatedAt: Timestamp
    public let customerRequested: Bool
    public let emergency: Bool
    public let createdAt: Timestamp

    package init(columns row: RecordColumns) {
        id = row[0]
        uuid = row[1]
        addonID = row[2]
        status = MaintenanceStatus(rawValue: row[3])!
        reason = MaintenanceReason(rawValue: row[4])!
        method = MaintenanceMethod(rawValue: row[5])!
        requiredBy = row[6]
        scheduledFor = row[7]
        previouslyScheduledFor = row[8]
        window = row[9]
        outsideWindow = row[10]
        startedAt = row[11]
        completedAt = row[12]
        durationSeconds = row[13]
        serverCreatedAt = row[14]
        customerRequested = row[15]
        emergency = row[16]
        createdAt = row[17]
    }

    /// When its status last changed: no later change may be recorded before it.
    package func lastChangeAt(_ sql: LedgerSQL) throws -> Timestamp {
        // max() gives one row, NULL before the first change.
        let latest: Timestamp? = try sql.db.cachedStatement(sql: "SELECT max(changed_at) FROM maintenance_status_changes WHERE maintenance_id = ?")
            .fetchFirst(arguments: [id]) { Timestamp.decode($0, 0) } ?? nil
        return latest ?? createdAt
    }
}
