import LedgerCore
internal import GRDB

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
