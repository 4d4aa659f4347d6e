import MaintenanceLedger
import LedgerCore
import Foundation

/// Text renderings shared by the commands. Every function returns the text; printing is the CLI's.
enum TextFormat {
    /// `key:   value` lines, values aligned one column after the longest `key:`; a status in
    /// its colour on a terminal.
    static func keyValueBlock(_ fields: [(String, String)]) -> String {
        let width = (fields.map(\.0.count).max() ?? 0) + 1
        return fields.map { key, value in
            let label = key + ":"
            let shown = key == "status" ? Terminal.paintedForStandardOutput(value.escapingControlCharacters) : value.escapingControlCharacters
            return label + String(repeating: " ", count: width - label.count + 1) + shown
        }.joined(separator: "\n")
    }

    /// Heroku's CLI table: a header, a `─` rule under each column, one space before and
    /// between columns, trailing blanks trimmed.
    static func rule(widths: [Int]) -> String {
        " " + widths.map { String(repeating: "─", count: $0) }.joined(separator: " ")
    }

    static func columnWidths(headers: [String], rows: [[String]]) -> [Int] {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return widths
    }

    /// The narrowest a column is cut to, `…` included.
    static let narrowestColumn = 5

    /// Widths that fit a line of `total` characters (with the blank before each column): the
    /// widest columns are narrowed to one cap, as little as needed, never below `narrowestColumn`
    /// (a table of many columns may then still be wider than the terminal).
    static func fit(_ widths: [Int], into total: Int) -> [Int] {
        let available = total - widths.count
        var cap = widths.max() ?? 0
        while cap > narrowestColumn && widths.reduce(0, { $0 + min($1, cap) }) > available { cap -= 1 }
        return widths.map { min($0, cap) }
    }

    /// One table row. Untruncated, a cell wider than its column (past the sized rows) pushes the
    /// rest right; truncating, it ends in `…` at the column's width. A cell `color` gives an SGR
    /// code is shown in it (the padding outside: colours take no columns).
    static func tableLine(_ cells: [String], widths: [Int], truncating: Bool = false,
                          color: (_ column: Int, _ cell: String) -> String? = { _, _ in nil }) -> String {
        let padded = cells.enumerated().map { index, cell in
            var shown = truncating && cell.count > widths[index] ? cell.prefix(widths[index] - 1) + "…" : cell
            let padding = String(repeating: " ", count: max(0, widths[index] - shown.count))
            if let code = color(index, cell) { shown = Terminal.painted(shown, code) }
            return shown + padding
        }
        var text = " " + padded.joined(separator: " ")
        while text.last == " " { text.removeLast() }
        return text
    }
}
