import LedgerCore
import LedgerStore
import Crypto
import Foundation

/// What `export` writes: maintenances and windows (rows as they stand, with names and the trail
/// seq of their latest change) or the trail's entries themselves.
public enum ExportEntity: String, CaseIterable, Codable, Sendable {
    case maintenances, trail, windows
}

public enum ExportFormat: String, CaseIterable, Codable, Sendable {
    case ndjson, csv
}

/// The record beside each data file (`<file>.manifest.json`). Its presence is what makes the
/// data file part of the export (see `ExportFolder`).
public struct ExportManifest: Codable, Sendable, Equatable {
    /// The data file's name, in the same folder.
    public let file: String
    public let entity: ExportEntity
    public let format: ExportFormat
    public let rows: Int
    public let bytes: Int
    /// The trail entries the file covers: rows touched by entries first_seq…last_seq.
    public let firstSeq: Int64
    public let lastSeq: Int64
    /// SHA-256 of the data file, lowercase hex.
    public let sha256: String
    /// The hash of trail entry `lastSeq`: the ledger head the rows were read at.
    public let headHash: String
}

public struct ExportResult: Sendable, Equatable {
    /// The data file written (its path under the folder as given), or nil when nothing changed.
    public let path: String?
    public let manifest: ExportManifest?
    /// The last trail seq the folder's files now cover for this entity and format.
    public let cursor: Int64
    /// Files an interrupted run left: counted as exported (their manifest was complete) or
    /// removed (it was not; their rows are in this run's file).
    public let recovered: [String]
    public let removed: [String]
}

/// Points at which an export can be stopped, to play a crash in tests.
enum ExportStep {
    case dataFileRenamed, manifestRenamed
}

extension Ledger {
    /// `export --to DIR`: writes what changed since the folder's last export of `entity` in
    /// `format` to one new file, with its manifest, then advances the folder's cursor.
    public func export(to folder: String, entity: ExportEntity, format: ExportFormat) throws -> ExportResult {
        try export(to: folder, entity: entity, format: format, after: { _ in })
    }

    func export(to folderPath: String, entity: ExportEntity, format: ExportFormat, after step: (ExportStep) throws -> Void) throws -> ExportResult {
        let folder = try ExportFolder.lock(folderPath)
        defer { folder.unlock() }
        try folder.removeTemporaryFiles()
        // One read transaction: the head in the manifest is the state the rows were read in.
        return try database.read { db in
            let head = try TrailHead.read(db)
            var recovered: [String] = []
            var removed: [String] = []
            let cursor = try folder.recover(entity, format, db, recovered: &recovered, removed: &removed)
            func unchanged() -> ExportResult {
                ExportResult(path: nil, manifest: nil, cursor: cursor.seq, recovered: recovered, removed: removed)
            }
            guard let head, head.seq > cursor.seq else { return unchanged() }
            let query = try entity.changedRows(after: cursor.seq, head: head.seq, db)
            guard try db.value(Bool.self, "SELECT EXISTS (\(query.sql))", query.arguments) == true else { return unchanged() }

            let name = "\(entity.rawValue)-\(ExportFolder.padded(cursor.seq + 1))-\(ExportFolder.padded(head.seq)).\(format.rawValue)"
            var count = 0
            let data = try folder.writeAtomically(name) { file in
                var encoder: ExportRowEncoder?
                try db.scan(query.sql, query.arguments, columns: { columns in
                    encoder = try ExportRowEncoder(entity: entity, format: format, columns: columns, db)
                    try encoder!.writeHeader(to: file)
                }) { row in
                    try encoder!.writeRow(row, to: file)
                    count += 1
                    return true
                }
            }
            try step(.dataFileRenamed)
            let manifest = ExportManifest(file: name, entity: entity, format: format, rows: count, bytes: data.bytes,
                                          firstSeq: cursor.seq + 1, lastSeq: head.seq, sha256: data.sha256, headHash: head.hash)
            try folder.writeAtomically(ExportFolder.manifestName(of: name)) { file in try file.append(ExportFolder.encode(manifest)) }
            try step(.manifestRenamed)
            try folder.writeCursor(ExportCursor(seq: head.seq, headHash: head.hash), entity, format)
            return ExportResult(path: folder.path(of: name), manifest: manifest, cursor: head.seq, recovered: recovered, removed: removed)
        }
    }
}

