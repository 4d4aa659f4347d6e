import Foundation
import GRDB
import Testing

/// Usage errors exit 64 and change nothing.
@Suite struct UsageErrorTests {
    @Test func argumentParserUsageErrorsExit64AndChangeNothing() throws {
        let sandbox = try Fixture.pendingMaintenance()
        let usageErrors: [[String]] = [
            ["apps:create"],
            ["addons:create", "-a", "example-app"],
            ["addons:create", "heroku-redis:premium-0"],
            ["data:maintenances"],
            ["data:maintenances", "-a", "example-app", "--bogus"],
            ["data:maintenances", "-a", "example-app", "--json", "--csv"],
            ["data:maintenances:history", "REDIS_URL", "-a", "example-app", "--json", "--ndjson"],
            ["audit:trail", "--json", "--csv"],
            ["data:maintenances:history", "REDIS_URL", "-a", "example-app", "-n", "0"],
            ["data:maintenances:history", "REDIS_URL", "-a", "example-app", "-n", "five"],
            ["data:maintenances:info"],
            ["data:maintenances:window:update", "REDIS_URL", "sunday", "-a", "example-app"],
            ["data:maintenances:wait", "REDIS_URL", "-a", "example-app", "--timeout", "0"],
            ["data:maintenances:run", "REDIS_URL", "-a", "example-app", "--confirm"],
            ["platform:maintenances:require", "REDIS_URL", "-a", "example-app"],
            ["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", "notatime"],
            ["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", "2023-02-30T00:00:00Z"],
            ["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", "2023-06-01", "--reason", "because"],
            ["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", "2023-06-01", "--method", "reboot"],
            ["platform:maintenances:prepare", "REDIS_URL", "-a", "example-app", "--at", "yesterday"],
            ["platform:maintenances:complete", "REDIS_URL", "-a", "example-app", "--server-created-at", "2023-13-01"],
            ["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--server-created-at", "2023-04-24T25:00:00Z"],
            ["audit:trail", "--since-seq", "x"],
            ["maintenance", "-a", "example-app", "extra-argument"],
        ]
        for arguments in usageErrors {
            try sandbox.expectUsageError(arguments)
        }
    }

    @Test func anUnknownCommandIsAUsageError() throws {
        let sandbox = try Fixture.exampleApp()
        let result = try sandbox.run(["data:maintenances:frobnicate"], useDB: false)
        #expect(result.exitCode == 64 && result.stdout.isEmpty, "\(result)")
        #expect(result.stderr.hasPrefix("Error: Unexpected argument 'data:maintenances:frobnicate'\n"), "\(result)")
    }

    @Test func aBadClockIsAUsageErrorAndCreatesNothing() throws {
        let sandbox = try LedgerSandbox()
        let result = try sandbox.run(["apps:create", "example-app"], now: "not-a-time")
        #expect(result == RunResult(stdout: "", stderr: "Error: MAINTLEDGER_NOW 'not-a-time' is not an ISO 8601 time\nUse a time like 2023-04-28T18:00:00Z, or unset it.\n",
                                    exitCode: 64))
        #expect(!FileManager.default.fileExists(atPath: sandbox.dbPath))

        let existing = try Fixture.exampleApp()
        try existing.expectUsageError(["maintenance:on", "-a", "example-app"], now: "2023-04-31T00:00:00Z")
        try existing.expectUsageError(["maintenance:on", "-a", "example-app"], environment: ["MAINTLEDGER_SEED": "-1"])
    }
}

/// Where the ledger lives, and which files it refuses.
@Suite struct LedgerLocationTests {
    static let noLedgerHint = "Record something first (for example `maintledger apps:create APP`), or point --db or MAINTLEDGER_DB at an existing ledger.\n"

    @Test(arguments: [["data:maintenances:info", "REDIS_URL", "-a", "example-app"], ["audit:trail"], ["audit:verify"],
                      ["data:maintenances", "-a", "example-app"], ["maintenance", "-a", "example-app"]])
    func aReadOnlyCommandOnAMissingLedgerSaysSoAndCreatesNothing(arguments: [String]) throws {
        let sandbox = try LedgerSandbox()
        let missing = sandbox.folder.appendingPathComponent("not/yet/ledger.sqlite").path
        let before = try sandbox.folderContents()
        let result = try sandbox.run(arguments + ["--db", missing], useDB: false)
        #expect(result == RunResult(stdout: "", stderr: "Error: no ledger at \(missing)\n" + Self.noLedgerHint, exitCode: 1))
        #expect(try sandbox.folderContents() == before, "a read-only command created files")
    }

    @Test(arguments: [["apps:create", "Bad_Name"], ["maintenance:on", "-a", "nope"], ["apps:create"]])
    func aRefusedFirstWriteLeavesNoLedgerBehind(arguments: [String]) throws {
        let sandbox = try LedgerSandbox()
        let missing = sandbox.folder.appendingPathComponent("not/yet/ledger.sqlite").path
        let before = try sandbox.folderContents()
        let result = try sandbox.run(arguments + ["--db", missing], useDB: false)
        #expect(result.exitCode != 0 && result.stdout.isEmpty, "\(result)")
        #expect(try sandbox.folderContents() == before, "a refused command left files behind")
    }

