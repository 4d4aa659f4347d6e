import Foundation
import GRDB
import Testing

// The output family of `history`, `audit:trail`, `addons` and `notices`: `--json` is one array,
// `--ndjson` one object per line, `--csv` RFC 4180 with a header row, and all three carry the
// same rows; tables are exact text for small cases; CSV fields with commas, quotes and line
// breaks come back as they went in.

/// A strict RFC 4180 reader: records end in CRLF (the last one too), fields are plain or
/// wholly quoted with inner quotes doubled; quoted fields may hold commas, quotes, CR and LF.
/// Anything else (a bare LF, a quote inside a plain field, text after a closing quote, an
/// unterminated quote, records of different widths) is refused.
enum RFC4180 {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String) throws -> [[String]] {
        var records: [[String]] = [], record: [String] = [], field = String.UnicodeScalarView()
        enum State { case fieldStart, plain, quoted, afterQuote }
        var state = State.fieldStart
        let scalars = Array(text.unicodeScalars)
        var index = 0
        func endRecord() throws {
            record.append(String(field))
            field = String.UnicodeScalarView()
            if let first = records.first, first.count != record.count {
                throw Malformed(description: "record \(records.count + 1) has \(record.count) fields, the header \(first.count)")
            }
            records.append(record)
            record = []
            state = .fieldStart
        }
        func crlf() throws {
            guard index + 1 < scalars.count, scalars[index + 1] == "\n" else {
                throw Malformed(description: "a CR not followed by LF at scalar \(index)")
            }
            index += 1
            try endRecord()
        }
        while index < scalars.count {
            let scalar = scalars[index]
            switch (state, scalar) {
            case (.fieldStart, "\""): state = .quoted
            case (.fieldStart, ","), (.plain, ","), (.afterQuote, ","):
                record.append(String(field))
                field = String.UnicodeScalarView()
                state = .fieldStart
            case (.fieldStart, "\r"), (.plain, "\r"), (.afterQuote, "\r"): try crlf()
            case (.fieldStart, "\n"), (.plain, "\n"), (.afterQuote, "\n"):
                throw Malformed(description: "a bare LF at scalar \(index)")
            case (.plain, "\""): throw Malformed(description: "a quote inside a plain field at scalar \(index)")
            case (.fieldStart, _), (.plain, _):
                field.append(scalar)
                state = .plain
            case (.quoted, "\""):
                if index + 1 < scalars.count, scalars[index + 1] == "\"" {
                    field.append("\"")
                    index += 1
                } else {
                    state = .afterQuote
                }
            case (.quoted, _): field.append(scalar)
            case (.afterQuote, _): throw Malformed(description: "text after a closing quote at scalar \(index)")
            }
            index += 1
        }
        guard state == .fieldStart, record.isEmpty, field.isEmpty else {
            throw Malformed(description: state == .quoted ? "an unterminated quoted field" : "the last record does not end in CRLF")
        }
        return records
    }

    /// The header and the rows; the header must be `header`.
    static func table(_ text: String, header: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String]] {
        let records = try parse(text)
        #expect(records.first == header, sourceLocation: sourceLocation)
        return Array(records.dropFirst())
    }
}

@Suite struct OutputFormatTests {
    // MARK: the test's own CSV reader

