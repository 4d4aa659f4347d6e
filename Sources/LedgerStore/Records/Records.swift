import LedgerCore
import GRDB
import GRDBSQLite

extension Timestamp: DatabaseValueConvertible, StatementColumnConvertible {
    public var databaseValue: DatabaseValue { storageText.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Timestamp? {
        String.fromDatabaseValue(dbValue).flatMap(Timestamp.init(iso:))
    }

    /// Parsed from the column's bytes: no String is made on the way.
    public init?(sqliteStatement: SQLiteStatement, index: CInt) {
        guard let text = sqlite3_column_text(sqliteStatement, index) else { return nil }
        self.init(iso: UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(sqliteStatement, index))))
    }
}

// Records decode `SELECT *` rows by position, in table order (a migration may only append
// columns): name look-ups were a tenth of the engine's time.

/// A row read by column position. Records decode through it from GRDB's `Row`, and straight
/// from the statement where a command reads one row at a time (`Statement.fetchFirst`): GRDB
/// builds a dictionary of the column names for every fetch, a tenth of a one-row read.
package protocol ColumnReader {
    subscript<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ index: Int) -> Value { get }
}

/// A GRDB row (records fetched through GRDB's cursors).
package struct RowColumns: ColumnReader {
    package let row: Row

    package subscript<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ index: Int) -> Value { row[index] }
}

/// The row a raw SQLite statement is on.
package struct StatementColumns: ColumnReader {
    package let sqliteStatement: SQLiteStatement

    package subscript<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ index: Int) -> Value {
        // As GRDB's `row[index]`: the schema's types are trusted, a mismatch is a bug.
        guard let value = Value.fromStatement(sqliteStatement, atUncheckedIndex: CInt(index)) else {
            preconditionFailure("column \(index) does not hold a \(Value.self)")
        }
        return value
    }
}

/// A record of one table, decoded from `SELECT *` by position.
package protocol PositionalRecord: FetchableRecord {
    init(columns: some ColumnReader)
}

extension PositionalRecord {
    public init(row: Row) { self.init(columns: RowColumns(row: row)) }
}

extension Statement {
    /// The first row the statement finds, decoded straight from SQLite; nil when it finds none.
    package func fetchFirst<Record: PositionalRecord>(_ type: Record.Type, arguments: StatementArguments) throws -> Record? {
        try fetchFirst(arguments: arguments, Record.init(columns:))
    }

    /// The first row the statement finds, as `decode` reads it while the statement is on it.
    package func fetchFirst<Result>(arguments: StatementArguments, _ decode: (StatementColumns) throws -> Result) throws -> Result? {
        assert((try? validateArguments(arguments)) != nil, "\(arguments) do not fit \(sql)")
        setUncheckedArguments(arguments)
        let sqlite = sqliteStatement
        defer { sqlite3_reset(sqlite) }
        switch sqlite3_step(sqlite) {
        case SQLITE_ROW: return try decode(StatementColumns(sqliteStatement: sqlite))
        case SQLITE_DONE: return nil
        case let code: throw DatabaseError.last(code, of: self)
        }
    }
}

extension DatabaseError {
    /// The error SQLite reports for `statement`'s last call (read before the statement is reset).
    package static func last(_ code: Int32, of statement: Statement) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(statement.sqliteStatement))),
                      sql: statement.sql)
    }
}

public struct AppRecord: PositionalRecord, Sendable {
    public let id: Int64
    public let uuid: String
    public let name: String
    public let maintenanceMode: Bool

    package init(columns row: some ColumnReader) {
        id = row[0]
        uuid = row[1]
        name = row[2]
        maintenanceMode = row[3]
    }

    package static func named(_ name: String, _ db: Database) throws -> AppRecord {
        guard let app = try db.cachedStatement(sql: "SELECT * FROM apps WHERE name = ?").fetchFirst(AppRecord.self, arguments: [name]) else {
            throw LedgerError.notFound("Couldn't find that app: \(name)", hint: "Create it with `maintledger apps:create \(name)`.")
        }
        return app
    }

    package static func withID(_ id: Int64, _ db: Database) throws -> AppRecord {
        try db.cachedStatement(sql: "SELECT * FROM apps WHERE id = ?").fetchFirst(AppRecord.self, arguments: [id])!
    }
}

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

    package init(columns row: some ColumnReader) {
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

    package static func withID(_ id: Int64, _ db: Database) throws -> AddonRecord {
        try db.cachedStatement(sql: "SELECT * FROM addons WHERE id = ?").fetchFirst(AddonRecord.self, arguments: [id])!
    }

    /// The window in force now, or nil on plans without one.
    package func currentWindow(_ db: Database) throws -> WindowRecord? {
        try db.cachedStatement(sql: "SELECT * FROM windows WHERE addon_id = ? ORDER BY id DESC LIMIT 1").fetchFirst(WindowRecord.self, arguments: [id])
    }

    /// The window in force at `time` (the newest set by then).
    package func window(at time: Timestamp, _ db: Database) throws -> WindowRecord? {
        try db.cachedStatement(sql: """
            SELECT * FROM windows WHERE addon_id = ? AND set_at <= ? ORDER BY id DESC LIMIT 1
            """).fetchFirst(WindowRecord.self, arguments: [id, time])
    }

    /// The maintenance still under way (pending through running), if any. Found through the
    /// index that keeps it unique: one probe, where `status IN (…)` made SQLite probe four times
    /// (the condition repeats the index's own, which SQLite requires to use it).
    package func openMaintenance(_ db: Database) throws -> MaintenanceRecord? {
        try db.cachedStatement(sql: """
            SELECT * FROM maintenances INDEXED BY maintenances_one_open
            WHERE addon_id = ? AND (status = 'pending' OR status = 'preparing' OR status = 'ready' OR status = 'running')
            """).fetchFirst(MaintenanceRecord.self, arguments: [id])
    }

    /// When its last maintenance completed, if one ever did.
    package func lastCompletion(_ db: Database) throws -> Timestamp? {
        try Timestamp.fetchOne(db.cachedStatement(sql: "SELECT max(completed_at) FROM maintenances WHERE addon_id = ? AND status = 'completed'"),
                               arguments: [id])
    }

    /// The newest maintenance, open or not.
    package func latestMaintenance(_ db: Database) throws -> MaintenanceRecord? {
        try db.cachedStatement(sql: """
            SELECT * FROM maintenances WHERE addon_id = ? ORDER BY created_at DESC, id DESC LIMIT 1
            """).fetchFirst(MaintenanceRecord.self, arguments: [id])
    }
}

public struct WindowRecord: PositionalRecord, Sendable {
    public let id: Int64
    public let window: WeeklyWindow
    public let source: String
    public let setAt: Timestamp
    public let setBy: String

    package init(columns row: some ColumnReader) {
        id = row[0]
        window = WeeklyWindow(dayOfWeek: row[2], startMinute: row[3])
        source = row[5]
        setAt = row[6]
        setBy = row[7]
    }
}

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

    package init(columns row: some ColumnReader) {
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
    package func lastChangeAt(_ db: Database) throws -> Timestamp {
        // max() gives one row, NULL before the first change.
        let latest: Timestamp? = try db.cachedStatement(sql: "SELECT max(changed_at) FROM maintenance_status_changes WHERE maintenance_id = ?")
            .fetchFirst(arguments: [id]) { columns -> Timestamp? in columns[0] } ?? nil
        return latest ?? createdAt
    }
}
