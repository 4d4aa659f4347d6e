extension Unicode.Scalar {
    /// A character that moves or reorders what a terminal shows rather than showing itself: a
    /// control character (a line break, a tab, an escape sequence), a line or paragraph
    /// separator, or a bidirectional override.
    var controlsDisplay: Bool {
        switch properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: true
        default: properties.isBidiControl
        }
    }
}

extension String {
    /// Whether the text holds a character that controls the display (see `controlsDisplay`).
    package var containsControlCharacter: Bool {
        unicodeScalars.contains(where: \.controlsDisplay)
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
            case _ where scalar.controlsDisplay:
                escaped += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
