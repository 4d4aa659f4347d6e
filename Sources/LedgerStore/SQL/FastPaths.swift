import Dispatch
internal import GRDB
internal import GRDBSQLite
import LedgerCore

// The measured fast paths, fenced here: the only code that calls SQLite's C API directly.
// Each replaced a GRDB convenience that cost a measured share of a hot loop: the row-name
// dictionary GRDB builds per fetch (a tenth of a one-row read), `StatementArguments` and SQL
// built per written row (a seventh of a command), and `Row` values where verification and
// export read every column of the file.

/// The row a statement is on, read in place: text and blobs as SQLite's own bytes, valid until
/// the statement steps on.
package struct RawColumns {
    private let statement: SQLiteStatement

    fileprivate init(_ statement: SQLiteStatement) { self.statement = statement }

    package enum Kind {
        case null, integer, real, text, blob
    }

    package func kind(_ column: Int32) -> Kind {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .real
        case SQLITE_BLOB: .blob
        default: .text
        }
    }

    package func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    package func double(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }

    package func text(_ column: Int32) -> UnsafeRawBufferPointer { self.column(column).text }

    package func blob(_ column: Int32) -> UnsafeRawBufferPointer { self.column(column).bytes }

    /// A column's value, for reading its kind and then its content with one call into the
    /// statement: each `sqlite3_column_*` call locks the connection, finds the column and
    /// records errors anew, and reading kind, pointer and length that way was a fifth of
    /// SQLite's time when verification read every column of a ledger.
    package func column(_ column: Int32) -> RawValue { RawValue(sqlite3_column_value(statement, column)) }

    /// The row as the trail's canonical image (`RowImage`), appended to `image`.
    package func appendImage(keys: RowImage.Keys, to image: inout [UInt8]) {
        RowImage.append(self, keys: keys, to: &image)
    }

    /// A column as SQLite holds it.
    package func value(_ column: Int32) -> SQLValue {
        switch kind(column) {
        case .null: .null
        case .integer: .integer(int64(column))
        case .real: .real(double(column))
        case .text: .text(String(decoding: text(column), as: UTF8.self))
        case .blob: .blob(Array(blob(column)))
        }
    }

    /// A column through GRDB's own decoding, still without a `Row`.
    func decode<Value: StatementColumnConvertible>(_ type: Value.Type, _ column: Int32) -> Value? {
        Value.fromStatement(statement, atUncheckedIndex: column)
    }
}

extension Database {
    /// Makes SQLite stop any statement still running past `deadline` (it fails with
    /// SQLITE_INTERRUPT), through its progress handler, called every thousand steps of its
    /// virtual machine. `deadline` must outlive the statements; nil takes the handler away.
    func stopStatements(pastDeadline deadline: QueryDeadline?) {
        guard let deadline else { return sqlite3_progress_handler(sqliteConnection, 0, nil, nil) }
        sqlite3_progress_handler(sqliteConnection, 1000, { context in
            let deadline = Unmanaged<QueryDeadline>.fromOpaque(context!).takeUnretainedValue()
            return DispatchTime.now().uptimeNanoseconds > deadline.end ? 1 : 0
        }, Unmanaged.passUnretained(deadline).toOpaque())
    }
}

extension Database {
    /// The longest text or blob a statement may make (SQLITE_LIMIT_LENGTH); longer is SQLITE_TOOBIG.
    func limitValueLength(to bytes: Int32) {
        sqlite3_limit(sqliteConnection, SQLITE_LIMIT_LENGTH, bytes)
    }
}

/// When a query must have finished (see `Database.stopStatements`).
final class QueryDeadline {
    let end: UInt64

    init(seconds: Double) {
        end = DispatchTime.now().uptimeNanoseconds &+ UInt64(min(seconds, 1e9) * 1e9)
    }
}

extension Statement {
    /// The first row the statement finds, as `decode` reads it while the statement is on it.
    func fetchFirst<Result>(arguments: StatementArguments, _ decode: (RawColumns) throws -> Result) throws -> Result? {
        assert((try? validateArguments(arguments)) != nil, "\(arguments) do not fit \(sql)")
        setUncheckedArguments(arguments)
        return try stepOnce(decode)
    }

    /// As `fetchFirst(arguments:_:)`, with the arguments bound straight to SQLite.
    func fetchFirst<Result>(binding arguments: SQLArguments, _ decode: (RawColumns) throws -> Result) throws -> Result? {
        try bind(arguments)
        defer { sqlite3_clear_bindings(sqliteStatement) } // a cached statement holds no copy of them
        return try stepOnce(decode)
    }

