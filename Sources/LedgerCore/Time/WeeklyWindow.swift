/// A weekly four-hour maintenance window in UTC.
public struct WeeklyWindow: Hashable, Sendable {
    public static let lengthMinutes = 240
    package static let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    /// 0 = Sunday … 6 = Saturday.
    public let dayOfWeek: Int
    /// Minutes after midnight UTC; always on :00 or :30.
    public let startMinute: Int

    public init(dayOfWeek: Int, startMinute: Int) {
        precondition((0...6).contains(dayOfWeek) && (0..<1440).contains(startMinute) && startMinute % 30 == 0)
        self.dayOfWeek = dayOfWeek
        self.startMinute = startMinute
    }

    /// `Fridays 18:00 to 22:00 UTC`, or `Thursdays 22:00 to Fridays 02:00 UTC` across midnight.
    public var text: String {
        let end = startMinute + Self.lengthMinutes
        let startText = "\(Self.dayNames[dayOfWeek])s \(Self.clock(startMinute))"
        if end < 1440 { return "\(startText) to \(Self.clock(end)) UTC" }
        return "\(startText) to \(Self.dayNames[(dayOfWeek + 1) % 7])s \(Self.clock(end - 1440)) UTC"
    }

    /// Reads back what `text` writes (an imported maintenance's window).
    public init?(text: String) {
        let words = text.split(separator: " ")
        guard words.count >= 2, let day = Self.parseDay(String(words[0])), let start = Self.parseTime(String(words[1])) else { return nil }
        self.init(dayOfWeek: day, startMinute: start)
        guard self.text == text else { return nil }
    }

    private static func clock(_ minute: Int) -> String {
        let hours = minute / 60, minutes = minute % 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }

    /// Minutes from the start of the week (Sunday 00:00) to the window's start.
    private var minuteOfWeek: Int64 { Int64(dayOfWeek * 1440 + startMinute) }

    /// The first window start at or after `time`.
    public func start(onOrAfter time: Timestamp) -> Timestamp {
        let weekStart = time.startOfDay.adding(days: -Int64(time.dayOfWeek))
        var candidate = weekStart.adding(minutes: minuteOfWeek)
        if candidate < time { candidate = candidate.adding(weeks: 1) }
        return candidate
    }

    /// Whether the occurrence starting at `start` ends by `deadline`.
    public func fits(startingAt start: Timestamp, before deadline: Timestamp) -> Bool {
        start.adding(minutes: Int64(Self.lengthMinutes)) <= deadline
    }

    /// Whether `time` falls inside an occurrence of this window.
    public func contains(_ time: Timestamp) -> Bool {
        // The only start that can hold `time` is the first one after `time - length`.
        let length = Int64(Self.lengthMinutes) * Timestamp.millisecondsPerMinute
        return start(onOrAfter: time.adding(milliseconds: 1 - length)) <= time
    }

    // MARK: Parsing what customers type

    /// `sunday`, `Sundays`, `SUN`… Returns 0 = Sunday … 6 = Saturday.
    public static func parseDay(_ text: String) -> Int? {
        var lower = text.lowercased()
        if lower.hasSuffix("s") && lower.count > 3 { lower.removeLast() }
        return dayNames.firstIndex { $0.lowercased() == lower || $0.lowercased().prefix(3) == lower }
    }

    /// `14:30`, `2:30PM`, `2:30 pm`. Minutes must be 00 or 30.
    public static func parseTime(_ text: String) -> Int? {
        var lower = text.lowercased().filter { $0 != " " }
        var meridiemOffset: Int?
        if lower.hasSuffix("am") || lower.hasSuffix("pm") {
            meridiemOffset = lower.hasSuffix("pm") ? 12 : 0
            lower.removeLast(2)
        }
        let parts = lower.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              let hour = Int(parts[0]), let minute = Int(parts[1]), minute == 0 || minute == 30
        else { return nil }
        if let meridiemOffset {
            guard (1...12).contains(hour) else { return nil }
            return ((hour % 12) + meridiemOffset) * 60 + minute
        }
        guard (0...23).contains(hour) else { return nil }
        return hour * 60 + minute
    }
}
