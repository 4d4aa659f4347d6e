import Foundation
internal import GRDB
import LedgerCore

/// SQLite refused a replayed row (a foreign key, a CHECK, a unique index), or the row an update
/// names is not there: the trail does not replay.
package struct ReplayRefused: Error {
    package let reason: String

    package init(reason: String) { self.reason = reason }
}

/// A ledger rebuilt from its trail (`rebuild`), in a new file its caller made (under a
/// temporary name beside where it goes, see `NewFile`): every migration applied, its rows and
/// entries written in one transaction, then made a WAL ledger as every other and closed, for
/// the caller to sync and name.
///
/// Nothing of the file counts before it has its name, so it is written without a journal and
/// without syncs (one, at the end, makes it durable before it takes the name): a crash leaves
/// a temporary file to remove, never a ledger.
package final class RebuiltLedger {
    package let path: String
    private let queue: DatabaseQueue
    private var open = true
    /// Per table, per column: the plain encoding's tags of the values its column keeps as
    /// bound, one bit each (`ColumnAffinity.keptPlainTags`): a value of another is converted
    /// by SQLite, and the row stored would not be the one the trail records.
    package private(set) var keptTags: [[UInt8]] = []

    private init(path: String, queue: DatabaseQueue) {
        self.path = path
        self.queue = queue
    }

    /// Opens the empty file at `path` and applies every migration to it.
    package static func create(at path: String) throws -> RebuiltLedger {
        var configuration = Configuration()
        // Migrations rebuild tables, which foreign keys forbid (see `LedgerDatabase.prepareSchema`);
        // they are turned on once the schema is in place, and hold every replayed row.
        configuration.foreignKeysEnabled = false
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF")
            try db.execute(sql: "PRAGMA synchronous = OFF")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // The page cache a batch of commands gets (see `LedgerDatabase.batchCommands`).
            try db.execute(sql: "PRAGMA cache_size = -262144")
        }
        let rebuilt = RebuiltLedger(path: path, queue: try DatabaseQueue(path: path, configuration: configuration))
        do {
            try rebuilt.queue.writeWithoutTransaction { db in
                try db.inTransaction {
                    _ = try LedgerDatabase.migrate(db)
                    return .commit
                }
                try db.execute(sql: "PRAGMA foreign_keys = ON")
                rebuilt.keptTags = try LedgerTable.allCases.map { table in
                    let columns = try db.columns(in: table.rawValue)
                    precondition(columns.map(\.name) == table.columns, "the migrations' \(table.rawValue) is not LedgerTable's")
                    return columns.map { ColumnAffinity(declaredType: $0.type).keptPlainTags }
                }
            }
            return rebuilt
        } catch {
            rebuilt.close()
            throw error
        }
    }

    /// Runs `body` in one transaction on the file: it writes through the `RebuildWriter` it is given.
    package func write(_ body: (RebuildWriter) throws -> Void) throws {
        try queue.writeWithoutTransaction { db in
            try db.inTransaction {
                try body(RebuildWriter(db))
                return .commit
            }
        }
    }

    /// Makes the file a WAL ledger as every other, and closes it (SQLite then removes the WAL
    /// files it made for the switch): the file is whole, for its caller to sync and name.
    package func finish() throws {
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        try queue.close()
        open = false
    }

    /// Closes the file after a failure, and removes what SQLite may have left beside it (the
    /// caller removes the file).
    package func close() {
        if open { try? queue.close() }
        open = false
        for suffix in ["-journal", "-wal", "-shm"] { unlink(path + suffix) }
    }
}