    private func stepOnce<Result>(_ decode: (RawColumns) throws -> Result) throws -> Result? {
        let sqlite = sqliteStatement
        defer { sqlite3_reset(sqlite) }
        switch sqlite3_step(sqlite) {
        case SQLITE_ROW: return try decode(RawColumns(sqlite))
        case SQLITE_DONE: return nil
        case let code: throw DatabaseError.last(code, of: self)
        }
    }

    /// Steps through the rows until `body` returns false or they end.
    func step(binding arguments: SQLArguments, _ body: (RawColumns) throws -> Bool) throws {
        try bind(arguments)
        let sqlite = sqliteStatement
        defer {
            sqlite3_reset(sqlite)
            sqlite3_clear_bindings(sqlite) // a cached statement holds no copy of them
        }
        while true {
            switch sqlite3_step(sqlite) {
            case SQLITE_ROW: guard try body(RawColumns(sqlite)) else { return }
            case SQLITE_DONE: return
            case let code: throw DatabaseError.last(code, of: self)
            }
        }
    }

    /// Binds the arguments in place of whatever was bound before (GRDB binds anew whenever it
    /// is handed arguments, which every caller of a statement does, so it never reuses these).
    /// As GRDB does, it refuses arguments that do not fit the statement's parameters.
    private func bind(_ arguments: SQLArguments) throws {
        let sqlite = sqliteStatement
        sqlite3_reset(sqlite)
        sqlite3_clear_bindings(sqlite)
        let count = sqlite3_bind_parameter_count(sqlite)
        var positional = 0
        for index in stride(from: Int32(1), through: count, by: 1) {
            let value: SQLValue?
            if let name = sqlite3_bind_parameter_name(sqlite, index), name.pointee != UInt8(ascii: "?") {
                // `:name`, `@name` or `$name`: the arguments name it without its prefix.
                value = arguments.named[String(cString: name + 1)]
            } else {
                // `?` or `?NNN`, which SQLite numbers by position.
                value = positional < arguments.positional.count ? arguments.positional[positional] : nil
                positional += 1
            }
            guard let value else { throw misfit(arguments) }
            let code = value.bind(to: sqlite, at: index)
            guard code == SQLITE_OK else { throw DatabaseError.last(code, of: self) }
        }
        guard positional == arguments.positional.count else { throw misfit(arguments) }
    }

    private func misfit(_ arguments: SQLArguments) -> DatabaseError {
        DatabaseError(resultCode: .SQLITE_MISUSE, message: "wrong arguments for the statement: \(arguments.positional.count) positional, \(arguments.named.keys.sorted()) named", sql: sql)
    }

    /// Runs a write with `values` bound to its parameters in order.
    func execute(binding values: some Sequence<SQLValue>) throws {
        let sqlite = sqliteStatement
        defer {
            sqlite3_reset(sqlite)
            sqlite3_clear_bindings(sqlite)
        }
        for (index, value) in zip(Int32(1)..., values) {
            let code = value.bind(to: sqlite, at: index)
            guard code == SQLITE_OK else { throw DatabaseError.last(code, of: self) }
        }
        let code = sqlite3_step(sqlite)
        guard code == SQLITE_DONE else { throw DatabaseError.last(code, of: self) }
    }
}

/// A query's rows read a few at a time (`LedgerSQL.stream`): `audit:verify` reads the trail a
/// batch at a time between checking batches, and the tables a block of ids at a time.
package final class RowStream {
    private let statement: Statement
    /// Whether the statement is on a row the last `next` left for the next one.
    private var onRow = false
    package private(set) var ended = false

    init(_ statement: Statement) {
        self.statement = statement
    }

    deinit { sqlite3_reset(statement.sqliteStatement) }

    package var columnCount: Int32 { sqlite3_column_count(statement.sqliteStatement) }

    /// Hands `body` the rows in turn while it returns true. False leaves the row it was given
    /// unread: the next call starts with it. Returns then, or when the rows end (`ended`).
    package func next(_ body: (RawColumns) throws -> Bool) throws {
        let sqlite = statement.sqliteStatement
        while !ended {
            if !onRow {
                switch sqlite3_step(sqlite) {
                case SQLITE_ROW: onRow = true
                case SQLITE_DONE:
                    ended = true
                    return
                case let code:
                    ended = true
                    throw DatabaseError.last(code, of: statement)
                }
            }
            guard try body(RawColumns(sqlite)) else { return }
            onRow = false
        }
    }
}

