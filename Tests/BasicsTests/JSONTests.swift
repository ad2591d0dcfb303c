import Basics
import Testing

@Suite("JSON parsing, canonical encoding and path-aware reading")
struct JSONTests {
    @Test("parses every kind of value, keeping integers apart from other numbers")
    func kinds() throws {
        let v = try JSONParser.parse(#"{"a": [1, -2.5, 1e3, true, false, null, "x\u00e9\n"], "b": {}}"#)
        #expect(v == .object(["a": .array([.integer(1), .number(-2.5), .number(1000), .bool(true), .bool(false), .null, .string("xé\n")]), "b": .object([:])]))
    }

    @Test("surrogate pairs decode to one scalar")
    func surrogates() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    struct BadCase: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        let line: Int
        let column: Int
        let path: String
        let problemContains: String
        var testDescription: String { name }
    }

    static let badCases: [BadCase] = [
        BadCase(name: "trailing comma", text: "{\"a\": 1,}", line: 1, column: 9, path: "", problemContains: "expected a string key"),
        BadCase(name: "missing comma on line 3", text: "{\n  \"a\": [1,\n   2 3]}", line: 3, column: 6, path: "a", problemContains: "expected ',' or ']'"),
        BadCase(name: "duplicate key", text: "{\"hw\": {\"x\": 1, \"x\": 2}}", line: 1, column: 17, path: "hw.x", problemContains: "duplicate key"),
        BadCase(name: "truncated", text: "{\"a\": [1, 2", line: 1, column: 12, path: "a", problemContains: "end of input"),
        BadCase(name: "leading zero", text: "[01]", line: 1, column: 2, path: "[0]", problemContains: "leading zeros"),
        BadCase(name: "bad literal", text: "{\"a\": tru}", line: 1, column: 7, path: "a", problemContains: "expected a value"),
        BadCase(name: "content after value", text: "{} {}", line: 1, column: 4, path: "", problemContains: "after the top-level value"),
        BadCase(name: "raw control character in string", text: "\"a\u{01}\"", line: 1, column: 3, path: "", problemContains: "control character"),
        BadCase(name: "huge exponent", text: "[1e999]", line: 1, column: 2, path: "[0]", problemContains: "out of range"),
    ]