extension ExportEntity {
    /// The rows to export after trail entry `cursor`. The first export (cursor 0) reads the
    /// tables directly, without the trail: every row is as of `head`, which stands as its seq.
    /// Later ones take the rows that trail entries after the cursor inserted or updated, each with
    /// the seq of its latest change, in id order (CROSS JOIN keeps `touched` the outer loop).
    func changedRows(after cursor: Int64, head: Int64, _ db: LedgerSQL) throws -> (sql: String, arguments: SQLArguments) {
        switch self {
        case .trail:
            return ("SELECT seq, recorded_at, actor, action, subject, payload, prev_hash, hash FROM audit_trail WHERE seq > ? ORDER BY seq",
                    [cursor])
        case .maintenances, .windows:
            guard cursor > 0 else { return ("SELECT *, ? AS seq FROM \(rawValue) ORDER BY id", [head]) }
            return ("""
                SELECT t.*, json_extract(touched.value, '$[1]') AS seq
                FROM json_each(?) touched CROSS JOIN \(rawValue) t ON t.id = json_extract(touched.value, '$[0]')
                """, [try touchedRows(after: cursor, db)])
        }
    }

    /// `[[id, seq], …]` by id: the rows entries after `cursor` inserted or updated, each with the
    /// seq of its latest change. Grouped here, by distinct id: SQL's GROUP BY would hold every
    /// change in a temp b-tree, in memory as the ledger sets `temp_store`.
    private func touchedRows(after cursor: Int64, _ db: LedgerSQL) throws -> String {
        var latest: [Int64: Int64] = [:]
        try db.rows("""
            SELECT json_extract(change.value, '$.row.id'), trail.seq
            FROM audit_trail trail, json_each(trail.payload, '$.changes') change
            WHERE trail.seq > ? AND json_extract(change.value, '$.table') = ?
            """, [cursor, rawValue]) { change in
            let id: Int64 = change[0]
            latest[id] = max(latest[id] ?? 0, change[1])
        }
        return "[" + latest.keys.sorted().map { "[\($0),\(latest[$0]!)]" }.joined(separator: ",") + "]"
    }

    /// Integer columns written as true/false in NDJSON.
    var booleanColumns: Set<String> {
        self == .maintenances ? ["outside_window", "customer_requested", "emergency"] : []
    }
}

// MARK: - The folder

/// What a folder's cursor file holds: the last trail entry its files cover, and that entry's
/// hash (so a folder fed by one ledger refuses another).
struct ExportCursor: Codable, Equatable {
    var seq: Int64
    var headHash: String

    static let start = ExportCursor(seq: 0, headHash: TrailEntry.genesisHash)
}

/// The export folder. Per entity and format it holds data files named
/// `<entity>-<first seq>-<last seq>.<format>` (12 digits each, so names sort in trail order),
/// each with `<file>.manifest.json` beside it, and a cursor `.maintledger-cursor-<entity>-<format>`.
///
/// The protocol, so that a crash at any point neither skips nor repeats a row:
/// 1. Every file is written as `.maintledger-tmp-*` in the folder, fsynced, renamed into place,
///    and the folder fsynced: a name, once there, names complete contents.
/// 2. The data file is renamed in first, then its manifest, then the cursor advances. The manifest
///    is the commit point: readers count a data file only once its manifest is there.
/// 3. Runs on one folder hold an flock on `.maintledger-export.lock` (released by the kernel if the
///    process dies), so on entry any temp file is a dead run's leftover and is removed, and files
///    past the cursor are what a run left between step 2's renames: one whose manifest is there
///    and matches (size, SHA-256, and the ledger's hash at its last seq) is counted and the cursor
///    moved past it; any other is removed, and its rows go into this run's file.
final class ExportFolder {
    let folder: String
    private let lock: Int32
    private let directory: Int32

    static let lockName = ".maintledger-export.lock"
    static let tempPrefix = ".maintledger-tmp-"

    private init(folder: String, lock: Int32, directory: Int32) {
        self.folder = folder
        self.lock = lock
        self.directory = directory
    }

