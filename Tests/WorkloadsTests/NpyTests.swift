import Basics
import Foundation
import Testing
@testable import Workloads

@Suite struct NpyTests {
    static let arrays: [(String, NpyArray)] = [
        ("int16 [2,3]", NpyArray(shape: [2, 3], data: .int16([1, -2, 3, -32768, 32767, 0]))),
        ("int32 [4]", NpyArray(shape: [4], data: .int32([Int32.min, -1, 0, Int32.max]))),
        ("int64 [1,2,1]", NpyArray(shape: [1, 2, 1], data: .int64([Int64.min, Int64.max]))),
        ("float32 [2,2]", NpyArray(shape: [2, 2], data: .float32([0.5, -1.25, .infinity, 3e-38]))),
        ("uint8 [3]", NpyArray(shape: [3], data: .uint8([0, 1, 255]))),
        ("scalar int32 []", NpyArray(shape: [], data: .int32([42]))),
        ("empty int16 [0,5]", NpyArray(shape: [0, 5], data: .int16([]))),
    ]

    @Test(arguments: arrays.map(\.0))
    func roundTripsThroughBytes(name: String) throws {
        let array = Self.arrays.first { $0.0 == name }!.1
        let bytes = NpyFormat.encode(array)
        // The data starts on a 64-byte boundary, as numpy writes it.
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(try NpyFormat.decode(bytes, file: "x.npy") == array)
    }

    static func header(_ dict: String, version: UInt8 = 1) -> [UInt8] {
        var text = dict
        let prefix = version == 1 ? 10 : 12
        text += String(repeating: " ", count: (64 - (prefix + text.utf8.count + 1) % 64) % 64) + "\n"
        let n = text.utf8.count
        let length: [UInt8] = version == 1 ? [UInt8(n & 255), UInt8(n >> 8)] : [UInt8(n & 255), UInt8(n >> 8), 0, 0]
        return NpyFormat.magic + [version, 0] + length + Array(text.utf8)
    }

    static let badFiles: [(String, [UInt8], String)] = [
        ("bad magic", Array("NOTNPY-file-content".utf8), "magic"),
        ("too short", [0x93, 0x4E], "magic"),
        ("fortran order", header("{'descr': '<i4', 'fortran_order': True, 'shape': (2,), }") + [UInt8](repeating: 0, count: 8), "Fortran"),
        ("big endian", header("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }") + [UInt8](repeating: 0, count: 8), "big endian"),
        ("unsupported dtype", header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }") + [UInt8](repeating: 0, count: 8), "not supported"),
        ("truncated data", header("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }") + [UInt8](repeating: 0, count: 8), "truncated data"),
        ("shape too small for data", header("{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }") + [UInt8](repeating: 0, count: 4), "does not match"),
        ("bad header dict", header("{'descr': '<i4', 'fortran_order': False, 'shape': (2,) ") + [UInt8](repeating: 0, count: 8), "header"),
        ("missing shape", header("{'descr': '<i4', 'fortran_order': False, }"), "shape"),
        ("unknown key", header("{'descr': '<i4', 'fortran_order': False, 'shape': (), 'x': 1, }") + [0, 0, 0, 0], "unexpected"),
        ("version 4", NpyFormat.magic + [4, 0, 0, 0], "version 4.0"),
        ("truncated header", NpyFormat.magic + [1, 0, 200, 0] + Array("{'descr'".utf8), "truncated header"),
    ]

    @Test(arguments: badFiles.map(\.0))
    func rejectsWithAnErrorNamingFileAndProblem(name: String) {
        let (_, bytes, expected) = Self.badFiles.first { $0.0 == name }!
        do {
            _ = try NpyFormat.decode(bytes, file: "traces/q.npy")
            Issue.record("\(name): decoded without error")
        } catch let error as InputError {
            #expect(error.file == "traces/q.npy")
            #expect(error.message.contains(expected), "\(error.message)")
        } catch {
            Issue.record("\(name): unexpected error \(error)")
        }
    }

    @Test func readsVersions2And3() throws {
        let v2 = Self.header("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", version: 2) + [1, 0, 0xFF, 0xFF]
        #expect(try NpyFormat.decode(v2, file: "v2.npy") == NpyArray(shape: [2], data: .int16([1, -1])))
        var v3 = Self.header("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", version: 2) + [7]
        v3[6] = 3
        #expect(try NpyFormat.decode(v3, file: "v3.npy") == NpyArray(shape: [1], data: .uint8([7])))
    }

