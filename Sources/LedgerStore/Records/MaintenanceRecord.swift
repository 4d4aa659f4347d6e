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

    /// The table's columns in order, as `init(columns:)` reads them: a query that stands in for
    /// the table (as-of) selects these.
    package static let columns = LedgerTable.maintenances.columns

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

    /// The maintenance of that uuid, if it is recorded.
    package static func find(uuid: String, _ sql: LedgerSQL) throws -> MaintenanceRecord? {
        try sql.one(MaintenanceRecord.self, "SELECT * FROM maintenances WHERE uuid = ?", [uuid])
    }

    /// The row `maintenance` was recorded as, under `id`.
    package init(id: Int64, _ maintenance: NewMaintenance) {
        self.id = id
        uuid = maintenance.uuid
        addonID = maintenance.addonID
        status = maintenance.status
        reason = maintenance.reason
        method = maintenance.method
        requiredBy = maintenance.requiredBy
        scheduledFor = maintenance.scheduledFor
        previouslyScheduledFor = maintenance.previouslyScheduledFor
        window = maintenance.window
        outsideWindow = maintenance.outsideWindow
        startedAt = maintenance.startedAt
        completedAt = maintenance.completedAt
        durationSeconds = maintenance.durationSeconds
        serverCreatedAt = maintenance.serverCreatedAt
        customerRequested = maintenance.customerRequested
        emergency = maintenance.emergency
        createdAt = maintenance.createdAt
    }

    /// When its status last changed: no later change may be recorded before it.
    package func lastChangeAt(_ sql: LedgerSQL) throws -> Timestamp {
        // max() gives one row, NULL before the first change.
        let latest: Timestamp? = try sql.db.cachedStatement(sql: "SELECT max(changed_at) FROM maintenance_status_changes WHERE maintenance_id = ?")
            .fetchFirst(arguments: [id]) { Timestamp.decode($0, 0) } ?? nil
        return latest ?? createdAt
    }
}

/// A maintenance to record: every column of its row but the id SQLite gives it.
package struct NewMaintenance: Equatable, Sendable {
    package var uuid: String
    package var addonID: Int64
    package var status: MaintenanceStatus
    package var reason: MaintenanceReason
    package var method: MaintenanceMethod
    package var requiredBy: Timestamp
    package var scheduledFor: Timestamp?
    package var previouslyScheduledFor: Timestamp?
    package var window: String?
    package var outsideWindow: Bool
    package var startedAt: Timestamp?
    package var completedAt: Timestamp?
    package var durationSeconds: Int64?
    package var serverCreatedAt: Timestamp
    package var customerRequested: Bool
    package var emergency: Bool
    package var createdAt: Timestamp

    package init(uuid: String, addonID: Int64, status: MaintenanceStatus, reason: MaintenanceReason, method: MaintenanceMethod,
                 requiredBy: Timestamp, scheduledFor: Timestamp?, previouslyScheduledFor: Timestamp? = nil, window: String?,
                 outsideWindow: Bool, startedAt: Timestamp? = nil, completedAt: Timestamp? = nil, durationSeconds: Int64? = nil,
                 serverCreatedAt: Timestamp, customerRequested: Bool, emergency: Bool, createdAt: Timestamp) {
        self.uuid = uuid
        self.addonID = addonID
        self.status = status
        self.reason = reason
        self.method = method
        self.requiredBy = requiredBy
        self.scheduledFor = scheduledFor
        self.previouslyScheduledFor = previouslyScheduledFor
        self.window = window
        self.outsideWindow = outsideWindow
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.durationSeconds = durationSeconds
        self.serverCreatedAt = serverCreatedAt
        self.customerRequested = customerRequested
        self.emergency = emergency
        self.createdAt = createdAt
    }

    /// The values a recorded maintenance holds.
    package init(_ recorded: MaintenanceRecord) {
        self.init(uuid: recorded.uuid, addonID: recorded.addonID, status: recorded.status, reason: recorded.reason, method: recorded.method,
                  requiredBy: recorded.requiredBy, scheduledFor: recorded.scheduledFor, previouslyScheduledFor: recorded.previouslyScheduledFor,
                  window: recorded.window, outsideWindow: recorded.outsideWindow, startedAt: recorded.startedAt,
                  completedAt: recorded.completedAt, durationSeconds: recorded.durationSeconds, serverCreatedAt: recorded.serverCreatedAt,
                  customerRequested: recorded.customerRequested, emergency: recorded.emergency, createdAt: recorded.createdAt)
    }
}

extension NewMaintenance {
    /// The position of `addon_id` in `row`.
    package static let addonColumn = MaintenanceRecord.columns.dropFirst().firstIndex(of: "addon_id")! - 1

    /// Its row's columns after id, named: the one place they are named for writing.
    package var row: KeyValuePairs<String, RowValue> {
        let m = self
        return [
            "uuid": RowValue(m.uuid), "addon_id": RowValue(m.addonID), "status": RowValue(m.status.rawValue),
            "reason": RowValue(m.reason.rawValue), "method": RowValue(m.method.rawValue), "required_by": RowValue(m.requiredBy),
            "scheduled_for": RowValue(m.scheduledFor), "previously_scheduled_for": RowValue(m.previouslyScheduledFor),
            "window": RowValue(m.window), "outside_window": RowValue(m.outsideWindow), "started_at": RowValue(m.startedAt),
            "completed_at": RowValue(m.completedAt), "duration_seconds": RowValue(m.durationSeconds),
            "server_created_at": RowValue(m.serverCreatedAt), "customer_requested": RowValue(m.customerRequested),
            "emergency": RowValue(m.emergency), "created_at": RowValue(m.createdAt),
        ]
    }
}

extension Mutation {
    /// Records a maintenance, given whole (no read-back): the record returned is the values given.
    @discardableResult
    package func insert(_ maintenance: NewMaintenance) throws -> MaintenanceRecord {
        MaintenanceRecord(id: try insert(.maintenances, row: maintenance.row), maintenance)
    }

    /// Sets columns of a maintenance the command holds as it stands (`update(_:id:from:set:)`:
    /// refused if it no longer is); returns it as changed.
    package func update(_ maintenance: MaintenanceRecord, set: KeyValuePairs<String, RowValue>) throws -> MaintenanceRecord {
        let after = try update(.maintenances, id: maintenance.id, from: NewMaintenance(maintenance).row.map(\.value), set: set)
        return MaintenanceRecord(columns: RecordColumns(id: maintenance.id, values: after))
    }
}
