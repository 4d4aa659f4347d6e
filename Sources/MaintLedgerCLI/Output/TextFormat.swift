import MaintenanceLedger
import LedgerCore
import Foundation

/// Text renderings shared by the commands. Every function returns the text; printing is the CLI's.
enum TextFormat {
    /// `key:   value` lines, values aligned one column after the longest `key:`.
    static func keyValueBlock(_ fields: [(String, String)]) -> String {
        let width = (fields.map(\.0.count).max() ?? 0) + 1
        return fields.map { key, value in
            let label = key + ":"
            return label + String(repeating: " ", count: width - label.count + 1) + value.escapingControlCharacters
        }.joined(separator: "\n")
    }

    /// Heroku's CLI table: a header, a `─` rule under each column, one space before and
    /// between columns, trailing blanks trimmed.
    static func table(headers: [String], rows: [[String]], widths: [Int]) -> String {
        let rule = " " + widths.map { String(repeating: "─", count: $0) }.joined(separator: " ")
        return ([tableLine(headers, widths: widths), rule] + rows.map { tableLine($0, widths: widths) }).joined(separator: "\n")
    }

    static func columnWidths(headers: [String], rows: [[String]]) -> [Int] {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return widths
    }

    /// One table row; a cell wider than its column (past the sized rows) pushes the rest right.
    static func tableLine(_ cells: [String], widths: [Int]) -> String {
        let padded = cells.enumerated().map { index, cell in cell + String(repeating: " ", count: max(0, widths[index] - cell.count)) }
        var text = " " + padded.joined(separator: " ")
        while text.last == " " { text.removeLast() }
        return text
    }
}
