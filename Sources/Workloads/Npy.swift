// Workloads — the one place where the ML side and the hardware side meet.
//
// Owns: the attention-trace types (`LayerTrace`, `AttentionTrace`) and their on-disk form (DESIGN.md §2: one
// directory per layer with `meta.json`, `q.npy`, `k.npy`, optional `lengths.npy`), the NumPy `.npy`
// reader/writer, quantisation of float Q/K to B-bit signed integers with calibrated symmetric scales, the
// threshold's mapping to the integer domain, per-layer work statistics, and a seeded synthetic trace generator.
// Must not import anything but Basics (and Foundation for file I/O): never an ML module, never AcceleratorModel.

import Basics

/// The element types Leopard reads and writes in `.npy` files (little-endian, C order).
public enum NpyDType: String, Sendable, CaseIterable {
    case int16 = "<i2"
    case int32 = "<i4"
    case int64 = "<i8"
    case float32 = "<f4"
    case uint8 = "|u1"

    public var itemBytes: Int {
        switch self {
        case .int16: return 2
        case .int32, .float32: return 4
        case .int64: return 8
        case .uint8: return 1
        }
    }
}

/// The payload of an `.npy` array, typed by its dtype.
public enum NpyData: Equatable, Sendable {
    case int16([Int16])
    case int32([Int32])
    case int64([Int64])
    case float32([Float])
    case uint8([UInt8])

    public var dtype: NpyDType {
        switch self {
        case .int16: return .int16
        case .int32: return .int32
        case .int64: return .int64
        case .float32: return .float32
        case .uint8: return .uint8
        }
    }

    public var count: Int {
        switch self {
        case .int16(let a): return a.count
        case .int32(let a): return a.count
        case .int64(let a): return a.count
        case .float32(let a): return a.count
        case .uint8(let a): return a.count
        }
    }
}

/// An n-dimensional array as stored in a `.npy` file: a shape and C-order (row-major) data.
public struct NpyArray: Equatable, Sendable {
    public let shape: [Int]
    public let data: NpyData

    /// Traps when the element count disagrees with the shape (a programmer error).
    public init(shape: [Int], data: NpyData) {
        precondition(shape.allSatisfy { $0 >= 0 }, "npy shape must be non-negative")
        precondition(shape.reduce(1, *) == data.count, "npy shape \(shape) does not match \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    public var elementCount: Int { data.count }

    /// The elements as Int64 when the dtype is an integer type; nil for float32.
    public func integers() -> [Int64]? {
        switch data {
        case .int16(let a): return a.map { Int64($0) }
        case .int32(let a): return a.map { Int64($0) }
        case .int64(let a): return a
        case .uint8(let a): return a.map { Int64($0) }
        case .float32: return nil
        }
    }

    /// The elements as Int32 for an integer array whose values all fit; otherwise an `InputError` about `file`.
    public func int32Values(file: String) throws -> [Int32] {
        if case .int32(let a) = data { return a }
        if case .int16(let a) = data { return a.map { Int32($0) } }
        guard let wide = integers() else {
            throw InputError(file: file, problem: "dtype \(data.dtype.rawValue) is not an integer type; expected int16 or int32")
        }
        var out = [Int32](repeating: 0, count: wide.count)
        for (i, v) in wide.enumerated() {
            guard let narrow = Int32(exactly: v) else {
                throw InputError(file: file, place: "element \(Self.indexText(i, shape: shape))",
                                 problem: "value \(v) does not fit in int32")
            }
            out[i] = narrow
        }
        return out
    }

    /// The multi-index of flat C-order position `flat`, as "[b, h, i, j]" for error messages.
    public static func indexText(_ flat: Int, shape: [Int]) -> String {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return "[" + index.map(String.init).joined(separator: ", ") + "]"
    }
}
