import Foundation
internal import GRDB
import LedgerCore

/// The connection the store lends to the layers above for one transaction (a read snapshot,
/// or a command's write transaction): they ask in SQL, and get records, values or rows back.
/// `one`, `all`, `value`, `values` and `row` keep their prepared statements for the connection
/// (the commands run the same SQL again and again); `each`, `rows` and `scan`, which the reports
/// and exports call with SQL built for the call, prepare theirs for the call only.
package struct LedgerSQL {
    let db: Database

    init(_ db: Database) { self.db = db }

    // The generic ways in are thin shells around non-generic work, so that cross-module
    // optimization can specialize them where they are called (their bodies name no GRDB type):
    // unspecialized, a generic looks its types up at run time on every call.

    /// The first record the query finds, decoded straight from SQLite (no `Row`).
    package func one<Record: PositionalRecord>(_ type: Record.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> Record? {
        var record: Record?
        try first(sql, arguments) { record = Record(columns: $0) }
        return record
    }

    package func all<Record: PositionalRecord>(_ type: Record.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> [Record] {
        var records: [Record] = []
        try forEachRow(sql, arguments, reused: true) { records.append(Record(columns: $0)) }
        return records
    }

    /// The records of `table` whose `column` holds one of `values`: a look-up of many keys in a
    /// few queries. Each query asks for `inListWidth` keys, so its statement is prepared once
    /// per connection (a short last list repeats its last key, which `IN` ignores).
    package func all<Record: PositionalRecord, Key: SQLBindable>(_ type: Record.Type, from table: LedgerTable, where column: String,
                                                                 in values: [Key]) throws -> [Record] {
        let sql = "SELECT * FROM \(table.rawValue) WHERE \(column) IN (\(Array(repeating: "?", count: Self.inListWidth).joined(separator: ", ")))"
        var records: [Record] = []
        for start in stride(from: 0, to: values.count, by: Self.inListWidth) {
            let keys = values[start..<min(start + Self.inListWidth, values.count)]
            let padded = keys + repeatElement(keys.last!, count: Self.inListWidth - keys.count)
            try db.cachedStatement(sql: sql).step(binding: SQLArguments(padded.map { $0 as (any SQLBindable)? })) { row in
                records.append(Record(columns: RecordColumns(statement: row)))
                return true
            }
        }
        return records
    }

    /// The keys each query of `all(_:from:where:in:)` asks for.
    private static let inListWidth = 200

    /// Hands over the records one at a time (memory stays flat).
    package func each<Record: PositionalRecord>(_ type: Record.Type, _ sql: String, _ arguments: SQLArguments = [],
                                                _ body: (Record) throws -> Void) throws {
        try forEachRow(sql, arguments, reused: false) { try body(Record(columns: $0)) }
    }

    /// The first column of the first row; nil when there is no row or the value is NULL.
    package func value<Value: SQLReadable>(_ type: Value.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> Value? {
        try firstValues(sql, arguments, limit: 1).first.map { Value.decoded($0, column: sql) }
    }

    /// The first column of every row (NULLs left out).
    package func values<Value: SQLReadable>(_ type: Value.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> [Value] {
        try firstValues(sql, arguments, limit: nil).map { Value.decoded($0, column: sql) }
    }

    func first(_ sql: String, _ arguments: SQLArguments, _ decode: (RecordColumns) -> Void) throws {
        try db.cachedStatement(sql: sql).fetchFirst(binding: arguments) { decode(RecordColumns(statement: $0)) }
    }

    /// `reused`: the statement is prepared once per connection (fixed SQL), else for this call.
    func forEachRow(_ sql: String, _ arguments: SQLArguments, reused: Bool, _ body: (RecordColumns) throws -> Void) throws {
        let statement = reused ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        let cursor = try Row.fetchCursor(statement, arguments: arguments.statementArguments)
        while let row = try cursor.next() { try body(RecordColumns(row: row)) }
    }

    /// The first column's non-NULL values in the first `limit` rows (all rows when nil).
    func firstValues(_ sql: String, _ arguments: SQLArguments, limit: Int?) throws -> [SQLValue] {
        var values: [SQLValue] = []
        var rows = 0
        try db.cachedStatement(sql: sql).step(binding: arguments) { row in
            rows += 1
            let value = row.value(0)
            if value != .null { values.append(value) }
            return rows < limit ?? .max
        }
        return values
    }

    package func row(_ sql: String, _ arguments: SQLArguments = []) throws -> SQLRow? {
        try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments.statementArguments).map(SQLRow.init)
    }

    /// Hands over the rows one at a time (memory stays flat).
    package func rows(_ sql: String, _ arguments: SQLArguments = [], _ body: (SQLRow) throws -> Void) throws {
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments.statementArguments)
        while let row = try cursor.next() { try body(SQLRow(row)) }
    }

    /// "TABLE row N refers to a missing PARENT row", or nil when every reference resolves.
    package func firstForeignKeyViolation() throws -> String? {
        try Row.fetchOne(db.cachedStatement(sql: "PRAGMA foreign_key_check")).map { violation in
            "\(violation[0] as String? ?? "?") row \(violation[1] as Int64? ?? 0) refers to a missing \(violation[2] as String? ?? "?") row"
        }
    }

    /// How the schema differs from what the applied migrations define; nil when it does not.
    package func schemaDifference() throws -> String? {
        try ExpectedSchema.firstDifference(db)
    }

    /// The fast path for reading whole tables (verification, export): the statement is stepped
    /// with SQLite's own calls and `body` reads the columns of the row it is on in place, until
    /// it returns false or the rows end. `columns` hears the result's column names first.
    package func scan(_ sql: String, _ arguments: SQLArguments = [], columns: ([String]) throws -> Void = { _ in },
                      _ body: (RawColumns) throws -> Bool) throws {
        let statement = try db.makeStatement(sql: sql)
        try columns(statement.columnNames)
        try statement.step(binding: arguments, body)
    }

    /// `scan` a few rows at a time: the rows of a query without arguments, read in place as
    /// `RowStream.next` is called, while other statements of the connection run in between.
    package func stream(_ sql: String) throws -> RowStream {
        RowStream(try db.makeStatement(sql: sql))
    }
}

/// The values a query binds, by position (`[a, b]`) or by name (`["since": time]`).
package struct SQLArguments: ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    private(set) var positional: [SQLValue] = []
    private(set) var named: [String: SQLValue] = [:]

    package init(arrayLiteral elements: (any SQLBindable)?...) {
        self.init(elements)
    }

    package init(_ values: [(any SQLBindable)?]) {
        positional = values.map { $0?.sqlValue ?? .null }
    }

    package init(dictionaryLiteral elements: (String, (any SQLBindable)?)...) {
        named = Dictionary(elements.map { ($0.0, $0.1?.sqlValue ?? .null) }) { _, last in last }
    }

    package static func += (arguments: inout SQLArguments, more: SQLArguments) {
        arguments.positional += more.positional
        arguments.named.merge(more.named) { _, new in new }
    }

    /// As GRDB takes them, where its cursors run the query. (The one-row reads bind straight to
    /// SQLite: built per call, GRDB's arguments were a tenth of simulate's time.)
    var statementArguments: StatementArguments {
        StatementArguments(positional.map { $0.databaseValue as (any DatabaseValueConvertible)? })
            + StatementArguments(named.mapValues { $0.databaseValue as (any DatabaseValueConvertible)? })
    }
}

/// A value as SQLite stores it.
package enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// What the layers above may bind into a query or a written row.
package protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

/// What the layers above may read out of a query's columns.
package protocol SQLReadable {
    /// nil when the stored value is not one of this type.
    init?(sqlValue: SQLValue)
}

extension SQLReadable {
    /// As GRDB's `row[column]`: the schema's types are trusted, so a mismatch is a bug.
    static func decoded(_ value: SQLValue, column: String) -> Self {
        guard let decoded = Self(sqlValue: value) else { preconditionFailure("\(column): \(value) is not a \(Self.self)") }
        return decoded
    }
}

extension Optional: SQLReadable where Wrapped: SQLReadable {
    package init?(sqlValue: SQLValue) {
        if case .null = sqlValue {
            self = .none
        } else {
            guard let wrapped = Wrapped(sqlValue: sqlValue) else { return nil }
            self = .some(wrapped)
        }
    }
}

extension Int64: SQLBindable, SQLReadable {
    package var sqlValue: SQLValue { .integer(self) }
    package init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Int: SQLBindable, SQLReadable {
    package var sqlValue: SQLValue { .integer(Int64(self)) }
    package init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue else { return nil }
        self.init(exactly: value)
    }
}

extension Bool: SQLBindable, SQLReadable {
    package var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    package init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue else { return nil }
        self = value != 0
    }
}

