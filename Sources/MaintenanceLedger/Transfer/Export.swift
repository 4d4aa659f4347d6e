import LedgerCore
import LedgerStore
import Crypto
import Foundation

/// What `export` writes: maintenances and windows (rows as they stand, in the columns of the
/// auditors' views `maintenance_audit` and `window_changes`, with the trail seq of their latest
/// change) or the trail's entries themselves.
public enum ExportEntity: String, CaseIterable, Codable, Sendable {
    case maintenances, trail, windows

    /// The version of the files' columns and value spellings a new folder gets, in every
    /// manifest and cursor: a scheduled job's reader knows which it got, and a folder keeps one
    /// version (see `ExportFolder.recover`). Maintenances 3: `maintenance_audit`'s columns with
    /// who moved each maintenance last, when, and how often (migration 0009). Windows 2 (and
    /// maintenances 2, before 0009): the views' columns, booleans true/false in CSV too (version
    /// 1, before migration 0008: the tables' columns, booleans 0/1 in CSV). The trail's are
    /// unchanged: 1.
    public var formatVersion: Int {
        switch self {
        case .maintenances: 3
        case .windows: 2
        case .trail: 1
        }
    }

    /// The versions a folder that holds files of one goes on getting, in its version's columns:
    /// a scheduled job reading a folder of maintenances 2 keeps the columns it reads (3 only
    /// adds columns at the end). Version 1 has other columns and spellings: not continued.
    var continuedVersions: ClosedRange<Int> {
        self == .maintenances ? 2...3 : formatVersion...formatVersion
    }

    /// The view's columns that files of `version` do not have (those added after it).
    func columnsLeftOut(of version: Int) -> Set<String> {
        self == .maintenances && version == 2 ? ["last_moved_by", "last_moved_at", "times_moved"] : []
    }

    /// The view a table's rows are exported from, and the column naming the row.
    var view: (name: String, id: String)? {
        switch self {
        case .maintenances: ("maintenance_audit", "maintenance_id")
        case .windows: ("window_changes", "window_id")
        case .trail: nil
        }
    }
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
    /// `ExportEntity.formatVersion` of the file; absent (nil) in the manifests of version 1,
    /// written before there was a version.
    public var formatVersion: Int?
    /// The hash of trail entry `lastSeq`: the ledger head the rows were read at.
    public let headHash: String
    /// The latest signed checkpoint recorded in the ledger (`audit:checkpoint`) when the rows were
    /// read, verbatim; absent when there was none.
    public var checkpoint: String? = nil
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

/// Rows written between two reports of `export`'s progress.
private let exportProgressRows = 4096

/// Points at which an export can be stopped, to play a crash in tests.
enum ExportStep {
    case dataFileRenamed, manifestRenamed
}

extension LedgerQuerying {
    /// `export --to DIR`: writes what changed since the folder's last export of `entity` in
    /// `format` to one new file, with its manifest, then advances the folder's cursor.
    /// `progress` hears (rows written, rows to write) every few thousand rows, and at the end.
    public func export(to folder: String, entity: ExportEntity, format: ExportFormat,
                       progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> ExportResult {
        try export(to: folder, entity: entity, format: format, progress: progress, after: { _ in })
    }

    func export(to folderPath: String, entity: ExportEntity, format: ExportFormat, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in },
                after step: (ExportStep) throws -> Void) throws -> ExportResult {
        let folder = try ExportFolder.lock(folderPath)
        defer { folder.unlock() }
        try folder.removeTemporaryFiles()
        // One read transaction: the head in the manifest is the state the rows were read in.
        return try reader.read { db in
            let head = try TrailHead.read(db)
            var recovered: [String] = []
            var removed: [String] = []
            let cursor = try folder.recover(entity, format, db, recovered: &recovered, removed: &removed)
            // A folder's files keep the version of its first (`recover` refused one that cannot).
            let version = cursor.seq > 0 ? cursor.formatVersion ?? 1 : entity.formatVersion
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
                    encoder = ExportRowEncoder(entity: entity, format: format, columns: columns, leavingOut: entity.columnsLeftOut(of: version))
                    try encoder!.writeHeader(to: file)
                }) { row in
                    try encoder!.writeRow(row, to: file)
                    count += 1
                    if count % exportProgressRows == 0 { progress(count, query.rows) }
                    return true
                }
            }
            progress(count, count)
            try step(.dataFileRenamed)
            let manifest = ExportManifest(file: name, entity: entity, format: format, rows: count, bytes: data.bytes,
                                          firstSeq: cursor.seq + 1, lastSeq: head.seq, sha256: data.sha256,
                                          formatVersion: version, headHash: head.hash,
                                          checkpoint: try Checkpoint.latestNote(db))
            try folder.writeAtomically(ExportFolder.manifestName(of: name)) { file in try file.append(ExportFolder.encode(manifest)) }
            try step(.manifestRenamed)
            try folder.writeCursor(ExportCursor(seq: head.seq, headHash: head.hash, formatVersion: version), entity, format)
            return ExportResult(path: folder.path(of: name), manifest: manifest, cursor: head.seq, recovered: recovered, removed: removed)
        }
    }
}

