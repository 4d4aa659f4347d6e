import LedgerSimulation
import LedgerCore
import ArgumentParser
import MaintenanceLedger

/// The engine's dials, shared by `platform:tick` and `simulate`.
struct EngineOptions: ParsableArguments {
    @Option(help: "Seeds durations and outcomes; use the same one for every tick of a ledger.") var seed: UInt64 = 0
    @Option(help: "The share of maintenances that fail, 0 to 1.") var failureRate = 0.01

    func validate() throws {
        guard (0...1).contains(failureRate) else { throw ValidationError("--failure-rate must lie between 0 and 1") }
    }

    var settings: EngineSettings { EngineSettings(seed: seed, failureRate: failureRate) }
}

struct PlatformTick: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platform:tick",
        abstract: "Perform the automatic maintenance that fell due since the last tick, in time order.",
        discussion: HelpText.examples(["maintledger platform:tick --until 2023-04-28T18:00:00Z", "maintledger platform:tick"], after: """
            Every live add-on needs a routine maintenance completed within 90 days of its last one (or of its \
            server's creation). 14 days before that deadline the engine requires it and schedules it at the first \
            window start at least 7 days ahead; at that time it prepares, readies and starts it, and completes it \
            (or, at --failure-rate, fails it) after a seeded duration. A second tick to the same time changes nothing.
            """))

    @Option(help: "Process up to this time (default: now).") var until: Timestamp?
    @OptionGroup var engine: EngineOptions
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let ledger = try ledger.openForWriting()
        let until = until ?? ledger.context.now
        let summary = try MaintenanceEngine(database: ledger.database, settings: engine.settings).tick(until: until, now: ledger.context.now)
        Console.output("ticked until \(until.isoText): \(summary.events) steps (\(summary.required) required, \(summary.scheduled) scheduled, "
                       + "\(summary.started) started, \(summary.completed) completed, \(summary.failed) failed)")
    }
}

struct NoticesList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notices",
        abstract: "List upcoming-maintenance notices (one per scheduling or rescheduling), oldest first.",
        discussion: HelpText.examples(["maintledger notices", "maintledger notices --since-seq 2 --ndjson"]))

    @Option(help: "Only notices after this sequence number.") var sinceSeq: Int64 = 0
    @OptionGroup var format: ListFormatOptions
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let ledger = try ledger.openForReading()
        try format.stream(RecordLayout(json: \.json,
                     headers: ["Seq", "Kind", "App", "Add-on", "Attachments", "Window", "Scheduled for", "Required by"],
                     cells: { [String($0.seq), $0.kind, $0.app, $0.addon, $0.attachmentList, $0.window ?? "-",
                               $0.scheduledFor.listText, $0.requiredBy.listText] },
                     csvCells: { [String($0.seq), $0.kind, $0.app, $0.addon, $0.attachmentList, $0.window ?? "",
                                  $0.scheduledFor.isoText, $0.requiredBy.isoText] }),
                     empty: "No notices" + (sinceSeq > 0 ? " after seq \(sinceSeq)" : "")) { write in
            try ledger.notices(sinceSeq: sinceSeq, write)
        }
    }
}
