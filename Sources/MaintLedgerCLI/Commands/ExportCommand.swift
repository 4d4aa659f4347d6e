import LedgerCore
import ArgumentParser
import MaintenanceLedger

extension ExportEntity: ExpressibleByArgument {}
extension ExportFormat: ExpressibleByArgument {}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write what changed since the folder's last export to one new file, with a manifest.",
        discussion: HelpText.examples(["maintledger export --to exports --format csv", "maintledger export --to trail-exports --entity trail"], after: """
            Each run writes <entity>-<first seq>-<last seq>.<format> covering the trail entries since the \
            folder's cursor for that entity and format, then <file>.manifest.json (rows, seq range, \
            SHA-256, ledger head hash), then advances the cursor. A file counts once its manifest is \
            there; a run interrupted before that is cleaned up by the next. The first export dumps every \
            row (seq: the head seq it was read at); later ones the rows changed since (seq: the row's \
            latest change). Prints the new file's path; nothing when nothing changed.
            """))

    @Option(help: ArgumentHelp("The folder to export into (it must exist).", valueName: "dir")) var to: String
    @Option(help: "ndjson or csv.") var format: ExportFormat = .ndjson
    @Option(help: "maintenances, trail or windows.") var entity: ExportEntity = .maintenances
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let bar = ProgressBar("export")
        defer { bar.finish() }
        let result = try ledger.openForReading().export(to: to, entity: entity, format: format) { bar.count($0, of: $1, "rows") }
        bar.finish()
        for name in result.recovered { Console.error("Counted \(name), which an interrupted export completed") }
        for name in result.removed { Console.error("Removed \(name), which an interrupted export left incomplete") }
        guard let path = result.path, let manifest = result.manifest else {
            Console.error("Nothing to export: no \(entity.rawValue) changed after seq \(result.cursor)")
            return
        }
        Console.error("Exported \(manifest.rows) \(entity.rawValue) rows covering seq \(manifest.firstSeq) to \(manifest.lastSeq)")
        Console.output(path)
    }
}
