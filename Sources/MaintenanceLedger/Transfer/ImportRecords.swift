import LedgerCore

/// Where a maintenance object stands in an import's input, as errors name it: an NDJSON line
/// by its number; an element of an array, or an object of a sequence of them, by its number
/// among the objects of the input, and the line it starts on.
struct ImportPlace: Sendable {
    enum Unit: String, Sendable {
        case line, element, object
    }

    let unit: Unit
    let number: Int
    let line: Int
    /// The column (in bytes, from 1) its object starts at on that line.
    var column = 1

    /// `line 6 of FILE`, `element 3 of FILE (line 41)`.
    func description(of source: String) -> String {
        unit == .line ? "line \(number) of \(source)" : "\(unit.rawValue) \(number) of \(source) (line \(line))"
    }
}

/// The maintenance objects of an import's input, one at a time, each with its place. The input
/// is either NDJSON, one object a line (what `history --ndjson` prints), or JSON texts one after
/// another, each an object or an array of objects: what `heroku data:maintenances:info --json`
/// (one pretty-printed object) and `data:maintenances:history --json` (an array) print, and any
/// number of them appended to one file. A UTF-8 byte order mark before either is skipped.
///
/// The first line that is not blank decides: one that starts with `{` and ends with `}`, an
/// object on one line, is NDJSON, read a line at a time as before (the fast path); anything else
/// (a pretty-printed object starts with a line of `{` alone, an array with `[`) is JSON texts, whose objects are cut out
/// by following strings and brackets, then parsed as a line is.
final class ImportRecords {
    private let reader: LineReader
    private let source: String
    private var texts: JSONTexts?
    private var decided = false
    /// The lines read so far.
    private(set) var lines = 0
    var bytesRead: Int { reader.bytesRead }

    init(reader: LineReader, source: String) {
        self.reader = reader
        self.source = source
    }

    /// The next object's bytes and place (nil after the last), or nil bytes for a blank line of
    /// NDJSON. Errors are placed: they name the line or element they are about.
    func next() throws -> (place: ImportPlace, bytes: [UInt8]?)? {
        if decided, texts == nil {
            guard let line = try readLine() else { return nil }
            return (ImportPlace(unit: .line, number: lines, line: lines), Self.isBlank(line) ? nil : line)
        }
        if !decided {
            guard var line = try readLine() else {
                // Heroku's CLI prints `[]` for no maintenances, and nothing to stdout when it fails:
                // a daily job fed the file a failed command wrote imported nothing, and exited 0.
                throw LedgerError.badData("\(source) is empty: no JSON, not even the [] Heroku's CLI prints for no maintenances",
                                          hint: "Nothing was imported; check the command that wrote it (a failed `heroku … --json` "
                                              + "prints nothing to its output).")
            }
            if lines == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
            // What PowerShell 5's `>` writes (`heroku … --json > history.json` on Windows).
            if lines == 1, line.starts(with: [0xFF, 0xFE]) || line.starts(with: [0xFE, 0xFF]) {
                throw LedgerError.badData("\(source) is UTF-16 (it starts with UTF-16's byte order mark); an import reads UTF-8",
                                          hint: "Nothing from \(source) was imported; convert it (iconv -f UTF-16 -t UTF-8, or Out-File "
                                              + "-Encoding utf8 in PowerShell) and import it again.")
            }
            if Self.isBlank(line) { return (ImportPlace(unit: .line, number: lines, line: lines), nil) }
            decided = true
            if line.first == UInt8(ascii: "{"), line.last(where: { $0 != 0x20 && $0 != 0x09 }) == UInt8(ascii: "}") {
                return (ImportPlace(unit: .line, number: lines, line: lines), line)
            }
            texts = try JSONTexts(source: source, firstLine: line, number: lines)
        }
        while true {
            if let object = try texts!.nextObject() { return (object.place, object.bytes) }
            guard let line = try readLine() else {
                try texts!.end()
                return nil
            }
            try texts!.feed(line, number: lines)
        }
    }

    private func readLine() throws -> [UInt8]? {
        do {
            guard let line = try reader.next() else { return nil }
            lines += 1
            return line
        } catch let error as LedgerError {
            let place = ImportPlace(unit: .line, number: lines + 1, line: lines + 1)
            // A read that failed: nothing in the file to fix.
            guard case .refused = error else { throw error.at(place, of: source) }
            throw LedgerError.refused("\(place.description(of: source)): \(error.message)",
                                      hint: "Nothing from \(source) was imported; import it again once it can be read (a file, or a pipe on standard input).")
        }
    }

    private static func isBlank(_ line: [UInt8]) -> Bool {
        !line.contains { $0 != 0x20 && $0 != 0x09 }
    }
}

/// Cuts the maintenance objects out of JSON texts given a line at a time: top-level objects, and
/// the elements of top-level arrays, which must be objects too (Heroku prints no other shape).
/// An object's bytes are copied whole (its lines joined by line breaks) and parsed afterwards,
/// which checks them; this follows only what it needs to find where each object ends.
private struct JSONTexts {
    let source: String
    private var line: [UInt8] = []
    private var lineNumber = 0
    private var position = 0
    /// The object being cut out: its bytes so far, from `segmentStart` of the line on, and its place.
    private var collected: [UInt8] = []
    private var segmentStart = 0
    private var current: ImportPlace?
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// Inside a top-level array, whether an element may come next (at its start or after a
    /// comma), and how many elements it has had.
    private var inArray = false
    private var expectsElement = false
    private var elementsInArray = 0
    /// The objects cut out so far.
    private var count = 0

