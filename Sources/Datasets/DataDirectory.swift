// Datasets — the data sets Leopard trains and evaluates on, their tokenisers and their task metrics.
//
// Owns: the data-directory setting, the loaders (bAbI, GLUE TSVs, Penn Treebank, Shakespeare, Fashion-MNIST IDX
// gzip), word/character vocabularies, the BERT WordPiece tokenizer, the uniform `Task` description and `Metrics`.
// Also owns the C library CZlib (gzip inflate). Everything is handed out as plain Swift arrays (`[Int32]`,
// `[Float]`, `[UInt8]`) and small structs, so the training side can consume it without this module knowing it.
// Must not import Tensors, Layers, Models, Training or any hardware module; imports Basics (and Foundation) only.
// Libraries never print: loaders return values and throw `InputError` / `MissingDataError`.

import Basics
import Foundation

/// Where the data sets live: an explicit path (`--data-dir`, a manifest field), else the `LEOPARD_DATA`
/// environment variable, else `./data`. Loaders take paths relative to it (see DATA.md).
public struct DataDirectory: Sendable, Equatable {
    public enum Origin: String, Sendable, Equatable {
        case explicit, environment, defaultPath = "default"
    }

    public static let environmentVariable = "LEOPARD_DATA"
    public static let defaultPath = "./data"

    public let path: String
    public let origin: Origin

    public init(path: String, origin: Origin = .explicit) {
        self.path = path
        self.origin = origin
    }

    /// Explicit path first, then `LEOPARD_DATA` (if set and non-empty), then `./data`.
    public static func resolve(explicit: String?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> DataDirectory {
        if let explicit, !explicit.isEmpty { return DataDirectory(path: explicit, origin: .explicit) }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty {
            return DataDirectory(path: fromEnvironment, origin: .environment)
        }
        return DataDirectory(path: defaultPath, origin: .defaultPath)
    }

    /// `path/relative` (no check that it exists).
    public func filePath(_ relative: String) -> String {
        path.hasSuffix("/") ? path + relative : path + "/" + relative
    }

    /// `path/relative`, which must be an existing regular file; otherwise a `MissingDataError` that says how to get it.
    public func requireFile(_ relative: String, dataSet: String, howToGet: String) throws -> String {
        let full = filePath(relative)
        guard FileSystem.isRegularFile(full) else {
            throw MissingDataError(dataSet: dataSet, path: full, howToGet: howToGet, directory: self)
        }
        return full
    }

    /// Describes the setting for error messages: `/x/data (from LEOPARD_DATA)`.
    public var describedOrigin: String {
        switch origin {
        case .explicit: return "\(path) (given explicitly)"
        case .environment: return "\(path) (from \(Self.environmentVariable))"
        case .defaultPath: return "\(path) (the default; set \(Self.environmentVariable) or --data-dir)"
        }
    }
}

/// A data set that is not where Leopard looks for it. Callers (tests, sweeps) may catch this type to skip a data
/// set that is genuinely absent, as opposed to a malformed one (`InputError`).
public struct MissingDataError: LeopardError, Equatable {
    public let dataSet: String
    public let path: String
    public let howToGet: String
    public let directoryDescription: String

    public init(dataSet: String, path: String, howToGet: String, directory: DataDirectory?) {
        self.dataSet = dataSet
        self.path = path
        self.howToGet = howToGet
        self.directoryDescription = directory?.describedOrigin ?? ""
    }

    public var message: String {
        var text = "\(dataSet) not found: \(path) does not exist"
        if !directoryDescription.isEmpty { text += " (data directory \(directoryDescription))" }
        return text + ". " + howToGet
    }
}

/// Small file-system helpers shared by the loaders.
enum FileSystem {
    static func isRegularFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// The whole file as bytes; an unreadable file is an `InputError` naming it.
    static func readBytes(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(file: path, problem: "cannot be opened for reading")
        }
        defer { try? handle.close() }
        do {
            let data = try handle.readToEnd() ?? Data()
            return [UInt8](data)
        } catch {
            throw InputError(file: path, problem: "read failed: \(error.localizedDescription)")
        }
    }

    /// Names of the entries of a directory, sorted bytewise (deterministic across file systems).
    static func sortedEntries(_ path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        } catch {
            throw InputError(file: path, problem: "cannot list the directory: \(error.localizedDescription)")
        }
    }
}
