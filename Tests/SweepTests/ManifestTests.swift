// Manifest v1: valid manifests parse into the right values; every malformed one is an InputError naming the file
// and the JSON path, the value and what was expected; ≥ 1,000 mutated manifests never crash.

import Basics
import Foundation
import Testing
@testable import Sweep

@Suite struct ManifestTests {
    @Test func smokeManifestParses() throws {
        let m = try Manifest.load(path: repositoryFile("experiments/smoke.json"))
        #expect(m.name == "smoke")
        #expect(m.experiments.count == 3)
        #expect(m.lambdas == [0.05, 0.2, 1.0])
        #expect(m.hardwareGrid.pointCount == 4)
        #expect(m.hardwareModels == [.analytic, .cycle])
        #expect(m.budgetPoints == 2)
    }

    /// paper.json plans ~130,000 jobs: hashing them all takes about 15 s in a debug build, so its full plan
    /// is exercised by `leopard sweep plan` in release (scripts, README); here its parse and size.
    @Test func paperManifestCoversEveryFamily() throws {
        let m = try Manifest.load(path: repositoryFile("experiments/paper.json"))
        let families = Set(m.experiments.map { ModelBackends.backend(for: $0.model)!.family(model: $0.model) })
        #expect(families == ["memn2n", "bert", "albert", "gpt2", "vit"])
        #expect(Set(m.experiments.map(\.task)).count == 20 + 5 + 2 + 1)
        for e in m.experiments { try ModelBackends.backend(for: e.model)!.validate(model: e.model, task: e.task) }
        #expect(m.hardwareGrid.pointCount == 72)
    }

    @Test(arguments: ["experiments/smoke.json", "experiments/quickstart.json", "experiments/tiny-distil.json",
                      "experiments/tiny-labels.json"])
    func shippedManifestsPlan(_ file: String) throws {
        let m = try Manifest.load(path: repositoryFile(file))
        let plan = try SweepPlan.make(m, dataDirectory: "data")
        #expect(plan.count(.denseTrain) == m.experiments.count * m.seeds.count)
        #expect(plan.count(.fineTune) == plan.count(.denseTrain) * m.lambdas.count)
        #expect(plan.count(.captureTrace) == plan.count(.fineTune))
        #expect(plan.count(.hardwareEval) == plan.count(.captureTrace) * m.hardwareGrid.pointCount * m.hardwareModels.count)
    }

    /// The settings comparison of docs/manifest.md: the two manifests share their dense training and nothing after it.
    @Test func theTwoTinyManifestsShareOnlyTheDenseTraining() throws {
        func plan(_ file: String) throws -> SweepPlan {
            try SweepPlan.make(Manifest.load(path: repositoryFile(file)), dataDirectory: "data")
        }
        let distil = try plan("experiments/tiny-distil.json"), labels = try plan("experiments/tiny-labels.json")
        let shared = Set(distil.jobs.map(\.key)).intersection(labels.jobs.map(\.key))
        #expect(shared.count == 1 && distil.jobs.first { shared.contains($0.key) }?.kind == JobKind.denseTrain.rawValue)
    }

    /// Every job of experiments/smoke.json (key, kind, parent, canonical parameters; toy family, so no preset
    /// default enters it) as planned when keys were last deliberately changed: planning may get faster, never
    /// different, or every store would re-run its jobs.
    @Test func smokeManifestPlansTheKeysItAlwaysHad() throws {
        let plan = try SweepPlan.make(Manifest.load(path: repositoryFile("experiments/smoke.json")), dataDirectory: "data")
        let lines = plan.jobs.map { "\($0.key) \($0.kind) \($0.parentKey ?? "-") \(CanonicalJSON.encode($0.parameters))\n" }
        #expect(plan.jobs.count == 93)
        #expect(SHA256.hexDigest(Array(lines.joined().utf8)) == "fbee28d623fc101432b4514cafbce09d1883c7f216d944c753ee367ee8b94ee8")
    }

