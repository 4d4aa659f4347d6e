import Testing

/// The seed's example, end to end through the binary.
@Suite struct SeedScenarioTests {
    static let seedInfoBlock = """
        addon_attachments:    REDIS_URL
        addon_description:    premium HA
        addon_kind:           heroku-redis
        addon_name:           redis-lively-12345
        addon_plan:           premium-0
        addon_window:         Fridays 18:00 to 22:00 UTC
        app_name:             example-app
        completed_at:         2023-04-28T18:04:21.141+00:00
        duration_approximate: ~ 3 minutes
        duration_seconds:     186
        method:               failover
        reason:               routine_maintenance
        required_by:          2023-05-03T08:54:02.518+00:00
        scheduled_for:        2023-04-28T18:00:00.000+00:00
        server_created_at:    2022-12-26T08:30:37.872+00:00
        started_at:           2023-04-28T18:01:14.191+00:00
        status:               completed
        window:               Fridays 18:00 to 22:00 UTC

        """

    /// Builds the seed's add-on and maintenance; returns the sandbox.
    static func seedLedger() throws -> LedgerSandbox {
        let sandbox = try LedgerSandbox()
        sandbox.now = "2022-12-26T08:30:37.872Z"
        // Seeded: unseeded, the add-on's random default window was Fridays 18:00 one time in
        // 55, the window update then recorded nothing, and the ledger had 5 entries, not 6.
        sandbox.seed = 1
        try #require(sandbox.run("apps:create", "example-app").exitCode == 0)
        let created = try sandbox.run(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--name", "redis-lively-12345",
                                       "--description", "premium HA", "--server-created-at", "2022-12-26T08:30:37.872Z"])
        #expect(created == RunResult(stdout: "Created redis-lively-12345 as REDIS_URL\n",
                                     stderr: "Creating heroku-redis:premium-0 on ⬢ example-app... done\n", exitCode: 0))
        let window = try sandbox.run(["data:maintenances:window:update", "REDIS_URL", "Fridays", "6:00PM", "-a", "example-app", "--json"],
                                     now: "2023-01-02T10:00:00Z")
        #expect(window.exitCode == 0 && window.stdout.contains(#""window": "Fridays 18:00 to 22:00 UTC""#), "\(window)")
        let required = try sandbox.run(["platform:maintenances:require", "REDIS_URL", "-a", "example-app",
                                        "--required-by", "2023-05-03T08:54:02.518Z"], now: "2023-04-24T09:00:00Z")
        #expect(required.exitCode == 0 && required.stdout.count == 37, "\(required)")
        #expect(required.stderr == "Requiring maintenance of redis-lively-12345 by 2023-05-03 08:54:02 +0000... done, scheduled for 2023-04-28 18:00:00 +0000\n")
        #expect(try sandbox.run(["platform:maintenances:start", "redis-lively-12345"], now: "2023-04-28T18:01:14.191Z").exitCode == 0)
        #expect(try sandbox.run(["platform:maintenances:complete", "redis-lively-12345"], now: "2023-04-28T18:04:21.141Z").exitCode == 0)
        sandbox.now = "2023-04-28T18:10:00Z"
        return sandbox
    }

    @Test func infoPrintsTheSeedBlockValueForValue() throws {
        let sandbox = try Self.seedLedger()
        #expect(try sandbox.run("data:maintenances:info", "REDIS_URL", "-a", "example-app")
                == RunResult(stdout: Self.seedInfoBlock, stderr: "", exitCode: 0))
        #expect(try sandbox.run("data:maintenances:info", "redis-lively-12345").stdout == Self.seedInfoBlock)
        #expect(try sandbox.run("data:maintenances:info", "REDIS", "-a", "example-app").stdout == Self.seedInfoBlock)
    }

    @Test func theSeedLedgerVerifies() throws {
        let sandbox = try Self.seedLedger()
        let result = try sandbox.run("audit:verify")
        #expect(result.exitCode == 0 && result.stderr.isEmpty)
        #expect(result.stdout.hasPrefix("ok: 6 entries verified, head "))
    }
}
