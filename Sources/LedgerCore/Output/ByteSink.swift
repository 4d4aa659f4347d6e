import Foundation

/// Text out through a 64 KiB buffer to a file descriptor (stdout, or an export's file), so that
/// millions of rows cost a few thousand `write` calls and memory stays flat.
public final class ByteSink {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private static let capacity = 1 << 16

    public init(descriptor: Int32) {
        self.descriptor = descriptor
        buffer.reserveCapacity(Self.capacity)
    }

    public static func standardOutput() -> ByteSink { ByteSink(descriptor: STDOUT_FILENO) }

    public func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            buffer.append(contentsOf: bytes)
        }
        if buffer.count >= Self.capacity { flushIgnoringErrors() }
    }

    /// Writes out what is buffered; throws when the descriptor refuses (a full disk, a closed pipe).
    public func flush() throws {
        defer { buffer.removeAll(keepingCapacity: true) }
        if let error = buffer.withUnsafeBytes({ writeFully(descriptor, $0) }) {
            throw LedgerError.refused("cannot write the output: \(String(cString: strerror(error)))", hint: nil)
        }
    }

    private var failure: LedgerError?

    private func flushIgnoringErrors() {
        do { try flush() } catch let error as LedgerError { failure = failure ?? error } catch {}
    }

    /// Flushes, and reports the first write that failed since the sink was made.
    public func finish() throws {
        try flush()
        if let failure { throw failure }
    }
}

/// Writes all of `bytes` to the descriptor, retrying short and interrupted writes; the errno of
/// a failure, nil on success.
package func writeFully(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
    var offset = 0
    while offset < bytes.count {
        let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            return errno
        }
        offset += written
    }
    return nil
}
