import LedgerCore
import LedgerStore
import Foundation

/// What an import did, or would do (`dryRun`).
public struct ImportSummary: Sendable, Equatable {
    /// The maintenance objects read, and the lines they were on.
    public var objects = 0
    public var lines = 0
    /// Maintenances recorded anew; recorded before and moved on by this import (`progressed`:
    /// a later status, or times and a schedule it had not); recorded before as they are.
    public var new = 0
    public var progressed = 0
    public var unchanged = 0
    /// Maintenances the ledger's rules refuse. An import that refuses one keeps nothing, so
    /// only a dry run, which reads on to report them all, counts more than none.
    public var refused = 0
    /// Objects of add-ons without a maintenance (status `none`, as `data:maintenances --json`
    /// prints them), which hold nothing to record.
    public var withoutMaintenance = 0
    public var appsCreated = 0
    public var addonsCreated = 0
    public var attachmentsCreated = 0
    /// Attachment names whose app the shape does not tell (see `ensureAttachments`).
    public var attachmentsLeftOut = 0
    /// Keys the objects hold that no maintenance field is read from (`addon.foo`).
    public var unknownKeys = UnknownKeys()
}

/// Keys of imported objects that no field is read from, with how many objects hold each: the
/// first `namedAtMost` names met, and how many times others were met. All of them were kept and
/// printed in the summary: a file whose every object holds a key of its own made a summary line
/// as long as the file.
public struct UnknownKeys: Sendable, Equatable {
    static let namedAtMost = 10
    public private(set) var named: [String: Int] = [:]
    /// The objects holding keys beyond the names kept, once for each such key.
    public private(set) var others = 0

    public var isEmpty: Bool { named.isEmpty }

    mutating func count(_ key: String, times: Int = 1) {
        if named[key] != nil || named.count < Self.namedAtMost {
            named[key, default: 0] += times
        } else {
            others += times
        }
    }

    /// Another's counts added, its names in order (which names are kept does not depend on a
    /// dictionary's order).
    mutating func add(_ other: UnknownKeys) {
        for (key, times) in other.named.sorted(by: { $0.key < $1.key }) { count(key, times: times) }
        others += other.others
    }
}

/// How an import reads and records.
public struct ImportOptions: Sendable {
    /// The app and the add-on of objects that name none (`--app`, `--addon`); an object that
    /// names another is refused.
    public var app: String?
    public var addon: String?
    /// Reads and checks everything, reports what would be recorded and every maintenance the
    /// rules refuse, and changes nothing.
    public var dryRun = false

    public init(app: String? = nil, addon: String? = nil, dryRun: Bool = false) {
        self.app = app
        self.addon = addon
        self.dryRun = dryRun
    }
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
            throw LedgerError.invalidInput("\(path) is a folder", hint: "Give a file, or - for standard input.")
        }
        guard let opened = path == "-" ? fdopen(STDIN_FILENO, "r") : fopen(path, "r") else {
            throw LedgerError.notFound("cannot read \(path == "-" ? "standard input" : path): \(String(cString: strerror(errno)))",
                                       hint: "Give a file, or - for standard input.")
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
    /// Objects per trail entry, and per round of look-ups. An import of a file is one command,
    /// but one entry for a whole file would be as big as the file's rows (about 250 bytes of
    /// payload a line: 250 MB for a million lines), and an inclusion proof of one maintenance
    /// carries its whole entry, as `audit:trail` prints it whole. A thousand lines make entries
    /// of about 250 KB, and a thousand entries for a million lines, whose own cost (a hash, a
    /// row, a node of the tree now and then) is well under a percent of the import's.
    static let importLinesPerEntry = 1_000

    /// `import FILE|-`: maintenance objects in the Heroku shape (`data:maintenances:info
    /// --json`), as NDJSON or as the JSON Heroku's CLI prints (`ImportRecords`). Creates the
    /// apps, add-ons and attachments it names that the ledger lacks and records each maintenance
    /// once, by its uuid (derived when the object has none: `HerokuMaintenance.derivedUUID`): a
    /// uuid recorded with the same values is unchanged, so importing a file again changes
    /// nothing; one recorded at an earlier point of its lifecycle is moved on
    /// (`MaintenanceProgress`). One transaction: a bad object (reported with its line or element
    /// number) leaves the ledger as it was. A dry run reads to the end, reporting each
    /// maintenance the rules refuse to `refused`, and rolls everything back.
    ///
    /// Set-based: a batch of lines is read and checked on its own first (on a second thread,
    /// while the batch before is recorded), the ledger is then asked in a few queries what it
    /// holds of the batch's uuids, apps, add-ons and attachments, and the lines are recorded in
    /// order (so the first bad line is the one reported), as one entry, each row bound straight
    /// to SQLite and recorded in the trail from the values bound. `progress` is told the bytes
    /// read after each batch.
    public func importMaintenances(from reader: LineReader, source: String, options: ImportOptions = ImportOptions(),
                                   progress: (_ bytesRead: Int, _ objects: Int) -> Void = { _, _ in },
                                   refused: (LedgerError) -> Void = { _ in }) throws -> ImportSummary {
        let objects = ImportObjects(records: ImportRecords(reader: reader, source: source), source: source, options: options, context: context)
        let batches = ReadAhead(depth: 2) { try objects.next(upTo: Self.importLinesPerEntry) }
        defer { batches.stop() }
        var importer = MaintenanceImporter(actor: context.actor, now: context.now, collectsRefusals: options.dryRun)
        do {
            try database.allOrNothing {
                while let batch = try batches.next() {
                    try database.record(context) { mutation in
                        mutation.describe(action: "import", subject: "file:\(source)")
                        try importer.record(batch, mutation)
                    }
                    importer.summary.objects = batch.objects
                    importer.summary.lines = batch.lines
                    progress(batch.bytesRead, batch.objects)
                    for refusal in importer.takeRefusals() { refused(refusal) }
                    batches.recycle(batch)
                }
                if options.dryRun { throw DryRunEnded() }
            }
        } catch is DryRunEnded {
            // Read to the end, and rolled back.
        } catch {
            // What a dry run refused before the input ended it.
            for refusal in importer.takeRefusals() { refused(refusal) }
            throw error
        }
        return importer.summary
    }

    static func importHint(_ source: String, _ place: ImportPlace) -> String {
        "Nothing from \(source) was imported; fix that \(place.unit.rawValue) and import the file again."
    }
}

