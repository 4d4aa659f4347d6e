import Foundation
import Testing
@testable import LedgerCore
@testable import LedgerStore
@testable import MaintenanceLedger

/// The parts of an import of Heroku's output that need no ledger: derived uuids, the lifecycle
/// paths a daily import records, and how JSON texts are cut into objects.
@Suite struct ImportRecordsTests {
    @Test func aDerivedUUIDIsTheSameToTheSecondAndAVersion8UUID() throws {
        let precise = try #require(Timestamp(iso: "2023-05-03T08:54:02.518+00:00"))
        let listed = try #require(Timestamp(iso: "2023-05-03 08:54:02 +0000"))
        let uuid = HerokuMaintenance.derivedUUID(addon: "redis-lively-12345", reason: .routineMaintenance, requiredBy: precise)
        #expect(uuid == HerokuMaintenance.derivedUUID(addon: "redis-lively-12345", reason: .routineMaintenance, requiredBy: listed))
        #expect(uuid == "98946e84-7d7e-8a9b-9473-1904c81a8ab9")
        #expect(Array(uuid)[14] == "8" && "89ab".contains(Array(uuid)[19]))
        #expect(uuid != HerokuMaintenance.derivedUUID(addon: "redis-lively-12345", reason: .hardwareIssue, requiredBy: precise))
        #expect(uuid != HerokuMaintenance.derivedUUID(addon: "redis-lively-12346", reason: .routineMaintenance, requiredBy: precise))
        #expect(uuid != HerokuMaintenance.derivedUUID(addon: "redis-lively-12345", reason: .routineMaintenance, requiredBy: precise.adding(minutes: 1)))
    }

    @Test func theLifecycleGoesForwardByItsFewestSteps() {
        #expect(MaintenanceProgress.path(from: .pending, to: .completed) == [.running, .completed])
        #expect(MaintenanceProgress.path(from: .pending, to: .ready) == [.preparing, .ready])
        #expect(MaintenanceProgress.path(from: .ready, to: .cancelled) == [.cancelled])
        #expect(MaintenanceProgress.path(from: .running, to: .running) == [])
        #expect(MaintenanceProgress.path(from: .completed, to: .pending) == nil)
        #expect(MaintenanceProgress.path(from: .running, to: .cancelled) == nil)
        #expect(MaintenanceProgress.path(from: .failed, to: .completed) == nil)
    }

    /// Objects cut from JSON texts whatever their layout: strings holding brackets, quotes and
    /// escapes, several objects on a line, an object over several lines, arrays appended.
    @Test func objectsAreCutWhereverTheirBracketsClose() throws {
        let text = "\u{FEFF}[{\"a\": \"}]\\\"[{\"}, {\"b\":\n [1, {\"c\": 2}]\n}\n]\n{\"d\": 3} [ ]\n[{\"e\": 4}]"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("import-records-\(UUID().uuidString).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let records = ImportRecords(reader: try LineReader(path: path), source: "t")
        var cut: [String] = []
        while let record = try records.next() {
            if let bytes = record.bytes { cut.append("\(record.place.description(of: "t")) \(String(decoding: bytes, as: UTF8.self))") }
        }
        #expect(cut == [
            "element 1 of t (line 1) {\"a\": \"}]\\\"[{\"}",
            "element 2 of t (line 1) {\"b\":\n [1, {\"c\": 2}]\n}",
            "object 3 of t (line 5) {\"d\": 3}",
            "element 4 of t (line 6) {\"e\": 4}",
        ])
    }
}
