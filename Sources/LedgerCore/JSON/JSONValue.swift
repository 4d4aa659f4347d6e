/// A JSON value with ordered object keys, so output and trail payloads are byte-for-byte
/// deterministic (the trail hashes them).
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])
    /// JSON text already rendered (a stored trail payload), written out as it is.
    case raw(String)

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        lhs.compactText == rhs.compactText
    }

    public static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }

    /// The value under `key` when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// One line, no spaces: the canonical form hashed by the audit trail.
    public var compactText: String {
        var out = ""
        write(to: &out, indent: nil, level: 0)
        return out
    }

    /// Two-space indented, as the CLI prints `--json`.
    public var prettyText: String { prettyText(level: 0) }

    /// Pretty text for a value nested `level` deep (an item of a streamed array).
    public func prettyText(level: Int) -> String {
        var out = ""
        write(to: &out, indent: "  ", level: level)
        return out
    }

    private func write(to out: inout String, indent: String?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .double(let value): out += value.isFinite ? String(value) : "null"
        case .string(let value): Self.writeString(value, to: &out)
        case .raw(let text): out += text
        case .array(let items):
            writeContainer(open: "[", close: "]", count: items.count, to: &out, indent: indent, level: level) { index, out in
                items[index].write(to: &out, indent: indent, level: level + 1)
            }
        case .object(let members):
            writeContainer(open: "{", close: "}", count: members.count, to: &out, indent: indent, level: level) { index, out in
                Self.writeString(members[index].0, to: &out)
                out += indent == nil ? ":" : ": "
                members[index].1.write(to: &out, indent: indent, level: level + 1)
            }
        }
    }

    private func writeContainer(open: String, close: String, count: Int, to out: inout String, indent: String?,
                                level: Int, element: (Int, inout String) -> Void) {
        out += open
        guard count > 0 else { out += close; return }
        for index in 0..<count {
            if index > 0 { out += "," }
            if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
            element(index, &out)
        }
        if let indent { out += "\n" + String(repeating: indent, count: level) }
        out += close
    }

    private static func writeString(_ value: String, to out: inout String) {
        // Most strings need no escaping: copy them whole.
        guard JSONBytes.needsEscaping(value.utf8) else {
            out += "\""
            out += value
            out += "\""
            return
        }
        var escaped: [UInt8] = []
        JSONBytes.appendString(value.utf8, to: &escaped)
        out += String(decoding: escaped, as: UTF8.self)
    }
}

/// JSON written straight as bytes, for the hot loops (export, verification) that would
/// otherwise build a `String` per value; `JSONValue` escapes its strings here too, so there is
/// one escaping (the trail hashes its result).
public enum JSONBytes {
    @inlinable public static func needsEscaping<Text: Collection<UInt8>>(_ text: Text) -> Bool {
        text.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }

    /// `text` (UTF-8) as a quoted JSON string: `"`, `\\`, and control characters escaped.
    @inlinable public static func appendString<Text: Collection<UInt8>>(_ text: Text, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        guard needsEscaping(text) else {
            out.append(contentsOf: text)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case ..<0x20: out.append(contentsOf: Array("\\u00".utf8) + Hex.bytes(CollectionOfOne(byte)))
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    @inlinable public static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let first = out.count
        var magnitude = value.magnitude
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out[first...].reverse()
    }

}

extension JSONValue {
    /// Parses one JSON text, such as an import line (Foundation's parser builds `NSNumber`s and
    /// `NSDictionary`s: several times slower). Object keys keep their order; a number without
    /// fraction or exponent that fits 64 bits is `.int`, any other `.double`. Nil when invalid,
    /// which includes an object that names a key twice (which of its values would count?).
    package static func parse(_ bytes: [UInt8]) -> JSONValue? {
        var failure: JSONParseFailure?
        return parse(bytes, failure: &failure)
    }

    /// As `parse`, saying why the text is invalid and where.
    package static func parse(_ bytes: [UInt8], failure: inout JSONParseFailure?) -> JSONValue? {
        bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            if let value = parser.value() {
                parser.skipSpace()
                if parser.atEnd { return value }
            }
            failure = JSONParseFailure(reason: parser.failure ?? .syntax, offset: parser.position)
            return nil
        }
    }
}

