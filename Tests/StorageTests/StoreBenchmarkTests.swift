// The benchmark at a tiny size: it runs, cleans up after itself, and its figures are sane. (Speed targets are
// checked by `leopard bench store` on a release build, not in tests.)

import Foundation
import Testing
@testable import Storage

@Suite struct StoreBenchmarkTests {
    @Test func aTinyRunReportsSaneFigures() throws {
        let dir = try TemporaryDirectory()
        let report = try StoreBenchmark.run(directory: dir.path,
                                            configuration: .init(metricRows: 2_000, batchRows: 500, blobBytes: 200_000, repeats: 1))
        #expect(report.metricRowsPerSecond > 0)
        #expect(report.blobs.map(\.name) == ["float32_checkpoint", "int16_trace"])
        for blob in report.blobs {
            #expect(blob.rawBytes == 200_000)
            #expect(blob.ratio > 1, "\(blob.name) ratio \(blob.ratio)")
            #expect(blob.compressMBPerSecond > 0 && blob.decompressMBPerSecond > 0)
            #expect(blob.artifactWriteMBPerSecond > 0 && blob.artifactReadMBPerSecond > 0)
        }
        // The 12-bit trace has ~10.3 bits of entropy per 16-bit value: zstd must find at least part of that slack.
        #expect(report.blobs[1].ratio > 1.2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "scratch stores left behind")
        #expect(report.json["metric_rows_per_s"]?.doubleValue == report.metricRowsPerSecond)
    }

    @Test(arguments: [([1.0], 1.0), ([3.0, 1.0, 2.0], 2.0), ([4.0, 1.0, 3.0, 2.0], 2.5)])
    func medianIsTheMiddleValue(_ values: [Double], _ expected: Double) {
        #expect(StoreBenchmark.median(values) == expected)
    }
}