    /// Takes the folder's lock (refusing while another run holds it); the caller must `unlock`.
    static func lock(_ folder: String) throws -> ExportFolder {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw LedgerError.notFound("no folder at \(folder)", hint: "Create it first, or point --to at an existing folder.")
        }
        guard isFolder.boolValue else {
            throw LedgerError.refused("\(folder) is not a folder", hint: "Point --to at a folder.")
        }
        let lock = open(folder + "/" + lockName, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw cannotWrite(folder) }
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else {
            let error = cannotWrite(folder)
            close(lock)
            throw error
        }
        let locked = ExportFolder(folder: folder, lock: lock, directory: directory)
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            locked.unlock()
            throw LedgerError.refused("\(folder) is being exported by another process", hint: "Wait for it to finish, then run export again.")
        }
        return locked
    }

    /// Step 3: under the lock, any temp file is a dead run's.
    func removeTemporaryFiles() throws {
        for name in try names() where name.hasPrefix(Self.tempPrefix) {
            try remove(name)
        }
    }

    func unlock() {
        close(directory)
        close(lock) // releases the flock
    }

    private static func cannotWrite(_ folder: String) -> LedgerError {
        .refused("cannot write to \(folder): \(String(cString: strerror(errno)))", hint: "Point --to at a folder you can write to.")
    }

    func path(of name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    static func padded(_ seq: Int64) -> String {
        let digits = String(seq)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    static func manifestName(of name: String) -> String { name + ".manifest.json" }

    private static func cursorName(_ entity: ExportEntity, _ format: ExportFormat) -> String {
        ".maintledger-cursor-\(entity.rawValue)-\(format.rawValue)"
    }

    private func names() throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw LedgerError.refused("cannot list \(folder): \(LedgerDatabase.describe(error))", hint: nil)
        }
    }

    private func remove(_ name: String) throws {
        guard unlink(path(of: name)) == 0 || errno == ENOENT else {
            throw LedgerError.refused("cannot remove \(path(of: name)): \(String(cString: strerror(errno)))", hint: nil)
        }
    }

    // MARK: Cursor and recovery

    /// The cursor, after checking it belongs to this ledger and settling what an interrupted run left.
    func recover(_ entity: ExportEntity, _ format: ExportFormat, _ db: LedgerSQL,
                 recovered: inout [String], removed: inout [String]) throws -> ExportCursor {
        var cursor = try readCursor(entity, format)
        if cursor.seq > 0, try Self.ledgerHash(at: cursor.seq, db) != cursor.headHash {
            throw LedgerError.refused("\(folder) holds an export of another ledger: its \(entity.rawValue) \(format.rawValue) files end at seq \(cursor.seq), which this ledger does not have",
                                      hint: "Export each ledger to its own folder.")
        }
        let prefix = entity.rawValue + "-", suffix = "." + format.rawValue
        let pending = try names().compactMap { name -> (name: String, first: Int64)? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
            let range = name.dropFirst(prefix.count).dropLast(suffix.count).split(separator: "-")
            guard range.count == 2, let first = Int64(range[0]), first > cursor.seq else { return nil }
            return (name, first)
        }.sorted { $0.first < $1.first }
        for file in pending {
            if let manifest = try committedManifest(of: file.name, after: cursor, db) {
                cursor = ExportCursor(seq: manifest.lastSeq, headHash: manifest.headHash)
                try writeCursor(cursor, entity, format)
                recovered.append(file.name)
            } else {
                try remove(Self.manifestName(of: file.name))
                try remove(file.name)
                removed.append(file.name)
            }
        }
        return cursor
    }

    /// The manifest of a data file past the cursor if it was fully written, continues the
    /// cursor, and matches both its data file and this ledger.
    private func committedManifest(of name: String, after cursor: ExportCursor, _ db: LedgerSQL) throws -> ExportManifest? {
        guard let text = FileManager.default.contents(atPath: path(of: Self.manifestName(of: name))),
              let manifest = try? Self.decode(ExportManifest.self, from: text),
              manifest.file == name, manifest.firstSeq == cursor.seq + 1,
              let data = digest(of: name), data.bytes == manifest.bytes, data.sha256 == manifest.sha256
        else { return nil }
        return try Self.ledgerHash(at: manifest.lastSeq, db) == manifest.headHash ? manifest : nil
    }

    private static func ledgerHash(at seq: Int64, _ db: LedgerSQL) throws -> String? {
        try db.value(String.self, "SELECT hash FROM audit_trail WHERE seq = ?", [seq])
    }

    private func readCursor(_ entity: ExportEntity, _ format: ExportFormat) throws -> ExportCursor {
        let name = Self.cursorName(entity, format)
        guard let text = FileManager.default.contents(atPath: path(of: name)) else { return .start }
        guard let cursor = try? Self.decode(ExportCursor.self, from: text) else {
            throw LedgerError.refused("\(path(of: name)) is not a cursor maintledger wrote",
                                      hint: "Remove it to count the folder's files again from their manifests.")
        }
        return cursor
    }

    func writeCursor(_ cursor: ExportCursor, _ entity: ExportEntity, _ format: ExportFormat) throws {
        try writeAtomically(Self.cursorName(entity, format)) { file in try file.append(Self.encode(cursor)) }
    }

    // MARK: Writing

    /// Writes `name` as step 1 of the protocol describes; a failure removes the temp file.
    @discardableResult
    func writeAtomically(_ name: String, _ body: (ExportFile) throws -> Void) throws -> (bytes: Int, sha256: String) {
        var template = Array(path(of: Self.tempPrefix + "XXXXXX").utf8CString)
        let descriptor = mkstemp(&template) // mode 0600: exports name customers, as the ledger does
        guard descriptor >= 0 else { throw Self.cannotWrite(folder) }
        let temp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let file = ExportFile(descriptor: descriptor, name: path(of: name))
        do {
            try body(file)
            let written = try file.finish()
            guard rename(temp, path(of: name)) == 0 else { throw Self.cannotWrite(folder) }
            try syncFolder()
            return written
        } catch {
            file.close()
            unlink(temp)
            throw error
        }
    }

    private func syncFolder() throws {
        guard fsync(directory) == 0 else { throw Self.cannotWrite(folder) }
    }

    /// Size and SHA-256 of a file in the folder, read in chunks; nil if it cannot be read.
    private func digest(of name: String) -> (bytes: Int, sha256: String)? {
        guard let handle = FileHandle(forReadingAtPath: path(of: name)) else { return nil }
        defer { try? handle.close() }
        var hasher = SHA256()
        var bytes = 0
        while let chunk = try? handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            hasher.update(data: chunk)
            bytes += chunk.count
        }
        return (bytes, Hex.string(hasher.finalize()))
    }

    private static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: data)
    }

    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value)) + [UInt8(ascii: "\n")]
    }
}

