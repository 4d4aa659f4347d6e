import Foundation
import GRDB
import Testing

/// `export --to DIR` end to end: exact output, files that parse back to what `SELECT` gives,
/// runs that neither skip nor repeat a row (also after an interrupted run), and refusals that
/// leave the folder as it was.
@Suite struct ExportCommandTests {
    /// A simulated fleet (5 apps, 120 days from 2022-01-01) and an empty export folder.
    private static func fleet() throws -> (LedgerSandbox, String) {
        let sandbox = try LedgerSandbox()
        sandbox.now = "2022-06-01T00:00:00Z"
        try sandbox.ok(["simulate", "--apps", "5", "--days", "120", "--start", "2022-01-01", "--seed", "7"])
        let folder = sandbox.folder.appendingPathComponent("export").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return (sandbox, folder)
    }

    private static func name(_ entity: String, _ first: Int64, _ last: Int64, _ format: String = "ndjson") -> String {
        String(format: "%@-%012lld-%012lld.%@", entity, first, last, format)
    }

    private static func head(_ sandbox: LedgerSandbox) throws -> (seq: Int64, hash: String) {
        try DatabaseQueue(path: sandbox.dbPath).read { db in
            let row = try Row.fetchOne(db, sql: "SELECT seq, lower(hex(hash)) FROM audit_trail ORDER BY seq DESC LIMIT 1")!
            return (row[0], row[1])
        }
    }

