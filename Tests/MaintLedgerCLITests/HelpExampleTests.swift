import Foundation
import Testing

/// Every command's `--help` ends with examples, and each runs as printed (on the seed example:
/// example-app with redis-lively-12345, whose maintenance has completed). A command added
/// without examples fails here.
@Suite struct HelpExampleTests {
    /// The commands whose examples must run first, in order, for a command's own to work.
    static let runsAfter: [String: [String]] = [
        "addons:attach": ["apps:create"],
        "addons:detach": ["apps:create", "addons:attach"],
        "data:maintenances:run": ["platform:maintenances:require"],
        "data:maintenances:schedule": ["platform:maintenances:require"],
        "platform:maintenances:prepare": ["platform:maintenances:require"],
        "platform:maintenances:ready": ["platform:maintenances:require", "platform:maintenances:prepare"],
        "platform:maintenances:start": ["platform:maintenances:require"],
        "platform:maintenances:complete": ["platform:maintenances:require", "platform:maintenances:start"],
        "platform:maintenances:fail": ["platform:maintenances:require", "platform:maintenances:start"],
        "platform:maintenances:cancel": ["platform:maintenances:require"],
        "import": ["history"],
        "rebuild": ["export"],
        "audit:checkpoint": ["audit:keygen"],
        "audit:prove": ["audit:keygen", "audit:checkpoint"],
        "audit:check-proof": ["audit:keygen", "audit:checkpoint", "audit:prove"],
    ]

    /// What the user has done before, in the shell, where an example needs it.
    static let before: [String: String] = [
        "export": "mkdir -p exports trail-exports",
        // The demo simulates the year up to now: on the fixture's clock it would end in the future.
        "demo": "unset MAINTLEDGER_NOW",
    ]

    /// The `$ maintledger …` lines of a command's help, each with the lines a ` \` at its end
    /// continues it on.
    static func examples(of command: String) throws -> [String] {
        let help = try LedgerSandbox().ok([command, "--help"], useDB: false).stdout
        var examples: [String] = []
        var continued = false
        for line in help.split(separator: "\n").map(String.init) {
            if continued {
                examples[examples.count - 1] += "\n" + line
            } else if line.hasPrefix("  $ maintledger ") {
                examples.append(String(line.dropFirst(4)))
            }
            continued = (continued || line.hasPrefix("  $ maintledger ")) && line.hasSuffix(" \\")
        }
        return examples
    }

    @Test func everyCommandsExamplesRunAsPrinted() throws {
        let commands = try ShellCompletionTests.commandNames()
        let examples = try Dictionary(uniqueKeysWithValues: commands.map { ($0, try Self.examples(of: $0)) })
        for command in commands {
            #expect(!examples[command]!.isEmpty, "\(command) --help shows no example")
            let sandbox = try Fixture.seedExample()
            let commandsBefore = (Self.runsAfter[command] ?? []) + [command]
            let preparation = commandsBefore.compactMap { Self.before[$0] }.map { $0 + "\n" }.joined()
            for line in commandsBefore.flatMap({ examples[$0]! }) {
                // As a user types it: in the ledger's folder, maintledger on the PATH, the ledger in MAINTLEDGER_DB.
                let result = try sandbox.shell("""
                    cd "$(dirname "$DB")" && export PATH="$(dirname "$BIN"):$PATH" MAINTLEDGER_DB="$DB" || exit 99
                    \(preparation)\(line)
                    """)
                #expect(result.exitCode == 0, "\(command): \(line)\n\(result)")
            }
        }
    }
}
