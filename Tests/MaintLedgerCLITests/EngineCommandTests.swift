import Foundation
import GRDB
import LedgerCore
import LedgerStore
import MaintenanceLedger
import Testing

// `platform:tick`, `notices`, `simulate` and the refusals of `demo`, end to end through the binary.

private let seededEnvironment = ["MAINTLEDGER_SEED": "42"]

private extension LedgerSandbox {
    /// A command that must succeed, with MAINTLEDGER_SEED set so that generated uuids repeat.
    @discardableResult
    func seeded(_ arguments: [String], now: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        try ok(arguments, now: now, environment: seededEnvironment, sourceLocation: sourceLocation)
    }

    /// Every row of every table (the trail included), as text: equal dumps mean equal ledgers.
    func tableDump() throws -> String {
        let queue = try DatabaseQueue(path: dbPath)
        return try queue.read { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            // By the first column: every table's key starts there (trail_tree has no rowid).
            return try tables.map { table in
                "== \(table)\n" + (try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1").map(\.description).joined(separator: "\n"))
            }.joined(separator: "\n")
        }
    }

    func rows(_ sql: String) throws -> [Row] {
        try DatabaseQueue(path: dbPath).read { db in try Row.fetchAll(db, sql: sql) }
    }

    /// The head hash `audit:verify` prints.
    func verifiedHead(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        _ = try expectVerifies(sourceLocation: sourceLocation)
        return String(try run(["audit:verify"]).stdout.split(separator: " ").last!.dropLast())
    }
}

private extension WeeklyWindow {
    /// Reads back the text a maintenance records (`Wednesdays 20:00 to Thursdays 00:00 UTC`).
    init?(recordedText text: String) {
        let words = text.split(separator: " ").map(String.init)
        guard words.count >= 2, let day = WeeklyWindow.parseDay(words[0]), let minute = WeeklyWindow.parseTime(words[1]) else { return nil }
        self.init(dayOfWeek: day, startMinute: minute)
        guard self.text == text else { return nil }
    }
}

private func ts(_ text: String) -> Timestamp { Timestamp(iso: text)! }

// MARK: - platform:tick

@Suite struct PlatformTickTests {
    /// `example-app` with `redis-lively-12345` (premium-0, Fridays 18:00, server 2022-12-26) and
    /// `kafka-basic-33333`, made with MAINTLEDGER_SEED=42 on 2023-01-02 10:00, the engine
    /// ticked to 2023-01-10 (nothing due yet).
    static func ledger() throws -> LedgerSandbox {
        let sandbox = try LedgerSandbox()
        sandbox.now = "2023-01-02T10:00:00Z"
        try sandbox.seeded(["apps:create", "example-app"])
        try sandbox.seeded(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--name", "redis-lively-12345",
                            "--server-created-at", "2022-12-26T08:30:37.872Z"])
        try sandbox.seeded(["data:maintenances:window:update", "REDIS_URL", "Fridays", "6:00PM", "-a", "example-app"])
        try sandbox.seeded(["addons:create", "heroku-kafka:basic-0", "-a", "example-app", "--name", "kafka-basic-33333"])
        let tick = try sandbox.run(["platform:tick"], now: "2023-01-10T00:00:00Z")
        #expect(tick == RunResult(stdout: "ticked until 2023-01-10T00:00:00.000+00:00: 0 steps (0 required, 0 scheduled, 0 started, 0 completed, 0 failed)\n",
                                  stderr: "", exitCode: 0))
        return sandbox
    }

    @Test func aSecondTickWithTheSameClockChangesNothing() throws {
        let sandbox = try Self.ledger()
        sandbox.now = "2023-06-01T00:00:00Z"
        #expect(try sandbox.run(["platform:tick", "--seed", "5"])
                == RunResult(stdout: "ticked until 2023-06-01T00:00:00.000+00:00: 10 steps (2 required, 0 scheduled, 2 started, 2 completed, 0 failed)\n",
                             stderr: "", exitCode: 0))
        let before = try sandbox.tableDump()
        let entries = try sandbox.expectVerifies()
        #expect(try sandbox.run(["platform:tick", "--seed", "5"])
                == RunResult(stdout: "ticked until 2023-06-01T00:00:00.000+00:00: 0 steps (0 required, 0 scheduled, 0 started, 0 completed, 0 failed)\n",
                             stderr: "", exitCode: 0))
        // The same --until from a later clock, and another seed: still nothing.
        #expect(try sandbox.run(["platform:tick", "--until", "2023-06-01T00:00:00Z", "--seed", "6"], now: "2023-07-01T00:00:00Z").exitCode == 0)
        #expect(try sandbox.tableDump() == before)
        #expect(try sandbox.expectVerifies() == entries)
        // Every step went through the command layer as `platform`, one entry per tick.
        let trail = try sandbox.trailEntries()
        #expect(trail.filter { $0["action"] as? String == "platform:tick" }.count == 2)
        #expect(trail.filter { ($0["action"] as? String)?.hasPrefix("platform:") == true }.allSatisfy { $0["actor"] as? String == "platform" })
    }

    /// `--emergency` schedules at once; the next tick starts it right away, outside its window,
    /// and it stays flagged emergency and outside_window after it completed.
    @Test func anEmergencyStartsAtTheNextTickOutsideTheWindowAndStaysFlagged() throws {
        let sandbox = try Self.ledger()
        sandbox.now = "2023-01-10T12:00:00Z" // a Tuesday; the window is Fridays 18:00
        let required = try sandbox.run(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", "2023-01-11T00:00:00Z",
                                        "--emergency", "--reason", "hardware_issue"], environment: seededEnvironment)
        #expect(required == RunResult(stdout: "2a886b26-4740-4c60-926b-067efdbedfdf\n",
                                      stderr: "Requiring maintenance of redis-lively-12345 by 2023-01-11 00:00:00 +0000... done, scheduled for 2023-01-10 12:00:00 +0000 (outside its window)\n",
                                      exitCode: 0))
        try sandbox.seeded(["platform:maintenances:require", "kafka-basic-33333", "--required-by", "2023-01-11T00:00:00Z", "--emergency"])
        #expect(try sandbox.run(["platform:tick"], now: "2023-01-10T13:00:00Z").stdout
                == "ticked until 2023-01-10T13:00:00.000+00:00: 8 steps (0 required, 0 scheduled, 2 started, 2 completed, 0 failed)\n")
        sandbox.now = "2023-01-10T13:00:00Z"
        let info = try sandbox.infoJSON("redis-lively-12345")
        #expect(info["emergency"] as? Bool == true && info["outside_window"] as? Bool == true, "\(info)")
        #expect(info["status"] as? String == "completed" && info["reason"] as? String == "hardware_issue")
        #expect(info["scheduled_for"] as? String == "2023-01-10T12:00:00.000+00:00" && info["window"] as? String == "Fridays 18:00 to 22:00 UTC")
        let started = try #require((info["started_at"] as? String).flatMap(Timestamp.init(iso:)))
        // Prepared at 12:00, ready 20–60 s later, started 10–90 s after that.
        #expect(started >= ts("2023-01-10T12:00:30Z") && started <= ts("2023-01-10T12:02:30Z"), "started \(started)")
        #expect(!WeeklyWindow(recordedText: "Fridays 18:00 to 22:00 UTC")!.contains(started))
        #expect(try sandbox.run(["data:maintenances:info", "REDIS_URL", "-a", "example-app"]).stdout == """
            addon_attachments:    REDIS_URL
            addon_kind:           heroku-redis
            addon_name:           redis-lively-12345
            addon_plan:           premium-0
            addon_window:         Fridays 18:00 to 22:00 UTC
            app_name:             example-app
            completed_at:         2023-01-10T12:08:58.766+00:00
            duration_approximate: ~ 8 minutes
            duration_seconds:     497
            method:               failover
            reason:               hardware_issue
            required_by:          2023-01-11T00:00:00.000+00:00
            scheduled_for:        2023-01-10T12:00:00.000+00:00
            server_created_at:    2022-12-26T08:30:37.872+00:00
            started_at:           2023-01-10T12:00:41.404+00:00
            status:               completed
            window:               Fridays 18:00 to 22:00 UTC

            """)
        // On a plan without a window it is flagged emergency, never outside a window it lacks.
        let kafka = try sandbox.infoJSON("kafka-basic-33333")
        #expect(kafka["emergency"] as? Bool == true && kafka["outside_window"] as? Bool == false && kafka["status"] as? String == "completed")
        #expect(kafka["started_at"] as? String ?? "" < "2023-01-10T12:02:31", "\(kafka)")
        // Both emergencies announced; their status changes are the platform's.
        #expect(try sandbox.rows("SELECT kind, addon, scheduled_for FROM notices ORDER BY id").map { "\($0[0] as String) \($0[1] as String) \($0[2] as String)" }
                == ["scheduled redis-lively-12345 2023-01-10T12:00:00.000Z", "scheduled kafka-basic-33333 2023-01-10T12:00:00.000Z"])
        #expect(try sandbox.rows("SELECT DISTINCT actor FROM maintenance_status_changes WHERE from_status IS NOT NULL").map { $0[0] as String } == ["platform"])
        _ = try sandbox.expectVerifies()
    }
}

// MARK: - notices

@Suite struct NoticesCommandTests {
    /// redis-lively-12345 (also attached to reporting-app as CACHE) gets its routine maintenance
    /// required on 2023-03-12; the customer moves it a week earlier, then into a new window; the
    /// engine later requires one for redis-mini-11111 and picks its time.
    static func ledger() throws -> LedgerSandbox {
        let sandbox = try LedgerSandbox()
        sandbox.now = "2023-01-02T10:00:00Z"
        try sandbox.seeded(["apps:create", "example-app"])
        try sandbox.seeded(["apps:create", "reporting-app"])
        try sandbox.seeded(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--name", "redis-lively-12345",
                            "--server-created-at", "2022-12-26T08:30:37.872Z"])
        try sandbox.seeded(["data:maintenances:window:update", "REDIS_URL", "Fridays", "6:00PM", "-a", "example-app"])
        try sandbox.seeded(["addons:attach", "redis-lively-12345", "-a", "reporting-app", "--as", "CACHE"])
        try sandbox.seeded(["addons:create", "heroku-redis:mini", "-a", "example-app", "--name", "redis-mini-11111"])
        return sandbox
    }

    static let firstNotice = """
        {"seq":1,"kind":"scheduled","app":"example-app","addon":"redis-lively-12345","attachments":["REDIS_URL","CACHE_URL"],\
        "window":"Fridays 18:00 to 22:00 UTC","scheduled_for":"2023-03-24T18:00:00.000+00:00","required_by":"2023-03-26T08:30:37.872+00:00",\
        "created_at":"2023-03-12T08:30:37.872+00:00","maintenance_uuid":"5d135c42-dc90-4f61-90eb-8e6780179fcf"}
        """

    @Test func oneNoticePerSchedulingAndRescheduling() throws {
        let sandbox = try Self.ledger()
        sandbox.now = "2023-03-13T00:00:00Z"
        try sandbox.ok(["platform:tick"])
        // The engine required it 14 days before the deadline and scheduled it at the first window start a week out.
        #expect(try sandbox.run(["notices", "--ndjson"]) == RunResult(stdout: Self.firstNotice + "\n", stderr: "", exitCode: 0))
        #expect(try sandbox.run(["notices"]).stdout == """
             Seq Kind      App         Add-on             Attachments          Window                     Scheduled for             Required by
             ─── ───────── ─────────── ────────────────── ──────────────────── ────────────────────────── ───────────────────────── ─────────────────────────
             1   scheduled example-app redis-lively-12345 REDIS_URL, CACHE_URL Fridays 18:00 to 22:00 UTC 2023-03-24 18:00:00 +0000 2023-03-26 08:30:37 +0000

            """)
        // Rescheduling by weeks, then by a new window: a `rescheduled` notice each, with the new time.
        #expect(try sandbox.run(["data:maintenances:schedule", "REDIS_URL", "-a", "example-app", "--weeks", "-1"]).stdout
                == "Scheduled maintenance for redis-lively-12345 changed from 2023-03-24 18:00:00 +0000 to 2023-03-17 18:00:00 +0000\n")
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "wednesdays", "20:00", "-a", "example-app"])
        // Asking for the time it already has records no notice.
        try sandbox.ok(["data:maintenances:schedule", "REDIS_URL", "-a", "example-app", "--week", "2023-03-13"])
        sandbox.now = "2023-03-20T00:00:00Z"
        try sandbox.ok(["platform:tick"])

        #expect(try sandbox.run(["notices"]) == RunResult(stdout: """
             Seq Kind        App         Add-on             Attachments            Window                                  Scheduled for             Required by
             ─── ─────────── ─────────── ────────────────── ────────────────────── ─────────────────────────────────────── ───────────────────────── ─────────────────────────
             1   scheduled   example-app redis-lively-12345 REDIS_URL, CACHE_URL   Fridays 18:00 to 22:00 UTC              2023-03-24 18:00:00 +0000 2023-03-26 08:30:37 +0000
             2   rescheduled example-app redis-lively-12345 REDIS_URL, CACHE_URL   Fridays 18:00 to 22:00 UTC              2023-03-17 18:00:00 +0000 2023-03-26 08:30:37 +0000
             3   rescheduled example-app redis-lively-12345 REDIS_URL, CACHE_URL   Wednesdays 20:00 to Thursdays 00:00 UTC 2023-03-15 20:00:00 +0000 2023-03-26 08:30:37 +0000
             4   scheduled   example-app redis-mini-11111   HEROKU_REDIS_AMBER_URL -                                       2023-03-27 03:16:55 +0000 2023-04-02 10:00:00 +0000

            """, stderr: "", exitCode: 0))

        #expect(try sandbox.run(["notices", "--json"]) == RunResult(stdout: """
            [
              {
                "seq": 1,
                "kind": "scheduled",
                "app": "example-app",
                "addon": "redis-lively-12345",
                "attachments": ["REDIS_URL","CACHE_URL"],
                "window": "Fridays 18:00 to 22:00 UTC",
                "scheduled_for": "2023-03-24T18:00:00.000+00:00",
                "required_by": "2023-03-26T08:30:37.872+00:00",
                "created_at": "2023-03-12T08:30:37.872+00:00",
                "maintenance_uuid": "5d135c42-dc90-4f61-90eb-8e6780179fcf"
              },
              {
                "seq": 2,
                "kind": "rescheduled",
                "app": "example-app",
                "addon": "redis-lively-12345",
                "attachments": ["REDIS_URL","CACHE_URL"],
                "window": "Fridays 18:00 to 22:00 UTC",
                "scheduled_for": "2023-03-17T18:00:00.000+00:00",
                "required_by": "2023-03-26T08:30:37.872+00:00",
                "created_at": "2023-03-13T00:00:00.000+00:00",
                "maintenance_uuid": "5d135c42-dc90-4f61-90eb-8e6780179fcf"
              },
              {
                "seq": 3,
                "kind": "rescheduled",
                "app": "example-app",
                "addon": "redis-lively-12345",
                "attachments": ["REDIS_URL","CACHE_URL"],
                "window": "Wednesdays 20:00 to Thursdays 00:00 UTC",
                "scheduled_for": "2023-03-15T20:00:00.000+00:00",
                "required_by": "2023-03-26T08:30:37.872+00:00",
                "created_at": "2023-03-13T00:00:00.000+00:00",
                "maintenance_uuid": "5d135c42-dc90-4f61-90eb-8e6780179fcf"
              },
              {
                "seq": 4,
                "kind": "scheduled",
                "app": "example-app",
                "addon": "redis-mini-11111",
                "attachments": ["HEROKU_REDIS_AMBER_URL"],
                "window": null,
                "scheduled_for": "2023-03-27T03:16:55.093+00:00",
                "required_by": "2023-04-02T10:00:00.000+00:00",
                "created_at": "2023-03-19T10:00:00.000+00:00",
                "maintenance_uuid": "a9479a8b-e65f-414f-8d06-fcf1a0ed60b3"
              }
            ]

            """, stderr: "", exitCode: 0))

        #expect(try sandbox.run(["notices", "--since-seq", "2", "--ndjson"]).stdout == """
            {"seq":3,"kind":"rescheduled","app":"example-app","addon":"redis-lively-12345","attachments":["REDIS_URL","CACHE_URL"],\
            "window":"Wednesdays 20:00 to Thursdays 00:00 UTC","scheduled_for":"2023-03-15T20:00:00.000+00:00","required_by":"2023-03-26T08:30:37.872+00:00",\
            "created_at":"2023-03-13T00:00:00.000+00:00","maintenance_uuid":"5d135c42-dc90-4f61-90eb-8e6780179fcf"}
            {"seq":4,"kind":"scheduled","app":"example-app","addon":"redis-mini-11111","attachments":["HEROKU_REDIS_AMBER_URL"],\
            "window":null,"scheduled_for":"2023-03-27T03:16:55.093+00:00","required_by":"2023-04-02T10:00:00.000+00:00",\
            "created_at":"2023-03-19T10:00:00.000+00:00","maintenance_uuid":"a9479a8b-e65f-414f-8d06-fcf1a0ed60b3"}

            """)
        #expect(try sandbox.run(["notices", "--since-seq", "4", "--json"]) == RunResult(stdout: "[]\n", stderr: "", exitCode: 0))
        #expect(try sandbox.run(["notices", "--since-seq", "4", "--ndjson"]) == RunResult(stdout: "", stderr: "", exitCode: 0))

        // The moved maintenance ran inside the window it was moved into, and remembers its earlier time.
        let info = try sandbox.infoJSON("redis-lively-12345")
        #expect(info["previously_scheduled_for"] as? String == "2023-03-17T18:00:00.000+00:00")
        #expect(info["scheduled_for"] as? String == "2023-03-15T20:00:00.000+00:00" && info["status"] as? String == "completed")
        let started = try #require((info["started_at"] as? String).flatMap(Timestamp.init(iso:)))
        #expect(WeeklyWindow(recordedText: "Wednesdays 20:00 to Thursdays 00:00 UTC")!.contains(started), "started \(started)")
        _ = try sandbox.expectVerifies()
    }

    @Test func noticesReadOnlyAndRefuseWhatTheyCannotRead() throws {
        let sandbox = try Self.ledger()
        let before = try sandbox.tableDump()
        #expect(try sandbox.run(["notices", "--json"]) == RunResult(stdout: "[]\n", stderr: "", exitCode: 0))
        try sandbox.expectUsageError(["notices", "--json", "--ndjson"])
        try sandbox.expectUsageError(["notices", "--since-seq", "two"])
        #expect(try sandbox.tableDump() == before)
        // A missing ledger is not created by a read.
        let empty = try LedgerSandbox()
        let result = try empty.run(["notices"])
        #expect(result.exitCode == 1 && result.stdout.isEmpty && result.stderr.hasPrefix("Error: "), "\(result)")
        #expect(try empty.folderContents().isEmpty)
    }
}

// MARK: - simulate

@Suite struct SimulateCommandTests {
    static let arguments = ["simulate", "--apps", "5", "--days", "120", "--start", "2022-01-01", "--seed", "7"]
    static let now = "2023-01-01T00:00:00Z"

    /// The summary line with its wall-clock seconds blanked.
    static func summary(_ result: RunResult) -> String {
        result.stderr.replacing(/\ in \d+\.\d s:\ /, with: " in _ s: ")
    }

    @Test func theSameSeedGivesTheSameLedgerRowForRowAndHashForHash() throws {
        let first = try LedgerSandbox(), second = try LedgerSandbox(), other = try LedgerSandbox()
        for sandbox in [first, second, other] { sandbox.now = Self.now }
        let runs = [try first.run(Self.arguments), try second.run(Self.arguments)]
        for run in runs {
            // Not a terminal: no progress bar, exactly one summary line on stderr, nothing on stdout.
            #expect(run.exitCode == 0 && run.stdout.isEmpty, "\(run)")
            #expect(run.stderr.wholeMatch(of: /Simulated [^\n]* in \d+\.\d s: [^\n]*\n/) != nil, "\(run)")
            #expect(Self.summary(run) == "Simulated 5 apps with 15 add-ons over 120 days in _ s: 23 maintenances required, 23 completed, 0 failed; "
                    + "7 customer actions (1 refused by the rules)\n")
        }
        let trail = try first.run(["audit:trail", "--json"])
        #expect(trail.exitCode == 0 && trail.stdout.count > 10_000)
        #expect(try second.run(["audit:trail", "--json"]) == trail)
        #expect(try first.tableDump() == (try second.tableDump()))
        // The simulated history passes audit:verify, and its head is the one this seed always gave.
        #expect(try first.expectVerifies() == 145)
        #expect(try first.verifiedHead() == "b0479eb634fe31c0da2d0c90f86e481891e4ebc7c5cc03c43f8f1c5a2e192609")
        #expect(try second.verifiedHead() == (try first.verifiedHead()))

        let otherRun = try other.run(["simulate", "--apps", "5", "--days", "120", "--start", "2022-01-01", "--seed", "8"])
        #expect(otherRun.exitCode == 0 && otherRun.stdout.isEmpty && otherRun.stderr.split(separator: "\n").count == 1, "\(otherRun)")
        #expect(try other.verifiedHead() != (try first.verifiedHead()))
    }

    /// The engine hands its commands the add-ons, windows, notice addressees and open
    /// maintenances it holds instead of their reading them again, and re-reads an add-on after a
    /// customer changed it. With windows moved, add-ons shared and destroyed and maintenances
    /// run early, the ledger must be the one the engine gave when every command re-read all
    /// it needed: that engine's head (commit 1f33350) for these arguments was 4784d45e…, the
    /// head here until migration 0009 recorded the five moves the customers make in
    /// maintenance_moves (the same history and rows otherwise).
    @Test func whatTheEngineHoldsRecordsWhatReReadingTheLedgerRecorded() throws {
        let sandbox = try LedgerSandbox()
        sandbox.now = Self.now
        let run = try sandbox.run(["simulate", "--apps", "80", "--days", "365", "--start", "2022-01-01", "--seed", "11"])
        #expect(Self.summary(run) == "Simulated 80 apps with 200 add-ons over 365 days in _ s: 894 maintenances required, 868 completed, "
                + "14 failed; 139 customer actions (36 refused by the rules)\n", "\(run)")
        let actions = try sandbox.rows("SELECT action, count(*) FROM audit_trail WHERE actor = 'customer' GROUP BY action ORDER BY action")
        #expect(actions.map { "\($0[0] as String) \($0[1] as Int)" } == [
            "addons:attach 12", "addons:create 200", "addons:destroy 3", "apps:create 80", "data:maintenances:run 2",
            "data:maintenances:schedule 1", "data:maintenances:window:update 51", "maintenance:off 1", "maintenance:on 1",
        ])
        #expect(try sandbox.expectVerifies() == 796)
        #expect(try sandbox.verifiedHead() == "5ad9c4ca3069d4cb7fd2c05e6f0d47961e71de502f904fa198de3c903f54f57c")
    }

    /// The simulated customers and the engine keep the rules: engine-scheduled maintenances start
    /// inside the window they record, ticks cover every day, and every actor is one of the three.
    @Test func aSimulatedFleetKeepsItsWindowsAndVerifies() throws {
        let sandbox = try LedgerSandbox()
        sandbox.now = Self.now
        let run = try sandbox.run(["simulate", "--apps", "8", "--days", "200", "--start", "2022-03-01", "--seed", "21", "--failure-rate", "0.1"])
        #expect(run.exitCode == 0 && run.stdout.isEmpty && run.stderr.split(separator: "\n").count == 1, "\(run)")
        _ = try sandbox.expectVerifies()
        let started = try sandbox.rows("""
            SELECT window, started_at, emergency, customer_requested, outside_window FROM maintenances
            WHERE started_at IS NOT NULL AND window IS NOT NULL
            """)
        #expect(started.count > 20)
        var insideChecked = 0
        for row in started where !(row["emergency"] as Bool) && !(row["customer_requested"] as Bool) && !(row["outside_window"] as Bool) {
            let window = try #require(WeeklyWindow(recordedText: row["window"]))
            #expect(window.contains(ts(row["started_at"])), "\(row)")
            insideChecked += 1
        }
        #expect(insideChecked > 10)
        #expect(try sandbox.rows("SELECT count(*) FROM engine_ticks").first?[0] as Int? == 200)
        #expect(try sandbox.rows("SELECT DISTINCT actor FROM audit_trail ORDER BY actor").map { $0[0] as String } == ["customer", "platform"])
    }
}

// MARK: - Refusals

/// Refusals of the engine's, the simulator's and the demo's inputs: exact stderr and exit code,
/// and nothing changed.
@Suite struct EngineRefusalTests {
    static let tickUsage = """
        Usage: maintledger platform:tick [--until <until>] [--seed <seed>] [--failure-rate <failure-rate>] [--db <path>]
          See 'maintledger platform:tick --help' for more information.

        """
    static let simulateUsage = """
        Usage: maintledger simulate --apps <apps> --days <days> [--start <yyyy-mm-dd>] [--seed <seed>] [--failure-rate <failure-rate>] [--db <path>]
          See 'maintledger simulate --help' for more information.

        """

    @Test func tickRefusesAnUntilThatIsNotATime() throws {
        let sandbox = try PlatformTickTests.ledger()
        for until in ["yesterday", "2023-01-32", "2023-01-10T25:00:00Z", ""] {
            try sandbox.expectRefusal(["platform:tick", "--until", until], stderr: """
                Error: The value '\(until)' is invalid for '--until <until>'
                Help:  --until <until>  Process up to this time (default: now).

                """ + Self.tickUsage, exitCode: 64)
        }
    }

    @Test func tickRefusesAnUntilInTheFuture() throws {
        let sandbox = try PlatformTickTests.ledger()
        sandbox.now = "2023-06-01T00:00:00Z"
        try sandbox.expectRefusal(["platform:tick", "--until", "2023-06-01T00:00:00.001Z"], stderr: """
            Error: --until 2023-06-01T00:00:00.001+00:00 is in the future (now is 2023-06-01T00:00:00.000+00:00)
            The engine records what has happened; tick up to now at the latest.

            """)
        // On a path with no ledger yet, the refusal leaves no file behind.
        let empty = try LedgerSandbox()
        try empty.expectRefusal(["platform:tick", "--until", "2030-01-01"], stderr: """
            Error: --until 2030-01-01T00:00:00.000+00:00 is in the future (now is 2023-01-02T10:00:00.000+00:00)
            The engine records what has happened; tick up to now at the latest.

            """)
        #expect(try empty.folderContents().isEmpty)
    }

    @Test func tickRefusesToGoIntoThePastOfTheLastTick() throws {
        let sandbox = try PlatformTickTests.ledger() // ticked to 2023-01-10T00:00
        sandbox.now = "2023-06-01T00:00:00Z"
        try sandbox.expectRefusal(["platform:tick", "--until", "2023-01-09T23:59:59.999Z"], stderr: """
            Error: the engine has already ticked to 2023-01-10T00:00:00.000+00:00; --until 2023-01-09T23:59:59.999+00:00 is in its past
            Ticks only move forward.

            """)
        // A clock set back behind the last tick: the default --until is that clock.
        try sandbox.expectRefusal(["platform:tick"], stderr: """
            Error: the engine has already ticked to 2023-01-10T00:00:00.000+00:00; --until 2023-01-05T00:00:00.000+00:00 is in its past
            Ticks only move forward.

            """, now: "2023-01-05T00:00:00Z")
    }

    @Test func tickRefusesAFailureRateOutside0To1() throws {
        let sandbox = try PlatformTickTests.ledger()
        for rate in ["2", "1.01", "-0.5", "nan"] {
            let before = try sandbox.tableDump()
            let result = try sandbox.run(["platform:tick", "--failure-rate", rate])
            #expect(result.exitCode == 64 && result.stdout.isEmpty && result.stderr.hasPrefix("Error: "), "\(rate): \(result)")
            #expect(try sandbox.tableDump() == before)
        }
        try sandbox.expectRefusal(["platform:tick", "--failure-rate", "2"],
                                  stderr: "Error: --failure-rate must lie between 0 and 1\n" + Self.tickUsage, exitCode: 64)
        try sandbox.expectUsageError(["platform:tick", "--seed", "-1"])
    }

    @Test func simulateRefusesALedgerThatAlreadyHoldsEntries() throws {
        let sandbox = try Fixture.exampleApp()
        let before = try LedgerSandbox.bytes(sandbox.dbPath)
        try sandbox.expectRefusal(["simulate", "--apps", "2", "--days", "10", "--start", "2023-01-01"], stderr: """
            Error: \(sandbox.dbPath) already holds 3 trail entries; a simulation builds a fleet from nothing
            Point --db at a new file.

            """)
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == before)
    }

    /// Ending after now: the ledger is not created. The brief expects exit 1 (a refusal, like
    /// `platform:tick --until` in the future); the binary exits 64.
    @Test func simulateRefusesARunThatWouldEndAfterNow() throws {
        let sandbox = try LedgerSandbox()
        sandbox.now = "2023-06-01T00:00:00Z"
        let result = try sandbox.run(["simulate", "--apps", "2", "--days", "10", "--start", "2023-05-25"])
        #expect(result.stdout.isEmpty && result.stderr == """
            Error: the simulation would end at 2023-06-04T00:00:00.000+00:00, after now (2023-06-01T00:00:00.000+00:00)
            Start earlier, or simulate fewer days.

            """, "\(result)")
        #expect(result.exitCode == 1)
        #expect(try sandbox.folderContents().isEmpty)
        // A run that ends exactly now is fine.
        let exact = try sandbox.run(["simulate", "--apps", "1", "--days", "7", "--start", "2023-05-25"])
        #expect(exact.exitCode == 0, "\(exact)")
    }

    @Test func simulateRefusesBadStartsAndCounts() throws {
        let sandbox = try LedgerSandbox()
        sandbox.now = "2023-06-01T00:00:00Z"
        for start in ["2023-5-25", "2023-02-30", "2023-13-01", "25/05/2023", "2023-05-25T00:00:00Z", ""] {
            try sandbox.expectRefusal(["simulate", "--apps", "2", "--days", "10", "--start", start],
                                      stderr: "Error: --start takes a date as YYYY-MM-DD\n" + Self.simulateUsage, exitCode: 64)
        }
        try sandbox.expectRefusal(["simulate", "--apps", "0", "--days", "10"], stderr: "Error: --apps must be at least 1\n" + Self.simulateUsage, exitCode: 64)
        try sandbox.expectUsageError(["simulate", "--apps", "-3", "--days", "10"])
        try sandbox.expectRefusal(["simulate", "--apps", "2", "--days", "0"], stderr: "Error: --days must be at least 1\n" + Self.simulateUsage, exitCode: 64)
        try sandbox.expectRefusal(["simulate", "--apps", "2", "--days", "10", "--failure-rate", "2"],
                                  stderr: "Error: --failure-rate must lie between 0 and 1\n" + Self.simulateUsage, exitCode: 64)
        try sandbox.expectUsageError(["simulate", "--days", "10"])
        #expect(try sandbox.folderContents().isEmpty)
    }

    @Test func demoRefusesALedgerHoldingDataThatIsNotTheDemos() throws {
        let sandbox = try Fixture.exampleApp()
        sandbox.now = "2023-06-01T00:00:00Z"
        let before = try LedgerSandbox.bytes(sandbox.dbPath)
        let contents = try sandbox.folderContents()
        let result = try sandbox.run(["demo"])
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == before, "the refused ledger changed")
        #expect(try sandbox.folderContents() == contents)
        #expect(result == RunResult(stdout: "", stderr: """
            Error: \(sandbox.dbPath) holds data that is not the demo's; the demo leaves it alone
            Run the demo on another file: `maintledger demo --db /tmp/maintledger-demo.sqlite`.

            """, exitCode: 1))
        // A tick by the platform does not make someone else's ledger the demo's.
        let ticked = try LedgerSandbox()
        ticked.now = "2023-06-01T00:00:00Z"
        try ticked.ok(["platform:tick"])
        try ticked.expectRefusal(["demo"], stderr: """
            Error: \(ticked.dbPath) holds data that is not the demo's; the demo leaves it alone
            Run the demo on another file: `maintledger demo --db /tmp/maintledger-demo.sqlite`.

            """)
        // Nor is a file that is not a ledger replaced.
        let text = Data("not a ledger\n".utf8)
        try text.write(to: URL(fileURLWithPath: sandbox.dbPath + ".txt"))
        let notALedger = try sandbox.run(["demo", "--db", sandbox.dbPath + ".txt"], useDB: false)
        #expect(notALedger.exitCode == 1 && notALedger.stdout.isEmpty && notALedger.stderr.hasPrefix("Error: "), "\(notALedger)")
        #expect(try LedgerSandbox.bytes(sandbox.dbPath + ".txt") == text)
    }
}
