// The store benchmark behind `leopard bench store`: metric rows per second through batched transactions (DESIGN.md
// target ≥ 50,000 rows/s), and zstd ratio and throughput on two blobs shaped like what the store really keeps —
// a float32 checkpoint and an int16 attention trace — plus the artifact path (compress + SHA-256 + insert, and
// read + decompress + verify). Every figure is the median of `repeats` runs. MB = 10^6 bytes.

import Basics
import Foundation

public struct StoreBenchmarkReport: Sendable {
    public struct Blob: Sendable {
        public let name: String
        public let rawBytes: Int
        /// Plain zstd frame of the raw bytes.
        public let compressedBytes: Int
        /// Element width the artifact path declares (4 for float32, 2 for int16) and the codec that selects.
        public let elementBytes: Int
        public let artifactCodec: String
        /// Size as the store keeps it (byte-shuffled, then zstd).
        public let storedBytes: Int
        public let compressMBPerSecond: Double
        public let decompressMBPerSecond: Double
        /// Whole artifact path through the store: compress + SHA-256 + INSERT ... COMMIT.
        public let artifactWriteMBPerSecond: Double
        /// SELECT + decompress + size and SHA-256 verification.
        public let artifactReadMBPerSecond: Double
        public var ratio: Double { Double(rawBytes) / Double(max(compressedBytes, 1)) }
        public var storedRatio: Double { Double(rawBytes) / Double(max(storedBytes, 1)) }
    }

    public let metricRows: Int
    public let batchRows: Int
    public let repeats: Int
    public let metricRowsPerSecond: Double
    public let zstdLevel: Int
    public let blobs: [Blob]

    /// The `--json` form: snake_case keys.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "metric_rows": JSONValue(metricRows),
            "batch_rows": JSONValue(batchRows),
            "repeats": JSONValue(repeats),
            "metric_rows_per_s": JSONValue(metricRowsPerSecond),
            "zstd_level": JSONValue(zstdLevel),
        ]
        for blob in blobs {
            object[blob.name] = .object([
                "raw_bytes": JSONValue(blob.rawBytes),
                "compressed_bytes": JSONValue(blob.compressedBytes),
                "ratio": JSONValue(blob.ratio),
                "artifact_codec": .string(blob.artifactCodec),
                "stored_bytes": JSONValue(blob.storedBytes),
                "stored_ratio": JSONValue(blob.storedRatio),
                "compress_mb_per_s": JSONValue(blob.compressMBPerSecond),
                "decompress_mb_per_s": JSONValue(blob.decompressMBPerSecond),
                "artifact_write_mb_per_s": JSONValue(blob.artifactWriteMBPerSecond),
                "artifact_read_mb_per_s": JSONValue(blob.artifactReadMBPerSecond),
            ])
        }
        return .object(object)
    }
}

public enum StoreBenchmark {
    public struct Configuration: Sendable {
        public var metricRows: Int
        public var batchRows: Int
        public var blobBytes: Int
        public var repeats: Int

        /// 200k metric rows in transactions of 1,000; 8 MB blobs; median of 3.
        public static let standard = Configuration(metricRows: 200_000, batchRows: 1_000, blobBytes: 8_000_000, repeats: 3)

        public init(metricRows: Int, batchRows: Int, blobBytes: Int, repeats: Int) {
            precondition(metricRows > 0 && batchRows > 0 && metricRows % batchRows == 0, "metricRows must be a multiple of batchRows")
            precondition(blobBytes >= 4 && repeats >= 1)
            self.metricRows = metricRows
            self.batchRows = batchRows
            self.blobBytes = blobBytes
            self.repeats = repeats
        }
    }

