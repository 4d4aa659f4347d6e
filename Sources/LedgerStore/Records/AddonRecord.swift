import LedgerCore

/// A row of `addons`.
public struct AddonRecord: PositionalRecord, Sendable {
    public let id: Int64
    public let uuid: String
    public let name: String
    public let plan: Plan
    public let description: String?
    public let appID: Int64
    public package(set) var serverCreatedAt: Timestamp
    public let provisionedAt: Timestamp
    public let deprovisionedAt: Timestamp?

    package init(columns row: RecordColumns) {
        id = row[0]
        uuid = row[1]
        name = row[2]
        // The schema only holds plans that parsed when they were recorded.
        plan = Plan(stored: row[4], service: Service(rawValue: row[3])!)
        description = row[5]
        appID = row[6]
        serverCreatedAt = row[7]
        provisionedAt = row[8]
        deprovisionedAt = row[9]
    }

    public var service: Service { plan.service }
    public var isLive: Bool { deprovisionedAt == nil }

    /// The add-on of that name, if there is one (names are unique, destroyed add-ons' too).
    package static func find(named name: String, _ sql: LedgerSQL) throws -> AddonRecord? {
        try sql.one(AddonRecord.self, "SELECT * FROM addons WHERE name = ?", [name])
    }

    /// The add-on of that uuid, if there is one.
    package static func find(uuid: String, _ sql: LedgerSQL) throws -> AddonRecord? {
        try sql.one(AddonRecord.self, "SELECT * FROM addons WHERE uuid = ?", [uuid])
    }

    /// The add-ons of those names that there are.
    package static func find(named names: [String], _ sql: LedgerSQL) throws -> [AddonRecord] {
        try sql.all(AddonRecord.self, from: .addons, where: "name", in: names)
    }

    package static func withID(_ id: Int64, _ sql: LedgerSQL) throws -> AddonRecord {
        try sql.one(AddonRecord.self, "SELECT * FROM addons WHERE id = ?", [id])!
    }

    /// The window in force now, or nil on plans without one.
    package func currentWindow(_ sql: LedgerSQL) throws -> WindowRecord? {
        try sql.one(WindowRecord.self, "SELECT * FROM windows WHERE addon_id = ? ORDER BY id DESC LIMIT 1", [id])
    }

    /// The window in force at `time` (the newest set by then).
    package func window(at time: Timestamp, _ sql: LedgerSQL) throws -> WindowRecord? {
        try sql.one(WindowRecord.self, """
            SELECT * FROM windows WHERE addon_id = ? AND set_at <= ? ORDER BY id DESC LIMIT 1
            """, [id, time])
    }

    /// The maintenance still under way (pending through running), if any. Found through the
    /// index that keeps it unique: one probe, where `status IN (…)` made SQLite probe four times
    /// (the condition repeats the index's own, which SQLite requires to use it).
    package func openMaintenance(_ sql: LedgerSQL) throws -> MaintenanceRecord? {
        try sql.one(MaintenanceRecord.self, Self.openMaintenanceSQL, [id])
    }

    static let openMaintenanceSQL = """
        SELECT * FROM maintenances INDEXED BY maintenances_one_open
        WHERE addon_id = ? AND (\(MaintenanceStatus.open.map { "status = \($0.sql)" }.joined(separator: " OR ")))
        """

    /// When its last maintenance completed, if one ever did.
    package func lastCompletion(_ sql: LedgerSQL) throws -> Timestamp? {
        try sql.value(Timestamp.self, Self.lastCompletionSQL, [id])
    }

    static let lastCompletionSQL = "SELECT max(completed_at) FROM maintenances WHERE addon_id = ? AND status = \(MaintenanceStatus.completed.sql)"

    /// The newest maintenance, open or not.
    package func latestMaintenance(_ sql: LedgerSQL) throws -> MaintenanceRecord? {
        try sql.one(MaintenanceRecord.self, Self.latestMaintenanceSQL, [id])
    }

    static let latestMaintenanceSQL = "SELECT * FROM maintenances WHERE addon_id = ? ORDER BY created_at DESC, id DESC LIMIT 1"
}
