// The advisory writer lock: one process at a time may write a store. SQLite alone would let a second writer in
// between the first one's transactions, and two sweep engines claiming and completing the same jobs would
// interleave; so a writer takes an exclusive `flock` on `<store>.lock` for as long as the store is open and writes
// its pid and host into that file. A second writer either fails at once (the default) with the owner's pid and
// host in the message, or waits up to a timeout. The kernel drops the lock when the owner exits or is killed,
// so a crashed writer never leaves a stale lock behind. Readers take no lock (WAL lets them read during writes).
//
// flock is per open file description, so the lock also excludes a second writer inside the same process.

import Basics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class WriterLock {
    let lockPath: String
    private let descriptor: Int32

    /// Takes the lock, waiting up to `timeoutSeconds` (0 = try once).
    init(storePath: String, timeoutSeconds: Double) throws {
        lockPath = storePath + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError.notWritable(file: storePath, detail: "cannot create the lock file \(lockPath): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            if failure == EINTR { continue }
            guard failure == EWOULDBLOCK else {
                close(fd)
                throw StoreError.notWritable(file: storePath, detail: "cannot lock \(lockPath): \(String(cString: strerror(failure)))")
            }
            if Date() >= deadline {
                let owner = Self.describeOwner(fd: fd)
                close(fd)
                throw StoreError.writerLocked(file: storePath, lockFile: lockPath, owner: owner)
            }
            usleep(20_000)
        }
        descriptor = fd
        // Record the owner for the next process that finds the lock taken.
        let record = "pid \(getpid()) on host \(ProcessIdentity.hostName)\n"
        _ = ftruncate(fd, 0)
        _ = record.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    private static func describeOwner(fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return "owner unknown" }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "owner unknown" : text
    }
}

/// This process's identity as recorded in `jobs.owner_pid` / `owner_host` and in the lock file.
public enum ProcessIdentity {
    public static var processID: Int32 { getpid() }

    public static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
        return String(cString: buffer)
    }()

    /// True when a process with this id exists on this machine. `kill(pid, 0)` sends nothing; EPERM means the
    /// process exists but belongs to someone else.
    public static func isAlive(pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
