import Testing

/// Refusals of the inventory commands (apps, add-ons, attachments): exact stderr, exit code,
/// empty stdout, and tables and trail exactly as before.
@Suite struct InventoryRefusalTests {
    static let appNameHint = "App names start with a letter and hold 3 to 30 lowercase letters, digits and dashes.\n"
    static let servicePlanHint = "SERVICE is one of heroku-redis, heroku-postgresql, heroku-kafka; for example heroku-redis:premium-0.\n"

    @Test func appsCreateRefusesMalformedNamesAsUsageErrors() throws {
        let sandbox = try Fixture.exampleApp()
        for name in ["Bad_Name", "ab", "1app", "app name", String(repeating: "a", count: 31)] {
            try sandbox.expectRefusal(["apps:create", name], stderr: "Error: invalid app name '\(name)'\n" + Self.appNameHint, exitCode: 64)
        }
    }

    @Test func appsCreateAcceptsThirtyCharacterNames() throws {
        let sandbox = try Fixture.exampleApp()
        let name = "a" + String(repeating: "b-9", count: 9) + "zz"
        #expect(name.count == 30)
        #expect(try sandbox.run(["apps:create", name]) == RunResult(stdout: "", stderr: "Creating ⬢ \(name)... done\n", exitCode: 0))
    }

