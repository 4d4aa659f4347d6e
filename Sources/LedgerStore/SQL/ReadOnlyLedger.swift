import Foundation
internal import GRDB
import LedgerCore

/// `sql`: auditors' own queries, on a connection that cannot change the ledger: a reader's
/// (`PRAGMA query_only = 1`, no write lock, see `LedgerReader`), and only one statement that
/// SQLite itself calls read-only, starting with SELECT, WITH, VALUES or EXPLAIN, is run.
public final class ReadOnlyLedger {
    private let queue: DatabaseQueue

    private init(queue: DatabaseQueue) { self.queue = queue }

    /// Opens an existing ledger read-only; a missing file, or one that is not a ledger, is refused.
    public static func open(at path: String) throws -> ReadOnlyLedger {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError.notFound("no ledger at \(path)", hint: "Point --db or MAINTLEDGER_DB at an existing ledger.")
        }
        try LedgerDatabase.refuseIrregularFile(path)
        do {
            let queue = try LedgerReader.connection(path).queue
            guard try queue.read({ db in try Int32.fetchOne(db, sql: "PRAGMA application_id") }) == LedgerDatabase.applicationID else {
                throw LedgerError.unusableDatabase("\(path) is not a maintledger ledger", hint: "Point --db at a ledger file.")
            }
            return ReadOnlyLedger(queue: queue)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw LedgerError.unusableDatabase("\(path) is not a SQLite database", hint: "Point --db at a ledger file.")
        } catch let error as DatabaseError {
            throw LedgerError.unusableDatabase("cannot read \(path): \(LedgerDatabase.describe(error))", hint: nil)
        }
    }

    private static let allowedKeywords = ["SELECT", "WITH", "VALUES", "EXPLAIN"]
    /// The longest value a query may return: 16 MiB, far beyond any the ledger holds.
    static let longestValue: Int32 = 16 << 20
    package static let refusalHint = "Write one SELECT, WITH, VALUES or EXPLAIN statement; read a pragma as a table, as in SELECT * FROM pragma_table_info('maintenances')."

    /// How long a query may run, and how many rows it may return (nil: any number).
    public struct Limits: Sendable {
        public var seconds: Double
        public var rows: Int?

        public init(seconds: Double, rows: Int?) {
            self.seconds = seconds
            self.rows = rows
        }

        /// Thirty seconds, any number of rows: time enough for a report over a large ledger,
        /// and a stop for a query without end.
        public static let standard = Limits(seconds: 30, rows: nil)
    }

    /// Runs one read-only statement within `limits`. `body` gets its result columns and its
    /// rows, which it must read before returning. Nothing runs when the statement is refused:
    /// more than one statement, or one that is not a read-only query (exit 1), or one SQLite
    /// cannot compile (64). A query stopped at a limit is `LedgerError.limitReached` (exit 4).
    public func query(_ sql: String, limits: Limits = .standard, _ body: (_ columns: [String], _ rows: QueryRows) throws -> Void) throws {
        guard let keyword = SQLText.leadingKeyword(sql) else {
            throw LedgerError.invalidInput("the query is empty", hint: Self.refusalHint)
        }
        try queue.read { db in
            let statement: Statement
            do {
                // GRDB compiles what follows the first statement too, and refuses a second one.
                statement = try db.makeStatement(sql: sql)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_MISUSE {
                throw LedgerError.refused("sql runs one statement at a time; nothing was run", hint: "Remove what follows the first `;`.")
            } catch let error as DatabaseError {
                throw LedgerError.invalidInput("the query does not compile: \(LedgerDatabase.describe(error))", hint: nil)
            }
            guard Self.allowedKeywords.contains(keyword) else {
                throw LedgerError.refused("sql runs read-only queries; \(keyword) statements are refused and nothing was run", hint: Self.refusalHint)
            }
            guard statement.isReadonly else {
                throw LedgerError.refused("sql runs read-only queries; this statement writes and was not run", hint: Self.refusalHint)
            }
            guard (try? statement.validateArguments([])) != nil else {
                throw LedgerError.invalidInput("the query has parameters (? or :name), and sql binds none", hint: "Write the values into the query.")
            }
            // A value SQLite makes (`zeroblob(1e9)`, `printf('%.*c', 1e9, 'x')`) is printed after
            // the deadline's watch, and costs many times its size to print: capped here.
            db.limitValueLength(to: Self.longestValue)
            let deadline = QueryDeadline(seconds: limits.seconds)
            db.stopStatements(pastDeadline: deadline)
            defer { db.stopStatements(pastDeadline: nil) }
            try withExtendedLifetime(deadline) {
                try body(statement.columnNames, QueryRows(try Row.fetchCursor(statement), limits: limits))
            }
        }
    }
}

/// The rows of a running query, one at a time, as JSON values in SQLite's own types (integer,
/// real, text, null; blobs as hex text).
public final class QueryRows {
    private let cursor: RowCursor
    private let limits: ReadOnlyLedger.Limits
    private var count = 0

    fileprivate init(_ cursor: RowCursor, limits: ReadOnlyLedger.Limits) {
        self.cursor = cursor
        self.limits = limits
    }

    public func next() throws -> [JSONValue]? {
        do {
            guard let row = try cursor.next() else { return nil }
            count += 1
            if let most = limits.rows, count > most {
                throw LedgerError.limitReached("the query returns more than \(most) rows (--max-rows)", hint: "Narrow the query, or raise --max-rows.")
            }
            // By position, not name: a query's columns may share a name (`SELECT a.id, b.id …`).
            return row.databaseValues.map(RowImage.value)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_INTERRUPT {
            throw LedgerError.limitReached("the query ran past its --timeout of \(limits.seconds.formatted()) s", hint: "Narrow the query, or give it a longer --timeout.")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_TOOBIG {
            throw LedgerError.limitReached("the query makes a value longer than \(ReadOnlyLedger.longestValue >> 20) MiB, the most sql prints", hint: "Select less of it, as with substr().")
        } catch let error as DatabaseError {
            throw LedgerError.refused("the query failed: \(LedgerDatabase.describe(error))", hint: nil)
        }
    }
}

/// Just enough of SQLite's tokenizer to find a query's first keyword: comments are skipped whole.
enum SQLText {
    /// The first word, upper-cased; nil for a query of blanks and comments only.
    static func leadingKeyword(_ sql: String) -> String? {
        let bytes = Array(sql.utf8)
        let start = skipTrivia(bytes, from: 0)
        var end = start
        while end < bytes.count, (bytes[end] | 0x20) >= UInt8(ascii: "a"), (bytes[end] | 0x20) <= UInt8(ascii: "z") { end += 1 }
        return end > start ? String(decoding: bytes[start..<end], as: UTF8.self).uppercased() : nil
    }

    /// Past blanks and comments.
    private static func skipTrivia(_ bytes: [UInt8], from start: Int) -> Int {
        func starts(_ text: String, at index: Int) -> Bool { bytes[index...].starts(with: text.utf8) }
        func after(_ closing: String, from index: Int) -> Int {
            var end = index
            while end < bytes.count, !starts(closing, at: end) { end += 1 }
            return min(end + closing.utf8.count, bytes.count)
        }
        var index = start
        while index < bytes.count {
            if [0x20, 0x09, 0x0A, 0x0C, 0x0D].contains(bytes[index]) {
                index += 1
            } else if starts("--", at: index) {
                index = after("\n", from: index + 2)
            } else if starts("/*", at: index) {
                index = after("*/", from: index + 2)
            } else {
                break
            }
        }
        return index
    }
}
