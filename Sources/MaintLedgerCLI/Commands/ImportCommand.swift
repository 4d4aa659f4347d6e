import Foundation
import LedgerCore
import ArgumentParser
import MaintenanceLedger

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import maintenances: what `heroku data:maintenances* --json` prints, or NDJSON.",
        discussion: HelpText.examples(["maintledger import maintenances.ndjson", "maintledger import maintenances.ndjson --dry-run"], after: """
            Reads maintenance objects in the shape of `heroku data:maintenances:info --json`: NDJSON (one object a \
            line, as `history --ndjson` prints), a JSON array (`data:maintenances:history --json`), or pretty-printed \
            objects one after another, with or without a UTF-8 byte order mark. Creates the apps, add-ons and \
            attachments the objects name that the ledger lacks. An object without a uuid (Heroku prints none) gets \
            one derived from its add-on, reason and required_by. A maintenance recorded with the same values is \
            unchanged, so importing a file again changes nothing; one recorded at an earlier point of its \
            lifecycle is moved on (pending yesterday, completed today), through the lifecycle's rules. All or \
            nothing: a bad object is reported with its line or element number and nothing from the file is kept.
            """))

    @Argument(help: ArgumentHelp("The file, or - for standard input.", valueName: "file")) var file: String
    @Option(help: ArgumentHelp("The app of objects that name none; an object naming another is refused.", valueName: "app"))
    var app: String?
    @Option(help: ArgumentHelp("The add-on (its name, as the ledger holds it) of objects that name none; an object naming another is refused.",
                               valueName: "addon"))
    var addon: String?
    @Flag(help: "Read and check everything, report what would be recorded and every maintenance refused, and change nothing.")
    var dryRun = false
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let reader = try LineReader(path: file)
        let source = file == "-" ? "standard input" : file
        let bar = ProgressBar("import")
        defer { bar.finish() }
        let size = Self.size(of: file)
        let summary = try ledger.openForWriting().importMaintenances(
            from: reader, source: source, options: ImportOptions(app: app, addon: addon, dryRun: dryRun),
            progress: { bytes, objects in bar.show(bytes, of: size, "\(bytes * 100 / max(size, 1))%, \(objects) objects") },
            refused: { refusal in
                bar.finish()
                Console.error("Refused: \(refusal.message.escapingControlCharacters)")
            })
        bar.finish()
        Console.error(Self.describe(summary, source: source, dryRun: dryRun))
        if summary.refused > 0 {
            throw LedgerError.refused("\(summary.refused) of the maintenances in \(source) would be refused; an import of it would keep nothing",
                                      hint: "Fix them, or take them out of the file, and import it.")
        }
    }

    /// The bytes of a regular file, 0 for standard input and other streams (no bar then).
    private static func size(of path: String) -> Int {
        guard path != "-", let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeRegular else { return 0 }
        return (attributes[.size] as? Int) ?? 0
    }

    static func describe(_ summary: ImportSummary, source: String, dryRun: Bool) -> String {
        let lines = summary.lines == summary.objects ? "" : " (\(summary.lines) lines)"
        var parts = [
            "\(dryRun ? "Would import" : "Imported") \(summary.objects) objects\(lines) from \(source): \(summary.new) new, "
                + "\(summary.progressed) progressed, \(summary.unchanged) unchanged, \(summary.refused) refused",
            "\(summary.appsCreated) apps, \(summary.addonsCreated) add-ons and \(summary.attachmentsCreated) attachments "
                + (dryRun ? "to create" : "created"),
        ]
        if summary.attachmentsLeftOut > 0 { parts.append("\(summary.attachmentsLeftOut) attachment names of other apps left out") }
        if summary.withoutMaintenance > 0 { parts.append("\(summary.withoutMaintenance) add-ons without a maintenance (status none) skipped") }
        if !summary.unknownKeys.isEmpty {
            // Names as long as a line would make the summary as long: each is cut to 40 characters.
            var keys = summary.unknownKeys.named.sorted { $0.key < $1.key }.map { key, times in
                "\(key.count > 40 ? key.prefix(39) + "…" : key) (\(times))"
            }
            if summary.unknownKeys.others > 0 { keys.append("other keys (\(summary.unknownKeys.others))") }
            parts.append("unknown keys ignored: " + keys.joined(separator: ", ").escapingControlCharacters)
        }
        return parts.joined(separator: "; ") + (dryRun ? "; nothing was recorded (dry run)" : "")
    }
}
