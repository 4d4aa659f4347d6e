/// A UTC instant with millisecond precision, the only time type in the ledger.
///
/// Stored as text like `2023-04-28T18:04:21.141Z`: fixed width, so text order is time order
/// and a plain `sqlite3` user can read and compare it.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public static let millisecondsPerMinute: Int64 = 60_000
    public static let millisecondsPerDay: Int64 = 86_400_000
    public static let millisecondsPerWeek: Int64 = 7 * millisecondsPerDay

    public func adding(milliseconds: Int64) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + milliseconds)
    }

    public func adding(minutes: Int64) -> Timestamp { adding(milliseconds: minutes * Self.millisecondsPerMinute) }
    public func adding(days: Int64) -> Timestamp { adding(milliseconds: days * Self.millisecondsPerDay) }
    public func adding(weeks: Int64) -> Timestamp { adding(milliseconds: weeks * Self.millisecondsPerWeek) }

    /// Milliseconds from `self` to `later` (negative when `later` is earlier).
    public func milliseconds(until later: Timestamp) -> Int64 {
        later.millisecondsSinceEpoch - millisecondsSinceEpoch
    }

    /// Midnight UTC of this instant's day.
    public var startOfDay: Timestamp {
        Timestamp(millisecondsSinceEpoch: Self.floorDiv(millisecondsSinceEpoch, Self.millisecondsPerDay) * Self.millisecondsPerDay)
    }

    /// 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday).
    public var dayOfWeek: Int {
        Int((Self.floorDiv(millisecondsSinceEpoch, Self.millisecondsPerDay) + 4) % 7 + 7) % 7
    }

    // MARK: Formatting

    /// Storage form: `2023-04-28T18:04:21.141Z`.
    public var storageText: String { format(dateTimeSeparator: "T", milliseconds: true, zone: "Z") }

    /// How many bytes the storage form of an instant in `storedRange` takes.
    package static let storageTextCount = 24

    /// The storage form's 24 bytes, appended: the compact trail writes times as numbers, and
    /// verification renders every one back (digit by digit: through a String it was a sixth of
    /// `audit:verify`).
    package func appendStorageText(to text: inout [UInt8]) {
        guard Self.storedRange.contains(millisecondsSinceEpoch) else { return text.append(contentsOf: storageText.utf8) }
        withUnsafeTemporaryAllocation(byteCount: 24, alignment: 1) { form in
            writeStorageText(to: form.baseAddress!)
            text.append(contentsOf: form)
        }
    }

    /// The storage form's 24 bytes at `out`, for an instant in `storedRange` (the form has no
    /// other): two digits at a time, each pair from a multiplication rather than two divisions.
    package func writeStorageText(to out: UnsafeMutableRawPointer) {
        let (year, month, day, msOfDay) = storedCivil
        // On `UInt32`, as `storedCivil` gives them: divisions by constants without signs to fix.
        func pair(_ value: UInt32, at offset: Int) {
            let tens = (value &* 103) &>> 10 // value / 10 for 0...99
            out.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 &+ tens), toByteOffset: offset, as: UInt8.self)
            out.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 &+ value &- tens &* 10), toByteOffset: offset + 1, as: UInt8.self)
        }
        func separator(_ character: Unicode.Scalar, at offset: Int) {
            out.storeBytes(of: UInt8(ascii: character), toByteOffset: offset, as: UInt8.self)
        }
        let seconds = msOfDay / 1000, milliseconds = msOfDay % 1000
        pair(year / 100, at: 0)
        pair(year % 100, at: 2)
        separator("-", at: 4)
        pair(month, at: 5)
        separator("-", at: 7)
        pair(day, at: 8)
        separator("T", at: 10)
        pair(seconds / 3600, at: 11)
        separator(":", at: 13)
        pair(seconds / 60 % 60, at: 14)
        separator(":", at: 16)
        pair(seconds % 60, at: 17)
        separator(".", at: 19)
        out.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 &+ milliseconds / 100), toByteOffset: 20, as: UInt8.self)
        pair(milliseconds % 100, at: 21)
        separator("Z", at: 23)
    }

    /// `civil(fromDays:)` of the instant's day and the milliseconds into it, for an instant in
    /// `storedRange`: there every quantity is small and, counted from 400 years before year 0,
    /// not negative, so the calendar is worked out on `UInt32` with no check of overflow and
    /// with Neri and Schneider's few multiplications ("Euclidean affine functions and their
    /// application to calendar algorithms", 2023) in place of Hinnant's many divisions: that
    /// was most of rendering a time, which `audit:verify` does for every time an inserted row holds.
    @inline(__always)
    private var storedCivil: (year: UInt32, month: UInt32, day: UInt32, msOfDay: UInt32) {
        let sinceFirst = UInt64(bitPattern: millisecondsSinceEpoch &- Self.firstStored) // from 0000-01-01
        let days = sinceFirst / UInt64(Self.millisecondsPerDay)
        let msOfDay = UInt32(truncatingIfNeeded: sinceFirst &- days &* UInt64(Self.millisecondsPerDay))
        // Days since 1 March of year -400 (0000-01-01 is an era of 146,097 days less 60 after it).
        let n = UInt32(truncatingIfNeeded: days) &+ (146_097 &- 60)
        let n1 = 4 &* n &+ 3
        let century = n1 / 146_097
        let n2 = (n1 % 146_097) / 4 &* 4 &+ 3
        let p2 = UInt64(2_939_745) &* UInt64(n2)
        let dayOfYear = UInt32(truncatingIfNeeded: p2) / 2_939_745 / 4 // from 1 March
        let n3 = 2141 &* dayOfYear &+ 197_913
        let (month, day) = (n3 >> 16, (n3 & 0xFFFF) / 2141 &+ 1)
        let january = dayOfYear >= 306 // or February: of the next year
        let year = 100 &* century &+ UInt32(truncatingIfNeeded: p2 >> 32) &+ (january ? 1 : 0) &- 400
        return (year, january ? month &- 12 : month, day, msOfDay)
    }

    /// The instant whose storage form these bytes are exactly, `YYYY-MM-DDTHH:MM:SS.sssZ`;
    /// nil for any other text (another ISO form of the same instant included).
    package init?(storageBytes bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 24, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z"),
              let parsed = Timestamp(iso: bytes) else { return nil }
        // The parser is lenient within the form (a fraction cut short); only an exact round trip counts.
        let exact = withUnsafeTemporaryAllocation(byteCount: 24, alignment: 1) { rendered in
            parsed.writeStorageText(to: rendered.baseAddress!)
            return (0..<3).allSatisfy { rendered.load(fromByteOffset: 8 * $0, as: UInt64.self) == bytes.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self) }
        }
        guard exact else { return nil }
        self = parsed
    }

    /// The form of Heroku's maintenance JSON and `info` block: `2023-04-28T18:04:21.141+00:00`.
    public var isoText: String { format(dateTimeSeparator: "T", milliseconds: true, zone: "+00:00") }

    /// The form of Heroku's list views: `2023-05-03 08:54:02 +0000`.
    public var listText: String { format(dateTimeSeparator: " ", milliseconds: false, zone: " +0000") }

    public var description: String { storageText }

    private func format(dateTimeSeparator: StaticString, milliseconds: Bool, zone: StaticString) -> String {
        // Bytes, not string concatenation: every row written formats several of these.
        var text: [UInt8] = []
        text.reserveCapacity(32)
        append(dateTimeSeparator: dateTimeSeparator, milliseconds: milliseconds, zone: zone, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    private func append(dateTimeSeparator: StaticString, milliseconds: Bool, zone: StaticString, to text: inout [UInt8]) {
        let days = Self.floorDiv(millisecondsSinceEpoch, Self.millisecondsPerDay)
        let msOfDay = millisecondsSinceEpoch - days * Self.millisecondsPerDay
        let (year, month, day) = Self.civil(fromDays: days)
        let seconds = msOfDay / 1000
        Self.append(year, 4, to: &text, then: "-")
        Self.append(month, 2, to: &text, then: "-")
        Self.append(day, 2, to: &text, then: dateTimeSeparator)
        Self.append(seconds / 3600, 2, to: &text, then: ":")
        Self.append(seconds / 60 % 60, 2, to: &text, then: ":")
        Self.append(seconds % 60, 2, to: &text, then: milliseconds ? "." : zone)
        if milliseconds { Self.append(msOfDay % 1000, 3, to: &text, then: zone) }
    }

    /// `value` zero-padded to `width` digits, then `separator`.
    private static func append(_ value: Int64, _ width: Int, to text: inout [UInt8], then separator: StaticString) {
        var limit: Int64 = 1
        for _ in 0..<width { limit *= 10 }
        if value >= 0, value < limit {
            // Digits from the last, each a division by the constant 10, which compiles to a
            // multiplication (dividing by a variable power of ten cannot).
            let start = text.count
            text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
            var rest = value
            var index = start + width
            while rest > 0 {
                index -= 1
                text[index] += UInt8(rest % 10)
                rest /= 10
            }
        } else {
            text.append(contentsOf: pad(value, width).utf8)
        }
        text.append(contentsOf: UnsafeBufferPointer(start: separator.utf8Start, count: separator.utf8CodeUnitCount))
    }

    // MARK: Parsing

    /// Parses ISO 8601 forms people and systems write: `2023-04-28T18:04:21.141Z`,
    /// `2023-04-28T18:04:21+00:00`, `2023-04-28 18:04:21 +0000`, `2023-04-28T18:04Z`,
    /// and a bare date `2023-04-28` (midnight UTC). A time without a zone is read as UTC.
    public init?(iso text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Self(iso: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    /// The same, from UTF-8 bytes (a column SQLite hands over, without making a String of it).
    package init?(iso bytes: UnsafeRawBufferPointer) {
        var scanner = DigitScanner(bytes)
        guard let year = scanner.number(digits: 4), scanner.skip("-"),
              let month = scanner.number(digits: 2), scanner.skip("-"),
              let day = scanner.number(digits: 2),
              (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, millis: Int64 = 0, offsetMinutes: Int64 = 0
        if !scanner.atEnd {
            guard scanner.skip("T") || scanner.skip(" "),
                  let h = scanner.number(digits: 2), scanner.skip(":"),
                  let m = scanner.number(digits: 2), h < 24, m < 60
            else { return nil }
            (hour, minute) = (h, m)
            if scanner.skip(":") {
                guard let s = scanner.number(digits: 2), s < 60 else { return nil }
                second = s
                if scanner.skip(".") || scanner.skip(",") {
                    guard let (fraction, count) = scanner.fraction() else { return nil }
                    millis = Self.truncateToMilliseconds(fraction, digits: count)
                }
            }
            _ = scanner.skip(" ")
            if scanner.skip("Z") || scanner.skip("z") {
                offsetMinutes = 0
            } else if let sign = scanner.sign() {
                guard let oh = scanner.number(digits: 2) else { return nil }
                _ = scanner.skip(":")
                guard let om = scanner.number(digits: 2), oh < 24, om < 60 else { return nil }
                offsetMinutes = sign * (oh * 60 + om)
            }
        }
        guard scanner.atEnd else { return nil }
        let days = Self.days(fromCivil: year, month, day)
        let local = days * Self.millisecondsPerDay + ((hour * 60 + minute) * 60 + second) * 1000 + millis
        let instant = local - offsetMinutes * Self.millisecondsPerMinute
        // The stored form has four digits of year: an offset that carried the instant out of
        // 0000…9999 (`0000-01-01T00:00+00:01`) was formatted as `00-1-12-31T23:59:00.000Z`,
        // which the schema's CHECKs refused with a raw SQLite error and which reads back as no
        // time at all (issue 13, found by fuzz/ FuzzTimestamp).
        guard instant >= Self.firstStored, instant <= Self.lastStored else { return nil }
        self.init(millisecondsSinceEpoch: instant)
    }

    /// Whether the stored form can hold it (every time parsed can).
    package var isStorable: Bool { (Self.firstStored...Self.lastStored).contains(millisecondsSinceEpoch) }

    /// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, the first and last instants the
    /// stored form can hold (constants: this parser also reads every time a query decodes).
    private static var firstStored: Int64 { -62_167_219_200_000 }
    private static var lastStored: Int64 { 253_402_300_799_999 }

    /// The instants the stored form can hold (any other cannot be formatted at all).
    package static var storedRange: ClosedRange<Int64> { firstStored...lastStored }

    private static func truncateToMilliseconds(_ fraction: Int64, digits: Int) -> Int64 {
        var value = fraction
        var count = digits
        while count > 3 { value /= 10; count -= 1 }
        while count < 3 { value *= 10; count += 1 }
        return value
    }

    // MARK: Calendar arithmetic (proleptic Gregorian, after Howard Hinnant's algorithms)

    /// Always inlined: called with a constant divisor, it is then a multiplication, not the
    /// `idiv` of a call (two a time rendered, which `audit:verify` does for every time the trail holds).
    @inline(__always)
    package static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    package static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    package static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// A tiny forward-only reader over ASCII bytes for the timestamp parser.
private struct DigitScanner {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    mutating func number(digits: Int) -> Int64? {
        guard index + digits <= bytes.count else { return nil }
        var value: Int64 = 0
        for byte in bytes[index..<index + digits] {
            guard (48...57).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - 48)
        }
        index += digits
        return value
    }

    /// One or more digits, returned with how many there were (at most 9 are kept).
    mutating func fraction() -> (Int64, Int)? {
        var value: Int64 = 0
        var count = 0
        while index < bytes.count, (48...57).contains(bytes[index]) {
            if count < 9 { value = value * 10 + Int64(bytes[index] - 48); count += 1 }
            index += 1
        }
        return count == 0 ? nil : (value, count)
    }

    mutating func sign() -> Int64? {
        if skip("+") { return 1 }
        if skip("-") { return -1 }
        return nil
    }
}
