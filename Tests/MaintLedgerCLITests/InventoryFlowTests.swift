import Foundation
import Testing

/// The inventory commands succeeding: defaults at provisioning, attachments, listings and
/// app maintenance mode.
@Suite struct InventoryFlowTests {
    static let app = LedgerSandbox.exampleApp

    /// Creates an add-on with MAINTLEDGER_SEED set; returns "Created NAME as ATTACHMENT".
    @discardableResult
    static func createSeeded(_ sandbox: LedgerSandbox, _ servicePlan: String, seed: String, app: String = "example-app") throws -> String {
        try sandbox.ok(["addons:create", servicePlan, "-a", app], environment: ["MAINTLEDGER_SEED": seed]).stdout
    }

    static func window(of addon: String, in sandbox: LedgerSandbox) throws -> String? {
        let json = try JSONSerialization.jsonObject(with: Data(try sandbox.ok(["addons", "--json", "--all"]).stdout.utf8)) as? [[String: Any]]
        return json?.first { $0["name"] as? String == addon }?["window"] as? String
    }

    /// The documentation's default: a random start Monday–Friday between 18:00 and 23:00 UTC,
    /// on :00 or :30, four hours long.
    @Test func aNewPremiumAddonGetsAWeekdayEveningDefaultWindow() throws {
        let sandbox = try LedgerSandbox()
        try sandbox.ok(["apps:create", "example-app"])
        for seed in 1...10 {
            try Self.createSeeded(sandbox, "heroku-redis:premium-0", seed: String(seed))
        }
        let addons = try #require(try JSONSerialization.jsonObject(with: Data(try sandbox.ok(["addons", "--json"]).stdout.utf8)) as? [[String: Any]])
        let windows = addons.compactMap { $0["window"] as? String }
        #expect(windows.count == 10)
        let pattern = /(?:Mondays|Tuesdays|Wednesdays|Thursdays|Fridays) ((?:18|19|20|21|22):(?:00|30)|23:00) to (?:[A-Z][a-z]+ )?(\d\d:\d\d) UTC/
        for window in windows {
            let match = try #require(try pattern.wholeMatch(in: window), "\(window)")
            let (start, end) = (match.1.split(separator: ":"), match.2.split(separator: ":"))
            #expect((Int(start[0])! + 4) % 24 == Int(end[0])! && start[1] == end[1], "not four hours: \(window)")
        }
        #expect(Set(windows).count > 1, "ten add-ons all got the same window: \(windows)")
    }

