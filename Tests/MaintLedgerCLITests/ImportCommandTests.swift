import Foundation
import Testing

/// `import FILE`: the Heroku-shaped NDJSON that `history --ndjson` prints, recorded once, all or nothing.
@Suite struct ImportCommandTests {
    static let now = "2023-01-01T00:00:00Z"

    /// A simulated fleet's maintenances as `history --ndjson --order asc` prints them.
    static let exported: Result<String, any Error> = Result {
        let source = try LedgerSandbox()
        source.now = now
        try source.ok(["simulate", "--apps", "5", "--days", "120", "--start", "2022-01-01", "--seed", "7"])
        return try source.ok(["history", "--ndjson", "--order", "asc"]).stdout
    }

    static func file(_ text: String, in sandbox: LedgerSandbox) throws -> String {
        let path = sandbox.folder.appendingPathComponent("maintenances.ndjson").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The objects without their attachment lists: the shape names attachments without their
    /// apps, so one attached to another app under a name its owner uses elsewhere is left out.
    static func withoutAttachments(_ ndjson: String) throws -> [NSDictionary] {
        try ndjson.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            var addon = try #require(object["addon"] as? [String: Any])
            addon["attachments"] = nil
            var stripped = object
            stripped["addon"] = addon
            return stripped as NSDictionary
        }
    }

    @Test func everyMaintenanceIsRecordedOnceAndImportingAgainChangesNothing() throws {
        let lines = try Self.exported.get()
        let target = try LedgerSandbox()
        target.now = Self.now
        let file = try Self.file(lines, in: target)
        #expect(try target.run(["import", file]) == RunResult(stdout: "", stderr: """
            Imported 23 objects from \(file): 23 new, 0 progressed, 0 unchanged, 0 refused; 5 apps, 15 add-ons and 15 attachments \
            created; 1 attachment names of other apps left out

            """, exitCode: 0))
        let entries = try target.expectVerifies()
        let before = try target.snapshot()
        #expect(try target.run(["import", file]) == RunResult(stdout: "", stderr: """
            Imported 23 objects from \(file): 0 new, 0 progressed, 23 unchanged, 0 refused; 0 apps, 0 add-ons and 0 attachments created

            """, exitCode: 0))
        #expect(try target.snapshot() == before)
        #expect(try target.expectVerifies() == entries)
        let back = try target.ok(["history", "--ndjson", "--order", "asc"]).stdout
        #expect(try Self.withoutAttachments(back) == Self.withoutAttachments(lines))
    }

    @Test func aBadLineIsReportedByNumberAndNothingFromTheFileIsKept() throws {
        var rows = try Self.exported.get().split(separator: "\n").map(String.init)
        rows[5] = rows[5].replacingOccurrences(of: "\"status\":\"completed\"", with: "\"status\":\"done\"")
        let target = try LedgerSandbox()
        target.now = Self.now
        try target.ok(["apps:create", "other-app"])
        let file = try Self.file(rows.joined(separator: "\n") + "\n", in: target)
        try target.expectRefusal(["import", file], stderr: """
            Error: line 6 of \(file): status 'done' is not one of pending, preparing, ready, running, completed, failed, cancelled
            Nothing from \(file) was imported; fix that line and import the file again.

            """, exitCode: 65)
    }

    /// A value only the schema refuses (an app uuid of the wrong length) fails in SQLite: the
    /// line is named with SQLite's reason, nothing is kept, and the file imports once fixed.
    @Test func aLineOnlyTheSchemaRefusesIsNamedWithSQLitesReason() throws {
        var rows = try Self.exported.get().split(separator: "\n").map(String.init)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(rows[0].utf8)) as? [String: Any])
        var app = try #require(object["app"] as? [String: Any])
        app["uuid"] = "not-a-uuid"
        object["app"] = app
        rows[0] = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let target = try LedgerSandbox()
        target.now = Self.now
        try target.ok(["apps:create", "other-app"])
        let bad = try Self.file(rows.joined(separator: "\n") + "\n", in: target)
        try target.expectRefusal(["import", bad], stderr: """
            Error: line 1 of \(bad): CHECK constraint failed: length(uuid) = 36
            Nothing from \(bad) was imported; fix that line and import the file again.

            """, exitCode: 65)
        let good = try Self.file(try Self.exported.get(), in: target)
        #expect(try target.run(["import", good]).exitCode == 0)
        _ = try target.expectVerifies()
    }

    @Test func aRefusedFirstImportLeavesNoLedger() throws {
        let target = try LedgerSandbox()
        let file = try Self.file("{\"bad\": 1}\n", in: target)
        #expect(try target.run(["import", file]) == RunResult(stdout: "", stderr: """
            Error: line 1 of \(file): status is missing
            Nothing from \(file) was imported; fix that line and import the file again.

            """, exitCode: 65))
        #expect(!FileManager.default.fileExists(atPath: target.dbPath))
        #expect(try target.run(["import", target.folder.appendingPathComponent("missing.ndjson").path]).exitCode == 1)
        #expect(!FileManager.default.fileExists(atPath: target.dbPath))
    }

    @Test func aMaintenanceRecordedWithOtherValuesIsRefused() throws {
        let lines = try Self.exported.get()
        let target = try LedgerSandbox()
        target.now = Self.now
        try target.ok(["import", try Self.file(lines, in: target)])
        let first = try #require(lines.split(separator: "\n").first.map(String.init))
        let uuid = try #require((try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])?["uuid"] as? String)
        let changed = first.replacingOccurrences(of: "\"emergency\":false", with: "\"emergency\":true")
        let file = try Self.file(lines + changed + "\n", in: target)
        try target.expectRefusal(["import", file], stderr: """
            Error: line 24 of \(file): maintenance \(uuid) is recorded completed; the import says completed, with another emergency
            Nothing from \(file) was imported; fix that line and import the file again.

            """)
    }

    /// A line is read whole, as the one Heroku shape, before it is matched with what the ledger
    /// holds: a maintenance already recorded is refused when its add-on is malformed, and
    /// nothing changes. (Before the shape had one home, such a line was skipped unread.)
    @Test func aRecordedMaintenanceWithAMalformedAddonIsRefused() throws {
        let lines = try Self.exported.get()
        let target = try LedgerSandbox()
        target.now = Self.now
        try target.ok(["import", try Self.file(lines, in: target)])
        let before = try target.snapshot()
        let first = try #require(lines.split(separator: "\n").first.map(String.init))
        var object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        var addon = try #require(object["addon"] as? [String: Any])
        addon["window"] = 5
        object["addon"] = addon
        let changed = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let file = try Self.file(lines + changed + "\n", in: target)
        try target.expectRefusal(["import", file], stderr: """
            Error: line 24 of \(file): addon.window is not a string
            Nothing from \(file) was imported; fix that line and import the file again.

            """, exitCode: 65)
        #expect(try target.snapshot() == before)
    }
}
