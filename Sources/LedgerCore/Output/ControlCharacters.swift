extension String {
    /// Whether the text holds a control character (a line break, a tab, an escape sequence).
    package var containsControlCharacter: Bool {
        unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// The text with its control characters written out (`\n`, `\t`, `\u{1B}`), for tables and
    /// messages, where a raw line break or escape sequence could forge a line of output.
    package var escapingControlCharacters: String {
        guard containsControlCharacter else { return self }
        var escaped = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case _ where scalar.properties.generalCategory == .control:
                escaped += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
