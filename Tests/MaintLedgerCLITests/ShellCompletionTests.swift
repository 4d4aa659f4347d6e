import Foundation
import Testing

/// The completion scripts `--generate-completion-script` prints, loaded into real interactive
/// bash, zsh and fish sessions in tmux: typing a command's name but its last letter and TAB
/// completes it, colons and all (bash splits words at ':'). .ci/run installs tmux, zsh and fish.
@Suite(.enabled(if: InteractiveShell.toolsInstalled, "tmux, zsh or fish is not installed (apt-get install tmux zsh fish); the completion tests are skipped"))
struct ShellCompletionTests {
    /// Every command's name, from the binary's own description of itself.
    static func commandNames() throws -> [String] {
        let dump = try LedgerSandbox().ok(["--experimental-dump-help"], useDB: false).stdout
        let json = try #require(JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any])
        let subcommands = try #require((json["command"] as? [String: Any])?["subcommands"] as? [[String: Any]])
        return subcommands.compactMap { $0["commandName"] as? String }.filter { $0 != "help" }
    }

    /// What TAB must leave on the line after `typed`: the longest prefix the commands starting
    /// with it share, and a space after a command nothing longer begins with.
    static func expectedLine(after typed: String, among names: [String]) -> String {
        let matching = names.filter { $0.hasPrefix(typed) }
        guard matching.count > 1 else { return matching[0] + " " }
        var shared = matching[0]
        for name in matching.dropFirst() { shared = String(zip(shared, name).prefix { $0 == $1 }.map(\.0)) }
        return shared
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func tabCompletesEveryCommand(shell: String) throws {
        let names = try Self.commandNames()
        #expect(names.count >= 40 && names.contains("audit:verify") && names.contains("data:maintenances:window:update"))
        let session = try InteractiveShell(shell)
        defer { session.close() }
        // The cases the issue names first, then every command typed but its last letter.
        var cases = [("audit:v", "audit:verify "), ("data:maint", "data:maintenances")]
        cases += names.map { name in
            let typed = String(name.dropLast())
            return (typed, Self.expectedLine(after: typed, among: names))
        }
        for (typed, expected) in cases {
            let line = try session.complete("maintledger " + typed)
            #expect(line == "maintledger " + expected, "\(shell): maintledger \(typed)<TAB>")
        }
        // Options of a colon command, and a command completed after its last colon.
        #expect(try session.complete("maintledger audit:verify --integ") == "maintledger audit:verify --integrity ")
        #expect(try session.complete("maintledger data:maintenances:window:upd") == "maintledger data:maintenances:window:update ")
    }
}

/// One interactive shell in a tmux session of its own (its own socket), with maintledger on
/// its PATH and maintledger's completion script for it loaded.
final class InteractiveShell {
    static let toolsInstalled = ["tmux", "bash", "zsh", "fish"].allSatisfy { tool in
        ["/usr/bin/", "/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + tool) }
    }
    static let prompt = "PROMPT> "

    private let sandbox: LedgerSandbox
    private let socket: String

    init(_ shell: String, width: Int = 250) throws {
        sandbox = try LedgerSandbox()
        socket = sandbox.folder.appendingPathComponent("tmux.sock").path
        let folder = sandbox.folder.path
        let bin = sandbox.folder.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: bin.appendingPathComponent("maintledger"), withDestinationURL: LedgerSandbox.binary)
        let script = try sandbox.ok(["--generate-completion-script", shell], useDB: false).stdout
        let command: String, setup: String
        switch shell {
        case "bash":
            try script.write(toFile: folder + "/maintledger.bash", atomically: true, encoding: .utf8)
            command = "bash --norc --noprofile"
            setup = "PS1='\(Self.prompt)'; source \(folder)/maintledger.bash"
        case "zsh":
            try script.write(toFile: folder + "/_maintledger", atomically: true, encoding: .utf8)
            command = "zsh -f"
            setup = "PS1='\(Self.prompt)'; fpath=(\(folder) $fpath); autoload -U compinit; compinit -u"
        default:
            try script.write(toFile: folder + "/maintledger.fish", atomically: true, encoding: .utf8)
            command = "fish --no-config"
            setup = "function fish_prompt; echo -n '\(Self.prompt)'; end; set -g fish_autosuggestion_enabled 0; source \(folder)/maintledger.fish"
        }
        // The tmux server outlives the command that starts it: it must not inherit the
        // descriptor by which Foundation learns that the command has exited.
        try tmux(["new-session", "-d", "-x", String(width), "-y", "50",
                  "env -i PATH=\(bin.path):/usr/bin:/bin HOME=\(folder) TERM=xterm-256color \(command)"],
                 closingInheritedDescriptors: true)
        // A shell starting up discards what was typed before its first prompt.
        try waitFor { !$0.isEmpty }
        try tmux(["send-keys", "-l", setup])
        try tmux(["send-keys", "Enter"])
        try waitFor { $0.contains { $0 == Self.prompt } }
    }

