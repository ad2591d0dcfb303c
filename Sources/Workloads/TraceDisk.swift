// The on-disk form of traces (DESIGN.md §2): a model's trace is a directory of `layer-00/`, `layer-01/`, ...;
// each layer directory holds `meta.json`, `q.npy`, `k.npy` and optionally `lengths.npy`. Files written by NumPy
// (int16, int32 or int64 Q/K; any integer lengths) are accepted; Leopard writes int16 Q/K when B ≤ 16 and int32
// lengths. Every inconsistency is an `InputError` naming the file and the place.

import Basics

import Foundation

extension LayerTrace {
    public static let formatName = "leopard-trace"
    public static let formatVersion = 1

    /// The `meta.json` object of this layer.
    public func metaJSON(layerIndex: Int? = nil) -> JSONValue {
        var members: [String: JSONValue] = [
            "format": .string(Self.formatName),
            "version": JSONValue(Self.formatVersion),
            "bits": JSONValue(bits),
            "heads": JSONValue(headCount),
            "d": JSONValue(headDim),
            "dv": JSONValue(valueDim),
            "mask": .string(mask.rawValue),
            "scaleQ": JSONValue(scaleQ),
            "scaleK": JSONValue(scaleK),
        ]
        switch threshold {
        case .perLayer(let t): members["threshold"] = .integer(t)
        case .perHead(let ts): members["threshold"] = .array(ts.map { .integer($0) })
        }
        if let layerIndex { members["layer"] = JSONValue(layerIndex) }
        return .object(members)
    }

    /// Writes this layer into `directory` (created if needed).
    public func write(to directory: String, layerIndex: Int? = nil) throws {
        try TraceFiles.makeDirectory(directory)
        let meta = CanonicalJSON.encodePretty(metaJSON(layerIndex: layerIndex)) + "\n"
        try TraceFiles.writeText(meta, to: directory + "/meta.json")
        // int16 holds every B ≤ 16 value; it halves the files against int32.
        try NpyFormat.write(NpyArray(shape: [batchSize, headCount, queryCount, headDim], data: .int16(q.map { Int16($0) })),
                            to: directory + "/q.npy")
        try NpyFormat.write(NpyArray(shape: [batchSize, headCount, keyCount, headDim], data: .int16(k.map { Int16($0) })),
                            to: directory + "/k.npy")
        let lengthsPath = directory + "/lengths.npy"
        if let lengths {
            try NpyFormat.write(NpyArray(shape: [batchSize], data: .int32(lengths)), to: lengthsPath)
        } else if FileManager.default.fileExists(atPath: lengthsPath) {
            try? FileManager.default.removeItem(atPath: lengthsPath)
        }
    }

