import LedgerCore
internal import GRDB

/// What the commands on one ledger share: the SQL of each table's INSERT and UPDATE per column
/// list and of its read-back, the positions of the columns an UPDATE sets, and the INSERT of a
/// row given whole with its columns' affinities. Each is worked out once per ledger, not once
/// per command.
final class CommandStatements {
    private struct Shape: Hashable {
        let table: LedgerTable
        let columns: [String]
    }
    private var inserts: [Shape: String] = [:]
    private var updates: [Shape: String] = [:]
    private var readBacks: [LedgerTable: String] = [:]
    private var columnIndexes: [Shape: [Int32]] = [:]
    private var wholeRowInserts: [LedgerTable: (sql: String, affinities: [ColumnAffinity])] = [:]
    private var heldRowUpdates: [Shape: HeldRowUpdate] = [:]

    /// The UPDATE of a row held whole (`Mutation.update(_:id:from:set:)`).
    struct HeldRowUpdate {
        let table: LedgerTable
        /// The columns set, in the order they are set.
        let columns: [String]
        /// `UPDATE table SET a = ?, b = ? WHERE id = ? AND (every column after id) IS (?, …)`
        let sql: String
        /// Where each column set is in the row after id, in the order they are set.
        let positions: [Int]
        /// The order of the columns set in the row: indexes into `columns`, by ascending position.
        let rowOrder: [Int]
        /// The affinities of the columns after id.
        let affinities: [ColumnAffinity]
    }

    func insertSQL(_ table: LedgerTable, _ values: KeyValuePairs<String, (any SQLBindable)?>) -> String {
        let shape = Shape(table: table, columns: values.map { $0.key })
        if let sql = inserts[shape] { return sql }
        let placeholders = Array(repeating: "?", count: shape.columns.count).joined(separator: ", ")
        let sql = "INSERT INTO \(table.rawValue) (\(shape.columns.joined(separator: ", "))) VALUES (\(placeholders))"
        inserts[shape] = sql
        return sql
    }

    /// `UPDATE table SET a = ?, b = ? WHERE id = ?`
    func updateSQL(_ table: LedgerTable, _ values: KeyValuePairs<String, (any SQLBindable)?>) -> String {
        let shape = Shape(table: table, columns: values.map { $0.key })
        if let sql = updates[shape] { return sql }
        let sql = "UPDATE \(table.rawValue) SET \(shape.columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?"
        updates[shape] = sql
        return sql
    }

    /// `INSERT INTO table (every column after id) VALUES (?, …)`, and those columns' affinities.
    func wholeRowInsert(_ table: LedgerTable, _ db: Database) throws -> (sql: String, affinities: [ColumnAffinity]) {
        if let insert = wholeRowInserts[table] { return insert }
        let columns = Array(table.columns.dropFirst())
        let declared = Dictionary(uniqueKeysWithValues: try db.columns(in: table.rawValue).map { ($0.name, $0.type) })
        let insert = (sql: "INSERT INTO \(table.rawValue) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))",
                      affinities: columns.map { ColumnAffinity(declaredType: declared[$0]!) })
        wholeRowInserts[table] = insert
        return insert
    }

    func heldRowUpdate(_ table: LedgerTable, setting columns: [String], _ db: Database) throws -> HeldRowUpdate {
        let shape = Shape(table: table, columns: columns)
        if let update = heldRowUpdates[shape] { return update }
        let row = Array(table.columns.dropFirst())
        let positions = columns.map { column in
            guard let position = row.firstIndex(of: column) else { preconditionFailure("\(table.rawValue) has no column \(column) after id") }
            return position
        }
        let update = HeldRowUpdate(
            table: table, columns: columns,
            sql: "UPDATE \(table.rawValue) SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")) "
                + "WHERE id = ? AND (\(row.joined(separator: ", "))) IS (\(row.map { _ in "?" }.joined(separator: ", ")))",
            positions: positions, rowOrder: positions.indices.sorted { positions[$0] < positions[$1] },
            affinities: try wholeRowInsert(table, db).affinities)
        heldRowUpdates[shape] = update
        return update
    }

    /// `SELECT * FROM table WHERE id = ?`: a row just written, read back for its image.
    func readBackSQL(_ table: LedgerTable) -> String {
        if let sql = readBacks[table] { return sql }
        let sql = "SELECT * FROM \(table.rawValue) WHERE id = ?"
        readBacks[table] = sql
        return sql
    }

    /// The positions of `columns` in the read-back `statement`, ascending.
    func columnIndexes(_ table: LedgerTable, _ columns: [String], _ statement: Statement) -> [Int32] {
        let shape = Shape(table: table, columns: columns)
        if let indexes = columnIndexes[shape] { return indexes }
        let names = statement.columnNames
        let indexes = columns.map { column in
            guard let index = names.firstIndex(of: column) else { preconditionFailure("\(table.rawValue) has no column \(column)") }
            return Int32(index)
        }.sorted()
        columnIndexes[shape] = indexes
        return indexes
    }
}