/// What a rebuild writes with, inside its transaction: rows given as their plain encoding
/// (`CompactTrail.appendPlain`, id first), bound in place; the trail's entries; the tree's nodes.
package final class RebuildWriter {
    private let db: Database
    /// By table (its ordinal, the trail's and the tree's after them, shifted 16 bits) and rows a statement.
    private var inserts: [Int: Statement] = [:]
    private var reads: [Statement?] = Array(repeating: nil, count: LedgerTable.allCases.count)
    /// By the columns set (one bit each) and the table's ordinal.
    private var updates: [Int: Statement] = [:]

    fileprivate init(_ db: Database) {
        self.db = db
    }

    /// Questions to the file as it stands, inside the transaction.
    package var sql: LedgerSQL { LedgerSQL(db) }

    /// Inserts rows of `table`, their plain encodings at `places` in `rows`: as few
    /// statements as it takes, each of up to `rowsPerStatement` rows (SQLite opens the table's
    /// and its indexes' cursors once a statement: a statement per row took twice as long).
    package func insert(_ table: LedgerTable, rows: UnsafeRawBufferPointer, at places: [Range<Int>]) throws {
        try insert(into: table.rawValue, table.columns, key: table.ordinal, rows: rows, at: places)
    }

    /// Appends trail entries, each a row of `audit_trail` in its plain encoding, back to back
    /// in `rows`, as stored: format 2 with its payload and hash as blobs and no prev_hash;
    /// format 1 with all three as text.
    package func appendEntries(rows: UnsafeRawBufferPointer) throws {
        try insert(into: "audit_trail", TrailEntry.columns, key: LedgerTable.allCases.count, rows: rows, at: places(rows, width: TrailEntry.columns.count))
    }

    /// Adds nodes of the Merkle tree, each a row of `trail_tree` (last_seq, level, hash) in its
    /// plain encoding, back to back in `rows`.
    package func addNodes(rows: UnsafeRawBufferPointer) throws {
        try insert(into: "trail_tree", ["last_seq", "level", "hash"], key: LedgerTable.allCases.count + 1, rows: rows, at: places(rows, width: 3))
    }

    static let rowsPerStatement = 64

    private func insert(into table: String, _ columns: [String], key: Int, rows: UnsafeRawBufferPointer, at places: [Range<Int>]) throws {
        var done = 0
        while done < places.count {
            // The largest power of two that fits what is left: a few statements per table.
            var rowsNow = Self.rowsPerStatement
            while rowsNow > places.count - done { rowsNow >>= 1 }
            let statementKey = key << 16 | rowsNow
            let statement: Statement
            if let cached = inserts[statementKey] {
                statement = cached
            } else {
                let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
                statement = try db.makeStatement(sql: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES \(Array(repeating: row, count: rowsNow).joined(separator: ", "))")
                inserts[statementKey] = statement
            }
            var index: Int32 = 1
            for place in places[done..<(done + rowsNow)] {
                let wellFormed = try CompactTrail.eachPlainValue(UnsafeRawBufferPointer(rebasing: rows[place])) { value, _ in
                    try statement.bind(inPlace: value, at: index)
                    index += 1
                }
                precondition(wellFormed, "a replayed row is not a plain encoding")
            }
            precondition(Int(index) - 1 == rowsNow * columns.count, "rows of \(table) are not \(columns.count) values each")
            try refusing { try statement.executeBound() }
            done += rowsNow
        }
    }

    /// Where each row of `width` values lies, in rows given back to back.
    private func places(_ rows: UnsafeRawBufferPointer, width: Int) -> [Range<Int>] {
        var places: [Range<Int>] = []
        var values = 0
        var start = 0
        _ = CompactTrail.eachPlainValue(rows) { _, range in
            values += 1
            if values % width == 0 {
                places.append(start..<range.upperBound)
                start = range.upperBound
            }
        }
        return places
    }

    /// Sets the columns `columns` names (bit n: column n; never the id) to their values in `row`.
    package func update(_ table: LedgerTable, columns: UInt64, row: UnsafeRawBufferPointer) throws {
        let key = Int(columns) << 4 | table.ordinal
        let statement: Statement
        if let cached = updates[key] {
            statement = cached
        } else {
            let set = table.columns.indices.filter { columns & (1 << $0) != 0 }.map { "\(table.columns[$0]) = ?" }
            statement = try db.makeStatement(sql: "UPDATE \(table.rawValue) SET \(set.joined(separator: ", ")) WHERE id = ?")
            updates[key] = statement
        }
        var column = 0
        var index: Int32 = 1
        var id: Int64 = 0
        _ = try CompactTrail.eachPlainValue(row) { value, _ in
            if column == 0, case .integer(let number) = value { id = number }
            if columns & (1 << column) != 0 {
                try statement.bind(inPlace: value, at: index)
                index += 1
            }
            column += 1
        }
        try statement.bind(inPlace: .integer(id), at: index)
        try refusing { try statement.executeBound() }
        guard db.changesCount == 1 else { throw ReplayRefused(reason: "\(table.rawValue) row \(id) is not there to update") }
    }

    /// The row as stored, in its plain encoding; nil when there is none.
    package func row(_ table: LedgerTable, id: Int64) throws -> [UInt8]? {
        var plain: [UInt8] = []
        let found: Void? = try read(table).fetchFirst(binding: [id]) { row in
            CompactTrail.appendPlain(row, columns: Int32(table.columnCount), to: &plain)
        }
        return found == nil ? nil : plain
    }

    /// The row as stored, as the JSON image a format 1 entry records (`RowImage`); nil when there is none.
    package func image(_ table: LedgerTable, id: Int64, keys: RowImage.Keys) throws -> [UInt8]? {
        var image: [UInt8] = []
        let found: Void? = try read(table).fetchFirst(binding: [id]) { row in row.appendImage(keys: keys, to: &image) }
        return found == nil ? nil : image
    }

    private func read(_ table: LedgerTable) throws -> Statement {
        if let statement = reads[table.ordinal] { return statement }
        let statement = try db.makeStatement(sql: "SELECT * FROM \(table.rawValue) WHERE id = ?")
        reads[table.ordinal] = statement
        return statement
    }

    /// SQLite's refusals of a row, as a replay that does not hold.
    private func refusing(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw ReplayRefused(reason: error.message ?? "a constraint of the schema refuses it")
        }
    }
}

extension CompactTrail {
    /// Walks a row's plain encoding (`appendPlain`): each column's value, read in place, with
    /// the bytes it takes. False when the bytes are not one.
    package static func eachPlainValue(_ row: UnsafeRawBufferPointer, _ body: (InPlaceValue, Range<Int>) throws -> Void) rethrows -> Bool {
        var reader = ByteReader(row)
        while reader.position < row.count {
            let start = reader.position
            let value: InPlaceValue
            switch reader.byte().flatMap(Tag.init(rawValue:)) {
            case .null: value = .null
            case .integer:
                guard let number = reader.varint() else { return false }
                value = .integer(unzigzag(number))
            case .real:
                guard let bits = reader.bytes(8) else { return false }
                value = .real(Double(bitPattern: UInt64(bigEndian: bits.loadUnaligned(as: UInt64.self))))
            case .text:
                guard let text = reader.lengthAndBytes() else { return false }
                value = .text(text)
            case .blob:
                guard let blob = reader.lengthAndBytes() else { return false }
                value = .blob(blob)
            default: return false
            }
            try body(value, start..<reader.position)
        }
        return true
    }
}
