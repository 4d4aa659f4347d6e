import LedgerCore
import LedgerStore
import Foundation

/// What an import did.
public struct ImportSummary: Sendable, Equatable {
    public var lines = 0
    public var maintenancesRecorded = 0
    public var maintenancesAlreadyRecorded = 0
    public var appsCreated = 0
    public var addonsCreated = 0
    public var attachmentsCreated = 0
    /// Attachment names whose app the shape does not tell (see `ensureAttachments`).
    public var attachmentsLeftOut = 0
}

/// Lines of a file or of standard input, read through C stdio (fast, and memory stays flat).
///
/// Read in chunks rather than with getline (issue 13, found by fuzz/cli_fuzz.py): getline grows
/// its buffer for a line of any length, so `import /dev/zero` (one endless line) took memory
/// until the system ran out; and its -1 means both the end of the file and a failed read, so
/// that failure (or EIO, or a folder given as standard input) passed for the end of the file:
/// the lines before it were kept and the import said it was done, exit 0. A line is now read up
/// to `maximumLineBytes`, and a read that fails is an error that names its line.
public final class LineReader {
    /// The longest line read (an import line is about 1 KB; a description may make it longer).
    static let maximumLineBytes = 64 << 20
    private let file: UnsafeMutablePointer<FILE>
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)
    private var chunkStart = 0
    private var chunkEnd = 0
    /// When set, every byte read goes through it (`rebuild` checks a file against its manifest
    /// as it reads it), and `bytesRead` counts them.
    var hasher: SHA256Hasher?
    private(set) var bytesRead = 0
    /// Set when the last line returned ended the file without a line break.
    private(set) var endedWithoutLineBreak = false

    /// `-` reads standard input.
    public init(path: String) throws {
        var isFolder: ObjCBool = false
        if path != "-", FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw LedgerError.invalidInput("\(path) is a folder", hint: "Give an NDJSON file, or - for standard input.")
        }
        guard let opened = path == "-" ? fdopen(STDIN_FILENO, "r") : fopen(path, "r") else {
            throw LedgerError.notFound("cannot read \(path): \(String(cString: strerror(errno)))", hint: "Give an NDJSON file, or - for standard input.")
        }
        file = opened
    }

    deinit {
        fclose(file)
    }

    /// The next line without its line break, or nil at the end.
    func next() throws -> [UInt8]? {
        var line: [UInt8] = []
        while true {
            if chunkStart == chunkEnd {
                chunkStart = 0
                chunkEnd = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
                if chunkEnd == 0 {
                    if ferror(file) != 0 {
                        throw LedgerError.refused("cannot be read (\(String(cString: strerror(errno))))", hint: nil)
                    }
                    // The end; a last line without its line break is a line.
                    endedWithoutLineBreak = !line.isEmpty
                    return line.isEmpty ? nil : Self.trimmed(line)
                }
                bytesRead += chunkEnd
                if hasher != nil { chunk.withUnsafeBytes { hasher!.update(UnsafeRawBufferPointer(rebasing: $0[..<chunkEnd])) } }
            }
            let newline = chunk.withUnsafeBytes { chunk in
                memchr(chunk.baseAddress! + chunkStart, 0x0A, chunkEnd - chunkStart).map { chunk.baseAddress!.distance(to: UnsafeRawPointer($0)) }
            }
            let end = newline ?? chunkEnd
            guard line.count + (end - chunkStart) <= Self.maximumLineBytes else {
                throw LedgerError.badData("longer than \(Self.maximumLineBytes >> 20) MiB, the most a line may hold", hint: nil)
            }
            line.append(contentsOf: chunk[chunkStart..<end])
            if let newline {
                chunkStart = newline + 1
                return Self.trimmed(line)
            }
            chunkStart = chunkEnd
        }
    }

    /// Without the carriage returns before its line feed.
    private static func trimmed(_ line: [UInt8]) -> [UInt8] {
        var line = line
        while line.last == 0x0D { line.removeLast() }
        return line
    }
}

extension Ledger {
    /// Lines per trail entry, and per round of look-ups. An import of a file is one command,
    /// but one entry for a whole file would be as big as the file's rows (about 250 bytes of
    /// payload a line: 250 MB for a million lines), and an inclusion proof of one maintenance
    /// carries its whole entry, as `audit:trail` prints it whole. A thousand lines make entries
    /// of about 250 KB, and a thousand entries for a million lines, whose own cost (a hash, a
    /// row, a node of the tree now and then) is well under a percent of the import's.
    static let importLinesPerEntry = 1_000

