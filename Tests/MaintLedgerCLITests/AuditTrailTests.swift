import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerStore

/// The audit trail as listed, its chain, writers racing each other, and tampering.
@Suite struct AuditTrailTests {
    // MARK: listing

    @Test func trailJSONParsesBackAsAChainFromSeqOne() throws {
        let sandbox = try Fixture.seedExample()
        let entries = try sandbox.trailEntries()
        #expect(entries.map { $0["seq"] as? Int } == Array(1...6))
        #expect(entries.map { $0["action"] as? String } == [
            "apps:create", "addons:create", "data:maintenances:window:update", "platform:maintenances:require",
            "platform:maintenances:start", "platform:maintenances:complete",
        ])
        #expect(entries.map { $0["subject"] as? String } == ["app:example-app"] + Array(repeating: "addon:redis-lively-12345", count: 5))
        #expect(entries.allSatisfy { $0["actor"] as? String == "alice" })
        #expect(entries.map { $0["recorded_at"] as? String }.last == "2023-04-28T18:04:21.141Z")
        var previous = String(repeating: "0", count: 64)
        for entry in entries {
            #expect(entry["prev_hash"] as? String == previous)
            let hash = try #require(entry["hash"] as? String)
            #expect(try /[0-9a-f]{64}/.wholeMatch(in: hash) != nil)
            previous = hash
            let payload = try #require(entry["payload"] as? [String: Any], "the payload is an object, not a string")
            #expect((payload["changes"] as? [Any])?.isEmpty == false)
        }
        let verdict = try sandbox.run(["audit:verify"])
        #expect(verdict == RunResult(stdout: "ok: 6 entries verified, head \(previous)\n", stderr: "", exitCode: 0))
    }

    @Test func ndjsonHoldsTheSameEntriesOnePerLine() throws {
        let sandbox = try Fixture.seedExample()
        let json = try sandbox.trailEntries()
        let ndjson = try sandbox.ok(["audit:trail", "--ndjson"]).stdout
        let lines = ndjson.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 7 && lines.last == "", "one line per entry, newline-terminated")
        for (line, entry) in zip(lines, json) {
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? NSDictionary)
            #expect(parsed == entry as NSDictionary)
        }
        let since = try sandbox.ok(["audit:trail", "--ndjson", "--since-seq", "4"]).stdout
        #expect(since.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["seq"] as? Int
        } == [5, 6])
        #expect(try sandbox.ok(["audit:trail", "--json", "--since-seq", "6"]).stdout == "[]\n")
    }

    @Test func trailTableAndCSVShowTheSameEntries() throws {
        let sandbox = try Fixture.seedExample()
        let json = try sandbox.trailEntries()
        let csv = try sandbox.ok(["audit:trail", "--csv"]).stdout
        let rows = csv.components(separatedBy: "\r\n")
        #expect(rows.first == "Seq,Recorded at,Actor,Action,Subject,Hash")
        #expect(rows[1] == "1,2022-12-26T08:30:37.872Z,alice,apps:create,app:example-app,\(json[0]["hash"] as! String)")
        #expect(rows.count == 8 && rows.last == "")
        let table = try sandbox.ok(["audit:trail"]).stdout.split(separator: "\n")
        #expect(table.count == 8)
        #expect(table[0].split(separator: " ") == ["Seq", "Recorded", "at", "Actor", "Action", "Subject", "Hash"])
        #expect(table[7].split(separator: " ") == ["6", "2023-04-28T18:04:21.141Z", "alice", "platform:maintenances:complete",
                                                    "addon:redis-lively-12345", Substring((json[5]["hash"] as! String).prefix(12))])
    }

    @Test func theActorComesFromTheEnvironment() throws {
        let sandbox = try LedgerSandbox()
        sandbox.actor = "bob"
        try sandbox.ok(["apps:create", "example-app"])
        try sandbox.ok(["apps:create", "other-app"], environment: ["MAINTLEDGER_ACTOR": "", "USER": "carol"])
        try sandbox.ok(["apps:create", "third-app"], environment: ["MAINTLEDGER_ACTOR": ""])
        #expect(try sandbox.trailEntries().map { $0["actor"] as? String } == ["bob", "carol", "unknown"])
    }

    @Test func refusalsAndReadsAppendNothing() throws {
        let sandbox = try Fixture.seedExample()
        let before = try sandbox.ok(["audit:trail", "--json"]).stdout
        try sandbox.run(["data:maintenances:info", "REDIS_URL", "-a", "example-app"])
        try sandbox.run(["data:maintenances:run", "REDIS_URL", "-a", "example-app"])
        try sandbox.run(["apps:create", "example-app"])
        try sandbox.run(["audit:verify"])
        #expect(try sandbox.ok(["audit:trail", "--json"]).stdout == before)
    }

    // MARK: concurrency

    @Test func sixWritersCreatingAppsAtOnceAllSucceed() throws {
        let sandbox = try LedgerSandbox()
        try sandbox.ok(["apps:create", "first-app"]) // the ledger exists before the race (see the report)
        let names = (1...6).map { "racing-app-\($0)" }
        let writers = try names.map { try sandbox.start(["apps:create", $0]) }
        for (writer, name) in zip(writers, names) {
            #expect(try writer.finish() == RunResult(stdout: "", stderr: "Creating ⬢ \(name)... done\n", exitCode: 0))
        }
        let entries = try sandbox.trailEntries()
        #expect(entries.map { $0["seq"] as? Int } == Array(1...7))
        #expect(Set(entries.dropFirst().compactMap { $0["subject"] as? String }) == Set(names.map { "app:\($0)" }))
        #expect(try sandbox.expectVerifies() == 7)
    }

    @Test func sixWritersCreatingANewLedgerAtOnceAllSucceed() throws {
        let sandbox = try LedgerSandbox()
        for round in 1...3 {
            let path = sandbox.folder.appendingPathComponent("round-\(round)/ledger.sqlite").path
            let writers = try (1...6).map { try sandbox.start(["apps:create", "racing-app-\($0)", "--db", path], useDB: false) }
            for writer in writers { #expect(try writer.finish().exitCode == 0) }
            let verdict = try sandbox.run(["audit:verify", "--db", path], useDB: false)
            #expect(verdict.exitCode == 0 && verdict.stdout.hasPrefix("ok: 6 entries verified"), "\(verdict)")
        }
    }

    @Test func sixWritersMovingDifferentMaintenancesAtOnceAllSucceed() throws {
        let sandbox = try Fixture.exampleApp()
        let addons = (1...6).map { "redis-racer-1000\($0)" }
        for addon in addons {
            try sandbox.ok(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--name", addon, "--as", addon.replacingOccurrences(of: "-", with: "_")])
        }
        func race(_ command: (String) -> [String]) throws {
            let writers = try addons.map { try sandbox.start(command($0)) }
            for writer in writers { #expect(try writer.finish().exitCode == 0) }
        }
        try race { ["platform:maintenances:require", $0, "--required-by", Fixture.requiredBy] }
        try race { ["platform:maintenances:start", $0] }
        try race { ["platform:maintenances:complete", $0] }
        for addon in addons {
            #expect(try sandbox.infoJSON(addon)["status"] as? String == "completed")
        }
        let entries = try sandbox.trailEntries()
        for action in ["require", "start", "complete"] {
            #expect(Set(entries.filter { $0["action"] as? String == "platform:maintenances:\(action)" }.compactMap { $0["subject"] as? String })
                    == Set(addons.map { "addon:\($0)" }))
        }
        #expect(try sandbox.expectVerifies() == 3 + 6 + 18)
    }

    // MARK: tampering

    static let triggerSQL = """
        CREATE TRIGGER audit_trail_append_only_update BEFORE UPDATE ON audit_trail
        BEGIN SELECT RAISE(ABORT, 'audit_trail is append-only'); END;
        CREATE TRIGGER audit_trail_append_only_delete BEFORE DELETE ON audit_trail
        BEGIN SELECT RAISE(ABORT, 'audit_trail is append-only'); END;
        """

    /// Alters the seed ledger (written as format 1 or format 2 entries) with the trail's triggers
    /// out of the way, then puts them back, as a careful attacker would.
    static func tamperedSeed(_ sql: String, format1: Bool = false) throws -> LedgerSandbox {
        try tamper(try Fixture.seedExample(format1: format1), sql)
    }

    static func tamper(_ sandbox: LedgerSandbox, _ sql: String) throws -> LedgerSandbox {
        try sandbox.tamper("DROP TRIGGER audit_trail_append_only_update; DROP TRIGGER audit_trail_append_only_delete;\n" + sql + "\n" + triggerSQL)
        return sandbox
    }

    static func verificationFailure(_ message: String) -> RunResult {
        RunResult(stdout: "", stderr: "Error: \(message)\n", exitCode: 3)
    }

    // MARK: tampering with format 1 entries (a ledger written before the compact trail)

    @Test func anEditedFormat1PayloadIsNamedBySeq() throws {
        let sandbox = try Self.tamperedSeed("""
            UPDATE audit_trail SET payload = replace(payload, '"day_of_week":5', '"day_of_week":4') WHERE seq = 3;
            UPDATE windows SET day_of_week = 4 WHERE id = 2;
            """, format1: true)
        #expect(try sandbox.run(["audit:verify"])
                == Self.verificationFailure("verification failed at seq 3: hash does not match the entry's content (the entry was altered)"))
    }

    /// The issue's example: a row changed with sqlite3 after dropping a trigger (left dropped).
    @Test func anEditedFormat1PayloadWithTheTriggerStillDroppedIsNamedBySeq() throws {
        let sandbox = try Fixture.seedExampleFormat1()
        try sandbox.tamper("""
            DROP TRIGGER audit_trail_append_only_update;
            UPDATE audit_trail SET payload = replace(payload, '"duration_seconds":186', '"duration_seconds":100') WHERE seq = 6;
            """)
        #expect(try sandbox.run(["audit:verify"])
                == Self.verificationFailure("verification failed at seq 6: hash does not match the entry's content (the entry was altered)"))
    }

    @Test(arguments: [false, true])
    func anEditedTrailActorIsNamedBySeq(format1: Bool) throws {
        let sandbox = try Self.tamperedSeed("UPDATE audit_trail SET actor = 'mallory' WHERE seq = 5;", format1: format1)
        let message = format1 ? "the entry was altered" : "the entry, or the hash of seq 4 it follows, was altered"
        #expect(try sandbox.run(["audit:verify"])
                == Self.verificationFailure("verification failed at seq 5: hash does not match the entry's content (\(message))"))
    }

    /// SHA-256 in hex, by /usr/bin/sha256sum (the test target has no crypto library).
    static func sha256(_ text: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data.prefix(64), as: UTF8.self)
    }

    @Test func anAlteredFormat1EntryWithARecomputedHashBreaksTheNextLink() throws {
        let sandbox = try Fixture.seedExampleFormat1()
        let entry = try #require(try DatabaseQueue(path: sandbox.dbPath).read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM audit_trail WHERE seq = 5")
        })
        func hash(actor: String) throws -> String {
            let fields = [entry["recorded_at"], actor, entry["action"], entry["subject"]].map { "\"\($0 as String)\"" }
            return try Self.sha256(entry["prev_hash"] + "[5," + fields.joined(separator: ",") + "," + entry["payload"] + "]")
        }
        // The recipe reproduces the stored hash, so the forged one is what maintledger would compute.
        #expect(try hash(actor: "alice") == entry["hash"])
        let forged = try hash(actor: "mallory")
        _ = try Self.tamper(sandbox, "UPDATE audit_trail SET actor = 'mallory', hash = '\(forged)' WHERE seq = 5;")
        #expect(try sandbox.run(["audit:verify"])
                == Self.verificationFailure("verification failed at seq 6: prev_hash does not match the hash of seq 5"))
    }

    /// The last entry rewritten with another payload and a hash to match: no later link breaks,
    /// so the payload itself must be refused, without crashing on an id past 64 bits or
    /// reserving memory for a huge one.
    @Test(arguments: [
        (#"{"changes":[]}"#, "verification failed at seq 6: its payload is not a list of row changes"),
        (#"{"changes":[{"op":"insert","table":"apps","row":{"id":9223372036854775808}}]}"#,
         "verification failed at seq 6: its payload is not a list of row changes"),
        (#"{"changes":[{"op":"insert","table":"apps","row":{"id":1},"extra":1}]}"#,
         "verification failed at seq 6: its payload is not a list of row changes"),
        (#"{"changes":[{"op":"insert","table":"maintenances","row":{"id":4000000000000000000}}]}"#,
         "verification failed: maintenance_status_changes row 3 appears in no trail entry, which ends at seq 6 (the row was added outside maintledger, or entries after it were removed)"),
    ])
    func aLastFormat1EntryRewrittenWithAnotherPayloadIsRefused(payload: String, message: String) throws {
        let sandbox = try Fixture.seedExampleFormat1()
        let entry = try #require(try DatabaseQueue(path: sandbox.dbPath).read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM audit_trail WHERE seq = 6")
        })
        let columns: [String] = ["recorded_at", "actor", "action", "subject"]
        let fields: [String] = columns.map { column in "\"" + (entry[column] as String) + "\"" }
        let prevHash: String = entry["prev_hash"]
        let forged = try Self.sha256(prevHash + "[6," + fields.joined(separator: ",") + "," + payload + "]")
        _ = try Self.tamper(sandbox, "UPDATE audit_trail SET payload = '\(payload)', hash = '\(forged)' WHERE seq = 6;")
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure(message))
    }

    // MARK: tampering with format 2 entries

    /// Entry `seq` of the sandbox's format 2 trail as the ledger reads it.
    static func compactEntry(_ sandbox: LedgerSandbox, _ seq: Int64) throws -> TrailEntry {
        try #require(try DatabaseQueue(path: sandbox.dbPath).read { db in
            try Row.fetchOne(db, sql: TrailEntry.selectSQL("WHERE t.seq = ?"), arguments: [seq]).map { TrailEntry(columns: RecordColumns(row: $0)) }
        })
    }

    /// Entry `seq` with `change` applied and its hash recomputed, as an attacker with the format's
    /// definition would write it.
    static func forge(_ entry: TrailEntry, actor: String? = nil, payload: [UInt8]? = nil) -> TrailEntry {
        TrailEntry(seq: entry.seq, recordedAt: entry.recordedAt, actor: actor ?? entry.actor, action: entry.action, subject: entry.subject,
                   format: .compact, payload: payload ?? entry.payload, prevHash: entry.prevHash)
    }

    @Test func anEditedCompactPayloadIsNamedBySeq() throws {
        let sandbox = try Fixture.seedExample()
        // Seq 3 records the window, day_of_week 5 as an integer (tag 1, zigzag 10).
        let entry = try Self.compactEntry(sandbox, 3)
        let edited = Array(Data(entry.payload).replacing(Data([0x01, 0x0A]), with: Data([0x01, 0x08])))
        #expect(edited != entry.payload)
        _ = try Self.tamper(sandbox, "UPDATE audit_trail SET payload = X'\(Hex.string(edited))' WHERE seq = 3; UPDATE windows SET day_of_week = 4 WHERE id = 2;")
        #expect(try sandbox.run(["audit:verify"])
                == Self.verificationFailure("verification failed at seq 3: hash does not match the entry's content (the entry, or the hash of seq 2 it follows, was altered)"))
    }

    /// A format 2 entry stores no link: it is the hash before, inside its own. Rewriting an entry
    /// with a hash to match breaks the next one.
    @Test func anAlteredCompactEntryWithARecomputedHashBreaksTheNextEntry() throws {
        let sandbox = try Fixture.seedExample()
        let entry = try Self.compactEntry(sandbox, 5)
        #expect(Self.forge(entry).hash == entry.hash, "the recipe reproduces the stored hash")
        let forged = Self.forge(entry, actor: "mallory")
        _ = try Self.tamper(sandbox, "UPDATE audit_trail SET actor = 'mallory', hash = X'\(forged.hash)' WHERE seq = 5;")
        #expect(try sandbox.run(["audit:verify"])
                == Self.verificationFailure("verification failed at seq 6: hash does not match the entry's content (the entry, or the hash of seq 5 it follows, was altered)"))
    }

    /// The last entry rewritten with bytes the format does not allow, and a hash to match.
    @Test(arguments: [
        ([], "it records no change"),
        ([0x11, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], "the change at byte 0 has no row id"),
        ([0x11, 0x01, 0x00], "the insert at byte 0 has 0 columns; apps has 4 after id"),
        ([0x25, 0x01, 0x01, 0x03, 0x03, 0x07] + Array("running".utf8), "the update at byte 0 is cut short"),
        ([0x25, 0x01, 0x02, 0x0B, 0x06, 0x03, 0x03, 0x07] + Array("running".utf8) + Array(repeating: 0, count: 16),
         "the update at byte 0 names its columns out of order"),
        // A uuid written as plain text, where the format has one form for it (tag 8).
        ([0x11, 0x01, 0x04, 0x03, 36] + Array("00000000-0000-4000-8000-000000000000".utf8) + [0x03, 3] + Array("abc".utf8) + [0x01, 0x00, 0x06],
         "the value of column 1 of the change at byte 0 is not one maintledger writes"),
        ([0x31, 0x01], "byte 0 is not a change's code"),
    ] as [([UInt8], String)])
    func aLastCompactEntryRewrittenWithAnotherPayloadIsRefused(payload: [UInt8], problem: String) throws {
        let sandbox = try Fixture.seedExample()
        let forged = Self.forge(try Self.compactEntry(sandbox, 6), payload: payload)
        _ = try Self.tamper(sandbox, "UPDATE audit_trail SET payload = X'\(Hex.string(payload))', hash = X'\(forged.hash)' WHERE seq = 6;")
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure("verification failed at seq 6: its payload is not one maintledger writes (\(problem))"))
    }

    /// A ledger written before the compact trail and written to since holds both formats; an
    /// edit to either is named by its seq, and entries of format 1 may not follow format 2 ones.
    @Test func aLedgerHoldingBothFormatsVerifiesAndNamesAnEditToEither() throws {
        let sandbox = try Fixture.seedExampleFormat1()
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "Mondays", "10:00AM", "-a", "example-app"])
        try sandbox.ok(["apps:create", "later-app"])
        let formats = try DatabaseQueue(path: sandbox.dbPath).read { db in
            try String.fetchAll(db, sql: "SELECT typeof(hash) FROM audit_trail ORDER BY seq")
        }
        #expect(formats == Array(repeating: "text", count: 6) + ["blob", "blob"])
        let clean = try sandbox.run(["audit:verify"])
        #expect(clean.exitCode == 0 && clean.stdout.hasPrefix("ok: 8 entries verified, head "), "\(clean)")
        let trail = try sandbox.trailEntries()
        #expect(trail.map { $0["format"] as? Int } == [1, 1, 1, 1, 1, 1, 2, 2])
        #expect(zip(trail, trail.dropFirst()).allSatisfy { $1["prev_hash"] as? String == $0["hash"] as? String }, "one chain across both formats")

        try sandbox.tamper("UPDATE windows SET start_minute = 660 WHERE id = 3")
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure("verification failed at seq 7: windows row 3 differs from what the trail recorded"))
        try sandbox.tamper("UPDATE windows SET start_minute = 1110 WHERE id = 2")
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure("verification failed at seq 3: windows row 2 differs from what the trail recorded"))
    }

    @Test func aFormat1EntryAfterFormat2OnesIsRefused() throws {
        let sandbox = try Fixture.seedExample()
        let entry = try Self.compactEntry(sandbox, 6)
        let payload = try #require(entry.payloadJSON).compactText
        let fields = [entry.recordedAt, entry.actor, entry.action, entry.subject].map { "\"\($0)\"" }
        let forged = try Self.sha256(entry.prevHash + "[6," + fields.joined(separator: ",") + "," + payload + "]")
        _ = try Self.tamper(sandbox, "UPDATE audit_trail SET payload = '\(payload)', prev_hash = '\(entry.prevHash)', hash = '\(forged)' WHERE seq = 6;")
        #expect(try sandbox.run(["audit:verify"])
                == Self.verificationFailure("verification failed at seq 6: a format 1 entry follows format 2 ones (from seq 1), which maintledger never writes"))
    }

    // MARK: tampering with the tables, either format

    @Test(arguments: [false, true])
    func aChangedMaintenanceRowIsNamedByTheSeqThatLastRecordedIt(format1: Bool) throws {
        let sandbox = try Fixture.seedExample(format1: format1)
        try sandbox.tamper("UPDATE maintenances SET completed_at = '2023-04-28T18:03:00.000Z', duration_seconds = 105")
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure("verification failed at seq 6: maintenances row 1 differs from what the trail recorded"))
    }

    @Test(arguments: [false, true])
    func aChangedWindowRowIsNamedByTheSeqThatRecordedIt(format1: Bool) throws {
        let sandbox = try Fixture.seedExample(format1: format1)
        try sandbox.tamper("UPDATE windows SET start_minute = 1110 WHERE id = 2")
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure("verification failed at seq 3: windows row 2 differs from what the trail recorded"))
    }

    @Test(arguments: [false, true])
    func aDeletedTrailEntryIsDetected(format1: Bool) throws {
        let sandbox = try Self.tamperedSeed("DELETE FROM audit_trail WHERE seq = 4;", format1: format1)
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure("verification failed at seq 4: entry is missing (next is seq 5)"))
    }

    @Test(arguments: [false, true])
    func aDeletedLastTrailEntryIsDetectedThroughTheRowsItRecorded(format1: Bool) throws {
        let sandbox = try Self.tamperedSeed("DELETE FROM audit_trail WHERE seq = 6;", format1: format1)
        let result = try sandbox.run(["audit:verify"])
        #expect(result.exitCode == 3 && result.stdout.isEmpty, "\(result)")
        #expect(result.stderr.hasPrefix("Error: "), "\(result)")
    }

    @Test(arguments: [false, true])
    func aDeletedTableRowIsNamedByTheSeqThatRecordedIt(format1: Bool) throws {
        let sandbox = try Fixture.seedExample(format1: format1)
        try sandbox.tamper("DELETE FROM maintenance_status_changes WHERE id = 3")
        #expect(try sandbox.run(["audit:verify"])
                == Self.verificationFailure("verification failed at seq 6: maintenance_status_changes row 3 recorded by the trail is gone"))
    }

    @Test(arguments: [false, true])
    func aRowInsertedOutsideMaintledgerIsDetected(format1: Bool) throws {
        let sandbox = try Fixture.seedExample(format1: format1)
        try sandbox.tamper("""
            INSERT INTO apps (uuid, name, maintenance_mode, created_at)
            VALUES ('00000000-0000-4000-8000-000000000000', 'evil-app', 0, '2023-01-01T00:00:00.000Z')
            """)
        #expect(try sandbox.run(["audit:verify"])
                == Self.verificationFailure("verification failed: apps row 2 appears in no trail entry, which ends at seq 6 (the row was added outside maintledger, or entries after it were removed)"))
    }

    /// The moves of a maintenance (maintenance_moves) are held to the trail as every other
    /// table's rows: an edited, a deleted and an added move are each named. (Seq 5 is bob's
    /// `data:maintenances:schedule`, which recorded move 1.)
    @Test(arguments: [
        ("UPDATE maintenance_moves SET moved_by = 'mallory'", "verification failed at seq 5: maintenance_moves row 1 differs from what the trail recorded"),
        ("DELETE FROM maintenance_moves", "verification failed at seq 5: maintenance_moves row 1 recorded by the trail is gone"),
        ("""
         INSERT INTO maintenance_moves (maintenance_id, moved_from, moved_to, moved_at, moved_by, cause)
         VALUES (1, '2023-05-05T18:00:00.000Z', '2023-05-12T18:00:00.000Z', '2023-04-24T11:00:00.000Z', 'mallory', 'schedule')
         """, "verification failed: maintenance_moves row 2 appears in no trail entry, which ends at seq 5 (the row was added outside maintledger, or entries after it were removed)"),
    ])
    func aTamperedMoveIsNamed(tampering: String, failure: String) throws {
        let sandbox = try Fixture.pendingMaintenance(requiredBy: "2023-06-01T00:00:00Z")
        sandbox.actor = "bob"
        try sandbox.ok(["data:maintenances:schedule", "REDIS_URL", "-a", "example-app", "--weeks", "1"])
        #expect(try sandbox.expectVerifies() == 5)
        try sandbox.tamper(tampering)
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure(failure))
    }

    /// A row whose parent is missing: the table comparison names it as unrecorded; `--integrity`
    /// runs SQLite's own checks first, which name the broken reference.
    @Test func integrityRunsSQLitesOwnChecksFirst() throws {
        let sandbox = try Fixture.seedExample()
        let clean = try sandbox.run(["audit:verify", "--integrity"])
        #expect(clean.exitCode == 0 && clean.stdout.hasPrefix("ok: 6 entries verified, head "), "\(clean)")
        try sandbox.tamper("""
            PRAGMA foreign_keys = OFF;
            INSERT INTO attachments (app_id, addon_id, name, attached_at) VALUES (99, 1, 'EVIL_URL', '2023-01-01T00:00:00.000Z')
            """)
        let id = try #require(try DatabaseQueue(path: sandbox.dbPath).read { db in try Int.fetchOne(db, sql: "SELECT max(id) FROM attachments") })
        #expect(try sandbox.run(["audit:verify"])
                == Self.verificationFailure("verification failed: attachments row \(id) appears in no trail entry, which ends at seq 6 (the row was added outside maintledger, or entries after it were removed)"))
        #expect(try sandbox.run(["audit:verify", "--integrity"])
                == Self.verificationFailure("verification failed: foreign key check: attachments row \(id) refers to a missing apps row"))
    }

    @Test(arguments: ["audit_trail_append_only_update", "audit_trail_append_only_delete", "audit_trail_chained"], [false, true])
    func aDroppedTrailTriggerIsDetected(trigger: String, format1: Bool) throws {
        let sandbox = try Fixture.seedExample(format1: format1)
        try sandbox.tamper("DROP TRIGGER \(trigger)")
        #expect(try sandbox.run(["audit:verify"])
                == Self.verificationFailure("verification failed: the trigger \(trigger) that protects the trail is missing"))
    }

    @Test func theTriggersRefuseUpdatesDeletesAndOutOfChainInserts() throws {
        let sandbox = try Fixture.seedExample()
        let attempts = [
            ("UPDATE audit_trail SET actor = 'mallory' WHERE seq = 2", "audit_trail is append-only"),
            ("DELETE FROM audit_trail WHERE seq = 6", "audit_trail is append-only"),
            ("DELETE FROM audit_trail", "audit_trail is append-only"),
            ("""
             INSERT INTO audit_trail (seq, recorded_at, actor, action, subject, payload, prev_hash, hash)
             VALUES (9, '2023-05-01T00:00:00.000Z', 'mallory', 'x', 'y', '{}', '\(String(repeating: "0", count: 64))', '\(String(repeating: "b", count: 64))')
             """, "audit_trail entries must extend the chain"),
        ]
        for (sql, message) in attempts {
            #expect {
                try sandbox.tamper(sql)
            } throws: { error in
                (error as? DatabaseError)?.message == message
            }
        }
        try sandbox.expectVerifies()
    }
}
