// Tensors — flat Float storage with a shape, BLAS (sgemm) wrappers with naive reference kernels beside them,
// initialisers driven by Basics' SeededGenerator, and safetensors checkpoint files.
// Owns COpenBLAS (no other module may import it). Must not import Layers, Models, Training or anything hardware-side.
//
// Memory model (after llm.c): a `Tensor` owns one contiguous, 64-byte aligned, zero-initialised block of Floats that
// never moves, so layers can work on raw pointers into it without copy-on-write surprises. Views into a larger
// block (named parameters inside flat parameter memory) are `TensorView`s: a pointer, a shape and no ownership.

/// An owning, fixed-shape, row-major Float tensor. Reference type: the storage is allocated once and never moves.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    /// Base of the storage; valid for the tensor's lifetime.
    public let pointer: UnsafeMutablePointer<Float>

    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var view: TensorView { TensorView(pointer: pointer, shape: shape) }
    public var values: [Float] { Array(buffer) }

    public subscript(index: Int) -> Float {
        get { precondition(index >= 0 && index < count); return pointer[index] }
        set { precondition(index >= 0 && index < count); pointer[index] = newValue }
    }

    public func zero() { pointer.update(repeating: 0, count: count) }
    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }
    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy between tensors of \(other.count) and \(count) elements")
        pointer.update(from: other.pointer, count: count)
    }
}

/// A non-owning view of `shape.product` Floats at `pointer` (e.g. one named parameter inside flat memory).
public struct TensorView: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }

    public init(pointer: UnsafeMutablePointer<Float>, shape: [Int]) {
        self.pointer = pointer
        self.shape = shape
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var values: [Float] { Array(buffer) }
    public func zero() { pointer.update(repeating: 0, count: count) }
}