    @Test(arguments: badCases)
    func syntaxErrorsNameTheirPlace(_ c: BadCase) {
        do {
            _ = try JSONParser.parse(c.text)
            Issue.record("expected a parse error")
        } catch let e as JSONParseError {
            #expect(e.line == c.line)
            #expect(e.column == c.column)
            #expect(e.path == c.path)
            #expect(e.problem.contains(c.problemContains), "\(e.problem)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("deep nesting is an error, not a stack overflow")
    func depth() {
        let text = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test("canonical encoding sorts keys and is independent of construction order")
    func canonical() throws {
        let a = try JSONParser.parse(#"{"z": 1, "a": {"y": [1.5, 2], "b": "q"}, "m": null}"#)
        let b = try JSONParser.parse(#"{"m": null, "a": {"b": "q", "y": [1.5, 2]}, "z": 1}"#)
        #expect(CanonicalJSON.encode(a) == #"{"a":{"b":"q","y":[1.5,2]},"m":null,"z":1}"#)
        #expect(CanonicalJSON.encode(a) == CanonicalJSON.encode(b))
        #expect(StableKey.of(a) == StableKey.of(b))
        #expect(StableKey.of(a) != StableKey.of(try JSONParser.parse(#"{"z": 2, "a": {"y": [1.5, 2], "b": "q"}, "m": null}"#)))
    }

    @Test("canonical strings escape quotes, backslashes and control characters, and nothing else")
    func escaping() {
        let text = "a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{1F} é😀\u{7F}/"
        #expect(CanonicalJSON.escape(text) == #""a\"b\\c\n\r\t\b\f\u0001\u001f é😀"# + "\u{7F}/\"")
        #expect(CanonicalJSON.encode(["k\"ey": .string(text)]) == "{" + CanonicalJSON.escape("k\"ey") + ":" + CanonicalJSON.escape(text) + "}")
    }

    struct PrefixCase: CustomTestStringConvertible, Sendable {
        let testDescription: String
        let shared: [String: JSONValue]
        let added: [String: JSONValue]
        let parent: String?
    }

    static let prefixCases = [
        PrefixCase(testDescription: "hardware point with a seed key", shared: ["energyTable": "45nm", "model": "cycle",
                   "hardware": ["qkUnits": 16, "frequencyMHz": .number(812.5), "format": "leopard-hardware"]],
                   added: ["seedKey": "0123abcd"], parent: "be2f36103a38"),
        PrefixCase(testDescription: "nothing added", shared: ["energyTable": "45nm", "model": "analytic"], added: [:], parent: "p"),
        PrefixCase(testDescription: "no parent", shared: ["a": [1, 2, nil]], added: ["b": true, "zz": ["x": "y"]], parent: nil),
        PrefixCase(testDescription: "nothing shared", shared: [:], added: ["seedKey": "s", "t": "u"], parent: "p"),
        PrefixCase(testDescription: "nothing at all", shared: [:], added: [:], parent: nil),
        PrefixCase(testDescription: "escapes and non-ASCII", shared: ["n\"ame": "tab\there", "é": "ü"], added: ["😀": "\u{01}"], parent: "q\""),
    ]

    @Test("a job key from a hashed prefix equals the key of the whole parameters", arguments: prefixCases)
    func jobPrefix(_ c: PrefixCase) {
        let prefix = StableKey.JobPrefix(kind: "hw-eval", parameters: c.shared)
        let whole = c.shared.merging(c.added) { _, added in added }
        #expect(prefix.key(adding: c.added, parent: c.parent) == StableKey.job(kind: "hw-eval", parameters: .object(whole), parent: c.parent))
        // The prefix is reusable: a second key from it is not affected by the first.
        #expect(prefix.key(parent: "other") == StableKey.job(kind: "hw-eval", parameters: .object(c.shared), parent: "other"))
    }

    /// Every stored job is found again by this text and hash: a change here re-keys every store (only a deliberate
    /// LeopardVersion bump may do that).
    @Test("job keys are pinned: the canonical text and its hash never change for the same inputs")
    func jobKeyGolden() {
        let parameters: JSONValue = ["energyTable": "45nm", "model": "cycle", "hardware": ["qkUnits": 16, "frequencyMHz": .number(812.5)],
                                     "seedKey": "0123abcd", "note": "é\t\"x\""]
        #expect(CanonicalJSON.encode(["kind": "hw-eval", "parameters": parameters, "parent": "be2f", "leopard": .string(LeopardVersion.string)])
                == #"{"kind":"hw-eval","leopard":"0.1.0","parameters":{"energyTable":"45nm","hardware":{"frequencyMHz":812.5,"qkUnits":16},"model":"cycle","note":"é\t\"x\"","seedKey":"0123abcd"},"parent":"be2f"}"#)
        #expect(StableKey.job(kind: "hw-eval", parameters: parameters, parent: "be2f") == "aae2ce2475cde6dd3f454ca6c5c46253d726f4fe5ffca9a200f37943ee9be765")
    }

    @Test("canonical text parses back to the same value (round trip)")
    func roundTrip() throws {
        let v: JSONValue = ["s": "tab\there \"quoted\" \u{0001}", "n": .number(0.1), "i": -7, "e": .number(1.5e-9), "arr": [true, nil]]
        #expect(try JSONParser.parse(CanonicalJSON.encode(v)) == v)
        #expect(try JSONParser.parse(CanonicalJSON.encodePretty(v)) == v)
    }

    @Test("reader errors name file, JSON path, value and expectation")
    func readerErrors() throws {
        let r = try JSONReader.parse(bytes: Array(#"{"hardware": {"qkUnits": [4, 8, 0]}, "extra": 1}"#.utf8), file: "experiments/x.json")
        let top = try r.object()
        let hw = try top.required("hardware").object()
        let units = try hw.required("qkUnits").array()
        #expect(try units[0].int(min: 1) == 4)
        do {
            _ = try units[2].int(min: 1)
            Issue.record("expected an error")
        } catch let e as InputError {
            #expect(e.message == "experiments/x.json: hardware.qkUnits[2] = 0; expected an integer ≥ 1")
        }
        do {
            try top.finish()
            Issue.record("expected an unknown-key error")
        } catch let e as InputError {
            #expect(e.message == "experiments/x.json: extra: unknown key; expected one of: hardware")
        }
        #expect(throws: InputError.self) { _ = try top.required("missing") }
    }

    @Test("syntax errors from the reader carry the file, line and column")
    func readerSyntax() {
        do {
            _ = try JSONReader.parse(bytes: Array("{\n\"a\": }".utf8), file: "m.json")
            Issue.record("expected an error")
        } catch let e as InputError {
            #expect(e.message == "m.json: line 2, column 6 (at a): expected a value, found '}'")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