    private static func files(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    private static func object(_ path: String) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? NSDictionary)
    }

    /// Every maintenance as `SELECT` gives it from the auditors' view, by id; cells as text (NULL
    /// as nil), the way both formats are compared.
    private static func selectMaintenances(_ sandbox: LedgerSandbox) throws -> [Int64: [String: String?]] {
        try DatabaseQueue(path: sandbox.dbPath).read { db in
            var rows: [Int64: [String: String?]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM maintenance_audit") {
                rows[row["maintenance_id"]] = Dictionary(uniqueKeysWithValues: row.columnNames.map { name -> (String, String?) in
                    switch (row[name] as DatabaseValue).storage {
                    case .null: (name, nil)
                    case .int64(let number): (name, String(number))
                    case .string(let text): (name, text)
                    case .double, .blob: (name, "unexpected")
                    }
                })
            }
            return rows
        }
    }

    /// An NDJSON line as text cells: booleans must be true/false and are compared as 0/1.
    private static func cells(ndjson line: Substring) throws -> [String: String?] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return object.mapValues { value -> String? in
            switch value {
            case is NSNull: return nil
            case let text as String: return text
            case let flag as Bool: return flag ? "1" : "0"
            case let number as NSNumber: return number.stringValue
            default: return "unexpected \(value)"
            }
        }
    }

    /// RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; rows end in CRLF.
    private static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false, afterQuote = false
        for character in text {
            if quoted {
                if character == "\"" {
                    quoted = false
                    afterQuote = true
                } else {
                    field.append(character)
                }
                continue
            }
            if character == "\"" {
                if afterQuote { field.append("\"") } // a doubled quote inside a quoted field
                quoted = true
            } else if character == "," {
                row.append(field)
                field = ""
            } else if character == "\r\n" {
                rows.append(row + [field])
                row = []
                field = ""
            } else {
                field.append(character)
            }
            afterQuote = false
        }
        return rows
    }

    @Test func theFirstExportPrintsItsPathAndWritesAManifest() throws {
        let (sandbox, folder) = try Self.fleet()
        let head = try Self.head(sandbox)
        let name = Self.name("maintenances", 1, head.seq)
        let expected = try Self.selectMaintenances(sandbox)
        let result = try sandbox.run(["export", "--to", folder])
        #expect(result == RunResult(stdout: "\(folder)/\(name)\n",
                                    stderr: "Exported \(expected.count) maintenances rows covering seq 1 to \(head.seq)\n", exitCode: 0))
        #expect(try Self.files(folder) == [".maintledger-cursor-maintenances-ndjson", ".maintledger-export.lock", name, name + ".manifest.json"])

        let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)"))
        let sha = try Self.sha256sum("\(folder)/\(name)")
        #expect(try Self.object("\(folder)/\(name).manifest.json") == [
            "file": name, "entity": "maintenances", "format": "ndjson", "rows": expected.count, "bytes": data.count,
            "first_seq": 1, "last_seq": head.seq, "sha256": sha, "head_hash": head.hash, "format_version": 3,
        ] as NSDictionary)
        #expect(try Self.object("\(folder)/.maintledger-cursor-maintenances-ndjson") == [
            "seq": head.seq, "head_hash": head.hash, "format_version": 3,
        ] as NSDictionary)

        // Back to the rows SELECT gives, each with the head's seq (a first export reads no trail).
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        var exported: [Int64: [String: String?]] = [:]
        for line in lines {
            var row = try Self.cells(ndjson: line)
            #expect(row.removeValue(forKey: "seq") == .some(String(head.seq)))
            exported[Int64(row["maintenance_id"]!!)!] = row
        }
        #expect(lines.count == expected.count && exported == expected)
    }

    private static func sha256sum(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }

    @Test func csvParsesBackToTheSameRowsAsNDJSON() throws {
        let (sandbox, folder) = try Self.fleet()
        let head = try Self.head(sandbox).seq
        try sandbox.ok(["export", "--to", folder, "--format", "csv"])
        try sandbox.ok(["export", "--to", folder, "--format", "ndjson"])
        let text = try String(contentsOfFile: "\(folder)/\(Self.name("maintenances", 1, head, "csv"))", encoding: .utf8)
        #expect(text.hasSuffix("\r\n") && !text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        let rows = Self.parseCSV(text)
        let headers = try #require(rows.first)
        #expect(headers.first == "maintenance_id" && headers.last == "seq")
        let flags: Set = ["emergency", "customer_requested", "has_deadline", "outside_window", "started_in_window", "deadline_met"]
        var fromCSV: [Int64: [String: String?]] = [:]
        for row in rows.dropFirst() {
            #expect(row.count == headers.count)
            // Booleans as NDJSON and `history --csv` spell them; compared below as 0/1.
            let cells = zip(headers, row).map { header, cell -> (String, String?) in
                guard flags.contains(header), !cell.isEmpty else { return (header, cell.isEmpty ? nil : cell) }
                #expect(cell == "true" || cell == "false", "\(header): \(cell)")
                return (header, cell == "true" ? "1" : "0")
            }
            fromCSV[Int64(row[0])!] = Dictionary(uniqueKeysWithValues: cells)
        }
        var fromNDJSON: [Int64: [String: String?]] = [:]
        for line in try String(contentsOfFile: "\(folder)/\(Self.name("maintenances", 1, head))", encoding: .utf8).split(separator: "\n") {
            let row = try Self.cells(ndjson: line)
            fromNDJSON[Int64(row["maintenance_id"]!!)!] = row
        }
        let selected = try Self.selectMaintenances(sandbox)
        #expect(fromCSV == fromNDJSON && fromCSV.count == selected.count)
    }

    @Test func nothingChangedExitsZeroAndWritesNoFile() throws {
        let (sandbox, folder) = try Self.fleet()
        try sandbox.ok(["export", "--to", folder])
        let before = try Self.files(folder)
        let cursor = try Self.object("\(folder)/.maintledger-cursor-maintenances-ndjson")
        let result = try sandbox.run(["export", "--to", folder])
        #expect(result == RunResult(stdout: "", stderr: "Nothing to export: no maintenances changed after seq \(try Self.head(sandbox).seq)\n",
                                    exitCode: 0))
        #expect(try Self.files(folder) == before)
        #expect(try Self.object("\(folder)/.maintledger-cursor-maintenances-ndjson") == cursor)
    }

    /// Exports between engine ticks and window changes: each file holds exactly the rows changed
    /// in its range, the ranges follow on, and replaying the files gives the table.
    @Test func laterRunsHoldOnlyWhatChangedAndTogetherGiveTheTable() throws {
        let (sandbox, folder) = try Self.fleet()
        try sandbox.ok(["export", "--to", folder])
        try sandbox.ok(["export", "--to", folder, "--entity", "trail"])
        for (until, day) in [("2022-05-10T00:00:00Z", "Sundays"), ("2022-05-31T00:00:00Z", "Mondays")] {
            try sandbox.ok(["platform:tick", "--until", until, "--seed", "7"])
            let addon = try DatabaseQueue(path: sandbox.dbPath).read { db in
                try String.fetchOne(db, sql: "SELECT name FROM addons WHERE deprovisioned_at IS NULL AND id IN (SELECT addon_id FROM windows) LIMIT 1")!
            }
            try sandbox.ok(["data:maintenances:window:update", addon, day, "04:00"])
            let previous = try Self.object("\(folder)/.maintledger-cursor-maintenances-ndjson")["seq"] as! Int64
            let head = try Self.head(sandbox).seq
            let result = try sandbox.ok(["export", "--to", folder])
            #expect(result.stdout == "\(folder)/\(Self.name("maintenances", previous + 1, head))\n")
            try sandbox.ok(["export", "--to", folder, "--entity", "trail"])
        }
        try Self.expectFilesGiveTheTable(sandbox, folder)
    }

    /// Replays the maintenances files in name order (upsert by id); checks that each file holds
    /// exactly the ids the trail entries of its range touched, with the seq of their last change.
    private static func expectFilesGiveTheTable(_ sandbox: LedgerSandbox, _ folder: String,
                                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let trail = try sandbox.trailEntries()
        let files = try Self.files(folder).filter { $0.hasPrefix("maintenances-") && $0.hasSuffix(".ndjson") }
        var next: Int64 = 1
        var replayed: [Int64: [String: String?]] = [:]
        for file in files {
            let manifest = try Self.object("\(folder)/\(file).manifest.json")
            let first = manifest["first_seq"] as! Int64, last = manifest["last_seq"] as! Int64
            #expect(first == next, "\(file) does not follow on from the file before", sourceLocation: sourceLocation)
            next = last + 1
            var touched: [Int64: Int64] = [:]
            for entry in trail where (entry["seq"] as! Int64) >= first && (entry["seq"] as! Int64) <= last {
                for change in (entry["payload"] as! [String: Any])["changes"] as! [[String: Any]] where change["table"] as? String == "maintenances" {
                    touched[(change["row"] as! [String: Any])["id"] as! Int64] = entry["seq"] as? Int64
                }
            }
            var inFile: [Int64: Int64] = [:]
            for line in try String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8).split(separator: "\n") {
                var row = try Self.cells(ndjson: line)
                let id = Int64(row["maintenance_id"]!!)!
                #expect(inFile[id] == nil, "\(file) holds maintenance \(id) twice", sourceLocation: sourceLocation)
                inFile[id] = Int64(row.removeValue(forKey: "seq")!!)!
                replayed[id] = row
            }
            if first > 1 { #expect(inFile == touched, "\(file)", sourceLocation: sourceLocation) }
            #expect(manifest["rows"] as? Int == inFile.count, sourceLocation: sourceLocation)
        }
        #expect(next == (try Self.head(sandbox).seq) + 1, sourceLocation: sourceLocation)
        #expect(replayed == (try Self.selectMaintenances(sandbox)), sourceLocation: sourceLocation)
        let trailFiles = try Self.files(folder).filter { $0.hasPrefix("trail-") && $0.hasSuffix(".ndjson") }
        if !trailFiles.isEmpty {
            let seqs = try trailFiles.flatMap { file in
                try String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8).split(separator: "\n").map { line in
                    try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["seq"] as! Int64
                }
            }
            #expect(seqs == Array(1...Int64(trail.count)), "trail entries skipped or repeated", sourceLocation: sourceLocation)
        }
    }

    /// The state a crash leaves between renaming the data file in and writing its manifest (or
    /// between the manifest and the cursor), made by hand: the next run undoes (or counts) it.
    @Test(arguments: [false, true])
    func anInterruptedRunIsSettledByTheNextOne(manifestWritten: Bool) throws {
        let (sandbox, folder) = try Self.fleet()
        try sandbox.ok(["export", "--to", folder])
        let cursorPath = "\(folder)/.maintledger-cursor-maintenances-ndjson"
        let cursor = try Data(contentsOf: URL(fileURLWithPath: cursorPath))
        try sandbox.ok(["platform:tick", "--until", "2022-05-10T00:00:00Z", "--seed", "7"])
        let interrupted = URL(fileURLWithPath: try sandbox.ok(["export", "--to", folder]).stdout.trimmingCharacters(in: .newlines))
        try cursor.write(to: URL(fileURLWithPath: cursorPath))
        if !manifestWritten { try FileManager.default.removeItem(atPath: interrupted.path + ".manifest.json") }
        try sandbox.ok(["platform:tick", "--until", "2022-05-31T00:00:00Z", "--seed", "7"])

        let result = try sandbox.run(["export", "--to", folder])
        let name = interrupted.lastPathComponent
        let note = manifestWritten ? "Counted \(name), which an interrupted export completed\n"
                                   : "Removed \(name), which an interrupted export left incomplete\n"
        #expect(result.stderr.hasPrefix(note) && result.exitCode == 0, "\(result)")
        #expect(FileManager.default.fileExists(atPath: interrupted.path) == manifestWritten)
        try Self.expectFilesGiveTheTable(sandbox, folder)
    }

    @Test func aLeftoverTempFileIsRemoved() throws {
        let (sandbox, folder) = try Self.fleet()
        #expect(FileManager.default.createFile(atPath: "\(folder)/.maintledger-tmp-x1Y2z3", contents: Data("{\"id\":1".utf8)))
        try sandbox.ok(["export", "--to", folder])
        #expect(try !Self.files(folder).contains(".maintledger-tmp-x1Y2z3"))
        try Self.expectFilesGiveTheTable(sandbox, folder)
    }

    @Test func aSecondExportIntoTheSameFolderIsRefusedWhileOneRuns() throws {
        let (sandbox, folder) = try Self.fleet()
        // This process plays the export under way: it holds the folder's lock.
        let lock = open("\(folder)/.maintledger-export.lock", O_RDWR | O_CREAT, 0o600)
        defer { close(lock) }
        #expect(flock(lock, LOCK_EX) == 0)
        let result = try sandbox.run(["export", "--to", folder])
        #expect(result == RunResult(stdout: "", stderr: "Error: \(folder) is being exported by another process\n"
            + "Wait for it to finish, then run export again.\n", exitCode: 1))
        #expect(try Self.files(folder) == [".maintledger-export.lock"])
        flock(lock, LOCK_UN)
        try sandbox.ok(["export", "--to", folder])
    }

    @Test func badTargetsAndOptionsAreRefusedAndCreateNothing() throws {
        let (sandbox, folder) = try Self.fleet()
        let file = sandbox.dbPath
        let missing = "\(folder)/not/there"
        // Root writes anywhere a mode allows; sysfs refuses even root.
        let unwritable = geteuid() == 0 ? "/sys" : "\(folder)/read-only"
        if geteuid() != 0 {
            try FileManager.default.createDirectory(atPath: unwritable, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o555])
        }
        let before = try sandbox.folderContents()
        let ledger = try LedgerSandbox.bytes(sandbox.dbPath)
        let refusals: [([String], String)] = [
            (["--to", file], "Error: \(file) is not a folder\nPoint --to at a folder.\n"),
            (["--to", missing], "Error: no folder at \(missing)\nCreate it first, or point --to at an existing folder.\n"),
            (["--to", unwritable], "Error: cannot write to \(unwritable): Permission denied\nPoint --to at a folder you can write to.\n"),
        ]
        for (arguments, stderr) in refusals {
            #expect(try sandbox.run(["export"] + arguments) == RunResult(stdout: "", stderr: stderr, exitCode: 1))
        }
        for (option, value, allowed) in [("--entity", "addons", "'maintenances', 'trail' or 'windows'"), ("--format", "json", "'ndjson' and 'csv'")] {
            let result = try sandbox.run(["export", "--to", folder, option, value])
            #expect(result.exitCode == 64 && result.stdout.isEmpty, "\(result)")
            #expect(result.stderr.hasPrefix("Error: The value '\(value)' is invalid for '\(option) <\(option.dropFirst(2))>'. Please provide one of \(allowed).\n"),
                    "\(result)")
        }
        #expect(try sandbox.folderContents() == before, "a refused export created files")
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == ledger)
        #expect(try Self.files(folder).filter { $0 != "read-only" }.isEmpty)
    }

    @Test func noLedgerIsRefusedBeforeTheFolderIsTouched() throws {
        let sandbox = try LedgerSandbox()
        let folder = sandbox.folder.appendingPathComponent("export").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let result = try sandbox.run(["export", "--to", folder])
        #expect(result == RunResult(stdout: "", stderr: "Error: no ledger at \(sandbox.dbPath)\n" + LedgerLocationTests.noLedgerHint, exitCode: 1))
        #expect(try Self.files(folder).isEmpty)
    }

    /// A folder a maintledger before format 2 exported to (its cursor has no version): the next
    /// file would have other columns and booleans, so the run is refused and writes nothing.
    /// Its trail files (format 1 then and now) go on, and rebuild still reads them.
    @Test func aFolderOfFormat1FilesIsNotMixedWithFormat2() throws {
        let (sandbox, folder) = try Self.fleet()
        try sandbox.ok(["export", "--to", folder])
        try sandbox.ok(["export", "--to", folder, "--entity", "trail"])
        let cursor = "\(folder)/.maintledger-cursor-maintenances-ndjson"
        let head = try Self.head(sandbox)
        try Data(#"{"head_hash": "\#(head.hash)", "seq": \#(head.seq)}"#.utf8).write(to: URL(fileURLWithPath: cursor))
        let trailCursor = "\(folder)/.maintledger-cursor-trail-ndjson"
        try Data(#"{"head_hash": "\#(head.hash)", "seq": \#(head.seq)}"#.utf8).write(to: URL(fileURLWithPath: trailCursor))
        try sandbox.ok(["platform:tick", "--until", "2022-05-10T00:00:00Z", "--seed", "7"])
        let before = try Self.files(folder)
        try sandbox.expectRefusal(["export", "--to", folder], stderr: """
            Error: \(folder) holds maintenances ndjson files of export format 1; this maintledger writes format 3 (other columns, booleans true/false), which would mix in one folder
            Export to a new folder (its first file holds every row); the files already here stay as they are.

            """)
        #expect(try Self.files(folder) == before)
        try sandbox.ok(["export", "--to", folder, "--entity", "trail"])
        try sandbox.ok(["rebuild", "--from", folder, "--to", folder + "-rebuilt.sqlite"], useDB: false)
    }

    /// A folder a maintledger before migration 0009 exported maintenances to (format 2: the
    /// view's columns without who moved each maintenance): its scheduled job goes on getting the
    /// columns it reads, in format 2, while a new folder gets format 3, those columns added at the
    /// end.
    @Test func aFolderOfFormat2FilesGoesOnInFormat2AndANewOneGetsFormat3() throws {
        let (sandbox, folder) = try Self.fleet()
        try sandbox.ok(["export", "--to", folder, "--format", "csv"])
        let head = try Self.head(sandbox)
        try Data(#"{"format_version": 2, "head_hash": "\#(head.hash)", "seq": \#(head.seq)}"#.utf8)
            .write(to: URL(fileURLWithPath: "\(folder)/.maintledger-cursor-maintenances-csv"))
        try sandbox.ok(["platform:tick", "--until", "2022-05-10T00:00:00Z", "--seed", "7"])
        let format2 = "maintenance_id,uuid,app,addon,kind,plan,status,reason,method,emergency,customer_requested,created_at,required_by,"
            + "has_deadline,scheduled_for,previously_scheduled_for,scheduled_window,outside_window,started_at,started_in_window,"
            + "completed_at,duration_seconds,ended_at,ended_by,deadline_met,server_created_at"
        let continued = try String(sandbox.ok(["export", "--to", folder, "--format", "csv"]).stdout.dropLast())
        #expect(try String(contentsOfFile: continued, encoding: .utf8).hasPrefix(format2 + ",seq\r\n"))
        #expect(try Self.object(continued + ".manifest.json")["format_version"] as? Int == 2)
        #expect(try Self.object("\(folder)/.maintledger-cursor-maintenances-csv")["format_version"] as? Int == 2)

        let newFolder = sandbox.folder.appendingPathComponent("new").path
        try FileManager.default.createDirectory(atPath: newFolder, withIntermediateDirectories: false)
        let first = try String(sandbox.ok(["export", "--to", newFolder, "--format", "csv"]).stdout.dropLast())
        #expect(try String(contentsOfFile: first, encoding: .utf8).hasPrefix(format2 + ",last_moved_by,last_moved_at,times_moved,seq\r\n"))
        #expect(try Self.object(first + ".manifest.json")["format_version"] as? Int == 3)
    }

    @Test func windowsAndTrailExportTheirOwnRows() throws {
        let (sandbox, folder) = try Self.fleet()
        let head = try Self.head(sandbox).seq
        let (windows, entries) = try DatabaseQueue(path: sandbox.dbPath).read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM windows")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_trail")!)
        }
        #expect(try sandbox.run(["export", "--to", folder, "--entity", "windows", "--format", "csv"]) == RunResult(
            stdout: "\(folder)/\(Self.name("windows", 1, head, "csv"))\n",
            stderr: "Exported \(windows) windows rows covering seq 1 to \(head)\n", exitCode: 0))
        let csv = Self.parseCSV(try String(contentsOfFile: "\(folder)/\(Self.name("windows", 1, head, "csv"))", encoding: .utf8))
        #expect(csv.first == ["window_id", "app", "addon", "kind", "plan", "set_at", "set_by", "source", "previous_window_text",
                              "previous_day_of_week", "previous_day_name", "previous_start_minute", "previous_start_time", "window_text",
                              "day_of_week", "day_name", "start_minute", "start_time", "end_time", "seq"])
        #expect(csv.count == windows + 1)
        try sandbox.ok(["export", "--to", folder, "--entity", "trail", "--format", "csv"])
        let trail = Self.parseCSV(try String(contentsOfFile: "\(folder)/\(Self.name("trail", 1, head, "csv"))", encoding: .utf8))
        #expect(trail.first == ["seq", "recorded_at", "actor", "action", "subject", "payload", "prev_hash", "hash", "format"])
        let listed = try sandbox.trailEntries()
        #expect(trail.count == entries + 1 && trail.dropFirst().map { $0[7] } == listed.map { $0["hash"] as! String })
        let payload = try JSONSerialization.jsonObject(with: Data(trail[1][5].utf8)) as? NSDictionary
        #expect(payload == listed[0]["payload"] as? NSDictionary, "the payload is its JSON text in CSV")
    }
}
