// Safetensors checkpoints (the Hugging Face format): an 8-byte little-endian header length N, N bytes of JSON
// `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}`
// (offsets relative to the byte after the header), then the raw little-endian data. Leopard writes F32 only, in
// the order given, header padded with spaces to a multiple of 8 so the data is aligned. It reads any file whose
// header is well formed; tensors of other dtypes (e.g. I64 `position_ids`) are listed but cannot be read as Float.
// Every malformed-input error is an `InputError` naming the file and the byte offset or JSON path.
import Basics
import Foundation

public struct SafetensorsFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        /// Absolute byte range of the data inside the file.
        public let byteRange: Range<Int>
    }

    public let file: String
    public let metadata: [String: String]
    /// Entries in order of their data offsets.
    public let entries: [Entry]
    private let bytes: [UInt8]

    static let dtypeSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
    ]

    public static func read(path: String) throws -> SafetensorsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, problem: "cannot read the file (missing or unreadable)")
        }
        return try SafetensorsFile(bytes: [UInt8](data), file: path)
    }

    public init(bytes: [UInt8], file: String) throws {
        self.file = file
        self.bytes = bytes
        guard bytes.count >= 8 else {
            throw InputError(file: file, place: "byte offset 0", problem: "file is \(bytes.count) bytes long; expected at least an 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw InputError(file: file, place: "byte offset 0", problem: "header length \(headerLength) exceeds the \(bytes.count - 8) bytes after the length field (truncated file?)")
        }
        let dataStart = 8 + Int(headerLength)
        let header: JSONReader
        do {
            header = try JSONReader.parse(bytes: Array(bytes[8..<dataStart]), file: file)
        } catch let e as InputError {
            throw InputError(file: file, place: "header (byte offset 8), " + e.place, problem: e.problem)
        }
        let object = try header.object()
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for key in object.members.keys.sorted() {
            let member = try object.required(key)
            if key == "__metadata__" {
                let meta = try member.object()
                for mk in meta.members.keys.sorted() { metadata[mk] = try meta.required(mk).string() }
                continue
            }
            let fields = try member.object()
            let dtype = try fields.required("dtype", "a dtype string").string(oneOf: Self.dtypeSizes.keys.sorted())
            let shape = try fields.required("shape", "an array of dimensions").array().map { try $0.int(min: 0) }
            let offsets = try fields.required("data_offsets", "[begin, end]").array().map { try $0.int(min: 0) }
            try fields.finish()
            guard offsets.count == 2, offsets[0] <= offsets[1] else {
                throw member.fail("data_offsets as [begin, end] with begin ≤ end")
            }
            let expectedBytes = shape.reduce(1, *) * Self.dtypeSizes[dtype]!
            guard offsets[1] - offsets[0] == expectedBytes else {
                throw InputError(file: file, place: key, problem: "data_offsets \(offsets) span \(offsets[1] - offsets[0]) bytes; shape \(shape) of \(dtype) needs \(expectedBytes)")
            }
            guard dataStart + offsets[1] <= bytes.count else {
                throw InputError(file: file, place: "byte offset \(dataStart + offsets[1])", problem: "tensor \"\(key)\" ends past the end of the file (\(bytes.count) bytes; truncated?)")
            }
            entries.append(Entry(name: key, dtype: dtype, shape: shape, byteRange: (dataStart + offsets[0])..<(dataStart + offsets[1])))
        }
        entries.sort { ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name) }
        for (a, b) in zip(entries, entries.dropFirst()) where a.byteRange.overlaps(b.byteRange) {
            throw InputError(file: file, place: b.name, problem: "data overlaps tensor \"\(a.name)\"")
        }
        self.metadata = metadata
        self.entries = entries
    }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// The values of an F32 tensor, checking its shape when `shape` is given.
    public func floats(_ name: String, shape expected: [Int]? = nil) throws -> [Float] {
        guard let e = entry(name) else { throw InputError(file: file, place: name, problem: "tensor is missing") }
        guard e.dtype == "F32" else { throw InputError(file: file, place: name, problem: "dtype \(e.dtype); expected F32") }
        if let expected, expected != e.shape {
            throw InputError(file: file, place: name, problem: "shape \(e.shape); expected \(expected)")
        }
        let count = e.byteRange.count / 4
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let o = e.byteRange.lowerBound + 4 * i
                let bits = UInt32(raw[o]) | UInt32(raw[o + 1]) << 8 | UInt32(raw[o + 2]) << 16 | UInt32(raw[o + 3]) << 24
                out[i] = Float(bitPattern: bits)
            }
        }
        return out
    }

    /// Serialises F32 tensors in the given order. Names must be unique and not `__metadata__`.
    public static func encode(tensors: [(name: String, view: TensorView)], metadata: [String: String]) -> [UInt8] {
        var header: [String: JSONValue] = [:]
        var offset = 0
        for (name, view) in tensors {
            precondition(name != "__metadata__" && header[name] == nil, "duplicate or reserved tensor name \(name)")
            header[name] = .object([
                "dtype": "F32", "shape": JSONValue(view.shape), "data_offsets": JSONValue([offset, offset + 4 * view.count]),
            ])
            offset += 4 * view.count
        }
        if !metadata.isEmpty { header["__metadata__"] = .object(metadata.mapValues { .string($0) }) }
        var json = Array(CanonicalJSON.encode(.object(header)).utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count + offset)
        let n = UInt64(json.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out += json
        for (_, view) in tensors {
            for i in 0..<view.count {
                let bits = view.pointer[i].bitPattern
                out.append(UInt8(truncatingIfNeeded: bits)); out.append(UInt8(truncatingIfNeeded: bits >> 8))
                out.append(UInt8(truncatingIfNeeded: bits >> 16)); out.append(UInt8(truncatingIfNeeded: bits >> 24))
            }
        }
        return out
    }

    /// Writes atomically (temporary file + rename), so a crash never leaves a half-written checkpoint.
    public static func write(path: String, tensors: [(name: String, view: TensorView)], metadata: [String: String]) throws {
        let bytes = encode(tensors: tensors, metadata: metadata)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RuntimeError("\(path): cannot write checkpoint: \(error.localizedDescription)")
        }
    }
}
