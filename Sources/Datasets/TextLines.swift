// Line-oriented reading of text data files as bytes, fast enough for PTB and SST-2 in well under a second:
// files are read once, split on LF (a trailing CR is dropped, so CRLF files work too), and only the fields a
// loader keeps become Strings. Every line carries its 1-based number for error messages (`file: line N: ...`).

import Basics

/// One line of a text file: its 1-based number and its bytes without the line terminator.
struct TextLine {
    let number: Int
    let bytes: ArraySlice<UInt8>

    var isBlank: Bool { bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 } }
}

/// The lines of a file held in memory. A final line without a newline is still a line; an empty final segment
/// after the last newline is not.
struct TextFile {
    let path: String
    let bytes: [UInt8]

    init(path: String) throws {
        self.path = path
        self.bytes = try FileSystem.readBytes(path)
    }

    init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    /// Bytes of the file after an optional UTF-8 byte-order mark.
    var contentStart: Int {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }

    func forEachLine(_ body: (TextLine) throws -> Void) throws {
        var start = contentStart
        var number = 1
        let count = bytes.count
        try bytes.withUnsafeBufferPointer { buffer in
            while start < count {
                var end = start
                while end < count && buffer[end] != 0x0A { end += 1 }
                var contentEnd = end
                if contentEnd > start && buffer[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                try body(TextLine(number: number, bytes: bytes[start..<contentEnd]))
                number += 1
                start = end + 1
            }
        }
    }

    func error(_ line: TextLine, _ problem: String) -> InputError {
        InputError(file: path, place: "line \(line.number)", problem: problem)
    }

    /// The bytes as UTF-8 text, or an error naming the line.
    func string(_ bytes: ArraySlice<UInt8>, line: TextLine) throws -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw error(line, "invalid UTF-8; expected UTF-8 text")
        }
        return text
    }

    /// Splits a line on TAB into exactly `expected` fields (GLUE TSVs use no quoting).
    func fields(_ line: TextLine, expected: Int, layout: String) throws -> [ArraySlice<UInt8>] {
        let parts = line.bytes.split(separator: 0x09, omittingEmptySubsequences: false)
        guard parts.count == expected else {
            throw error(line, "found \(parts.count) tab-separated field\(parts.count == 1 ? "" : "s"); expected \(expected) (\(layout))")
        }
        return parts
    }
}

/// Shows a short piece of a line in an error message.
func quoted(_ bytes: ArraySlice<UInt8>, limit: Int = 40) -> String {
    let text = String(decoding: bytes.prefix(limit), as: UTF8.self)
    return "\"" + text + (bytes.count > limit ? "..." : "") + "\""
}
