import Foundation
import GRDB
import LedgerCore
import LedgerStore
import MaintenanceLedger
import Testing

// `audit:overdue`, `audit:compliance`, `audit:windows` and `sql`, end to end through the binary:
// exact output on a hand-made fleet whose answers are worked out below, every format parsing
// back to the same rows, refusals that change nothing, and a simulated fleet checked against
// plain SQL.

/// The hand-made fleet. Every command runs at the time it records (MAINTLEDGER_NOW, and --at
/// for the platform's steps) with MAINTLEDGER_SEED=7; the clock then stands at 2023-06-01.
///
/// audit-app
///   redis-alpha-11111 (premium-0, server 2023-01-01; default window Thursdays 22:00, moved by
///   alice to Fridays 18:00 on 2023-01-02 10:00):
///     A1 required 01-09 by 01-20, ran Fri 01-13 18:05–18:10 (300 s): in window, in time
///     A2 required 04-03 by 04-20, started Fri 04-07 23:00 (outside), failed 23:10
///     A3 required 04-08 by 04-20, ran Fri 04-21 18:30–18:50 (1200 s): in window, late;
///        98 days 40 minutes after A1
///     A4 the customer's own run, Fri 05-05 12:00–12:04 (240 s): outside the window, no deadline
///   postgresql-beta-22222 (standard-0, server 2023-01-01; default window Thursdays 21:30, moved
///   by bob to Sundays 14:30 on 2023-03-01 12:00, which moved B1 from 02-23 21:30 to 03-05 14:30):
///     B1 required 02-20 by 03-10, ran Sun 03-05 15:00–15:06 (360 s): in window, in time
///     B2 required 05-01 by 05-10, ran Sun 05-14 15:00–15:05 (300 s): in window, late
/// other-app
///   redis-gamma-33333 (mini, no window, first server 2022-10-01):
///     C1 emergency required 01-05 by 01-06, ran 00:01–00:03 (120 s) on a new server (01-05 00:02):
///        96 days after the first server's creation
///     C2 required 05-20 by 05-25, still pending: overdue
///   kafka-delta-44444 (basic-0, server 2023-01-01, destroyed 04-15: 104 days unmaintained):
///     D1 required 02-01 by 02-15, cancelled 02-02: overdue until the add-on was destroyed
enum AuditFleet {
    static let now = "2023-06-01T00:00:00Z"
    static let seeded = ["MAINTLEDGER_SEED": "7"]

    /// A copy of the fleet's ledger, with the clock at `now`.
    static func sandbox() throws -> LedgerSandbox {
        let sandbox = try LedgerSandbox()
        try sandbox.install(built.get().ledger)
        sandbox.now = now
        return sandbox
    }

