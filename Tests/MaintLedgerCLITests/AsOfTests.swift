import Foundation
import GRDB
import Testing

// `--as-of TIME` on `data:maintenances:info`, `data:maintenances:history` and `history`: a ledger
// built by hand whose window moved twice and whose maintenance completed after the moments asked
// about; the simulated fleet asked as of now (must equal the plain answer) and as of hundreds of
// past moments (must equal the tables rebuilt from the audit trail's row images).

/// `example-app`'s `redis-lively-12345` (premium-0, provisioned 2023-01-02 10:00 with the window
/// Fridays 18:00, description "premium HA"):
///
///     C  2023-03-01 10:00–10:03  the customer's run (180 s)
///        2023-03-15 00:00        attached to reporting-app as CACHE_URL (detached 04-26 00:00)
///     R  2023-04-24 09:00  required by 05-03 08:54:02.518, scheduled Fri 04-28 18:00
///        2023-04-25 12:00  window → Wednesdays 20:00: R → Wed 04-26 20:00
///        2023-04-25 15:00  window → Wednesdays 19:30: R → Wed 04-26 19:30
///        2023-04-26 19:30 preparing, 19:31 ready, 19:32 running, 19:36:30.500 completed (270 s)
///
/// The clock then stands at 2023-04-27 09:00.
enum AsOfStory {
    static let now = "2023-04-27T09:00:00Z"
    static let addon = Fixture.addon
    static let fridays = "Fridays 18:00 to 22:00 UTC"
    static let wednesdays20 = "Wednesdays 20:00 to Thursdays 00:00 UTC"
    static let wednesdays1930 = "Wednesdays 19:30 to 23:30 UTC"

    static func sandbox() throws -> LedgerSandbox {
        let sandbox = try LedgerSandbox()
        try sandbox.install(built.get())
        sandbox.now = now
        return sandbox
    }

    private static let built = Result {
        let sandbox = try Fixture.exampleApp()
        let app = LedgerSandbox.exampleApp
        try sandbox.ok(["data:maintenances:run", "REDIS_URL", "--confirm", "example-app"] + app, now: "2023-03-01T10:00:00Z")
        try sandbox.ok(["platform:maintenances:complete", "REDIS_URL"] + app, now: "2023-03-01T10:03:00Z")
        try sandbox.ok(["apps:create", "reporting-app"], now: "2023-03-15T00:00:00Z")
        try sandbox.ok(["addons:attach", addon, "-a", "reporting-app", "--as", "CACHE"], now: "2023-03-15T00:00:00Z")
        try sandbox.ok(["platform:maintenances:require", "REDIS_URL", "--required-by", Fixture.requiredBy] + app, now: "2023-04-24T09:00:00Z")
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "wednesdays", "20:00"] + app, now: "2023-04-25T12:00:00Z")
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "wednesdays", "7:30PM"] + app, now: "2023-04-25T15:00:00Z")
        try sandbox.ok(["addons:detach", "CACHE", "-a", "reporting-app"], now: "2023-04-26T00:00:00Z")
        for (change, time) in [("prepare", "2023-04-26T19:30:00Z"), ("ready", "2023-04-26T19:31:00Z"), ("start", "2023-04-26T19:32:00Z"),
                               ("complete", "2023-04-26T19:36:30.500Z")] {
            try sandbox.ok(["platform:maintenances:\(change)", "REDIS_URL"] + app, now: time)
        }
        try #require(!FileManager.default.fileExists(atPath: sandbox.dbPath + "-wal"))
        return try Data(contentsOf: URL(fileURLWithPath: sandbox.dbPath))
    }
}

@Suite struct AsOfTests {
    static func parse(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not an object: \(text)")
    }

    /// The info object with these members changed (`addon_window` and `addon_attachments` reach into "addon").
    static func changing(_ object: [String: Any], _ changes: [String: Any]) -> NSDictionary {
        var object = object
        var addon = object["addon"] as? [String: Any] ?? [:]
        for (key, value) in changes {
            if key.hasPrefix("addon_") && key != "addon_description" {
                addon[String(key.dropFirst(6))] = value
            } else {
                object[key] = value
            }
        }
        object["addon"] = addon
        return object as NSDictionary
    }

