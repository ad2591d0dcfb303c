// gzip decompression through the system zlib (CZlib, owned by this module). Whole-file only: Fashion-MNIST's
// largest file inflates to 47 MB. A truncated or corrupted stream is an `InputError` naming the file.

import Basics
import CZlib

enum Gzip {
    /// Inflates a whole gzip file (zlib also passes a file that is not gzip through unchanged).
    static func readFile(_ path: String) throws -> [UInt8] {
        guard FileSystem.isRegularFile(path) else { throw InputError(file: path, problem: "no such file") }
        guard let file = gzopen(path, "rb") else { throw InputError(file: path, problem: "cannot be opened for reading") }
        defer { gzclose(file) }
        var output: [UInt8] = []
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let read = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(chunk)) }
            guard read > 0 else { break } // 0 at the end of the stream, −1 on an error (read by gzerror below)
            output.append(contentsOf: buffer[0..<Int(read)])
        }
        var code: Int32 = 0
        let text = gzerror(file, &code).map { String(cString: $0) } ?? ""
        if code != Z_OK {
            throw InputError(file: path, place: "after \(output.count) decompressed bytes",
                             problem: "gzip stream is damaged (\(text.isEmpty ? "zlib error \(code)" : text)); expected a complete gzip file")
        }
        return output
    }
}
