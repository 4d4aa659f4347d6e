import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintLedgerCLI
@testable import MaintenanceLedger

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2023-04-28T18:04:21.141Z", "2023-04-28T18:04:21.141Z"),
        ("2023-04-28T18:04:21.141+00:00", "2023-04-28T18:04:21.141Z"),
        ("2023-04-28T20:04:21.141+02:00", "2023-04-28T18:04:21.141Z"),
        ("2023-04-28T13:04:21-0500", "2023-04-28T18:04:21.000Z"),
        ("2023-05-03 08:54:02 +0000", "2023-05-03T08:54:02.000Z"),
        ("2023-04-28T18:04Z", "2023-04-28T18:04:00.000Z"),
        ("2023-04-28T18:04:21.141999Z", "2023-04-28T18:04:21.141Z"),
        ("2023-04-28T18:04:21.1Z", "2023-04-28T18:04:21.100Z"),
        ("2023-04-28", "2023-04-28T00:00:00.000Z"),
        ("2024-02-29T23:59:59Z", "2024-02-29T23:59:59.000Z"),
        ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
    ])
    func parsesISO8601Forms(text: String, stored: String) throws {
        #expect(try #require(Timestamp(iso: text)).storageText == stored)
    }

    /// The stored form written in place (`appendStorageText`, two digits at a time) is
    /// `storageText` exactly, and only that form reads back (`init(storageBytes:)`), across the
    /// whole range and at its ends.
    @Test func theStoredFormWrittenInPlaceIsStorageText() {
        let (first, last) = (Timestamp.storedRange.lowerBound, Timestamp.storedRange.upperBound)
        var random = SplitMix64(seed: 21)
        // Also the ends of year 0's February (a leap day) and of the first era's last year (1599).
        let instants = [first, first + 1, -1, 0, 1, 86_399_999, 951_782_400_000, last - 1, last,
                        -62_162_121_600_001, -62_162_121_600_000, -62_162_035_200_000, -11_676_096_000_001, -11_676_096_000_000]
            + (0..<20_000).map { _ in Int64.random(in: first...last, using: &random) }
        for instant in instants {
            let time = Timestamp(millisecondsSinceEpoch: instant)
            var written: [UInt8] = []
            time.appendStorageText(to: &written)
            #expect(written == Array(time.storageText.utf8), "\(instant)")
            #expect(written.withUnsafeBytes { Timestamp(storageBytes: $0) } == time)
        }
        for nearMiss in ["2023-02-29T00:00:00.000Z", "2024-01-01T24:00:00.000Z", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000z"] {
            #expect(Array(nearMiss.utf8).withUnsafeBytes { Timestamp(storageBytes: $0) } == nil, "\(nearMiss)")
        }
    }

    @Test(arguments: ["", "2023", "2023-13-01", "2023-02-29", "2023-04-31T10:00Z", "2023-04-28T24:00Z",
                      "2023-04-28T18:60Z", "2023-04-28T18:04:21.Z", "2023-04-28T18:04:21Zjunk", "tomorrow", "2023-04-28T18"])
    func rejectsMalformedTimes(text: String) {
        #expect(Timestamp(iso: text) == nil)
    }

    /// Every week count `data:maintenances:schedule` accepts, from any time a ledger can hold,
    /// lands on a start of the window without overflowing the clock; a count past the range is
    /// refused before any arithmetic (InputHardeningTests). Seeded, so that a failure repeats.
    @Test func weeklyArithmeticOverTheAcceptedRangeNeverOverflows() throws {
        var random = SplitMix64(seed: 12)
        let first = try #require(Timestamp(iso: "0000-01-01T00:00:00Z")).millisecondsSinceEpoch
        let last = try #require(Timestamp(iso: "9999-12-31T23:59:59.999Z")).millisecondsSinceEpoch
        var draws: [(Timestamp, Int64, WeeklyWindow)] = []
        for _ in 0..<10_000 {
            draws.append((Timestamp(millisecondsSinceEpoch: Int64.random(in: first...last, using: &random)), Int64.random(in: -1000...1000, using: &random),
                          WeeklyWindow(dayOfWeek: Int.random(in: 0...6, using: &random), startMinute: 30 * Int.random(in: 0...47, using: &random))))
        }
        // The corners too: the first and last instants, the longest moves.
        for time in [first, last] {
            for weeks: Int64 in [-1000, 1000] { draws.append((Timestamp(millisecondsSinceEpoch: time), weeks, WeeklyWindow(dayOfWeek: 6, startMinute: 23 * 60 + 30))) }
        }
        for (time, weeks, window) in draws {
            let moved = time.adding(weeks: weeks)
            let start = window.start(onOrAfter: moved)
            #expect(window.contains(start) && start >= moved && moved.milliseconds(until: start) < Timestamp.millisecondsPerWeek,
                    "\(time) moved \(weeks) weeks in \(window.text)")
            // Past year 9999 (or before year 0) the text form ends; such a time is never stored,
            // since it lies after every deadline (or before now) and scheduling refuses it.
            if (first...last).contains(start.millisecondsSinceEpoch) { #expect(Timestamp(iso: start.storageText) == start) }
        }
    }

    @Test func formatsTheThreeForms() throws {
        let time = try #require(Timestamp(iso: "2023-05-03T08:54:02.518Z"))
        #expect(time.storageText == "2023-05-03T08:54:02.518Z")
        #expect(time.isoText == "2023-05-03T08:54:02.518+00:00")
        #expect(time.listText == "2023-05-03 08:54:02 +0000")
    }

    @Test func knowsTheDayOfWeek() throws {
        let friday = try #require(Timestamp(iso: "2023-04-28T18:30:00Z"))
        #expect(friday.dayOfWeek == 5)
        #expect(try #require(Timestamp(iso: "1969-12-28T23:00:00Z")).dayOfWeek == 0)
    }

    @Test func storageTextSortsInTimeOrder() throws {
        let texts = ["2023-04-28T18:04:21.141Z", "2023-04-28T18:04:21.142Z", "2023-04-29T00:00:00.000Z", "2024-01-01T00:00:00.000Z"]
        let times = try texts.map { try #require(Timestamp(iso: $0)) }
        #expect(times == times.sorted())
        #expect(texts == texts.sorted())
    }
}

