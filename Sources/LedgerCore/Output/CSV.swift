import Foundation

/// CSV as auditors' tools read it.
public enum CSV {
    /// RFC 4180: fields with commas, quotes or line breaks are quoted, quotes doubled; CRLF rows.
    public static func row(_ fields: [String]) -> String {
        fields.map { field in
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",") + "\r\n"
    }
}
