import Basics
import Foundation
import Testing
@testable import Workloads

@Suite struct TraceTests {
    static func sampleLayer(mask: AttentionMask = .causal, lengths: [Int32]? = [3, 4], perHead: Bool = true) -> LayerTrace {
        let trace = SyntheticTrace.make(seed: 7, batchSize: 2, headCount: 2, queryCount: 4, keyCount: 4, headDim: 5,
                                        valueDim: 3, bits: 6, pruneRate: 0.5, mask: mask, lengths: lengths)
        var layer = trace.layers[0]
        if perHead { layer.threshold = .perHead([-3, 11]) }
        return layer
    }

    @Test func roundTripsThroughADirectory() throws {
        let dir = makeTemporaryDirectory()
        let trace = AttentionTrace(layers: [Self.sampleLayer(), Self.sampleLayer(mask: .none, lengths: nil, perHead: false)])
        try trace.write(to: dir)
        #expect(FileManager.default.fileExists(atPath: dir + "/layer-00/meta.json"))
        #expect(FileManager.default.fileExists(atPath: dir + "/layer-01/q.npy"))
        #expect(FileManager.default.fileExists(atPath: dir + "/layer-00/lengths.npy"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/layer-01/lengths.npy"))
        #expect(try AttentionTrace.read(from: dir) == trace)
        // A layer directory on its own reads as a one-layer trace.
        #expect(try AttentionTrace.read(from: dir + "/layer-01").layers == [trace.layers[1]])
    }

    @Test func metaJSONHasTheDesignFields() throws {
        let meta = Self.sampleLayer().metaJSON()
        #expect(meta["format"] == "leopard-trace")
        #expect(meta["version"] == 1)
        #expect(meta["threshold"] == [-3, 11])
        #expect(meta["mask"] == "causal")
        #expect(meta["bits"] == 6)
        #expect(meta["d"] == 5)
        #expect(meta["dv"] == 3)
    }

    /// Writes a valid layer, applies `edit`, and returns the error message of reading it back.
    static func readError(_ edit: (String) throws -> Void) throws -> String {
        let dir = makeTemporaryDirectory("broken")
        try sampleLayer().write(to: dir)
        try edit(dir)
        do {
            _ = try LayerTrace.read(from: dir)
            return "no error"
        } catch let error as InputError {
            return error.message
        }
    }

    static func editMeta(_ dir: String, _ change: (inout [String: JSONValue]) -> Void) throws {
        let path = dir + "/meta.json"
        var members = try JSONParser.parse(bytes: [UInt8](FileManager.default.contents(atPath: path)!)).objectValue!
        change(&members)
        try Data(CanonicalJSON.encode(.object(members)).utf8).write(to: URL(fileURLWithPath: path))
    }

    static let brokenCases: [(String, (String) throws -> Void, [String])] = [
        ("bits out of range", { try editMeta($0) { $0["bits"] = 17 } }, ["meta.json", "bits = 17", "from 2 to 16"]),
        ("threshold list of wrong length", { try editMeta($0) { $0["threshold"] = [1, 2, 3] } }, ["meta.json", "threshold", "2 integers"]),
        ("fractional threshold", { try editMeta($0) { $0["threshold"] = 1.5 } }, ["meta.json", "threshold = 1.5"]),
        ("unknown mask", { try editMeta($0) { $0["mask"] = "local" } }, ["mask = \"local\"", "\"causal\""]),
        ("unknown key", { try editMeta($0) { $0["scaleq"] = 1 } }, ["scaleq", "unknown key"]),
        ("wrong format", { try editMeta($0) { $0["format"] = "other" } }, ["format"]),
        ("heads disagree with q", { try editMeta($0) { $0["heads"] = 3; $0["threshold"] = 0 } }, ["q.npy", "shape", "[batch, 3, queries, 5]"]),
        ("value outside B bits", { try editMeta($0) { $0["bits"] = 2 } }, ["q.npy", "outside the 2-bit range"]),
        ("k batch differs", { dir in
            try NpyFormat.write(NpyArray(shape: [1, 2, 4, 5], data: .int16([Int16](repeating: 0, count: 40))), to: dir + "/k.npy")
        }, ["k.npy", "[2, 2, keys, 5]"]),
        ("lengths too long", { dir in
            try NpyFormat.write(NpyArray(shape: [2], data: .int32([3, 9])), to: dir + "/lengths.npy")
        }, ["lengths.npy", "element [1]", "0...4"]),
        ("missing q", { try FileManager.default.removeItem(atPath: $0 + "/q.npy") }, ["q.npy", "cannot read"]),
        ("float q", { dir in
            try NpyFormat.write(NpyArray(shape: [2, 2, 4, 5], data: .float32([Float](repeating: 0, count: 80))), to: dir + "/q.npy")
        }, ["q.npy", "not an integer type"]),
        ("syntax error in meta", { dir in
            try Data("{\"bits\": 6,\n \"heads\" 2}".utf8).write(to: URL(fileURLWithPath: dir + "/meta.json"))
        }, ["meta.json", "line 2"]),
    ]

