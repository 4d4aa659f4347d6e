import ArgumentParser
import MaintenanceLedger

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the ledger, while others keep recording, to a new file, and verify the copy.",
        discussion: HelpText.examples(["maintledger backup --to ledger-backup.sqlite"], after: """
            Copies the ledger as one commit left it with SQLite's online backup API (writers go on recording \
            meanwhile), to a hidden temporary file in FILE's folder, readable by its owner only; verifies the copy \
            as audit:verify does; then fsyncs it and gives it FILE's name. Prints the copy's verdict, the line \
            `audit:verify --db FILE` prints. Until then nothing is at FILE: a backup that fails or is killed leaves \
            none, and the next backup into the folder removes the temporary file a killed one left. \
            An existing FILE is replaced only with --force. The ledger is only read.
            """))

    @Option(help: ArgumentHelp("The file to write the backup to (its folder must exist).", valueName: "file"))
    var to: String
    @Flag(help: "Replace FILE if it exists (an earlier backup).")
    var force = false
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let (copying, verifying) = (ProgressBar("backup"), ProgressBar("verify"))
        defer {
            copying.finish()
            verifying.finish()
        }
        let result = try ledger.openForReading().backup(to: to, replacing: force, copying: { copying.count($0, of: $1, "pages") },
                                                        verifying: { verifying.count($0, of: $1, "entries") })
        copying.finish()
        verifying.finish()
        for path in result.removed { Console.error("Removed \(path), which an interrupted backup left") }
        Console.error("Backing up \(ledger.path) to \(to)... done")
        Console.output(Terminal.paintedForStandardOutput("ok") + ": \(result.verification.entryCount) entries verified, head \(result.verification.headHash)")
    }
}
