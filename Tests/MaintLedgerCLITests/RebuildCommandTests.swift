import Foundation
import GRDB
import LedgerCore
import LedgerStore
import Testing

/// `rebuild --from PATH --to FILE` end to end: a ledger's trail, as export and `audit:trail`
/// write it, rebuilds a ledger whose reports come out byte for byte the same, whose every table
/// is the same and whose head `audit:verify` prints the same; and every refusal names the first
/// bad seq or file, with its exit code, leaves nothing at FILE and the source as it was.
@Suite(.timeLimit(.minutes(15))) struct RebuildCommandTests {
    /// What must come out of the rebuilt ledger byte for byte as out of the original.
    static let reports = [["history", "--csv"], ["audit:overdue"], ["audit:windows"], ["notices"]]
    static let hint = "Nothing was written; rebuild from the trail as maintledger exported it.\n"

    // MARK: helpers

    /// Every file under `path` (a folder, hidden files included; or a file and its manifest), with its bytes.
    static func contents(_ path: String) throws -> [String: Data] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return [:] }
        guard isFolder.boolValue else {
            return try [path, path + ".manifest.json"].filter { FileManager.default.fileExists(atPath: $0) }
                .reduce(into: [:]) { $0[$1] = try Data(contentsOf: URL(fileURLWithPath: $1)) }
        }
        return try FileManager.default.subpathsOfDirectory(atPath: path).reduce(into: [:]) { files, name in
            files[name] = try Data(contentsOf: URL(fileURLWithPath: path + "/" + name))
        }
    }

    /// Every table of a ledger, by name: its rows in key order, as GRDB reads them (a value and its type).
    static func tableRows(_ path: String) throws -> [String: [Row]] {
        try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'").reduce(into: [:]) { tables, table in
                tables[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(table == "trail_tree" ? "last_seq, level" : "rowid")")
            }
        }
    }

    /// The files of a folder that name a rebuild under way: none may be left behind.
    static func leftovers(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".maintledger-rebuild-tmp-") }
    }

    static func exportTrail(_ sandbox: LedgerSandbox, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try sandbox.ok(["export", "--to", folder, "--entity", "trail"])
    }

    /// Rebuilds from `source` and holds the rebuilt ledger to the original: its output line,
    /// `audit:verify` (same entries, same head), the reports byte for byte, every table; the
    /// file private, nothing left beside it, the source as it was.
    @discardableResult
    static func expectRoundTrip(_ sandbox: LedgerSandbox, from source: String, files: Int,
                                sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let rebuilt = sandbox.folder.appendingPathComponent("rebuilt-\(UUID().uuidString).sqlite").path
        let before = try contents(source)
        let result = try sandbox.run(["rebuild", "--from", source, "--to", rebuilt], useDB: false)
        let verified = try sandbox.ok(["audit:verify"]).stdout
        let head = try #require(try /ok: (\d+) entries verified, head ([0-9a-f]{64})\n/.wholeMatch(in: verified), sourceLocation: sourceLocation)
        #expect(result == RunResult(stdout: "rebuilt \(rebuilt): \(head.1) entries from \(files) file\(files == 1 ? "" : "s"), head \(head.2)\n",
                                    stderr: "", exitCode: 0), sourceLocation: sourceLocation)
        #expect(try sandbox.run(["audit:verify", "--db", rebuilt], useDB: false) == RunResult(stdout: verified, stderr: "", exitCode: 0),
                sourceLocation: sourceLocation)
        for report in reports {
            let original = try sandbox.ok(report)
            #expect(!(original.stdout + original.stderr).isEmpty, "\(report) printed nothing", sourceLocation: sourceLocation)
            #expect(try sandbox.run(report + ["--db", rebuilt], useDB: false) == original, "\(report)", sourceLocation: sourceLocation)
        }
        let (tables, rebuiltTables) = (try tableRows(sandbox.dbPath), try tableRows(rebuilt))
        #expect(tables.keys.sorted() == rebuiltTables.keys.sorted(), sourceLocation: sourceLocation)
        for (table, rows) in tables {
            #expect(rebuiltTables[table] == rows, "\(table) differs", sourceLocation: sourceLocation)
        }
        let mode = try FileManager.default.attributesOfItem(atPath: rebuilt)[.posixPermissions] as? Int
        #expect(mode == 0o600, sourceLocation: sourceLocation)
        #expect(try leftovers(sandbox.folder.path).isEmpty, sourceLocation: sourceLocation)
        #expect(try contents(source) == before, "rebuild changed its source", sourceLocation: sourceLocation)
        return rebuilt
    }

    /// A refused rebuild: exit code and stderr exactly, nothing on stdout, nothing at FILE or
    /// beside it, the source as it was.
    static func expectRefusal(_ sandbox: LedgerSandbox, from source: String, to file: String? = nil, stderr: String, exitCode: Int32 = 65,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = file ?? sandbox.folder.appendingPathComponent("rebuilt.sqlite").path
        let before = try contents(source)
        let existed = try contents(file)
        let result = try sandbox.run(["rebuild", "--from", source, "--to", file], useDB: false)
        #expect(result == RunResult(stdout: "", stderr: stderr, exitCode: exitCode), sourceLocation: sourceLocation)
        #expect(try contents(file) == existed, "something was left at \(file)", sourceLocation: sourceLocation)
        for suffix in ["-wal", "-shm", "-journal"] {
            #expect(!FileManager.default.fileExists(atPath: file + suffix), sourceLocation: sourceLocation)
        }
        #expect(try leftovers((file as NSString).deletingLastPathComponent).isEmpty, sourceLocation: sourceLocation)
        #expect(try contents(source) == before, "rebuild changed its source", sourceLocation: sourceLocation)
    }

    /// The seed example and then three entries more, its trail exported after seq 6, 8 and 9
    /// into `export`, and printed whole by `audit:trail --ndjson` into `trail.ndjson`.
    static func seedWithExports() throws -> (sandbox: LedgerSandbox, folder: String, trail: String) {
        let sandbox = try Fixture.seedExample()
        let folder = sandbox.folder.appendingPathComponent("export").path
        try exportTrail(sandbox, to: folder)
        try sandbox.ok(["maintenance:on", "-a", "example-app"])
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "Mondays", "10:00", "-a", "example-app"])
        try exportTrail(sandbox, to: folder)
        try sandbox.ok(["addons:create", "heroku-postgresql:essential-0", "-a", "example-app", "--name", "postgresql-acute-81432"])
        try exportTrail(sandbox, to: folder)
        let trail = sandbox.folder.appendingPathComponent("trail.ndjson").path
        try sandbox.ok(["audit:trail", "--ndjson"]).stdout.write(toFile: trail, atomically: true, encoding: .utf8)
        return (sandbox, folder, trail)
    }

    static func name(_ first: Int64, _ last: Int64) -> String {
        String(format: "trail-%012lld-%012lld.ndjson", first, last)
    }

    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    static func write(_ lines: [String], to path: String) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    // MARK: round trips

    @Test func anExportFolderOneOfItsFilesOrTheTrailPrintedRebuildTheLedger() throws {
        let (sandbox, folder, trail) = try Self.seedWithExports()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".ndjson") }.sorted()
                == [Self.name(1, 6), Self.name(7, 8), Self.name(9, 9)])
        try Self.expectRoundTrip(sandbox, from: folder, files: 3)
        try Self.expectRoundTrip(sandbox, from: trail, files: 1)
        // A first export holds the whole trail: its file alone (checked against its manifest beside it).
        let whole = sandbox.folder.appendingPathComponent("whole").path
        try Self.exportTrail(sandbox, to: whole)
        try Self.expectRoundTrip(sandbox, from: whole + "/" + Self.name(1, 9), files: 1)
        // Standard input, straight from audit:trail.
        let rebuilt = sandbox.folder.appendingPathComponent("piped.sqlite").path
        let piped = try sandbox.shell("\"$BIN\" audit:trail --ndjson --db \"$DB\" | \"$BIN\" rebuild --from - --to '\(rebuilt)'")
        let verified = try sandbox.ok(["audit:verify"]).stdout
        #expect(piped.exitCode == 0 && piped.stderr.isEmpty, "\(piped)")
        #expect(piped.stdout == "rebuilt \(rebuilt): 9 entries from 1 file, head \(verified.suffix(65))")
        #expect(try sandbox.run(["audit:verify", "--db", rebuilt], useDB: false).stdout == verified)
    }

    /// A fleet whose customers destroyed add-ons, detached attachments and saw maintenances
    /// fail, exported twice as a scheduled job would, with the engine ticking between and a
    /// signed checkpoint recorded (a row of `checkpoints`, which must hold over the rebuilt tree).
    @Test func aSimulatedFleetWithDestroyedAddonsRoundTrips() throws {
        let sandbox = try LedgerSandbox()
        sandbox.now = "2023-06-01T00:00:00Z"
        try sandbox.ok(["simulate", "--apps", "40", "--days", "365", "--start", "2022-01-01", "--seed", "2", "--failure-rate", "0.05"])
        let destroyed = try sandbox.ok(["addons", "--all", "--csv"]).stdout.split(whereSeparator: \.isNewline).filter { $0.hasSuffix(",deprovisioned") }
        #expect(destroyed.count == 2)
        let folder = sandbox.folder.appendingPathComponent("export").path
        try Self.exportTrail(sandbox, to: folder)
        try sandbox.ok(["platform:tick", "--until", "2023-03-01T00:00:00Z", "--seed", "2"])
        let key = sandbox.folder.appendingPathComponent("checkpoint.key").path
        try sandbox.ok(["audit:keygen", "--name", "example.com/maintledger", "--to", key], useDB: false)
        try sandbox.ok(["audit:checkpoint", "--key", key])
        try Self.exportTrail(sandbox, to: folder)
        let rebuilt = try Self.expectRoundTrip(sandbox, from: folder, files: 2)
        #expect(try Self.tableRows(rebuilt)["checkpoints"]?.count == 1)
    }

    /// A maintenance moved by `data:maintenances:schedule` and by `window:update`: the rebuilt
    /// ledger holds both moves (maintenance_moves), and the view shows the last mover.
    @Test func aLedgerWithMovedMaintenancesRoundTripsWithTheMoves() throws {
        let sandbox = try Fixture.pendingMaintenance(requiredBy: "2023-06-01T00:00:00Z")
        try sandbox.ok(["data:maintenances:schedule", "REDIS_URL", "-a", "example-app", "--weeks", "1"])
        sandbox.actor = "carol"
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "Tuesdays", "10:00", "-a", "example-app"], now: "2023-04-25T08:00:00Z")
        let folder = sandbox.folder.appendingPathComponent("export").path
        try Self.exportTrail(sandbox, to: folder)
        let rebuilt = try Self.expectRoundTrip(sandbox, from: folder, files: 1)
        #expect(try Self.tableRows(rebuilt)["maintenance_moves"]?.count == 2)
        #expect(try sandbox.run(["sql", "SELECT last_moved_by, times_moved FROM maintenance_audit", "--csv", "--db", rebuilt], useDB: false).stdout
                == "last_moved_by,times_moved\r\ncarol,2\r\n")
    }

    /// A ledger the release before the compact trail wrote (format 1 entries), upgraded and
    /// written to since (format 2 entries updating rows format 1 ones wrote).
    @Test func aFormat1LedgerUpgradedAndWrittenSinceRoundTrips() throws {
        let sandbox = try Fixture.fleetFormat1(now: "2023-01-15T00:00:00Z")
        try sandbox.ok(["migrate"])
        try sandbox.ok(["platform:tick", "--seed", "7"])
        let addons = try sandbox.ok(["addons", "--csv"]).stdout.split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",").map(String.init) }
        let (addon, app) = try #require(addons.first.map { ($0[0], $0[2]) })
        try sandbox.ok(["maintenance:on", "-a", app])
        try sandbox.ok(["addons:destroy", addon, "-a", app, "--confirm", app])
        let folder = sandbox.folder.appendingPathComponent("export").path
        try Self.exportTrail(sandbox, to: folder)
        let rebuilt = try Self.expectRoundTrip(sandbox, from: folder, files: 1)
        let formats = try DatabaseQueue(path: rebuilt).read { try String.fetchAll($0, sql: "SELECT DISTINCT typeof(hash) FROM audit_trail ORDER BY 1") }
        #expect(formats == ["blob", "text"])
    }

    /// SLOW: the demo (500 apps over a year), about 20 s in a debug build.
    @Test func theDemoLedgerRoundTrips() throws {
        let sandbox = try LedgerSandbox()
        sandbox.now = "2023-06-01T00:00:00Z"
        try sandbox.ok(["demo"])
        let folder = sandbox.folder.appendingPathComponent("export").path
        try Self.exportTrail(sandbox, to: folder)
        try Self.expectRoundTrip(sandbox, from: folder, files: 1)
    }

    // MARK: refusals

    @Test func aGapInTheSequenceIsNamedBySeq() throws {
        let (sandbox, folder, trail) = try Self.seedWithExports()
        var lines = try Self.lines(trail)
        lines.remove(at: 2)
        try Self.write(lines, to: trail)
        try Self.expectRefusal(sandbox, from: trail, stderr: "Error: seq 3 is missing: line 3 of \(trail) is seq 4, after seq 2\n" + Self.hint)
        // A folder missing a file between two: named before anything is replayed.
        try FileManager.default.removeItem(atPath: folder + "/" + Self.name(7, 8))
        try FileManager.default.removeItem(atPath: folder + "/" + Self.name(7, 8) + ".manifest.json")
        try Self.expectRefusal(sandbox, from: folder, stderr: """
            Error: seq 7 to 8 are missing from \(folder): no trail file covers them between \(Self.name(1, 6)) and \(Self.name(9, 9))

            """ + Self.hint)
        // Or its last file: the folder's cursor says how far its files went.
        try FileManager.default.removeItem(atPath: folder + "/" + Self.name(9, 9))
        try FileManager.default.removeItem(atPath: folder + "/" + Self.name(9, 9) + ".manifest.json")
        try Self.expectRefusal(sandbox, from: folder, stderr: """
            Error: \(folder)'s cursor says its trail export reached seq 9, but its files end at seq 6: a file is missing

            """ + Self.hint)
    }

    /// An export interrupted between its data file and its manifest (the cursor not moved):
    /// its file is left out, with a warning, and the trail before it rebuilds.
    @Test func aFileWithoutItsManifestIsLeftOut() throws {
        let (sandbox, folder, _) = try Self.seedWithExports()
        try FileManager.default.removeItem(atPath: folder + "/" + Self.name(9, 9) + ".manifest.json")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/" + Self.name(7, 8) + ".manifest.json")))
        let head = try #require((manifest as? [String: Any])?["head_hash"] as? String)
        try "{\n  \"head_hash\" : \"\(head)\",\n  \"seq\" : 8\n}\n".write(toFile: folder + "/.maintledger-cursor-trail-ndjson", atomically: true, encoding: .utf8)
        let file = sandbox.folder.appendingPathComponent("rebuilt.sqlite").path
        let result = try sandbox.run(["rebuild", "--from", folder, "--to", file], useDB: false)
        #expect(result == RunResult(stdout: "rebuilt \(file): 8 entries from 2 files, head \(head)\n", stderr: """
            Warning: left out \(Self.name(9, 9)), which has no manifest (an export was interrupted, or is under way)

            """, exitCode: 0))
        #expect(try sandbox.run(["audit:verify", "--db", file], useDB: false).stdout == "ok: 8 entries verified, head \(head)\n")
    }

    @Test func aBrokenLinkIsNamedBySeq() throws {
        let (sandbox, _, trail) = try Self.seedWithExports()
        var lines = try Self.lines(trail)
        lines[3] = lines[3].replacing(/"prev_hash":"[0-9a-f]{64}"/, with: "\"prev_hash\":\"" + String(repeating: "1", count: 64) + "\"")
        try Self.write(lines, to: trail)
        try Self.expectRefusal(sandbox, from: trail, stderr: "Error: seq 4 (line 4 of \(trail)) does not follow seq 3: its prev_hash is not the hash of seq 3\n" + Self.hint)
    }

    /// An entry whose content was changed: named by seq; in an export file, by the manifest it
    /// no longer matches (the file was changed).
    @Test func anAlteredEntryIsNamedBySeqOrByItsManifest() throws {
        let (sandbox, folder, trail) = try Self.seedWithExports()
        for path in [trail, folder + "/" + Self.name(1, 6)] {
            var lines = try Self.lines(path)
            lines[1] = lines[1].replacingOccurrences(of: "premium HA", with: "premium HB")
            try Self.write(lines, to: path)
        }
        try Self.expectRefusal(sandbox, from: trail, stderr: "Error: seq 2 (line 2 of \(trail)) was altered: its hash does not match its content\n" + Self.hint)
        let sha256 = try #require(try Self.contents(folder)[Self.name(1, 6)].map { SHA256Hasher.hash($0.withUnsafeBytes { $0 }) })
        try Self.expectRefusal(sandbox, from: folder, stderr: """
            Error: \(Self.name(1, 6)) does not match its manifest: its SHA-256 is \(Hex.string(sha256.bytes)), the manifest says \(try Self.manifestSHA256(folder, Self.name(1, 6)))
            The file was changed after export wrote it; nothing was written.

            """)
    }

    static func manifestSHA256(_ folder: String, _ name: String) throws -> String {
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/" + name + ".manifest.json")))
        return try #require((manifest as? [String: Any])?["sha256"] as? String)
    }

    @Test func aManifestWhoseSHA256DoesNotMatchItsFileIsNamed() throws {
        let (sandbox, folder, _) = try Self.seedWithExports()
        let manifest = folder + "/" + Self.name(7, 8) + ".manifest.json"
        let actual = try Self.manifestSHA256(folder, Self.name(7, 8))
        let wrong = String(repeating: "0", count: 64)
        try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: actual, with: wrong).write(toFile: manifest, atomically: true, encoding: .utf8)
        try Self.expectRefusal(sandbox, from: folder, stderr: """
            Error: \(Self.name(7, 8)) does not match its manifest: its SHA-256 is \(actual), the manifest says \(wrong)
            The file was changed after export wrote it; nothing was written.

            """)
    }

    @Test func aTruncatedFileIsRefused() throws {
        let (sandbox, folder, trail) = try Self.seedWithExports()
        let text = try String(contentsOfFile: trail, encoding: .utf8)
        try String(text.dropLast(40)).write(toFile: trail, atomically: true, encoding: .utf8)
        try Self.expectRefusal(sandbox, from: trail, stderr: "Error: \(trail) is truncated: its last line, 9, ends without a line break\n" + Self.hint)
        // Cut at a line's end, a file with a manifest is still short of its bytes.
        let file = folder + "/" + Self.name(7, 8)
        let lines = try Self.lines(file)
        let bytes = try Self.contents(file)[file]!.count
        try Self.write([lines[0]], to: file)
        try Self.expectRefusal(sandbox, from: folder, stderr: """
            Error: \(Self.name(7, 8)) is truncated: it holds \(lines[0].utf8.count + 1) bytes, its manifest says \(bytes)

            """ + Self.hint)
    }

    @Test func aMissingSourceIsNotFound() throws {
        let sandbox = try LedgerSandbox()
        let missing = sandbox.folder.appendingPathComponent("exports").path
        try Self.expectRefusal(sandbox, from: missing, stderr: """
            Error: no file or folder at \(missing)
            Point --from at an export folder, a file `export --entity trail` wrote, or what `audit:trail --ndjson` printed.

            """, exitCode: 1)
        try FileManager.default.createDirectory(atPath: missing, withIntermediateDirectories: true)
        try Self.expectRefusal(sandbox, from: missing, stderr: """
            Error: \(missing) holds no trail export (`export --entity trail --format ndjson` files with their manifests)
            Point --from at the folder a scheduled `export --entity trail` writes to.

            """, exitCode: 1)
    }

    /// Another ledger's files in the folder: one covering the same seqs, or one going on from
    /// another entry than the file before it ends at.
    @Test func filesOfTwoLedgersInOneFolderAreRefused() throws {
        let (sandbox, folder, _) = try Self.seedWithExports()
        // The other ledger: exported after seq 6 and 8, and whole.
        let other = try Fixture.exampleApp()
        let (otherFolder, otherWhole) = (other.folder.appendingPathComponent("export").path, other.folder.appendingPathComponent("whole").path)
        for app in ["second-app", "third-app", "fourth-app"] { try other.ok(["apps:create", app]) }
        try Self.exportTrail(other, to: otherFolder)
        for app in ["fifth-app", "sixth-app"] { try other.ok(["apps:create", app]) }
        try Self.exportTrail(other, to: otherFolder)
        try Self.exportTrail(other, to: otherWhole)
        func mixed(_ files: [(String, String)]) throws -> String {
            let mixed = sandbox.folder.appendingPathComponent("mixed-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: mixed, withIntermediateDirectories: true)
            for (from, name) in files {
                for suffix in ["", ".manifest.json"] { try FileManager.default.copyItem(atPath: from + "/" + name + suffix, toPath: mixed + "/" + name + suffix) }
            }
            return mixed
        }
        let goingOn = try mixed([(folder, Self.name(1, 6)), (otherFolder, Self.name(7, 8))])
        try Self.expectRefusal(sandbox, from: goingOn, stderr: """
            Error: \(goingOn) mixes the exports of two ledgers: \(Self.name(7, 8)) does not go on from \(Self.name(1, 6)) (its seq 7 follows another entry than that file's seq 6)
            Give rebuild a folder that one ledger exported to; nothing was written.

            """)
        let overlapping = try mixed([(folder, Self.name(1, 6)), (folder, Self.name(7, 8)), (otherWhole, Self.name(1, 8))])
        try Self.expectRefusal(sandbox, from: overlapping, stderr: """
            Error: \(overlapping) mixes the exports of two ledgers: \(Self.name(1, 6)) and \(Self.name(1, 8)) both hold seq 1
            Give rebuild a folder that one ledger exported to; nothing was written.

            """)
    }

    @Test func aTrailOfANewerFormatIsRefused() throws {
        let (sandbox, _, trail) = try Self.seedWithExports()
        var lines = try Self.lines(trail)
        lines[4] = lines[4].replacingOccurrences(of: "\"format\":2}", with: "\"format\":3}")
        try Self.write(lines, to: trail)
        try Self.expectRefusal(sandbox, from: trail, stderr: """
            Error: seq 5 (line 5 of \(trail)) is in trail format 3, which this maintledger does not know (it reads formats 1 and 2)
            Upgrade maintledger to rebuild from this trail; nothing was written.

            """, exitCode: 1)
    }

    /// As `backup` (they share `NewFile`): an existing FILE only with --force, never a WAL left
    /// beside it (SQLite would apply it to the new file), a file a killed rebuild left removed.
    @Test func anExistingFileIsRefusedUnlessForced() throws {
        let (sandbox, folder, trail) = try Self.seedWithExports()
        let file = sandbox.folder.appendingPathComponent("rebuilt.sqlite").path
        try Data("another ledger".utf8).write(to: URL(fileURLWithPath: file))
        try Self.expectRefusal(sandbox, from: trail, to: file, stderr: """
            Error: \(file) exists; rebuild replaces a file only with --force
            Choose a new file, or pass --force to replace it.

            """, exitCode: 1)
        try Data("its WAL".utf8).write(to: URL(fileURLWithPath: file + "-wal"))
        let refused = try sandbox.run(["rebuild", "--from", trail, "--to", file, "--force"], useDB: false)
        #expect(refused == RunResult(stdout: "", stderr: """
            Error: \(file)-wal exists, and SQLite would apply it to a ledger rebuilt at \(file)
            If no program has \(file) open, remove \(file)-wal; or choose another file.

            """, exitCode: 1))
        try FileManager.default.removeItem(atPath: file + "-wal")
        let abandoned = sandbox.folder.appendingPathComponent(".maintledger-rebuild-tmp-Ab12Cd").path
        try Data("a rebuild killed midway".utf8).write(to: URL(fileURLWithPath: abandoned))
        let forced = try sandbox.run(["rebuild", "--from", trail, "--to", file, "--force"], useDB: false)
        #expect(forced.exitCode == 0 && forced.stdout.hasPrefix("rebuilt \(file): 9 entries from 1 file, head "), "\(forced)")
        #expect(forced.stderr == "Warning: removed \(abandoned), which an interrupted rebuild left\n")
        #expect(try sandbox.run(["audit:verify", "--db", file], useDB: false).stdout == sandbox.ok(["audit:verify"]).stdout)
        // Not a folder, and not inside what it reads.
        try Self.expectRefusal(sandbox, from: trail, to: folder, stderr: """
            Error: \(folder) is a folder
            Point --to at a file, such as \(folder)/ledger.sqlite.

            """, exitCode: 1)
        try Self.expectRefusal(sandbox, from: folder, to: folder + "/ledger.sqlite", stderr: """
            Error: \(folder)/ledger.sqlite is in the source \(folder), which rebuild only reads
            Point --to outside what --from names.

            """, exitCode: 1)
    }

    /// A disk that fills under the rebuild (a tmpfs, which needs root to mount): exit 74, nothing
    /// left on it, and the same rebuild succeeding once there is room.
    @Test(.enabled(if: SmallDisk.canMount, "mounting a tmpfs needs root (CAP_SYS_ADMIN)"))
    func aRebuildOnAFullDiskLeavesNothingAndSucceedsOnceThereIsRoom() throws {
        let (sandbox, folder, _) = try Self.seedWithExports()
        let mount = sandbox.folder.appendingPathComponent("small").path
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let disk = try SmallDisk(at: mount, megabytes: 1)
        defer { disk.unmount() }
        try disk.fill()
        let file = mount + "/ledger.sqlite"
        try Self.expectRefusal(sandbox, from: folder, to: file, stderr: """
            Error: the disk holding \(file) is full; nothing was written
            Free some space and rebuild again, or rebuild onto another disk.

            """, exitCode: 74)
        #expect(try FileManager.default.contentsOfDirectory(atPath: mount) == [SmallDisk.fillerName])
        try disk.emptyFiller()
        let rebuilt = try sandbox.run(["rebuild", "--from", folder, "--to", file], useDB: false)
        #expect(rebuilt.exitCode == 0 && rebuilt.stdout.hasPrefix("rebuilt \(file): 9 entries from 3 files, head "), "\(rebuilt)")
        #expect(try sandbox.run(["audit:verify", "--db", file], useDB: false).stdout == sandbox.ok(["audit:verify"]).stdout)
    }

    /// Entries whose hashes hold (as someone who can rewrite the trail could make them) but
    /// whose changes the ledger would not take: each named by its seq.
    enum Forgery: String, CaseIterable {
        case updateOfAMissingRow, foreignKey, uniqueName, checkConstraint, digest, convertedValue
    }

    @Test(arguments: Forgery.allCases)
    func aPayloadThatDoesNotReplayIsNamedBySeq(_ forgery: Forgery) throws {
        let (sandbox, _, trail) = try Self.seedWithExports()
        var lines = try Self.lines(trail)
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
        let (time, actor) = ("2023-05-01T00:00:00.000Z", "mallory")
        var payload = CompactPayloadEncoder(recordedAt: time, actor: actor)
        func text(_ value: String) { var value = value; value.withUTF8 { payload.text(UnsafeRawBufferPointer($0)) } }
        /// An update of a maintenance's status (column 3), with a digest of nothing it could be.
        func statusUpdate(id: Int64, _ status: String) {
            payload.begin(.update, .maintenances, id: id, count: 1)
            payload.column(3)
            text(status)
            payload.digest([UInt8](repeating: 0, count: 16))
        }
        let reason: String
        switch forgery {
        case .updateOfAMissingRow:
            statusUpdate(id: 99, "failed")
            reason = "it updates maintenances row 99, which does not exist"
        case .foreignKey:
            payload.begin(.insert, .maintenanceStatusChanges, id: 50, count: 5)
            payload.integer(99)
            payload.null()
            text("pending")
            text(time)
            text(actor)
            reason = "maintenance_status_changes row 50: FOREIGN KEY constraint failed"
        case .uniqueName, .checkConstraint, .convertedValue:
            payload.begin(.insert, .apps, id: 2, count: 4)
            text("0455b2a8-39b7-448e-bf48-42bc52bc6ce9")
            text(forgery == .uniqueName ? "example-app" : "other-app")
            if forgery == .convertedValue { text("1") } else { payload.integer(forgery == .checkConstraint ? 2 : 0) }
            text(time)
            reason = switch forgery {
            case .uniqueName: "apps row 2: UNIQUE constraint failed: apps.name"
            case .checkConstraint: "apps row 2: CHECK constraint failed: maintenance_mode IN (0, 1)"
            default: "apps.maintenance_mode would not keep the value the trail records"
            }
        case .digest:
            statusUpdate(id: 1, "completed")
            reason = "maintenances row 1 after its update is not the row its digest records"
        }
        let seq = try #require(last["seq"] as? Int64) + 1
        let entry = TrailEntry(seq: seq, recordedAt: time, actor: actor, action: "apps:create", subject: "app:other-app", format: .compact,
                               payload: payload.bytes, prevHash: try #require(last["hash"] as? String))
        // A line after it that is no entry at all: the first bad seq is the one named.
        lines += [entry.json.compactText, "{}"]
        try Self.write(lines, to: trail)
        try Self.expectRefusal(sandbox, from: trail, stderr: "Error: seq 10 (line 10 of \(trail)) does not replay: \(reason)\n" + Self.hint)
    }
}
