import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintenanceLedger

// A seeded command draws its names and uuids from its own stream (the seed and the trail's
// length). Streams that overlapped gave two commands the same uuid once a fleet had a few
// thousand apps (`simulate --apps 3000` failed on addons.uuid).

@Suite struct SeededRandomTests {
    private func draws(seed: UInt64, stream: UInt64, count: Int) -> [UInt64] {
        var generator = SplitMix64(seed: seed, stream: stream)
        return (0..<count).map { _ in generator.next() }
    }

    @Test func neighbouringStreamsShareNoDraws() {
        for seed: UInt64 in [0, 1, 2023] {
            var seen: [UInt64: UInt64] = [:]
            let shared = (0..<200).flatMap { stream in
                draws(seed: seed, stream: stream, count: 64).compactMap { value in
                    seen.updateValue(stream, forKey: value).flatMap { $0 == stream ? nil : value }
                }
            }
            #expect(shared.isEmpty, "seed \(seed): \(shared.count) draws come up in two streams")
        }
    }

    @Test func aStreamRepeatsForTheSameSeedAndLength() {
        #expect(draws(seed: 7, stream: 41, count: 20) == draws(seed: 7, stream: 41, count: 20))
        #expect(draws(seed: 7, stream: 41, count: 20) != draws(seed: 8, stream: 41, count: 20))
    }
}

@Suite struct SeededFleetUUIDTests {
    /// With overlapping streams, app 2's uuid was add-on 1's, and a maintenance's shared most of
    /// its digits with the one before it.
    @Test func everyUUIDOfASeededFleetIsItsOwn() throws {
        let fixture = try LedgerFixture(now: "2022-12-31T00:00:00Z")
        let settings = FleetSimulator.Settings(apps: 30, days: 60, start: Timestamp(iso: "2022-01-01T00:00:00Z")!, engine: EngineSettings(seed: 7))
        _ = try FleetSimulator(database: fixture.database, settings: settings, now: fixture.now).run()
        let uuids = try fixture.database.inspect { db in
            try String.fetchAll(db, sql: "SELECT uuid FROM apps UNION ALL SELECT uuid FROM addons UNION ALL SELECT uuid FROM maintenances")
        }
        #expect(uuids.count > 100)
        #expect(Set(uuids).count == uuids.count, "a uuid names two rows")
        // No two share a run of 12 hex digits (by chance that would take billions of uuids).
        var runs: [Substring: String] = [:]
        for uuid in uuids {
            let digits = uuid.replacingOccurrences(of: "-", with: "")
            for start in 0...(digits.count - 12) {
                let run = digits.dropFirst(start).prefix(12)
                if let other = runs.updateValue(uuid, forKey: run), other != uuid {
                    Issue.record("\(uuid) and \(other) share \(run)")
                    return
                }
            }
        }
    }
}
