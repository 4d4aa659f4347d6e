import Foundation
import LedgerCore
import LedgerStore

/// Where `rebuild` reads a trail from: one NDJSON file (an export's data file, checked against
/// its manifest when that lies beside it; or what `audit:trail --ndjson` printed; `-` for
/// standard input), or an export folder, whose trail files it reads in seq order, each checked
/// against its manifest. A folder's files must cover the trail from seq 1 without a gap or an
/// overlap, each continue the one before, and reach its cursor; that is settled from the names,
/// the manifests and each file's first line before anything is replayed.
struct TrailSource {
    struct File {
        let path: String
        /// How messages name it: its name in the folder, or the path as given.
        let name: String
        let manifest: ExportManifest?
    }
    let path: String
    let files: [File]
    /// Files left out (no manifest: an export interrupted, or under way).
    let warnings: [String]

    /// The bytes of its files, 0 when one is standard input or another stream (then rebuild
    /// shows no progress).
    var bytes: Int {
        let sizes = files.map { file -> Int in
            var status = stat()
            guard file.path != "-", stat(file.path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return 0 }
            return Int(status.st_size)
        }
        return sizes.contains(0) ? 0 : sizes.reduce(0, +)
    }

    static func open(_ path: String) throws -> TrailSource {
        if path == "-" { return TrailSource(path: path, files: [File(path: path, name: "standard input", manifest: nil)], warnings: []) }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw LedgerError.notFound("no file or folder at \(path)",
                                       hint: "Point --from at an export folder, a file `export --entity trail` wrote, or what `audit:trail --ndjson` printed.")
        }
        guard isFolder.boolValue else {
            let manifest = try manifest(at: path + ".manifest.json", of: (path as NSString).lastPathComponent, named: path)
            if let manifest, manifest.firstSeq != 1 {
                throw LedgerError.badData("seq 1 to \(manifest.firstSeq - 1) are missing: \(path) is an export of seq \(manifest.firstSeq) to \(manifest.lastSeq)",
                                          hint: "Rebuild from the folder that holds the files before it; nothing was written.")
            }
            return TrailSource(path: path, files: [File(path: path, name: path, manifest: manifest)], warnings: [])
        }
        return try folder(path)
    }

    private static func folder(_ folder: String) throws -> TrailSource {
        func inFolder(_ name: String) -> String { folder.hasSuffix("/") ? folder + name : folder + "/" + name }
        // The cursor first: an export under way moves it last, so the files listed after it reach it.
        let cursorPath = inFolder(ExportFolder.cursorName(.trail, .ndjson))
        let cursor = try FileManager.default.contents(atPath: cursorPath).map { data in
            guard let cursor = try? ExportFolder.decode(ExportCursor.self, from: data) else {
                throw LedgerError.badData("\(cursorPath) is not a cursor export wrote", hint: TrailLineReader.hint)
            }
            return cursor
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw LedgerError.refused("cannot list \(folder): \(LedgerDatabase.describe(error))", hint: nil)
        }
        let present = Set(names)
        var files: [(file: File, first: Int64, last: Int64)] = []
        var unlisted: [(name: String, first: Int64)] = []
        for name in names {
            guard let range = dataFileRange(name) else { continue }
            guard present.contains(ExportFolder.manifestName(of: name)) else {
                unlisted.append((name, range.first))
                continue
            }
            let manifest = try manifest(at: inFolder(ExportFolder.manifestName(of: name)), of: name, named: name)!
            guard manifest.firstSeq == range.first, manifest.lastSeq == range.last else {
                throw LedgerError.badData("\(ExportFolder.manifestName(of: name)) says its file covers seq \(manifest.firstSeq) to \(manifest.lastSeq), not what its name says",
                                          hint: TrailLineReader.hint)
            }
            files.append((File(path: inFolder(name), name: name, manifest: manifest), range.first, range.last))
        }
        for name in names where name.hasSuffix(".manifest.json") {
            let data = String(name.dropLast(".manifest.json".count))
            if dataFileRange(data) != nil, !present.contains(data) {
                throw LedgerError.badData("\(name) is in \(folder), but not the file it describes, \(data)", hint: TrailLineReader.hint)
            }
        }
        guard !files.isEmpty else {
            throw LedgerError.notFound("\(folder) holds no trail export (`export --entity trail --format ndjson` files with their manifests)",
                                       hint: "Point --from at the folder a scheduled `export --entity trail` writes to.")
        }
        files.sort { ($0.first, $0.last) < ($1.first, $1.last) }
        func leftOut(_ range: ClosedRange<Int64>) -> String {
            let names = unlisted.filter { range.contains($0.first) }.map(\.name).sorted()
            return names.isEmpty ? "" : " (\(names.joined(separator: ", ")) has no manifest: an export was interrupted, or is under way)"
        }
        if files[0].first != 1 {
            throw LedgerError.badData("seq 1 to \(files[0].first - 1) are missing: the first trail file in \(folder), \(files[0].file.name), starts at seq \(files[0].first)\(leftOut(1...files[0].first - 1))",
                                      hint: TrailLineReader.hint)
        }
        for (before, after) in zip(files, files.dropFirst()) {
            if after.first <= before.last {
                throw LedgerError.badData("\(folder) mixes the exports of two ledgers: \(before.file.name) and \(after.file.name) both hold seq \(after.first)",
                                          hint: "Give rebuild a folder that one ledger exported to; nothing was written.")
            }
            if after.first > before.last + 1 {
                let missing = after.first - 1 > before.last + 1 ? "seq \(before.last + 1) to \(after.first - 1) are" : "seq \(before.last + 1) is"
                throw LedgerError.badData("\(missing) missing from \(folder): no trail file covers \(after.first - 1 > before.last + 1 ? "them" : "it") between \(before.file.name) and \(after.file.name)\(leftOut(before.last + 1...after.first - 1))",
                                          hint: TrailLineReader.hint)
            }
            // Each file must go on from the head the one before ended at.
            guard let link = try firstLink(after.file), Hex.decode(digits: link) == Hex.decode(before.file.manifest!.headHash) else {
                throw LedgerError.badData("\(folder) mixes the exports of two ledgers: \(after.file.name) does not go on from \(before.file.name) (its seq \(after.first) follows another entry than that file's seq \(before.last))",
                                          hint: "Give rebuild a folder that one ledger exported to; nothing was written.")
            }
        }
        let last = files[files.count - 1]
        if let cursor, cursor.seq > last.last {
            throw LedgerError.badData("\(folder)'s cursor says its trail export reached seq \(cursor.seq), but its files end at seq \(last.last): a file is missing\(leftOut(last.last + 1...cursor.seq))",
                                      hint: TrailLineReader.hint)
        }
        if let cursor, let ending = files.first(where: { $0.last == cursor.seq }), Hex.decode(cursor.headHash) != Hex.decode(ending.file.manifest!.headHash) {
            throw LedgerError.badData("\(folder) mixes the exports of two ledgers: its cursor names another entry at seq \(cursor.seq) than \(ending.file.name)",
                                      hint: "Give rebuild a folder that one ledger exported to; nothing was written.")
        }
        let warnings = unlisted.filter { $0.first > last.last }.map(\.name).sorted().map {
            "left out \($0), which has no manifest (an export was interrupted, or is under way)"
        }
        return TrailSource(path: folder, files: files.map(\.file), warnings: warnings)
    }

    /// `trail-<first seq>-<last seq>.ndjson`, as `export` names its files.
    private static func dataFileRange(_ name: String) -> (first: Int64, last: Int64)? {
        let prefix = "trail-", suffix = ".ndjson"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let range = name.dropFirst(prefix.count).dropLast(suffix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard range.count == 2, let first = Int64(range[0]), let last = Int64(range[1]), first >= 1, last >= first else { return nil }
        return (first, last)
    }

    /// The manifest at `path`, if there is one, of the file `name` (`named` in messages).
    private static func manifest(at path: String, of name: String, named: String) throws -> ExportManifest? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let manifest = try? ExportFolder.decode(ExportManifest.self, from: data) else {
            throw LedgerError.badData("\(path) is not a manifest export wrote", hint: TrailLineReader.hint)
        }
        guard manifest.file == name, manifest.entity == .trail, manifest.format == .ndjson else {
            throw LedgerError.badData("\(path) is the manifest of \(manifest.entity.rawValue) \(manifest.format.rawValue) file \(manifest.file), not of \(named)",
                                      hint: TrailLineReader.hint)
        }
        return manifest
    }

    /// The prev_hash of a file's first entry; nil when its first line has none.
    private static func firstLink(_ file: File) throws -> [UInt8]? {
        guard let line = try LineReader(path: file.path).next() else { return nil }
        return line.withUnsafeBytes { TrailLineReader.link($0) }
    }
}

