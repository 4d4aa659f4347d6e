import Foundation

enum Console {
    /// Data: stdout only.
    static func output(_ text: String) {
        print(text)
    }

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
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
