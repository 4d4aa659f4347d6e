import GRDB
import GRDBSQLite

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
        return SplitMix64(seed: seed, stream: UInt64(length ?? 0))
    }()
    private var action = ""
    private var subject = ""
    /// The trail payload as it grows, `{"changes":[{"op":…,"table":…,"row":{…}},…`, in bytes:
    /// rows are rendered straight from the statement that read them back.
    private var payload: [UInt8] = []
    private let shared: CommandStatements

    init(db: Database, context: LedgerContext, shared: CommandStatements) {
        self.db = db
        self.context = context
        self.shared = shared
    }

    /// Names the trail entry: the command and what it acted on (`addon:redis-lively-12345`).
    func describe(action: String, subject: String) {
        self.action = action
        self.subject = subject
    }

    @discardableResult
    func insert(_ table: LedgerTable, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>) throws -> Int64 {
        try execute(insert: table, values)
        let id = db.lastInsertedRowID
        try capture(table, id: id, operation: "insert") { _ in }
        return id
    }

    /// Inserts a row and returns it whole, as stored.
    func insert<Record: PositionalRecord>(_ table: LedgerTable, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>,
                                     as type: Record.Type) throws -> Record {
        try execute(insert: table, values)
        return try capture(table, id: db.lastInsertedRowID, operation: "insert", decode: Record.init(columns:))
    }

    private func execute(insert table: LedgerTable, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>) throws {
        try run(shared.insertSQL(table, values), binding: values.lazy.map(\.value))
    }

    func update(_ table: LedgerTable, id: Int64, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>) throws {
        try execute(update: table, id: id, values)
        try capture(table, id: id, operation: "update") { _ in }
    }

    /// Updates a row and returns it whole, as now stored.
    func update<Record: PositionalRecord>(_ table: LedgerTable, id: Int64, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>,
                                     as type: Record.Type) throws -> Record {
        try execute(update: table, id: id, values)
        return try capture(table, id: id, operation: "update", decode: Record.init(columns:))
    }

    private func execute(update table: LedgerTable, id: Int64, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>) throws {
        try run(shared.updateSQL(table, values), binding: values.lazy.map(\.value) + [id])
    }

    /// Runs a write with its values bound straight to SQLite: GRDB's `StatementArguments` and
    /// SQL built anew for every row were a seventh of a command's time. (These SQL texts are
    /// only ever run here, so GRDB's own record of a statement's arguments never goes stale.)
    private func run(_ sql: String, binding values: some Collection<(any DatabaseValueConvertible)?>) throws {
        let statement = try db.cachedStatement(sql: sql)
        let sqlite = statement.sqliteStatement
        defer {
            sqlite3_reset(sqlite)
            sqlite3_clear_bindings(sqlite)
        }
        for (index, value) in zip(Int32(1)..., values) {
            let code = (value?.databaseValue ?? .null).bind(to: sqlite, at: index)
            guard code == SQLITE_OK else { throw DatabaseError.last(code, of: statement) }
        }
        let code = sqlite3_step(sqlite)
        guard code == SQLITE_DONE else { throw DatabaseError.last(code, of: statement) }
    }

    /// Reads back the row just written, whole (defaults and all), for the trail, and decodes it
    /// for the caller. Not `RETURNING`: SQLite runs it as a trigger, which gives every statement
    /// its own journal (3× slower).
    private func capture<Result>(_ table: LedgerTable, id: Int64, operation: String, decode: (StatementColumns) -> Result) throws -> Result {
        let statement = try db.cachedStatement(sql: shared.readBackSQL(table))
        let captured = try statement.fetchFirst(arguments: [id]) { columns in
            appendChange(operation, table, statement)
            return decode(columns)
        }
        guard let captured else { vanished(table, id) }
        return captured
    }

    private func vanished(_ table: LedgerTable, _ id: Int64) -> Never {
        preconditionFailure("row \(table.rawValue) \(id) vanished inside its own transaction")
    }

    /// Appends `{"op":…,"table":…,"row":{…}}` for the row `statement` is on.
    private func appendChange(_ operation: String, _ table: LedgerTable, _ statement: Statement) {
        payload.append(contentsOf: payload.isEmpty ? Array(#"{"changes":["#.utf8) : [UInt8(ascii: ",")])
        payload.append(contentsOf: #"{"op":""#.utf8)
        payload.append(contentsOf: operation.utf8)
        payload.append(contentsOf: #"","table":""#.utf8)
        payload.append(contentsOf: table.rawValue.utf8)
        payload.append(contentsOf: #"","row":"#.utf8)
        RowImage.append(statement.sqliteStatement, keys: shared.imageKeys(table, statement), to: &payload)
        payload.append(UInt8(ascii: "}"))
    }

    /// Appends the command's trail entry after `head` and returns the new head; nil when the
    /// command changed nothing.
    func appendTrailEntry(after head: TrailHead?) throws -> TrailHead? {
        guard !payload.isEmpty else { return nil }
        precondition(!action.isEmpty && !subject.isEmpty, "a mutation must describe itself before it commits")
        let entry = TrailEntry(seq: (head?.seq ?? 0) + 1, recordedAt: context.now.storageText, actor: context.actor,
                               action: action, subject: subject, payload: String(decoding: payload + Array("]}".utf8), as: UTF8.self),
                               prevHash: head?.hash ?? TrailEntry.genesisHash)
        try entry.insert(db)
        return TrailHead(seq: entry.seq, hash: entry.hash)
    }
}

/// What the commands on one ledger share: the SQL of each table's INSERT and UPDATE per column
/// list and of its read-back, and the `{"id":`, `,"uuid":`, … that precede each column's value in
/// a row image. Each is worked out once per ledger, not once per command.
final class CommandStatements {
    private struct Shape: Hashable {
        let table: LedgerTable
        let columns: [String]
    }
    private var inserts: [Shape: String] = [:]
    private var updates: [Shape: String] = [:]
    private var readBacks: [LedgerTable: String] = [:]
    private var keysByTable: [LedgerTable: [[UInt8]]] = [:]

    func insertSQL(_ table: LedgerTable, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>) -> String {
        let shape = Shape(table: table, columns: values.map(\.key))
        if let sql = inserts[shape] { return sql }
        let placeholders = Array(repeating: "?", count: shape.columns.count).joined(separator: ", ")
        let sql = "INSERT INTO \(table.rawValue) (\(shape.columns.joined(separator: ", "))) VALUES (\(placeholders))"
        inserts[shape] = sql
        return sql
    }

    /// `UPDATE table SET a = ?, b = ? WHERE id = ?`
    func updateSQL(_ table: LedgerTable, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>) -> String {
        let shape = Shape(table: table, columns: values.map(\.key))
        if let sql = updates[shape] { return sql }
        let sql = "UPDATE \(table.rawValue) SET \(shape.columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?"
        updates[shape] = sql
        return sql
    }

    /// `SELECT * FROM table WHERE id = ?`: a row just written, read back for its image.
    func readBackSQL(_ table: LedgerTable) -> String {
        if let sql = readBacks[table] { return sql }
        let sql = "SELECT * FROM \(table.rawValue) WHERE id = ?"
        readBacks[table] = sql
        return sql
    }

    func imageKeys(_ table: LedgerTable, _ statement: Statement) -> [[UInt8]] {
        if let keys = keysByTable[table] { return keys }
        let keys = RowImage.keys(statement.columnNames)
        keysByTable[table] = keys
        return keys
    }
}

/// A row as canonical JSON: columns in table order, SQLite's own types, blobs as hex text.
/// Written as bytes straight from the statement positioned on the row (`Mutation` records
/// images this way and `audit:verify` renders the tables the same way to compare them).
enum RowImage {
    /// What precedes each column's value: `{"id":`, `,"uuid":`, …
    static func keys(_ columns: [String]) -> [[UInt8]] {
        columns.enumerated().map { index, column in
            var key = [index == 0 ? UInt8(ascii: "{") : UInt8(ascii: ",")]
            Array(column.utf8).withUnsafeBytes { JSONBytes.appendString($0, to: &key) }
            return key + [UInt8(ascii: ":")]
        }
    }

    static func append(_ sqlite: SQLiteStatement, keys: [[UInt8]], to image: inout [UInt8]) {
        for (column, key) in keys.enumerated() {
            image.append(contentsOf: key)
            let column = Int32(column)
            switch sqlite3_column_type(sqlite, column) {
            case SQLITE_NULL: image.append(contentsOf: "null".utf8)
            case SQLITE_INTEGER: JSONBytes.appendDecimal(sqlite3_column_int64(sqlite, column), to: &image)
            case SQLITE_FLOAT: image.append(contentsOf: JSONValue.double(sqlite3_column_double(sqlite, column)).compactText.utf8)
            case SQLITE_BLOB:
                let blob = UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, column), count: Int(sqlite3_column_bytes(sqlite, column)))
                image.append(contentsOf: JSONValue.string(Hex.string(blob)).compactText.utf8)
            default:
                JSONBytes.appendString(UnsafeRawBufferPointer(start: sqlite3_column_text(sqlite, column),
                                                              count: Int(sqlite3_column_bytes(sqlite, column))), to: &image)
            }
        }
        image.append(UInt8(ascii: "}"))
    }

    /// SQLite's value as JSON, blobs as hex text (for `sql`'s output).
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

    /// One of many generators from one seed whose draws do not overlap. (Started at
    /// `seed + N × step`, stream N's draw i was stream N-1's draw i+1: neighbouring commands
    /// shared uuid digits, and some got the same uuid.)
    init(seed: UInt64, stream: UInt64) {
        var scrambler = SplitMix64(seed: seed &+ stream &* 0x9E37_79B9_7F4A_7C15)
        state = scrambler.next()
    }

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
        var text = Hex.bytes(bytes)
        for dash in [8, 13, 18, 23] { text.insert(UInt8(ascii: "-"), at: dash) }
        return String(decoding: text, as: UTF8.self)
    }
}
