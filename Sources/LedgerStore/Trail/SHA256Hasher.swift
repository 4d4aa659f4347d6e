import Crypto
#if canImport(CCryptoBoringSSL)
// The BoringSSL that swift-crypto builds on Linux, and that its `SHA256` wraps: not a product
// of swift-crypto, but a module of its build that SwiftPM lets its dependents import (its
// `CCryptoBoringSSL_` names are how swift-crypto keeps its copy apart from any other). Where it
// cannot be imported (Apple platforms, where swift-crypto is CryptoKit; a swift-crypto or
// SwiftPM that stops exposing it), `SHA256Hasher` is `CryptoSHA256Hasher`, with the same
// digests, only slower. What is called of it is BoringSSL's SHA256_Init/Update/Final.
internal import CCryptoBoringSSL
#endif

/// SHA-256 for the loops that hash every entry and every row, with its state on the stack.
///
/// swift-crypto's `SHA256` keeps its state in a class instance: an allocation, a free and
/// exclusivity checks for every hash, 160 ns of the 200 that a row of one block cost, and
/// `audit:verify` hashes four times as many rows as a ledger has (an inserted row's plain
/// encoding from the trail and from its table, entries, the Merkle tree's leaves and nodes).
/// The bytes and the digest are the same as `SHA256`'s (SHA256HasherTests).
///
/// Hashing 1M messages of 150 bytes (release, best of 5, 2026-12-05, the machine busy with
/// other work): 158 ms through BoringSSL as here, 245 ms through `CryptoSHA256Hasher`,
/// 278 ms with `SHA256.hash(data:)`; of 33 bytes (a Merkle leaf), 85 ms against 227.
package struct SHA256Hasher {
    #if canImport(CCryptoBoringSSL)
    private var context = SHA256_CTX()

    package init() {
        CCryptoBoringSSL_SHA256_Init(&context)
    }

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        CCryptoBoringSSL_SHA256_Update(&context, bytes.baseAddress, bytes.count)
    }

    /// The digest; the hasher is spent.
    package mutating func finalize() -> SHA256Value {
        var value = SHA256Value()
        withUnsafeMutableBytes(of: &value.words) { out in
            _ = CCryptoBoringSSL_SHA256_Final(out.baseAddress!.assumingMemoryBound(to: UInt8.self), &context)
        }
        return value
    }
    #else
    private var hasher = CryptoSHA256Hasher()

    package init() {}

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bytes)
    }

    package mutating func finalize() -> SHA256Value {
        hasher.finalize()
    }
    #endif

    package mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    package mutating func update(byte: UInt8) {
        withUnsafeBytes(of: byte) { update($0) }
    }

    package static func hash(_ bytes: UnsafeRawBufferPointer) -> SHA256Value {
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

/// SHA-256 through swift-crypto's published `SHA256`: what `SHA256Hasher` is where
/// BoringSSL's module cannot be imported. Compiled everywhere, so that the tests hold the two
/// to the same digests where the fast path is the one in use.
package struct CryptoSHA256Hasher {
    private var hasher = SHA256()

    package init() {}

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    package func finalize() -> SHA256Value {
        var value = SHA256Value()
        hasher.finalize().withUnsafeBytes { digest in
            withUnsafeMutableBytes(of: &value.words) { $0.copyMemory(from: digest) }
        }
        return value
    }
}

/// A SHA-256 digest as a value: its 32 bytes in order, with no array to allocate.
package struct SHA256Value: Equatable {
    /// The digest's bytes 0–7, 8–15, 16–23 and 24–31, as they lie in memory.
    package var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    package init() {}

    /// From the first 32 of `bytes` (callers check there are 32).
    package init(_ bytes: UnsafeRawBufferPointer) {
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(32))) }
    }

    package static func == (a: SHA256Value, b: SHA256Value) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    package func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(of: words, body)
    }

    package var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