    /// The maintenances' uuids: A1 … D1.
    static func uuid(_ name: String) throws -> String { try #require(try built.get().uuids[name]) }

    private static let built = Result { try build() }

    private static func build() throws -> (ledger: Data, uuids: [String: String]) {
        let sandbox = try LedgerSandbox()
        var uuids: [String: String] = [:]
        func run(_ time: String, _ arguments: [String], actor: String = "alice") throws {
            try sandbox.ok(arguments, now: time, environment: seeded.merging(["MAINTLEDGER_ACTOR": actor]) { $1 })
        }
        func platform(_ time: String, _ arguments: String...) throws {
            try run(time, arguments + ["--at", time])
        }
        func require(_ name: String, _ addon: String, at time: String, by deadline: String, _ flags: String...) throws {
            let result = try sandbox.ok(["platform:maintenances:require", addon, "--required-by", deadline, "--at", time] + flags,
                                        now: time, environment: seeded)
            uuids[name] = String(result.stdout.dropLast())
        }
        let (alpha, beta, gamma, delta) = ("redis-alpha-11111", "postgresql-beta-22222", "redis-gamma-33333", "kafka-delta-44444")
        let newYear = "2023-01-01T00:00:00Z"
        try run(newYear, ["apps:create", "audit-app"])
        try run(newYear, ["apps:create", "other-app"])
        for (plan, app, name, server) in [("heroku-redis:premium-0", "audit-app", alpha, newYear), ("heroku-postgresql:standard-0", "audit-app", beta, newYear),
                                          ("heroku-redis:mini", "other-app", gamma, "2022-10-01T00:00:00Z"),
                                          ("heroku-kafka:basic-0", "other-app", delta, newYear)] {
            try run(newYear, ["addons:create", plan, "-a", app, "--name", name, "--server-created-at", server])
        }
        try run("2023-01-02T10:00:00Z", ["data:maintenances:window:update", alpha, "fridays", "18:00"])
        try require("C1", gamma, at: "2023-01-05T00:00:00Z", by: "2023-01-06T00:00:00Z", "--emergency")
        try platform("2023-01-05T00:01:00Z", "platform:maintenances:start", gamma)
        try platform("2023-01-05T00:03:00Z", "platform:maintenances:complete", gamma, "--server-created-at", "2023-01-05T00:02:00Z")
        try require("A1", alpha, at: "2023-01-09T09:00:00Z", by: "2023-01-20T00:00:00Z")
        try platform("2023-01-13T18:05:00Z", "platform:maintenances:start", alpha)
        try platform("2023-01-13T18:10:00Z", "platform:maintenances:complete", alpha)
        try require("D1", delta, at: "2023-02-01T00:00:00Z", by: "2023-02-15T00:00:00Z")
        try platform("2023-02-02T00:00:00Z", "platform:maintenances:cancel", delta)
        try require("B1", beta, at: "2023-02-20T09:00:00Z", by: "2023-03-10T00:00:00Z")
        try run("2023-03-01T12:00:00Z", ["data:maintenances:window:update", beta, "sundays", "14:30"], actor: "bob")
        try platform("2023-03-05T15:00:00Z", "platform:maintenances:start", beta)
        try platform("2023-03-05T15:06:00Z", "platform:maintenances:complete", beta)
        try require("A2", alpha, at: "2023-04-03T09:00:00Z", by: "2023-04-20T00:00:00Z")
        try platform("2023-04-07T23:00:00Z", "platform:maintenances:start", alpha)
        try platform("2023-04-07T23:10:00Z", "platform:maintenances:fail", alpha)
        try require("A3", alpha, at: "2023-04-08T00:00:00Z", by: "2023-04-20T00:00:00Z")
        try platform("2023-04-21T18:30:00Z", "platform:maintenances:start", alpha)
        try platform("2023-04-21T18:50:00Z", "platform:maintenances:complete", alpha)
        try run("2023-04-15T00:00:00Z", ["addons:destroy", delta, "-a", "other-app", "--confirm", "other-app"])
        try require("B2", beta, at: "2023-05-01T09:00:00Z", by: "2023-05-10T00:00:00Z")
        try run("2023-05-05T12:00:00Z", ["data:maintenances:run", alpha, "--confirm", "audit-app"])
        uuids["A4"] = try sandbox.infoJSON(alpha)["uuid"] as? String
        try platform("2023-05-05T12:04:00Z", "platform:maintenances:complete", alpha)
        try platform("2023-05-14T15:00:00Z", "platform:maintenances:start", beta)
        try platform("2023-05-14T15:05:00Z", "platform:maintenances:complete", beta)
        try require("C2", gamma, at: "2023-05-20T00:00:00Z", by: "2023-05-25T00:00:00Z")
        try #require(!FileManager.default.fileExists(atPath: sandbox.dbPath + "-wal"))
        return (try Data(contentsOf: URL(fileURLWithPath: sandbox.dbPath)), uuids)
    }
}

/// Reading the four formats back.
enum ReportFormats {
    static func json(_ text: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], "not an array of objects: \(text)")
    }

    static func ndjson(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not an object: \(line)")
        }
    }

    /// RFC 4180, CRLF rows: the header and the rows' cells.
    static func csv(_ text: String) -> (header: [String], rows: [[String]]) {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        let characters = Array(text.unicodeScalars)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if quoted {
                if character != "\"" {
                    field.unicodeScalars.append(character)
                } else if index + 1 < characters.count, characters[index + 1] == "\"" {
                    field.unicodeScalars.append(character)
                    index += 1
                } else {
                    quoted = false
                }
            } else {
                switch character {
                case "\"": quoted = true
                case ",": row.append(field); field = ""
                case "\r": break
                case "\n": row.append(field); rows.append(row); (row, field) = ([], "")
                default: field.unicodeScalars.append(character)
                }
            }
            index += 1
        }
        return (rows.first ?? [], Array(rows.dropFirst()))
    }

    /// A value as comparable text: numbers by value (CSV `104.00` is JSON `104`), null as "".
    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: ""
        case let number as NSNumber: "\(number.doubleValue)"
        case let text as String: Double(text).map { "\($0)" } ?? text
        default: "\(value!)"
        }
    }

    /// Runs `arguments` in JSON, NDJSON and CSV and checks that all three hold the same rows,
    /// the CSV's columns being `keys` in order; returns the JSON rows as comparable text.
    static func rows(_ sandbox: LedgerSandbox, _ arguments: [String], keys: [String],
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String]] {
        let json = try Self.json(try sandbox.ok(arguments + ["--json"], sourceLocation: sourceLocation).stdout)
            .map { object in keys.map { text(object[$0]) } }
        #expect(try ndjson(try sandbox.ok(arguments + ["--ndjson"], sourceLocation: sourceLocation).stdout)
                    .map { object in keys.map { text(object[$0]) } } == json, sourceLocation: sourceLocation)
        let csv = Self.csv(try sandbox.ok(arguments + ["--csv"], sourceLocation: sourceLocation).stdout)
        #expect(csv.header == keys, sourceLocation: sourceLocation)
        #expect(csv.rows.map { $0.map(text) } == json, sourceLocation: sourceLocation)
        return json
    }

    static let overdueKeys = ["kind", "app", "addon", "maintenance", "status", "required_by", "gap_from", "gap_to", "gap_days"]
    static let complianceKeys = ["completed", "failed", "cancelled", "emergency", "in_window_share", "deadline_met_share",
                                 "duration_p50_seconds", "duration_p95_seconds", "duration_max_seconds", "longest_gap_days"]
    static let windowKeys = ["app", "addon", "previous_window", "window", "set_by", "set_at", "source"]
}

