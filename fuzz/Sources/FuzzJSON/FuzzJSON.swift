// libFuzzer target: LedgerCore's JSON parser (`JSONValue.parse`), which reads every import line.
//
// Beyond "no crash, no hang" it checks what the parser promises:
// - a text it accepts holds no object that names a key twice (the duplicate-key rule), and an
//   accepted text never leaves `duplicateKey` set; a refused one names a key only if some object
//   in it really could have named it twice (the key occurs at least twice in the bytes);
// - what it accepts renders (compact and pretty) to text that parses back to the same value
//   (unless a number overflowed to infinity, which renders as null);
// - nesting: nothing deeper than 64 levels is accepted.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: count))
    var duplicateKey: String?
    guard let value = JSONValue.parse(bytes, duplicateKey: &duplicateKey) else {
        if let duplicateKey {
            // The key named must be one the text spells out, escaped or not, somewhere twice.
            check(duplicateKey.isEmpty || occurrences(of: duplicateKey, in: bytes) >= 2 || bytes.contains(UInt8(ascii: "\\"))
                  || duplicateKey.unicodeScalars.contains { !$0.isASCII },
                  "duplicateKey \(duplicateKey.debugDescription) is not in the text twice", bytes)
        }
        return 0
    }
    check(duplicateKey == nil, "accepted, yet duplicateKey is \(duplicateKey.debugDescription)", bytes)
    check(depth(value) <= 64, "accepted nesting \(depth(value)) deep", bytes)
    checkNoDuplicateKeys(value, bytes)
    guard isFinite(value) else { return 0 }
    for text in [value.compactText, value.prettyText] {
        var again: String?
        guard let reparsed = JSONValue.parse(Array(text.utf8), duplicateKey: &again) else {
            fail("its rendering does not parse: \(text.prefix(200).debugDescription)", bytes)
        }
        check(reparsed.compactText == value.compactText, "round trip changed it: \(value.compactText.prefix(200)) → \(reparsed.compactText.prefix(200))", bytes)
    }
    return 0
}

func depth(_ value: JSONValue) -> Int {
    switch value {
    case .array(let items): 1 + (items.map(depth).max() ?? 0)
    case .object(let members): 1 + (members.map { depth($0.1) }.max() ?? 0)
    default: 0
    }
}

func isFinite(_ value: JSONValue) -> Bool {
    switch value {
    case .double(let number): number.isFinite
    case .array(let items): items.allSatisfy(isFinite)
    case .object(let members): members.allSatisfy { isFinite($0.1) }
    default: true
    }
}

func checkNoDuplicateKeys(_ value: JSONValue, _ bytes: [UInt8]) {
    switch value {
    case .array(let items): items.forEach { checkNoDuplicateKeys($0, bytes) }
    case .object(let members):
        for (index, member) in members.enumerated() {
            // The same comparison the parser and `subscript(key:)` use (String ==).
            check(!members[..<index].contains { $0.0 == member.0 }, "accepted an object naming \(member.0.debugDescription) twice", bytes)
            checkNoDuplicateKeys(member.1, bytes)
        }
    default: break
    }
}

func occurrences(of key: String, in bytes: [UInt8]) -> Int {
    let needle = Array(key.utf8)
    guard !needle.isEmpty, needle.count <= bytes.count else { return 0 }
    var found = 0
    for start in 0...(bytes.count - needle.count) where bytes[start..<start + needle.count].elementsEqual(needle) { found += 1 }
    return found
}

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, _ bytes: [UInt8]) {
    if !condition() { fail(message(), bytes) }
}

func fail(_ message: String, _ bytes: [UInt8]) -> Never {
    FileHandle.standardError.write(Data("FuzzJSON: \(message)\ninput: \(String(decoding: bytes.prefix(500), as: UTF8.self).debugDescription)\n".utf8))
    fatalError(message)
}
