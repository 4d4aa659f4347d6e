import Foundation
import GRDB
import Testing

/// Small helpers the end-to-end suites share, on top of BinaryHarness.swift.
extension LedgerSandbox {
    /// `-a example-app`, the app of every fixture.
    static let exampleApp = ["-a", "example-app"]

    /// Runs a command that must succeed and returns what it printed.
    @discardableResult
    func ok(_ arguments: [String], now: String? = nil, environment: [String: String] = [:], useDB: Bool = true,
            sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let result = try run(arguments, now: now, environment: environment, useDB: useDB)
        try #require(result.exitCode == 0, "maintledger \(arguments.joined(separator: " ")) failed: \(result)",
                     sourceLocation: sourceLocation)
        return result
    }

    /// An ArgumentParser (or environment) usage error: exit 64, nothing on stdout, `Error: …` on
    /// stderr, and the ledger exactly as before.
    func expectUsageError(_ arguments: [String], now: String? = nil, environment: [String: String] = [:],
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try snapshot()
        let result = try run(arguments, now: now, environment: environment)
        #expect(result.exitCode == 64, "\(result)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "\(result)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("Error: "), "\(result)", sourceLocation: sourceLocation)
        #expect(try snapshot() == before, "a usage error changed the ledger", sourceLocation: sourceLocation)
    }

    /// `audit:verify` must pass; returns the number of entries it verified.
    @discardableResult
    func expectVerifies(sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let result = try run(["audit:verify"])
        let pattern = /ok: (\d+) entries verified, head [0-9a-f]{64}\n/
        let match = try #require(try pattern.wholeMatch(in: result.stdout), "\(result)", sourceLocation: sourceLocation)
        #expect(result.exitCode == 0 && result.stderr.isEmpty, "\(result)", sourceLocation: sourceLocation)
        return Int(match.1)!
    }

    /// `audit:trail --json`, parsed.
    func trailEntries(sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        let result = try ok(["audit:trail", "--json"], sourceLocation: sourceLocation)
        let parsed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        return try #require(parsed as? [[String: Any]], "not an array of objects: \(result.stdout)", sourceLocation: sourceLocation)
    }

    /// `data:maintenances:info --json` of an add-on, parsed.
    func infoJSON(_ addon: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let result = try ok(["data:maintenances:info", addon, "--json"], sourceLocation: sourceLocation)
        let parsed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        return try #require(parsed as? [String: Any], sourceLocation: sourceLocation)
    }

    /// Polls `data:maintenances:info` until the add-on's maintenance has `status` (another
    /// process is changing it); gives up after 10 s.
    func awaitStatus(_ status: String, of addon: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let deadline = Date().addingTimeInterval(10)
        while try infoJSON(addon, sourceLocation: sourceLocation)["status"] as? String != status {
            try #require(Date() < deadline, "\(addon) never became \(status)", sourceLocation: sourceLocation)
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Changes the ledger behind maintledger's back, as an attacker with `sqlite3` would.
    func tamper(_ sql: String) throws {
        let queue = try DatabaseQueue(path: dbPath)
        try queue.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }

    /// The raw bytes of a file (to prove a refused file was left alone).
    static func bytes(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Everything in the sandbox folder, recursively (to prove nothing was created).
    func folderContents() throws -> Set<String> {
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        var paths = Set<String>()
        while let path = enumerator?.nextObject() as? String {
            // The harness's own captured stdout/stderr files are not the binary's doing.
            if !path.hasSuffix(".out") && !path.hasSuffix(".err") { paths.insert(path) }
        }
        return paths
    }
}

/// The ledgers the suites start from. Each is built once per test run by the binary itself;
/// every test then gets its own copy of the file (the builds would otherwise be a third of
/// the suite's time).
enum Fixture {
    static let addon = "redis-lively-12345"
    static let requiredBy = "2023-05-03T08:54:02.518Z"

    /// `example-app` with the seed's add-on `redis-lively-12345` (premium-0, REDIS_URL, window
    /// Fridays 18:00 UTC) and no maintenance yet; the clock stands at Monday 2023-04-24 09:00 UTC.
    static func exampleApp() throws -> LedgerSandbox {
        try copy(of: exampleAppLedger, now: "2023-04-24T09:00:00Z")
    }

    /// As `exampleApp`, with a routine maintenance pending since 2023-04-24 09:00, required by
    /// 2023-05-03 08:54:02.518 and so scheduled for Friday 2023-04-28 18:00.
    static func pendingMaintenance() throws -> LedgerSandbox {
        try copy(of: pendingMaintenanceLedger, now: "2023-04-24T09:00:00Z")
    }

    /// As `exampleApp`, with a pending maintenance required by another deadline.
    static func pendingMaintenance(requiredBy: String) throws -> LedgerSandbox {
        let sandbox = try exampleApp()
        try sandbox.ok(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", requiredBy])
        return sandbox
    }

    /// As `exampleApp`, plus add-ons on plans without windows: `redis-mini-11111` (mini),
    /// `postgresql-essential-22222` (essential-0) and `kafka-basic-33333` (basic-0).
    static let addonsWithoutWindows = ["redis-mini-11111", "postgresql-essential-22222", "kafka-basic-33333"]

    static func withPlansWithoutWindows() throws -> LedgerSandbox {
        try copy(of: plansWithoutWindowsLedger, now: "2023-04-24T09:00:00Z")
    }

    /// The seed article's example, as SeedScenarioTests builds it but without asserting the
    /// progress messages on the way: six trail entries, the last the completion at
    /// 2023-04-28 18:04:21.141; the clock then stands at 18:10.
    static func seedExample() throws -> LedgerSandbox {
        try copy(of: seedExampleLedger, now: "2023-04-28T18:10:00Z")
    }

    /// The seed example as the release before the compact trail wrote it (Tests/Fixtures/format1:
    /// every entry format 1), upgraded in place by `migrate`.
    static func seedExampleFormat1() throws -> LedgerSandbox {
        let sandbox = try copy(of: seedExampleFormat1Ledger, now: "2023-04-28T18:10:00Z")
        try sandbox.ok(["migrate"])
        return sandbox
    }

    /// The seed example in either format.
    static func seedExample(format1: Bool) throws -> LedgerSandbox {
        try format1 ? seedExampleFormat1() : seedExample()
    }

    private static let seedExampleFormat1Ledger = Result { try format1("seed") }

    /// As the release before maintenance_moves (schema 0008) left it, not yet upgraded: the
    /// example app with a maintenance required by 2023-06-01, then moved by bob
    /// (`data:maintenances:schedule --weeks 1`) and by carol (window Tuesdays 10:00); see
    /// Tests/Fixtures/schema8/README.md. The clock stands at 2023-04-25 08:00.
    static func schema8Moved() throws -> LedgerSandbox {
        try copy(of: Result { try ledgerFixture("schema8/moved") }, now: "2023-04-25T08:00:00Z")
    }

    /// The simulated fleet of Tests/Fixtures/format1 (every entry format 1, schema 5), as the
    /// release before the compact trail left it: not yet upgraded.
    static func fleetFormat1(now: String) throws -> LedgerSandbox {
        try copy(of: Result { try format1("fleet") }, now: now)
    }

    /// The bytes of Tests/Fixtures/format1/NAME.ledger.gz.
    private static func format1(_ name: String) throws -> Data {
        try ledgerFixture("format1/\(name)")
    }

    /// The bytes of Tests/Fixtures/PATH.ledger.gz.
    private static func ledgerFixture(_ path: String) throws -> Data {
        let gunzip = Process(), output = Pipe()
        gunzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gunzip.arguments = ["-dc", URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/\(path).ledger.gz").standardized.path]
        gunzip.standardOutput = output
        try gunzip.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        gunzip.waitUntilExit()
        try #require(gunzip.terminationStatus == 0 && !data.isEmpty, "gzip could not unpack the \(path) ledger")
        return data
    }

    // MARK: building the ledgers once

    private static func copy(of ledger: Result<Data, any Error>, now: String) throws -> LedgerSandbox {
        let sandbox = try LedgerSandbox()
        try sandbox.install(ledger.get())
        sandbox.now = now
        return sandbox
    }

    /// The bytes of the ledger `build` makes (SQLite folds the WAL back in when the last
    /// connection closes, so the main file is the whole ledger).
    private static func ledger(_ build: (LedgerSandbox) throws -> Void) -> Result<Data, any Error> {
        Result {
            let sandbox = try LedgerSandbox()
            // Seeded, so that the add-on's default window is never the Fridays 18:00 the
            // fixtures set (then the update records nothing, one time in 55, and an entry is missing).
            sandbox.seed = 1
            try build(sandbox)
            try #require(!FileManager.default.fileExists(atPath: sandbox.dbPath + "-wal"))
            return try Data(contentsOf: URL(fileURLWithPath: sandbox.dbPath))
        }
    }

    private static func buildExampleApp(_ sandbox: LedgerSandbox) throws {
        sandbox.now = "2023-01-02T10:00:00Z"
        try sandbox.ok(["apps:create", "example-app"])
        try sandbox.ok(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--name", addon,
                        "--description", "premium HA", "--server-created-at", "2022-12-26T08:30:37.872Z"])
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "Fridays", "6:00PM", "-a", "example-app"])
    }

    private static let exampleAppLedger = ledger(buildExampleApp)

    private static let pendingMaintenanceLedger = ledger { sandbox in
        try buildExampleApp(sandbox)
        try sandbox.ok(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", requiredBy],
                       now: "2023-04-24T09:00:00Z")
    }

    private static let plansWithoutWindowsLedger = ledger { sandbox in
        try buildExampleApp(sandbox)
        for (plan, name) in zip(["heroku-redis:mini", "heroku-postgresql:essential-0", "heroku-kafka:basic-0"], addonsWithoutWindows) {
            try sandbox.ok(["addons:create", plan, "-a", "example-app", "--name", name], now: "2023-04-24T09:00:00Z")
        }
    }

    private static let seedExampleLedger = ledger { sandbox in
        sandbox.now = "2022-12-26T08:30:37.872Z"
        try sandbox.ok(["apps:create", "example-app"])
        try sandbox.ok(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--name", addon,
                        "--description", "premium HA", "--server-created-at", "2022-12-26T08:30:37.872Z"])
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "Fridays", "6:00PM", "-a", "example-app"], now: "2023-01-02T10:00:00Z")
        try sandbox.ok(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", requiredBy], now: "2023-04-24T09:00:00Z")
        try sandbox.ok(["platform:maintenances:start", addon], now: "2023-04-28T18:01:14.191Z")
        try sandbox.ok(["platform:maintenances:complete", addon], now: "2023-04-28T18:04:21.141Z")
    }
}
