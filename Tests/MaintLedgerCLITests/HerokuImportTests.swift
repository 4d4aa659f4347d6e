import Foundation
import Testing

/// `import` of what Heroku's CLI prints (issue 16): its JSON arrays and pretty-printed objects,
/// without uuids, with list-view times and string durations; a daily import moving maintenances
/// on; and the input it refuses, whole.
@Suite struct HerokuImportTests {
    static let now = "2023-05-05T00:00:00Z"

    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/heroku/\(name)").standardized.path
    }

    static func write(_ text: String, _ name: String = "input.json", in sandbox: LedgerSandbox) throws -> String {
        let path = sandbox.folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func sandbox() throws -> LedgerSandbox {
        let sandbox = try LedgerSandbox()
        sandbox.now = now
        return sandbox
    }

    @Test func infoAndHistoryAsHerokuPrintsThemRecordEachMaintenanceOnce() throws {
        let target = try Self.sandbox()
        let info = Self.fixture("info.json"), history = Self.fixture("history.json")
        #expect(try target.run(["import", info]) == RunResult(stdout: "", stderr: """
            Imported 1 objects (29 lines) from \(info): 1 new, 0 progressed, 0 unchanged, 0 refused; 1 apps, 1 add-ons and 1 attachments created

            """, exitCode: 0))
        // The history's first element is the same maintenance, to the second: not recorded again.
        #expect(try target.run(["import", history]) == RunResult(stdout: "", stderr: """
            Imported 3 objects (89 lines) from \(history): 2 new, 0 progressed, 1 unchanged, 0 refused; 0 apps, 0 add-ons and 0 attachments created

            """, exitCode: 0))
        let before = try target.snapshot()
        #expect(try target.run(["import", history]).stderr.contains(": 0 new, 0 progressed, 3 unchanged, 0 refused;"))
        #expect(try target.snapshot() == before)
        // The info's milliseconds are kept; its duration is Heroku's.
        let latest = try #require(try JSONSerialization.jsonObject(with: Data(target.ok(["data:maintenances:info", "redis-lively-12345", "--json"]).stdout.utf8)) as? [String: Any])
        #expect(latest["started_at"] as? String == "2023-04-28T18:01:14.191+00:00")
        #expect(latest["duration_seconds"] as? Int == 186)
        #expect(latest["uuid"] as? String == "98946e84-7d7e-8a9b-9473-1904c81a8ab9")
        _ = try target.expectVerifies()
    }

    @Test func aByteOrderMarkAndObjectsOneAfterAnotherAreRead() throws {
        let target = try Self.sandbox()
        let info = try String(contentsOfFile: Self.fixture("info.json"), encoding: .utf8)
        let history = try String(contentsOfFile: Self.fixture("history.json"), encoding: .utf8)
        let file = try Self.write("\u{FEFF}" + info + history + "\n" + info, in: target)
        #expect(try target.run(["import", file]) == RunResult(stdout: "", stderr: """
            Imported 5 objects (148 lines) from \(file): 3 new, 0 progressed, 2 unchanged, 0 refused; 1 apps, 1 add-ons and 1 attachments created

            """, exitCode: 0))
        // NDJSON with a byte order mark.
        let other = try Self.sandbox()
        let lines = try target.ok(["history", "--ndjson"]).stdout
        let ndjson = try Self.write("\u{FEFF}" + lines, "history.ndjson", in: other)
        #expect(try other.run(["import", ndjson]).stderr.hasPrefix("Imported 3 objects from \(ndjson): 3 new,"))
    }

    @Test func aDailyImportMovesAMaintenanceOnAndNeverBack() throws {
        let target = try Self.sandbox()
        let before = Self.fixture("history-before.json"), after = Self.fixture("history.json"), app = Self.fixture("maintenances.json")
        try target.ok(["import", before], now: "2023-04-27T12:00:00Z")
        #expect(try target.run(["import", app], now: "2023-04-27T12:00:00Z").stderr == """
            Imported 2 objects (60 lines) from \(app): 0 new, 0 progressed, 1 unchanged, 0 refused; 0 apps, 0 add-ons and 0 attachments created; \
            1 add-ons without a maintenance (status none) skipped

            """)
        let pending = try target.snapshot()
        #expect(try target.run(["import", after, "--dry-run"]) == RunResult(stdout: "", stderr: """
            Would import 3 objects (89 lines) from \(after): 0 new, 1 progressed, 2 unchanged, 0 refused; 0 apps, 0 add-ons and 0 attachments \
            to create; nothing was recorded (dry run)

            """, exitCode: 0))
        #expect(try target.snapshot() == pending)
        #expect(try target.run(["import", after]).stderr.contains(": 0 new, 1 progressed, 2 unchanged, 0 refused;"))
        let changes = try target.ok(["audit:trail", "--ndjson"]).stdout
        #expect(changes.contains("\"from_status\":\"pending\"") && changes.contains("\"to_status\":\"running\""))
        #expect(changes.contains("\"to_status\":\"completed\""))
        _ = try target.expectVerifies()
        try target.expectRefusal(["import", before], stderr: """
            Error: element 1 of \(before) (line 2): maintenance 98946e84-7d7e-8a9b-9473-1904c81a8ab9 is recorded completed; the import says \
            pending, a change the lifecycle forbids
            Nothing from \(before) was imported; fix that element and import the file again.

            """)
    }

    @Test func anObjectWithoutItsAppOrAddonTakesTheFlags() throws {
        let target = try Self.sandbox()
        try target.ok(["import", Self.fixture("info.json")])
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixture("history.json")))) as? [[String: Any]])[1]
        object["app"] = nil
        object["addon"] = nil
        object["heroku_only"] = 1
        let file = try Self.write(String(decoding: try JSONSerialization.data(withJSONObject: [object], options: .prettyPrinted), as: UTF8.self), in: target)
        try target.expectRefusal(["import", file], stderr: """
            Error: element 1 of \(file) (line 2): app.name is missing (give --app for output that names none)
            Nothing from \(file) was imported; fix that element and import the file again.

            """, exitCode: 65)
        try target.expectRefusal(["import", file, "--app", "example-app", "--addon", "redis-quiet-1"], stderr: """
            Error: element 1 of \(file) (line 2): add-on redis-quiet-1 is not in the ledger, and the object gives no addon.kind to create it with
            Nothing from \(file) was imported; fix that element and import the file again.

            """)
        let imported = try target.run(["import", file, "--app", "example-app", "--addon", "redis-lively-12345"])
        #expect(imported.exitCode == 0)
        #expect(imported.stderr.hasSuffix("""
            : 1 new, 0 progressed, 0 unchanged, 0 refused; 0 apps, 0 add-ons and 0 attachments created; unknown keys ignored: heroku_only (1)

            """))
        // Under --app, an object of another app (a file mixing two apps' histories) is refused.
        let history = Self.fixture("history.json")
        try target.expectRefusal(["import", history, "--app", "other-app"], stderr: """
            Error: element 1 of \(history) (line 2): app.name is 'example-app', not other-app as --app says
            Nothing from \(history) was imported; fix that element and import the file again.

            """)
    }

    /// A maintenance stays with its add-on, and an add-on with its app: an object naming another
    /// app for an add-on the ledger holds was recorded on that add-on (and the app created), and
    /// one naming another add-on or app for a recorded maintenance was counted unchanged.
    @Test func anObjectNamingAnotherOwnerThanTheLedgerIsRefused() throws {
        let target = try Self.sandbox()
        try target.ok(["import", Self.fixture("info.json")])
        var objects = try Self.history()
        objects[1]["app"] = ["name": "other-app"]
        let owner = try Self.write(objects: [objects[1]], in: target)
        try target.expectRefusal(["import", owner], stderr: """
            Error: element 1 of \(owner) (line 2): add-on redis-lively-12345 belongs to example-app, not other-app
            Nothing from \(owner) was imported; fix that element and import the file again.

            """)
        try target.expectRefusal(["import", owner, "--app", "other-app"], stderr: """
            Error: element 1 of \(owner) (line 2): add-on redis-lively-12345 belongs to example-app, not other-app
            Nothing from \(owner) was imported; fix that element and import the file again.

            """)
        objects[0]["uuid"] = "98946e84-7d7e-8a9b-9473-1904c81a8ab9"
        objects[0]["addon"] = ["name": "redis-other-2", "kind": "heroku-redis", "plan": "premium-0"]
        let addon = try Self.write(objects: [objects[0]], in: target)
        try target.expectRefusal(["import", addon], stderr: """
            Error: element 1 of \(addon) (line 2): maintenance 98946e84-7d7e-8a9b-9473-1904c81a8ab9 is recorded on redis-lively-12345 of \
            example-app; the import says redis-other-2 of example-app
            Nothing from \(addon) was imported; fix that element and import the file again.

            """)
    }

    /// Keys no field is read from are counted, but a file whose objects each hold keys of their
    /// own printed every name, whole, in its summary (a 1 MB key made a 1 MB line).
    @Test func theSummaryNamesTenUnknownKeysAtMostAndCutsLongOnes() throws {
        let target = try Self.sandbox()
        var objects = try Self.history()
        for (number, index) in objects.indices.enumerated() {
            for key in 0..<6 { objects[index]["key_\(number)_\(key)"] = key }
        }
        objects[0][String(repeating: "k", count: 50)] = true
        let file = try Self.write(objects: objects, in: target)
        #expect(try target.run(["import", file]).stderr.hasSuffix("""
            ; unknown keys ignored: key_0_0 (1), key_0_1 (1), key_0_2 (1), key_0_3 (1), key_0_4 (1), key_0_5 (1), key_1_0 (1), \
            key_1_1 (1), key_1_2 (1), kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk… (1), other keys (9)

            """))
    }

    /// An add-on's object without a maintenance (status none) was skipped whatever it held: one
    /// holding a maintenance's times contradicts its status, and one of another app than `--app`
    /// says is refused, as an object with a maintenance is.
    @Test func anObjectWithoutAMaintenanceHoldsNoneAndNamesTheRightApp() throws {
        let target = try Self.sandbox()
        var objects = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixture("maintenances.json"))))
            as? [[String: Any]])
        objects[1]["started_at"] = "2023-01-10 18:00:00 +0000"
        let times = try Self.write(objects: [objects[1]], in: target)
        try target.expectRefusal(["import", times], stderr: """
            Error: element 1 of \(times) (line 2): started_at is given, but status is none
            Nothing from \(times) was imported; fix that element and import the file again.

            """, exitCode: 65)
        objects[1]["started_at"] = NSNull()
        let none = try Self.write(objects: [objects[1]], in: target)
        try target.expectRefusal(["import", none, "--app", "other-app"], stderr: """
            Error: element 1 of \(none) (line 2): app.name is 'example-app', not other-app as --app says
            Nothing from \(none) was imported; fix that element and import the file again.

            """)
        #expect(try target.run(["import", none, "--app", "example-app"]).stderr.hasSuffix("; 1 add-ons without a maintenance (status none) skipped\n"))
    }

    /// A maintenance that has ended changes no more: the refusal names what the object changes
    /// (it said "with other values").
    @Test func aChangeToAnEndedMaintenanceNamesTheField() throws {
        let target = try Self.sandbox()
        try target.ok(["import", Self.fixture("info.json")])
        var objects = try Self.history()
        objects[0]["completed_at"] = "2023-04-28 18:05:21 +0000"
        objects[0]["duration_seconds"] = "247"
        let completed = try Self.write(objects: [objects[0]], in: target)
        try target.expectRefusal(["import", completed], stderr: """
            Error: element 1 of \(completed) (line 2): maintenance 98946e84-7d7e-8a9b-9473-1904c81a8ab9 is recorded completed; the import says \
            completed, with completed_at 2023-04-28T18:05:21.000+00:00, not 2023-04-28T18:04:21.141+00:00
            Nothing from \(completed) was imported; fix that element and import the file again.

            """)
        objects = try Self.history()
        objects[0]["window"] = "Mondays 18:00 to 22:00 UTC"
        let window = try Self.write(objects: [objects[0]], in: target)
        try target.expectRefusal(["import", window], stderr: """
            Error: element 1 of \(window) (line 2): maintenance 98946e84-7d7e-8a9b-9473-1904c81a8ab9 is recorded completed; the import says \
            completed, with another window, but a completed maintenance changes no more
            Nothing from \(window) was imported; fix that element and import the file again.

            """)
    }

    /// An app or add-on is the same one by its uuid as well as its name (Heroku frees a deleted
    /// app's name, and renames): an object whose app.uuid is not the ledger's for that name was
    /// taken for it, and a new add-on with a uuid the ledger holds under another name failed in
    /// SQLite (`UNIQUE constraint failed: addons.uuid`).
    @Test func anAppOrAddonIsTheSameByItsUUIDToo() throws {
        let target = try Self.sandbox()
        try target.ok(["import", Self.fixture("info.json")])
        var objects = try Self.history()
        objects[1]["app"] = ["name": "example-app", "uuid": "11111111-1111-4111-8111-111111111111"]
        let app = try Self.write(objects: [objects[1]], in: target)
        try target.expectRefusal(["import", app], stderr: """
            Error: element 1 of \(app) (line 2): app example-app has uuid 0b7f6a8e-3c2d-4e5f-9a1b-8c7d6e5f4a3b in the ledger, but app.uuid is \
            11111111-1111-4111-8111-111111111111: another app of that name?
            Nothing from \(app) was imported; fix that element and import the file again.

            """)
        objects = try Self.history()
        var addon = try #require(objects[1]["addon"] as? [String: Any])
        addon["name"] = "redis-renamed-1"
        objects[1]["addon"] = addon
        let renamed = try Self.write(objects: [objects[1]], in: target)
        try target.expectRefusal(["import", renamed], stderr: """
            Error: element 1 of \(renamed) (line 2): add-on redis-renamed-1 has uuid 6c3b0f0e-9f4a-4d3e-8a51-2b1c9d7e4f10, which is \
            redis-lively-12345's in the ledger: renamed? (the ledger keeps the name it recorded)
            Nothing from \(renamed) was imported; fix that element and import the file again.

            """)
    }

    /// A dry run reports what it refused before input it cannot read on from (it printed the
    /// error alone).
    @Test func aDryRunReportsItsRefusalsBeforeInputThatIsNotJSON() throws {
        let target = try Self.sandbox()
        var objects = try Self.history()
        objects[0]["status"] = "done"
        let object = String(decoding: try JSONSerialization.data(withJSONObject: objects[0], options: .sortedKeys), as: UTF8.self)
        let file = try Self.write("[\n  " + object + ",\n  oops\n]\n", in: target)
        try target.expectRefusal(["import", file, "--dry-run"], stderr: """
            Refused: element 1 of \(file) (line 2): status 'done' is not one of pending, preparing, ready, running, completed, failed, cancelled
            Error: element 2 of \(file) (line 3): 'oops' where a maintenance object should be
            Nothing from \(file) was imported; fix that element and import the file again.

            """, exitCode: 65)
    }

    /// A destroyed add-on's history imports, but no maintenance of it still open or run after it
    /// was destroyed: one was recorded, and its attachment name attached again to it.
    @Test func aDestroyedAddonTakesItsHistoryButNothingAfter() throws {
        let target = try Self.sandbox()
        try target.ok(["import", Self.fixture("info.json")])
        try target.ok(["addons:destroy", "redis-lively-12345", "-a", "example-app", "--confirm", "example-app"])
        var objects = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixture("history-before.json"))))
            as? [[String: Any]])
        objects[0]["required_by"] = "2023-06-01 00:00:00 +0000"
        let pending = try Self.write(objects: [objects[0]], in: target)
        try target.expectRefusal(["import", pending], stderr: """
            Error: element 1 of \(pending) (line 2): add-on redis-lively-12345 was destroyed at 2023-05-05T00:00:00.000+00:00; the import says its \
            maintenance f3555605-c1a3-8c86-bc1f-ebaa6cb15cc1 is pending
            Nothing from \(pending) was imported; fix that element and import the file again.

            """)
        let history = Self.fixture("history.json")
        #expect(try target.run(["import", history]).stderr.hasPrefix(
            "Imported 3 objects (89 lines) from \(history): 2 new, 0 progressed, 1 unchanged, 0 refused; 0 apps, 0 add-ons and 0 attachments created\n"))
        #expect(try target.snapshot()["attachments"] == 1)
        _ = try target.expectVerifies()
    }

    /// Heroku's CLI prints `[]` for an add-on without maintenances, and nothing to its output
    /// when it fails: a daily job importing what a failed command wrote imported nothing, exit 0.
    @Test(arguments: ["", "\n  \n\t\n", "\u{FEFF}"])
    func anEmptyInputIsRefused(input: String) throws {
        let target = try Self.sandbox()
        try target.ok(["import", Self.fixture("info.json")])
        let file = try Self.write(input, in: target)
        try target.expectRefusal(["import", file], stderr: """
            Error: \(file) is empty: no JSON, not even the [] Heroku's CLI prints for no maintenances
            Nothing was imported; check the command that wrote it (a failed `heroku … --json` prints nothing to its output).

            """, exitCode: 65)
        let none = try Self.write("[]\n", in: target)
        #expect(try target.run(["import", none]) == RunResult(stdout: "", stderr: """
            Imported 0 objects (1 lines) from \(none): 0 new, 0 progressed, 0 unchanged, 0 refused; 0 apps, 0 add-ons and 0 attachments created

            """, exitCode: 0))
    }

    static func history() throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture("history.json")))) as? [[String: Any]])
    }

    /// Objects as an array, pretty-printed as Heroku's CLI prints them (the first on line 2).
    static func write(objects: [[String: Any]], _ name: String = "input.json", in sandbox: LedgerSandbox) throws -> String {
        try write(String(decoding: try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self), name,
                  in: sandbox)
    }

    /// Each bad input is refused whole, naming its line or element, and leaves the ledger as it
    /// was (which holds info.json's maintenance: `E` stands for that object, on one line).
    @Test(arguments: [
        ("[\n  E,\n  {\"status\"", "element 2 of FILE (line 3): cut short: the input ends inside it"),
        ("[\n  E\n", "line 2 of FILE: the array is not closed: the input ends after element 1"),
        ("[\n  E,\n  [E]\n]", "element 2 of FILE (line 3): an array inside the array: each element must be a maintenance object"),
        ("[\n  \"maintenance\"\n]", "element 1 of FILE (line 2): a string where a maintenance object should be"),
        ("[E,]", "element 1 of FILE (line 1): a comma after it ends the array: JSON allows none there"),
        ("[E E]", "element 1 of FILE (line 1): another object after it where a comma should be"),
        ("E\n42", "line 2 of FILE: not a JSON object"),
        ("42", "line 1 of FILE: a number where a maintenance object or an array of them should be"),
        ("{\n  \"a\": 1\n}\n[E]", "object 1 of FILE (line 1): status is missing"),
        // Where an object stops being JSON, by the file's line and column (every one was "not a JSON object").
        ("[\n  {\"status\": NaN}\n]", "element 1 of FILE (line 2): not valid JSON at line 2, column 14"),
        ("[\n  E,\n  {\n    \"status\": \"pending\",\n  }\n]", "element 2 of FILE (line 3): not valid JSON at line 5, column 3"),
        ("E\n{\"duration_seconds\": 0581}", "line 2 of FILE: not valid JSON at column 23"),
        ("E\n{\"status\": \"pending\"", "line 2 of FILE: not valid JSON: the line ends inside the object (a file whose first line is a whole "
            + "object is read as NDJSON, an object a line)"),
        ("E\n{\n  \"status\": \"pending\"\n}", "line 2 of FILE: not valid JSON: the line ends inside the object (a file whose first line is a "
            + "whole object is read as NDJSON, an object a line)"),
        // A string left open was read on to the end of the input (or 64 MiB): "cut short".
        ("[\n  E,\n  {\n    \"status\": \"pending,\n    \"reason\": \"routine_maintenance\"\n  }\n]",
         "element 2 of FILE (line 3): the string on line 4 is not closed: JSON strings hold no line breaks"),
        // Text that is not JSON is quoted (it was "the byte 0xE2 where …"): what Heroku's CLI prints on a failure.
        (" ▸    Couldn't find that app.\n", "line 1 of FILE: '▸    Couldn't find that app.' where a maintenance object or an array of them should be"),
        ("[E]\n<!doctype html><html><head><title>Service Unavailable</title>",
         "line 2 of FILE: '<!doctype html><html><head><title>Servi…' where a maintenance object or an array of them should be"),
        ("[\n  E,\n  nothing\n]", "element 2 of FILE (line 3): 'nothing' where a maintenance object should be"),
    ])
    func badJSONIsRefusedWhole(input: String, error: String) throws {
        let target = try Self.sandbox()
        try target.ok(["import", Self.fixture("info.json")])
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixture("info.json"))))
        let compact = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let file = try Self.write(input.replacingOccurrences(of: "E", with: compact), in: target)
        let unit = error.components(separatedBy: " ")[0]
        try target.expectRefusal(["import", file], stderr: """
            Error: \(error.replacingOccurrences(of: "FILE", with: file))
            Nothing from \(file) was imported; fix that \(unit) and import the file again.

            """, exitCode: 65)
    }

    /// PowerShell 5's `>` writes UTF-16: it was "the byte 0xFF where a maintenance object … should be".
    @Test func aUTF16FileIsNamedAsSuch() throws {
        let target = try Self.sandbox()
        let info = try String(contentsOfFile: Self.fixture("info.json"), encoding: .utf8)
        let file = target.folder.appendingPathComponent("info-utf16.json").path
        try #require(("\u{FEFF}" + info).data(using: .utf16LittleEndian)).write(to: URL(fileURLWithPath: file))
        try target.expectRefusal(["import", file], stderr: """
            Error: \(file) is UTF-16 (it starts with UTF-16's byte order mark); an import reads UTF-8
            Nothing from \(file) was imported; convert it (iconv -f UTF-16 -t UTF-8, or Out-File -Encoding utf8 in PowerShell) and import it again.

            """, exitCode: 65)
        // Converted, it imports.
        let converted = try target.shell("iconv -f UTF-16 -t UTF-8 \(file) | \"$BIN\" import - --db \"$DB\"")
        #expect(converted.exitCode == 0 && converted.stderr.hasPrefix("Imported 1 objects (29 lines) from standard input: 1 new,"), "\(converted)")
        // Standard input closed is named as such (it was "cannot read -").
        #expect(try target.shell("\"$BIN\" import - --db \"$DB\" <&-") == RunResult(stdout: "", stderr: """
            Error: cannot read standard input: Bad file descriptor
            Give a file, or - for standard input.

            """, exitCode: 1))
    }

    /// A 10 MB line: of NDJSON, refused by its number; inside an array, by its element's.
    @Test func aTenMegabyteLineIsRefusedByItsNumber() throws {
        let target = try Self.sandbox()
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixture("info.json"))))
        let compact = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let junk = String(repeating: "x", count: 10 << 20)
        let ndjson = try Self.write(compact + "\n" + junk + "\n", "big.ndjson", in: target)
        try target.expectRefusal(["import", ndjson], stderr: """
            Error: line 2 of \(ndjson): not valid JSON at column 1
            Nothing from \(ndjson) was imported; fix that line and import the file again.

            """, exitCode: 65)
        let array = try Self.write("[\n" + compact + ",\n{\"addon_description\": \"" + junk + "\"}\n]\n", "big.json", in: target)
        try target.expectRefusal(["import", array], stderr: """
            Error: element 2 of \(array) (line 3): status is missing
            Nothing from \(array) was imported; fix that element and import the file again.

            """, exitCode: 65)
    }

    @Test func contradictionsAndTimesWithoutAnOffset() throws {
        let target = try Self.sandbox()
        var objects = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixture("history.json")))) as? [[String: Any]])
        objects[2]["duration_seconds"] = "600"
        let file = try Self.write(String(decoding: try JSONSerialization.data(withJSONObject: objects, options: .prettyPrinted), as: UTF8.self), in: target)
        let run = try target.run(["import", file])
        #expect(run.exitCode == 65)
        #expect(run.stderr.hasPrefix("Error: element 3 of \(file) (line "))
        #expect(run.stderr.contains("): duration_seconds 600 is not completed_at − started_at (168 s)\n"))
        #expect(try target.snapshot().values.allSatisfy { $0 == 0 })
        // A time without an offset is not read in any zone.
        objects[2]["duration_seconds"] = "168"
        objects[1]["started_at"] = "2023-02-03 18:02:11"
        let local = try Self.write(String(decoding: try JSONSerialization.data(withJSONObject: objects, options: .prettyPrinted), as: UTF8.self),
                                   "local.json", in: target)
        let unzoned = try target.run(["import", local])
        #expect(unzoned.exitCode == 65)
        #expect(unzoned.stderr.hasPrefix("Error: element 2 of \(local) (line "))
        #expect(unzoned.stderr.contains("): started_at '2023-02-03 18:02:11' has no UTC offset, and an import does not guess its zone: "
                                        + "write it as Heroku does, with +0000 or Z if it is UTC\n"))
        objects[1]["started_at"] = "2023-02-03 18:02:11 +0000"
        objects[2]["duration_seconds"] = "600"
        // A dry run reports every refusal and the count, and keeps nothing.
        objects[0]["started_at"] = "2023-04-28 18:05:00 +0000"
        let both = try Self.write(String(decoding: try JSONSerialization.data(withJSONObject: objects), as: UTF8.self), in: target)
        let dry = try target.run(["import", both, "--dry-run"])
        #expect(dry.exitCode == 1)
        #expect(dry.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("Refused: element ") }.count == 2)
        #expect(dry.stderr.contains(": 1 new, 0 progressed, 0 unchanged, 2 refused;"))
        #expect(try target.snapshot().values.allSatisfy { $0 == 0 })
    }

    /// The bar is drawn on a terminal (`script` gives the command one), and never otherwise.
    @Test func aProgressBarOnlyOnATerminal() throws {
        let target = try Self.sandbox()
        let history = Self.fixture("history.json")
        let onTerminal = try target.shell("script -qec \"$BIN import \(history) --db $DB\" /dev/null")
        #expect(onTerminal.exitCode == 0)
        #expect(onTerminal.stdout.contains("\rimport [##############################] 100%, 3 objects\r\n"))
        #expect(onTerminal.stdout.contains("Imported 3 objects (89 lines)"))
        let piped = try Self.sandbox()
        #expect(try piped.run(["import", history]).stderr.hasPrefix("Imported 3 objects (89 lines)"))
    }
}
