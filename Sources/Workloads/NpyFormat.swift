// The NumPy `.npy` format (numpy.lib.format): magic "\x93NUMPY", major and minor version bytes, a little-endian
// header length (uint16 for 1.0, uint32 for 2.0 and 3.0), then an ASCII (3.0: UTF-8) Python dict literal
// `{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and a final '\n' so the data
// starts on a 64-byte boundary, then the raw C-order little-endian elements.
// Anything outside what Leopard supports (Fortran order, big endian, other dtypes, a shape that disagrees with the
// data length) is an `InputError` naming the file, the byte offset or header key, and what was expected.

import Basics

import Foundation

public enum NpyFormat {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    // MARK: Reading

    /// Reads and decodes the `.npy` file at `path`.
    public static func read(path: String) throws -> NpyArray {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, problem: "cannot read the file (missing or unreadable)")
        }
        return try decode([UInt8](data), file: path)
    }

    /// Decodes `.npy` bytes; `file` names the source in errors.
    public static func decode(_ bytes: [UInt8], file: String) throws -> NpyArray {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw InputError(file: file, place: "byte offset 0", problem: "not a .npy file (missing the \\x93NUMPY magic)")
        }
        let major = bytes[6], minor = bytes[7]
        let headerLength: Int
        let headerStart: Int
        switch (major, minor) {
        case (1, 0):
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case (2, 0), (3, 0):
            guard bytes.count >= 12 else {
                throw InputError(file: file, place: "byte offset 8", problem: "truncated header length")
            }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw InputError(file: file, place: "byte offset 6",
                             problem: "unsupported .npy version \(major).\(minor); expected 1.0, 2.0 or 3.0")
        }
        let dataStart = headerStart + headerLength
        guard dataStart <= bytes.count else {
            throw InputError(file: file, place: "byte offset \(headerStart)",
                             problem: "truncated header: \(headerLength) bytes announced, \(bytes.count - headerStart) present")
        }
        guard let headerText = String(bytes: bytes[headerStart..<dataStart], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw InputError(file: file, place: "byte offset \(headerStart)", problem: "header is not valid text")
        }
        let header = try NpyHeader.parse(headerText, file: file)
        let count = header.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
        let expectedBytes = count * header.dtype.itemBytes
        let presentBytes = bytes.count - dataStart
        if presentBytes < expectedBytes {
            throw InputError(file: file, place: "byte offset \(dataStart)",
                             problem: "truncated data: shape \(header.shapeText) of \(header.dtype.rawValue) needs \(expectedBytes) bytes, found \(presentBytes)")
        }
        if presentBytes > expectedBytes {
            throw InputError(file: file, place: "byte offset \(dataStart + expectedBytes)",
                             problem: "\(presentBytes - expectedBytes) bytes after the data of shape \(header.shapeText); the shape does not match the data")
        }
        let payload = bytes.withUnsafeBytes { raw in
            UnsafeRawBufferPointer(rebasing: raw[dataStart..<(dataStart + expectedBytes)])
        }
        return NpyArray(shape: header.shape, data: decodeElements(payload, dtype: header.dtype, count: count))
    }

    /// Copies little-endian elements out of `raw` (which may be unaligned).
    static func decodeElements(_ raw: UnsafeRawBufferPointer, dtype: NpyDType, count: Int) -> NpyData {
        func load<T: FixedWidthInteger>(_: T.Type) -> [T] {
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count {
                    buffer[i] = T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
                }
                initialized = count
            }
        }
        switch dtype {
        case .int16: return .int16(load(Int16.self))
        case .int32: return .int32(load(Int32.self))
        case .int64: return .int64(load(Int64.self))
        case .uint8: return .uint8(load(UInt8.self))
        case .float32: return .float32(load(UInt32.self).map { Float(bitPattern: $0) })
        }
    }

    // MARK: Writing

    /// Encodes `array` as version 1.0 (2.0 when the header would exceed 65535 bytes), C order, little endian.
    public static func encode(_ array: NpyArray) -> [UInt8] {
        let shapeText = array.shape.count == 1 ? "(\(array.shape[0]),)"
            : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(array.data.dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let prefix1 = 10, prefix2 = 12
        let needsV2 = prefix1 + dict.utf8.count + 1 > 65535
        let prefix = needsV2 ? prefix2 : prefix1
        // Pad with spaces so that prefix + header (ending in '\n') is a multiple of 64.
        let unpadded = prefix + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let headerBytes = Array(dict.utf8)
        var out = magic + (needsV2 ? [2, 0] : [1, 0])
        let n = headerBytes.count
        out += needsV2 ? [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24 & 0xFF)]
            : [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += headerBytes
        out.reserveCapacity(out.count + array.elementCount * array.data.dtype.itemBytes)
        func append<T: FixedWidthInteger>(_ values: [T]) {
            for v in values { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        }
        switch array.data {
        case .int16(let a): append(a)
        case .int32(let a): append(a)
        case .int64(let a): append(a)
        case .uint8(let a): out += a
        case .float32(let a): append(a.map { $0.bitPattern })
        }
        return out
    }

    /// Writes `array` to `path` atomically; I/O failures are `RuntimeError`s naming the path.
    public static func write(_ array: NpyArray, to path: String) throws {
        let bytes = encode(array)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RuntimeError("\(path): cannot write (\(error.localizedDescription))")
        }
    }
}