    @Test(arguments: brokenCases.map(\.0))
    func brokenTraceNamesFileAndPlace(name: String) throws {
        let (_, edit, fragments) = Self.brokenCases.first { $0.0 == name }!
        let message = try Self.readError(edit)
        for fragment in fragments {
            #expect(message.contains(fragment), "\(name): \(message)")
        }
    }

    @Test func traceDirectoryWithoutLayersIsAnError() {
        let dir = makeTemporaryDirectory()
        #expect(throws: InputError.self) { try AttentionTrace.read(from: dir) }
    }

    @Test(arguments: [
        // (mask, lengths, query, expected keys) for batch 0 / 1 of a 4×4 layer
        ("none, no lengths", AttentionMask.none, nil as [Int32]?, 0, 0, 0..<4),
        ("causal first row", .causal, nil, 0, 0, 0..<1),
        ("causal last row", .causal, nil, 0, 3, 0..<4),
        ("padding cuts keys", .none, [2, 4], 0, 1, 0..<2),
        ("padding query row is empty", .none, [2, 4], 0, 2, 0..<0),
        ("causal and padding", .causal, [3, 4], 0, 2, 0..<3),
        ("second example unpadded", .causal, [3, 4], 1, 3, 0..<4),
    ])
    func validKeysFollowMaskAndLengths(_ name: String, _ mask: AttentionMask, _ lengths: [Int32]?, _ batch: Int, _ query: Int, _ expected: Range<Int>) {
        let layer = LayerTrace(bits: 4, batchSize: 2, headCount: 1, queryCount: 4, keyCount: 4, headDim: 1, valueDim: 1,
                               threshold: .perLayer(0), mask: mask, scaleQ: 1, scaleK: 1,
                               q: [Int32](repeating: 0, count: 8), k: [Int32](repeating: 0, count: 8), lengths: lengths)
        #expect(layer.validKeys(batch: batch, query: query) == expected, "\(name)")
    }

    @Test func causalWithFewerQueriesAlignsToTheLastPositions() {
        let layer = LayerTrace(bits: 4, batchSize: 1, headCount: 1, queryCount: 2, keyCount: 5, headDim: 1, valueDim: 1,
                               threshold: .perLayer(0), mask: .causal, scaleQ: 1, scaleK: 1,
                               q: [0, 0], k: [0, 0, 0, 0, 0])
        #expect(layer.validKeys(batch: 0, query: 0) == 0..<4)
        #expect(layer.validKeys(batch: 0, query: 1) == 0..<5)
    }

    @Test func shapeStatisticsCountValidWork() {
        let layer = Self.sampleLayer()  // causal, lengths [3, 4], 2 heads, 4×4
        let s = layer.shapeStatistics()
        // Example 0: rows 0,1,2 with 1+2+3 keys; example 1: rows 0..3 with 1+2+3+4 keys; × 2 heads.
        #expect(s.validRows == (3 + 4) * 2)
        #expect(s.validPairs == (6 + 10) * 2)
        #expect(s.validKeySlots == (3 + 4) * 2)
        #expect(s.matrixCount == 4)
    }
}