extension Statement {
    /// Runs a write with `row` bound to its parameters in order: texts with their length in
    /// bytes (a NUL inside is kept, not taken for their end), times as their storage text. The
    /// texts are copied once, into one buffer that SQLite reads in place until the statement is
    /// reset (SQLITE_STATIC): copied by SQLite instead, each took an allocation of its own.
    /// A time is rendered straight into that buffer.
    func execute(bindingRow row: [RowValue]) throws {
        let sqlite = sqliteStatement
        let byteCount = row.reduce(0) { bytes, value in
            switch value {
            case .null, .integer: bytes
            case .text(let text): bytes + text.utf8.count
            case .time: bytes + Self.longestTime
            }
        }
        try withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 1) { texts in
            defer {
                sqlite3_reset(sqlite)
                sqlite3_clear_bindings(sqlite)
            }
            var end = 0
            func bind(_ bytes: UnsafeRawBufferPointer, at index: Int32) -> Int32 {
                guard let source = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_text(sqlite, index, "", 0, transient) }
                texts.baseAddress!.advanced(by: end).copyMemory(from: source, byteCount: bytes.count)
                return bindText(count: bytes.count, at: index)
            }
            /// Binds the `count` bytes written at `end`.
            func bindText(count: Int, at index: Int32) -> Int32 {
                let start = texts.baseAddress! + end
                end += count
                return sqlite3_bind_text(sqlite, index, start.assumingMemoryBound(to: CChar.self), Int32(count), staticText)
            }
            for (index, value) in zip(Int32(1)..., row) {
                let code: Int32
                switch value {
                case .null: code = sqlite3_bind_null(sqlite, index)
                case .integer(let number): code = sqlite3_bind_int64(sqlite, index, number)
                case .text(var text): code = text.withUTF8 { bind(UnsafeRawBufferPointer($0), at: index) }
                case .time(let time) where time.isStorable:
                    time.writeStorageText(to: texts.baseAddress! + end)
                    code = bindText(count: Timestamp.storageTextCount, at: index)
                case .time(let time):
                    let text = Array(time.storageText.utf8)
                    precondition(text.count <= Self.longestTime)
                    code = text.withUnsafeBytes { bind($0, at: index) }
                }
                guard code == SQLITE_OK else { throw DatabaseError.last(code, of: self) }
            }
            let code = sqlite3_step(sqlite)
            guard code == SQLITE_DONE else { throw DatabaseError.last(code, of: self) }
        }
    }

    /// The most bytes a time's storage text takes: 24 within the years 0000 to 9999, and no
    /// more than 32 for any instant `Timestamp` holds.
    private static let longestTime = 32

    /// Runs an INSERT of a prepared row (`PreparedRows`), its open column bound to `id`: its
    /// texts are read by SQLite in place, where they were laid out when it was prepared (with
    /// their length: a NUL inside is kept). Returns the rowid of the row inserted (asked of
    /// SQLite directly: GRDB checks the queue it is called on first), or nil when it inserted
    /// none (`ON CONFLICT … DO NOTHING`).
    func execute(binding row: PreparedRows.Row, of rows: PreparedRows, filling id: Int64) throws -> Int64? {
        let sqlite = sqliteStatement
        return try rows.bytes.withUnsafeBufferPointer { bytes in
            defer {
                sqlite3_reset(sqlite)
                sqlite3_clear_bindings(sqlite)
            }
            for (position, columnIndex) in row.columns.enumerated() {
                let column = rows.columns[columnIndex]
                let index = Int32(position + 1)
                let code: Int32
                if position == row.open {
                    code = sqlite3_bind_int64(sqlite, index, id)
                } else {
                    switch column.kind {
                    case .null: code = sqlite3_bind_null(sqlite, index)
                    case .integer: code = sqlite3_bind_int64(sqlite, index, column.number)
                    case .text where column.count == 0: code = sqlite3_bind_text(sqlite, index, "", 0, transient)
                    case .text:
                        let start = UnsafeRawPointer(bytes.baseAddress! + Int(column.number)).assumingMemoryBound(to: CChar.self)
                        code = sqlite3_bind_text(sqlite, index, start, column.count, staticText)
                    }
                }
                guard code == SQLITE_OK else { throw DatabaseError.last(code, of: self) }
            }
            let code = sqlite3_step(sqlite)
            guard code == SQLITE_DONE else { throw DatabaseError.last(code, of: self) }
            let db = sqlite3_db_handle(sqlite)
            return sqlite3_changes(db) == 0 ? nil : sqlite3_last_insert_rowid(db)
        }
    }
}

