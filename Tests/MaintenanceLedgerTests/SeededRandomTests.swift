import Testing
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
            let streams = (0..<200).map { draws(seed: seed, stream: $0, count: 64) }
            var seen: [UInt64: UInt64] = [:]
            for (stream, values) in streams.enumerated() {
                for value in values {
                    if let earlier = seen.updateValue(UInt64(stream), forKey: value), earlier != UInt64(stream) {
                        Issue.record("seed \(seed): streams \(earlier) and \(stream) both draw \(value)")
                        return
                    }
                }
            }
        }
    }

    @Test func aStreamRepeatsForTheSameSeedAndLength() {
        #expect(draws(seed: 7, stream: 41, count: 20) == draws(seed: 7, stream: 41, count: 20))
        #expect(draws(seed: 7, stream: 41, count: 20) != draws(seed: 8, stream: 41, count: 20))
    }
}