/// Thrown to roll a dry run back once it has read everything.
private struct DryRunEnded: Error {}

extension LedgerError {
    /// The same error, placed on an import's line or element.
    func at(_ place: ImportPlace, of source: String) -> LedgerError {
        let placed = "\(place.description(of: source)): \(message)"
        let hint = Ledger.importHint(source, place)
        return switch self {
        case .invalidInput, .badData: .badData(placed, hint: hint)
        default: .refused(placed, hint: hint)
        }
    }
}

/// Objects of an import read and checked on their own, without the ledger.
struct LineBatch: Sendable {
    /// The file, as errors name it.
    let source: String
    /// The maintenances, with their places.
    var maintenances: [(place: ImportPlace, maintenance: ImportedMaintenance)] = []
    /// The apps and add-ons the maintenances name, each once, for the recording thread to look up.
    var apps: [ImportKey] = []
    var addons: [ImportKey] = []
    /// The maintenances' rows, prepared for the batch's entry.
    var rows: PreparedRows
    /// Objects that are not maintenances (placed errors): in a dry run, reported and read past;
    /// otherwise the first ends the batch and the import, once the objects before it are recorded.
    var refusals: [(place: ImportPlace, error: LedgerError)] = []
    /// What cannot be read on from (the input is not JSON as an import takes it, or cannot be
    /// read): it ends the import.
    var failure: LedgerError?
    /// Objects without a maintenance, and keys no field is read from (see `ImportSummary`).
    var withoutMaintenance = 0
    var unknownKeys = UnknownKeys()
    /// The objects, lines and bytes read up to the batch's end.
    var objects = 0
    var lines = 0
    var bytesRead = 0
}

/// Reads an import's objects a batch at a time.
final class ImportObjects: @unchecked Sendable {
    // Unchecked: used by one thread at a time, the one reading ahead (`ReadAhead`).
    private let records: ImportRecords
    private let source: String
    private let options: ImportOptions
    private let context: LedgerContext
    private var count = 0
    private var ended = false

    init(records: ImportRecords, source: String, options: ImportOptions, context: LedgerContext) {
        self.records = records
        self.source = source
        self.options = options
        self.context = context
    }

    /// The next `limit` lines' objects, fewer at the end or up to a failure; nil once all are read.
    func next(upTo limit: Int) throws -> LineBatch? {
        guard !ended else { return nil }
        var batch = LineBatch(source: source, rows: PreparedRows(for: context))
        var apps: Set<ImportKey> = []
        var addons: Set<ImportKey> = []
        let lastLine = records.lines + limit
        while records.lines < lastLine {
            let record: (place: ImportPlace, bytes: [UInt8]?)
            do {
                guard let next = try records.next() else {
                    ended = true
                    break
                }
                record = next
            } catch let error as LedgerError {
                batch.failure = error
                break
            }
            guard let bytes = record.bytes else { continue }
            count += 1
            do {
                guard let maintenance = try ImportedMaintenance(bytes: bytes, at: record.place, options: options, now: context.now, rows: &batch.rows) else {
                    batch.withoutMaintenance += 1
                    continue
                }
                for key in maintenance.unknownKeys { batch.unknownKeys.count(key) }
                batch.maintenances.append((record.place, maintenance))
                if apps.insert(maintenance.app).inserted { batch.apps.append(maintenance.app) }
                if addons.insert(maintenance.addon).inserted { batch.addons.append(maintenance.addon) }
            } catch let error as LedgerError {
                batch.refusals.append((record.place, error.at(record.place, of: source)))
                if !options.dryRun { break }
            }
        }
        if batch.failure != nil || (!options.dryRun && !batch.refusals.isEmpty) { ended = true }
        batch.objects = count
        batch.lines = records.lines
        batch.bytesRead = records.bytesRead
        return batch
    }
}
