// The deterministic workload of the crash-safety test, shared by the child process that writes it
// (store-crash-writer) and the test that checks it: what job `key` must contain once it is done.
// It lives in Storage (not in the test target) so that the executable and the tests agree by construction.

import Basics

public enum CrashWorkload {
    /// Metrics per completed job: many, so that a good share of the writer's time is spent inside transactions
    /// and the random kills land mid-commit often.
    public static let metricCount = 1_500

    public static func key(run: Int, index: Int) -> String { "crash-\(run)-\(index)" }

    /// Metric i of job `key`: name "m<i>", value derived from the key's hash so a mix-up between jobs shows.
    public static func metrics(key: String) -> [(name: String, value: Double)] {
        let base = Double(seed(key) % 1_000_000)
        return (0..<metricCount).map { (name: "m\($0)", value: base + Double($0) / 8) }
    }

    /// The artifact of job `key`: 16–176 KiB of quantised Gaussian-like int16 values (compressible like a trace).
    public static func artifact(key: String) -> [UInt8] {
        var generator = SeededGenerator(seed: seed(key))
        let values = 8_192 + Int(seed(key) % 10) * 8_192
        var bytes = [UInt8]()
        bytes.reserveCapacity(values * 2)
        for _ in 0..<values {
            let value = Int16(clamping: Int((generator.nextGaussian() * 300).rounded()))
            bytes.append(UInt8(truncatingIfNeeded: value))
            bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        }
        return bytes
    }

    private static func seed(_ key: String) -> UInt64 {
        SHA256.digest(Array(key.utf8)).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
