/// Help text shared by the commands.
enum HelpText {
    /// A command's discussion followed by its examples, one `$ maintledger …` line each, as
    /// `--help` prints them. HelpExampleTests runs every one as printed, and fails a command
    /// without any.
    static func examples(_ lines: [String], after discussion: String = "") -> String {
        (discussion.isEmpty ? "" : discussion + "\n\n") + "Examples:\n" + lines.map(example).joined(separator: "\n")
    }

    /// Help wraps its text at 80 columns (when not on a wider terminal), at any blank: a longer
    /// example is broken here instead, with a shell's ` \` continuation, so that it still runs
    /// as printed.
    private static func example(_ line: String) -> String {
        var lines: [String] = []
        var current = "  $"
        for word in line.split(separator: " ") {
            if current.count + 1 + word.count > 77 {
                lines.append(current + " \\")
                current = "     "
            }
            current += " " + word
        }
        return (lines + [current]).joined(separator: "\n")
    }
}
