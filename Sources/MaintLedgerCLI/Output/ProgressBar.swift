import Foundation

/// Shows a bar on stderr while a simulation runs, only when stderr is a terminal.
struct ProgressBar {
    private let enabled = isatty(STDERR_FILENO) == 1
    private let label: String

    init(_ label: String) { self.label = label }

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let width = 30, filled = done * width / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        Console.progress("\r\(label) [\(bar)] day \(done)/\(total)")
        if done == total { Console.progress("\n") }
    }
}
