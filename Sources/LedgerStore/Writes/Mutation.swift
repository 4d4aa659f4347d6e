internal import GRDB
import LedgerCore

/// One command's changes inside its transaction. Rows are written through `insert` and
/// `update`, which capture each row's full image afterwards; the images become the payload of
/// the command's single trail entry, which is what lets `audit:verify` compare tables and trail.
public final class Mutation {
    let db: Database
    /// Reads inside the command's transaction, which see its own writes.
    package var sql: LedgerSQL { LedgerSQL(db) }
    public let context: LedgerContext
    /// Names, uuids and default windows come from here. Seeded runs stay reproducible command
    /// after command: the seed is mixed with the trail's length (read only when needed).
    package lazy var random: SplitMix64 = {
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
    package func describe(action: String, subject: String) {
        self.action = action
        self.subject = subject
    }

    @discardableResult
    package func insert(_ table: LedgerTable, _ values: KeyValuePairs<String, (any SQLBindable)?>) throws -> Int64 {
        try execute(insert: table, values)
        let id = db.lastInsertedRowID
        try capture(table, id: id, operation: "insert") { _ in }
        return id
    }

    /// Inserts a row and returns it whole, as stored.
    package func insert<Record: PositionalRecord>(_ table: LedgerTable, _ values: KeyValuePairs<String, (any SQLBindable)?>,
                                                  as type: Record.Type) throws -> Record {
        var record: Record?
        try insert(table, values) { record = Record(columns: $0) }
        return record!
    }

    func insert(_ table: LedgerTable, _ values: KeyValuePairs<String, (any SQLBindable)?>, decode: (RecordColumns) -> Void) throws {
        try execute(insert: table, values)
        try capture(table, id: db.lastInsertedRowID, operation: "insert") { decode(RecordColumns(statement: $0)) }
    }

    private func execute(insert table: LedgerTable, _ values: KeyValuePairs<String, (any SQLBindable)?>) throws {
        try run(shared.insertSQL(table, values), binding: values.lazy.map { $0.value })
    }

    package func update(_ table: LedgerTable, id: Int64, _ values: KeyValuePairs<String, (any SQLBindable)?>) throws {
        try execute(update: table, id: id, values)
        try capture(table, id: id, operation: "update") { _ in }
    }

    /// Updates a row and returns it whole, as now stored.
    package func update<Record: PositionalRecord>(_ table: LedgerTable, id: Int64, _ values: KeyValuePairs<String, (any SQLBindable)?>,
                                                  as type: Record.Type) throws -> Record {
        var record: Record?
        try update(table, id: id, values) { record = Record(columns: $0) }
        return record!
    }

    func update(_ table: LedgerTable, id: Int64, _ values: KeyValuePairs<String, (any SQLBindable)?>, decode: (RecordColumns) -> Void) throws {
        try execute(update: table, id: id, values)
        try capture(table, id: id, operation: "update") { decode(RecordColumns(statement: $0)) }
    }

    private func execute(update table: LedgerTable, id: Int64, _ values: KeyValuePairs<String, (any SQLBindable)?>) throws {
        try run(shared.updateSQL(table, values), binding: values.lazy.map { $0.value } + [id])
    }

    /// Runs a write with its values bound straight to SQLite: GRDB's `StatementArguments` and
    /// SQL built anew for every row were a seventh of a command's time. (These SQL texts are
    /// only ever run here, so GRDB's own record of a statement's arguments never goes stale.)
    private func run(_ sql: String, binding values: some Collection<(any SQLBindable)?>) throws {
        try db.cachedStatement(sql: sql).execute(binding: values.lazy.map { $0?.sqlValue ?? .null })
    }

    /// Reads back the row just written, whole (defaults and all), for the trail, and decodes it
    /// for the caller. Not `RETURNING`: SQLite runs it as a trigger, which gives every statement
    /// its own journal (3× slower).
    private func capture<Result>(_ table: LedgerTable, id: Int64, operation: String, decode: (RawColumns) -> Result) throws -> Result {
        let statement = try db.cachedStatement(sql: shared.readBackSQL(table))
        let captured = try statement.fetchFirst(arguments: [id]) { columns in
            appendChange(operation, table, columns, keys: shared.imageKeys(table, statement))
            return decode(columns)
        }
        guard let captured else { vanished(table, id) }
        return captured
    }

    private func vanished(_ table: LedgerTable, _ id: Int64) -> Never {
        preconditionFailure("row \(table.rawValue) \(id) vanished inside its own transaction")
    }

    /// Appends `{"op":…,"table":…,"row":{…}}` for the row `columns` are of.
    private func appendChange(_ operation: String, _ table: LedgerTable, _ columns: RawColumns, keys: RowImage.Keys) {
        payload.append(contentsOf: payload.isEmpty ? Array(#"{"changes":["#.utf8) : [UInt8(ascii: ",")])
        payload.append(contentsOf: #"{"op":""#.utf8)
        payload.append(contentsOf: operation.utf8)
        payload.append(contentsOf: #"","table":""#.utf8)
        payload.append(contentsOf: table.rawValue.utf8)
        payload.append(contentsOf: #"","row":"#.utf8)
        columns.appendImage(keys: keys, to: &payload)
        payload.append(UInt8(ascii: "}"))
    }

    /// Appends the command's trail entry after `head` and returns the new head; nil when the
    /// command changed nothing.
    func appendTrailEntry(after head: TrailHead?, edge: inout Merkle.Edge?) throws -> TrailHead? {
        guard !payload.isEmpty else { return nil }
        precondition(!action.isEmpty && !subject.isEmpty, "a mutation must describe itself before it commits")
        let entry = TrailEntry(seq: (head?.seq ?? 0) + 1, recordedAt: context.now.storageText, actor: context.actor,
                               action: action, subject: subject, payload: String(decoding: payload + Array("]}".utf8), as: UTF8.self),
                               prevHash: head?.hash ?? TrailEntry.genesisHash)
        try entry.insert(db)
        try TrailTree(db).grow(seq: entry.seq, entryHash: entry.hash, prevHash: entry.prevHash, edge: &edge)
        return TrailHead(seq: entry.seq, hash: entry.hash)
    }
}

