import Crypto
import Foundation
import LedgerCore

/// C2SP signed notes (https://c2sp.org/signed-note), with Ed25519 keys, as Go's
/// `golang.org/x/mod/sumdb/note` reads and writes them: a text of lines, a blank line, and one
/// `— <key name> <base64(key id ‖ signature)>` line per signature.
public enum SignedNote {
    /// The Ed25519 algorithm byte that starts an encoded key.
    static let ed25519: UInt8 = 0x01

    /// A key name: non-empty, no spaces and no `+` (Go's `isValidName`).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("+") && !name.unicodeScalars.contains { $0.properties.isWhitespace }
            && !name.containsControlCharacter
    }

    /// The key id: the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key), big-endian.
    static func keyID(name: String, publicKey: some Collection<UInt8>) -> UInt32 {
        let digest = Array(SHA256.hash(data: Array(name.utf8) + [0x0A, ed25519] + Array(publicKey)))
        return digest.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func hex8(_ id: UInt32) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// A key that signs: `PRIVATE+KEY+<name>+<id>+<base64(0x01 ‖ seed)>`, the file `audit:keygen` writes.
    public struct Signer {
        public let name: String
        public let keyID: UInt32
        let key: Curve25519.Signing.PrivateKey

        /// A new key.
        public init(generatingFor name: String) {
            self.name = name
            key = Curve25519.Signing.PrivateKey()
            keyID = SignedNote.keyID(name: name, publicKey: key.publicKey.rawRepresentation)
        }

        /// Reads an encoded signer key; nil for anything malformed or a key id that does not match.
        public init?(encoded text: String) {
            let parts = text.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY", SignedNote.isValidName(parts[2]),
                  parts[3].count == 8, let id = UInt32(parts[3], radix: 16),
                  let bytes = Data(base64Encoded: parts[4]), bytes.count == 33, bytes.first == SignedNote.ed25519,
                  let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes.dropFirst()),
                  SignedNote.keyID(name: parts[2], publicKey: key.publicKey.rawRepresentation) == id else { return nil }
            (name, keyID, self.key) = (parts[2], id, key)
        }

        public var encoded: String {
            "PRIVATE+KEY+\(name)+\(hex8(keyID))+" + Data([SignedNote.ed25519] + Array(key.rawRepresentation)).base64EncodedString()
        }

        public var verifier: Verifier { Verifier(name: name, keyID: keyID, key: key.publicKey) }

        /// `text` (which ends with a newline) with this key's signature line.
        public func sign(_ text: String) throws -> String {
            let signature = try key.signature(for: Array(text.utf8))
            let idBytes = withUnsafeBytes(of: keyID.bigEndian) { Array($0) }
            return text + "\n— \(name) " + Data(idBytes + Array(signature)).base64EncodedString() + "\n"
        }
    }

    /// A key that checks signatures: `<name>+<id>+<base64(0x01 ‖ public key)>`.
    public struct Verifier {
        public let name: String
        public let keyID: UInt32
        let key: Curve25519.Signing.PublicKey

        init(name: String, keyID: UInt32, key: Curve25519.Signing.PublicKey) {
            (self.name, self.keyID, self.key) = (name, keyID, key)
        }

        public init?(encoded text: String) {
            let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, SignedNote.isValidName(parts[0]), parts[1].count == 8, let id = UInt32(parts[1], radix: 16),
                  let bytes = Data(base64Encoded: parts[2]), bytes.count == 33, bytes.first == SignedNote.ed25519,
                  SignedNote.keyID(name: parts[0], publicKey: bytes.dropFirst()) == id,
                  let key = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes.dropFirst()) else { return nil }
            (name, keyID, self.key) = (parts[0], id, key)
        }

        public var encoded: String {
            "\(name)+\(hex8(keyID))+" + Data([SignedNote.ed25519] + Array(key.rawRepresentation)).base64EncodedString()
        }
    }

    /// Why a note does not open.
    public enum Failure: Error, Equatable {
        /// Not a signed note: control characters, no blank line before the signatures, a bad line.
        case malformed(String)
        /// A known key's signature that does not verify: the text was changed after signing.
        case badSignature(keyName: String)
        /// No signature by any of the given keys.
        case noKnownSignature
    }

    /// Opens a note as Go's `note.Open` does: returns its text when at least one signature is by
    /// a known key and every signature by a known key verifies; signatures by unknown keys are
    /// passed over.
    public static func open(_ note: String, verifiers: [Verifier]) throws(Failure) -> String {
        guard !note.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else {
            throw .malformed("it holds a control character")
        }
        let bytes = Array(note.utf8)
        guard let split = lastBlankLine(bytes) else { throw .malformed("no blank line before its signatures") }
        let text = Array(bytes[..<(split + 1)])
        let signatures = bytes[(split + 2)...]
        guard signatures.last == 0x0A else { throw .malformed("it has no signature lines, or its last line does not end with a newline") }
        var verified = 0
        for line in signatures.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            let line = String(decoding: line, as: UTF8.self)
            guard line.hasPrefix("— ") else { throw .malformed("a line after the blank line is not a signature") }
            let fields = line.dropFirst(2).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard fields.count == 2, isValidName(String(fields[0])), let raw = Data(base64Encoded: String(fields[1])), raw.count >= 5 else {
                throw .malformed("a signature line is not `— NAME BASE64`")
            }
            let id = raw.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard let verifier = verifiers.first(where: { $0.name == fields[0] && $0.keyID == id }) else { continue }
            guard verifier.key.isValidSignature(raw.dropFirst(4), for: text) else { throw .badSignature(keyName: verifier.name) }
            verified += 1
        }
        guard verified > 0 else { throw .noKnownSignature }
        return String(decoding: text, as: UTF8.self)
    }

    /// The index of the last "\n\n": where the text ends and the signatures begin.
    private static func lastBlankLine(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        return stride(from: bytes.count - 2, through: 0, by: -1).first { bytes[$0] == 0x0A && bytes[$0 + 1] == 0x0A }
    }
}
