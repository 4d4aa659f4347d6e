import GRDB

/// The tables whose every row is described by the audit trail.
public enum LedgerTable: String, CaseIterable, Sendable {
    case apps, addons, attachments, windows, maintenances
    case maintenanceStatusChanges = "maintenance_status_changes"
    case notices
    case engineTicks = "engine_ticks"
}

/// One command's changes inside its transaction. Rows are written through `insert` and
/// `update`, which capture each row's full image afterwards; the images become the payload of
/// the command's single trail entry, which is what lets `audit:verify` compare tables and trail.
public final class Mutation {
    let db: Database
    public let context: LedgerContext
    /// Names, uuids and default windows come from here. Seeded runs stay reproducible command
    /// after command: the seed is mixed with the trail's length (read only when needed).
    lazy var random: SplitMix64 = {
        guard let seed = context.seed else {
            var system = SystemRandomNumberGenerator()
            return SplitMix64(seed: system.next())
        }
        let length = (try? Int64.fetchOne(db.cachedStatement(sql: "SELECT seq FROM audit_trail ORDER BY seq DESC LIMIT 1"))) ?? nil
        return SplitMix64(seed: seed &+ UInt64(length ?? 0) &* 0x9E37_79B9_7F4A_7C15)
    }()
    private var action = ""
    private var subject = ""
    private var changes: [JSONValue] = []

    init(db: Database, context: LedgerContext) {
        self.db = db
        self.context = context
    }

    /// Names the trail entry: the command and what it acted on (`addon:redis-lively-12345`).
    func describe(action: String, subject: String) {
        self.action = action
        self.subject = subject
    }

    @discardableResult
    func insert(_ table: LedgerTable, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>) throws -> Int64 {
        try insertRow(table, values)[0]
    }

    /// Inserts a row and returns it whole, as stored.
    func insertRow(_ table: LedgerTable, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>) throws -> Row {
        let columns = values.map(\.key)
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        try db.cachedStatement(sql: "INSERT INTO \(table.rawValue) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))")
            .execute(arguments: StatementArguments(values.map(\.value)))
        return try capture(table, id: db.lastInsertedRowID, operation: "insert")
    }

    /// Updates a row and returns it whole, as now stored.
    @discardableResult
    func update(_ table: LedgerTable, id: Int64, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>) throws -> Row {
        let assignments = values.map { "\($0.key) = ?" }.joined(separator: ", ")
        try db.cachedStatement(sql: "UPDATE \(table.rawValue) SET \(assignments) WHERE id = ?")
            .execute(arguments: StatementArguments(values.map(\.value) + [id]))
        return try capture(table, id: id, operation: "update")
    }

    /// Reads back the row just written, whole (defaults and all), for the trail. Not `RETURNING`:
    /// SQLite runs it as a trigger, which gives every statement its own journal (3× slower).
    private func capture(_ table: LedgerTable, id: Int64, operation: String) throws -> Row {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM \(table.rawValue) WHERE id = ?"), arguments: [id]) else {
            preconditionFailure("row \(table.rawValue) \(id) vanished inside its own transaction")
        }
        changes.append(.object([("op", .string(operation)), ("table", .string(table.rawValue)), ("row", RowImage.json(row))]))
        return row
    }

    /// Appends the command's trail entry after `head` and returns the new head; nil when the
    /// command changed nothing.
    func appendTrailEntry(after head: TrailHead?) throws -> TrailHead? {
        guard !changes.isEmpty else { return nil }
        precondition(!action.isEmpty && !subject.isEmpty, "a mutation must describe itself before it commits")
        let payload = JSONValue.object([("changes", .array(changes))]).compactText
        let entry = TrailEntry(seq: (head?.seq ?? 0) + 1, recordedAt: context.now.storageText, actor: context.actor,
                               action: action, subject: subject, payload: payload,
                               prevHash: head?.hash ?? TrailEntry.genesisHash)
        try entry.insert(db)
        return TrailHead(seq: entry.seq, hash: entry.hash)
    }
}

/// A row as canonical JSON: columns in table order, SQLite's own types.
enum RowImage {
    static func json(_ row: Row) -> JSONValue {
        .object(zip(row.columnNames, row.databaseValues).map { column, value in (column, Self.value(value)) })
    }

    /// SQLite's value as JSON: blobs as hex text.
    static func value(_ value: DatabaseValue) -> JSONValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .int(number)
        case .double(let number): .double(number)
        case .string(let text): .string(text)
        case .blob(let data): .string(Hex.string(data))
        }
    }
}

/// A small, fast, seedable generator (SplitMix64) for names, uuids and default windows.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A version-4 UUID in lowercase text.
    mutating func uuid() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &self) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }
}
