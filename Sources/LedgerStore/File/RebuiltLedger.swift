import Foundation
internal import GRDB
import LedgerCore

/// SQLite refused a replayed row (a foreign key, a CHECK, a unique index), or the row an update
/// names is not there: the trail does not replay.
package struct ReplayRefused: Error {
    package let reason: String

    package init(reason: String) { self.reason = reason }
}

/// A ledger rebuilt from its trail (`rebuild`): a new file under a temporary name beside where it
/// goes, with every migration applied, its rows and entries written in one transaction, then
/// synced and renamed into place. Until then nothing is at its destination, and a rebuild that
/// fails removes the temporary file.
///
/// Nothing of the file counts before it is renamed, so it is written without a journal and
/// without syncs (one, at the end, makes it durable before it takes the name): a crash leaves
/// a temporary file to remove, never a ledger.
package final class RebuiltLedger {
    package let temporaryPath: String
    private let queue: DatabaseQueue
    private var open = true
    /// Per table, per column: the plain encoding's tags of the values its column keeps as
    /// bound, one bit each (`ColumnAffinity.keptPlainTags`): a value of another is converted
    /// by SQLite, and the row stored would not be the one the trail records.
    package private(set) var keptTags: [[UInt8]] = []

    private init(temporaryPath: String, queue: DatabaseQueue) {
        self.temporaryPath = temporaryPath
        self.queue = queue
    }

    /// The prefix of the temporary file's name; a rebuild killed midway leaves one behind.
    package static let temporaryPrefix = ".maintledger-rebuild-"

    /// Creates the temporary file (readable by its owner only, as a ledger is) in `folder` and
    /// applies every migration to it.
    package static func create(in folder: String) throws -> RebuiltLedger {
        var template = Array(((folder.hasSuffix("/") ? folder : folder + "/") + temporaryPrefix + "XXXXXX").utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else {
            throw LedgerError.refused("cannot create a file in \(folder): \(String(cString: strerror(errno)))",
                                      hint: "Point --to at a folder you can write to.")
        }
        fchmod(descriptor, 0o600) // whatever the umask
        close(descriptor)
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        do {
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
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let rebuilt = RebuiltLedger(temporaryPath: path, queue: queue)
            try rebuilt.writing {
                try queue.writeWithoutTransaction { db in
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
            }
            return rebuilt
        } catch {
            removeFiles(path)
            throw error
        }
    }

    /// Runs `body` in one transaction on the file: it writes through the `RebuildWriter` it is given.
    package func write(_ body: (RebuildWriter) throws -> Void) throws {
        try writing {
            try queue.writeWithoutTransaction { db in
                try db.inTransaction {
                    try body(RebuildWriter(db))
                    return .commit
                }
            }
        }
    }

    /// Makes the file a WAL ledger as every other, syncs it and gives it `destination`'s name;
    /// `replacing` a file there (with the WAL files beside it, which belong to that one), else
    /// refusing if one appeared meanwhile. The folder is synced after.
    package func install(at destination: String, replacing: Bool) throws {
        try writing {
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
            try queue.close()
        }
        open = false
        let file = Foundation.open(temporaryPath, O_RDONLY | O_CLOEXEC)
        guard file >= 0, fsync(file) == 0 else {
            if file >= 0 { close(file) }
            throw cannotWrite(destination)
        }
        close(file)
        if replacing {
            // A WAL left beside the file replaced would be read into the new one.
            for suffix in ["-wal", "-shm"] { unlink(destination + suffix) }
            guard rename(temporaryPath, destination) == 0 else { throw cannotWrite(destination) }
        } else {
            // link() refuses a name that exists: the check made at the start still holds.
            guard link(temporaryPath, destination) == 0 else {
                if errno == EEXIST { throw Self.exists(destination) }
                throw cannotWrite(destination)
            }
            unlink(temporaryPath)
        }
        let folder = Foundation.open((destination as NSString).deletingLastPathComponent.isEmpty ? "." : (destination as NSString).deletingLastPathComponent,
                                     O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Removes the temporary file: the rebuild failed or was refused.
    package func discard() {
        if open { try? queue.close() }
        open = false
        Self.removeFiles(temporaryPath)
    }

    package static func exists(_ destination: String) -> LedgerError {
        .refused("\(destination) already exists; rebuild writes a new ledger",
                 hint: "Choose another path, or add --force to replace the file.")
    }

    private static func removeFiles(_ path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { unlink(path + suffix) }
    }

    private func cannotWrite(_ destination: String) -> LedgerError {
        .writeFailed("cannot write \(destination): \(String(cString: strerror(errno)))", hint: "Nothing was written to \(destination).")
    }

    /// SQLite's refusals of the disk, as what they mean to the rebuild.
    private func writing(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as DatabaseError where [.SQLITE_FULL, .SQLITE_IOERR].contains(error.resultCode) {
            var disk = statvfs()
            let folder = (temporaryPath as NSString).deletingLastPathComponent
            let full = error.resultCode == .SQLITE_FULL || (statvfs(folder, &disk) == 0 && disk.f_bavail == 0)
            throw LedgerError.writeFailed(full ? "the disk holding \(folder) is full" : "cannot write \(temporaryPath): \(LedgerDatabase.describe(error))",
                                          hint: "Free some space and run rebuild again; nothing was written.")
        }
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
