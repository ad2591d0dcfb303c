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