/// Why a JSON text is invalid, and the byte at which the parser stopped (its count when the
/// text ends too soon).
package struct JSONParseFailure: Equatable, Sendable {
    package enum Reason: Equatable, Sendable {
        /// Not JSON: a missing comma or quote, a bare word (`NaN`), a control character in a string.
        case syntax
        /// A string whose bytes are not UTF-8 (the offset is its opening quote).
        case notUTF8
        /// Arrays and objects nested deeper than `maximumDepth`.
        case tooDeep
        /// An object naming a key twice: which of its values would count?
        case duplicateKey(String)
    }

    package static let maximumDepth = 64
    package let reason: Reason
    package let offset: Int
}

private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    /// Deep nesting (past `JSONParseFailure.maximumDepth`) is refused rather than recursed into.
    var depth = 0
    /// Why the text is invalid, when it is for another reason than its grammar.
    var failure: JSONParseFailure.Reason?

    var atEnd: Bool { position == bytes.count }

    mutating func skipSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func literal(_ text: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count,
              (0..<count).allSatisfy({ bytes[position + $0] == text.utf8Start[$0] }) else { return nil }
        position += count
        return value
    }

    mutating func value() -> JSONValue? {
        skipSpace()
        guard position < bytes.count else { return nil }
        guard depth < JSONParseFailure.maximumDepth else {
            failure = .tooDeep
            return nil
        }
        switch bytes[position] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    mutating func object() -> JSONValue? {
        position += 1
        depth += 1
        defer { depth -= 1 }
        var members: [(String, JSONValue)] = []
        var keys: Set<String> = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipSpace()
            guard let key = string() else { return nil }
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
            position += 1
            guard let value = value() else { return nil }
            // A few keys are compared in a row; many go through a set (no quadratic time).
            let seen = members.count < 16 ? members.contains { $0.0 == key } : !keys.insert(key).inserted
            guard !seen else {
                failure = .duplicateKey(key)
                return nil
            }
            members.append((key, value))
            if members.count == 16 { keys = Set(members.map(\.0)) }
            skipSpace()
            guard position < bytes.count else { return nil }
            switch bytes[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(members)
            default: return nil
            }
        }
    }

    mutating func array() -> JSONValue? {
        position += 1
        depth += 1
        defer { depth -= 1 }
        var items: [JSONValue] = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
            guard let item = value() else { return nil }
            items.append(item)
            skipSpace()
            guard position < bytes.count else { return nil }
            switch bytes[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(items)
            default: return nil
            }
        }
    }

    mutating func string() -> String? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        position += 1
        let start = position
        // Most strings have no escapes: decode them in one go.
        var highBits: UInt8 = 0
        while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\"), bytes[position] >= 0x20 {
            highBits |= bytes[position]
            position += 1
        }
        guard position < bytes.count else { return nil }
        if bytes[position] == UInt8(ascii: "\"") {
            position += 1
            let text = UnsafeBufferPointer(rebasing: bytes[start..<(position - 1)])
            // ASCII is valid UTF-8 as it is: `String(validating:)`, generic over the encoding,
            // looked up its type's metadata for every string, a fifth of an import's parsing.
            return highBits < 0x80 ? String(decoding: text, as: UTF8.self) : validUTF8(text, quote: start - 1)
        }
        var text = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""): return validUTF8(text, quote: start - 1)
            case ..<0x20:
                position -= 1
                return nil
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { return nil }
                position += 1
                switch bytes[position - 1] {
                case UInt8(ascii: "\""): text.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): text.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): text.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by its low half.
                        guard literal("\\u", .null) != nil, let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    text.append(contentsOf: String(Character(unicode)).utf8)
                default: return nil
                }
            default: text.append(byte)
            }
        }
        return nil
    }

    /// The text of a string's bytes; nil when they are not UTF-8, the failure placed on its opening quote.
    mutating func validUTF8<Bytes: Sequence<UInt8>>(_ bytes: Bytes, quote: Int) -> String? {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            failure = .notUTF8
            position = quote
            return nil
        }
        return text
    }

    mutating func hex4() -> UInt32? {
        guard position + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    mutating func number() -> JSONValue? {
        let start = position
        func digits() -> Bool {
            let first = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            return position > first
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        let first = position
        guard digits() else { return nil }
        // JSON writes no leading zero: 0581 is not 581.
        guard bytes[first] != UInt8(ascii: "0") || position == first + 1 else {
            position = first + 1
            return nil
        }
        var integral = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() else { return nil }
            integral = false
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() else { return nil }
            integral = false
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if integral, let value = Int64(text) { return .int(value) }
        return Double(text).map(JSONValue.double)
    }
}
