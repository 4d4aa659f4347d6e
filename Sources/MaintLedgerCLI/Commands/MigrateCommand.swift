import LedgerStore
import ArgumentParser

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Upgrade an existing ledger to this maintledger's schema.",
        discussion: HelpText.examples(["maintledger migrate"], after: """
            Commands that only read never change a ledger, so a ledger written by an older maintledger is refused by them \
            until it is upgraded: by this command, or by any command that records. Prints one line: what was applied, \
            or that the ledger was up to date. A missing ledger is refused and nothing is created.
            """))

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let database = try ledger.openForUpgrade()
        let schema = LedgerDatabase.schemaVersion
        if database.appliedOnOpen.isEmpty {
            Console.output("up to date: schema \(schema)")
        } else {
            Console.output("upgraded: applied \(database.appliedOnOpen.joined(separator: ", ")); schema \(schema)")
        }
    }
}
