import LedgerSimulation
import LedgerCore
import ArgumentParser
import Foundation
import MaintenanceLedger

func describe(_ summary: FleetSimulator.Summary, days: Int, seconds: Double) -> String {
    let engine = summary.engine
    return "Simulated \(summary.apps) apps with \(summary.addons) add-ons over \(days) days in \(String(format: "%.1f", seconds)) s: "
        + "\(engine.required) maintenances required, \(engine.completed) completed, \(engine.failed) failed; "
        + "\(summary.customerActions) customer actions (\(summary.refusedCustomerActions) refused by the rules)"
}

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Build a fleet from nothing on an empty ledger and run it through the engine.",
        discussion: HelpText.examples(["maintledger simulate --apps 20 --days 30 --seed 7 --db fleet.sqlite"], after: """
            The same options give the same ledger, row for row and hash for hash. Progress goes to stderr. The fleet is \
            committed first, then every 30 simulated days: a run killed midway keeps the batches it committed, and \
            cannot be resumed (run again on that ledger, simulate refuses and changes nothing); start again on a new file.
            """))

    @Option(help: "How many apps (each gets 1 to 4 data add-ons).") var apps: Int
    @Option(help: "How many days to run.") var days: Int
    @Option(help: ArgumentHelp("The first day (default: DAYS days before today).", valueName: "yyyy-mm-dd")) var start: String?
    @OptionGroup var engine: EngineOptions
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        guard apps > 0 else { throw ValidationError("--apps must be at least 1") }
        guard apps <= 1_000_000 else { throw ValidationError("--apps must be at most 1000000") }
        guard days > 0 else { throw ValidationError("--days must be at least 1") }
        // Checked before any arithmetic: far more days overflow the clock.
        guard days <= 36_500 else { throw ValidationError("--days must be at most 36500 (a hundred years)") }
        if let start, start.count != 10 || Timestamp(iso: start) == nil { throw ValidationError("--start takes a date as YYYY-MM-DD") }
    }

    func run() throws {
        let ledger = try ledger.openForWriting()
        let now = ledger.context.now
        let first = start.flatMap(Timestamp.init(iso:)) ?? now.startOfDay.adding(days: -Int64(days))
        let settings = FleetSimulator.Settings(apps: apps, days: days, start: first, engine: engine.settings)
        let clock = Date()
        let summary = try FleetSimulator(database: ledger.database, settings: settings, now: now)
            .run(progress: ProgressBar("simulate").update)
        Console.error(describe(summary, days: days, seconds: Date().timeIntervalSince(clock)))
    }
}

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a demo ledger: the seed's example-app in a simulated fleet of 500 apps over a year.",
        discussion: HelpText.examples(["maintledger demo --db demo.sqlite"], after: "Refuses a ledger that holds anything but an earlier demo, which it replaces."))

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let path = ledger.path
        // The environment first: a demo refused for it must not have removed the earlier one.
        _ = try ledger.context()
        try Demo.prepare(path: path)
        let opened = try ledger.openForWriting()
        let clock = Date()
        let summary = try Demo.build(database: opened.database, now: opened.context.now, progress: ProgressBar("demo").update)
        Console.error(describe(summary, days: Demo.days, seconds: Date().timeIntervalSince(clock)))
        Console.output(try DemoGuide.text(opened, program: CommandLine.arguments[0], dbFlag: ledger.db.map { " --db \($0)" } ?? ""))
    }
}