@Suite struct WeeklyWindowTests {
    let fridayEvening = WeeklyWindow(dayOfWeek: 5, startMinute: 18 * 60)

    @Test func readsLikeHeroku() {
        #expect(fridayEvening.text == "Fridays 18:00 to 22:00 UTC")
        #expect(WeeklyWindow(dayOfWeek: 4, startMinute: 22 * 60).text == "Thursdays 22:00 to Fridays 02:00 UTC")
        #expect(WeeklyWindow(dayOfWeek: 6, startMinute: 23 * 60 + 30).text == "Saturdays 23:30 to Sundays 03:30 UTC")
        #expect(WeeklyWindow(dayOfWeek: 0, startMinute: 14 * 60 + 30).text == "Sundays 14:30 to 18:30 UTC")
    }

    @Test(arguments: [
        ("2023-04-24T09:00:00Z", "2023-04-28T18:00:00.000Z"), // Monday → that Friday
        ("2023-04-28T18:00:00Z", "2023-04-28T18:00:00.000Z"), // exactly at the start
        ("2023-04-28T18:00:00.001Z", "2023-05-05T18:00:00.000Z"), // just after → next week
        ("2023-04-29T00:00:00Z", "2023-05-05T18:00:00.000Z"), // Saturday
    ])
    func findsTheNextStart(from: String, expected: String) throws {
        #expect(fridayEvening.start(onOrAfter: try #require(Timestamp(iso: from))).storageText == expected)
    }

    @Test(arguments: [
        ("2023-04-28T17:59:59.999Z", false), ("2023-04-28T18:00:00Z", true), ("2023-04-28T21:59:59.999Z", true),
        ("2023-04-28T22:00:00Z", false), ("2023-04-27T19:00:00Z", false),
    ])
    func knowsWhatLiesInside(time: String, inside: Bool) throws {
        #expect(fridayEvening.contains(try #require(Timestamp(iso: time))) == inside)
    }

    @Test func windowsAcrossMidnightAndTheWeekEnd() throws {
        let saturdayLate = WeeklyWindow(dayOfWeek: 6, startMinute: 22 * 60)
        #expect(saturdayLate.contains(try #require(Timestamp(iso: "2023-04-30T01:59:00Z"))))
        #expect(!saturdayLate.contains(try #require(Timestamp(iso: "2023-04-30T02:00:00Z"))))
    }

