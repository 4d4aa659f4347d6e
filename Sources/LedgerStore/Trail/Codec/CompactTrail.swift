import LedgerCore

// Trail/Codec holds format 2's bytes alone: the tags, varints and values, the writer's choice of
// form for each value (`CompactPayloadEncoder`) and the reader (`CompactPayloadParser`). It
// imports only LedgerCore, so that fuzz/trail compiles it beside LedgerCore's sources without
// SQLite or swift-crypto (LayerRulesTests holds it to that); reading rows from SQLite and
// hashing them stay in CompactPayload.swift.

/// Trail format 2: an entry's payload in bytes, the changes of its command back to back
/// (docs/trail-format.md defines it byte for byte, with an example):
///
///     change  = code id body          code: 0x10 · operation + table code (`LedgerTable.code`)
///     insert  = count value…          every column after id, in table order (count of them)
///     update  = count (column value)… digest
///                                     the columns the command set, by index, ascending; then
///                                     the first 16 bytes of SHA-256 of the whole row after it
///
/// Numbers are LEB128 varints (integers zigzag-encoded first). A value is a tag byte and its
/// data; texts that are the entry's own time or actor, a stored time or a uuid take 1, 1, ~7 and
/// 17 bytes instead of 24 to 37. Every value has exactly one encoding (`CompactPayloadParser`
/// refuses any other), so the bytes, and the hash over them, follow from the rows alone.
package enum CompactTrail {
    /// The first byte of the bytes a format 2 entry's hash covers (format 1's are hex digits).
    package static let formatTag: UInt8 = 0x02
    package static let digestCount = 16

    package enum Operation: UInt8, Sendable {
        case insert = 1, update = 2
    }

    package enum Tag: UInt8 {
        case null = 0, integer, real, text, blob
        /// A text in the stored time form, as milliseconds since 1970 (zigzag varint).
        case time
        /// The entry's `recorded_at` and `actor`.
        case recordedAt, actor
        /// A lowercase 8-4-4-4-12 hex uuid, as its 16 bytes.
        case uuid
    }

    package static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    package static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
    package static func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1))) }

    /// A value as row digests encode it: the tags null…blob only, texts as they are.
    package static func appendPlain(_ value: CompactValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(Tag.null.rawValue)
        case .integer(let number):
            out.append(Tag.integer.rawValue)
            appendVarint(zigzag(number), to: &out)
        case .real(let number):
            out.append(Tag.real.rawValue)
            withUnsafeBytes(of: number.bitPattern.bigEndian) { out.append(contentsOf: $0) }
        case .text(let text):
            out.append(Tag.text.rawValue)
            appendVarint(UInt64(text.count), to: &out)
            out.append(contentsOf: text)
        case .blob(let blob):
            out.append(Tag.blob.rawValue)
            appendVarint(UInt64(blob.count), to: &out)
            out.append(contentsOf: blob)
        }
    }

    package static func appendPlainBytes(_ tag: Tag, _ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(tag.rawValue)
        appendVarint(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }
}

/// A column's value as SQLite holds it.
package enum CompactValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text([UInt8])
    case blob([UInt8])
}

/// Lowercase 8-4-4-4-12 hex uuids and their 16 bytes.
package enum UUIDText {
    private static let dashes: Set<Int> = [8, 13, 18, 23]

    package static func bytes(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        guard text.count == 36 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var high: UInt8?
        for (index, character) in text.enumerated() {
            // The dashes' places (`dashes`), compared at every character: a set would hash each.
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard character == UInt8(ascii: "-") else { return nil }
                continue
            }
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let pending = high {
                bytes.append(pending << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }

    /// Whether `text` is a uuid in this form.
    package static func isCanonical(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes(UnsafeRawBufferPointer($0)) } != nil
    }

    package static func text(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var text = Hex.bytes(bytes)
        for dash in dashes.sorted() { text.insert(UInt8(ascii: "-"), at: dash) }
        return text
    }
}

/// Writes bytes at a pointer, for the loops that render every row of a ledger: appending to an
/// array checks its uniqueness and its capacity at every byte and every piece. Whoever makes a
/// writer makes room first (`ByteBuffer.append(upTo:_:)`).
package struct ByteWriter {
    /// The most bytes `varint` writes.
    package static let varintLimit = 10

    package private(set) var next: UnsafeMutableRawPointer

    package init(_ start: UnsafeMutableRawPointer) { next = start }

    package mutating func byte(_ byte: UInt8) {
        next.storeBytes(of: byte, as: UInt8.self)
        next += 1
    }

    /// Unsigned LEB128, as `CompactTrail.appendVarint`.
    package mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            byte(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        byte(UInt8(value))
    }

    package mutating func bigEndian(_ value: UInt64) {
        next.storeBytes(of: value.bigEndian, as: UInt64.self)
        next += 8
    }

    package mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        guard let start = bytes.baseAddress, !bytes.isEmpty else { return }
        next.copyMemory(from: start, byteCount: bytes.count)
        next += bytes.count
    }

    /// A tag, the length of `bytes` and `bytes`: a text or blob in the plain encoding.
    package mutating func lengthAndBytes(_ tag: CompactTrail.Tag, _ bytes: UnsafeRawBufferPointer) {
        byte(tag.rawValue)
        varint(UInt64(bytes.count))
        self.bytes(bytes)
    }

    /// The 24 bytes of the stored form of `time`, which must be in `Timestamp.storedRange`.
    package mutating func storageText(of time: Timestamp) {
        time.writeStorageText(to: next)
        next += 24
    }

    /// The 36 bytes of the text of the uuid whose 16 `bytes` these are.
    package mutating func uuidText(_ bytes: UnsafeRawBufferPointer) {
        for (position, value) in bytes.enumerated() {
            // The dashes come after the 4th, 6th, 8th and 10th byte (8-4-4-4-12 digits).
            if position == 4 || position == 6 || position == 8 || position == 10 { byte(UInt8(ascii: "-")) }
            byte(Hex.digits[Int(value >> 4)])
            byte(Hex.digits[Int(value & 0x0F)])
        }
    }
}
