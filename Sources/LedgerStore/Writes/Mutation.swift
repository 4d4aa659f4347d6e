internal import GRDB
import LedgerCore

/// One command's changes inside its transaction. Rows are written through `insert` and
/// `update`, which read each row back afterwards, or given whole through `insert(_:row:)` and
/// `update(_:id:from:set:)`: an inserted row whole, an updated one's columns set and the digest
/// of the whole row become the payload of the command's single trail entry (format 2,
/// `CompactTrail`), which is what lets `audit:verify` compare tables and trail.
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
    /// The trail payload as it grows, encoded straight from the statement that read each row
    /// back, or from the values a row given whole was bound with.
    private var payload: CompactPayloadWriter
    private let shared: CommandStatements

    init(db: Database, context: LedgerContext, shared: CommandStatements) {
        self.db = db
        self.context = context
        self.shared = shared
        payload = CompactPayloadWriter(recordedAt: context.now.storageText, actor: context.actor)
    }

    /// False while the commands of a `recordAsOneEntry` share this mutation: the entry keeps
    /// the description it was given.
    var describesItself = true

    /// Names the trail entry: the command and what it acted on (`addon:redis-lively-12345`).
    /// The names are made only when they are used: a tick's steps would make them for nothing.
    package func describe(action: @autoclosure () -> String, subject: @autoclosure () -> String) {
        guard describesItself else { return }
        self.action = action()
        self.subject = subject()
    }

    @discardableResult
    package func insert(_ table: LedgerTable, _ values: KeyValuePairs<String, (any SQLBindable)?>) throws -> Int64 {
        try execute(insert: table, values)
        let id = db.lastInsertedRowID
        try capture(table, id: id, change: .inserted)
        return id
    }

    /// Inserts a row given whole, every column after id in table order, and records it in the
    /// trail from the values given, without reading it back (a second statement per row, and a
    /// parse of every text to find its form). The read-back records what SQLite filled in or
    /// converted; here nothing is left to a default, and every value is one its column's
    /// affinity stores as it is (checked), so the values given are the row as stored.
    @discardableResult
    package func insert(_ table: LedgerTable, row: KeyValuePairs<String, RowValue>) throws -> Int64 {
        assert(row.map(\.key).elementsEqual(table.columns.dropFirst()), "\(row.map(\.key)) are not the columns of \(table.rawValue) after id")
        let values = row.map { $0.value }
        let insert = try preparedInsert(table, unlessRecorded: nil)
        precondition(values.count == insert.affinities.count && zip(insert.affinities, values).allSatisfy { $0.keeps($1) },
                     "a row of \(table.rawValue) given whole needs every column after id, each of a type the column stores as it is")
        try insert.statement.execute(bindingRow: values)
        let id = db.lastInsertedRowID
        payload.insert(table, id: id, values: values)
        return id
    }

    /// Inserts a row prepared off the recording thread (`PreparedRows`), its open column filled
    /// with `id`, and records it in the trail from the encodings prepared, as `insert(_:row:)`
    /// records the values it binds. Returns the new row's id.
    @discardableResult
    package func insert(_ row: PreparedRows.Row, of rows: PreparedRows, filling id: Int64) throws -> Int64 {
        try insert(row, of: rows, filling: id, unlessRecorded: nil)!
    }

    /// As `insert(_:of:filling:)`, but a row whose value in the UNIQUE column `key` the table
    /// holds already is not inserted (`ON CONFLICT (key) DO NOTHING`): nil then, and the trail
    /// records nothing. The insert tells what a look-up before it would, searching the index once.
    package func insert(_ row: PreparedRows.Row, of rows: PreparedRows, filling id: Int64, unlessRecorded key: String?) throws -> Int64? {
        let insert = try preparedInsert(row.table, unlessRecorded: key)
        precondition(rows.encodedFor == PreparedRows.Entry(recordedAt: context.now, actor: context.actor) && rows.fits(row, insert.affinities),
                     "a row of \(row.table.rawValue) prepared for another entry, or with a value its column would convert")
        guard let newID = try insert.statement.execute(binding: row, of: rows, filling: id) else { return nil }
        payload.insert(row, of: rows, id: newID, filling: id)
        return newID
    }

    /// The whole-row INSERTs of the tables the command has inserted rows given whole or
    /// prepared into, by table code (and whether `ON CONFLICT`): found without hashing their
    /// SQL (GRDB's statement cache) for every row (a tick's steps share one mutation, so the
    /// engine looks each up once a tick).
    private var preparedInserts: [(statement: Statement, affinities: [ColumnAffinity], key: String?)?] = []

    private func preparedInsert(_ table: LedgerTable, unlessRecorded key: String?) throws -> (statement: Statement, affinities: [ColumnAffinity]) {
        let slot = 2 * Int(table.code) + (key == nil ? 0 : 1)
        if slot < preparedInserts.count, let insert = preparedInserts[slot] {
            precondition(insert.key == key, "\(table.rawValue) rows are inserted unless recorded by one key only")
            return (insert.statement, insert.affinities)
        }
        let shape = try shared.wholeRowInsert(table, db)
        let sql = key.map { shape.sql + " ON CONFLICT (\($0)) DO NOTHING" } ?? shape.sql
        let insert = (statement: try db.cachedStatement(sql: sql), affinities: shape.affinities, key: key)
        if slot >= preparedInserts.count { preparedInserts += repeatElement(nil, count: slot + 1 - preparedInserts.count) }
        preparedInserts[slot] = insert
        return (insert.statement, insert.affinities)
    }

    private func execute(insert table: LedgerTable, _ values: KeyValuePairs<String, (any SQLBindable)?>) throws {
        try run(shared.insertSQL(table, values), binding: values.lazy.map { $0.value })
    }

    package func update(_ table: LedgerTable, id: Int64, _ values: KeyValuePairs<String, (any SQLBindable)?>) throws {
        try execute(update: table, id: id, values)
        try capture(table, id: id, change: .updated(values.map(\.key)))
    }

    /// Updates a row the command holds whole, without reading it back: `before` is every column
    /// after id as the command read it. The UPDATE changes the row only while it still is
    /// `before` (`… WHERE id = ? AND (…) IS (…)`), so the row after is `before` with `set`
    /// applied, and the trail records it from those values, as `insert(_:row:)` does (the
    /// read-back was a third of an engine step's statements). A row that is no longer `before`
    /// refuses the command: another command changed it since it was read. Returns the row
    /// after, every column after id.
    package func update(_ table: LedgerTable, id: Int64, from before: [RowValue], set: KeyValuePairs<String, RowValue>) throws -> [RowValue] {
        let (update, statement) = try heldRowUpdate(table, setting: set)
        precondition(before.count == update.affinities.count && zip(update.affinities, before).allSatisfy { $0.keeps($1) }
                        && zip(update.positions, set).allSatisfy { update.affinities[$0].keeps($1.value) },
                     "a row of \(table.rawValue) held whole needs every column after id, each of a type the column stores as it is")
        var after = before
        for (position, column) in zip(update.positions, set) { after[position] = column.value }
        var arguments: [RowValue] = []
        arguments.reserveCapacity(set.count + 1 + before.count)
        arguments.append(contentsOf: set.lazy.map(\.value))
        arguments.append(.integer(id))
        arguments.append(contentsOf: before)
        try statement.execute(bindingRow: arguments)
        guard db.changesCount == 1 else {
            throw LedgerError.refused("\(table.rawValue) row \(id) changed while this command was recorded",
                                      hint: "Another command changed it since it was read; run this one again.")
        }
        let changed = update.rowOrder.lazy.map { (index: update.positions[$0] + 1, value: set[set.startIndex + $0].value) }
        payload.update(table, id: id, changed: changed, row: after)
        return after
    }

    /// The UPDATEs of rows held whole the command has run, with their statements: found
    /// without hashing their columns and SQL for every row, as `preparedInserts` are.
    private var heldRowUpdates: [(update: CommandStatements.HeldRowUpdate, statement: Statement)] = []

    private func heldRowUpdate(_ table: LedgerTable, setting set: KeyValuePairs<String, RowValue>) throws
        -> (update: CommandStatements.HeldRowUpdate, statement: Statement) {
        if let held = heldRowUpdates.first(where: { $0.update.table == table && $0.update.columns.elementsEqual(set.lazy.map(\.key)) }) {
            return held
        }
        let update = try shared.heldRowUpdate(table, setting: set.map(\.key), db)
        let held = (update: update, statement: try db.cachedStatement(sql: update.sql))
        heldRowUpdates.append(held)
        return held
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

    private enum Change {
        case inserted
        /// The columns set.
        case updated([String])
    }

    /// Reads back the row just written, whole (defaults and all), for the trail. Not
    /// `RETURNING`: SQLite runs it as a trigger, which gives every statement its own journal
    /// (3× slower).
    private func capture(_ table: LedgerTable, id: Int64, change: Change) throws {
        let statement = try db.cachedStatement(sql: shared.readBackSQL(table))
        let width = Int32(statement.columnCount)
        let captured: Void? = try statement.fetchFirst(arguments: [id]) { columns in
            switch change {
            case .inserted: payload.insert(table, columns, columns: width)
            case .updated(let set): payload.update(table, columns, columns: width, changed: shared.columnIndexes(table, set, statement))
            }
        }
        guard captured != nil else { vanished(table, id) }
    }

    private func vanished(_ table: LedgerTable, _ id: Int64) -> Never {
        preconditionFailure("row \(table.rawValue) \(id) vanished inside its own transaction")
    }

    /// Appends the command's trail entry after `head` and returns the new head; nil when the
    /// command changed nothing.
    func appendTrailEntry(after head: TrailHead?, edge: inout Merkle.Edge?) throws -> TrailHead? {
        guard !payload.isEmpty else { return nil }
        precondition(!action.isEmpty && !subject.isEmpty, "a mutation must describe itself before it commits")
        let entry = TrailEntry(seq: (head?.seq ?? 0) + 1, recordedAt: context.now.storageText, actor: context.actor,
                               action: action, subject: subject, format: .compact, payload: payload.bytes,
                               prevHash: head?.hash ?? TrailEntry.genesisHash)
        try entry.insert(db)
        try TrailTree(db).grow(seq: entry.seq, entryHash: entry.hash, edge: &edge)
        return TrailHead(seq: entry.seq, hash: entry.hash)
    }
}

