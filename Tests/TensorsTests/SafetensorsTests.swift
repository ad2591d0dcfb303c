// Safetensors checkpoints: round trip, byte layout, malformed files, and interoperability with the PyPI
// `safetensors` package (numpy API) in both directions — skipped with a visible message when it is missing.
import Basics
import Foundation
import Tensors
import Testing

func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// The Python used for interop tests: $LEOPARD_PYTHON, else python3 on PATH. Returns nil (after printing a SKIP line)
/// when it cannot import `modules`.
func pythonWith(_ modules: [String], for test: String) -> String? {
    let python = ProcessInfo.processInfo.environment["LEOPARD_PYTHON"] ?? "python3"
    let (status, _) = runProcess(python, ["-c", modules.map { "import \($0)" }.joined(separator: "; ")])
    if status != 0 {
        print("SKIP: \(test): \(python) cannot import \(modules.joined(separator: ", ")) (pip install \(modules.joined(separator: " ")), or set LEOPARD_PYTHON)")
        return nil
    }
    return python
}

@discardableResult
func runProcess(_ executable: String, _ arguments: [String]) -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [executable] + arguments
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    do { try p.run() } catch { return (127, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite struct SafetensorsTests {
    static func sample() -> (Tensor, Tensor) {
        (Tensor(shape: [2, 3], values: [1, -2, 3.5, 0, 3.25, -1e-7]), Tensor(shape: [4], values: [10, 20, 30, 40]))
    }

    @Test func roundTripKeepsNamesShapesValuesAndMetadata() throws {
        let (a, b) = Self.sample()
        let bytes = SafetensorsFile.encode(tensors: [("layer.weight", a.view), ("layer.bias", b.view)], metadata: ["step": "7", "config": "{\"x\":1}"])
        let header = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(header % 8 == 0, "header padded to 8 bytes")
        #expect(bytes.count == 8 + header + 4 * 10)
        let f = try SafetensorsFile(bytes: bytes, file: "mem")
        #expect(f.metadata == ["step": "7", "config": "{\"x\":1}"])
        #expect(f.entries.map(\.name) == ["layer.weight", "layer.bias"])
        #expect(try f.floats("layer.weight", shape: [2, 3]) == a.values)
        #expect(try f.floats("layer.bias") == b.values)
        #expect(throws: InputError.self) { try f.floats("layer.bias", shape: [5]) }
        #expect(throws: InputError.self) { try f.floats("missing") }
    }

    static let malformed: [(String, [UInt8], String)] = [
        ("empty file", [], "byte offset 0"),
        ("header length past the end", [200, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D], "byte offset 0"),
        ("header not JSON", [4, 0, 0, 0, 0, 0, 0, 0] + Array("{x: ".utf8), "header (byte offset 8)"),
        ("data past the end", [UInt8](lengthPrefixed: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#) + [0, 0, 0, 0], "byte offset"),
        ("offsets disagree with shape", [UInt8](lengthPrefixed: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#) + [UInt8](repeating: 0, count: 8), "a"),
        ("unknown dtype", [UInt8](lengthPrefixed: #"{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}"#) + [0], "dtype"),
    ]

    @Test(arguments: malformed)
    func malformedFilesAreInputErrorsNamingFileAndPlace(_ name: String, _ bytes: [UInt8], _ place: String) {
        do {
            _ = try SafetensorsFile(bytes: bytes, file: "bad.safetensors")
            Issue.record("\(name): accepted")
        } catch let e as InputError {
            #expect(e.file == "bad.safetensors")
            #expect(e.message.contains(place), "\(name): \(e.message)")
        } catch {
            Issue.record("\(name): unexpected error \(error)")
        }
    }

    @Test func pythonSafetensorsReadsLeopardFiles() throws {
        guard let python = pythonWith(["numpy", "safetensors"], for: "safetensors interop (read)") else { return }
        let (a, b) = Self.sample()
        let path = temporaryPath("leopard.safetensors")
        try SafetensorsFile.write(path: path, tensors: [("w", a.view), ("b", b.view)], metadata: ["step": "3"])
        let script = """
        import sys, numpy as np
        from safetensors.numpy import load_file
        from safetensors import safe_open
        t = load_file(sys.argv[1])
        assert t["w"].dtype == np.float32 and t["w"].shape == (2, 3), t["w"].shape
        assert np.array_equal(t["w"], np.array([[1, -2, 3.5], [0, 3.25, -1e-7]], dtype=np.float32))
        assert np.array_equal(t["b"], np.array([10, 20, 30, 40], dtype=np.float32))
        with safe_open(sys.argv[1], framework="np") as f: assert f.metadata() == {"step": "3"}, f.metadata()
        print("ok")
        """
        let (status, output) = runProcess(python, ["-c", script, path])
        #expect(status == 0 && output.contains("ok"), "python said: \(output)")
    }

    @Test func leopardReadsFilesWrittenByPythonSafetensors() throws {
        guard let python = pythonWith(["numpy", "safetensors"], for: "safetensors interop (write)") else { return }
        let path = temporaryPath("python.safetensors")
        let script = """
        import sys, numpy as np
        from safetensors.numpy import save_file
        save_file({"x": np.arange(6, dtype=np.float32).reshape(2, 3) / 4, "ids": np.arange(3, dtype=np.int64)}, sys.argv[1], metadata={"k": "v"})
        """
        let (status, output) = runProcess(python, ["-c", script, path])
        try #require(status == 0, "python failed: \(output)")
        let f = try SafetensorsFile.read(path: path)
        #expect(try f.floats("x", shape: [2, 3]) == [0, 0.25, 0.5, 0.75, 1, 1.25])
        #expect(f.entry("ids")?.dtype == "I64")
        #expect(f.metadata == ["k": "v"])
        #expect(throws: InputError.self) { try f.floats("ids") }
    }
}

extension Array where Element == UInt8 {
    /// An 8-byte little-endian length followed by the UTF-8 text (a hand-made safetensors header).
    init(lengthPrefixed text: String) {
        let body = Array(text.utf8)
        self = (0..<8).map { UInt8(truncatingIfNeeded: body.count >> (8 * $0)) } + body
    }
}
