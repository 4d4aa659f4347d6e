/// Lowercase hex text of bytes (hashes, blobs).
public enum Hex {
    @usableFromInline package static let digits = Array("0123456789abcdef".utf8)

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

extension Hex {
    /// The bytes of lowercase or uppercase hex digits; nil for anything else or an odd count.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(digits: Array(text.utf8))
    }

    /// `decode` of the digits' UTF-8 bytes.
    public static func decode(digits: [UInt8]) -> [UInt8]? {
        digits.withUnsafeBufferPointer { decode(digits: $0) }
    }

    /// `decode` of the digits' UTF-8 bytes, in place.
    public static func decode(digits: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: digits.startIndex, to: digits.endIndex, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