    @Test(arguments: [("sunday", 0), ("Sundays", 0), ("SUNDAY", 0), ("fridays", 5), ("Sat", 6), ("wednesday", 3)])
    func parsesDays(text: String, day: Int) {
        #expect(WeeklyWindow.parseDay(text) == day)
    }

    @Test(arguments: ["funday", "", "s", "mondayss"])
    func rejectsUnknownDays(text: String) {
        #expect(WeeklyWindow.parseDay(text) == nil)
    }

    @Test(arguments: [("14:30", 870), ("2:30PM", 870), ("2:30 pm", 870), ("12:00AM", 0), ("12:30PM", 750), ("00:00", 0), ("9:00", 540)])
    func parsesTimes(text: String, minute: Int) {
        #expect(WeeklyWindow.parseTime(text) == minute)
    }

    @Test(arguments: ["14:15", "24:00", "13:30PM", "0:30AM", "1430", "14:3", "noon", ""])
    func rejectsOtherTimes(text: String) {
        #expect(WeeklyWindow.parseTime(text) == nil)
    }
}

@Suite struct DurationWordingTests {
    @Test(arguments: [
        (0, "less than a minute"), (29, "less than a minute"), (30, "1 minute"), (89, "1 minute"), (90, "2 minutes"),
        (186, "3 minutes"), (2639, "44 minutes"), (2670, "about 1 hour"), (5369, "about 1 hour"), (5370, "about 2 hours"),
        (86369, "about 24 hours"), (86400, "1 day"), (151_200, "2 days"),
    ])
    func matchesDateFnsFormatDistance(seconds: Int64, wording: String) {
        #expect(DurationWording.approximate(seconds: seconds) == wording)
    }
}

@Suite struct PlanTests {
    @Test func parsesPlansAndKnowsWhichHaveWindows() throws {
        let premium = try Plan.parse("premium-0", service: .redis).get()
        #expect(premium.displayName == "Premium 0" && premium.hasWindows)
        #expect(try !Plan.parse("mini", service: .redis).get().hasWindows)
        #expect(try !Plan.parse("essential-0", service: .postgres).get().hasWindows)
        #expect(try Plan.parse("standard-0", service: .postgres).get().hasWindows)
        #expect(try Plan.parse("shield-3", service: .redis).get().hasWindows)
        #expect(try !Plan.parse("standard-0", service: .kafka).get().hasWindows)
        #expect(try !Plan.parse("basic-0", service: .kafka).get().hasWindows)
    }

    @Test(arguments: ["mini-0", "premium", "premium-", "premium-x", "gold-1", "essential-0"])
    func refusesMalformedRedisPlans(text: String) {
        #expect(throws: LedgerError.self) { try Plan.parse(text, service: .redis).get() }
    }
}

@Suite struct FormatTests {
    @Test func escapesJSON() {
        let value = JSONValue.object([("a", .string("quote\" back\\ line\n tab\t \u{1}")), ("b", .array([.int(1), .null, .bool(true)]))])
        #expect(value.compactText == #"{"a":"quote\" back\\ line\n tab\t \u0001","b":[1,null,true]}"#)
        #expect(value.prettyText == "{\n  \"a\": \"quote\\\" back\\\\ line\\n tab\\t \\u0001\",\n  \"b\": [\n    1,\n    null,\n    true\n  ]\n}")
    }

    @Test func quotesCSVFieldsAsRFC4180Asks() {
        #expect(CSV.row(["plain", "with,comma", "with \"quote\"", "line\nbreak"])
                == "plain,\"with,comma\",\"with \"\"quote\"\"\",\"line\nbreak\"\r\n")
    }

    /// A CRLF inside a field is one Character in Swift, neither "\r" nor "\n": the quoter reads
    /// bytes, so such a field is quoted too (it was not when fields were compared by Character).
    @Test func quotesAFieldHoldingCRLF() {
        #expect(CSV.row(["a\r\nb", "c"]) == "\"a\r\nb\",c\r\n")
    }

    @Test func alignsKeyValueBlocksOneColumnAfterTheLongestKey() {
        #expect(TextFormat.keyValueBlock([("a", "1"), ("long_key", "2")]) == "a:        1\nlong_key: 2")
    }
}
