internal import GRDB
internal import GRDBSQLite
import LedgerCore

// Records decode `SELECT *` rows by position, in table order (a migration may only append
// columns): name look-ups were a tenth of the engine's time.

/// A record of one table, decoded from `SELECT *` by position.
package protocol PositionalRecord {
    init(columns: RecordColumns)
}

/// The row a record decodes from, by column position: a GRDB row (records fetched through a
/// cursor), or straight the statement where a command reads one row at a time
/// (`Statement.fetchFirst`): GRDB builds a dictionary of the column names for every fetch, a
/// tenth of a one-row read.
package struct RecordColumns {
    private enum Source {
        case row(Row)
        case statement(SQLiteStatement)
    }
    private let source: Source

    init(row: Row) { source = .row(row) }
    init(statement: SQLiteStatement) { source = .statement(statement) }

    subscript<Value: ColumnValue>(_ index: Int) -> Value {
        switch source {
        case .row(let row):
            return Value.decode(row, index)
        case .statement(let statement):
            // As GRDB's `row[index]`: the schema's types are trusted, a mismatch is a bug.
            guard let value = Value.decode(statement, Int32(index)) else {
                preconditionFailure("column \(index) does not hold a \(Value.self)")
            }
            return value
        }
    }
}

/// A column's value as records hold it, read from a GRDB row or in place from a statement.
protocol ColumnValue {
    static func decode(_ row: Row, _ index: Int) -> Self
    static func decode(_ statement: SQLiteStatement, _ index: Int32) -> Self?
}

extension ColumnValue where Self: DatabaseValueConvertible & StatementColumnConvertible {
    static func decode(_ row: Row, _ index: Int) -> Self { row[index] }
    static func decode(_ statement: SQLiteStatement, _ index: Int32) -> Self? { fromStatement(statement, atUncheckedIndex: index) }
}

extension Int64: ColumnValue {}
extension Int: ColumnValue {}
extension Bool: ColumnValue {}
extension String: ColumnValue {}

extension Timestamp: ColumnValue {
    static func decode(_ row: Row, _ index: Int) -> Timestamp {
        // The schema's CHECKs hold timestamps to their one text form.
        Timestamp(iso: row[index] as String)!
    }

    /// Parsed from the column's bytes: no String is made on the way.
    static func decode(_ statement: SQLiteStatement, _ index: Int32) -> Timestamp? {
        guard let text = sqlite3_column_text(statement, index) else { return nil }
        return Timestamp(iso: UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, index))))
    }
}

extension Optional: ColumnValue where Wrapped: ColumnValue {
    static func decode(_ row: Row, _ index: Int) -> Wrapped? {
        row.hasNull(atIndex: index) ? nil : Wrapped.decode(row, index)
    }

    static func decode(_ statement: SQLiteStatement, _ index: Int32) -> Wrapped?? {
        sqlite3_column_type(statement, index) == SQLITE_NULL ? .some(nil) : Wrapped.decode(statement, index).map { .some($0) }
    }
}

extension Statement {
    /// The first record the statement finds, decoded straight from SQLite; nil when it finds none.
    func fetchFirst<Record: PositionalRecord>(_ type: Record.Type, arguments: StatementArguments) throws -> Record? {
        try fetchFirst(arguments: arguments) { Record(columns: RecordColumns(statement: $0)) }
    }

    /// The first row the statement finds, as `decode` reads it while the statement is on it.
    func fetchFirst<Result>(arguments: StatementArguments, _ decode: (SQLiteStatement) throws -> Result) throws -> Result? {
        assert((try? validateArguments(arguments)) != nil, "\(arguments) do not fit \(sql)")
        setUncheckedArguments(arguments)
        let sqlite = sqliteStatement
        defer { sqlite3_reset(sqlite) }
        switch sqlite3_step(sqlite) {
        case SQLITE_ROW: return try decode(sqlite)
        case SQLITE_DONE: return nil
        case let code: throw DatabaseError.last(code, of: self)
        }
    }
}

extension DatabaseError {
    /// The error SQLite reports for `statement`'s last call (read before the statement is reset).
    static func last(_ code: Int32, of statement: Statement) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(statement.sqliteStatement))),
                      sql: statement.sql)
    }
}