@Suite struct AuditReportCommandTests {
    @Test func overdueListsUnmetDeadlinesThenGapsOverNinetyDays() throws {
        let sandbox = try AuditFleet.sandbox()
        let (a3, c1, c2) = (try AuditFleet.uuid("A3"), try AuditFleet.uuid("C1"), try AuditFleet.uuid("C2"))
        #expect(try sandbox.run(["audit:overdue"]) == RunResult(stdout: """
             Kind    App       Add-on            Maintenance                          Status  Required by               Gap from                  Gap to                    Gap (days)
             ─────── ───────── ───────────────── ──────────────────────────────────── ─────── ───────────────────────── ───────────────────────── ───────────────────────── ──────────
             overdue other-app redis-gamma-33333 \(c2) pending 2023-05-25 00:00:00 +0000 -                         -                         -
             gap     audit-app redis-alpha-11111 \(a3) -       -                         2023-01-13 18:10:00 +0000 2023-04-21 18:50:00 +0000 98.03
             gap     other-app kafka-delta-44444 -                                    -       -                         2023-01-01 00:00:00 +0000 2023-04-15 00:00:00 +0000 104.00
             gap     other-app redis-gamma-33333 \(c1) -       -                         2022-10-01 00:00:00 +0000 2023-01-05 00:03:00 +0000 96.00
             gap     other-app redis-gamma-33333 -                                    -       -                         2023-01-05 00:03:00 +0000 2023-06-01 00:00:00 +0000 147.00

            """, stderr: "", exitCode: 0))
        #expect(try sandbox.run(["audit:overdue", "--ndjson"]).stdout.split(separator: "\n").first.map(String.init) == """
            {"kind":"overdue","app":"other-app","addon":"redis-gamma-33333","maintenance":"\(c2)","status":"pending",\
            "required_by":"2023-05-25T00:00:00.000+00:00","gap_from":null,"gap_to":null,"gap_days":null}
            """)
        #expect(try sandbox.run(["audit:overdue", "--csv"]).stdout.components(separatedBy: "\r\n").prefix(2) == [
            "kind,app,addon,maintenance,status,required_by,gap_from,gap_to,gap_days",
            "overdue,other-app,redis-gamma-33333,\(c2),pending,2023-05-25T00:00:00.000+00:00,,,",
        ])
        #expect(try ReportFormats.rows(sandbox, ["audit:overdue"], keys: ReportFormats.overdueKeys).map { $0[8] }
                == ["", "98.03", "104.0", "96.0", "147.0"])
    }

    @Test func complianceCountsWindowsDeadlinesAndDurationsOverallAndByGroup() throws {
        let sandbox = try AuditFleet.sandbox()
        let figures = "Completed Failed Cancelled Emergency In window Deadline met p50 (s) p95 (s) Max (s) Longest gap (days)"
        let rule = "───────── ────── ───────── ───────── ───────── ──────────── ─────── ─────── ─────── ──────────────────"
        // In window: A1 A3 B1 B2 of A1–A4 B1 B2 (C1 has no window, D1 never started). Deadline
        // met: A1 B1 C1 of A1–A3 B1 B2 C1 D1 (A4 had none). Durations 120 240 300 300 360 1200.
        #expect(try sandbox.run(["audit:compliance"]).stdout == """
             \(figures)
             \(rule)
             6         1      1         1         0.6667    0.4286       300     1200    1200    98.03

            """)
        #expect(try sandbox.run(["audit:compliance", "--by", "kind"]).stdout == """
             Kind              \(figures)
             ───────────────── \(rule)
             heroku-kafka      0         0      1         0         -         0.0000       -       -       -       -
             heroku-postgresql 2         0      0         0         1.0000    0.5000       300     360     360     70.00
             heroku-redis      4         1      0         1         0.5000    0.5000       240     1200    1200    98.03

            """)
        #expect(try sandbox.run(["audit:compliance", "--by", "app"]).stdout == """
             App       \(figures)
             ───────── \(rule)
             audit-app 5         1      0         0         0.6667    0.4000       300     1200    1200    98.03
             other-app 1         0      1         1         -         0.5000       120     120     120     96.00

            """)
        #expect(try sandbox.run(["audit:compliance", "--by", "plan"]).stdout == """
             Plan                         \(figures)
             ──────────────────────────── \(rule)
             heroku-kafka:basic-0         0         0      1         0         -         0.0000       -       -       -       -
             heroku-postgresql:standard-0 2         0      0         0         1.0000    0.5000       300     360     360     70.00
             heroku-redis:mini            1         0      0         1         -         1.0000       120     120     120     96.00
             heroku-redis:premium-0       3         1      0         0         0.5000    0.3333       300     1200    1200    98.03

            """)
        #expect(try sandbox.run(["audit:compliance", "--json"]).stdout == """
            [
              {
                "completed": 6,
                "failed": 1,
                "cancelled": 1,
                "emergency": 1,
                "in_window_share": 0.6667,
                "deadline_met_share": 0.4286,
                "duration_p50_seconds": 300,
                "duration_p95_seconds": 1200,
                "duration_max_seconds": 1200,
                "longest_gap_days": 98.03
              }
            ]

            """)
        #expect(try ReportFormats.rows(sandbox, ["audit:compliance", "--by", "plan"], keys: ["plan"] + ReportFormats.complianceKeys).map(\.first)
                == ["heroku-kafka:basic-0", "heroku-postgresql:standard-0", "heroku-redis:mini", "heroku-redis:premium-0"])
        // April: A2 failed on the 7th, A3 completed (late) on the 21st.
        #expect(try sandbox.run(["audit:compliance", "--since", "2023-04-01", "--until", "2023-05-01", "--csv"]).stdout == """
            completed,failed,cancelled,emergency,in_window_share,deadline_met_share,duration_p50_seconds,duration_p95_seconds,duration_max_seconds,longest_gap_days\r
            1,1,0,0,0.5000,0.0000,1200,1200,1200,98.03\r

            """)
        #expect(try sandbox.run(["audit:compliance", "--since", "2023-05-15", "--by", "kind"])
                == RunResult(stdout: "", stderr: "No maintenance ended in that period\n", exitCode: 0))
    }

    /// By the month or quarter (UTC) in which each maintenance ended: its completion, or when it
    /// failed or was cancelled. The groups add up to the overall row.
    @Test func complianceGroupsByTheMonthOrQuarterMaintenancesEndedIn() throws {
        let sandbox = try AuditFleet.sandbox()
        #expect(try sandbox.run(["audit:compliance", "--by", "month", "--csv"]).stdout == """
            month,completed,failed,cancelled,emergency,in_window_share,deadline_met_share,duration_p50_seconds,duration_p95_seconds,duration_max_seconds,longest_gap_days\r
            2023-01,2,0,0,1,1.0000,1.0000,120,300,300,96.00\r
            2023-02,0,0,1,0,,0.0000,,,,\r
            2023-03,1,0,0,0,1.0000,1.0000,360,360,360,63.63\r
            2023-04,1,1,0,0,0.5000,0.0000,1200,1200,1200,98.03\r
            2023-05,2,0,0,0,0.5000,0.0000,240,300,300,70.00\r

            """)
        #expect(try sandbox.run(["audit:compliance", "--by", "quarter"]).stdout == """
             Quarter Completed Failed Cancelled Emergency In window Deadline met p50 (s) p95 (s) Max (s) Longest gap (days)
             ─────── ───────── ────── ───────── ───────── ───────── ──────────── ─────── ─────── ─────── ──────────────────
             2023-Q1 3         0      1         1         1.0000    0.7500       300     360     360     96.00
             2023-Q2 3         1      0         0         0.5000    0.0000       300     1200    1200    98.03

            """)
        let months = try ReportFormats.rows(sandbox, ["audit:compliance", "--by", "month"], keys: ["month"] + ReportFormats.complianceKeys)
        let overall = try ReportFormats.rows(sandbox, ["audit:compliance"], keys: ReportFormats.complianceKeys)[0]
        for column in 1...4 {
            #expect(months.map { Double($0[column])! }.reduce(0, +) == Double(overall[column - 1]))
        }
    }

    @Test func windowsListsEveryWindowSetWithWhatItReplacedOldestFirst() throws {
        let sandbox = try AuditFleet.sandbox()
        #expect(try sandbox.run(["audit:windows"]) == RunResult(stdout: """
             App       Add-on                Previous window                      Window                               Set by Set at                    Source
             ───────── ───────────────────── ──────────────────────────────────── ──────────────────────────────────── ────── ───────────────────────── ────────
             audit-app redis-alpha-11111     -                                    Thursdays 20:30 to Fridays 00:30 UTC alice  2023-01-01 00:00:00 +0000 default
             audit-app postgresql-beta-22222 -                                    Fridays 21:00 to Saturdays 01:00 UTC alice  2023-01-01 00:00:00 +0000 default
             audit-app redis-alpha-11111     Thursdays 20:30 to Fridays 00:30 UTC Fridays 18:00 to 22:00 UTC           alice  2023-01-02 10:00:00 +0000 customer
             audit-app postgresql-beta-22222 Fridays 21:00 to Saturdays 01:00 UTC Sundays 14:30 to 18:30 UTC           bob    2023-03-01 12:00:00 +0000 customer

            """, stderr: "", exitCode: 0))
        #expect(try sandbox.run(["audit:windows", "--since", "2023-03-01", "--csv"]).stdout == """
            app,addon,previous_window,window,set_by,set_at,source\r
            audit-app,postgresql-beta-22222,Fridays 21:00 to Saturdays 01:00 UTC,Sundays 14:30 to 18:30 UTC,bob,2023-03-01T12:00:00.000+00:00,customer\r

            """)
        #expect(try sandbox.run(["audit:windows", "--addon", "REDIS", "-a", "audit-app", "--json"]).stdout == """
            [
              {
                "app": "audit-app",
                "addon": "redis-alpha-11111",
                "previous_window": null,
                "window": "Thursdays 20:30 to Fridays 00:30 UTC",
                "set_by": "alice",
                "set_at": "2023-01-01T00:00:00.000+00:00",
                "source": "default"
              },
              {
                "app": "audit-app",
                "addon": "redis-alpha-11111",
                "previous_window": "Thursdays 20:30 to Fridays 00:30 UTC",
                "window": "Fridays 18:00 to 22:00 UTC",
                "set_by": "alice",
                "set_at": "2023-01-02T10:00:00.000+00:00",
                "source": "customer"
              }
            ]

            """)
        #expect(try sandbox.run(["audit:windows", "--app", "other-app"]) == RunResult(stdout: "", stderr: "No window changes match\n", exitCode: 0))
        #expect(try ReportFormats.rows(sandbox, ["audit:windows"], keys: ReportFormats.windowKeys).count == 4)
    }

    /// 2023-03-01: before bob moved beta's window and B1 ran; D1's deadline had passed with the
    /// add-on still live. 2023-05-12: B2 was past its deadline, two days before it completed.
    @Test func asOfAnswersAsTheLedgerStoodThen() throws {
        let sandbox = try AuditFleet.sandbox()
        let (a3, b2, c1, d1) = (try AuditFleet.uuid("A3"), try AuditFleet.uuid("B2"), try AuditFleet.uuid("C1"), try AuditFleet.uuid("D1"))
        #expect(try sandbox.run(["audit:overdue", "--as-of", "2023-03-01T00:00:00Z"]).stdout == """
             Kind    App       Add-on            Maintenance                          Status    Required by               Gap from                  Gap to                    Gap (days)
             ─────── ───────── ───────────────── ──────────────────────────────────── ───────── ───────────────────────── ───────────────────────── ───────────────────────── ──────────
             overdue other-app kafka-delta-44444 \(d1) cancelled 2023-02-15 00:00:00 +0000 -                         -                         -
             gap     other-app redis-gamma-33333 \(c1) -         -                         2022-10-01 00:00:00 +0000 2023-01-05 00:03:00 +0000 96.00

            """)
        #expect(try sandbox.run(["audit:compliance", "--as-of", "2023-03-01T00:00:00Z", "--csv"]).stdout == """
            completed,failed,cancelled,emergency,in_window_share,deadline_met_share,duration_p50_seconds,duration_p95_seconds,duration_max_seconds,longest_gap_days\r
            2,0,1,1,1.0000,0.6667,120,300,300,96.00\r

            """)
        #expect(try sandbox.run(["audit:windows", "--as-of", "2023-03-01T00:00:00Z", "--addon", "postgresql-beta-22222", "--csv"]).stdout == """
            app,addon,previous_window,window,set_by,set_at,source\r
            audit-app,postgresql-beta-22222,,Fridays 21:00 to Saturdays 01:00 UTC,alice,2023-01-01T00:00:00.000+00:00,default\r

            """)
        #expect(try ReportFormats.rows(sandbox, ["audit:overdue", "--as-of", "2023-05-12T00:00:00Z"], keys: ReportFormats.overdueKeys) == [
            ["overdue", "audit-app", "postgresql-beta-22222", b2, "pending", "2023-05-10T00:00:00.000+00:00", "", "", ""],
            ["gap", "audit-app", "redis-alpha-11111", a3, "", "", "2023-01-13T18:10:00.000+00:00", "2023-04-21T18:50:00.000+00:00", "98.03"],
            ["gap", "other-app", "kafka-delta-44444", "", "", "", "2023-01-01T00:00:00.000+00:00", "2023-04-15T00:00:00.000+00:00", "104.0"],
            ["gap", "other-app", "redis-gamma-33333", c1, "", "", "2022-10-01T00:00:00.000+00:00", "2023-01-05T00:03:00.000+00:00", "96.0"],
            ["gap", "other-app", "redis-gamma-33333", "", "", "", "2023-01-05T00:03:00.000+00:00", "2023-05-12T00:00:00.000+00:00", "127.0"],
        ])
        // In window A1 B1 A3 of A1 B1 A2 A3 A4; deadline met C1 A1 B1 of C1 A1 D1 B1 A2 A3.
        #expect(try ReportFormats.rows(sandbox, ["audit:compliance", "--as-of", "2023-05-12T00:00:00Z"], keys: ReportFormats.complianceKeys)
                == [["5.0", "1.0", "1.0", "1.0", "0.6", "0.5", "300.0", "1200.0", "1200.0", "98.03"]])
    }

    @Test func badFiltersAreRefusedAndChangeNothing() throws {
        let sandbox = try AuditFleet.sandbox()
        try sandbox.expectUsageError(["audit:compliance", "--by", "plans"])
        #expect(try sandbox.run(["audit:compliance", "--by", "plans"]).stderr.hasPrefix("""
            Error: The value 'plans' is invalid for '--by <by>'. Please provide one of 'plan', 'kind', 'app', 'month' or 'quarter'.

            """))
        try sandbox.expectUsageError(["audit:compliance", "--since", "last tuesday"])
        try sandbox.expectUsageError(["audit:windows", "--since", "2023-02-30"])
        try sandbox.expectUsageError(["audit:overdue", "--as-of", "yesterday"])
        try sandbox.expectRefusal(["audit:compliance", "--since", "2023-05-01", "--until", "2023-04-01"], stderr: """
            Error: --since 2023-05-01T00:00:00.000+00:00 is not before --until 2023-04-01T00:00:00.000+00:00
            Give a period that starts before it ends.

            """, exitCode: 64)
        for command in ["audit:overdue", "audit:compliance", "audit:windows"] {
            try sandbox.expectRefusal([command, "--as-of", "2023-06-01T00:00:00.001Z"], stderr: """
                Error: --as-of 2023-06-01T00:00:00.001+00:00 is in the future (now is 2023-06-01T00:00:00.000+00:00)
                --as-of asks what the ledger held at a past moment.

                """)
        }
        try sandbox.expectRefusal(["audit:windows", "--app", "nope-app"], stderr: """
            Error: Couldn't find that app: nope-app
            Create it with `maintledger apps:create nope-app`.

            """)
        try sandbox.expectRefusal(["audit:windows", "--addon", "DATABASE_URL", "-a", "other-app"], stderr: """
            Error: Couldn't find that add-on: DATABASE_URL on other-app
            Run `maintledger addons -a other-app` to list its add-ons and attachments.

            """)
    }
}

@Suite struct AuditReportSQLCommandTests {
    @Test func resultsKeepTheQuerysColumnsAndSQLiteTypesInEveryFormat() throws {
        let sandbox = try AuditFleet.sandbox()
        let query = ["sql", "SELECT 1 AS i, 2.5 AS r, 'a,b' AS t, NULL AS n, x'00ff' AS b UNION ALL SELECT -7, 1e3, '', NULL, x''"]
        #expect(try sandbox.run(query) == RunResult(stdout: """
             i  r      t   n b
             ── ────── ─── ─ ────
             1  2.5    a,b   00ff
             -7 1000.0

            """, stderr: "", exitCode: 0))
        #expect(try sandbox.run(query + ["--ndjson"]).stdout == """
            {"i":1,"r":2.5,"t":"a,b","n":null,"b":"00ff"}
            {"i":-7,"r":1000.0,"t":"","n":null,"b":""}

            """)
        #expect(try sandbox.run(query + ["--csv"]).stdout == "i,r,t,n,b\r\n1,2.5,\"a,b\",,00ff\r\n-7,1000.0,,,\r\n")
        #expect(try sandbox.run(query + ["--json"]).stdout == """
            [
              {
                "i": 1,
                "r": 2.5,
                "t": "a,b",
                "n": null,
                "b": "00ff"
              },
              {
                "i": -7,
                "r": 1000.0,
                "t": "",
                "n": null,
                "b": ""
              }
            ]

            """)
        #expect(try sandbox.run(["sql", "SELECT name, maintenance_mode FROM apps ORDER BY name", "--csv"]).stdout
                == "name,maintenance_mode\r\naudit-app,0\r\nother-app,0\r\n")
    }

    @Test(arguments: [
        ("DELETE FROM maintenances", "sql runs read-only queries; DELETE statements are refused and nothing was run"),
        ("INSERT INTO apps (uuid, name, created_at) SELECT uuid, 'copy-app', created_at FROM apps LIMIT 1",
         "sql runs read-only queries; INSERT statements are refused and nothing was run"),
        ("UPDATE maintenances SET status = 'completed'", "sql runs read-only queries; UPDATE statements are refused and nothing was run"),
        ("DROP TRIGGER audit_trail_append_only_update", "sql runs read-only queries; DROP statements are refused and nothing was run"),
        ("CREATE INDEX sneaky ON apps(created_at)", "sql runs read-only queries; CREATE statements are refused and nothing was run"),
        ("ATTACH DATABASE 'other.sqlite' AS other", "sql runs read-only queries; ATTACH statements are refused and nothing was run"),
        ("PRAGMA journal_mode = DELETE", "sql runs read-only queries; PRAGMA statements are refused and nothing was run"),
        ("REPLACE INTO apps SELECT * FROM apps", "sql runs read-only queries; REPLACE statements are refused and nothing was run"),
        ("WITH x AS (SELECT 1) UPDATE apps SET maintenance_mode = 1", "sql runs read-only queries; this statement writes and was not run"),
        ("SELECT count(*) FROM apps; DELETE FROM audit_trail", "sql runs one statement at a time; nothing was run"),
        ("SELECT 1;\n;\nDROP TABLE apps -- hidden", "sql runs one statement at a time; nothing was run"),
    ])
    func writesAreRefusedAndLeaveTheFileByteForByte(sql: String, error: String) throws {
        let sandbox = try AuditFleet.sandbox()
        let entries = try sandbox.expectVerifies()
        let bytes = try LedgerSandbox.bytes(sandbox.dbPath)
        let hint = error.hasPrefix("sql runs one statement") ? "Remove what follows the first `;`."
            : "Write one SELECT, WITH, VALUES or EXPLAIN statement; read a pragma as a table, as in SELECT * FROM pragma_table_info('maintenances')."
        try sandbox.expectRefusal(["sql", sql], stderr: "Error: \(error)\n\(hint)\n")
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == bytes)
        #expect(try sandbox.expectVerifies() == entries)
        #expect(!FileManager.default.fileExists(atPath: sandbox.folder.appendingPathComponent("other.sqlite").path))
    }

    @Test func aQuerySQLiteCannotCompileIsAUsageErrorWithSQLitesMessage() throws {
        let sandbox = try AuditFleet.sandbox()
        try sandbox.expectRefusal(["sql", "SELECT statu FROM maintenances"],
                                  stderr: "Error: the query does not compile: no such column: statu\n", exitCode: 64)
        try sandbox.expectRefusal(["sql", "SELEC 1"], stderr: "Error: the query does not compile: near \"SELEC\": syntax error\n", exitCode: 64)
        let missing = sandbox.folder.appendingPathComponent("missing.sqlite").path
        #expect(try sandbox.run(["sql", "SELECT 1", "--db", missing], useDB: false) == RunResult(stdout: "", stderr: """
            Error: no ledger at \(missing)
            Point --db or MAINTLEDGER_DB at an existing ledger.

            """, exitCode: 1))
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    /// 300,000 rows in each format: the peak memory stays that of a one-row query (a buffered
    /// result would hold tens of megabytes).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/time")))
    func rowsStreamInFlatMemory() throws {
        let sandbox = try AuditFleet.sandbox()
        let many = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT i, 'row ' || i AS label FROM n"
        let small = try peakKilobytes(sandbox, ["sql", "SELECT 1", "--json"])
        for format in [[], ["--json"], ["--ndjson"], ["--csv"]] {
            let peak = try peakKilobytes(sandbox, ["sql", many] + format)
            #expect(peak < small + 8192, "\(format): \(peak) KB against \(small) KB for one row")
        }
    }

    /// The fleet-wide listings stream too: 100,000 notices and 20,000 add-ons (added with SQL,
    /// as only these listings read them) cost no more memory than the few the seed holds.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/time")))
    func noticesAndAddonsStreamInFlatMemory() throws {
        let sandbox = try Fixture.seedExample()
        let listings = [["notices", "--ndjson"], ["notices"], ["addons", "--ndjson"], ["addons"]]
        let small = try listings.map { try peakKilobytes(sandbox, $0) }
        try sandbox.tamper("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
            INSERT INTO notices (maintenance_id, kind, app, addon, attachments, window, scheduled_for, required_by, created_at)
            SELECT 1, 'scheduled', 'example-app', 'redis-bulk-' || i, '["REDIS_URL"]', NULL, '2023-05-01T00:00:00.000Z',
                   '2023-06-01T00:00:00.000Z', '2023-04-20T00:00:00.000Z' FROM n;
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
            INSERT INTO addons (uuid, name, service, plan, app_id, server_created_at, provisioned_at)
            SELECT printf('%08d-0000-4000-8000-000000000000', i), 'redis-bulk-' || i, 'heroku-redis', 'mini', 1,
                   '2023-01-01T00:00:00.000Z', '2023-01-01T00:00:00.000Z' FROM n;
            """)
        for (listing, before) in zip(listings, small) {
            let peak = try peakKilobytes(sandbox, listing)
            #expect(peak < before + 8192, "\(listing): \(peak) KB against \(before) KB for the seed's few rows")
        }
    }

    /// The peak resident memory of a maintledger run, by /usr/bin/time.
    private func peakKilobytes(_ sandbox: LedgerSandbox, _ arguments: [String]) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "%M", LedgerSandbox.binary.path] + arguments + ["--db", sandbox.dbPath]
        process.environment = ["MAINTLEDGER_NOW": sandbox.now, "PATH": "/usr/bin:/bin"]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(output)")
        return try #require(Int(output.split(separator: "\n").last ?? ""), "\(output)")
    }
}