// MARK: - Bytes out

/// An export file being written: bytes gathered in a 64 KiB buffer, hashed as each chunk goes
/// out, fsynced at the end. (`ByteSink` takes Strings; this takes the bytes SQLite hands out.)
final class ExportFile {
    private static let capacity = 1 << 16
    private var descriptor: Int32
    /// The file's final path, for error messages.
    private let name: String
    private let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    private var count = 0
    private var hasher = SHA256()
    private var written = 0

    init(descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
    }

    deinit {
        close()
        buffer.deallocate()
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        if count + bytes.count > Self.capacity { try flush() }
        if bytes.count > Self.capacity { return try writeOut(bytes) }
        (buffer + count).update(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        count += bytes.count
    }

    func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    func append(_ byte: UInt8) throws {
        if count == Self.capacity { try flush() }
        buffer[count] = byte
        count += 1
    }

    func appendDecimal(_ value: Int64) throws {
        if count + 20 > Self.capacity { try flush() }
        var magnitude = value.magnitude
        var digits = 0
        repeat {
            digits += 1
            magnitude /= 10
        } while magnitude > 0
        if value < 0 {
            buffer[count] = UInt8(ascii: "-")
            count += 1
        }
        magnitude = value.magnitude
        for position in stride(from: count + digits - 1, through: count, by: -1) {
            buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        }
        count += digits
    }

    private func flush() throws {
        try writeOut(UnsafeRawBufferPointer(start: buffer, count: count))
        count = 0
    }

    private func writeOut(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        if let error = writeFully(descriptor, bytes) {
            throw LedgerError.refused("cannot write \(name): \(String(cString: strerror(error)))", hint: nil)
        }
        written += bytes.count
    }

    /// Flushes, fsyncs and closes; returns the size and SHA-256 of everything written.
    func finish() throws -> (bytes: Int, sha256: String) {
        try flush()
        guard fsync(descriptor) == 0 else {
            throw LedgerError.refused("cannot write \(name): \(String(cString: strerror(errno)))", hint: nil)
        }
        close()
        return (written, Hex.string(hasher.finalize()))
    }

    func close() {
        guard descriptor >= 0 else { return }
        Foundation.close(descriptor)
        descriptor = -1
    }
}

/// Writes result rows straight from the SQLite statement, by column index: no Row values, no
/// Strings per cell. Columns are the query's, with the add-on's name (and for maintenances its
/// owning app's) inserted before the trailing `seq`.
struct ExportRowEncoder {
    private enum Field {
        case column(Int32, boolean: Bool, json: Bool)
        case addonName(addonIDColumn: Int32)
        case appName(addonIDColumn: Int32)
    }

    private let format: ExportFormat
    private let fields: [Field]
    private let headers: [String]
    /// NDJSON: what precedes each value, `{"id":` then `,"uuid":` and so on.
    private let keys: [[UInt8]]
    /// Add-on id → (add-on name, owning app name), read once: a lookup per row instead of a join.
    private let names: [Int64: (addon: [UInt8], app: [UInt8])]

