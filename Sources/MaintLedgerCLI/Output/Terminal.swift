import Foundation
import LedgerCore

/// What stdout and stderr are attached to, and the colours a terminal gets.
enum Terminal {
    /// The width tables fit into: stdout's terminal's, or $COLUMNS when set to a number (as the
    /// `heroku` CLI reads it); nil when stdout is not a terminal (a pipe, a file), so that what
    /// programs read is never cut.
    static var standardOutputWidth: Int? {
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        if let text = getenv("COLUMNS").map({ String(cString: $0) }), let columns = Int(text), columns > 0 { return columns }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Whether text written to `descriptor` may carry colours: it is a terminal, and NO_COLOR is
    /// unset or empty (no-color.org).
    static func showsColor(_ descriptor: Int32) -> Bool {
        isatty(descriptor) == 1 && (getenv("NO_COLOR").map { $0.pointee == 0 } ?? true)
    }

    /// The SGR code of a maintenance status (or `ok`) when stdout shows colours; nil for any
    /// other text, and when it does not.
    static func standardOutputColor(for word: String) -> String? {
        stdoutShowsColor ? colorCode(for: word) : nil
    }

    /// `text` in the colour of SGR `code`.
    static func painted(_ text: String, _ code: String) -> String { "\u{1B}[\(code)m\(text)\u{1B}[0m" }

    /// `word` painted in its colour when it is a status (or `ok`) and stdout shows colours.
    static func paintedForStandardOutput(_ word: String) -> String {
        standardOutputColor(for: word).map { painted(word, $0) } ?? word
    }

    private static let stdoutShowsColor = showsColor(STDOUT_FILENO)

    /// ANSI SGR codes: green done, red failed, yellow under way, cyan waiting, dim cancelled.
    private static func colorCode(for word: String) -> String? {
        switch MaintenanceStatus(rawValue: word) {
        case .completed: "32"
        case .failed: "31"
        case .running, .preparing, .ready: "33"
        case .pending: "36"
        case .cancelled: "2"
        case nil: word == "ok" ? "32" : nil
        }
    }
}
