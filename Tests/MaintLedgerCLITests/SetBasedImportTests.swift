import Foundation
import Testing

/// `import` records a file a batch of 1,000 lines at a time, each batch one trail entry, in one
/// transaction: the same rules and the same all-or-nothing result as line by line.
@Suite struct SetBasedImportTests {
    /// The first line `history --ndjson` printed (a completed maintenance), as an object.
    static func firstObject() throws -> [String: Any] {
        let first = try #require(try ImportCommandTests.exported.get().split(separator: "\n").first)
        return try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
    }

    static func line(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// `count` completed maintenances of one add-on, each with its own uuid.
    static func lines(_ count: Int, change: (Int, inout [String: Any]) -> Void = { _, _ in }) throws -> [String] {
        let object = try firstObject()
        return try (1...count).map { number in
            var copy = object
            copy["uuid"] = String(format: "00000000-0000-4000-8000-%012d", number)
            change(number, &copy)
            return try line(copy)
        }
    }

    static func sandbox() throws -> LedgerSandbox {
        let sandbox = try LedgerSandbox()
        sandbox.now = ImportCommandTests.now
        return sandbox
    }

    /// Each entry holds its lines' rows whole: every maintenance with its status changes, which
    /// name it, so `audit:trail` still tells which maintenance each change belongs to.
    @Test func aFileOfManyBatchesIsOneEntryPerThousandLinesAndImportsOnce() throws {
        let target = try Self.sandbox()
        let file = try ImportCommandTests.file(try Self.lines(2_500).joined(separator: "\n") + "\n", in: target)
        #expect(try target.run(["import", file]) == RunResult(stdout: "", stderr: """
            Imported 2500 objects from \(file): 2500 new, 0 progressed, 0 unchanged, 0 refused; 1 apps, 1 add-ons and 1 attachments created

            """, exitCode: 0))
        let entries = try target.expectVerifies()
        let imports = try target.trailEntries().filter { $0["action"] as? String == "import" }
        #expect(imports.count == 3)
        let perEntry = try imports.map { entry in
            let payload = try #require(entry["payload"] as? [String: Any])
            let changes = try #require(payload["changes"] as? [[String: Any]])
            let rows = { (table: String) in changes.filter { $0["table"] as? String == table }.compactMap { $0["row"] as? [String: Any] } }
            let maintenances = Set(rows("maintenances").compactMap { $0["id"] as? Int })
            let statusChanges = rows("maintenance_status_changes").compactMap { $0["maintenance_id"] as? Int }
            #expect(Set(statusChanges) == maintenances, "every status change names a maintenance of its own entry")
            return maintenances.count
        }
        #expect(perEntry == [1_000, 1_000, 500])

        let before = try target.snapshot()
        #expect(try target.run(["import", file]) == RunResult(stdout: "", stderr: """
            Imported 2500 objects from \(file): 0 new, 0 progressed, 2500 unchanged, 0 refused; 0 apps, 0 add-ons and 0 attachments created

            """, exitCode: 0))
        #expect(try target.snapshot() == before)
        #expect(try target.expectVerifies() == entries)
    }

    @Test func aBadLineInALaterBatchIsReportedByNumberAndKeepsNothing() throws {
        let target = try Self.sandbox()
        try target.ok(["apps:create", "other-app"])
        let bad = try Self.lines(2_500) { number, object in
            if number == 2_345 { object["status"] = "done" }
        }
        let file = try ImportCommandTests.file(bad.joined(separator: "\n") + "\n", in: target)
        try target.expectRefusal(["import", file], stderr: """
            Error: line 2345 of \(file): status 'done' is not one of pending, preparing, ready, running, completed, failed, cancelled
            Nothing from \(file) was imported; fix that line and import the file again.

            """, exitCode: 65)
    }

    /// A line only the schema refuses, in a batch after the first: SQLite's reason, on its line.
    @Test func aLineOnlyTheSchemaRefusesInALaterBatchIsNamedWithSQLitesReason() throws {
        let target = try Self.sandbox()
        try target.ok(["apps:create", "other-app"])
        let bad = try Self.lines(1_600) { number, object in
            if number == 1_500 { object["app"] = ["name": "another-app", "uuid": "not-a-uuid"] }
        }
        let file = try ImportCommandTests.file(bad.joined(separator: "\n") + "\n", in: target)
        try target.expectRefusal(["import", file], stderr: """
            Error: line 1500 of \(file): CHECK constraint failed: length(uuid) = 36
            Nothing from \(file) was imported; fix that line and import the file again.

            """, exitCode: 65)
    }

    /// Within a batch the ledger is asked once for all the batch's uuids: a uuid the batch itself
    /// records is still found the second time.
    @Test func aUUIDTwiceInOneBatchIsRecordedOnceOrRefusedWithOtherValues() throws {
        let target = try Self.sandbox()
        let line = try Self.lines(1)[0]
        let twice = try ImportCommandTests.file(line + "\n" + line + "\n", in: target)
        let result = try target.ok(["import", twice])
        #expect(result.stderr.hasPrefix("Imported 2 objects from \(twice): 1 new, 0 progressed, 1 unchanged, 0 refused;"), "\(result)")

        let other = try Self.sandbox()
        var changed = try Self.firstObject()
        changed["emergency"] = true
        let uuid = try #require(changed["uuid"] as? String)
        let status = try #require(changed["status"] as? String)
        let file = try ImportCommandTests.file(try Self.line(try Self.firstObject()) + "\n" + Self.line(changed) + "\n", in: other)
        #expect(try other.run(["import", file]) == RunResult(stdout: "", stderr: """
            Error: line 2 of \(file): maintenance \(uuid) is recorded \(status); the import says \(status), with another emergency
            Nothing from \(file) was imported; fix that line and import the file again.

            """, exitCode: 1))
    }

    /// A row is recorded from the values bound to it, so they must be the row as stored: a text
    /// holding a NUL is bound whole (bound as a C string, it ended at the NUL) and verifies.
    @Test func aTextWithANULIsStoredWholeAsTheTrailRecordsIt() throws {
        let target = try Self.sandbox()
        let line = try Self.lines(1) { _, object in object["window"] = "Fridays\u{0} 18:00 to 22:00 UTC" }[0]
        let file = try ImportCommandTests.file(line + "\n", in: target)
        try target.ok(["import", file])
        _ = try target.expectVerifies()
        #expect(try target.ok(["sql", "--json", "SELECT length(CAST(window AS BLOB)) AS bytes FROM maintenances"]).stdout
            .contains("\"bytes\": 27"))
    }

    /// An attachment named as `redis` on one line and `REDIS_URL` on another is one attachment
    /// (before, the second line tried to attach it again and failed on SQLite's unique index).
    @Test func anAttachmentNameIsMatchedAsItIsStored() throws {
        let target = try Self.sandbox()
        let lines = try Self.lines(2) { number, object in
            var addon = object["addon"] as! [String: Any]
            addon["attachments"] = [number == 1 ? "REDIS_URL" : "redis"]
            object["addon"] = addon
        }
        let file = try ImportCommandTests.file(lines.joined(separator: "\n") + "\n", in: target)
        #expect(try target.ok(["import", file]).stderr.contains("2 new, 0 progressed, 0 unchanged, 0 refused; 1 apps, 1 add-ons and 1 attachments created"))
        _ = try target.expectVerifies()
    }

    /// Most lines are recorded by an insert that is itself the check that their uuid is new
    /// (`ON CONFLICT (uuid) DO NOTHING`): a recorded uuid still creates nothing (an attachment
    /// name its line adds is not attached) and is still refused for its values first, even when
    /// the schema would also refuse them.
    @Test func aRecordedUUIDCreatesNothingAndIsRefusedForItsValuesFirst() throws {
        let target = try Self.sandbox()
        let lines = try Self.lines(3)
        try target.ok(["import", try ImportCommandTests.file(lines.joined(separator: "\n") + "\n", in: target)])
        let before = try target.snapshot()

        // A recorded uuid on the recorded add-on, with one more attachment name: skipped whole.
        var renamed = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        var addon = try #require(renamed["addon"] as? [String: Any])
        addon["attachments"] = (addon["attachments"] as? [String] ?? []) + ["EXTRA_URL"]
        renamed["addon"] = addon
        let again = try ImportCommandTests.file(lines[0] + "\n" + Self.line(renamed) + "\n", in: target)
        #expect(try target.ok(["import", again]).stderr.contains("0 new, 0 progressed, 2 unchanged, 0 refused; 0 apps, 0 add-ons and 0 attachments"))
        #expect(try target.snapshot() == before)

        // A recorded uuid whose values the schema refuses too (outside a window it has none of):
        // refused as recorded with other values, as a look-up before the insert found it.
        var broken = try #require(try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        broken["window"] = NSNull()
        broken["outside_window"] = true
        let uuid = try #require(broken["uuid"] as? String)
        let status = try #require(broken["status"] as? String)
        let refused = try ImportCommandTests.file(lines[0] + "\n" + Self.line(broken) + "\n", in: target)
        try target.expectRefusal(["import", refused], stderr: """
            Error: line 2 of \(refused): maintenance \(uuid) is recorded \(status); the import says \(status), with another window, but a \
            \(status) maintenance changes no more
            Nothing from \(refused) was imported; fix that line and import the file again.

            """)

        // The same line with a new uuid is the schema's to refuse.
        broken["uuid"] = "00000000-0000-4000-8000-999999999999"
        let schema = try ImportCommandTests.file(Self.line(broken) + "\n", in: target)
        try target.expectRefusal(["import", schema], stderr: """
            Error: line 1 of \(schema): CHECK constraint failed: outside_window IN (0, 1) AND (window IS NOT NULL OR outside_window = 0)
            Nothing from \(schema) was imported; fix that line and import the file again.

            """, exitCode: 65)
    }
}
