// Models — network presets assembled from Layers on flat parameter memory with named views, so checkpoints have
// stable tensor names and the optimiser sees one contiguous buffer (llm.c style).
// Imports Layers, Tensors, Basics; must not import Training or anything hardware-side.
//
// ParameterSet: every trainable tensor of a model lives in ONE flat Float block (and its gradient in a second
// block of the same layout). Each tensor starts on a 64-byte boundary; the padding between tensors stays zero
// in values and gradients, so whole-block optimiser passes leave it zero.
import Basics
import Foundation
import Tensors

public final class ParameterSet: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        /// Whether AdamW applies weight decay (matrices and embeddings yes; biases and norm parameters no).
        public let decays: Bool
        /// Multiplies the optimiser's learning rate for this tensor (e.g. learned thresholds with their own rate).
        public let learningRateScale: Float
        public var count: Int { shape.reduce(1, *) }
    }

    /// What a model declares per tensor.
    public struct Spec: Sendable {
        public var name: String
        public var shape: [Int]
        public var decays: Bool
        public var learningRateScale: Float
        public init(name: String, shape: [Int], decays: Bool, learningRateScale: Float = 1) {
            self.name = name; self.shape = shape; self.decays = decays; self.learningRateScale = learningRateScale
        }
    }

    public let entries: [Entry]
    public let values: Tensor
    public let gradients: Tensor
    private let index: [String: Int]

    /// `layout` lists (name, shape, decays) in a fixed order; the order defines the memory layout.
    public convenience init(layout: [(name: String, shape: [Int], decays: Bool)]) {
        self.init(specs: layout.map { Spec(name: $0.name, shape: $0.shape, decays: $0.decays) })
    }

    public init(specs: [Spec]) {
        var entries: [Entry] = []
        var offset = 0
        for spec in specs {
            entries.append(Entry(name: spec.name, shape: spec.shape, offset: offset, decays: spec.decays,
                                 learningRateScale: spec.learningRateScale))
            offset += (spec.shape.reduce(1, *) + 15) / 16 * 16
        }
        self.entries = entries
        values = Tensor(shape: [offset])
        gradients = Tensor(shape: [offset])
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() {
            precondition(index[e.name] == nil, "duplicate parameter name \(e.name)")
            index[e.name] = i
        }
        self.index = index
    }

    /// Number of trainable scalars (padding excluded).
    public var parameterCount: Int { entries.reduce(0) { $0 + $1.count } }

    public func entry(_ name: String) -> Entry {
        guard let i = index[name] else { preconditionFailure("no parameter named \(name)") }
        return entries[i]
    }
    public func contains(_ name: String) -> Bool { index[name] != nil }

    public func view(_ name: String) -> TensorView {
        let e = entry(name)
        return TensorView(pointer: values.pointer + e.offset, shape: e.shape)
    }
    public func gradient(_ name: String) -> TensorView {
        let e = entry(name)
        return TensorView(pointer: gradients.pointer + e.offset, shape: e.shape)
    }
    public func value(_ name: String) -> UnsafeMutablePointer<Float> { values.pointer + entry(name).offset }
    public func grad(_ name: String) -> UnsafeMutablePointer<Float> { gradients.pointer + entry(name).offset }

    public func zeroGradients() {
        let g = gradients.pointer
        Compute.forRanges(count: gradients.count, minimumPerChunk: 1 << 18) { r in (g + r.lowerBound).update(repeating: 0, count: r.count) }
    }

    /// The first entry whose values or gradients hold a NaN or ±∞, with which of the two it was.
    public func firstNonFinite() -> (name: String, inGradient: Bool)? {
        for e in entries {
            let v = values.pointer + e.offset, g = gradients.pointer + e.offset
            for i in 0..<e.count where !v[i].isFinite { return (e.name, false) }
            for i in 0..<e.count where !g[i].isFinite { return (e.name, true) }
        }
        return nil
    }

    // MARK: checkpoints

    public func write(path: String, metadata: [String: String]) throws {
        try SafetensorsFile.write(path: path, tensors: entries.map { ($0.name, view($0.name)) }, metadata: metadata)
    }

    /// Loads every tensor by name, checking shapes; a missing, extra or mis-shaped tensor is an `InputError`.
    public func load(from file: SafetensorsFile, allowExtra: Bool = false) throws {
        for e in entries {
            let floats = try file.floats(e.name, shape: e.shape)
            floats.withUnsafeBufferPointer { view(e.name).pointer.update(from: $0.baseAddress!, count: e.count) }
        }
        if !allowExtra, let extra = file.entries.first(where: { index[$0.name] == nil }) {
            throw InputError(file: file.file, place: extra.name, problem: "unexpected tensor (not a parameter of this model)")
        }
    }
}