    @Test func aFileOfRandomBytesIsRefusedAndLeftUntouched() throws {
        let sandbox = try LedgerSandbox()
        var generator = SystemRandomNumberGenerator()
        let noise = Data((0..<8192).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try noise.write(to: URL(fileURLWithPath: sandbox.dbPath))
        let before = try sandbox.folderContents()
        for arguments in [["audit:trail"], ["apps:create", "example-app"]] {
            #expect(try sandbox.run(arguments) == RunResult(
                stdout: "", stderr: "Error: \(sandbox.dbPath) is not a SQLite database\nPoint --db at a ledger file, or at a new path to start one.\n", exitCode: 1))
        }
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == noise)
        #expect(try sandbox.folderContents() == before)
    }

    @Test func aSQLiteFileOfAnotherAppIsRefusedAndLeftUntouched() throws {
        let sandbox = try LedgerSandbox()
        do {
            let queue = try DatabaseQueue(path: sandbox.dbPath)
            try queue.write { db in
                try db.execute(sql: "CREATE TABLE apps (name TEXT); INSERT INTO apps VALUES ('someone-elses')")
            }
        }
        let original = try LedgerSandbox.bytes(sandbox.dbPath)
        let before = try sandbox.folderContents()
        for arguments in [["audit:verify"], ["apps:create", "example-app"], ["maintenance:on", "-a", "someone-elses"]] {
            #expect(try sandbox.run(arguments) == RunResult(
                stdout: "", stderr: "Error: \(sandbox.dbPath) is not a maintledger ledger\nPoint --db at a ledger file, or at a new path to start one.\n", exitCode: 1))
        }
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == original)
        #expect(try sandbox.folderContents() == before)
    }

    @Test func aLedgerFromANewerSchemaIsRefusedAndLeftUntouched() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.tamper("INSERT INTO schema_migrations (identifier) VALUES ('9999_from_the_future')")
        let original = try LedgerSandbox.bytes(sandbox.dbPath)
        for arguments in [["audit:trail"], ["apps:create", "other-app"]] {
            #expect(try sandbox.run(arguments) == RunResult(
                stdout: "", stderr: "Error: \(sandbox.dbPath) was written by a newer maintledger (schema 9999_from_the_future)\nUpgrade maintledger to read this ledger.\n",
                exitCode: 1))
        }
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == original)
    }

    @Test func theFirstWriteCreatesParentFoldersAndAnOwnerOnlyFile() throws {
        let sandbox = try LedgerSandbox()
        let path = sandbox.folder.appendingPathComponent("deep/er/ledger.sqlite").path
        #expect(try sandbox.run(["apps:create", "example-app", "--db", path], useDB: false)
                == RunResult(stdout: "", stderr: "Creating ⬢ example-app... done\n", exitCode: 0))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try sandbox.run(["maintenance", "-a", "example-app", "--db", path], useDB: false).stdout == "off\n")
    }

    @Test func maintledgerDBNamesTheLedgerWhenDbIsAbsent() throws {
        let sandbox = try LedgerSandbox()
        let path = sandbox.folder.appendingPathComponent("from-env/ledger.sqlite").path
        try sandbox.ok(["apps:create", "example-app"], environment: ["MAINTLEDGER_DB": path], useDB: false)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: sandbox.dbPath))
        // --db wins over MAINTLEDGER_DB.
        let result = try sandbox.run(["maintenance", "-a", "example-app"], environment: ["MAINTLEDGER_DB": path])
        #expect(result.exitCode == 1 && result.stderr.hasPrefix("Error: no ledger at \(sandbox.dbPath)\n"), "\(result)")
    }

    @Test func xdgDataHomeHoldsTheLedgerWhenNothingElseNamesIt() throws {
        let sandbox = try LedgerSandbox()
        let dataHome = sandbox.folder.appendingPathComponent("xdg").path
        try sandbox.ok(["apps:create", "example-app"], environment: ["XDG_DATA_HOME": dataHome], useDB: false)
        #expect(FileManager.default.fileExists(atPath: dataHome + "/maintledger/ledger.sqlite"))
        #expect(try sandbox.run(["maintenance", "-a", "example-app"], environment: ["XDG_DATA_HOME": dataHome], useDB: false).stdout == "off\n")
    }

    @Test func homeDotLocalShareIsTheLastResort() throws {
        let sandbox = try LedgerSandbox() // the harness sets HOME to the sandbox folder
        try sandbox.ok(["apps:create", "example-app"], useDB: false)
        #expect(FileManager.default.fileExists(atPath: sandbox.folder.path + "/.local/share/maintledger/ledger.sqlite"))
    }
}