extension SQLValue {
    fileprivate func bind(to statement: SQLiteStatement, at index: Int32) -> Int32 {
        switch self {
        case .null: sqlite3_bind_null(statement, index)
        case .integer(let value): sqlite3_bind_int64(statement, index, value)
        case .real(let value): sqlite3_bind_double(statement, index, value)
        case .text(let value): sqlite3_bind_text(statement, index, value, -1, transient)
        case .blob(let value): value.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
        }
    }
}

/// A column of the row a statement is on (`RawColumns.column`), valid as long as that row is.
/// It is SQLite's own "unprotected" value: read only on the connection's thread, as every
/// statement here is.
package struct RawValue {
    private let value: OpaquePointer?

    fileprivate init(_ value: OpaquePointer?) { self.value = value }

    package var kind: RawColumns.Kind {
        switch sqlite3_value_type(value) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .real
        case SQLITE_BLOB: .blob
        default: .text
        }
    }

    package var int64: Int64 { sqlite3_value_int64(value) }

    package var double: Double { sqlite3_value_double(value) }

    /// The value as text (SQLite converts a number in place, as `sqlite3_column_text` does).
    package var text: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: sqlite3_value_text(value), count: Int(sqlite3_value_bytes(value)))
    }

    /// A blob's or a text's bytes as they are (a number converted to text, NULL none): the
    /// same bytes as `text`, without the terminating zero SQLite would first add to a blob.
    package var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: sqlite3_value_blob(value), count: Int(sqlite3_value_bytes(value)))
    }
}

/// SQLite copies what is bound with this destructor (Swift's strings and arrays do not outlive the call).
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
/// SQLite reads what is bound with this one in place, until the statement is reset.
private let staticText: sqlite3_destructor_type? = nil

extension DatabaseError {
    /// The error SQLite reports for `statement`'s last call (read before the statement is reset).
    static func last(_ code: Int32, of statement: Statement) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(statement.sqliteStatement))),
                      sql: statement.sql)
    }
}

/// A value bound where it lies (`Statement.execute(bindingInPlace:)`): a text's or a blob's
/// bytes are read by SQLite in place, so they must stay put until the statement has run.
package enum InPlaceValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(UnsafeRawBufferPointer)
    case blob(UnsafeRawBufferPointer)
}

extension Statement {
    /// Binds `value` to parameter `index` (from 1) where it lies (SQLITE_STATIC): `rebuild`
    /// binds every row straight from the bytes it decoded. Run the statement with `executeBound`.
    func bind(inPlace value: InPlaceValue, at index: Int32) throws {
        let sqlite = sqliteStatement
        let code: Int32 = switch value {
        case .null: sqlite3_bind_null(sqlite, index)
        case .integer(let number): sqlite3_bind_int64(sqlite, index, number)
        case .real(let number): sqlite3_bind_double(sqlite, index, number)
        // An empty text or blob at no address would bind NULL: bound as an empty value.
        case .text(let bytes) where bytes.isEmpty: sqlite3_bind_text(sqlite, index, "", 0, transient)
        case .text(let bytes): sqlite3_bind_text(sqlite, index, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count), staticText)
        case .blob(let bytes) where bytes.isEmpty: sqlite3_bind_zeroblob(sqlite, index, 0)
        case .blob(let bytes): sqlite3_bind_blob(sqlite, index, bytes.baseAddress!, Int32(bytes.count), staticText)
        }
        guard code == SQLITE_OK else {
            let error = DatabaseError.last(code, of: self)
            sqlite3_reset(sqlite)
            sqlite3_clear_bindings(sqlite)
            throw error
        }
    }

    /// Runs a write whose parameters `bind(inPlace:at:)` bound, then lets go of them.
    func executeBound() throws {
        let sqlite = sqliteStatement
        defer {
            sqlite3_reset(sqlite)
            sqlite3_clear_bindings(sqlite)
        }
        let code = sqlite3_step(sqlite)
        guard code == SQLITE_DONE else { throw DatabaseError.last(code, of: self) }
    }
}
