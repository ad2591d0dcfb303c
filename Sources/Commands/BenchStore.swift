// `leopard bench store`: the result store's throughput (see Storage/StoreBenchmark.swift for what is measured).

import Basics
import Foundation
import Storage

public struct BenchStoreCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "store",
        abstract: "Metric rows/s in batched transactions; zstd ratio and MB/s on checkpoint- and trace-like blobs.",
        usage: "[--json] [--dir DIR] [--quick]",
        discussion: """
        Writes 200,000 metric rows in transactions of 1,000 (target ≥ 50,000 rows/s) and compresses an 8 MB float32
        checkpoint-like blob and an 8 MB int16 trace-like blob with zstd level 3; every figure is the median of 3
        runs. MB = 10^6 bytes. Scratch stores go to a temporary directory under DIR and are removed afterwards.
        """,
        arguments: [
            ArgumentHelp("--json", "Print one JSON object: metric_rows_per_s, float32_checkpoint.ratio, ... (snake_case)."),
            ArgumentHelp("--dir DIR", "Where the scratch stores go (default: the system temporary directory)."),
            ArgumentHelp("--quick", "A tiny run (2,000 rows, 200 KB blobs, 1 repeat) to check that it works; not a measurement."),
        ])

    let json: Bool
    let directory: String
    let quick: Bool

    public init(arguments: inout Arguments) throws {
        json = try arguments.flag("--json")
        quick = try arguments.flag("--quick")
        directory = try arguments.option("--dir") ?? FileManager.default.temporaryDirectory.path
    }

    public func run(_ io: CommandIO) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError("--dir \(directory): no such directory")
        }
        let configuration = quick
            ? StoreBenchmark.Configuration(metricRows: 2_000, batchRows: 1_000, blobBytes: 200_000, repeats: 1)
            : .standard
        let report = try StoreBenchmark.run(directory: directory, configuration: configuration)
        if json {
            io.printJSON(report.json)
            return
        }
        io.print("metric rows:  \(String(format: "%.0f", report.metricRowsPerSecond)) rows/s "
                 + "(\(report.metricRows) rows in transactions of \(report.batchRows), median of \(report.repeats))")
        for blob in report.blobs {
            func f(_ value: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", value) }
            io.print("\(blob.name): \(blob.rawBytes) bytes → \(blob.compressedBytes) (ratio \(f(blob.ratio, 3))); "
                     + "stored as \(blob.artifactCodec) → \(blob.storedBytes) (ratio \(f(blob.storedRatio, 3))); "
                     + "zstd level \(report.zstdLevel) compress \(f(blob.compressMBPerSecond)) MB/s, "
                     + "decompress \(f(blob.decompressMBPerSecond)) MB/s; artifact write \(f(blob.artifactWriteMBPerSecond)) MB/s, "
                     + "read+verify \(f(blob.artifactReadMBPerSecond)) MB/s")
        }
    }
}
