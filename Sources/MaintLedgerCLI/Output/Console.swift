import Foundation
import LedgerCore

enum Console {
    /// Data: stdout only, a line at a time. A line that cannot be written (a full disk) is
    /// remembered: the command then ends with an error instead of 0 (see `outputFailure`).
    /// (A closed pipe, as with `| head`, stops the process quietly, as SIGPIPE does.)
    static func output(_ text: String) {
        guard outputFailure == nil else { return }
        if let error = write(text + "\n", to: STDOUT_FILENO) {
            outputFailure = .outputFailed("cannot write the output: \(String(cString: strerror(error)))")
        }
    }

    /// The first write of `output` that failed, if any. One command runs per process, on its
    /// main thread.
    nonisolated(unsafe) static var outputFailure: LedgerError?

    /// Progress, warnings and errors: stderr only, a line at a time.
    static func error(_ text: String) {
        writeToStandardError(text + "\n")
    }

    /// Progress drawn in place (no line break).
    static func progress(_ text: String) {
        writeToStandardError(text)
    }

    /// Never stops the command: a message that cannot be written (stderr closed, or on a full
    /// disk) is dropped, since what it reports, often a write that has committed, stands anyway.
    /// (Foundation's `FileHandle.write` stops the process when the write fails.)
    private static func writeToStandardError(_ text: String) {
        _ = write(text, to: STDERR_FILENO)
    }

    /// Writes all of `text`; the errno of a failure, nil on success.
    private static func write(_ text: String, to descriptor: Int32) -> Int32? {
        var text = text
        return text.withUTF8 { BufferedWriter.writeFully(descriptor, UnsafeRawBufferPointer($0)) }
    }
}