    func info(_ sandbox: LedgerSandbox, asOf: String?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let result = try sandbox.run(["data:maintenances:info", AsOfStory.addon, "--json"] + (asOf.map { ["--as-of", $0] } ?? []))
        #expect(result.exitCode == 0 && result.stderr.isEmpty, "\(result)", sourceLocation: sourceLocation)
        return try Self.parse(result.stdout)
    }

    /// Before the window moved: the old window, the first schedule, pending, nothing started;
    /// the attachment to reporting-app still live. Exact text, in both shapes.
    @Test func infoAsOfBeforeTheWindowMovedIsTheAnswerOfThen() throws {
        let sandbox = try AsOfStory.sandbox()
        let current = try info(sandbox, asOf: nil)
        let (addonUUID, appUUID, uuid) = (try #require((current["addon"] as? [String: Any])?["uuid"] as? String),
                                          try #require((current["app"] as? [String: Any])?["uuid"] as? String),
                                          try #require(current["uuid"] as? String))
        for asOf in ["2023-04-25T00:00:00Z", "2023-04-25T11:59:59.999Z", "2023-04-25 13:59:59.999+02:00"] {
            #expect(try sandbox.run(["data:maintenances:info", "REDIS_URL", "--as-of", asOf, "--json"] + LedgerSandbox.exampleApp)
                    == RunResult(stdout: """
                {
                  "addon": {
                    "attachments": [
                      "REDIS_URL",
                      "CACHE_URL"
                    ],
                    "kind": "heroku-redis",
                    "name": "redis-lively-12345",
                    "plan": "premium-0",
                    "uuid": "\(addonUUID)",
                    "window": "Fridays 18:00 to 22:00 UTC"
                  },
                  "addon_description": "premium HA",
                  "app": {
                    "name": "example-app",
                    "uuid": "\(appUUID)"
                  },
                  "completed_at": null,
                  "customer_requested": false,
                  "duration_seconds": null,
                  "emergency": false,
                  "method": "failover",
                  "outside_window": false,
                  "previously_scheduled_for": null,
                  "reason": "routine_maintenance",
                  "required_by": "2023-05-03T08:54:02.518+00:00",
                  "scheduled_for": "2023-04-28T18:00:00.000+00:00",
                  "server_created_at": "2022-12-26T08:30:37.872+00:00",
                  "started_at": null,
                  "status": "pending",
                  "uuid": "\(uuid)",
                  "window": "Fridays 18:00 to 22:00 UTC"
                }

                """, stderr: "", exitCode: 0), "as of \(asOf)")
        }
        #expect(try sandbox.run(["data:maintenances:info", AsOfStory.addon, "--as-of", "2023-04-25"]) == RunResult(stdout: """
            addon_attachments: REDIS_URL, CACHE_URL
            addon_description: premium HA
            addon_kind:        heroku-redis
            addon_name:        redis-lively-12345
            addon_plan:        premium-0
            addon_window:      Fridays 18:00 to 22:00 UTC
            app_name:          example-app
            method:            failover
            reason:            routine_maintenance
            required_by:       2023-05-03T08:54:02.518+00:00
            scheduled_for:     2023-04-28T18:00:00.000+00:00
            server_created_at: 2022-12-26T08:30:37.872+00:00
            status:            pending
            window:            Fridays 18:00 to 22:00 UTC

            """, stderr: "", exitCode: 0))
    }

    /// Each moment of the story, as the info object then: windows, schedules (with the schedule
    /// before as previously_scheduled_for), status and times.
    @Test func infoFollowsTheStoryMomentByMoment() throws {
        let sandbox = try AsOfStory.sandbox()
        let current = try info(sandbox, asOf: nil)
        let null = NSNull()
        #expect(current["status"] as? String == "completed" && current["completed_at"] as? String == "2023-04-26T19:36:30.500+00:00")
        #expect(current["duration_seconds"] as? Int == 270)
        let notRun: [String: Any] = ["started_at": null, "completed_at": null, "duration_seconds": null]
        let moments: [(String, [String: Any])] = [
            // At the first move (inclusive), before the second.
            ("2023-04-25T12:00:00Z", notRun.merging([
                "status": "pending", "addon_window": AsOfStory.wednesdays20, "addon_attachments": ["REDIS_URL", "CACHE_URL"],
                "scheduled_for": "2023-04-26T20:00:00.000+00:00", "previously_scheduled_for": "2023-04-28T18:00:00.000+00:00",
                "window": AsOfStory.wednesdays20,
            ]) { $1 }),
            ("2023-04-25T14:59:59.999Z", notRun.merging([
                "status": "pending", "addon_window": AsOfStory.wednesdays20, "addon_attachments": ["REDIS_URL", "CACHE_URL"],
                "scheduled_for": "2023-04-26T20:00:00.000+00:00", "previously_scheduled_for": "2023-04-28T18:00:00.000+00:00",
                "window": AsOfStory.wednesdays20,
            ]) { $1 }),
            // After the second move: the schedule it replaced is the previous one now.
            ("2023-04-25T15:00:00Z", notRun.merging([
                "status": "pending", "addon_attachments": ["REDIS_URL", "CACHE_URL"],
                "previously_scheduled_for": "2023-04-26T20:00:00.000+00:00",
            ]) { $1 }),
            ("2023-04-26T00:00:00Z", notRun.merging(["status": "pending", "previously_scheduled_for": "2023-04-26T20:00:00.000+00:00"]) { $1 }),
            ("2023-04-26T19:30:59.999Z", notRun.merging(["status": "preparing", "previously_scheduled_for": "2023-04-26T20:00:00.000+00:00"]) { $1 }),
            ("2023-04-26T19:31:30Z", notRun.merging(["status": "ready", "previously_scheduled_for": "2023-04-26T20:00:00.000+00:00"]) { $1 }),
            ("2023-04-26T19:32:00Z", ["status": "running", "started_at": "2023-04-26T19:32:00.000+00:00", "completed_at": null,
                                      "duration_seconds": null, "previously_scheduled_for": "2023-04-26T20:00:00.000+00:00"]),
            ("2023-04-26T19:36:30.499Z", ["status": "running", "completed_at": null, "duration_seconds": null,
                                          "previously_scheduled_for": "2023-04-26T20:00:00.000+00:00"]),
            // Completed: the answer of now, from then on.
            ("2023-04-26T19:36:30.500Z", ["previously_scheduled_for": "2023-04-26T20:00:00.000+00:00"]),
            ("2023-04-27T00:00:00Z", [:]),
            (AsOfStory.now, [:]),
        ]
        for (asOf, changes) in moments {
            let expected = Self.changing(current, changes)
            let actual = try info(sandbox, asOf: asOf) as NSDictionary
            #expect(actual.isEqual(expected), "as of \(asOf): \(actual) instead of \(expected)")
        }
        // The current answer keeps the last move's previous schedule too.
        #expect(current["previously_scheduled_for"] as? String == "2023-04-26T20:00:00.000+00:00")
        #expect(current["scheduled_for"] as? String == "2023-04-26T19:30:00.000+00:00")
        #expect((current["addon"] as? [String: Any])?["window"] as? String == AsOfStory.wednesdays1930)
    }

    /// `data:maintenances:history --as-of`: the maintenances created by then, each as it stood.
    @Test func addonHistoryAsOf() throws {
        let sandbox = try AsOfStory.sandbox()
        let history = ["data:maintenances:history", AsOfStory.addon]
        #expect(try sandbox.run(history + ["--as-of", "2023-04-25T00:00:00Z"]) == RunResult(stdout: """
             Scheduled for             Started at                Completed at              Duration (seconds) Reason              Status    Window
             ───────────────────────── ───────────────────────── ───────────────────────── ────────────────── ─────────────────── ───────── ──────────────────────────
             2023-04-28 18:00:00 +0000 -                         -                         -                  routine_maintenance pending   Fridays 18:00 to 22:00 UTC
             2023-03-01 10:00:00 +0000 2023-03-01 10:00:00 +0000 2023-03-01 10:03:00 +0000 180                customer_request    completed Fridays 18:00 to 22:00 UTC

            """, stderr: "", exitCode: 0))
        #expect(try sandbox.run(history + ["--as-of", "2023-03-01T10:01:00Z", "--csv"]) == RunResult(stdout: """
            Scheduled for,Started at,Completed at,Duration (seconds),Reason,Status,Window\r
            2023-03-01T10:00:00.000+00:00,2023-03-01T10:00:00.000+00:00,,,customer_request,running,Fridays 18:00 to 22:00 UTC\r

            """, stderr: "", exitCode: 0))
        // Before any maintenance: none, in every format.
        #expect(try sandbox.run(history + ["--as-of", "2023-02-01"])
                == RunResult(stdout: "", stderr: "redis-lively-12345 does not have any maintenance history\n", exitCode: 0))
        #expect(try sandbox.run(history + ["--as-of", "2023-02-01", "--json"]) == RunResult(stdout: "[]\n", stderr: "", exitCode: 0))
        #expect(try sandbox.run(history + ["--as-of", "2023-03-01T09:59:59.999Z", "--ndjson"]) == RunResult(stdout: "", stderr: "", exitCode: 0))
        // Each element is the info object of its maintenance as of the same moment.
        for asOf in ["2023-04-25T13:00:00Z", "2023-04-26T19:33:00Z", AsOfStory.now] {
            let list = try HistoryProbe.json(try sandbox.ok(history + ["--as-of", asOf, "--json"]).stdout)
            #expect(list.count == 2)
            let first = try #require(list.first) as NSDictionary, single = try info(sandbox, asOf: asOf) as NSDictionary
            #expect(first.isEqual(single), "as of \(asOf): \(first) instead of \(single)")
            #expect(list.last?["status"] as? String == "completed" && list.last?["reason"] as? String == "customer_request")
        }
        // Now: the same as without --as-of.
        #expect(try sandbox.run(history + ["--all", "--json", "--as-of", AsOfStory.now]) == (try sandbox.run(history + ["--all", "--json"])))
        #expect(try sandbox.run(history + ["-n", "1", "--as-of", "2023-04-25"]).stdout.split(separator: "\n").count == 3)
    }

    /// `history --as-of`: filters apply to the maintenances as they stood then.
    @Test func fleetHistoryAsOf() throws {
        let sandbox = try AsOfStory.sandbox()
        let r = try #require(try info(sandbox, asOf: nil)["uuid"] as? String)
        let c = try #require(try HistoryProbe.strings(sandbox, "SELECT uuid FROM maintenances WHERE reason = 'customer_request'").first)
        let early = "2023-04-25T00:00:00Z"
        #expect(try HistoryProbe.uuids(sandbox, ["--as-of", early]) == [r, c])
        #expect(try HistoryProbe.uuids(sandbox, ["--as-of", early, "--status", "pending"]) == [r])
        #expect(try HistoryProbe.uuids(sandbox, ["--status", "pending"]).isEmpty)
        #expect(try HistoryProbe.uuids(sandbox, ["--as-of", "2023-04-26T19:31:30Z", "--status", "ready"]) == [r])
        #expect(try HistoryProbe.uuids(sandbox, ["--as-of", early, "--status", "completed"]) == [c])
        #expect(try HistoryProbe.uuids(sandbox, ["--as-of", "2023-03-01T10:02:00Z", "--status", "running"]) == [c])
        #expect(try HistoryProbe.uuids(sandbox, ["--as-of", "2023-02-28"]).isEmpty)
        // The old schedule is what --since/--until see then.
        #expect(try HistoryProbe.uuids(sandbox, ["--as-of", early, "--since", "2023-04-28T18:00:00Z"]) == [r])
        #expect(try HistoryProbe.uuids(sandbox, ["--since", "2023-04-28T18:00:00Z"]).isEmpty)
        #expect(try HistoryProbe.uuids(sandbox, ["--as-of", "2023-04-26T19:35:00Z", "--time", "completed", "--since", "2023-04-01"]).isEmpty)
        #expect(try HistoryProbe.uuids(sandbox, ["--time", "completed", "--since", "2023-04-01"]) == [r])
        #expect(try HistoryProbe.uuids(sandbox, ["--as-of", "2023-04-26T19:35:00Z", "--time", "started", "--since", "2023-04-01"]) == [r])
        // --overdue is measured at the moment asked about: R was late at no moment.
        #expect(try HistoryProbe.uuids(sandbox, ["--as-of", early, "--overdue", "--reason", "routine_maintenance"]).isEmpty)
        // --app and --addon see the moment's attachments resolve as now; the objects are those of then.
        let objects = try HistoryProbe.ndjson(try sandbox.ok(["history", "--ndjson", "--addon", "REDIS", "-a", "example-app", "--as-of", early]).stdout)
        let list = try HistoryProbe.json(try sandbox.ok(["data:maintenances:history", AsOfStory.addon, "--json", "--as-of", early]).stdout)
        #expect((objects as NSArray).isEqual(to: list))
        #expect(objects.first?["scheduled_for"] as? String == "2023-04-28T18:00:00.000+00:00")
        #expect(try HistoryProbe.uuids(sandbox, ["--app", "reporting-app", "--as-of", early]) == [r, c])
    }

    // MARK: refusals

    @Test func asOfBeforeTheAddonExistedIsNotFound() throws {
        let sandbox = try AsOfStory.sandbox()
        let refusal = """
            Error: redis-lively-12345 was not provisioned until 2023-01-02T10:00:00.000+00:00
            Ask --as-of a later time.

            """
        for asOf in ["2023-01-02T09:59:59.999Z", "2022-06-01", "1970-01-01T00:00:00Z"] {
            try sandbox.expectRefusal(["data:maintenances:info", AsOfStory.addon, "--as-of", asOf], stderr: refusal)
            try sandbox.expectRefusal(["data:maintenances:info", "REDIS_URL", "-a", "example-app", "--as-of", asOf, "--json"], stderr: refusal)
            try sandbox.expectRefusal(["data:maintenances:history", AsOfStory.addon, "--as-of", asOf], stderr: refusal)
            try sandbox.expectRefusal(["data:maintenances:history", "REDIS", "-a", "example-app", "--as-of", asOf, "--all", "--csv"], stderr: refusal)
        }
        // From the moment it was provisioned: there, with no maintenance yet.
        let first = try info(sandbox, asOf: "2023-01-02T10:00:00Z")
        #expect(first["status"] as? String == "none" && first["uuid"] is NSNull)
        #expect((first["addon"] as? [String: Any])?["window"] as? String == AsOfStory.fridays)
        #expect((first["addon"] as? [String: Any])?["attachments"] as? [String] == ["REDIS_URL"])
    }

    @Test func asOfInTheFutureIsRefused() throws {
        let sandbox = try AsOfStory.sandbox()
        let refusal = """
            Error: --as-of 2023-04-27T09:00:00.001+00:00 is in the future (now is 2023-04-27T09:00:00.000+00:00)
            --as-of asks what the ledger held at a past moment.

            """
        for command in [["data:maintenances:info", AsOfStory.addon], ["data:maintenances:info", AsOfStory.addon, "--json"],
                        ["data:maintenances:history", AsOfStory.addon], ["data:maintenances:history", AsOfStory.addon, "--json"],
                        ["history"], ["history", "--ndjson"], ["history", "--addon", AsOfStory.addon, "--csv"]] {
            try sandbox.expectRefusal(command + ["--as-of", "2023-04-27T09:00:00.001Z"], stderr: refusal)
            try sandbox.expectRefusal(command + ["--as-of", "2023-04-27T11:00:00.001+02:00"], stderr: refusal)
        }
        try sandbox.expectRefusal(["history", "--as-of", "2030-01-01"], stderr: """
            Error: --as-of 2030-01-01T00:00:00.000+00:00 is in the future (now is 2023-04-27T09:00:00.000+00:00)
            --as-of asks what the ledger held at a past moment.

            """)
    }

    @Test func asOfThatIsNotATimeIsAUsageError() throws {
        let sandbox = try AsOfStory.sandbox()
        let bytes = try LedgerSandbox.bytes(sandbox.dbPath)
        for command in [["data:maintenances:info", AsOfStory.addon], ["data:maintenances:history", AsOfStory.addon], ["history"]] {
            for asOf in ["yesterday", "2023-02-30", "2023-04-25T25:00:00Z", ""] {
                try sandbox.expectUsageError(command + ["--as-of", asOf])
                let result = try sandbox.run(command + ["--as-of", asOf])
                #expect(result.stderr.hasPrefix("""
                    Error: The value '\(asOf)' is invalid for '--as-of <time>'
                    Help:  --as-of <time>  Answer as the ledger would have at this past time (ISO 8601).

                    """), "\(result)")
            }
            try sandbox.expectUsageError(command + ["--as-of"])
        }
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == bytes)
    }

    // MARK: the simulated fleet

    /// As of now, every question has the plain answer, byte for byte: for every add-on of the
    /// fleet (destroyed ones too), its info in both shapes and its whole history, and the fleet's.
    @Test(arguments: HistoryFleet.Variant.allCases)
    func asOfNowGivesThePlainAnswerForEveryAddon(variant: HistoryFleet.Variant) throws {
        let sandbox = try HistoryFleet.sandbox(variant)
        let addons = try HistoryProbe.strings(sandbox, "SELECT name FROM addons ORDER BY id")
        #expect(addons.count == (variant == .simulated ? 15 : 19))
        for spelling in [HistoryFleet.now, "2023-01-01 01:00:00 +0100"] {
            let asOf = ["--as-of", spelling]
            for addon in addons where spelling == HistoryFleet.now {
                for command in [["data:maintenances:info", addon, "--json"], ["data:maintenances:info", addon],
                                ["data:maintenances:history", addon, "--all", "--json"], ["data:maintenances:history", addon, "--all", "--csv"]] {
                    let plain = try sandbox.ok(command)
                    #expect(try sandbox.run(command + asOf) == plain, "\(command) as of \(spelling)")
                }
            }
            for command in [["history", "--ndjson"], ["history", "--csv", "--order", "asc", "--time", "started"], ["history", "--overdue", "--json"]] {
                let plain = try sandbox.ok(command)
                #expect(try sandbox.run(command + asOf) == plain, "\(command) as of \(spelling)")
            }
        }
    }

    /// The strong check of the rebuild: at many past moments, `history --ndjson --as-of` lists
    /// exactly the maintenances the audit trail's row images say existed then, each with the
    /// status, schedule, window, times and flags of its newest image by then, and its add-on's
    /// window and attachments as their images say. (The trail records every row a command wrote,
    /// whole, with the time it was recorded; the rebuild reads none of it.)
    @Test func asOfPastMomentsMatchesTheTrailsRowImages() throws {
        let sandbox = try HistoryFleet.sandbox()
        let replay = try TrailReplay(sandbox)
        // Every moment something was recorded, and the millisecond before, sampled; the moments
        // of the hand-recorded part all. Moments while an entry's rows already hold times its
        // recording comes after are left out (the trail holds them from the recording only):
        // backfills recorded with --at, and the engine's ticks, one entry for every step since
        // the tick before.
        let times = replay.recordedTimes
        var moments: [String] = []
        for (index, time) in times.enumerated() where index % 2 == 0 || time >= HistoryFleet.handRecordedFrom {
            moments += [time, TrailReplay.millisecondBefore(time)].filter(replay.isSettled)
        }
        moments += ["2022-01-01T00:00:00.000Z", "2022-03-15T12:00:00.000Z", "2022-07-04T00:00:00.000Z"].filter(replay.isSettled)
        #expect(moments.count > 80)
        var compared = 0
        for moment in moments {
            let expected = replay.maintenances(at: moment)
            let result = try sandbox.run(["history", "--ndjson", "--as-of", moment])
            #expect(result.exitCode == 0 && result.stderr.isEmpty, "\(result)")
            let actual = try HistoryProbe.ndjson(result.stdout).map(TrailReplay.summary)
            #expect(actual == expected, "as of \(moment): \(Self.firstDifference(actual, expected))")
            compared += expected.count
        }
        #expect(compared > 2000)
    }

    static func firstDifference(_ actual: [String], _ expected: [String]) -> String {
        guard let index = zip(actual, expected).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset else {
            return "\(actual.count) listed, \(expected.count) expected"
        }
        return "listed\n  \(actual[index])\nexpected\n  \(expected[index])"
    }

    // MARK: what the rebuild gets wrong

    /// A maintenance recorded after the fact (`--at`): as of a moment after its --at time the
    /// info shows it, started and completed, but with no schedule and no window, because the
    /// schedule is rebuilt from notices, which carry the time of recording, not the --at time.
    @Test
    func aBackfilledMaintenanceHasItsScheduleAsOfAfterItsAtTime() throws {
        let (sandbox, uuids) = try SmallHistory.build()
        // Emergency required Wed 2023-04-26 09:30 with --at (recorded 10:00), ran 09:35–09:40.
        let result = try sandbox.ok(["data:maintenances:info", Fixture.addon, "--json", "--as-of", "2023-04-26T09:45:00Z"])
        let object = try Self.parse(result.stdout)
        #expect(object["uuid"] as? String == uuids[1])
        #expect(object["status"] as? String == "completed")
        #expect(object["scheduled_for"] as? String == "2023-04-26T09:30:00.000+00:00")
        #expect(object["window"] as? String == AsOfStory.fridays)
        #expect(object["emergency"] as? Bool == true)
        #expect(object["outside_window"] as? Bool == true)
        #expect(try HistoryProbe.uuids(sandbox, ["--as-of", "2023-04-26T09:45:00Z", "--since", "2023-04-26T09:00:00Z"]) == [uuids[1]])
    }

    /// The add-on's server as of a moment before a replacement server was recorded is the old one.
    @Test func theServerAsOfBeforeItsReplacementIsTheOldOne() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", Fixture.requiredBy])
        try sandbox.ok(["platform:maintenances:start", Fixture.addon], now: "2023-04-28T18:01:00Z")
        try sandbox.ok(["platform:maintenances:complete", Fixture.addon, "--server-created-at", "2023-04-28T18:02:00Z"], now: "2023-04-28T18:04:00Z")
        sandbox.now = "2023-05-01T00:00:00Z"
        let before = try Self.parse(try sandbox.ok(["data:maintenances:info", Fixture.addon, "--json", "--as-of", "2023-04-01"]).stdout)
        #expect(before["status"] as? String == "none")
        #expect(before["server_created_at"] as? String == "2022-12-26T08:30:37.872+00:00")
    }

    /// A maintenance scheduled outside its window and later moved into a new one was outside
    /// its window until the move.
    @Test func outsideWindowAsOfBeforeARescheduleIsTheFlagOfThen() throws {
        let sandbox = try Fixture.exampleApp() // Monday 2023-04-24 09:00, window Fridays 18:00
        try sandbox.ok(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", "2023-04-26T12:00:00Z"])
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "tuesdays", "20:00", "-a", "example-app"], now: "2023-04-24T10:00:00Z")
        sandbox.now = "2023-04-24T11:00:00Z"
        let now = try Self.parse(try sandbox.ok(["data:maintenances:info", Fixture.addon, "--json"]).stdout)
        #expect(now["scheduled_for"] as? String == "2023-04-25T20:00:00.000+00:00" && now["outside_window"] as? Bool == false)
        let then = try Self.parse(try sandbox.ok(["data:maintenances:info", Fixture.addon, "--json", "--as-of", "2023-04-24T09:30:00Z"]).stdout)
        #expect(then["scheduled_for"] as? String == "2023-04-26T08:00:00.000+00:00")
        #expect(then["window"] as? String == AsOfStory.fridays)
        #expect(then["outside_window"] as? Bool == true)
    }
}

/// The ledger's maintenances, windows and attachments at any moment, rebuilt from nothing but
/// the audit trail as `audit:trail` lists it: every entry up to the moment, applied in order, an
/// insert's row replacing the row it names, an update's columns changing it.
struct TrailReplay {
    struct Entry {
        let recordedAt: String
        let changes: [(table: String, op: String, row: [String: Any])]
    }

    let entries: [Entry]
    /// From the earliest time an entry's rows carry to its recording, for entries whose rows carry
    /// earlier times than their recording (--at, or a tick's steps).
    let unsettled: [(from: String, to: String)]

    init(_ sandbox: LedgerSandbox) throws {
        var unsettled: [(from: String, to: String)] = []
        entries = try sandbox.trailEntries().map { entry in
            let payload = try #require(entry["payload"] as? [String: Any])
            let changes = try #require(payload["changes"] as? [[String: Any]]).map { change in
                (table: change["table"] as? String ?? "", op: change["op"] as? String ?? "", row: change["row"] as? [String: Any] ?? [:])
            }
            let recordedAt = try #require(entry["recorded_at"] as? String)
            let times = changes.flatMap { change in
                ["changed_at", "created_at", "set_at", "attached_at", "provisioned_at", "started_at", "completed_at"].compactMap { change.row[$0] as? String }
            }
            if let earliest = times.min(), earliest < recordedAt { unsettled.append((earliest, recordedAt)) }
            return Entry(recordedAt: recordedAt, changes: changes)
        }
        self.unsettled = unsettled
    }

    var recordedTimes: [String] { Array(Set(entries.map(\.recordedAt))).sorted() }

    func isSettled(_ moment: String) -> Bool { !unsettled.contains { $0.from <= moment && moment < $0.to } }

    /// `2022-03-01T00:00:00.000Z` → `2022-02-28T23:59:59.999Z` (whole seconds through Foundation, exact).
    static func millisecondBefore(_ time: String) -> String {
        let millis = Int(time.dropFirst(20).prefix(3))!
        if millis > 0 { return String(time.prefix(20)) + String(String(millis - 1 + 1000).dropFirst()) + "Z" }
        let formatter = ISO8601DateFormatter()
        let second = formatter.date(from: String(time.prefix(19)) + "Z")!.addingTimeInterval(-1)
        return String(formatter.string(from: second).dropLast()) + ".999Z"
    }

    /// Each maintenance created by `moment`, newest scheduled first (as `history` orders them),
    /// summarized as `summary` does the binary's objects.
    func maintenances(at moment: String) -> [String] {
        var maintenances: [Int: [String: Any]] = [:], windows: [Int: [String: Any]] = [:], attachments: [Int: [String: Any]] = [:]
        for entry in entries where entry.recordedAt <= moment {
            for change in entry.changes {
                guard let id = change.row["id"] as? Int else { continue }
                func apply(_ rows: inout [Int: [String: Any]]) {
                    if change.op == "insert" { rows[id] = change.row } else { rows[id, default: [:]].merge(change.row) { $1 } }
                }
                switch change.table {
                case "maintenances": apply(&maintenances)
                case "windows": apply(&windows)
                case "attachments": apply(&attachments)
                default: break
                }
            }
        }
        let ordered = maintenances.values.sorted { a, b in
            let (ta, tb) = (a["scheduled_for"] as? String ?? "", b["scheduled_for"] as? String ?? "")
            return ta != tb ? ta > tb : (a["id"] as? Int ?? 0) > (b["id"] as? Int ?? 0)
        }
        return ordered.map { row in
            let addonID = row["addon_id"] as? Int
            let window = windows.filter { $0.value["addon_id"] as? Int == addonID }.max { $0.key < $1.key }?.value
            let live = attachments.filter { $0.value["addon_id"] as? Int == addonID && $0.value["detached_at"] is NSNull }
                .sorted { $0.key < $1.key }.map { $0.value["name"] as? String ?? "?" }
            func time(_ key: String) -> String {
                guard let text = row[key] as? String else { return "-" }
                return String(text.dropLast()) + "+00:00"
            }
            func flag(_ key: String) -> Bool { row[key] as? Int == 1 }
            return Self.line(uuid: row["uuid"] as? String ?? "?", status: row["status"] as? String ?? "?", times: [
                time("required_by"), time("scheduled_for"), time("previously_scheduled_for"), time("started_at"), time("completed_at"),
            ], duration: (row["duration_seconds"] as? Int).map(String.init) ?? "-", window: row["window"] as? String ?? "-",
               flags: [flag("outside_window"), flag("emergency"), flag("customer_requested")],
               addonWindow: window.map { Self.windowText(day: $0["day_of_week"] as? Int ?? 0, minute: $0["start_minute"] as? Int ?? 0) } ?? "-",
               attachments: live)
        }
    }

    /// The same summary of one of the binary's maintenance objects.
    static func summary(_ object: [String: Any]) -> String {
        let addon = object["addon"] as? [String: Any] ?? [:]
        func text(_ value: Any?) -> String { value as? String ?? "-" }
        return line(uuid: text(object["uuid"]), status: text(object["status"]), times: [
            text(object["required_by"]), text(object["scheduled_for"]), text(object["previously_scheduled_for"]),
            text(object["started_at"]), text(object["completed_at"]),
        ], duration: (object["duration_seconds"] as? Int).map(String.init) ?? "-", window: text(object["window"]),
           flags: [object["outside_window"] as? Bool ?? false, object["emergency"] as? Bool ?? false, object["customer_requested"] as? Bool ?? false],
           addonWindow: text(addon["window"]), attachments: addon["attachments"] as? [String] ?? ["?"])
    }

    private static func line(uuid: String, status: String, times: [String], duration: String, window: String, flags: [Bool],
                             addonWindow: String, attachments: [String]) -> String {
        ([uuid, status] + times + [duration, window] + flags.map { $0 ? "1" : "0" } + [addonWindow, attachments.joined(separator: ",")])
            .joined(separator: " | ")
    }

    /// A window's text, worked out here: `Wednesdays 23:00 to Thursdays 03:00 UTC`.
    static func windowText(day: Int, minute: Int) -> String {
        let days = ["Sundays", "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays"]
        let end = minute + 240
        func two(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
        func clock(_ minutes: Int) -> String { two(minutes / 60 % 24) + ":" + two(minutes % 60) }
        return "\(days[day]) \(clock(minute)) to " + (end >= 1440 ? "\(days[(day + 1) % 7]) " : "") + "\(clock(end)) UTC"
    }
}
