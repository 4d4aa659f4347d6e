/// CSV as RFC 4180 has it, which auditors' tools read: fields with commas, quotes or line
/// breaks are quoted, quotes doubled; rows end in CRLF.
public enum CSV {
    @usableFromInline static let quote = UInt8(ascii: "\"")

    /// Whether the field must be quoted.
    @inlinable package static func needsQuoting<Field: Collection<UInt8>>(_ field: Field) -> Bool {
        field.contains { $0 == UInt8(ascii: ",") || $0 == quote || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
    }

    /// Appends one field, quoted when it must be.
    @inlinable package static func appendField<Field: Collection<UInt8>>(_ field: Field, to out: inout [UInt8]) {
        guard needsQuoting(field) else { return out.append(contentsOf: field) }
        out.append(quote)
        for byte in field {
            if byte == quote { out.append(quote) }
            out.append(byte)
        }
        out.append(quote)
    }

    /// One row, with its CRLF.
    public static func row(_ fields: [String]) -> String {
        var out: [UInt8] = []
        for (index, field) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendField(field.utf8, to: &out)
        }
        out.append(contentsOf: [0x0D, 0x0A])
        return String(decoding: out, as: UTF8.self)
    }
}
