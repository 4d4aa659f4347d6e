import LedgerCore
import LedgerStore
import MaintenanceLedger

extension QueryRows {
    /// A query's rows in every format: JSON objects keyed by column name, table and CSV cells
    /// as text (NULL empty).
    static func layout(columns: [String]) -> RecordLayout<[JSONValue]> {
        RecordLayout(json: { values in .object(Array(zip(columns, values))) }, headers: columns, cells: { values in
            values.map { value in
                switch value {
                case .null: ""
                case .string(let text): text
                default: value.compactText
                }
            }
        })
    }
}