    init(entity: ExportEntity, format: ExportFormat, columns: [String], _ db: LedgerSQL) throws {
        self.format = format
        var fields: [Field] = []
        var headers: [String] = []
        for (index, column) in columns.enumerated() {
            let index = Int32(index)
            if column == "seq", entity != .trail, let addonID = columns.firstIndex(of: "addon_id") {
                fields.append(.addonName(addonIDColumn: Int32(addonID)))
                headers.append("addon")
                if entity == .maintenances {
                    fields.append(.appName(addonIDColumn: Int32(addonID)))
                    headers.append("app")
                }
            }
            fields.append(.column(index, boolean: entity.booleanColumns.contains(column), json: entity == .trail && column == "payload"))
            headers.append(column)
        }
        self.fields = fields
        self.headers = headers
        keys = headers.enumerated().map { index, header in
            Array(((index == 0 ? "{" : ",") + JSONValue.string(header).compactText + ":").utf8)
        }
        var names: [Int64: (addon: [UInt8], app: [UInt8])] = [:]
        if entity != .trail {
            try db.rows("SELECT addons.id, addons.name, apps.name FROM addons JOIN apps ON apps.id = addons.app_id") { row in
                names[row[0]] = (Array((row[1] as String).utf8), Array((row[2] as String).utf8))
            }
        }
        self.names = names
    }

    func writeHeader(to file: ExportFile) throws {
        if format == .csv { try file.append(Array(CSV.row(headers).utf8)) }
    }

    func writeRow(_ row: RawColumns, to file: ExportFile) throws {
        for (index, field) in fields.enumerated() {
            switch format {
            case .ndjson: try file.append(keys[index])
            case .csv: if index > 0 { try file.append(UInt8(ascii: ",")) }
            }
            switch field {
            case .column(let column, let boolean, let json):
                try writeValue(row, column, boolean: boolean, json: json, to: file)
            case .addonName(let column):
                try writeText(name(row, column).addon, to: file)
            case .appName(let column):
                try writeText(name(row, column).app, to: file)
            }
        }
        switch format {
        case .ndjson: try file.append(Self.ndjsonEnd)
        case .csv: try file.append(Self.csvEnd)
        }
    }

    private static let ndjsonEnd = Array("}\n".utf8)
    private static let csvEnd = Array("\r\n".utf8)
    private static let null = Array("null".utf8)
    private static let `true` = Array("true".utf8)
    private static let `false` = Array("false".utf8)

    private func name(_ row: RawColumns, _ addonIDColumn: Int32) -> (addon: [UInt8], app: [UInt8]) {
        // Foreign keys hold every addon_id to an add-on of the snapshot the names were read in.
        names[row.int64(addonIDColumn)]!
    }

    private func writeValue(_ row: RawColumns, _ column: Int32, boolean: Bool, json: Bool, to file: ExportFile) throws {
        switch row.kind(column) {
        case .null:
            if format == .ndjson { try file.append(Self.null) }
        case .integer:
            let value = row.int64(column)
            if boolean, format == .ndjson {
                try file.append(value != 0 ? Self.true : Self.false)
            } else {
                try file.appendDecimal(value)
            }
        case .real:
            let value = row.double(column)
            try file.append(Array((value.isFinite || format == .csv ? String(value) : "null").utf8))
        case .text, .blob:
            let text = row.text(column)
            if json, format == .ndjson {
                try file.append(text) // the stored payload, valid JSON by the schema's CHECK
            } else {
                try writeText(text, to: file)
            }
        }
    }

    private func writeText(_ text: [UInt8], to file: ExportFile) throws {
        try text.withUnsafeBytes { try writeText($0, to: file) }
    }

    /// A JSON string (escaped as `JSONValue` does), or a CSV field (quoted as `CSV.row` does).
    private func writeText(_ text: UnsafeRawBufferPointer, to file: ExportFile) throws {
        let quote = UInt8(ascii: "\"")
        switch format {
        case .ndjson:
            // Most text needs no escaping: copy it whole.
            guard JSONBytes.needsEscaping(text) else {
                try file.append(quote)
                try file.append(text)
                return try file.append(quote)
            }
            var escaped: [UInt8] = []
            JSONBytes.appendString(text, to: &escaped)
            try file.append(escaped)
        case .csv:
            guard text.contains(where: { $0 == UInt8(ascii: ",") || $0 == quote || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else {
                return try file.append(text)
            }
            try file.append(quote)
            for byte in text {
                if byte == quote { try file.append(quote) }
                try file.append(byte)
            }
            try file.append(quote)
        }
    }
}