/// `simulate --apps 5 --days 120 --start 2022-01-01 --seed 7`, asked on 2022-08-15 (the engine
/// stopped on 2022-05-01), each report against plain SQL on the file.
@Suite struct AuditReportSimulationTests {
    static let now = "2022-08-15T00:00:00Z"
    /// Mid-run: one customer had moved a window by then, two more did later.
    static let past = "2022-03-01T00:00:00.000Z"

    let sandbox: LedgerSandbox
    let queue: DatabaseQueue

    init() throws {
        sandbox = try LedgerSandbox()
        sandbox.now = Self.now
        try sandbox.ok(["simulate", "--apps", "5", "--days", "120", "--start", "2022-01-01", "--seed", "7"])
        queue = try DatabaseQueue(path: sandbox.dbPath)
    }

    private func sql(_ query: String) throws -> [[String]] {
        try queue.read { db in
            try Row.fetchAll(db, sql: query).map { row in (0..<row.count).map { Self.text(row[$0]) } }
        }
    }

    /// A value as `ReportFormats.text` reads the reports' output.
    private static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: ""
        case .int64(let number): "\(Double(number))"
        case .double(let number): "\(number)"
        case .string(let text): ReportFormats.text(text)
        case .blob: "blob"
        }
    }

    /// The maintenances as they stood at `time`, from the status changes alone: status,
    /// completion time, and the rows created by then.
    private static func maintenances(asOf time: String) -> String {
        """
        (SELECT m.id, m.uuid, m.addon_id, m.required_by, m.created_at, m.emergency, m.window, m.duration_seconds,
                (SELECT c.to_status FROM maintenance_status_changes c WHERE c.maintenance_id = m.id AND c.changed_at <= '\(time)'
                 ORDER BY c.changed_at DESC, c.id DESC LIMIT 1) AS status,
                (SELECT c.changed_at FROM maintenance_status_changes c WHERE c.maintenance_id = m.id AND c.changed_at <= '\(time)'
                 AND c.to_status = 'running') AS started_at,
                (SELECT c.changed_at FROM maintenance_status_changes c WHERE c.maintenance_id = m.id AND c.changed_at <= '\(time)'
                 AND c.to_status = 'completed') AS completed_at,
                (SELECT c.changed_at FROM maintenance_status_changes c WHERE c.maintenance_id = m.id AND c.changed_at <= '\(time)'
                 AND c.to_status IN ('completed', 'failed', 'cancelled')) AS ended_at
         FROM maintenances m WHERE m.created_at <= '\(time)')
        """
    }

    /// Milliseconds between two stored times, through julian days.
    private static func milliseconds(_ from: String, _ to: String) -> String {
        "CAST(round((julianday(\(to)) - julianday(\(from))) * 86400000) AS INTEGER)"
    }

    private func expectedOverdue(at time: String) throws -> [[String]] {
        let m = Self.maintenances(asOf: time)
        let live = "a.provisioned_at <= '\(time)' AND (a.deprovisioned_at IS NULL OR a.deprovisioned_at > '\(time)')"
        let overdue = try sql("""
            SELECT 'overdue', apps.name, a.name, m.uuid, m.status, m.required_by
            FROM \(m) m JOIN addons a ON a.id = m.addon_id JOIN apps ON apps.id = a.app_id
            WHERE \(live) AND m.required_by > m.created_at AND m.required_by < '\(time)'
              AND (m.status IN ('pending', 'preparing', 'ready', 'running')
                   OR (m.status IN ('failed', 'cancelled')
                       AND NOT EXISTS (SELECT 1 FROM \(m) c WHERE c.addon_id = m.addon_id AND c.status = 'completed' AND c.created_at > m.created_at)))
            ORDER BY apps.name, a.name, m.required_by
            """).map { row in Array(row.prefix(5)) + [Self.iso(row[5]), "", "", ""] }
        // Gaps: each completion after the previous one (or the server's creation), and the last
        // one to the moment or the add-on's destruction.
        let gaps = try sql("""
            WITH done AS (SELECT * FROM \(m) WHERE status = 'completed'),
            spans AS (
                SELECT d.addon_id, d.uuid,
                       coalesce((SELECT max(p.completed_at) FROM done p WHERE p.addon_id = d.addon_id AND p.completed_at < d.completed_at),
                                (SELECT server_created_at FROM addons WHERE id = d.addon_id)) AS gap_from,
                       d.completed_at AS gap_to
                FROM done d
                UNION ALL
                SELECT a.id, NULL, coalesce((SELECT max(completed_at) FROM done WHERE addon_id = a.id), a.server_created_at),
                       min(coalesce(a.deprovisioned_at, '\(time)'), '\(time)')
                FROM addons a WHERE a.provisioned_at <= '\(time)')
            SELECT 'gap', apps.name, a.name, s.uuid, NULL, NULL, s.gap_from, s.gap_to, round(\(Self.milliseconds("s.gap_from", "s.gap_to")) / 864000.0) / 100
            FROM spans s JOIN addons a ON a.id = s.addon_id JOIN apps ON apps.id = a.app_id
            WHERE \(Self.milliseconds("s.gap_from", "s.gap_to")) > 90 * 86400000
            ORDER BY apps.name, a.name, s.gap_from
            """).map { row in Array(row.prefix(6)) + [Self.iso(row[6]), Self.iso(row[7]), row[8]] }
        return overdue + gaps
    }

    /// Stored text `…Z` as the reports print it, `…+00:00`.
    private static func iso(_ stored: String) -> String { stored.isEmpty ? "" : String(stored.dropLast()) + "+00:00" }

    @Test func overdueAgreesWithPlainSQLNowAndAsOf() throws {
        let now = try ReportFormats.rows(sandbox, ["audit:overdue"], keys: ReportFormats.overdueKeys)
        #expect(now == (try expectedOverdue(at: "2022-08-15T00:00:00.000Z")))
        #expect(now.contains { $0[0] == "gap" })
        for time in [Self.past, "2022-07-01T00:00:00.000Z"] {
            #expect(try ReportFormats.rows(sandbox, ["audit:overdue", "--as-of", time], keys: ReportFormats.overdueKeys)
                    == (try expectedOverdue(at: time)), "as of \(time)")
        }
        // Two months after the engine stopped, some add-ons had gone 90 days without one.
        #expect(try expectedOverdue(at: "2022-07-01T00:00:00.000Z").count > 3)
    }

    private func expectedCompliance(at time: String) throws -> [[String]] {
        let m = Self.maintenances(asOf: time)
        // In window: the start's offset into the week from the window's start, under 4 hours.
        let windowStart = """
            ((CASE substr(m.window, 1, 3) WHEN 'Sun' THEN 0 WHEN 'Mon' THEN 1 WHEN 'Tue' THEN 2 WHEN 'Wed' THEN 3 WHEN 'Thu' THEN 4
              WHEN 'Fri' THEN 5 ELSE 6 END) * 1440 + CAST(substr(m.window, instr(m.window, ' ') + 1, 2) AS INTEGER) * 60
              + CAST(substr(m.window, instr(m.window, ' ') + 4, 2) AS INTEGER)) * 60000
            """
        let started = """
            ((CAST(strftime('%w', m.started_at) AS INTEGER) * 1440 + CAST(strftime('%H', m.started_at) AS INTEGER) * 60
              + CAST(strftime('%M', m.started_at) AS INTEGER)) * 60000 + CAST(round(strftime('%f', m.started_at) * 1000) AS INTEGER))
            """
        return try sql("""
            WITH scoped AS (
                SELECT a.service || ':' || a.plan AS grp, m.*,
                       CASE WHEN m.started_at IS NOT NULL AND m.window IS NOT NULL
                            THEN ((\(started) - \(windowStart)) % 604800000 + 604800000) % 604800000 < 14400000 END AS inside,
                       CASE WHEN m.required_by > m.created_at THEN coalesce(m.completed_at <= m.required_by, 0) END AS met,
                       CASE WHEN m.status = 'completed' THEN \(Self.milliseconds("""
                           coalesce((SELECT max(p.completed_at) FROM \(m) p WHERE p.addon_id = m.addon_id AND p.status = 'completed'
                                     AND p.completed_at < m.completed_at), a.server_created_at)
                           """, "m.completed_at")) END AS gap
                FROM \(m) m JOIN addons a ON a.id = m.addon_id
                WHERE m.status IN ('completed', 'failed', 'cancelled')),
            ranked AS (
                SELECT grp, duration_seconds AS d, row_number() OVER (PARTITION BY grp ORDER BY duration_seconds) AS rank,
                       count(*) OVER (PARTITION BY grp) AS n
                FROM scoped WHERE status = 'completed')
            SELECT grp, sum(status = 'completed'), sum(status = 'failed'), sum(status = 'cancelled'), sum(emergency),
                   round(sum(inside) * 10000.0 / count(inside)) / 10000, round(sum(met) * 10000.0 / count(met)) / 10000,
                   (SELECT d FROM ranked r WHERE r.grp = s.grp AND r.rank = (50 * r.n + 99) / 100),
                   (SELECT d FROM ranked r WHERE r.grp = s.grp AND r.rank = (95 * r.n + 99) / 100),
                   max(duration_seconds), round(max(gap) / 864000.0) / 100
            FROM scoped s GROUP BY grp ORDER BY grp
            """)
    }

    @Test func complianceAgreesWithPlainSQLNowAndAsOf() throws {
        let keys = ["plan"] + ReportFormats.complianceKeys
        let now = try ReportFormats.rows(sandbox, ["audit:compliance", "--by", "plan"], keys: keys)
        #expect(now == (try expectedCompliance(at: "2022-08-15T00:00:00.000Z")))
        #expect(now.count > 5)
        let past = try ReportFormats.rows(sandbox, ["audit:compliance", "--by", "plan", "--as-of", Self.past], keys: keys)
        #expect(past == (try expectedCompliance(at: Self.past)))
    }

    @Test func windowsAgreeWithPlainSQLNowAndAsOf() throws {
        func expected(at time: String) throws -> [[String]] {
            try sql("""
                SELECT apps.name, a.name,
                       (SELECT p.day_of_week || ' ' || p.start_minute FROM windows p WHERE p.addon_id = w.addon_id AND p.id < w.id ORDER BY p.id DESC LIMIT 1),
                       w.day_of_week || ' ' || w.start_minute, w.set_by, w.set_at, w.source
                FROM windows w JOIN addons a ON a.id = w.addon_id JOIN apps ON apps.id = a.app_id
                WHERE w.set_at <= '\(time)' ORDER BY w.set_at, w.id
                """).map { row in
                func text(_ window: String) -> String {
                    guard !window.isEmpty else { return "" }
                    let parts = window.split(separator: " ").map { Int($0)! }
                    return WeeklyWindow(dayOfWeek: parts[0], startMinute: parts[1]).text
                }
                return [row[0], row[1], text(row[2]), text(row[3]), row[4], Self.iso(row[5]), row[6]]
            }
        }
        let now = try ReportFormats.rows(sandbox, ["audit:windows"], keys: ReportFormats.windowKeys)
        #expect(now == (try expected(at: "2022-08-15T00:00:00.000Z")))
        #expect(now.contains { $0[4] == "customer" })
        #expect(try ReportFormats.rows(sandbox, ["audit:windows", "--as-of", Self.past], keys: ReportFormats.windowKeys)
                == (try expected(at: Self.past)))
    }
}
