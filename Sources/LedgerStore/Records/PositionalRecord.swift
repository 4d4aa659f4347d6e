internal import GRDB
import LedgerCore

// Records decode `SELECT *` rows by position, in table order (a migration may only append
// columns): name look-ups were a tenth of the engine's time.

/// A record of one table, decoded from `SELECT *` by position.
package protocol PositionalRecord {
    init(columns: RecordColumns)
}

/// The row a record decodes from, by column position: a GRDB row (records fetched through a
/// cursor), straight the statement where a command reads one row at a time
/// (`Statement.fetchFirst`): GRDB builds a dictionary of the column names for every fetch, a
/// tenth of a one-row read; or the values a command wrote a row with (`Mutation.update(_:id:from:set:)`).
package struct RecordColumns {
    private enum Source {
        case row(Row)
        case statement(RawColumns)
        /// The id, then the columns after it.
        case idAndValues(Int64, [RowValue])
    }
    private let source: Source

    init(row: Row) { source = .row(row) }
    init(statement: RawColumns) { source = .statement(statement) }
    /// `id` and every column after it.
    init(id: Int64, values: [RowValue]) { source = .idAndValues(id, values) }

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
        case .idAndValues(let id, let values):
            guard let value = Value.decode(index == 0 ? .integer(id) : values[index - 1]) else {
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
    static func decode(_ value: RowValue) -> Self?
}

extension ColumnValue where Self: DatabaseValueConvertible & StatementColumnConvertible {
    static func decode(_ row: Row, _ index: Int) -> Self { row[index] }
    static func decode(_ columns: RawColumns, _ index: Int32) -> Self? { columns.decode(Self.self, index) }
}

extension Int64: ColumnValue {
    static func decode(_ value: RowValue) -> Int64? { if case .integer(let number) = value { number } else { nil } }
}

extension Int: ColumnValue {
    static func decode(_ value: RowValue) -> Int? { Int64.decode(value).map(Int.init) }
}

extension Bool: ColumnValue {
    // As SQLite's (and GRDB's) reading of an integer column as a boolean.
    static func decode(_ value: RowValue) -> Bool? { Int64.decode(value).map { $0 != 0 } }
}

extension String: ColumnValue {
    static func decode(_ value: RowValue) -> String? {
        switch value {
        case .text(let text): text
        case .time(let time): time.storageText
        case .null, .integer: nil
        }
    }
}

extension Timestamp: ColumnValue {
    static func decode(_ row: Row, _ index: Int) -> Timestamp {
        // The schema's CHECKs hold timestamps to their one text form.
        Timestamp(iso: row[index] as String)!
    }

    /// Parsed from the column's bytes: no String is made on the way.
    static func decode(_ columns: RawColumns, _ index: Int32) -> Timestamp? {
        columns.kind(index) == .text ? Timestamp(iso: columns.text(index)) : nil
    }

    static func decode(_ value: RowValue) -> Timestamp? {
        switch value {
        case .time(let time): time
        case .text(let text): Timestamp(iso: text)
        case .null, .integer: nil
        }
    }
}

extension Optional: ColumnValue where Wrapped: ColumnValue {
    static func decode(_ row: Row, _ index: Int) -> Wrapped? {
        row.hasNull(atIndex: index) ? nil : Wrapped.decode(row, index)
    }

    static func decode(_ columns: RawColumns, _ index: Int32) -> Wrapped?? {
        columns.kind(index) == .null ? .some(nil) : Wrapped.decode(columns, index).map { .some($0) }
    }

    static func decode(_ value: RowValue) -> Wrapped?? {
        if case .null = value { return .some(nil) }
        return Wrapped.decode(value).map { .some($0) }
    }
}

