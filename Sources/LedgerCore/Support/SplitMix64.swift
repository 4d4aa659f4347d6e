/// A small, fast, seedable generator (SplitMix64) for names, uuids and default windows.
package struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    /// One of many generators from one seed whose draws do not overlap. (Started at
    /// `seed + N × step`, stream N's draw i was stream N-1's draw i+1: neighbouring commands
    /// shared uuid digits, and some got the same uuid.)
    package init(seed: UInt64, stream: UInt64) {
        var scrambler = SplitMix64(seed: seed &+ stream &* 0x9E37_79B9_7F4A_7C15)
        state = scrambler.next()
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A version-4 UUID in lowercase text.
    package mutating func uuid() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &self) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        var text = Hex.bytes(bytes)
        for dash in [8, 13, 18, 23] { text.insert(UInt8(ascii: "-"), at: dash) }
        return String(decoding: text, as: UTF8.self)
    }
}
