import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintenanceLedger

// `export`: files, manifests and the cursor in a real folder, checked against the ledger's own
// tables and trail (rows rebuilt here with GRDB and JSONValue, touched ids read from the payloads
// with JSONSerialization, hashes by `sha256sum`).

private func ts(_ text: String) -> Timestamp { Timestamp(iso: text)! }

/// A simulated fleet (5 apps, 60 days from 2022-01-01) and an export folder beside it.
private final class ExportFleet {
    let fixture: LedgerFixture
    let folder: String
    private var engine = EngineSettings(seed: 7)
    private var clock = ts("2022-03-02T00:00:00Z")
    private var windowMoves = 0

    init() throws {
        fixture = try LedgerFixture(now: "2022-12-31T00:00:00Z")
        let settings = FleetSimulator.Settings(apps: 5, days: 60, start: ts("2022-01-01T00:00:00Z"), engine: engine)
        _ = try FleetSimulator(database: fixture.database, settings: settings, now: fixture.now).run()
        folder = fixture.folder.appendingPathComponent("export").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    var ledger: Ledger { fixture.ledger(at: clock.isoText) }

    func export(_ entity: ExportEntity = .maintenances, _ format: ExportFormat = .ndjson,
                stoppingAfter stop: ExportStep? = nil) throws -> ExportResult {
        try ledger.export(to: folder, entity: entity, format: format) { step in
            if step == stop { throw SimulatedCrash() }
        }
    }

    /// Moves the fleet on: the engine runs `days` more days, and a customer moves a window.
    func advance(days: Int64) throws {
        clock = clock.adding(days: days)
        _ = try MaintenanceEngine(database: fixture.database, settings: engine).tick(until: clock, now: clock)
        try moveAWindow()
    }

    /// A customer moves the window of the first add-on that has one.
    func moveAWindow(actor: String = "alice") throws {
        let addon = try fixture.database.inspect { db in
            try String.fetchOne(db, sql: """
                SELECT name FROM addons WHERE deprovisioned_at IS NULL AND id IN (SELECT addon_id FROM windows) ORDER BY id LIMIT 1
                """)!
        }
        windowMoves += 1
        _ = try fixture.ledger(at: clock.isoText, actor: actor)
            .updateWindow(AddonSelector(addon, app: nil), day: ["sunday", "monday"][windowMoves % 2], time: "03:00")
    }

    var head: (seq: Int64, hash: String) {
        get throws {
            try fixture.database.inspect { db in
                let row = try Row.fetchOne(db, sql: "SELECT seq, lower(hex(hash)) FROM audit_trail ORDER BY seq DESC LIMIT 1")!
                return (row[0], row[1])
            }
        }
    }

    func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    func contents(_ name: String) throws -> String {
        try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
    }

    func cursor(_ entity: ExportEntity = .maintenances, _ format: ExportFormat = .ndjson) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/.maintledger-cursor-\(entity.rawValue)-\(format.rawValue)"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    // MARK: what a file should hold, rebuilt independently

    /// The lines a file covering trail entries first…last must hold. A first export (first 1)
    /// holds every row with the head seq; later ones the rows the payloads name, with the seq
    /// of their latest change.
    func expectedLines(_ entity: ExportEntity, _ format: ExportFormat, first: Int64, last: Int64) throws -> [String] {
        // Entries as the ledger reads them (format 2 payloads decoded): the trail's lines, and the rows the payloads name.
        var entries: [TrailEntry] = []
        try fixture.ledger().trail(sinceSeq: first - 1) { if $0.seq <= last { entries.append($0) } }
        if entity == .trail {
            let lines = entries.map { entry in
                format == .ndjson ? entry.json.compactText
                    : CSV.row([String(entry.seq), entry.recordedAt, entry.actor, entry.action, entry.subject, entry.payloadJSON!.compactText,
                               entry.prevHash, entry.hash, String(entry.format.rawValue)])
            }
            return format == .csv && !lines.isEmpty ? [CSV.row(TrailEntry.columns + ["format"])] + lines : lines
        }
        return try fixture.database.inspect { db in
            let rows: [Row]
            var seqs: [Int64: Int64] = [:]
            switch entity {
            case .trail:
                rows = try Row.fetchAll(db, sql: "SELECT * FROM audit_trail WHERE seq BETWEEN ? AND ? ORDER BY seq", arguments: [first, last])
            case .maintenances, .windows:
                let view = entity.view!
                let all = try Row.fetchAll(db, sql: "SELECT * FROM \(view.name) ORDER BY \(view.id)")
                if first == 1 {
                    for row in all { seqs[row[view.id]] = last }
                } else {
                    for entry in entries {
                        guard case .array(let changes)? = entry.parsedPayload?["changes"] else { preconditionFailure("seq \(entry.seq) does not decode") }
                        for change in changes where change["table"] == .string(entity.rawValue) {
                            guard case .int(let id)? = change["row"]?["id"] else { preconditionFailure("a change without a row id") }
                            seqs[id] = max(seqs[id] ?? 0, entry.seq)
                        }
                    }
                }
                rows = all.filter { seqs[$0[view.id]] != nil }
            }
            let lines = rows.map { row in
                var cells: [(String, DatabaseValue)] = row.columnNames.map { ($0, row[$0] as DatabaseValue) }
                if let view = entity.view { cells.append(("seq", seqs[row[view.id]]!.databaseValue)) }
                return format == .ndjson ? Self.json(cells, entity).compactText : CSV.row(cells.map { Self.csvText($0, entity) })
            }
            guard format == .csv, let first = rows.first else { return lines }
            let headers = first.columnNames + (entity == .trail ? [] : ["seq"])
            return [CSV.row(headers)] + lines
        }
    }

    private static func json(_ cells: [(String, DatabaseValue)], _ entity: ExportEntity) -> JSONValue {
        .object(cells.map { name, value in
            switch value.storage {
            case .null: (name, .null)
            case .int64(let number): (name, entity.booleanColumns.contains(name) ? .bool(number != 0) : .int(number))
            case .string(let text): (name, name == "payload" ? .raw(text) : .string(text))
            case .double, .blob: preconditionFailure("no such column in the ledger")
            }
        })
    }

    private static func csvText(_ cell: (String, DatabaseValue), _ entity: ExportEntity) -> String {
        switch cell.1.storage {
        case .null: ""
        case .int64(let number): entity.booleanColumns.contains(cell.0) ? String(number != 0) : String(number)
        case .string(let text): text
        case .double, .blob: preconditionFailure("no such column in the ledger")
        }
    }

    /// The lines of a data file (without line ends).
    func lines(_ name: String, _ format: ExportFormat) throws -> [String] {
        let text = try contents(name)
        let end = format == .ndjson ? "\n" : "\r\n"
        #expect(text.hasSuffix(end))
        return text.components(separatedBy: end).dropLast().map { format == .ndjson ? $0 : $0 + end }
    }

    /// The version a new folder's files of each entity are written in.
    static let formatVersions: [ExportEntity: Int] = [.maintenances: 3, .windows: 2, .trail: 1]

    /// Checks a written file against the ledger, its manifest against the file, and the cursor.
    func expectWritten(_ result: ExportResult, _ entity: ExportEntity, _ format: ExportFormat, first: Int64,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let manifest = try #require(result.manifest, sourceLocation: sourceLocation)
        let head = try head
        let name = String(format: "%@-%012lld-%012lld.%@", entity.rawValue, first, head.seq, format.rawValue)
        #expect(result.path == folder + "/" + name, sourceLocation: sourceLocation)
        let expected = try expectedLines(entity, format, first: first, last: head.seq)
        #expect(try lines(name, format) == expected, sourceLocation: sourceLocation)
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        #expect(manifest == ExportManifest(file: name, entity: entity, format: format, rows: expected.count - (format == .csv ? 1 : 0),
                                           bytes: data.count, firstSeq: first, lastSeq: head.seq, sha256: try sha256sum(name),
                                           formatVersion: entity.formatVersion, headHash: head.hash), sourceLocation: sourceLocation)
        let written = try JSONSerialization.jsonObject(with: Data(try contents(name + ".manifest.json").utf8)) as? NSDictionary
        #expect(written == [
            "file": name, "entity": entity.rawValue, "format": format.rawValue, "rows": manifest.rows, "bytes": data.count,
            "first_seq": first, "last_seq": head.seq, "sha256": manifest.sha256, "head_hash": head.hash,
            "format_version": Self.formatVersions[entity]!,
        ] as NSDictionary, sourceLocation: sourceLocation)
        #expect(try cursor(entity, format) as NSDictionary == [
            "seq": head.seq, "head_hash": head.hash, "format_version": Self.formatVersions[entity]!,
        ] as NSDictionary, sourceLocation: sourceLocation)
        #expect(result.cursor == head.seq, sourceLocation: sourceLocation)
    }

    /// Hashes a file with coreutils, not with the library's own code.
    func sha256sum(_ name: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", folder + "/" + name]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }

    /// Replays the folder's files in name order, upserting rows by id: the table as it stands
    /// (less `seq`) if nothing was skipped; and the files' seq ranges follow on without overlap.
    func expectFilesTileTheTrail(_ entity: ExportEntity, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let files = try names().filter { $0.hasPrefix(entity.rawValue + "-") && $0.hasSuffix(".ndjson") }
        var next: Int64 = 1
        var replayed: [Int64: NSDictionary] = [:]
        for file in files {
            let manifest = try JSONSerialization.jsonObject(with: Data(try contents(file + ".manifest.json").utf8)) as! [String: Any]
            #expect(manifest["first_seq"] as? Int64 == next, "\(file) does not follow on", sourceLocation: sourceLocation)
            next = (manifest["last_seq"] as! Int64) + 1
            for line in try lines(file, .ndjson) {
                let object = NSMutableDictionary(dictionary: try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])
                let key = object[entity.view?.id ?? "seq"] as! Int64
                if entity == .trail { #expect(replayed[key] == nil, "seq \(key) exported twice", sourceLocation: sourceLocation) }
                if entity != .trail { object.removeObject(forKey: "seq") }
                replayed[key] = object
            }
        }
        #expect(next == (try head.seq) + 1, sourceLocation: sourceLocation)
        let current = try expectedLines(entity, .ndjson, first: 1, last: try head.seq).map { line in
            let object = NSMutableDictionary(dictionary: try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])
            if entity != .trail { object.removeObject(forKey: "seq") }
            return object as NSDictionary
        }
        #expect(replayed.keys.sorted().map { replayed[$0]! } == current, sourceLocation: sourceLocation)
    }
}

