import Foundation
import Testing
@testable import LedgerCore
@testable import LedgerStore
@testable import MaintenanceLedger

/// What the fuzzers (fuzz/, issue 13) found in the parsers, and a few of the nastiest inputs
/// they keep, as tests of the parsers themselves. The end-to-end ones are in
/// Tests/MaintLedgerCLITests/FuzzRegressionTests.swift.
@Suite struct FuzzRegressionTests {
    // MARK: Times

    /// An offset that carried the instant out of the years 0000…9999 was accepted: its stored
    /// form (`00-1-12-31T10:00:00.000Z` for the first) broke the schema's CHECK, a raw SQLite
    /// error with exit 1, and read back as no time at all. FuzzTimestamp's first find.
    @Test(arguments: ["0000-01-01T00:00:00+14:00", "0000-01-01T00:00:00+00:01", "0000-01-01T00:00+00:01", "0000-01-01 00:00:00 +0001",
                      "0000-01-01T00:00:00.000+23:59", "9999-12-31T23:59:59-00:01", "9999-12-31T23:59:59.999-14:00", "9999-12-31T23:30-23:59"])
    func aTimeOutsideTheYearsTheLedgerStoresIsRefused(text: String) {
        #expect(Timestamp(iso: text) == nil)
    }

    /// The first and last instants the ledger stores are times, whatever the offset says.
    @Test(arguments: [
        ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"),
        ("0000-01-01T00:00:00-14:00", "0000-01-01T14:00:00.000Z"),
        ("0000-01-01T14:00+14:00", "0000-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12-31T23:59:59.999+14:00", "9999-12-31T09:59:59.999Z"),
        ("9999-12-31T09:59:59.999-14:00", "9999-12-31T23:59:59.999Z"),
        ("1970-01-01", "1970-01-01T00:00:00.000Z"),
        ("1970-01-01T00:00:00.000+14:00", "1969-12-31T10:00:00.000Z"),
    ])
    func theEdgesOfTheStoredRangeAreTimes(text: String, stored: String) throws {
        let time = try #require(Timestamp(iso: text))
        #expect(time.storageText == stored)
        #expect(Timestamp(iso: time.storageText) == time)
    }

    /// Times people and systems type that are not ISO 8601 as the ledger reads it: a leap
    /// second (UTC's 23:59:60 has no instant of its own here), a month 99, a bare offset,
    /// digits that are not ASCII, a trailing line break, a five-digit year.
    @Test(arguments: ["9999-99-99", "+14:00", "2016-12-31T23:59:60Z", "2023-04-28T23:59:60+00:00", "2023-04-28T18:04:21+24:00",
                      "-0001-01-01", "+002023-04-28", "\u{FF12}\u{FF10}\u{FF12}\u{FF13}-04-28", "\u{662}\u{660}\u{662}\u{663}-04-28",
                      "2023-04-28T18:04:21.141Z\n", "2023-04-28 ", "10000-01-01", "2023-04-28T18:04:21+99:99", "2023-04-28\u{202E}Z"])
    func nastyTimesAreRefused(text: String) {
        #expect(Timestamp(iso: text) == nil)
    }

