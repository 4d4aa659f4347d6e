internal import GRDB
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

    package static func named(_ name: String, _ sql: LedgerSQL) throws -> AppRecord {
        guard let app = try sql.one(AppRecord.self, "SELECT * FROM apps WHERE name = ?", [name]) else {
            throw LedgerError.notFound("Couldn't find that app: \(name)", hint: "Create it with `maintledger apps:create \(name)`.")
        }
        return app
    }

    package static func withID(_ id: Int64, _ sql: LedgerSQL) throws -> AppRecord {
        try sql.one(AppRecord.self, "SELECT * FROM apps WHERE id = ?", [id])!
    }
}
