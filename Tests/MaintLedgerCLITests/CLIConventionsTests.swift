import Foundation
import Testing

/// What users of the `heroku` CLI expect of any command line tool: `--version`, the app from
/// the environment.
@Suite struct CLIConventionsTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").standardized

    @Test func versionPrintsTheVersionTheReadmeShows() throws {
        let sandbox = try LedgerSandbox()
        let result = try sandbox.ok(["--version"], useDB: false)
        #expect(result.stderr.isEmpty)
        let readme = try String(contentsOf: Self.readme, encoding: .utf8)
        let shown = try #require(readme.firstMatch(of: /\n\$ maintledger --version\n([^\n]*\n)/), "README.md shows no `$ maintledger --version`")
        #expect(result.stdout == String(shown.1))
        #expect(result.stdout.wholeMatch(of: /\d+\.\d+\.\d+\n/) != nil, "\(result)")
        #expect(try sandbox.snapshot().isEmpty, "--version created a ledger")
    }

    @Test func theAppComesFromMaintledgerAppElseHerokuApp() throws {
        let sandbox = try Fixture.withPlansWithoutWindows()
        try sandbox.ok(["apps:create", "other-app"])
        let named = try sandbox.ok(["data:maintenances"] + LedgerSandbox.exampleApp).stdout
        #expect(named.contains("redis-lively-12345"))
        #expect(try sandbox.ok(["data:maintenances"], environment: ["HEROKU_APP": "example-app"]).stdout == named)
        #expect(try sandbox.ok(["data:maintenances"], environment: ["MAINTLEDGER_APP": "example-app"]).stdout == named)
        // MAINTLEDGER_APP before HEROKU_APP, and -a before both; an empty variable is unset.
        #expect(try sandbox.ok(["data:maintenances"], environment: ["MAINTLEDGER_APP": "example-app", "HEROKU_APP": "other-app"]).stdout == named)
        #expect(try sandbox.ok(["data:maintenances"], environment: ["MAINTLEDGER_APP": "", "HEROKU_APP": "example-app"]).stdout == named)
        #expect(try sandbox.ok(["data:maintenances"] + LedgerSandbox.exampleApp, environment: ["MAINTLEDGER_APP": "other-app"]).stdout == named)
        // An optional -a is supplied too: `addons` lists the app's add-ons only.
        #expect(try sandbox.ok(["addons"], environment: ["HEROKU_APP": "example-app"]).stdout
                == sandbox.ok(["addons"] + LedgerSandbox.exampleApp).stdout)
        // A recording command records for the app the environment names.
        try sandbox.ok(["maintenance:on"], environment: ["MAINTLEDGER_APP": "other-app"])
        #expect(try sandbox.ok(["maintenance", "-a", "other-app"]).stdout == "on\n")
        #expect(try sandbox.ok(["maintenance"] + LedgerSandbox.exampleApp).stdout == "off\n")
    }

    @Test func withoutAppOrVariableTheAppIsMissing() throws {
        let sandbox = try Fixture.exampleApp()
        for environment in [[:], ["MAINTLEDGER_APP": "", "HEROKU_APP": ""]] {
            let before = try sandbox.snapshot()
            let result = try sandbox.run(["maintenance:on"], environment: environment)
            #expect(result.exitCode == 64 && result.stdout.isEmpty, "\(result)")
            #expect(result.stderr.hasPrefix("Error: Missing expected argument '--app <app>' (or set MAINTLEDGER_APP)\n"), "\(result)")
            #expect(try sandbox.snapshot() == before)
        }
        let before = try sandbox.snapshot()
        #expect(try sandbox.run(["maintenance:on"], environment: ["HEROKU_APP": "nope"])
                == RunResult(stdout: "", stderr: "Error: Couldn't find that app: nope\nCreate it with `maintledger apps:create nope`.\n", exitCode: 1))
        #expect(try sandbox.snapshot() == before)
    }
}