private struct SimulatedCrash: Error {}

@Suite struct ExportTests {
    @Test(arguments: ExportEntity.allCases, ExportFormat.allCases)
    func theFirstExportWritesEveryRowAndAManifest(entity: ExportEntity, format: ExportFormat) throws {
        let fleet = try ExportFleet()
        let result = try fleet.export(entity, format)
        try fleet.expectWritten(result, entity, format, first: 1)
        #expect(result.recovered.isEmpty && result.removed.isEmpty)
        let name = try #require(result.manifest?.file)
        #expect(try fleet.names() == [".maintledger-cursor-\(entity.rawValue)-\(format.rawValue)", ".maintledger-export.lock",
                                      name, name + ".manifest.json"])
        #expect(try fleet.expectedLines(entity, format, first: 1, last: try fleet.head.seq).count > 10)
    }

    @Test func ndjsonAndCSVSpellValuesAsTheIssueAsks() throws {
        let fleet = try ExportFleet()
        let ndjson = try fleet.lines(try #require(try fleet.export(.maintenances, .ndjson).manifest?.file), .ndjson)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(ndjson[0].utf8)) as? [String: Any])
        #expect(ndjson[0].hasPrefix(#"{"maintenance_id":1,"uuid":""#))
        for flag in ["emergency", "customer_requested", "has_deadline", "outside_window"] {
            #expect(first[flag] as? Bool != nil && ndjson[0].contains(#""\#(flag)":\#(first[flag] as! Bool)"#), "\(flag)")
        }
        #expect(first["previously_scheduled_for"] is NSNull)
        #expect(try /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/.wholeMatch(in: first["created_at"] as! String) != nil)
        let csv = try fleet.lines(try #require(try fleet.export(.maintenances, .csv).manifest?.file), .csv)
        #expect(csv[0] == "maintenance_id,uuid,app,addon,kind,plan,status,reason,method,emergency,customer_requested,created_at,"
            + "required_by,has_deadline,scheduled_for,previously_scheduled_for,scheduled_window,outside_window,started_at,"
            + "started_in_window,completed_at,duration_seconds,ended_at,ended_by,deadline_met,server_created_at,last_moved_by,last_moved_at,"
            + "times_moved,seq\r\n")
        #expect(csv[1].contains(",,"), "NULL is an empty field")
        // Booleans as `history --csv` and JSON spell them, never 0/1.
        let fields = csv[1].dropLast(2).split(separator: ",", omittingEmptySubsequences: false)
        #expect([9, 10, 13, 17].allSatisfy { ["true", "false"].contains(fields[$0]) }, "\(fields)")
        let trail = try fleet.lines(try #require(try fleet.export(.trail, .ndjson).manifest?.file), .ndjson)
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(trail[0].utf8)) as? [String: Any])
        #expect(entry["payload"] is [String: Any], "the payload is an object in NDJSON")
    }

    /// The actor is free text: it reaches `windows.set_by` and the trail.
    @Test(arguments: ExportFormat.allCases)
    func textIsEscapedInNDJSONAndQuotedInCSV(format: ExportFormat) throws {
        let fleet = try ExportFleet()
        try fleet.moveAWindow(actor: "O'Brien, \"the\" admin\n\tback\\slash \u{1} é ✓")
        for entity in [ExportEntity.windows, .trail] {
            try fleet.expectWritten(try fleet.export(entity, format), entity, format, first: 1)
        }
        let file = try #require(try fleet.names().first { $0.hasPrefix("windows-") && !$0.hasSuffix(".json") })
        let line = try #require(try fleet.lines(file, format).last)
        #expect(line.contains(format == .ndjson ? #""set_by":"O'Brien, \"the\" admin\n\tback\\slash \u0001 é ✓""#
                                                : "\"O'Brien, \"\"the\"\" admin\n\tback\\slash \u{1} é ✓\""), "\(line)")
    }

    @Test func nothingChangedWritesNoFile() throws {
        let fleet = try ExportFleet()
        _ = try fleet.export()
        let before = try fleet.names()
        let cursor = try fleet.cursor()
        let result = try fleet.export()
        #expect(result == ExportResult(path: nil, manifest: nil, cursor: try fleet.head.seq, recovered: [], removed: []))
        #expect(try fleet.names() == before)
        #expect(try fleet.cursor() as NSDictionary == cursor as NSDictionary)
    }

    /// Only apps change: the trail moves on but no window row does, so no file and no cursor move
    /// (files keep following on from one another).
    @Test func entriesThatTouchNoRowOfTheEntityWriteNoFile() throws {
        let fleet = try ExportFleet()
        let first = try fleet.export(.windows)
        try fleet.ledger.createApp(named: "newcomer-app")
        let result = try fleet.export(.windows)
        #expect(result.path == nil && result.cursor == first.cursor)
        try fleet.advance(days: 20)
        try fleet.expectWritten(try fleet.export(.windows), .windows, .ndjson, first: first.cursor + 1)
    }

    @Test(arguments: ExportEntity.allCases)
    func laterExportsHoldOnlyWhatChangedAndNoRowIsSkippedOrRepeated(entity: ExportEntity) throws {
        let fleet = try ExportFleet()
        var first: Int64 = 1
        for days in [0, 30, 45, 7] as [Int64] {
            if days > 0 { try fleet.advance(days: days) }
            let result = try fleet.export(entity)
            try fleet.expectWritten(result, entity, .ndjson, first: first)
            first = result.cursor + 1
        }
        #expect(try fleet.names().filter { $0.hasSuffix(".ndjson") }.count == 4)
        try fleet.expectFilesTileTheTrail(entity)
    }

    @Test func aCrashBeforeTheManifestIsUndoneByTheNextRun() throws {
        let fleet = try ExportFleet()
        let start = try fleet.export().cursor
        try fleet.advance(days: 30)
        #expect(throws: SimulatedCrash.self) { try fleet.export(stoppingAfter: .dataFileRenamed) }
        let orphan = String(format: "maintenances-%012lld-%012lld.ndjson", start + 1, try fleet.head.seq)
        #expect(try fleet.names().contains(orphan) && !fleet.names().contains(orphan + ".manifest.json"))
        #expect(try fleet.cursor()["seq"] as? Int64 == start)
        try fleet.advance(days: 30)
        let result = try fleet.export()
        #expect(result.removed == [orphan] && result.recovered.isEmpty)
        #expect(try !fleet.names().contains(orphan))
        try fleet.expectWritten(result, .maintenances, .ndjson, first: start + 1)
        try fleet.expectFilesTileTheTrail(.maintenances)
    }

    @Test func aCrashAfterTheManifestIsCountedByTheNextRun() throws {
        let fleet = try ExportFleet()
        _ = try fleet.export()
        try fleet.advance(days: 30)
        #expect(throws: SimulatedCrash.self) { try fleet.export(stoppingAfter: .manifestRenamed) }
        let done = try fleet.head.seq
        let file = try #require(try fleet.names().first { $0.hasSuffix("\(done).ndjson") })
        let nothingNew = try fleet.export()
        #expect(nothingNew == ExportResult(path: nil, manifest: nil, cursor: done, recovered: [file], removed: []))
        #expect(try fleet.cursor()["seq"] as? Int64 == done)
        try fleet.advance(days: 30)
        try fleet.expectWritten(try fleet.export(), .maintenances, .ndjson, first: done + 1)
        try fleet.expectFilesTileTheTrail(.maintenances)
    }

    @Test func aDataFileThatDoesNotMatchItsManifestIsReplaced() throws {
        let fleet = try ExportFleet()
        let start = try fleet.export().cursor
        try fleet.advance(days: 30)
        #expect(throws: SimulatedCrash.self) { try fleet.export(stoppingAfter: .manifestRenamed) }
        let file = try #require(try fleet.names().first { $0.hasSuffix("\(try fleet.head.seq).ndjson") })
        let handle = try #require(FileHandle(forWritingAtPath: fleet.folder + "/" + file))
        try handle.truncate(atOffset: 100)
        try handle.close()
        let result = try fleet.export()
        #expect(result.removed == [file] && result.recovered.isEmpty)
        try fleet.expectWritten(result, .maintenances, .ndjson, first: start + 1)
        try fleet.expectFilesTileTheTrail(.maintenances)
    }

    @Test func leftoverTempFilesAreRemovedAndOtherFilesLeftAlone() throws {
        let fleet = try ExportFleet()
        for name in [".maintledger-tmp-Ab12Cd", "notes.txt"] {
            #expect(FileManager.default.createFile(atPath: fleet.folder + "/" + name, contents: Data("half".utf8)))
        }
        let result = try fleet.export()
        #expect(try fleet.names().contains("notes.txt") && !fleet.names().contains(".maintledger-tmp-Ab12Cd"))
        try fleet.expectWritten(result, .maintenances, .ndjson, first: 1)
    }

    @Test func entitiesAndFormatsKeepTheirOwnCursors() throws {
        let fleet = try ExportFleet()
        _ = try fleet.export(.maintenances, .ndjson)
        try fleet.advance(days: 30)
        try fleet.expectWritten(try fleet.export(.maintenances, .csv), .maintenances, .csv, first: 1)
        try fleet.expectWritten(try fleet.export(.windows, .ndjson), .windows, .ndjson, first: 1)
        #expect(try fleet.export(.maintenances, .ndjson).manifest?.firstSeq ?? 0 > 1)
    }

    @Test func aSecondRunOnTheSameFolderIsRefused() throws {
        let fleet = try ExportFleet()
        // Another open file description's flock, as another process would hold.
        let other = open(fleet.folder + "/.maintledger-export.lock", O_RDWR | O_CREAT, 0o600)
        #expect(flock(other, LOCK_EX) == 0)
        #expect(throws: LedgerError.refused("\(fleet.folder) is being exported by another process",
                                            hint: "Wait for it to finish, then run export again.")) { try fleet.export() }
        #expect(try fleet.names() == [".maintledger-export.lock"])
        close(other)
        try fleet.expectWritten(try fleet.export(), .maintenances, .ndjson, first: 1)
    }

    @Test func badFoldersAreRefusedAndNothingIsWritten() throws {
        let fleet = try ExportFleet()
        let missing = fleet.folder + "/not/there"
        #expect(throws: LedgerError.notFound("no folder at \(missing)", hint: "Create it first, or point --to at an existing folder.")) {
            try fleet.ledger.export(to: missing, entity: .maintenances, format: .ndjson)
        }
        let file = fleet.folder + "/a-file"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        #expect(throws: LedgerError.refused("\(file) is not a folder", hint: "Point --to at a folder.")) {
            try fleet.ledger.export(to: file, entity: .maintenances, format: .ndjson)
        }
        #expect(try fleet.names() == ["a-file"])
    }

    @Test func aFolderFedByAnotherLedgerIsRefused() throws {
        let fleet = try ExportFleet()
        _ = try fleet.export()
        let other = try LedgerFixture(now: "2023-01-02T10:00:00Z")
        for name in ["one-app", "two-app", "three-app"] { try other.ledger().createApp(named: name) }
        let before = try fleet.names()
        #expect(throws: LedgerError.refused(
            "\(fleet.folder) holds an export of another ledger: its maintenances ndjson files end at seq \(try fleet.head.seq), which this ledger does not have",
            hint: "Export each ledger to its own folder.")) {
            try other.ledger().export(to: fleet.folder, entity: .maintenances, format: .ndjson)
        }
        #expect(try fleet.names() == before)
    }
}