    init(source: String, firstLine: [UInt8], number: Int) throws {
        self.source = source
        try feed(firstLine, number: number)
    }

    mutating func feed(_ next: [UInt8], number: Int) throws {
        if let current, inString {
            // Else the rest of the input, to its end or 64 MiB, is read as the string.
            throw LedgerError.badData("the string on line \(lineNumber) is not closed: JSON strings hold no line breaks", hint: nil)
                .at(current, of: source)
        }
        if let current {
            guard collected.count + line.count + next.count <= LineReader.maximumLineBytes else {
                throw LedgerError.badData("longer than \(LineReader.maximumLineBytes >> 20) MiB, the most an object may hold", hint: nil)
                    .at(current, of: source)
            }
            collected.append(contentsOf: line[segmentStart...])
            collected.append(0x0A)
            segmentStart = 0
        }
        line = next
        lineNumber = number
        position = 0
    }

    /// The next whole object on the lines fed, or nil when the line ends first.
    mutating func nextObject() throws -> (place: ImportPlace, bytes: [UInt8])? {
        while position < line.count {
            let byte = line[position]
            position += 1
            if current != nil {
                if let object = follow(byte) { return object }
                continue
            }
            switch byte {
            case 0x20, 0x09, 0x0D:
                continue
            case UInt8(ascii: "{"):
                try start()
            case UInt8(ascii: ",") where inArray && !expectsElement:
                expectsElement = true
            case UInt8(ascii: "]") where inArray && (!expectsElement || elementsInArray == 0):
                inArray = false
            case UInt8(ascii: "]") where inArray:
                throw LedgerError.badData("a comma after it ends the array: JSON allows none there", hint: nil).at(lastPlace, of: source)
            case UInt8(ascii: "[") where !inArray:
                (inArray, expectsElement, elementsInArray) = (true, true, 0)
            case UInt8(ascii: "["):
                throw LedgerError.badData("an array inside the array: each element must be a maintenance object", hint: nil).at(nextPlace, of: source)
            default:
                let what = Self.describe(line[(position - 1)...])
                guard inArray else {
                    throw LedgerError.badData("\(what) where a maintenance object or an array of them should be", hint: nil)
                        .at(ImportPlace(unit: .line, number: lineNumber, line: lineNumber), of: source)
                }
                if expectsElement {
                    throw LedgerError.badData("\(what) where a maintenance object should be", hint: nil).at(nextPlace, of: source)
                }
                throw LedgerError.badData("\(what) after it where a comma or the array's end should be", hint: nil).at(lastPlace, of: source)
            }
        }
        return nil
    }

    /// The input has ended: an object or array left open is cut short.
    func end() throws {
        if let current {
            throw LedgerError.badData("cut short: the input ends inside it", hint: nil).at(current, of: source)
        }
        if inArray {
            let after = elementsInArray == 0 ? "" : " after element \(count)"
            throw LedgerError.badData("the array is not closed: the input ends\(after)", hint: nil)
                .at(ImportPlace(unit: .line, number: lineNumber, line: lineNumber), of: source)
        }
    }

    private var unit: ImportPlace.Unit { inArray ? .element : .object }
    private var nextPlace: ImportPlace { ImportPlace(unit: unit, number: count + 1, line: lineNumber) }
    private var lastPlace: ImportPlace { ImportPlace(unit: unit, number: count, line: lineNumber) }

    private mutating func start() throws {
        if inArray {
            guard expectsElement else {
                throw LedgerError.badData("another object after it where a comma should be", hint: nil).at(lastPlace, of: source)
            }
            expectsElement = false
            elementsInArray += 1
        }
        segmentStart = position - 1
        current = nextPlace
        current!.column = segmentStart + 1
        count += 1
        depth = 1
        collected = []
    }

    /// Follows one byte of the object being cut out; returns the object once it closes.
    private mutating func follow(_ byte: UInt8) -> (place: ImportPlace, bytes: [UInt8])? {
        if inString {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            }
            return nil
        }
        switch byte {
        case UInt8(ascii: "\""): inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
        default: return nil
        }
        guard depth == 0 else { return nil }
        collected.append(contentsOf: line[segmentStart..<position])
        defer { current = nil }
        return (current!, collected)
    }

    /// What a line holds from where a maintenance object should start: a JSON value of another
    /// kind, or else its text to the end of the line, cut to 40 characters (a message Heroku's
    /// CLI printed, an HTML page: it was "the byte 0xE2").
    private static func describe(_ text: ArraySlice<UInt8>) -> String {
        switch text.first {
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "-"), (UInt8(ascii: "0")...UInt8(ascii: "9"))?: return "a number"
        case _ where text.starts(with: "true".utf8) || text.starts(with: "false".utf8): return "true or false"
        case _ where text.starts(with: "null".utf8): return "null"
        default:
            let quoted = String(decoding: text, as: UTF8.self)
            return "'" + (quoted.count > 40 ? quoted.prefix(39) + "…" : quoted) + "'"
        }
    }
}