    @Test func theSeedMakesNamesAndWindowsReproducible() throws {
        func provision() throws -> (String, String?) {
            let sandbox = try LedgerSandbox()
            try sandbox.ok(["apps:create", "example-app"])
            let created = try Self.createSeeded(sandbox, "heroku-redis:premium-0", seed: "2023")
            let name = String(try #require(try /Created (redis-[a-z]+-[0-9]{5}) as REDIS_URL\n/.wholeMatch(in: created)).1)
            return (name, try Self.window(of: name, in: sandbox))
        }
        let first = try provision(), second = try provision()
        #expect(first.0 == second.0)
        #expect(first.1 == second.1 && first.1 != nil)
    }

    @Test func plansWithoutWindowsGetNoDefaultWindow() throws {
        let sandbox = try Fixture.withPlansWithoutWindows()
        for addon in Fixture.addonsWithoutWindows {
            #expect(try Self.window(of: addon, in: sandbox) == nil)
        }
        let standard = try Self.createSeeded(sandbox, "heroku-postgresql:standard-0", seed: "5")
        let name = String(try #require(try /Created (postgresql-[a-z]+-[0-9]{5}) as \S+\n/.wholeMatch(in: standard)).1)
        #expect(try Self.window(of: name, in: sandbox) != nil, "Postgres Standard has windows")
    }

    @Test func defaultAttachmentsAreNamedByServiceThenColored() throws {
        let sandbox = try LedgerSandbox()
        try sandbox.ok(["apps:create", "example-app"])
        let expectations: [(String, String)] = [
            ("heroku-redis:premium-0", "REDIS_URL"), ("heroku-redis:mini", "HEROKU_REDIS_AMBER_URL"),
            ("heroku-redis:private-7", "HEROKU_REDIS_AQUA_URL"), ("heroku-postgresql:standard-0", "DATABASE_URL"),
            ("heroku-postgresql:essential-0", "HEROKU_POSTGRESQL_AMBER_URL"), ("heroku-kafka:basic-0", "KAFKA_URL"),
            ("heroku-kafka:standard-0", "HEROKU_KAFKA_AMBER_URL"),
        ]
        for (servicePlan, attachment) in expectations {
            let result = try sandbox.run(["addons:create", servicePlan, "-a", "example-app"])
            #expect(result.exitCode == 0 && result.stderr == "Creating \(servicePlan) on ⬢ example-app... done\n", "\(result)")
            #expect(result.stdout.hasSuffix(" as \(attachment)\n"), "\(servicePlan): \(result)")
        }
        try sandbox.expectVerifies()
    }

    @Test func generatedNamesFollowTheService() throws {
        let sandbox = try LedgerSandbox()
        try sandbox.ok(["apps:create", "example-app"])
        for (servicePlan, prefix) in [("heroku-redis:premium-0", "redis"), ("heroku-postgresql:standard-0", "postgresql"), ("heroku-kafka:basic-0", "kafka")] {
            let stdout = try sandbox.ok(["addons:create", servicePlan, "-a", "example-app"]).stdout
            #expect(try Regex("Created \(prefix)-[a-z]+-[0-9]{5} as [A-Z_]+\n").wholeMatch(in: stdout) != nil, "\(stdout)")
        }
    }

    @Test func attachDetachAndDestroyKeepHistory() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.ok(["apps:create", "other-app"])
        #expect(try sandbox.run(["addons:attach", "redis-lively-12345", "-a", "other-app"])
                == RunResult(stdout: "Attached redis-lively-12345 as REDIS_URL\n", stderr: "Attaching redis-lively-12345 to ⬢ other-app... done\n", exitCode: 0))
        #expect(try sandbox.run(["addons:attach", "redis-lively-12345", "-a", "other-app", "--as", "cache"])
                == RunResult(stdout: "Attached redis-lively-12345 as CACHE_URL\n", stderr: "Attaching redis-lively-12345 to ⬢ other-app... done\n", exitCode: 0))
        // Through other-app, its attachment names the same add-on.
        #expect(try sandbox.infoJSON("redis-lively-12345")["status"] as? String == "pending")
        #expect(try sandbox.run(["data:maintenances:info", "CACHE", "-a", "other-app"]).stdout.contains("addon_attachments: REDIS_URL, REDIS_URL, CACHE_URL\n"))
        #expect(try sandbox.run(["addons:detach", "CACHE_URL", "-a", "other-app"])
                == RunResult(stdout: "", stderr: "Detaching CACHE_URL of redis-lively-12345 from ⬢ other-app... done\n", exitCode: 0))
        #expect(try sandbox.run(["addons", "-a", "other-app", "--csv"]).stdout == """
            Add-on,Plan,Owning app,Attachments,Window,State\r
            redis-lively-12345,heroku-redis:premium-0,example-app,"example-app::REDIS_URL, other-app::REDIS_URL",Fridays 18:00 to 22:00 UTC,provisioned\r

            """)
        #expect(try sandbox.run(["addons:destroy", "REDIS_URL", "-a", "example-app", "--confirm", "example-app"], now: "2023-04-25T10:00:00Z")
                == RunResult(stdout: "", stderr: "Destroying redis-lively-12345 on ⬢ example-app... done\n", exitCode: 0))
        // Destroying cancels the pending maintenance; the history stays readable.
        #expect(try sandbox.run(["data:maintenances:history", "redis-lively-12345", "--csv"]).stdout == """
            Scheduled for,Started at,Completed at,Duration (seconds),Reason,Status,Window\r
            2023-04-28T18:00:00.000+00:00,,,,routine_maintenance,cancelled,Fridays 18:00 to 22:00 UTC\r

            """)
        #expect(try sandbox.run(["addons"]) == RunResult(stdout: "", stderr: "No add-ons\n", exitCode: 0))
        #expect(try sandbox.run(["addons", "-a", "other-app"]) == RunResult(stdout: "", stderr: "No add-ons on other-app\n", exitCode: 0))
        #expect(try sandbox.run(["data:maintenances", "-a", "example-app"]).stderr == "No maintenances found for app example-app\n")
        let all = try #require(try JSONSerialization.jsonObject(with: Data(try sandbox.run(["addons", "--all", "--json"]).stdout.utf8)) as? [[String: Any]])
        #expect(all.count == 1)
        #expect(all.first?["state"] as? String == "deprovisioned")
        #expect(all.first?["deprovisioned_at"] as? String == "2023-04-25T10:00:00.000+00:00")
        #expect((all.first?["attachments"] as? [String]) == [])
        try sandbox.expectVerifies()
    }

    @Test func addonsListsOwnedAndAttachedAddons() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["apps:create", "other-app"])
        try sandbox.ok(["addons:attach", "redis-lively-12345", "-a", "other-app", "--as", "CACHE"])
        try sandbox.ok(["addons:create", "heroku-redis:mini", "-a", "example-app", "--name", "redis-mini-11111"])
        let table = """
             Add-on             Plan                   Owning app  Attachments                                  Window                     State
             ────────────────── ────────────────────── ─────────── ──────────────────────────────────────────── ────────────────────────── ───────────
             redis-lively-12345 heroku-redis:premium-0 example-app example-app::REDIS_URL, other-app::CACHE_URL Fridays 18:00 to 22:00 UTC provisioned
             redis-mini-11111   heroku-redis:mini      example-app example-app::HEROKU_REDIS_AMBER_URL          -                          provisioned

            """
        #expect(try sandbox.run(["addons"]) == RunResult(stdout: table, stderr: "", exitCode: 0))
        #expect(try sandbox.run(["addons", "-a", "example-app"]).stdout == table)
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(try sandbox.run(["addons", "-a", "other-app"]).stdout == lines[0...2].joined(separator: "\n") + "\n")
    }

    @Test func maintenanceModeTogglesAndRecordsOnlyRealChanges() throws {
        let sandbox = try Fixture.exampleApp()
        let entries = try sandbox.expectVerifies()
        #expect(try sandbox.run(["maintenance"] + Self.app) == RunResult(stdout: "off\n", stderr: "", exitCode: 0))
        try sandbox.ok(["maintenance:on"] + Self.app)
        try sandbox.ok(["maintenance:on"] + Self.app)
        #expect(try sandbox.run(["maintenance"] + Self.app) == RunResult(stdout: "on\n", stderr: "", exitCode: 0))
        #expect(try sandbox.expectVerifies() == entries + 1, "turning it on twice records one change")
        try sandbox.ok(["maintenance:off"] + Self.app)
        #expect(try sandbox.run(["maintenance"] + Self.app).stdout == "off\n")
        #expect(try sandbox.expectVerifies() == entries + 2)
    }
}
