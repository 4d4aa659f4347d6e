import LedgerCore

/// A column's value in a row written whole (`Mutation.insert(_:row:)`): bound straight to
/// SQLite, and recorded in the trail from the same value.
package enum RowValue {
    case null
    case integer(Int64)
    case text(String)
    /// Stored as its storage text (`2023-04-28T18:04:21.141Z`).
    case time(Timestamp)

    package init(_ text: String?) { self = text.map(RowValue.text) ?? .null }
    package init(_ time: Timestamp?) { self = time.map(RowValue.time) ?? .null }
    package init(_ number: Int64?) { self = number.map(RowValue.integer) ?? .null }
    package init(_ flag: Bool) { self = .integer(flag ? 1 : 0) }
}

/// How SQLite converts what is stored in a column, from its declared type
/// (https://sqlite.org/datatype3.html, "Determination Of Column Affinity").
enum ColumnAffinity {
    case integer, text, blob, real, numeric

    init(declaredType: String) {
        let type = declaredType.uppercased()
        if type.contains("INT") {
            self = .integer
        } else if type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") {
            self = .text
        } else if type.contains("BLOB") || type.isEmpty {
            self = .blob
        } else if type.contains("REAL") || type.contains("FLOA") || type.contains("DOUB") {
            self = .real
        } else {
            self = .numeric
        }
    }

    /// Whether SQLite stores `value` in such a column exactly as it is bound (a text in an
    /// INTEGER column may become a number, a number in a TEXT column becomes text).
    func keeps(_ value: RowValue) -> Bool {
        switch value {
        case .null: true
        case .integer: self == .integer || self == .numeric || self == .blob
        case .text, .time: self == .text || self == .blob
        }
    }
}

extension ColumnAffinity {
    /// The plain encoding's tags (`CompactTrail.Tag`, null to blob) of the values SQLite stores
    /// in such a column exactly as they are bound, one bit each (`1 << tag`): NULLs and blobs
    /// anywhere, a number or a text only where the column would not convert it.
    var keptPlainTags: UInt8 {
        let always: UInt8 = 1 << CompactTrail.Tag.null.rawValue | 1 << CompactTrail.Tag.blob.rawValue
        let numbersAndTexts: UInt8 = switch self {
        case .integer, .numeric: 1 << CompactTrail.Tag.integer.rawValue
        case .real: 1 << CompactTrail.Tag.real.rawValue
        case .text: 1 << CompactTrail.Tag.text.rawValue
        case .blob: 1 << CompactTrail.Tag.integer.rawValue | 1 << CompactTrail.Tag.real.rawValue | 1 << CompactTrail.Tag.text.rawValue
        }
        return always | numbersAndTexts
    }
}
