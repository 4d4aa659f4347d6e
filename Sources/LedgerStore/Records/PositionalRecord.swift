internal import GRDB
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
        case statement(RawColumns)
    }
    private let source: Source

    init(row: Row) { source = .row(row) }
    init(statement: RawColumns) { source = .statement(statement) }

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
    static func decode(_ columns: RawColumns, _ index: Int32) -> Self?
}

extension ColumnValue where Self: DatabaseValueConvertible & StatementColumnConvertible {
    static func decode(_ row: Row, _ index: Int) -> Self { row[index] }
    static func decode(_ columns: RawColumns, _ index: Int32) -> Self? { columns.decode(Self.self, index) }
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
    static func decode(_ columns: RawColumns, _ index: Int32) -> Timestamp? {
        columns.kind(index) == .text ? Timestamp(iso: columns.text(index)) : nil
    }
}

extension Optional: ColumnValue where Wrapped: ColumnValue {
    static func decode(_ row: Row, _ index: Int) -> Wrapped? {
        row.hasNull(atIndex: index) ? nil : Wrapped.decode(row, index)
    }

    static func decode(_ columns: RawColumns, _ index: Int32) -> Wrapped?? {
        columns.kind(index) == .null ? .some(nil) : Wrapped.decode(columns, index).map { .some($0) }
    }
}

