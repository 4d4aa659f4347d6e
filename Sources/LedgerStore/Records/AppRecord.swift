import LedgerCore

/// A row of `apps`.
public struct AppRecord: PositionalRecord, Sendable {
    public let id: Int64
    public let uuid: String
    public let name: String
    public let maintenanceMode: Bool

    package init(columns row: RecordColumns) {
        id = row[0]
        uuid = row[1]
        name = row[2]
        maintenanceMode = row[3]
    }

    /// The app of that name, if there is one.
    package static func find(named name: String, _ sql: LedgerSQL) throws -> AppRecord? {
        try sql.one(AppRecord.self, "SELECT * FROM apps WHERE name = ?", [name])
    }

    /// The app of that uuid, if there is one.
    package static func find(uuid: String, _ sql: LedgerSQL) throws -> AppRecord? {
        try sql.one(AppRecord.self, "SELECT * FROM apps WHERE uuid = ?", [uuid])
    }

    /// The apps of those names that there are.
    package static func find(named names: [String], _ sql: LedgerSQL) throws -> [AppRecord] {
        try sql.all(AppRecord.self, from: .apps, where: "name", in: names)
    }

    package static func withID(_ id: Int64, _ sql: LedgerSQL) throws -> AppRecord {
        try sql.one(AppRecord.self, "SELECT * FROM apps WHERE id = ?", [id])!
    }
}
