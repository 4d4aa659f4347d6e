import LedgerCore
import ArgumentParser
import MaintenanceLedger

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import maintenances from NDJSON (one `data:maintenances:info --json` object per line).",
        discussion: """
            Creates the apps, add-ons and attachments the objects name that the ledger lacks. A maintenance
            whose uuid is already recorded with the same values is skipped, so importing a file again changes
            nothing. All or nothing: a bad line is reported with its number and nothing from the file is kept.
            """)

    @Argument(help: ArgumentHelp("The NDJSON file, or - for standard input.", valueName: "file")) var file: String
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let reader = try LineReader(path: file)
        let source = file == "-" ? "standard input" : file
        let summary = try ledger.openForWriting().importMaintenances(from: reader, source: source)
        Console.error("Imported \(summary.lines) lines from \(source): \(summary.maintenancesRecorded) maintenances recorded, "
            + "\(summary.maintenancesAlreadyRecorded) already recorded; \(summary.appsCreated) apps, \(summary.addonsCreated) add-ons "
            + "and \(summary.attachmentsCreated) attachments created"
            + (summary.attachmentsLeftOut > 0 ? "; \(summary.attachmentsLeftOut) attachment names of other apps left out" : ""))
    }
}