    @Test func presetsRejectOverridesTheyWouldIgnore() throws {
        let text = toyManifestJSON().replacingOccurrences(of: "{\"model\": \"toy\", \"task\": \"toy/hard\"}",
                                                          with: "{\"model\": \"bert-tiny\", \"task\": \"glue/sst2\", \"training\": {\"batchSize\": 8}}")
        #expect { try toyPlan(text, file: "x.json") } throws: { error in
            (error as? InputError)?.message.contains("experiments[1].training.batchSize") == true
        }
    }

    @Test func scalarAxisIsOneValue() throws {
        let m = try Manifest.parse(bytes: Array(toyManifestJSON().replacingOccurrences(of: "\"lambdas\": [0.1, 0.5]", with: "\"lambdas\": 0.3").utf8), file: "x.json")
        #expect(m.lambdas == [0.3])
    }

    struct BadCase: CustomTestStringConvertible, Sendable {
        let name: String
        let from: String
        let to: String
        let expected: String
        var testDescription: String { name }
    }

    static let badCases: [BadCase] = [
        BadCase(name: "zero units", from: "\"qkUnits\": [8, 16]", to: "\"qkUnits\": [8, 16, 0]",
                expected: "x.json: hardware.qkUnits[2] = 0; expected an integer from 1 to 65536"),
        BadCase(name: "unknown key", from: "\"budget\": 2", to: "\"budget\": 2, \"budgte\": 3",
                expected: "x.json: budgte: unknown key"),
        BadCase(name: "unknown hardware axis", from: "\"dpuWidth\": 16", to: "\"dpuWidth\": 16, \"warpSize\": 32",
                expected: "hardware.warpSize: unknown key"),
        BadCase(name: "wrong type", from: "\"lambdas\": [0.1, 0.5]", to: "\"lambdas\": [0.1, \"big\"]",
                expected: "lambdas[1] = \"big\"; expected a number from 0 to 1000000"),
        BadCase(name: "empty axis", from: "\"lambdas\": [0.1, 0.5]", to: "\"lambdas\": []",
                expected: "lambdas = []; expected a non-empty array"),
        BadCase(name: "duplicate λ", from: "\"lambdas\": [0.1, 0.5]", to: "\"lambdas\": [0.1, 0.5, 0.1]",
                expected: "lambdas[2] = 0.1; expected a value not already listed (duplicate of lambdas[0])"),
        BadCase(name: "duplicate experiment", from: "{\"model\": \"toy\", \"task\": \"toy/hard\"}",
                to: "{\"model\": \"toy\", \"task\": \"toy/easy\"}",
                expected: "experiments[1] = {\"model\":\"toy\",\"task\":\"toy/easy\"}; expected a (model, task) pair not already listed (duplicate of experiments[0])"),
        BadCase(name: "huge number", from: "\"steps\": 500", to: "\"steps\": 1e400",
                expected: "x.json"),
        BadCase(name: "huge integer", from: "\"steps\": 500", to: "\"steps\": 123456789012345678901234567890",
                expected: "training.steps = "),
        BadCase(name: "schema version", from: "\"schemaVersion\": 1", to: "\"schemaVersion\": 2",
                expected: "schemaVersion = 2; expected an integer from 1 to 1"),
        BadCase(name: "missing name", from: "\"name\": \"t\",", to: "",
                expected: "(top level): missing key \"name\""),
        BadCase(name: "bad name", from: "\"name\": \"t\"", to: "\"name\": \"../etc\"",
                expected: "name = \"../etc\"; expected a sweep name"),
        BadCase(name: "unknown model", from: "{\"model\": \"toy\", \"task\": \"toy/hard\"}", to: "{\"model\": \"gpt5\", \"task\": \"toy/hard\"}",
                expected: "experiments[1].model = \"gpt5\"; expected one of"),
        BadCase(name: "unknown task", from: "{\"model\": \"toy\", \"task\": \"toy/hard\"}", to: "{\"model\": \"toy\", \"task\": \"glue/sst2\"}",
                expected: "experiments[1].task = \"glue/sst2\""),
        BadCase(name: "hardware model", from: "[\"analytic\"]", to: "[\"analytic\", \"spice\"]",
                expected: "hardwareModels[1] = \"spice\"; expected one of \"cycle\", \"analytic\""),
        BadCase(name: "truncated", from: "\"budget\": 2, \"jobs\": 1}", to: "\"budget\": 2, \"jo",
                expected: "x.json: line "),
    ]

    @Test(arguments: badCases)
    func badManifestsNameThePath(_ c: BadCase) throws {
        let base = toyManifestJSON()
        #expect(base.contains(c.from), "fixture does not contain \(c.from)")
        let text = base.replacingOccurrences(of: c.from, with: c.to)
        do {
            _ = try toyPlan(text.replacingOccurrences(of: "test.json", with: "x.json"), file: "x.json")
            Issue.record("accepted: \(c.name)")
        } catch let error as InputError {
            #expect(error.message.contains(c.expected), "\(error.message)")
            #expect(error.message.hasPrefix("x.json"), "\(error.message)")
        }
    }

    /// ≥ 1,000 mutated manifests: truncations, wrong types, unknown keys, huge numbers, empty axes, duplicated
    /// entries. None may crash; every rejection is an InputError naming the file and a JSON path (or, for JSON
    /// syntax errors, the line and column).
    @Test func mutatedManifestsNeverCrash() throws {
        let base = try String(contentsOfFile: repositoryFile("experiments/smoke.json"), encoding: .utf8)
        let value = try JSONParser.parse(base)
        var rng = SeededGenerator(seed: 20_261_204)
        var accepted = 0, rejected = 0
        let paths = allPaths(value)
        let replacements: [JSONValue] = [.string("x"), .integer(0), .integer(-1), .number(1e300), .integer(Int64.max),
                                         .array([]), .object([:]), .null, .bool(true), .number(0.5), .array([.integer(1), .integer(1)])]
        for round in 0..<1_200 {
            let text: String
            switch round % 4 {
            case 0:  // truncated text
                let bytes = Array(base.utf8)
                text = String(decoding: bytes.prefix(rng.nextInt(below: bytes.count)), as: UTF8.self)
            case 1:  // a value replaced by one of another type / size
                let path = paths[rng.nextInt(below: paths.count)]
                text = CanonicalJSON.encode(replacing(path, in: value, with: replacements[rng.nextInt(below: replacements.count)]))
            case 2:  // an unknown key added to some object
                let objects = paths.filter { p in lookup(p, in: value)?.objectValue != nil } + [[]]
                let path = objects[rng.nextInt(below: objects.count)]
                var object = lookup(path, in: value)?.objectValue ?? [:]
                object["unexpected\(rng.nextInt(below: 10))"] = .integer(1)
                text = CanonicalJSON.encode(replacing(path, in: value, with: .object(object)))
            default:  // an array element duplicated, or an array emptied
                let arrays = paths.filter { p in lookup(p, in: value)?.arrayValue != nil }
                let path = arrays[rng.nextInt(below: arrays.count)]
                var items = lookup(path, in: value)?.arrayValue ?? []
                if rng.nextInt(below: 2) == 0 || items.isEmpty { items = [] } else { items.append(items[rng.nextInt(below: items.count)]) }
                text = CanonicalJSON.encode(replacing(path, in: value, with: .array(items)))
            }
            do {
                _ = try toyPlan(text, file: "m.json")
                accepted += 1
            } catch let error as InputError {
                rejected += 1
                let m = error.message
                #expect(m.hasPrefix("m.json: "), "\(m)")
                let namesPlace = m.contains("line ") || m.contains(" = ") || m.contains(": missing key") || m.contains(": unknown key")
                #expect(namesPlace, "no JSON path in: \(m)")
            }
        }
        #expect(accepted + rejected == 1_200)
        #expect(rejected > 900)
    }
}

