// The `.npy` header dict, a Python literal with exactly the keys 'descr', 'fortran_order' and 'shape'.
// A small hand parser for the subset NumPy writes: quoted strings, True/False, tuples of integers.

import Basics

struct NpyHeader {
    let dtype: NpyDType
    let shape: [Int]

    var shapeText: String { "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")") }

    enum Literal {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    static func parse(_ text: String, file: String) throws -> NpyHeader {
        var scanner = Scanner(chars: Array(text.unicodeScalars), file: file)
        let dict = try scanner.parseDict()
        for key in dict.keys where !["descr", "fortran_order", "shape"].contains(key) {
            throw scanner.fail("unexpected key '\(key)' in the header dict; expected only 'descr', 'fortran_order', 'shape'")
        }
        guard case .string(let descr)? = dict["descr"] else {
            throw scanner.fail("header dict lacks a string 'descr'")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw scanner.fail("header dict lacks a boolean 'fortran_order'")
        }
        guard case .tuple(let shape)? = dict["shape"] else {
            throw scanner.fail("header dict lacks a tuple 'shape'")
        }
        if fortran {
            throw InputError(file: file, place: "header 'fortran_order'",
                             problem: "Fortran-order arrays are not supported; save a C-order array (numpy.ascontiguousarray)")
        }
        let aliases: [String: NpyDType] = ["<u1": .uint8, "|i2": .int16]
        guard let dtype = NpyDType(rawValue: descr) ?? aliases[descr] else {
            let endian = descr.first == ">" ? " (big endian)" : ""
            throw InputError(file: file, place: "header 'descr'",
                             problem: "dtype '\(descr)'\(endian) is not supported; expected one of <i2, <i4, <i8, <f4, |u1 (little endian)")
        }
        if let bad = shape.first(where: { $0 < 0 }) {
            throw InputError(file: file, place: "header 'shape'", problem: "negative dimension \(bad)")
        }
        return NpyHeader(dtype: dtype, shape: shape)
    }

    struct Scanner {
        let chars: [Unicode.Scalar]
        let file: String
        var at = 0

        func fail(_ problem: String) -> InputError {
            InputError(file: file, place: "header character \(at)", problem: problem)
        }

        mutating func skipSpace() {
            while at < chars.count, chars[at] == " " || chars[at] == "\n" || chars[at] == "\t" { at += 1 }
        }

        mutating func expect(_ c: Unicode.Scalar) throws {
            skipSpace()
            guard at < chars.count, chars[at] == c else { throw fail("expected '\(c)' in the header dict") }
            at += 1
        }

        mutating func peek() -> Unicode.Scalar? {
            skipSpace()
            return at < chars.count ? chars[at] : nil
        }

        mutating func parseDict() throws -> [String: Literal] {
            try expect("{")
            var out: [String: Literal] = [:]
            while peek() != "}" {
                guard case .string(let key) = try parseValue() else { throw fail("dict keys must be strings") }
                try expect(":")
                if out[key] != nil { throw fail("duplicate key '\(key)'") }
                out[key] = try parseValue()
                if peek() == "," { at += 1 } else { break }
            }
            try expect("}")
            skipSpace()
            guard at == chars.count else { throw fail("unexpected text after the header dict") }
            return out
        }

        mutating func parseValue() throws -> Literal {
            guard let c = peek() else { throw fail("unexpected end of the header") }
            if c == "'" || c == "\"" {
                at += 1
                var s = ""
                while at < chars.count, chars[at] != c { s.unicodeScalars.append(chars[at]); at += 1 }
                guard at < chars.count else { throw fail("unterminated string") }
                at += 1
                return .string(s)
            }
            if c == "(" {
                at += 1
                var dims: [Int] = []
                while peek() != ")" {
                    dims.append(try parseInt())
                    if peek() == "," { at += 1 } else { break }
                }
                try expect(")")
                return .tuple(dims)
            }
            for (word, value) in [("True", true), ("False", false)] where matches(word) {
                at += word.unicodeScalars.count
                return .bool(value)
            }
            throw fail("unexpected character '\(c)' in the header dict")
        }

        func matches(_ word: String) -> Bool {
            let w = Array(word.unicodeScalars)
            return at + w.count <= chars.count && Array(chars[at..<(at + w.count)]) == w
        }

        mutating func parseInt() throws -> Int {
            skipSpace()
            var digits = ""
            if at < chars.count, chars[at] == "-" { digits = "-"; at += 1 }
            while at < chars.count, ("0"..."9").contains(chars[at]) { digits.unicodeScalars.append(chars[at]); at += 1 }
            if at < chars.count, chars[at] == "L" { at += 1 }  // Python 2 long suffix
            guard let value = Int(digits) else { throw fail("expected an integer dimension in 'shape'") }
            return value
        }
    }
}
