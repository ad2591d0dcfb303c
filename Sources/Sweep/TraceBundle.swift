// An attention trace as one artifact blob: the files of its on-disk form (DESIGN.md §2: `layer-NN/meta.json`,
// `q.npy`, `k.npy`, `lengths.npy`) packed one after another, so the store holds exactly what `leopard simulate
// --trace` reads and a trace can be unpacked into a directory for numpy.
//
// Layout (little endian): magic "LEOPARD-TRACE-BUNDLE\n", u32 file count, then per file: u32 path length, path
// (UTF-8, relative), u64 byte count, bytes. The store adds compression and a SHA-256 check on read.

import Basics
import Foundation
import Workloads

public enum TraceBundle {
    static let magic = Array("LEOPARD-TRACE-BUNDLE\n".utf8)

    public static func pack(_ trace: AttentionTrace) throws -> [UInt8] {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try trace.write(to: directory)
        let files = try FileManager.default.subpathsOfDirectory(atPath: directory).sorted().filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        var out = magic
        append(UInt32(files.count), to: &out)
        for path in files {
            guard let data = FileManager.default.contents(atPath: directory + "/" + path) else {
                throw RuntimeError("cannot read back \(directory)/\(path) while packing a trace")
            }
            let name = Array(path.utf8)
            append(UInt32(name.count), to: &out)
            out += name
            append(UInt64(data.count), to: &out)
            out += [UInt8](data)
        }
        return out
    }

    /// Writes the bundle's files under `directory` (created).
    public static func unpack(_ bytes: [UInt8], into directory: String, source: String) throws {
        var offset = 0
        func fail(_ problem: String) -> InputError { InputError(file: source, place: "byte offset \(offset)", problem: problem) }
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, offset + n <= bytes.count else { throw fail("truncated trace bundle (needs \(n) more bytes)") }
            defer { offset += n }
            return bytes[offset..<(offset + n)]
        }
        func integer(_ width: Int) throws -> Int {
            try take(width).reversed().reduce(0) { $0 << 8 | Int($1) }
        }
        guard Array(try take(magic.count)) == magic else { throw fail("not a Leopard trace bundle (bad magic)") }
        let count = try integer(4)
        for _ in 0..<count {
            let nameLength = try integer(4)
            guard let path = String(bytes: try take(nameLength), encoding: .utf8), !path.hasPrefix("/"), !path.contains("..") else {
                throw fail("invalid file name in trace bundle")
            }
            let size = try integer(8)
            let data = try take(size)
            let full = directory + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: full, contents: Data(data)) else {
                throw RuntimeError("cannot write \(full)")
            }
        }
    }

    public static func unpack(_ bytes: [UInt8], source: String) throws -> AttentionTrace {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try unpack(bytes, into: directory, source: source)
        return try AttentionTrace.read(from: directory)
    }

    static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "leopard-trace-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
