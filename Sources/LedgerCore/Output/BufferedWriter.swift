import Foundation

/// Bytes out to a file descriptor through a 64 KiB buffer (stdout, or an export's file), so that
/// millions of rows cost a few thousand `write` calls and memory stays flat.
package final class BufferedWriter {
    private static let capacity = 1 << 16
    private let descriptor: Int32
    /// What the bytes go to, for error messages: "the output", or a file's path.
    private let destination: String
    /// Hears every chunk as it goes out, in order (an export hashes its file this way).
    private let onWrite: ((UnsafeRawBufferPointer) -> Void)?
    private let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    private var count = 0
    /// The first failure of a `write`, which streams without throwing; `finish` reports it.
    private var deferredFailure: LedgerError?

    package init(descriptor: Int32, destination: String, onWrite: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        self.descriptor = descriptor
        self.destination = destination
        self.onWrite = onWrite
    }

    package static func standardOutput() -> BufferedWriter { BufferedWriter(descriptor: STDOUT_FILENO, destination: "the output") }

    deinit { buffer.deallocate() }

    package func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        if count + bytes.count > Self.capacity { try flush() }
        if bytes.count > Self.capacity { return try writeOut(bytes) }
        (buffer + count).update(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        count += bytes.count
    }

    package func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    package func append(_ byte: UInt8) throws {
        if count == Self.capacity { try flush() }
        buffer[count] = byte
        count += 1
    }

    /// The decimal digits of `value`, written straight into the buffer.
    package func appendDecimal(_ value: Int64) throws {
        if count + 20 > Self.capacity { try flush() }
        var magnitude = value.magnitude
        var digits = 0
        repeat {
            digits += 1
            magnitude /= 10
        } while magnitude > 0
        if value < 0 {
            buffer[count] = UInt8(ascii: "-")
            count += 1
        }
        magnitude = value.magnitude
        for position in stride(from: count + digits - 1, through: count, by: -1) {
            buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        }
        count += digits
    }

    /// Streams text without stopping the caller at each write: the first failure is kept for
    /// `finish` to report.
    package func write(_ text: String) {
        guard deferredFailure == nil else { return }
        var text = text
        do {
            try text.withUTF8 { try append(UnsafeRawBufferPointer($0)) }
        } catch let error as LedgerError {
            deferredFailure = error
        } catch {
            preconditionFailure("writes throw LedgerError only")
        }
    }

    /// Writes out what is buffered; throws when the descriptor refuses (a full disk, a closed pipe).
    package func flush() throws {
        defer { count = 0 }
        try writeOut(UnsafeRawBufferPointer(start: buffer, count: count))
    }

    /// Flushes, and reports the first write that failed since the writer was made.
    package func finish() throws {
        try flush()
        if let deferredFailure { throw deferredFailure }
    }

    private func writeOut(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        onWrite?(bytes)
        if let error = Self.writeFully(descriptor, bytes) {
            throw LedgerError.outputFailed("cannot write \(destination): \(String(cString: strerror(error)))")
        }
    }

    /// Writes all of `bytes`, retrying short and interrupted writes; the errno of a failure.
    package static func writeFully(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return nil
    }
}