func toyPlan(_ json: String, file: String) throws -> SweepPlan {
    try SweepPlan.make(Manifest.parse(bytes: Array(json.utf8), file: file), dataDirectory: "data")
}

/// The repository root, from this source file's location (Tests/SweepTests/…).
func repositoryFile(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}

enum PathStep: Hashable { case key(String), index(Int) }

func allPaths(_ value: JSONValue, prefix: [PathStep] = []) -> [[PathStep]] {
    var out: [[PathStep]] = prefix.isEmpty ? [] : [prefix]
    if let o = value.objectValue { for (k, v) in o { out += allPaths(v, prefix: prefix + [.key(k)]) } }
    if let a = value.arrayValue { for (i, v) in a.enumerated() { out += allPaths(v, prefix: prefix + [.index(i)]) } }
    return out.sorted { "\($0)" < "\($1)" }
}

func lookup(_ path: [PathStep], in value: JSONValue) -> JSONValue? {
    var v: JSONValue? = value
    for step in path {
        switch step {
        case .key(let k): v = v?.objectValue?[k]
        case .index(let i): v = v?.arrayValue.flatMap { i < $0.count ? $0[i] : nil }
        }
    }
    return v
}

func replacing(_ path: [PathStep], in value: JSONValue, with new: JSONValue) -> JSONValue {
    guard let first = path.first else { return new }
    let rest = Array(path.dropFirst())
    switch (first, value) {
    case (.key(let k), .object(var o)):
        o[k] = replacing(rest, in: o[k] ?? .null, with: new)
        return .object(o)
    case (.index(let i), .array(var a)) where i < a.count:
        a[i] = replacing(rest, in: a[i], with: new)
        return .array(a)
    default:
        return value
    }
}
