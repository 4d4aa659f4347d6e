// libFuzzer target: LedgerCore's time parsers: `Timestamp(iso:)` (every --at, --required-by,
// MAINTLEDGER_NOW and every time in an import line) and the weekly window's day, time and
// text parsers (`window:update`, an imported `addon.window`).
//
// Beyond "no crash, no hang" it checks:
// - the String and the byte parser agree;
// - a time it accepts formats (storage, ISO, list forms) as text that parses back to the
//   same instant (the list form to the second), and its storage text has the fixed width and
//   shape the schema's CHECKs demand (`YYYY-MM-DDTHH:MM:SS.mmmZ`, 24 bytes);
// - calendar arithmetic on it is sane (day of week 0…6, start of day ≤ it < next day, a
//   window's next start at or after it and less than a week away, inside that window);
// - a window text it accepts is the canonical text of the window it reads.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimestamp(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    let fromBytes = bytes.withUnsafeBytes { Timestamp(iso: $0) }
    let fromString = Timestamp(iso: text)
    // The String init reads the String's UTF-8, in which invalid bytes became U+FFFD.
    if String(validating: bytes, as: UTF8.self) != nil {
        check(fromBytes == fromString, "bytes gave \(String(describing: fromBytes)), the String \(String(describing: fromString))", bytes)
    }
    if let time = fromBytes { checkTime(time, bytes) }

    // Window parsers, on the same text.
    let day = WeeklyWindow.parseDay(text)
    check(day.map { (0...6).contains($0) } ?? true, "parseDay gave \(day!)", bytes)
    if let minute = WeeklyWindow.parseTime(text) {
        check((0..<1440).contains(minute) && minute % 30 == 0, "parseTime gave \(minute)", bytes)
    }
    if let window = WeeklyWindow(text: text) {
        check(window.text == text, "window text \(window.text.debugDescription) is not the text read", bytes)
    }
    return 0
}

func checkTime(_ time: Timestamp, _ bytes: [UInt8]) {
    let storage = time.storageText
    check(storage.utf8.count == 24 && isStorageShape(Array(storage.utf8)),
          "\(time.millisecondsSinceEpoch) ms formats as \(storage.debugDescription), not the stored shape", bytes)
    for (form, text) in [("storage", storage), ("iso", time.isoText)] {
        check(Timestamp(iso: text) == time, "its \(form) text \(text.debugDescription) parses as \(String(describing: Timestamp(iso: text)))", bytes)
    }
    let wholeSeconds = Timestamp(millisecondsSinceEpoch: Timestamp.floorDiv(time.millisecondsSinceEpoch, 1000) * 1000)
    check(Timestamp(iso: time.listText) == wholeSeconds, "its list text \(time.listText.debugDescription) does not parse back", bytes)
    check((0...6).contains(time.dayOfWeek), "day of week \(time.dayOfWeek)", bytes)
    let day = time.startOfDay
    check(day <= time && time < day.adding(days: 1), "start of day \(day) for \(time)", bytes)
    // A window derived from the input's bytes, so the fuzzer explores both.
    let seed = bytes.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF }
    let window = WeeklyWindow(dayOfWeek: seed % 7, startMinute: (seed / 7 % 48) * 30)
    let start = window.start(onOrAfter: time)
    check(start >= time && time.milliseconds(until: start) < Timestamp.millisecondsPerWeek, "window start \(start) for \(time)", bytes)
    check(window.contains(start) && start.dayOfWeek == window.dayOfWeek, "window \(window.text) does not contain its start \(start)", bytes)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, digits where the schema's GLOB wants them.
func isStorageShape(_ text: [UInt8]) -> Bool {
    let pattern = Array("0000-00-00T00:00:00.000Z".utf8)
    return text.count == pattern.count && zip(text, pattern).allSatisfy { byte, want in
        want == UInt8(ascii: "0") ? (48...57).contains(byte) : byte == want
    }
}

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, _ bytes: [UInt8]) {
    if !condition() { fail(message(), bytes) }
}

func fail(_ message: String, _ bytes: [UInt8]) -> Never {
    FileHandle.standardError.write(Data("FuzzTimestamp: \(message)\ninput: \(String(decoding: bytes.prefix(500), as: UTF8.self).debugDescription)\n".utf8))
    fatalError(message)
}