extension Double: SQLBindable, SQLReadable {
    package var sqlValue: SQLValue { .real(self) }
    package init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        default: return nil
        }
    }
}

extension String: SQLBindable, SQLReadable {
    package var sqlValue: SQLValue { .text(self) }
    package init?(sqlValue: SQLValue) {
        guard case .text(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Timestamp: SQLBindable, SQLReadable {
    /// Stored as its fixed-width text, so that text order is time order.
    package var sqlValue: SQLValue { .text(storageText) }
    package init?(sqlValue: SQLValue) {
        guard case .text(let text) = sqlValue else { return nil }
        self.init(iso: text)
    }
}

extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let value): value.databaseValue
        case .real(let value): value.databaseValue
        case .text(let value): value.databaseValue
        case .blob(let value): DatabaseValue(value: value.withUnsafeBytes { Data($0) })!
        }
    }
}

extension DatabaseValue {
    var sqlValue: SQLValue {
        switch storage {
        case .null: .null
        case .int64(let value): .integer(value)
        case .double(let value): .real(value)
        case .string(let value): .text(value)
        case .blob(let value): .blob(Array(value))
        }
    }
}

/// One row of a query, read by column name or position.
package struct SQLRow {
    private let row: Row

    fileprivate init(_ row: Row) { self.row = row }

    package subscript<Value: SQLReadable>(_ column: String) -> Value {
        Value.decoded((row[column] as DatabaseValue).sqlValue, column: column)
    }

    package subscript<Value: SQLReadable>(_ index: Int) -> Value {
        Value.decoded((row[index] as DatabaseValue).sqlValue, column: "column \(index)")
    }
}


/// Errors SQLite itself raised (a constraint, I/O, a corrupt page), as the layers above may name them.
package enum SQLiteFailure {
    /// SQLite's message for an error it raised; nil for any other error.
    package static func reason(_ error: any Error) -> String? {
        guard let error = error as? DatabaseError else { return nil }
        return error.message ?? "\(error.resultCode)"
    }

    /// Whether a write failed for want of room on the disk.
    package static func isDiskFull(_ error: any Error) -> Bool {
        (error as? DatabaseError)?.resultCode == .SQLITE_FULL
    }

    /// Whether SQLite found the file damaged (a corrupt page, or no database at all).
    package static func isDamage(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB
    }
}
