/// Lowercase hex text of bytes (hashes, blobs).
public enum Hex {
    @usableFromInline static let digits = Array("0123456789abcdef".utf8)

    @inlinable public static func string<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        String(decoding: Self.bytes(bytes), as: UTF8.self)
    }

    /// The lowercase hex digits as UTF-8 bytes.
    @inlinable public static func bytes<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }
}
