import Testing
@testable import LedgerCore
@testable import LedgerStore

/// `SHA256Hasher`, which calls swift-crypto's BoringSSL directly where it can, gives the digests
/// of swift-crypto's published `SHA256` (`CryptoSHA256Hasher`, its fallback elsewhere): a
/// hash that differed would make every ledger the other build wrote fail `audit:verify`.
@Suite struct SHA256HasherTests {
    static func digest(_ bytes: [UInt8]) -> SHA256Value {
        var hasher = CryptoSHA256Hasher()
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    /// FIPS 180-2's examples: an empty message, one block, and two blocks (56 bytes, whose
    /// padding needs a block of its own).
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownDigests(message: String, digest: String) {
        let bytes = Array(message.utf8)
        #expect(Hex.string(bytes.withUnsafeBytes(SHA256Hasher.hash).bytes) == digest)
        #expect(Hex.string(Self.digest(bytes).bytes) == digest)
    }

    /// Every length up to 300 (each place the last block's padding can fall, over four blocks)
    /// and a few large ones, whole and fed in pieces of 0 to 66 bytes (the trail's hash is fed a
    /// byte, then texts and varints of any length).
    @Test func agreesWithSwiftCryptosSHA256() {
        var random = SplitMix64(seed: 256)
        for count in Array(0...300) + [4_096, 65_537, 1 << 20] {
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let expected = Self.digest(bytes)
            #expect(bytes.withUnsafeBytes(SHA256Hasher.hash) == expected, "\(count) bytes whole")

            var hasher = SHA256Hasher()
            var rest = bytes[...]
            var length = 0
            while !rest.isEmpty {
                if length == 1 {
                    hasher.update(byte: rest.first!)
                } else {
                    hasher.update(Array(rest.prefix(length)))
                }
                rest = rest.dropFirst(length)
                length = (length + 1) % 67
            }
            #expect(hasher.finalize() == expected, "\(count) bytes in pieces")
        }
    }
}