    @Test func appsCreateRefusesATakenName() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["apps:create", "example-app"], stderr: "Error: Name example-app is already taken\n")
    }

    @Test func addonsCreateRefusesWhatIsNotServiceColonPlan() throws {
        let sandbox = try Fixture.exampleApp()
        for servicePlan in ["redis:premium-0", "heroku-redis", "heroku-mysql:premium-0"] {
            try sandbox.expectRefusal(["addons:create", servicePlan, "-a", "example-app"],
                                      stderr: "Error: '\(servicePlan)' is not SERVICE:PLAN\n" + Self.servicePlanHint, exitCode: 64)
        }
    }

    @Test func addonsCreateRefusesUnknownOrMisspelledPlans() throws {
        let sandbox = try Fixture.exampleApp()
        let refusals: [(String, String)] = [
            ("heroku-redis:gold-1", "Error: unknown plan 'gold-1' for heroku-redis\nPlans are written TIER-SIZE, like premium-0 (or just mini), with TIER one of: mini, premium, private, shield.\n"),
            ("heroku-postgresql:mini", "Error: unknown plan 'mini' for heroku-postgresql\nPlans are written TIER-SIZE, like premium-0 (or just mini), with TIER one of: essential, standard, premium, private, shield.\n"),
            ("heroku-redis:premium", "Error: plan 'premium' is not written like 'premium-0'\n"),
            ("heroku-redis:mini-1", "Error: plan 'mini-1' is not written like 'mini'\n"),
            ("heroku-redis:premium-x", "Error: plan 'premium-x' has no numeric size\nWrite the plan as premium-0.\n"),
        ]
        for (servicePlan, stderr) in refusals {
            try sandbox.expectRefusal(["addons:create", servicePlan, "-a", "example-app"], stderr: stderr, exitCode: 64)
        }
    }

    @Test func addonsCreateRefusesATakenName() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--name", "redis-lively-12345", "--as", "CACHE"],
                                  stderr: "Error: Name redis-lively-12345 is already taken\nLeave out --name to get a generated one.\n")
    }

    @Test func addonsCreateRefusesMalformedNames() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--name", "Bad"],
                                  stderr: "Error: invalid add-on name 'Bad'\nAdd-on names start with a letter and hold 3 to 60 lowercase letters, digits and dashes.\n",
                                  exitCode: 64)
        try sandbox.expectRefusal(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--as", "9X"],
                                  stderr: "Error: invalid attachment name '9X'\nUse letters, digits and underscores, starting with a letter (REDIS or REDIS_URL).\n",
                                  exitCode: 64)
    }

    @Test func addonsCreateRefusesATakenAttachmentHoweverItIsSpelled() throws {
        let sandbox = try Fixture.exampleApp()
        for attachment in ["REDIS", "REDIS_URL", "redis_url"] {
            try sandbox.expectRefusal(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--as", attachment],
                                      stderr: "Error: REDIS_URL is already attached to example-app\nChoose another name with --as NAME.\n")
        }
    }

    @Test func addonsCreateRefusesAnUnknownApp() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["addons:create", "heroku-redis:premium-0", "-a", "nope-app"],
                                  stderr: "Error: Couldn't find that app: nope-app\nCreate it with `maintledger apps:create nope-app`.\n")
    }

    @Test func addonsCreateRefusesAServerCreatedInTheFuture() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--server-created-at", "2023-04-24T09:00:00.001Z"],
                                   stderr: "Error: --server-created-at 2023-04-24T09:00:00.001+00:00 is in the future (now is 2023-04-24T09:00:00.000+00:00)\nRecord events once they have happened.\n")
    }

    @Test func addonsAttachRefusesAnUnknownAppAndATakenName() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["addons:attach", "redis-lively-12345", "-a", "nope-app"],
                                  stderr: "Error: Couldn't find that app: nope-app\nCreate it with `maintledger apps:create nope-app`.\n")
        try sandbox.expectRefusal(["addons:attach", "redis-lively-12345", "-a", "example-app", "--as", "REDIS"],
                                  stderr: "Error: REDIS_URL is already attached to example-app\nChoose another name with --as NAME.\n")
    }

    @Test func addonsDetachRefusesTheLastAttachmentAndUnknownOnes() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["addons:detach", "REDIS_URL", "-a", "example-app"],
                                  stderr: "Error: REDIS_URL is the last attachment of redis-lively-12345\nDestroy the add-on instead: `maintledger addons:destroy redis-lively-12345 -a example-app --confirm example-app`.\n")
        try sandbox.expectRefusal(["addons:detach", "CACHE", "-a", "example-app"],
                                  stderr: "Error: Couldn't find attachment CACHE_URL on example-app\nRun `maintledger addons -a example-app` to list its attachments.\n")
    }

    @Test func addonsDestroyNeedsTheAppNameAsConfirmation() throws {
        let sandbox = try Fixture.exampleApp()
        let stderr = "Error: This destroys redis-lively-12345 on example-app; to proceed, re-run with --confirm example-app\n"
        try sandbox.expectRefusal(["addons:destroy", "REDIS_URL", "-a", "example-app"], stderr: stderr)
        try sandbox.expectRefusal(["addons:destroy", "REDIS_URL", "-a", "example-app", "--confirm", "other-app"], stderr: stderr)
    }

    @Test func addonsDestroyRefusesAnAppThatOnlyAttachesTheAddon() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["apps:create", "other-app"])
        try sandbox.ok(["addons:attach", "redis-lively-12345", "-a", "other-app"])
        try sandbox.expectRefusal(["addons:destroy", "REDIS_URL", "-a", "other-app", "--confirm", "other-app"],
                                  stderr: "Error: redis-lively-12345 belongs to example-app, not other-app\nDestroy it from its owning app with -a example-app.\n")
    }

    @Test func addonsDestroyRefusesWhileAMaintenanceRuns() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.ok(["platform:maintenances:start", "REDIS_URL", "-a", "example-app"])
        try sandbox.expectRefusal(["addons:destroy", "REDIS_URL", "-a", "example-app", "--confirm", "example-app"],
                                  stderr: "Error: a maintenance of redis-lively-12345 is running\nWait for it to complete or fail first.\n")
    }

    @Test func unknownAddonsAndAppsAreNotFound() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["data:maintenances:info", "nope-addon"],
                                  stderr: "Error: Couldn't find that add-on: nope-addon\nIf nope-addon is an attachment, name its app with -a APP.\n")
        try sandbox.expectRefusal(["data:maintenances:info", "CACHE_URL", "-a", "example-app"],
                                  stderr: "Error: Couldn't find that add-on: CACHE_URL on example-app\nRun `maintledger addons -a example-app` to list its add-ons and attachments.\n")
        try sandbox.expectRefusal(["maintenance:on", "-a", "nope-app"],
                                  stderr: "Error: Couldn't find that app: nope-app\nCreate it with `maintledger apps:create nope-app`.\n")
        try sandbox.expectRefusal(["data:maintenances", "-a", "nope-app"],
                                  stderr: "Error: Couldn't find that app: nope-app\nCreate it with `maintledger apps:create nope-app`.\n")
    }

    @Test func anAddonSeenThroughAnAppItIsNotAttachedToIsNotFound() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["apps:create", "other-app"])
        try sandbox.expectRefusal(["data:maintenances:info", "redis-lively-12345", "-a", "other-app"],
                                  stderr: "Error: redis-lively-12345 is not attached to other-app\nLeave out -a, or name the app it is attached to.\n")
    }

    /// After `addons:destroy` the add-on's history is read-only: every command that would
    /// record something for it is refused.
    @Test func everyMutationOfADestroyedAddonIsRefused() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.ok(["apps:create", "other-app"])
        try sandbox.ok(["addons:destroy", "REDIS_URL", "-a", "example-app", "--confirm", "example-app"], now: "2023-04-25T10:00:00Z")
        sandbox.now = "2023-04-26T10:00:00Z"
        let stderr = "Error: redis-lively-12345 was destroyed at 2023-04-25 10:00:00 +0000\nIts history stays readable; nothing new can be recorded for it.\n"
        let mutations: [[String]] = [
            ["data:maintenances:window:update", "redis-lively-12345", "sunday", "14:00"],
            ["data:maintenances:run", "redis-lively-12345", "--confirm", "example-app"],
            ["data:maintenances:schedule", "redis-lively-12345", "--weeks", "1"],
            ["platform:maintenances:require", "redis-lively-12345", "--required-by", "2023-06-01T00:00:00Z"],
            ["addons:attach", "redis-lively-12345", "-a", "other-app"],
            ["addons:destroy", "redis-lively-12345", "-a", "example-app", "--confirm", "example-app"],
        ] + ["prepare", "ready", "start", "complete", "fail", "cancel"].map { ["platform:maintenances:\($0)", "redis-lively-12345"] }
        for arguments in mutations {
            try sandbox.expectRefusal(arguments, stderr: stderr)
        }
        try sandbox.expectVerifies()
    }
}
