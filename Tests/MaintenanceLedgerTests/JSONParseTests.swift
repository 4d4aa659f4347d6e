import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintenanceLedger

/// `import` reads its lines with `JSONValue.parse`; it must read what JSON writers write.
@Suite struct JSONParseTests {
    private func parse(_ text: String) -> JSONValue? { JSONValue.parse(Array(text.utf8)) }

    @Test func whatWeWriteReadsBackTheSame() {
        let values: [JSONValue] = [
            .object([("uuid", .string("a")), ("n", .int(-42)), ("ok", .bool(true)), ("none", .null), ("x", .double(1.5)),
                     ("list", .array([.string("REDIS_URL"), .array([]), .object([])])),
                     ("text", .string("quote \" backslash \\ tab\t new\nline \u{1} é ✓ 🚀"))]),
            .array([.int(Int64.max), .int(Int64.min), .double(-0.25)]),
            .string(""),
        ]
        for value in values {
            #expect(parse(value.compactText) == value, "\(value.compactText)")
            #expect(parse(value.prettyText) == value, "\(value.prettyText)")
        }
    }

    @Test func escapesNumbersAndSpaceAsOtherWritersSpellThem() {
        #expect(parse(#" { "a" : "\u00e9\ud83d\ude80\/\b\f\r" } "#) == .object([("a", .string("é🚀/\u{8}\u{c}\r"))]))
        #expect(parse("1.5e3") == .double(1500))
        #expect(parse("2E-1") == .double(0.2))
        #expect(parse("12345678901234567890") == .double(1.2345678901234567e19))
        #expect(parse("-0") == .int(0))
    }

    @Test(arguments: ["", "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "[1 2]", "\"open", "\"tab\there\"", "tru", "nul", "01x",
                      "1.", "-", "1e", "{\"a\":1} x", "\"\\x\"", "\"\\ud83d\"", "\"\\ud83dx\"", "\"\\u12\"",
                      String(repeating: "[", count: 100) + String(repeating: "]", count: 100)])
    func malformedTextIsRefused(text: String) {
        #expect(parse(text) == nil)
    }

    /// Which of two values of one key would count? Neither: the object is invalid, and says why.
    @Test func anObjectNamingAKeyTwiceIsInvalid() {
        var failure: JSONParseFailure?
        #expect(JSONValue.parse(Array(#"{"a":1,"b":{"c":2,"c":3}}"#.utf8), failure: &failure) == nil)
        #expect(failure?.reason == .duplicateKey("c"))
        #expect(parse(#"[{"a":1},{"a":2}]"#) != nil)
    }

    /// Strings are decoded in one go when they hold only ASCII, and validated otherwise: bytes
    /// that are not UTF-8 (a lone continuation byte, an overlong form, a surrogate) are refused,
    /// in a key as in a value.
    @Test func aStringThatIsNotUTF8IsRefused() {
        #expect(JSONValue.parse(Array(#"{"key":"plain text"}"#.utf8)) == .object([("key", .string("plain text"))]))
        #expect(JSONValue.parse([0x22, 0x63, 0x61, 0x66, 0xC3, 0xA9, 0x22]) == .string("café"))
        for bad: [UInt8] in [[0x80], [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80]] {
            #expect(JSONValue.parse([0x22] + bad + [0x22]) == nil, "\(bad)")
            #expect(JSONValue.parse([0x7B, 0x22] + bad + [0x22, 0x3A, 0x31, 0x7D]) == nil, "\(bad) in a key")
        }
    }

    /// An import names where a text stops being JSON, and why: the byte the parser stopped at
    /// (a string's opening quote when its bytes are not UTF-8; the text's length when it ends
    /// too soon). Every failure was "not a JSON object".
    @Test(arguments: [
        (#"{"a": NaN}"#, JSONParseFailure(reason: .syntax, offset: 6)),
        (#"{"a": 1,}"#, JSONParseFailure(reason: .syntax, offset: 8)),
        (#"{"a": 1 "b": 2}"#, JSONParseFailure(reason: .syntax, offset: 8)),
        (#"[1, 2] x"#, JSONParseFailure(reason: .syntax, offset: 7)),
        (#"{"a": 0581}"#, JSONParseFailure(reason: .syntax, offset: 7)),
        (#"{"a": -01}"#, JSONParseFailure(reason: .syntax, offset: 8)),
        ("{\"a\": \"x\ty\"}", JSONParseFailure(reason: .syntax, offset: 8)),
        (#"{"a": "x"#, JSONParseFailure(reason: .syntax, offset: 8)),
        (#"{"a": 1, "a": 2}"#, JSONParseFailure(reason: .duplicateKey("a"), offset: 15)),
        (String(repeating: "[", count: 65) + String(repeating: "]", count: 65), JSONParseFailure(reason: .tooDeep, offset: 64)),
    ])
    func aFailureSaysWhyAndWhere(text: String, failure expected: JSONParseFailure) {
        var failure: JSONParseFailure?
        #expect(JSONValue.parse(Array(text.utf8), failure: &failure) == nil)
        #expect(failure == expected)
        #expect(parse("0") == .int(0) && parse("-0.5") == .double(-0.5) && parse("10") == .int(10))
    }

    @Test func aStringThatIsNotUTF8IsPlacedOnItsQuote() {
        var failure: JSONParseFailure?
        #expect(JSONValue.parse(Array(#"{"a": "ok", "b": ""#.utf8) + [0xFF] + Array(#""}"#.utf8), failure: &failure) == nil)
        #expect(failure == JSONParseFailure(reason: .notUTF8, offset: 17))
    }
}