    /// Reads one layer directory.
    public static func read(from directory: String) throws -> LayerTrace {
        let metaPath = directory + "/meta.json"
        guard let metaBytes = FileManager.default.contents(atPath: metaPath) else {
            throw InputError(file: metaPath, problem: "missing; a trace layer directory needs meta.json, q.npy and k.npy")
        }
        let meta = try JSONReader.parse(bytes: [UInt8](metaBytes), file: metaPath).object()
        _ = try meta.required("format", "\"\(formatName)\"").string(oneOf: [formatName])
        _ = try meta.required("version", "1").int(min: formatVersion, max: formatVersion)
        let bits = try meta.required("bits", "an integer from 2 to 16").int(min: 2, max: 16)
        let heads = try meta.required("heads", "an integer ≥ 1").int(min: 1)
        let d = try meta.required("d", "an integer ≥ 1").int(min: 1)
        let dv = try meta.required("dv", "an integer ≥ 1").int(min: 1)
        let maskName = try meta.required("mask", "\"none\" or \"causal\"").string(oneOf: AttentionMask.allCases.map(\.rawValue))
        let scaleQ = try meta.required("scaleQ", "a number > 0").double(min: 0, minExclusive: true)
        let scaleK = try meta.required("scaleK", "a number > 0").double(min: 0, minExclusive: true)
        let thresholdReader = try meta.required("threshold", "an integer or a list of one integer per head")
        let threshold: IntegerThreshold
        if thresholdReader.value.arrayValue != nil {
            let items = try thresholdReader.array(nonEmpty: true)
            guard items.count == heads else {
                throw thresholdReader.fail("a list of \(heads) integers (one per head)")
            }
            threshold = .perHead(try items.map { Int64(try $0.int()) })
        } else {
            threshold = .perLayer(Int64(try thresholdReader.int()))
        }
        _ = try meta.optional("layer")?.int(min: 0)
        _ = try meta.optional("source")?.string()
        try meta.finish()

        let qPath = directory + "/q.npy", kPath = directory + "/k.npy", lengthsPath = directory + "/lengths.npy"
        let qArray = try NpyFormat.read(path: qPath)
        let kArray = try NpyFormat.read(path: kPath)
        guard qArray.shape.count == 4, qArray.shape[1] == heads, qArray.shape[3] == d, qArray.shape[0] >= 1 else {
            throw InputError(file: qPath, place: "shape", problem: "shape \(qArray.shape); expected [batch, \(heads), queries, \(d)] (heads and d from meta.json)")
        }
        let batch = qArray.shape[0], queries = qArray.shape[2]
        guard kArray.shape.count == 4, kArray.shape[0] == batch, kArray.shape[1] == heads, kArray.shape[3] == d else {
            throw InputError(file: kPath, place: "shape", problem: "shape \(kArray.shape); expected [\(batch), \(heads), keys, \(d)] (batch from q.npy)")
        }
        let keys = kArray.shape[2]
        let maskValue = AttentionMask(rawValue: maskName)!
        if maskValue == .causal && keys < queries {
            throw InputError(file: kPath, place: "shape", problem: "causal mask needs at least as many keys (\(keys)) as queries (\(queries))")
        }
        let q = try checkedValues(qArray, bits: bits, file: qPath)
        let k = try checkedValues(kArray, bits: bits, file: kPath)
        var lengths: [Int32]? = nil
        if FileManager.default.fileExists(atPath: lengthsPath) {
            let array = try NpyFormat.read(path: lengthsPath)
            guard array.shape == [batch] else {
                throw InputError(file: lengthsPath, place: "shape", problem: "shape \(array.shape); expected [\(batch)]")
            }
            let values = try array.int32Values(file: lengthsPath)
            if let bad = values.firstIndex(where: { $0 < 0 || Int($0) > keys }) {
                throw InputError(file: lengthsPath, place: "element [\(bad)]", problem: "length \(values[bad]); expected 0...\(keys)")
            }
            lengths = values
        }
        return LayerTrace(bits: bits, batchSize: batch, headCount: heads, queryCount: queries, keyCount: keys,
                          headDim: d, valueDim: dv, threshold: threshold, mask: maskValue,
                          scaleQ: scaleQ, scaleK: scaleK, q: q, k: k, lengths: lengths)
    }

    /// Integer values that fit in B-bit two's complement.
    static func checkedValues(_ array: NpyArray, bits: Int, file: String) throws -> [Int32] {
        let values = try array.int32Values(file: file)
        let lo = Int32(-(1 << (bits - 1))), hi = Int32((1 << (bits - 1)) - 1)
        if let bad = values.firstIndex(where: { $0 < lo || $0 > hi }) {
            throw InputError(file: file, place: "element \(NpyArray.indexText(bad, shape: array.shape))",
                             problem: "value \(values[bad]) is outside the \(bits)-bit range \(lo)...\(hi) (bits from meta.json)")
        }
        return values
    }
}

extension AttentionTrace {
    /// Writes `layer-00/`, `layer-01/`, ... under `directory`.
    public func write(to directory: String) throws {
        try TraceFiles.makeDirectory(directory)
        for (index, layer) in layers.enumerated() {
            try layer.write(to: directory + "/" + Self.layerDirectoryName(index), layerIndex: index)
        }
    }

    public static func layerDirectoryName(_ index: Int) -> String {
        index < 10 ? "layer-0\(index)" : "layer-\(index)"
    }

    /// Reads a trace directory; a directory that itself holds `meta.json` is read as a one-layer trace.
    public static func read(from directory: String) throws -> AttentionTrace {
        let fm = FileManager.default
        if fm.fileExists(atPath: directory + "/meta.json") {
            return AttentionTrace(layers: [try LayerTrace.read(from: directory)])
        }
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw InputError(file: directory, problem: "not a readable directory; expected a trace directory with layer-00/, layer-01/, ...")
        }
        let layerNames = names.filter { $0.hasPrefix("layer-") && Int($0.dropFirst(6)) != nil }
            .sorted { Int($0.dropFirst(6))! < Int($1.dropFirst(6))! }
        guard !layerNames.isEmpty else {
            throw InputError(file: directory, problem: "no layer-NN directories; expected layer-00/meta.json, q.npy, k.npy")
        }
        for (expected, name) in layerNames.enumerated() where Int(name.dropFirst(6))! != expected {
            throw InputError(file: directory + "/" + name, problem: "layer directories must be numbered from 0 without gaps; expected \(layerDirectoryName(expected))")
        }
        return AttentionTrace(layers: try layerNames.map { try LayerTrace.read(from: directory + "/" + $0) })
    }
}

enum TraceFiles {
    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RuntimeError("\(path): cannot create directory (\(error.localizedDescription))")
        }
    }

    static func writeText(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RuntimeError("\(path): cannot write (\(error.localizedDescription))")
        }
    }
}
