internal import GRDB
internal import GRDBSQLite
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

    static func append(_ sqlite: SQLiteStatement, keys: Keys, to image: inout [UInt8]) {
        for (column, key) in keys.enumerated() {
            image.append(contentsOf: key)
            let column = Int32(column)
            switch sqlite3_column_type(sqlite, column) {
            case SQLITE_NULL: image.append(contentsOf: "null".utf8)
            case SQLITE_INTEGER: JSONBytes.appendDecimal(sqlite3_column_int64(sqlite, column), to: &image)
            case SQLITE_FLOAT: image.append(contentsOf: JSONValue.double(sqlite3_column_double(sqlite, column)).compactText.utf8)
            case SQLITE_BLOB:
                let blob = UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, column), count: Int(sqlite3_column_bytes(sqlite, column)))
                image.append(contentsOf: JSONValue.string(Hex.string(blob)).compactText.utf8)
            default:
                JSONBytes.appendString(UnsafeRawBufferPointer(start: sqlite3_column_text(sqlite, column),
                                                              count: Int(sqlite3_column_bytes(sqlite, column))), to: &image)
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