/// Entries read from a `TrailSource`, a batch at a time, on the thread that reads ahead.
struct ReadBatch: Sendable {
    var entries: [ReadEntry] = []
    /// The files read to their end and found whole (against their manifests), after the entries.
    var filesRead: [Int] = []
    /// The bytes of the source read up to the batch's end.
    var bytesRead = 0
}

/// What stopped the reading; `manifestOf`: the file whose manifest it contradicts.
struct TrailReadProblem: Error {
    let error: LedgerError
    let manifestOf: Int?
}

/// Reads a `TrailSource`'s files in order, one line at a time, checking each file against its
/// manifest as it goes. A problem in a file with a manifest is reported as the file's when the
/// file does not match its manifest: the file was then changed, and that is what went wrong.
final class TrailReading: @unchecked Sendable {
    // Unchecked: used by one thread at a time, the one reading ahead (`ReadAhead`).
    private let source: TrailSource
    private var lines: TrailLineReader
    private var fileIndex = 0
    private var reader: LineReader?
    /// The bytes of the files before `reader`'s.
    private var bytesBefore = 0
    private var lineNumber = 0
    /// The first and last entry of the file being read.
    private var first: ReadEntry?
    private var last: ReadEntry?
    /// The problem that stopped the reading, held back for the batch read before it.
    private var pending: (any Error)?