    /// Runs in `directory` (stores are created there and removed afterwards).
    public static func run(directory: String, configuration: Configuration = .standard) throws -> StoreBenchmarkReport {
        let scratch = URL(fileURLWithPath: directory).appendingPathComponent("leopard-store-bench-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        var rates: [Double] = []
        for run in 0..<configuration.repeats {
            rates.append(try metricRowsPerSecond(path: scratch.appendingPathComponent("metrics-\(run).sqlite").path, configuration))
        }
        let blobs = [
            ("float32_checkpoint", checkpointLikeBlob(bytes: configuration.blobBytes), 4),
            ("int16_trace", traceLikeBlob(bytes: configuration.blobBytes), 2),
        ]
        let measured = try blobs.map { name, bytes, elementBytes in
            try measureBlob(name: name, bytes: bytes, elementBytes: elementBytes, repeats: configuration.repeats,
                            storePath: scratch.appendingPathComponent("\(name).sqlite").path)
        }
        return StoreBenchmarkReport(metricRows: configuration.metricRows, batchRows: configuration.batchRows,
                                    repeats: configuration.repeats, metricRowsPerSecond: median(rates),
                                    zstdLevel: ResultStore.artifactCompressionLevel, blobs: measured)
    }

    // MARK: Metric rows

    private static func metricRowsPerSecond(path: String, _ configuration: Configuration) throws -> Double {
        let store = try ResultStore(path: path, access: .write())
        try store.registerSweep(name: "bench", manifest: [:])
        let jobCount = configuration.metricRows / configuration.batchRows
        let keys = (0..<jobCount).map { "bench-job-\($0)" }
        try store.insertJobsIfAbsent(sweep: "bench", keys.map { JobSpec(key: $0, kind: "hw-eval", parentKey: nil, parameters: [:]) })
        // One job's batch of metrics per transaction, as a hardware evaluation would write them.
        let names = (0..<configuration.batchRows).map { "metric_\($0)" }
        let batches = keys.enumerated().map { index, key in
            names.enumerated().map { (name: $0.element, value: Double(index) + Double($0.offset) * 1e-3) }
        }
        let seconds = try time {
            for (key, batch) in zip(keys, batches) { try store.recordMetrics(key: key, batch) }
        }
        return Double(configuration.metricRows) / seconds
    }

    // MARK: Blobs

    private static func measureBlob(name: String, bytes: [UInt8], elementBytes: Int, repeats: Int,
                                    storePath: String) throws -> StoreBenchmarkReport.Blob {
        var compressRates: [Double] = [], decompressRates: [Double] = [], writeRates: [Double] = [], readRates: [Double] = []
        var frame: [UInt8] = []
        let megabytes = Double(bytes.count) / 1e6
        let store = try ResultStore(path: storePath, access: .write())
        try store.registerSweep(name: "bench", manifest: [:])
        for run in 0..<repeats {
            compressRates.append(megabytes / (try time { frame = try Zstd.compress(bytes, level: ResultStore.artifactCompressionLevel) }))
            var restored: [UInt8] = []
            decompressRates.append(megabytes / (try time { restored = try Zstd.decompress(frame, maximumOutputBytes: bytes.count) }))
            precondition(restored == bytes, "zstd round trip changed the data")

            let key = "\(name)-\(run)"
            try store.insertJobsIfAbsent(sweep: "bench", [JobSpec(key: key, kind: "bench", parentKey: nil, parameters: [:])])
            writeRates.append(megabytes / (try time { try store.storeArtifacts(key: key, [ArtifactInput(kind: name, bytes: bytes, elementBytes: elementBytes)]) }))
            var read: [UInt8]? = nil
            readRates.append(megabytes / (try time { read = try store.artifact(key: key, kind: name) }))
            precondition(read == bytes, "artifact round trip changed the data")
        }
        let stored = try store.artifactInfos(key: "\(name)-0")[0]
        return .init(name: name, rawBytes: bytes.count, compressedBytes: frame.count, elementBytes: elementBytes,
                     artifactCodec: stored.codec, storedBytes: stored.storedBytes,
                     compressMBPerSecond: median(compressRates), decompressMBPerSecond: median(decompressRates),
                     artifactWriteMBPerSecond: median(writeRates), artifactReadMBPerSecond: median(readRates))
    }

    /// Float32 weights shaped like a small transformer checkpoint: 256-wide matrices of Gaussian values whose
    /// scale varies per row (as after training), every 16th row a bias/LayerNorm-like vector (zeros, or values
    /// near 1). Little-endian IEEE 754.
    static func checkpointLikeBlob(bytes: Int) -> [UInt8] {
        var generator = SeededGenerator(seed: 0xC0FFEE)
        let count = bytes / 4
        var out = [UInt8]()
        out.reserveCapacity(count * 4)
        let width = 256
        var rowScale: Float = 0.02
        for index in 0..<count {
            let row = index / width
            if index % width == 0 { rowScale = 0.01 + 0.05 * generator.nextUnitFloat() }
            let value: Float
            switch row % 16 {
            case 0: value = 0                                                   // bias, still at its initial zero
            case 1: value = 1 + 0.01 * Float(generator.nextGaussian())         // LayerNorm gain
            default: value = rowScale * Float(generator.nextGaussian())
            }
            let bits = value.bitPattern
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
        }
        return out
    }

    /// Int16 values shaped like a quantised 12-bit Q/K trace: Gaussian with σ = 300 (a calibrated scale leaves
    /// headroom), clamped to [-2048, 2047]. Little endian.
    static func traceLikeBlob(bytes: Int) -> [UInt8] {
        var generator = SeededGenerator(seed: 0x7ACE)
        let count = bytes / 2
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for _ in 0..<count {
            let value = Int16(max(-2048, min(2047, (generator.nextGaussian() * 300).rounded())))
            out.append(UInt8(truncatingIfNeeded: value))
            out.append(UInt8(truncatingIfNeeded: value >> 8))
        }
        return out
    }

    private static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return max(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, 1e-9)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
