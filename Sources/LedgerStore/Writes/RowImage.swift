internal import GRDB
import LedgerCore

/// A row as canonical JSON: columns in table order, SQLite's own types, blobs as hex text.
/// Written as bytes straight from the statement positioned on the row (`Mutation` records
/// images this way and `audit:verify` renders the tables the same way to compare them).
package enum RowImage {
    /// What precedes each column's value: `{"id":`, `,"uuid":`, …
    package typealias Keys = [[UInt8]]

    package static func keys(_ columns: [String]) -> Keys {
        columns.enumerated().map { index, column in
            var key = [index == 0 ? UInt8(ascii: "{") : UInt8(ascii: ",")]
            Array(column.utf8).withUnsafeBytes { JSONBytes.appendString($0, to: &key) }
            return key + [UInt8(ascii: ":")]
        }
    }

    /// Appends the row `columns` are of.
    static func append(_ columns: RawColumns, keys: Keys, to image: inout [UInt8]) {
        for (column, key) in keys.enumerated() {
            image.append(contentsOf: key)
            let value = columns.column(Int32(column))
            switch value.kind {
            case .null: image.append(contentsOf: "null".utf8)
            case .integer: JSONBytes.appendDecimal(value.int64, to: &image)
            case .real: image.append(contentsOf: JSONValue.double(value.double).compactText.utf8)
            case .blob: image.append(contentsOf: JSONValue.string(Hex.string(value.bytes)).compactText.utf8)
            case .text: JSONBytes.appendString(value.bytes, to: &image)
            }
        }
        image.append(UInt8(ascii: "}"))
    }

    /// SQLite's value as JSON, blobs as hex text (for `sql`'s output).
    static func value(_ value: DatabaseValue) -> JSONValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .int(number)
        case .double(let number): .double(number)
        case .string(let text): .string(text)
        case .blob(let data): .string(Hex.string(data))
        }
    }
}