    /// FuzzTimestamp's property, on times drawn as it draws them (seeded): a time that is
    /// accepted is stored in the shape the schema checks, and each of its forms reads back.
    @Test func everyAcceptedTimeIsStoredInTheCheckedShapeAndReadsBack() throws {
        var random = SplitMix64(seed: 13)
        let shape = /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z/
        var accepted = 0
        for _ in 0..<20_000 {
            let year = [0, 1, 1969, 1970, 2023, 9998, 9999, Int.random(in: 0...9999, using: &random)].randomElement(using: &random)!
            let month = [1, 2, 12, Int.random(in: 0...13, using: &random)].randomElement(using: &random)!
            let day = [1, 28, 29, 31, Int.random(in: 0...32, using: &random)].randomElement(using: &random)!
            let zone = ["", "Z", "+00:00", "-00:00", "+14:00", "-14:00", "+23:59", "-23:59", "+0530", " +0000", "+00:01", "-00:01"]
                .randomElement(using: &random)!
            let clock = ["00:00", "23:59", "14:00", "09:59:59.999", "23:59:59.999999", "00:00:00,5"].randomElement(using: &random)!
            func padded(_ value: Int, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(value).count)) + String(value) }
            let text = "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))" + (Bool.random(using: &random) ? "T\(clock)\(zone)" : "")
            guard let time = Timestamp(iso: text) else { continue }
            accepted += 1
            #expect(try shape.wholeMatch(in: time.storageText) != nil, "\(text) is stored as \(time.storageText)")
            #expect(Timestamp(iso: time.storageText) == time, "\(text)")
            #expect(Timestamp(iso: time.isoText) == time, "\(text)")
        }
        #expect(accepted > 5_000)
    }

    // MARK: JSON

    /// Deep nesting is refused, not recursed into (a stack overflow), however it is spelled.
    @Test(arguments: [String(repeating: "[", count: 100_000), String(repeating: "{\"a\":", count: 100_000),
                      String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
                      "{\"addon_description\":" + String(repeating: "[", count: 65) + String(repeating: "]", count: 65) + "}"])
    func deepNestingIsRefused(text: String) {
        #expect(JSONValue.parse(Array(text.utf8)) == nil)
    }

    /// 64 levels are the most it reads (import lines have 2).
    @Test func sixtyFourLevelsAreRead() {
        #expect(JSONValue.parse(Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8)) != nil)
    }

    /// Text that is not UTF-8, in a value or a key, or a raw control character, is not JSON.
    @Test(arguments: [[0x22, 0xFF, 0x22], [0x7B, 0x22, 0xC3, 0x22, 0x3A, 0x31, 0x7D], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22],
                      [0x22, 0x61, 0x00, 0x62, 0x22], [0x22, 0x0A, 0x22], [0xEF, 0xBB, 0xBF, 0x7B, 0x7D]] as [[UInt8]])
    func invalidTextIsRefused(bytes: [UInt8]) {
        #expect(JSONValue.parse(bytes) == nil)
    }

    /// Past 16 keys an object checks its keys through a set: a key named twice there is found
    /// too, and 100,000 distinct keys take no quadratic time.
    @Test func aKeyNamedTwiceAmongManyIsFoundAndManyKeysAreRead() {
        let keys = (0..<20).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        var failure: JSONParseFailure?
        #expect(JSONValue.parse(Array("{\(keys),\"k3\":1}".utf8), failure: &failure) == nil)
        #expect(failure?.reason == .duplicateKey("k3"))
        let many = "{" + (0..<100_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        guard case .object(let members) = JSONValue.parse(Array(many.utf8)) else {
            Issue.record("100,000 distinct keys were refused")
            return
        }
        #expect(members.count == 100_000)
    }

    // MARK: Reading an import file

    /// A read that fails is not the end of the file: getline's -1 was taken for the end, so an
    /// import that could not read on kept the lines before and said it was done.
    /// (/proc/self/mem opens, and its first page cannot be read: EIO.)
    @Test func aFileThatCannotBeReadIsRefusedNotTakenForEmpty() throws {
        let fixture = try LedgerFixture()
        let ledger = fixture.ledger()
        try ledger.createApp(named: "example-app")
        let before = try fixture.snapshot()
        #expect(throws: LedgerError.refused("line 1 of mem: cannot be read (Input/output error)",
                                            hint: "Nothing from mem was imported; import it again once it can be read (a file, or a pipe on standard input).")) {
            _ = try ledger.importMaintenances(from: try LineReader(path: "/proc/self/mem"), source: "mem")
        }
        #expect(try fixture.snapshot() == before)
    }

    // MARK: Trail payloads

    /// A uuid that is the entry's time or its actor is written with tag 6 or 7, and must be
    /// refused as a uuid (tag 8). The reader checked the actor only: in an entry whose
    /// recorded_at is a uuid's text it read tag 8 too, so one row had two encodings, and
    /// FuzzTrailPayload's check that what the reader accepts the writer writes back the same
    /// fails on it (maintledger writes no such recorded_at; a file written by hand may hold one).
    @Test(arguments: [("d6bac5fb-96d0-4435-b326-77b1134ab499", "platform"), ("2024-12-10T19:01:02.695Z", "d6bac5fb-96d0-4435-b326-77b1134ab499")])
    func aUUIDThatIsTheEntrysTimeOrActorHasOneEncoding(recordedAt: String, actor: String) throws {
        let uuid = "d6bac5fb-96d0-4435-b326-77b1134ab499"
        var encoder = CompactPayloadEncoder(recordedAt: recordedAt, actor: actor)
        encoder.begin(.insert, .apps, id: 7, count: 4)
        Array(uuid.utf8).withUnsafeBytes { encoder.text($0) }
        (0..<3).forEach { _ in encoder.null() }
        #expect(encoder.bytes == [0x11, 0x07, 0x04, recordedAt == uuid ? 0x06 : 0x07, 0x00, 0x00, 0x00])
        let read = try TrailFormatTests.read(encoder.bytes, recordedAt: recordedAt, actor: actor).get()
        #expect(read[0].values.map(\.1) == [.text(Array(uuid.utf8)), .null, .null, .null])

        let asUUID: [UInt8] = [0x11, 0x07, 0x04, 0x08] + Array(uuid.utf8).withUnsafeBytes { UUIDText.bytes($0)! } + [0x00, 0x00, 0x00]
        #expect(throws: TrailFormatTests.ParseProblem(text: "the value of column 1 of the change at byte 0 is not one maintledger writes")) {
            try TrailFormatTests.read(asUUID, recordedAt: recordedAt, actor: actor).get()
        }
    }
}