    init(_ source: TrailSource, keptTags: [[UInt8]]) {
        self.source = source
        lines = TrailLineReader(keptTags: keptTags)
    }

    /// The entries of the next `budget` bytes of lines (or to the end of a file); nil at the end.
    /// A problem comes after the entries read before it, so that the replay meets those first.
    func next(budget: Int) throws -> ReadBatch? {
        if let problem = pending { throw problem }
        var batch = ReadBatch()
        do {
            guard try read(budget: budget, into: &batch) != nil else { return nil }
        } catch {
            guard !batch.entries.isEmpty else { throw error }
            pending = error
        }
        batch.bytesRead = bytesBefore + (reader?.bytesRead ?? 0)
        return batch
    }

    private func read(budget: Int, into batch: inout ReadBatch) throws -> ReadBatch? {
        var bytes = 0
        while bytes < budget {
            guard fileIndex < source.files.count else { return batch.entries.isEmpty && batch.filesRead.isEmpty ? nil : batch }
            let file = source.files[fileIndex]
            if reader == nil {
                reader = try open(file)
                lineNumber = 0
                first = nil
                last = nil
            }
            let line: [UInt8]
            do {
                guard let next = try reader!.next() else {
                    try finish(file)
                    batch.filesRead.append(fileIndex)
                    fileIndex += 1
                    bytesBefore += reader!.bytesRead
                    reader = nil
                    return batch // a file's end ends a batch, so that its check comes with its entries
                }
                line = next
            } catch LedgerError.badData(let message, _) {
                throw settle(file, .badData("line \(lineNumber + 1) of \(file.name) is \(message)", hint: TrailLineReader.hint))
            } catch let error as LedgerError {
                throw settle(file, .refused("cannot read \(file.name): \(error.message)", hint: nil))
            }
            lineNumber += 1
            let place = "line \(lineNumber) of \(file.name)"
            if reader!.endedWithoutLineBreak {
                throw settle(file, .badData("\(file.name) is truncated: its last line, \(lineNumber), ends without a line break", hint: TrailLineReader.hint))
            }
            do {
                let entry = try lines.read(line, place: place, file: fileIndex)
                if first == nil { first = entry }
                last = entry
                batch.entries.append(entry)
            } catch let error as LedgerError {
                throw settle(file, error)
            }
            bytes += line.count
        }
        return batch
    }