    /// `import FILE|-`: NDJSON maintenance objects in the Heroku shape (`data:maintenances:info
    /// --json`). Creates the apps, add-ons and attachments it names that the ledger lacks and
    /// records each maintenance once: a uuid already recorded with the same values is skipped,
    /// so importing a file again changes nothing. One transaction: a bad line (reported with its
    /// number) leaves the ledger as it was.
    ///
    /// Set-based: a batch of lines is read and checked on its own first (on a second thread,
    /// while the batch before is recorded), the ledger is then asked in a few queries what it
    /// holds of the batch's uuids, apps, add-ons and attachments, and the lines are recorded in
    /// order (so the first bad line is the one reported), as one entry, each row bound straight
    /// to SQLite and recorded in the trail from the values bound.
    public func importMaintenances(from reader: LineReader, source: String) throws -> ImportSummary {
        let lines = ImportLines(reader: reader, source: source, context: context)
        let batches = ReadAhead(depth: 2) { try lines.next(upTo: Self.importLinesPerEntry) }
        defer { batches.stop() }
        var importer = MaintenanceImporter(actor: context.actor, now: context.now)
        try database.allOrNothing {
            while let batch = try batches.next() {
                try database.record(context) { mutation in
                    mutation.describe(action: "import", subject: "file:\(source)")
                    try importer.record(batch, mutation)
                }
                importer.summary.lines = batch.lastLine
                batches.recycle(batch)
            }
        }
        return importer.summary
    }

    static func importHint(_ source: String) -> String {
        "Nothing from \(source) was imported; fix that line and import the file again."
    }
}

extension LedgerError {
    /// The same error, placed on an import's line.
    func onLine(_ number: Int, of source: String) -> LedgerError {
        let placed = "line \(number) of \(source): \(message)"
        let hint = Ledger.importHint(source)
        return switch self {
        case .invalidInput, .badData: .badData(placed, hint: hint)
        default: .refused(placed, hint: hint)
        }
    }
}

/// Lines of an import read and checked on their own, without the ledger.
struct LineBatch: Sendable {
    /// The file, as errors name it.
    let source: String
    /// The maintenances, by line number (blank lines hold none).
    var maintenances: [(line: Int, maintenance: ImportedMaintenance)] = []
    /// The apps and add-ons the maintenances name, each once, for the recording thread to look up.
    var apps: [ImportKey] = []
    var addons: [ImportKey] = []
    /// The maintenances' rows, prepared for the batch's entry.
    var rows: PreparedRows
    /// The line that could not be read or is not a maintenance: it ends the batch and the
    /// import, once the lines before it are recorded.
    var failure: (line: Int, error: LedgerError)?
    /// The number of the batch's last line read.
    var lastLine = 0
}

/// Reads an import's lines a batch at a time.
final class ImportLines: @unchecked Sendable {
    // Unchecked: used by one thread at a time, the one reading ahead (`ReadAhead`).
    private let reader: LineReader
    private let source: String
    private let context: LedgerContext
    /// The lines read so far.
    private var count = 0
    private var ended = false

    init(reader: LineReader, source: String, context: LedgerContext) {
        self.reader = reader
        self.source = source
        self.context = context
    }

    /// The next `limit` lines, fewer at the end or up to a failure; nil once all are read.
    func next(upTo limit: Int) throws -> LineBatch? {
        guard !ended else { return nil }
        var batch = LineBatch(source: source, rows: PreparedRows(for: context))
        var apps: Set<ImportKey> = []
        var addons: Set<ImportKey> = []
        for _ in 0..<limit {
            let line: [UInt8]
            do {
                guard let next = try reader.next() else {
                    ended = true
                    break
                }
                line = next
            } catch let error as LedgerError {
                batch.failure = (count + 1, error)
                break
            }
            count += 1
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
            do {
                let maintenance = try ImportedMaintenance(line: line, now: context.now, rows: &batch.rows)
                batch.maintenances.append((count, maintenance))
                if apps.insert(maintenance.app).inserted { batch.apps.append(maintenance.app) }
                if addons.insert(maintenance.addon).inserted { batch.addons.append(maintenance.addon) }
            } catch let error as LedgerError {
                batch.failure = (count, error)
                break
            }
        }
        if batch.failure != nil { ended = true }
        batch.lastLine = count
        return batch
    }
}
