import Foundation
import Testing

/// SLOW: `maintledger demo`, end to end. It builds the demo twice (500 apps over a year, about a
/// minute each in a debug build on 2 cores; up to a few minutes on a slower machine), so this
/// suite holds one test only. Skip it while iterating with `swift test --skip DemoCommandTests`.
@Suite(.timeLimit(.minutes(15))) struct DemoCommandTests {
    static let summary = "Simulated 500 apps with 1203 add-ons over 365 days in _ s: 5351 maintenances required, 5191 completed, 43 failed; "
        + "713 customer actions (179 refused by the rules)\n"

    /// The guide after the info block; `PROGRAM` and `DB` stand for how the binary was invoked and the ledger.
    static let guide = """
        Demo ledger: 501 apps, 1204 add-ons, 5352 maintenances, 3053 trail entries.
        The block above is the Heroku article's example-app. Try next:
          PROGRAM data:maintenances:info REDIS_URL -a example-app --db DB
          PROGRAM data:maintenances:history REDIS_URL -a example-app --all --db DB
          PROGRAM redis:info -a example-app --db DB
          PROGRAM data:maintenances -a pixel-api-134 -x --db DB
          PROGRAM notices --since-seq 5369 --db DB
          PROGRAM audit:trail --since-seq 3048 --db DB
          PROGRAM platform:tick --until 2023-06-01T00:00:00Z --seed 2023 --db DB
          PROGRAM audit:verify --db DB

        """

    @Test func demoPrintsTheSeedBlockAndAGuideWhoseCommandsWorkAsPrinted() throws {
        let sandbox = try LedgerSandbox()
        sandbox.now = "2023-06-01T00:00:00Z"
        let demo = try sandbox.run(["demo"])
        try #require(demo.exitCode == 0, "\(demo)")
        // stderr is not a terminal: no progress bar, one summary line.
        #expect(demo.stderr.replacing(/\ in \d+\.\d s:\ /, with: " in _ s: ") == Self.summary, "\(demo.stderr)")
        // The seed's info block exactly, then the guide.
        let block = SeedScenarioTests.seedInfoBlock + "\n"
        try #require(demo.stdout.hasPrefix(block), "\(demo.stdout)")
        let guide = String(demo.stdout.dropFirst(block.count))
        let commands = guide.split(separator: "\n").filter { $0.hasPrefix("  ") }.map { $0.split(separator: " ").map(String.init) }
        let program = try #require(commands.first?.first)
        #expect(program == "maintledger" || program.hasSuffix("/maintledger"), "the guide's commands start with \(program)")
        #expect(guide == Self.guide.replacingOccurrences(of: "PROGRAM", with: program).replacingOccurrences(of: "DB", with: sandbox.dbPath))
        let head = try sandbox.run(["audit:verify"]).stdout
        #expect(head.hasPrefix("ok: 3053 entries verified, head "), "\(head)")

        // Every command the guide prints, run as printed (its --db included), exits 0.
        #expect(commands.count == 8)
        for command in commands {
            let arguments = Array(command.dropFirst())
            #expect(arguments.suffix(2) == ["--db", sandbox.dbPath], "\(command)")
            let result = try sandbox.run(arguments, useDB: false)
            #expect(result.exitCode == 0, "\(command.joined(separator: " ")): \(result)")
            if arguments.first == "data:maintenances:info" { #expect(result.stdout == SeedScenarioTests.seedInfoBlock) }
            if arguments.first == "platform:tick" { #expect(result.stdout.hasPrefix("ticked until 2023-06-01T00:00:00.000+00:00: "), "\(result)") }
        }
        #expect(try sandbox.expectVerifies() > 3053)

        // A second demo on the same file replaces the first one (ticked since) with the same ledger.
        let again = try sandbox.run(["demo"])
        #expect(again.exitCode == 0 && again.stdout == demo.stdout, "\(again)")
        #expect(try sandbox.run(["audit:verify"]).stdout == head)
        #expect(try sandbox.run(["data:maintenances:info", "REDIS_URL", "-a", "example-app"]).stdout == SeedScenarioTests.seedInfoBlock)
    }
}
