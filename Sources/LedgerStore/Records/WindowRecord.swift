import LedgerCore

/// A row of `windows`: a weekly window set on an add-on (the newest is in force).
public struct WindowRecord: PositionalRecord, Sendable {
    public let id: Int64
    public let window: WeeklyWindow
    public let source: String
    public let setAt: Timestamp
    public let setBy: String

    package init(columns row: RecordColumns) {
        id = row[0]
        window = WeeklyWindow(dayOfWeek: row[2], startMinute: row[3])
        source = row[5]
        setAt = row[6]
        setBy = row[7]
    }
}