extension ExportEntity {
    /// The rows to export after trail entry `cursor`. The first export (cursor 0) reads the
    /// tables directly, without the trail: every row is as of `head`, which stands as its seq.
    /// Later ones take the rows that trail entries after the cursor inserted or updated, each with
    /// the seq of its latest change, in id order (CROSS JOIN keeps `touched` the outer loop).
    /// `rows`: how many the query should give, for the progress shown (a row touched and since
    /// removed is counted, and not given).
    func changedRows(after cursor: Int64, head: Int64, _ db: LedgerSQL) throws -> (sql: String, arguments: SQLArguments, rows: Int) {
        guard let view else { return (TrailEntry.selectSQL("WHERE t.seq > ? ORDER BY t.seq"), [cursor], Int(head - cursor)) }
        guard cursor > 0 else {
            // The view has a row for each of its table's, and counting the table's is quick.
            let rows = try db.value(Int.self, "SELECT count(*) FROM \(rawValue)") ?? 0
            return ("SELECT *, ? AS seq FROM \(view.name) ORDER BY \(view.id)", [head], rows)
        }
        let touched = try touchedRows(after: cursor, db)
        return ("""
            SELECT t.*, json_extract(touched.value, '$[1]') AS seq
            FROM json_each(?) touched CROSS JOIN \(view.name) t ON t.\(view.id) = json_extract(touched.value, '$[0]')
            """, [touched.json], touched.count)
    }

    /// `[[id, seq], …]` by id: the rows entries after `cursor` inserted or updated, each with the
    /// seq of its latest change, and how many. Grouped here, by distinct id: SQL's GROUP BY would
    /// hold every change in a temp b-tree, in memory as the ledger sets `temp_store`.
    private func touchedRows(after cursor: Int64, _ db: LedgerSQL) throws -> (json: String, count: Int) {
        let table = LedgerTable(rawValue: rawValue)!
        var latest: [Int64: Int64] = [:]
        try db.scan("SELECT seq, recorded_at, actor, payload, typeof(hash) = 'blob' FROM audit_trail WHERE seq > ?", [cursor]) { entry in
            let seq = entry.int64(0)
            let decoded = RecordedRows.each(payload: entry.blob(3), compact: entry.int64(4) == 1, recordedAt: entry.text(1), actor: entry.text(2)) { changed, id in
                if changed == table { latest[id] = seq }
            }
            guard decoded else {
                throw LedgerError.verificationFailed("trail entry \(seq) does not decode; `maintledger audit:verify` checks the whole file")
            }
            return true
        }
        return ("[" + latest.keys.sorted().map { "[\($0),\(latest[$0]!)]" }.joined(separator: ",") + "]", latest.count)
    }

    /// The view's 0/1 columns, written true/false (in CSV as in NDJSON, as `history --csv` does).
    var booleanColumns: Set<String> {
        self == .maintenances ? ["emergency", "customer_requested", "has_deadline", "outside_window", "started_in_window", "deadline_met"] : []
    }
}