    @Test func int32ValuesRejectsOutOfRangeNamingTheElement() {
        let array = NpyArray(shape: [1, 2], data: .int64([1, Int64(Int32.max) + 1]))
        #expect(throws: InputError(file: "k.npy", place: "element [0, 1]", problem: "value 2147483648 does not fit in int32")) {
            try array.int32Values(file: "k.npy")
        }
    }

    /// Files written by numpy (every supported dtype, versions 1.0, 2.0, 3.0) read back with the same values,
    /// and files Leopard writes load in numpy with the same values.
    @Test func interoperatesWithNumpy() throws {
        let dir = makeTemporaryDirectory()
        let script = """
        import sys, numpy as np
        d = sys.argv[1]
        a = np.arange(-6, 6).reshape(3, 4)
        for v in [(1, 0), (2, 0), (3, 0)]:
            for t in ['<i2', '<i4', '<i8', '<f4']:
                with open(f"{d}/{t[1:]}_v{v[0]}.npy", "wb") as f:
                    np.lib.format.write_array(f, (a * 3).astype(t), version=v)
            with open(f"{d}/u1_v{v[0]}.npy", "wb") as f:
                np.lib.format.write_array(f, (a + 6).astype('|u1'), version=v)
        np.save(f"{d}/fortran.npy", np.asfortranarray(a.astype('<i4')))
        np.save(f"{d}/big.npy", a.astype('>i4'))
        """
        guard let result = runPythonWithNumpy(script, arguments: [dir]) else { return }
        #expect(result.status == 0, "\(result.output)")
        let base = (-6..<6).map { $0 * 3 }
        for version in 1...3 {
            #expect(try NpyFormat.read(path: "\(dir)/i2_v\(version).npy") == NpyArray(shape: [3, 4], data: .int16(base.map { Int16($0) })))
            #expect(try NpyFormat.read(path: "\(dir)/i4_v\(version).npy") == NpyArray(shape: [3, 4], data: .int32(base.map { Int32($0) })))
            #expect(try NpyFormat.read(path: "\(dir)/i8_v\(version).npy") == NpyArray(shape: [3, 4], data: .int64(base.map { Int64($0) })))
            #expect(try NpyFormat.read(path: "\(dir)/f4_v\(version).npy") == NpyArray(shape: [3, 4], data: .float32(base.map { Float($0) })))
            #expect(try NpyFormat.read(path: "\(dir)/u1_v\(version).npy") == NpyArray(shape: [3, 4], data: .uint8((0..<12).map { UInt8($0) })))
        }
        #expect(throws: InputError.self) { try NpyFormat.read(path: "\(dir)/fortran.npy") }
        #expect(throws: InputError.self) { try NpyFormat.read(path: "\(dir)/big.npy") }

        for (name, array) in Self.arrays {
            try NpyFormat.write(array, to: "\(dir)/ours-\(name.filter { $0.isLetter || $0.isNumber }).npy")
        }
        let check = """
        import sys, numpy as np
        d = sys.argv[1]
        x = np.load(f"{d}/ours-int1623.npy"); assert x.dtype == np.dtype('<i2') and x.shape == (2, 3) and x.tolist() == [[1, -2, 3], [-32768, 32767, 0]], x
        x = np.load(f"{d}/ours-int324.npy"); assert x.dtype == np.int32 and x.tolist() == [-2**31, -1, 0, 2**31 - 1], x
        x = np.load(f"{d}/ours-int64121.npy"); assert x.dtype == np.int64 and x.shape == (1, 2, 1), x
        x = np.load(f"{d}/ours-float3222.npy"); assert x.dtype == np.float32 and x[0, 1] == -1.25 and np.isinf(x[1, 0]), x
        x = np.load(f"{d}/ours-uint83.npy"); assert x.dtype == np.uint8 and x.tolist() == [0, 1, 255], x
        x = np.load(f"{d}/ours-scalarint32.npy"); assert x.shape == () and int(x) == 42, x
        x = np.load(f"{d}/ours-emptyint1605.npy"); assert x.shape == (0, 5), x
        print("ok")
        """
        guard let loaded = runPythonWithNumpy(check, arguments: [dir]) else { return }
        #expect(loaded.status == 0 && loaded.output.contains("ok"), "\(loaded.output)")
    }
}
