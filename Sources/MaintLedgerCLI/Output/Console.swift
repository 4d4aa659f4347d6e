import Foundation

enum Console {
    /// Data: stdout only.
    static func output(_ text: String) {
        print(text)
    }

    /// Progress, warnings and errors: stderr only.
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
