import ArgumentParser
import LedgerCore
import MaintenanceLedger

struct RebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Make a ledger again from its trail alone (an export of it, or what audit:trail --ndjson printed).",
        discussion: HelpText.examples(["maintledger rebuild --from trail-exports --to rebuilt.sqlite"], after: """
            --from names an export folder (its `export --entity trail` files, each checked against its \
            manifest, read in seq order), one such file, or what `audit:trail --ndjson` printed (- for \
            standard input). The chain is checked as the entries are read: no seq missing, each linked to \
            the one before, each hash its content's. Every entry is replayed into a new file with the \
            current schema, each format 2 update held to the digest it recorded: the tables, the Merkle \
            tree and the head come out as the ledger had them (audit:verify prints the same head). The \
            file is written under a temporary name beside FILE, synced and renamed: on any refusal \
            nothing is at FILE, and the source is only read. Prints the entry count and the head hash.
            """))

    @Option(help: ArgumentHelp("An export folder, a trail export file, or audit:trail --ndjson output (- for standard input).", valueName: "path"))
    var from: String
    @Option(help: ArgumentHelp("The ledger file to write; it must not exist.", valueName: "file"))
    var to: String
    @Flag(help: "Replace FILE if it exists.") var force = false

    func run() throws {
        let bar = ProgressBar("rebuild")
        defer { bar.finish() }
        let report = try LedgerRebuild.rebuild(from: from, to: to, replacing: force, warn: { Console.error("Warning: \($0.escapingControlCharacters)") },
                                               progress: { bar.show($0, of: $1, "\($0 * 100 / max($1, 1))%") })
        bar.finish()
        Console.output("rebuilt \(to): \(report.entryCount) entries from \(report.files) file\(report.files == 1 ? "" : "s"), head \(report.headHash)")
    }
}