    @Test func theCSVReaderFollowsRFC4180() throws {
        #expect(try RFC4180.parse("") == [])
        #expect(try RFC4180.parse("a,b\r\n") == [["a", "b"]])
        #expect(try RFC4180.parse("a,\"b,c\",\"d \"\"e\"\"\",\r\n\"x\r\ny\",,\"\",z\r\n")
                == [["a", "b,c", "d \"e\"", ""], ["x\r\ny", "", "", "z"]])
        #expect(try RFC4180.parse("\"\"\"\",\"\n\"\r\n") == [["\"", "\n"]])
        #expect(try RFC4180.parse("é,⬢ app\r\n") == [["é", "⬢ app"]])
        for malformed in ["a,b\n", "a,b", "a\"b,c\r\n", "\"abc\r\n", "\"a\"b\r\n", "a,b\r\nc\r\n", "a\rb\r\n", "a,b\r\n\r\n"] {
            #expect(throws: RFC4180.Malformed.self, "\(malformed.debugDescription)") { try RFC4180.parse(malformed) }
        }
    }

    // MARK: the three formats agree

    /// Runs a listing in every machine format: the JSON array and the NDJSON objects must be the
    /// same objects, the CSV as many rows under `header`.
    static func formats(_ sandbox: LedgerSandbox, _ arguments: [String], csvHeader: [String],
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> (objects: [[String: Any]], csv: [[String]]) {
        let json = try sandbox.run(arguments + ["--json"]), ndjson = try sandbox.run(arguments + ["--ndjson"]), csv = try sandbox.run(arguments + ["--csv"])
        for result in [json, ndjson, csv] {
            #expect(result.exitCode == 0 && result.stderr.isEmpty, "\(arguments): \(result)", sourceLocation: sourceLocation)
        }
        let objects = try HistoryProbe.json(json.stdout, sourceLocation: sourceLocation)
        #expect(json.stdout.hasPrefix(objects.isEmpty ? "[]" : "[\n  {\n") && json.stdout.hasSuffix(objects.isEmpty ? "[]\n" : "\n  }\n]\n"),
                "\(arguments): \(json.stdout.prefix(200))", sourceLocation: sourceLocation)
        let lines = try HistoryProbe.ndjson(ndjson.stdout, sourceLocation: sourceLocation)
        #expect(lines.count == ndjson.stdout.filter { $0 == "\n" }.count, sourceLocation: sourceLocation)
        #expect((objects as NSArray).isEqual(to: lines), "\(arguments): --json and --ndjson differ", sourceLocation: sourceLocation)
        let rows = try RFC4180.table(csv.stdout, header: csvHeader, sourceLocation: sourceLocation)
        #expect(rows.count == objects.count, "\(arguments): \(rows.count) CSV rows, \(objects.count) objects", sourceLocation: sourceLocation)
        return (objects, rows)
    }

    /// A JSON value as its CSV text: null as empty, numbers in full.
    static func text(_ value: Any?) -> String {
        switch value {
        case let text as String: text
        case let number as Int: String(number)
        default: ""
        }
    }

    /// A JSON flag as its CSV text.
    static func flag(_ value: Any?) -> String {
        (value as? Bool).map { $0 ? "true" : "false" } ?? "?"
    }

    /// `app.name`: a member of a nested object.
    static func member(_ object: [String: Any], _ path: String) -> Any? {
        var value: Any? = object
        for key in path.split(separator: ".") { value = (value as? [String: Any])?[String(key)] }
        return value
    }

    static let historyCSVHeader = ["app", "addon", "kind", "plan", "uuid", "status", "reason", "method", "required_by", "scheduled_for",
                                   "previously_scheduled_for", "started_at", "completed_at", "duration_seconds", "window", "outside_window",
                                   "emergency", "customer_requested", "server_created_at"]

    @Test(arguments: [[], ["--app", "billing-app"], ["--status", "failed", "--order", "asc"], ["--since", "2022-07-01", "--time", "started"],
                      ["--emergency"], ["--status", "running"], ["--as-of", "2022-07-01T12:30:00Z"]])
    func historyGivesTheSameRowsInEveryFormat(arguments: [String]) throws {
        let sandbox = try HistoryFleet.sandbox()
        let (objects, rows) = try Self.formats(sandbox, ["history"] + arguments, csvHeader: Self.historyCSVHeader)
        // Every CSV column is the JSON member of the same name, null as empty, flags as true/false.
        let members = ["app.name", "addon.name", "addon.kind", "addon.plan"] + Self.historyCSVHeader.dropFirst(4)
        for (object, row) in zip(objects, rows) {
            let flags: Set<String> = ["outside_window", "emergency", "customer_requested"]
            #expect(members.map { flags.contains($0) ? Self.flag(object[$0]) : Self.text(Self.member(object, $0)) } == row,
                    "\(Self.text(object["uuid"]))")
        }
        // The same uuids, in the same order, as plain SQL finds without filters (where there are none).
        if arguments.isEmpty {
            #expect(rows.map { $0[4] } == (try HistoryProbe.strings(sandbox, "SELECT uuid FROM maintenances ORDER BY scheduled_for DESC, id DESC")))
        }
        // The table lists the same maintenances: add-on, app and status lead each row.
        let table = try sandbox.run(["history"] + arguments)
        if objects.isEmpty {
            #expect(table == RunResult(stdout: "", stderr: "No maintenances match\n", exitCode: 0))
        } else {
            let lines = table.stdout.split(separator: "\n").dropFirst(2)
            #expect(lines.map { $0.split(separator: " ").prefix(3).joined(separator: " ") }
                    == objects.map { "\(Self.text(Self.member($0, "addon.name"))) \(Self.text(Self.member($0, "app.name"))) \(Self.text($0["status"]))" })
        }
    }

    @Test(arguments: [[], ["--since-seq", "150"]])
    func auditTrailGivesTheSameRowsInEveryFormat(arguments: [String]) throws {
        let sandbox = try HistoryFleet.sandbox()
        let (objects, rows) = try Self.formats(sandbox, ["audit:trail"] + arguments,
                                               csvHeader: ["Seq", "Recorded at", "Actor", "Action", "Subject", "Hash"])
        for (object, row) in zip(objects, rows) {
            #expect(["seq", "recorded_at", "actor", "action", "subject", "hash"].map { Self.text(object[$0]) } == row)
            #expect(object["payload"] is [String: Any], "the payload is the object it is, not a string")
        }
        let stored = try HistoryProbe.rows(sandbox, "SELECT seq, lower(hex(hash)) AS hash FROM audit_trail WHERE seq > ? ORDER BY seq",
                                           [Int(arguments.last ?? "0")!])
        #expect(rows.map { $0[0] } == stored.map { String($0["seq"] as Int64) })
        #expect(rows.map { $0[5] } == stored.map { $0["hash"] as String })
        #expect(rows.count > (arguments.isEmpty ? 150 : 5))
        // The table: the same entries, with the hash's first 12 digits.
        let lines = try sandbox.ok(["audit:trail"] + arguments).stdout.split(separator: "\n").dropFirst(2)
        #expect(lines.map { line in
            let words = line.split(separator: " ")
            return "\(words.first ?? "") \(words.last ?? "")"
        } == rows.map { "\($0[0]) \($0[5].prefix(12))" })
    }

    @Test(arguments: [["--all"], [], ["-a", "billing-app"], ["-a", "reporting-app", "--all"], ["-a", "lunar-shop-5"]])
    func addonsGiveTheSameRowsInEveryFormat(arguments: [String]) throws {
        let sandbox = try HistoryFleet.sandbox()
        let (objects, rows) = try Self.formats(sandbox, ["addons"] + arguments,
                                               csvHeader: ["Add-on", "Plan", "Owning app", "Attachments", "Window", "State"])
        for (object, row) in zip(objects, rows) {
            let attachments = (object["attachments"] as? [String] ?? []).joined(separator: ", ")
            #expect([Self.text(object["name"]), "\(Self.text(object["kind"])):\(Self.text(object["plan"]))", Self.text(Self.member(object, "app.name")),
                     attachments, Self.text(object["state"])] == [row[0], row[1], row[2], row[3], row[5]])
            if let window = object["window"] as? String { #expect(row[4] == window) }
        }
        let live = arguments.contains("--all") ? "1" : "deprovisioned_at IS NULL"
        let app = arguments.firstIndex(of: "-a").map { arguments[$0 + 1] }
        let expected = try HistoryProbe.strings(sandbox, """
            SELECT a.name FROM addons a WHERE \(live) AND (? IS NULL OR a.app_id = (SELECT id FROM apps WHERE name = ?)
              OR a.id IN (SELECT addon_id FROM attachments t JOIN apps p ON p.id = t.app_id WHERE p.name = ? AND t.detached_at IS NULL))
            ORDER BY a.name
            """, [app, app, app])
        #expect(rows.map { $0[0] } == expected)
        #expect(!expected.isEmpty)
    }

    @Test(arguments: [[], ["--since-seq", "40"]])
    func noticesGiveTheSameRowsInEveryFormat(arguments: [String]) throws {
        let sandbox = try HistoryFleet.sandbox()
        let (objects, rows) = try Self.formats(sandbox, ["notices"] + arguments,
                                               csvHeader: ["Seq", "Kind", "App", "Add-on", "Attachments", "Window", "Scheduled for", "Required by"])
        for (object, row) in zip(objects, rows) {
            let attachments = (object["attachments"] as? [String] ?? ["?"]).joined(separator: ", ")
            #expect([Self.text(object["seq"]), Self.text(object["kind"]), Self.text(object["app"]), Self.text(object["addon"]), attachments,
                     Self.text(object["window"]), Self.text(object["scheduled_for"]), Self.text(object["required_by"])] == row)
        }
        let stored = try HistoryProbe.strings(sandbox, "SELECT id FROM notices WHERE id > ? ORDER BY id", [Int(arguments.last ?? "0")!])
        #expect(rows.map { $0[0] } == stored && !stored.isEmpty)
    }

    // MARK: exact tables of a small ledger

    @Test func smallTablesAreExactText() throws {
        let (sandbox, _) = try SmallHistory.build()
        #expect(try sandbox.run(["history"]) == RunResult(stdout: """
             Add-on             App         Status    Reason              Scheduled for             Started at                Completed at              Duration (seconds) Window
             ────────────────── ─────────── ───────── ─────────────────── ───────────────────────── ───────────────────────── ───────────────────────── ────────────────── ──────────────────────────
             redis-lively-12345 example-app pending   routine_maintenance 2023-05-05 19:00:00 +0000 -                         -                         -                  Fridays 18:00 to 22:00 UTC
             redis-lively-12345 example-app completed routine_maintenance 2023-04-28 18:00:00 +0000 2023-04-28 18:01:14 +0000 2023-04-28 18:04:21 +0000 186                Fridays 18:00 to 22:00 UTC
             redis-lively-12345 example-app completed routine_maintenance 2023-04-26 09:30:00 +0000 2023-04-26 09:35:00 +0000 2023-04-26 09:40:00 +0000 300                Fridays 18:00 to 22:00 UTC
             redis-lively-12345 example-app completed routine_maintenance 2023-04-26 08:00:00 +0000 2023-04-26 08:01:00 +0000 2023-04-26 08:05:00 +0000 240                Fridays 18:00 to 22:00 UTC

            """, stderr: "", exitCode: 0))
        // Narrower rows, narrower columns: sized on what is listed.
        #expect(try sandbox.run(["history", "--status", "pending"]).stdout == """
             Add-on             App         Status  Reason              Scheduled for             Started at Completed at Duration (seconds) Window
             ────────────────── ─────────── ─────── ─────────────────── ───────────────────────── ────────── ──────────── ────────────────── ──────────────────────────
             redis-lively-12345 example-app pending routine_maintenance 2023-05-05 19:00:00 +0000 -          -            -                  Fridays 18:00 to 22:00 UTC

            """)
        #expect(try sandbox.run(["notices"]) == RunResult(stdout: """
             Seq Kind      App         Add-on             Attachments Window                     Scheduled for             Required by
             ─── ───────── ─────────── ────────────────── ─────────── ────────────────────────── ───────────────────────── ─────────────────────────
             1   scheduled example-app redis-lively-12345 REDIS_URL   Fridays 18:00 to 22:00 UTC 2023-04-26 08:00:00 +0000 2023-04-26 12:00:00 +0000
             2   scheduled example-app redis-lively-12345 REDIS_URL   Fridays 18:00 to 22:00 UTC 2023-04-26 09:30:00 +0000 2023-05-01 00:00:00 +0000
             3   scheduled example-app redis-lively-12345 REDIS_URL   Fridays 18:00 to 22:00 UTC 2023-04-28 18:00:00 +0000 2023-05-03 08:54:02 +0000
             4   scheduled example-app redis-lively-12345 REDIS_URL   Fridays 18:00 to 22:00 UTC 2023-05-05 19:00:00 +0000 2023-05-10 00:00:00 +0000

            """, stderr: "", exitCode: 0))
        #expect(try sandbox.run(["addons"]) == RunResult(stdout: """
             Add-on             Plan                   Owning app  Attachments            Window                     State
             ────────────────── ────────────────────── ─────────── ────────────────────── ────────────────────────── ───────────
             redis-lively-12345 heroku-redis:premium-0 example-app example-app::REDIS_URL Fridays 18:00 to 22:00 UTC provisioned

            """, stderr: "", exitCode: 0))
        // The trail: every command, in order, with the first 12 digits of its hash.
        let trail = try sandbox.trailEntries()
        let hashes = try trail.map { String(try #require($0["hash"] as? String).prefix(12)) }
        let entries: [(String, String, String)] = [
            ("2023-01-02T10:00:00.000Z", "apps:create", "app:example-app"),
            ("2023-01-02T10:00:00.000Z", "addons:create", "addon:redis-lively-12345"),
            ("2023-01-02T10:00:00.000Z", "data:maintenances:window:update", "addon:redis-lively-12345"),
            ("2023-04-24T09:00:00.000Z", "platform:maintenances:require", "addon:redis-lively-12345"),
            ("2023-04-26T09:00:00.000Z", "platform:maintenances:start", "addon:redis-lively-12345"),
            ("2023-04-26T09:00:00.000Z", "platform:maintenances:complete", "addon:redis-lively-12345"),
            ("2023-04-26T10:00:00.000Z", "platform:maintenances:require", "addon:redis-lively-12345"),
            ("2023-04-26T10:00:00.000Z", "platform:maintenances:start", "addon:redis-lively-12345"),
            ("2023-04-26T10:00:00.000Z", "platform:maintenances:complete", "addon:redis-lively-12345"),
            ("2023-04-27T09:00:00.000Z", "platform:maintenances:require", "addon:redis-lively-12345"),
            ("2023-04-28T19:00:00.000Z", "platform:maintenances:start", "addon:redis-lively-12345"),
            ("2023-04-28T19:00:00.000Z", "platform:maintenances:complete", "addon:redis-lively-12345"),
            ("2023-05-05T19:30:00.000Z", "platform:maintenances:require", "addon:redis-lively-12345"),
        ]
        try #require(hashes.count == entries.count, "\(trail.map { "\($0["seq"] ?? "?") \($0["recorded_at"] ?? "?") \($0["action"] ?? "?")" })")
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: width - text.count) }
        let rows = zip(entries, hashes).enumerated().map { index, entry in
            " " + [pad(String(index + 1), 3), entry.0.0, "alice", pad(entry.0.1, 31), pad(entry.0.2, 24), entry.1].joined(separator: " ")
        }
        #expect(try sandbox.run(["audit:trail"]) == RunResult(stdout: """
             Seq Recorded at              Actor Action                          Subject                  Hash
             ─── ──────────────────────── ───── ─────────────────────────────── ──────────────────────── ────────────

            """ + rows.joined(separator: "\n") + "\n", stderr: "", exitCode: 0))
        #expect(try sandbox.run(["audit:trail", "--since-seq", "12"]).stdout == """
             Seq Recorded at              Actor Action                        Subject                  Hash
             ─── ──────────────────────── ───── ───────────────────────────── ──────────────────────── ────────────
             13  2023-05-05T19:30:00.000Z alice platform:maintenances:require addon:redis-lively-12345 \(hashes[12])

            """)
    }

    /// No rows: a table says so on stderr (or prints just its head), JSON is an empty array,
    /// NDJSON nothing, CSV the header alone.
    @Test func emptyListingsInEveryFormat() throws {
        let (sandbox, _) = try SmallHistory.build()
        try sandbox.ok(["apps:create", "empty-app"])
        let cases: [([String], String, String)] = [
            (["history", "--status", "running"], "No maintenances match\n", Self.historyCSVHeader.joined(separator: ",")),
            (["history", "--kind", "kafka"], "No maintenances match\n", Self.historyCSVHeader.joined(separator: ",")),
            (["history", "--as-of", "2023-04-24T08:59:59.999Z"], "No maintenances match\n", Self.historyCSVHeader.joined(separator: ",")),
            (["notices", "--since-seq", "4"], "No notices after seq 4\n", "Seq,Kind,App,Add-on,Attachments,Window,Scheduled for,Required by"),
            (["addons", "-a", "empty-app"], "No add-ons on empty-app\n", "Add-on,Plan,Owning app,Attachments,Window,State"),
        ]
        for (arguments, empty, header) in cases {
            #expect(try sandbox.run(arguments) == RunResult(stdout: "", stderr: empty, exitCode: 0), "\(arguments)")
            #expect(try sandbox.run(arguments + ["--json"]) == RunResult(stdout: "[]\n", stderr: "", exitCode: 0), "\(arguments)")
            #expect(try sandbox.run(arguments + ["--ndjson"]) == RunResult(stdout: "", stderr: "", exitCode: 0), "\(arguments)")
            #expect(try sandbox.run(arguments + ["--csv"]) == RunResult(stdout: header + "\r\n", stderr: "", exitCode: 0), "\(arguments)")
        }
        // The trail (14 entries with empty-app's) prints its head alone.
        #expect(try sandbox.run(["audit:trail", "--since-seq", "14"]) == RunResult(stdout: """
             Seq Recorded at Actor Action Subject Hash
             ─── ─────────── ───── ────── ─────── ────

            """, stderr: "", exitCode: 0))
        #expect(try sandbox.run(["audit:trail", "--since-seq", "14", "--json"]) == RunResult(stdout: "[]\n", stderr: "", exitCode: 0))
        #expect(try sandbox.run(["audit:trail", "--since-seq", "14", "--ndjson"]) == RunResult(stdout: "", stderr: "", exitCode: 0))
        #expect(try sandbox.run(["audit:trail", "--since-seq", "99", "--csv"])
                == RunResult(stdout: "Seq,Recorded at,Actor,Action,Subject,Hash\r\n", stderr: "", exitCode: 0))
    }

    // MARK: quoting

    /// Actors and descriptions are free text: commas and quotes survive every format, and so do
    /// a description's line breaks. (An actor may no longer hold one: InputHardeningTests.)
    @Test func freeTextSurvivesEveryFormat() throws {
        let sandbox = try LedgerSandbox()
        sandbox.now = "2023-04-24T09:00:00Z"
        let (comma, lines) = (#"O'Hara, "Ops" team"#, "night shift, \"B\"")
        let description = "cache, \"hot\" tier\nsecond line"
        sandbox.actor = comma
        try sandbox.ok(["apps:create", "quote-app"])
        try sandbox.ok(["addons:create", "heroku-redis:premium-0", "-a", "quote-app", "--name", "redis-quote-10001", "--description", description])
        try sandbox.ok(["apps:create", "other-app"])
        sandbox.actor = lines
        try sandbox.ok(["addons:attach", "redis-quote-10001", "-a", "other-app", "--as", "CACHE"])
        try sandbox.ok(["platform:maintenances:require", "redis-quote-10001", "--required-by", "2023-05-30T00:00:00Z"])

        let trail = try sandbox.ok(["audit:trail", "--csv"]).stdout
        #expect(trail.contains("\r\n1,2023-04-24T09:00:00.000Z,\"O'Hara, \"\"Ops\"\" team\",apps:create,app:quote-app,"), "\(trail)")
        #expect(trail.contains(",\"night shift, \"\"B\"\"\",addons:attach,"), "\(trail)")
        let rows = try RFC4180.table(trail, header: ["Seq", "Recorded at", "Actor", "Action", "Subject", "Hash"])
        #expect(rows.map { $0[2] } == [comma, comma, comma, lines, lines])
        let (objects, csv) = try Self.formats(sandbox, ["audit:trail"], csvHeader: ["Seq", "Recorded at", "Actor", "Action", "Subject", "Hash"])
        #expect(objects.map { $0["actor"] as? String } == [comma, comma, comma, lines, lines])
        #expect(csv == rows)

        // Attachments listed with ", " are one quoted CSV field.
        let addons = try sandbox.ok(["addons", "--csv"]).stdout
        #expect(addons.contains(#","quote-app::REDIS_URL, other-app::CACHE_URL","#), "\(addons)")
        let (addonObjects, addonRows) = try Self.formats(sandbox, ["addons"], csvHeader: ["Add-on", "Plan", "Owning app", "Attachments", "Window", "State"])
        #expect(addonRows.first?[3] == "quote-app::REDIS_URL, other-app::CACHE_URL")
        #expect(addonObjects.first?["description"] as? String == description)
        let notices = try Self.formats(sandbox, ["notices"], csvHeader: ["Seq", "Kind", "App", "Add-on", "Attachments", "Window", "Scheduled for", "Required by"])
        #expect(notices.csv.first?[4] == "REDIS_URL, CACHE_URL")
        // A description with a line break stays on its NDJSON line, and reads back whole.
        let ndjson = try sandbox.ok(["addons", "--ndjson"]).stdout
        #expect(ndjson.split(separator: "\n").count == 1)
        let history = try HistoryProbe.ndjson(try sandbox.ok(["history", "--ndjson"]).stdout)
        #expect(history.first?["addon_description"] as? String == description)
        #expect(try sandbox.infoJSON("redis-quote-10001")["addon_description"] as? String == description)
    }

    /// A missing value is an empty CSV field in every listing (history, notices and
    /// data:maintenances print "" where the table prints "-").
    @Test
    func addonsCSVLeavesAMissingWindowEmpty() throws {
        let sandbox = try Fixture.withPlansWithoutWindows()
        let rows = try RFC4180.table(try sandbox.ok(["addons", "--csv"]).stdout, header: ["Add-on", "Plan", "Owning app", "Attachments", "Window", "State"])
        #expect(rows.map { $0[4] } == ["kafka-basic-33333", "postgresql-essential-22222", "redis-lively-12345", "redis-mini-11111"]
                .map { $0 == "redis-lively-12345" ? "Fridays 18:00 to 22:00 UTC" : "" })
    }
}