    private func open(_ file: TrailSource.File) throws -> LineReader {
        let reader: LineReader
        do {
            reader = try LineReader(path: file.path)
        } catch let error as LedgerError {
            throw TrailReadProblem(error: error, manifestOf: nil)
        }
        if file.manifest != nil { reader.hasher = SHA256Hasher() }
        return reader
    }

    /// The problem to report for `error`, met reading `file`: the file's own, if the rest of it
    /// shows it does not match its manifest.
    private func settle(_ file: TrailSource.File, _ error: LedgerError) -> TrailReadProblem {
        guard let manifest = file.manifest, let reader else { return TrailReadProblem(error: error, manifestOf: nil) }
        while (try? reader.next()) ?? nil != nil {}
        if let mismatch = mismatch(file, manifest, reader) { return TrailReadProblem(error: mismatch, manifestOf: fileIndex) }
        return TrailReadProblem(error: error, manifestOf: nil)
    }

    private func mismatch(_ file: TrailSource.File, _ manifest: ExportManifest, _ reader: LineReader) -> LedgerError? {
        if reader.bytesRead < manifest.bytes {
            return .badData("\(file.name) is truncated: it holds \(reader.bytesRead) bytes, its manifest says \(manifest.bytes)", hint: TrailLineReader.hint)
        }
        guard var hasher = reader.hasher else { return nil }
        let sha256 = hasher.finalize().withUnsafeBytes { Hex.string($0) }
        guard reader.bytesRead == manifest.bytes, sha256 == manifest.sha256 else {
            return .badData("\(file.name) does not match its manifest: its SHA-256 is \(sha256), the manifest says \(manifest.sha256)",
                            hint: "The file was changed after export wrote it; nothing was written.")
        }
        return nil
    }

    /// At the end of a file: it holds entries, and what its manifest says of them.
    private func finish(_ file: TrailSource.File) throws {
        guard let first, let last else {
            throw TrailReadProblem(error: .badData("\(file.name) holds no trail entry", hint: TrailLineReader.hint), manifestOf: nil)
        }
        guard let manifest = file.manifest, let reader else { return }
        if let mismatch = mismatch(file, manifest, reader) { throw TrailReadProblem(error: mismatch, manifestOf: fileIndex) }
        guard first.seq == manifest.firstSeq, last.seq == manifest.lastSeq, lineNumber == manifest.rows,
              Hex.decode(manifest.headHash) == last.rawHash else {
            throw TrailReadProblem(error: .badData("\(file.name) does not hold what its manifest says: seq \(manifest.firstSeq) to \(manifest.lastSeq) ending at hash \(manifest.headHash)",
                                                   hint: TrailLineReader.hint), manifestOf: fileIndex)
        }
    }
}

extension TrailLineReader {
    /// The prev_hash a line names (its hex digits), read without checking the entry.
    static func link(_ line: UnsafeRawBufferPointer) -> [UInt8]? {
        var scanner = PayloadScanner(line)
        var texts: [UInt8] = []
        guard scanner.expect("{\"seq\":"), scanner.integer() != nil else { return nil }
        for key in ["recorded_at", "actor", "action", "subject"] as [StaticString] {
            guard scanner.expect(","), scanner.expectKey(key), scanner.text(into: &texts) else { return nil }
        }
        guard scanner.expect(",\"payload\":"), scanner.expect("null") || (scanner.expect("{") && scanner.skipObjectRest()),
              scanner.expect(","), scanner.expectKey("prev_hash") else { return nil }
        var link: [UInt8] = []
        return scanner.text(into: &link) ? link : nil
    }
}
