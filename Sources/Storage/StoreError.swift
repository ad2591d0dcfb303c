// Errors of the result store beyond plain SQLite failures. Each names the store file and the place.

import Basics

public enum StoreError: LeopardError, Equatable {
    /// The file exists but is not a Leopard result store (`detail` says what it is instead).
    case notAStore(file: String, detail: String)
    /// The file is damaged (SQLite reports corruption, or the file is shorter than its header says).
    case corrupt(file: String, detail: String)
    /// A stored artifact fails decompression or its checksum.
    case corruptArtifact(file: String, jobKey: String, kind: String, detail: String)
    /// Another process holds the writer lock.
    case writerLocked(file: String, lockFile: String, owner: String)
    /// No job with this key.
    case unknownJob(file: String, key: String)
    /// A state transition that the job's current state does not allow (e.g. completing a job that is not running).
    case invalidTransition(file: String, key: String, from: String, to: String)
    /// A read-only store was asked to write, or a store opened read-only does not exist.
    case notWritable(file: String, detail: String)

    public var message: String {
        switch self {
        case .notAStore(let file, let detail):
            return "\(file): not a Leopard result store (\(detail))"
        case .corrupt(let file, let detail):
            return "\(file): the store is damaged: \(detail)"
        case .corruptArtifact(let file, let key, let kind, let detail):
            return "\(file): artifact '\(kind)' of job \(key) is corrupt: \(detail)"
        case .writerLocked(let file, let lockFile, let owner):
            return "\(file): another process is writing this store (\(owner); lock file \(lockFile)); "
                + "wait for it to finish, or use another --store"
        case .unknownJob(let file, let key):
            return "\(file): no job with key \(key)"
        case .invalidTransition(let file, let key, let from, let to):
            return "\(file): job \(key) is \(from); it cannot become \(to)"
        case .notWritable(let file, let detail):
            return "\(file): \(detail)"
        }
    }
}
