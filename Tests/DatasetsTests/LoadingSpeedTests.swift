// Loading speed on the real data. Timings are printed (the brief's target, PTB and SST-2 well under a second, is
// for release builds); the assertion is only a loose bound that a debug build on a busy 2-core machine meets.

import Foundation
import Testing
@testable import Datasets

struct LoadingSpeedTests {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    @Test func pennTreebankAndSST2LoadQuickly() throws {
        try TestData.withDataSet("PTB and SST-2") {
            let ptb = try Self.seconds { _ = try PennTreebank.corpus(from: TestData.directory) }
            let sst2 = try Self.seconds { _ = try TaskCatalog.load("glue/sst2", from: TestData.directory) }
            print("TIMING: PTB corpus (3 files, vocabulary, ids) \(String(format: "%.3f", ptb)) s; SST-2 task \(String(format: "%.3f", sst2)) s")
            #expect(ptb < 15 && sst2 < 15)
        }
    }

    @Test func imageAndCharacterCorporaTimings() throws {
        try TestData.withDataSet("Fashion-MNIST") {
            let images = try Self.seconds { _ = try TaskCatalog.load("fashion-mnist", from: TestData.directory) }
            print("TIMING: Fashion-MNIST task (4 gzip IDX files) \(String(format: "%.3f", images)) s")
        }
        try TestData.withDataSet("Shakespeare") {
            let text = try Self.seconds { _ = try TaskCatalog.load("shakespeare", from: TestData.directory) }
            print("TIMING: Shakespeare task (locate, 42 files, character ids) \(String(format: "%.3f", text)) s")
        }
    }
}