    func close() { _ = try? tmux(["kill-server"]) }

    /// Types `text`, presses TAB, and returns the command line once it has stopped changing
    /// (or after 3 seconds, when TAB added nothing); then clears the line and the screen.
    func complete(_ text: String) throws -> String {
        try tmux(["send-keys", "-l", text])
        try waitFor { $0.last == Self.prompt + text }
        try tmux(["send-keys", "Tab"])
        var line = Self.prompt + text
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            guard let current = try commandLine(), current != line else { continue }
            line = current
            Thread.sleep(forTimeInterval: 0.3) // let a slower shell finish redrawing
            if try commandLine() == line { break }
        }
        try tmux(["send-keys", "C-u"]) // bash, zsh and fish: delete the line before the cursor
        try tmux(["send-keys", "C-l"])
        try waitFor { $0 == [Self.prompt] }
        return String(line.dropFirst(Self.prompt.count))
    }

    /// Runs a command line and returns what it showed, escape sequences included (`-e`: tmux
    /// writes the colours back as SGR codes, ending one with 39, default colour).
    func run(_ line: String) throws -> [String] {
        try tmux(["send-keys", "C-l"])
        try waitFor { $0 == [Self.prompt] }
        try tmux(["send-keys", "-l", line])
        try tmux(["send-keys", "Enter"])
        try waitFor { $0.last == Self.prompt && $0.count > 1 }
        let shown = try tmux(["capture-pane", "-p", "-e", "-J"]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(shown.firstIndex { $0.hasPrefix(Self.prompt) })
        return shown[(start + 1)...].prefix { !$0.contains(Self.prompt) }.filter { !$0.isEmpty }
    }

    /// The last line holding the prompt (a listing of candidates may follow it).
    private func commandLine() throws -> String? {
        try screen().last { $0.hasPrefix(Self.prompt) }
    }

    /// The lines on screen that show something, with the blanks a shell wrote (`-N`): the
    /// space after a completed word counts.
    private func screen() throws -> [String] {
        try tmux(["capture-pane", "-p", "-N"]).split(separator: "\n").map { String($0) }.filter { $0.contains { $0 != " " } }
    }

    private func waitFor(_ condition: ([String]) -> Bool) throws {
        for _ in 0..<200 {
            if condition(try screen()) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let shown = try screen()
        try #require(Bool(false), "the shell never showed what was expected: \(shown)")
    }

    @discardableResult
    private func tmux(_ arguments: [String], closingInheritedDescriptors: Bool = false) throws -> String {
        let closeAbove2 = #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; ((fd > 2)) && exec {fd}>&-; done 2>/dev/null; "#
        return try RunningBinary(executable: URL(fileURLWithPath: "/bin/bash"),
                                 arguments: ["-c", (closingInheritedDescriptors ? closeAbove2 : "") + #"exec tmux "$@""#, "tmux", "-S", socket] + arguments,
                                 environment: ["PATH": "/usr/bin:/bin", "HOME": sandbox.folder.path], folder: sandbox.folder).finish().stdout
    }
}
