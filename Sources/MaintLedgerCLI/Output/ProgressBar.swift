import Foundation

/// Shows a bar on stderr while a long command runs, only when stderr is a terminal (a file or a
/// pipe gets nothing): `LABEL [####......] TEXT`, drawn in place at most ten times a second,
/// and ended by a line break once done, or by `finish` when the command stops first (so that
/// what follows, a summary or an error, starts on a line of its own).
final class ProgressBar {
    private let enabled = isatty(STDERR_FILENO) == 1
    private let label: String
    /// When it was last drawn (monotonic nanoseconds), nil before the first time.
    private var drawnAt: UInt64?
    private var ended = false

    init(_ label: String) { self.label = label }

    /// A simulation's progress: `day 12/365`.
    func update(_ done: Int, _ total: Int) {
        show(done, of: total, "day \(done)/\(total)")
    }

    /// `done` of `total` things: `1200/48000 entries`.
    func count(_ done: Int, of total: Int, _ things: String) {
        show(done, of: total, "\(done)/\(total) \(things)")
    }

    /// `done` of `total` (nothing when the total is not known), with `text` after the bar.
    func show(_ done: Int, of total: Int, _ text: String) {
        guard enabled, total > 0, !ended else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        if done < total, let drawnAt, now - drawnAt < 100_000_000 { return }
        drawnAt = now
        let width = 30, filled = min(done, total) * width / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        Console.progress("\r\(label) [\(bar)] \(text)")
        if done >= total { finish() }
    }

    /// Ends the bar's line, if one was drawn.
    func finish() {
        guard drawnAt != nil, !ended else { return }
        ended = true
        Console.progress("\n")
    }
}
