import Crypto
import Foundation
import LedgerCore
import LedgerStore

/// What a folder's cursor file holds: the last trail entry its files cover, that entry's hash
/// (so a folder fed by one ledger refuses another), and the format version of its files (nil
/// in cursors written before there was one: version 1).
struct ExportCursor: Codable, Equatable {
    var seq: Int64
    var headHash: String
    var formatVersion: Int?

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
        // Released explicitly, not by the close alone: a process this one forks to run another
        // program holds a copy of the descriptor until its exec, and with it the lock, so the
        // next export into this folder would be refused as "another process".
        flock(lock, LOCK_UN)
        close(lock)
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

    static func cursorName(_ entity: ExportEntity, _ format: ExportFormat) -> String {
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
        // Files of one version per folder: a reader globbing it gets one set of columns.
        if cursor.seq > 0, !entity.continuedVersions.contains(cursor.formatVersion ?? 1) {
            throw LedgerError.refused("\(folder) holds \(entity.rawValue) \(format.rawValue) files of export format \(cursor.formatVersion ?? 1); this maintledger writes format \(entity.formatVersion) (other columns, booleans true/false), which would mix in one folder",
                                      hint: "Export to a new folder (its first file holds every row); the files already here stay as they are.")
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
                cursor = ExportCursor(seq: manifest.lastSeq, headHash: manifest.headHash, formatVersion: manifest.formatVersion)
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
        try TrailHead.hash(at: seq, db)
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
    func writeAtomically(_ name: String, _ body: (BufferedWriter) throws -> Void) throws -> (bytes: Int, sha256: String) {
        var template = Array(path(of: Self.tempPrefix + "XXXXXX").utf8CString)
        let descriptor = mkstemp(&template) // mode 0600: exports name customers, as the ledger does
        guard descriptor >= 0 else { throw Self.cannotWrite(folder) }
        defer { close(descriptor) }
        let temp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // The manifest's size and SHA-256 are of the bytes as they go out.
        var hasher = SHA256()
        var bytes = 0
        let file = BufferedWriter(descriptor: descriptor, destination: path(of: name)) { chunk in
            hasher.update(bufferPointer: chunk)
            bytes += chunk.count
        }
        do {
            try body(file)
            try file.finish()
            guard fsync(descriptor) == 0 else {
                throw LedgerError.refused("cannot write \(path(of: name)): \(String(cString: strerror(errno)))", hint: nil)
            }
            guard rename(temp, path(of: name)) == 0 else { throw Self.cannotWrite(folder) }
            try syncFolder()
            return (bytes, Hex.string(hasher.finalize()))
        } catch {
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

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
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
