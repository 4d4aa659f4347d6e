import LedgerStore
import LedgerCore
import ArgumentParser
import MaintenanceLedger

struct AuditTrailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit:trail", abstract: "List the audit trail, oldest first.",
        discussion: HelpText.examples(["maintledger audit:trail", "maintledger audit:trail --since-seq 4 --ndjson"]))

    @Option(help: "Only entries after this sequence number.") var sinceSeq: Int64 = 0
    @OptionGroup var format: ListFormatOptions
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try format.stream(RecordLayout<TrailEntry>(
            json: \.json,
            headers: ["Seq", "Recorded at", "Actor", "Action", "Subject", "Hash"],
            cells: { [String($0.seq), $0.recordedAt, $0.actor, $0.action, $0.subject, String($0.hash.prefix(12))] },
            csvCells: { [String($0.seq), $0.recordedAt, $0.actor, $0.action, $0.subject, $0.hash] })) { write in
            try ledger.openForReading().trail(sinceSeq: sinceSeq, write)
        }
    }
}

struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit:verify",
        abstract: "Recompute the trail's hash chain and check the tables against it.",
        discussion: HelpText.examples(["maintledger audit:verify", "maintledger audit:verify --integrity"], after: "Prints one verdict line. Exit 3 when anything was altered, naming the first bad sequence number."))

    @OptionGroup var ledger: LedgerOptions

    @Flag(help: "First run SQLite's integrity_check and foreign_key_check (pages and indexes; minutes on a ledger of gigabytes).")
    var integrity = false

    @Option(help: ArgumentHelp("A signed checkpoint kept elsewhere: the ledger must still hold its tree (repeatable).", valueName: "file"))
    var checkpoint: [String] = []
    @Option(help: ArgumentHelp("A verifier key (NAME+ID+KEY, or a file holding it) for the checkpoints (repeatable).", valueName: "key"))
    var vkey: [String] = []

    func validate() throws {
        guard checkpoint.isEmpty || !vkey.isEmpty else { throw ValidationError("--checkpoint needs --vkey KEY to check its signature") }
    }

    func run() throws {
        let verifiers = try vkey.map(ProofFiles.verifier)
        let notes = try checkpoint.map { ($0, try ProofFiles.text($0, what: "the checkpoint")) }
        let ledger = try ledger.openForReading()
        for (path, note) in notes {
            let what = "the checkpoint \(path)"
            try ledger.checkAgainst(try Checkpoint.open(note, verifiers: verifiers, what: what), what: what)
        }
        let bar = ProgressBar("verify")
        defer { bar.finish() }
        let report = try ledger.verify(sqliteChecks: integrity) { bar.count($0, of: $1, "entries") }
        bar.finish()
        Console.output(Terminal.paintedForStandardOutput("ok") + ": \(report.entryCount) entries verified, head \(report.headHash)" + (notes.isEmpty ? "" : "; \(notes.count) checkpoint\(notes.count == 1 ? "" : "s") hold"))
    }
}
