// Attention traces of a fine-tuned model (DESIGN.md §2): the q/k records of one inference forward per layer,
// quantised to B bits with symmetric scales calibrated on the captured data (max |value| of the layer's q, and of
// its k), the learned real threshold mapped to the integer domain T = ceil(Th·√d/(Δq·Δk)), written as
// `layer-NN/{meta.json,q.npy,k.npy,lengths.npy}` through the Workloads trace type.
import Basics
import Models
import Workloads

public enum AttentionTraceCapture {
    /// Builds one LayerTrace per record (one record per layer expected).
    public static func traces(records: [AttentionRecorder.Record], thresholds: [[Double]], bits: Int,
                              valueDimension: Int) -> AttentionTrace {
        let layers = records.sorted { $0.layer < $1.layer }.map { r in
            Quantization.layerTrace(q: r.q, k: r.k, batchSize: r.batch, headCount: r.heads, queryCount: r.queries,
                                    keyCount: r.keys, headDim: r.headDimension, valueDim: valueDimension, bits: bits,
                                    thresholds: thresholds[r.layer], mask: r.causal ? .causal : .none, lengths: r.lengths)
        }
        return AttentionTrace(layers: layers)
    }

    /// Counts valid pairs and pairs with S < T in a trace (the hardware's pruned set).
    public static func integerPruneCounts(_ trace: LayerTrace) -> (valid: Int, pruned: Int) {
        var valid = 0, pruned = 0
        let d = trace.headDim
        for b in 0..<trace.batchSize {
            for h in 0..<trace.headCount {
                let threshold = trace.threshold.value(head: h)
                for i in 0..<trace.queryCount {
                    let q = trace.queryOffset(batch: b, head: h, query: i)
                    for j in trace.validKeys(batch: b, query: i) {
                        let k = trace.keyOffset(batch: b, head: h, key: j)
                        var s: Int64 = 0
                        for e in 0..<d { s += Int64(trace.q[q + e]) * Int64(trace.k[k + e]) }
                        valid += 1
                        if s < threshold { pruned += 1 }
                    }
                }
            }
        }
        return (valid, pruned)
    }

    /// Writes the trace under `directory` and summarises it.
    public static func write(records: [AttentionRecorder.Record], thresholds: [[Double]], bits: Int, valueDimension: Int,
                             directory: String, modelPruneRate: Double) throws -> TraceSummary {
        let trace = traces(records: records, thresholds: thresholds, bits: bits, valueDimension: valueDimension)
        try trace.write(to: directory)
        var valid = 0, pruned = 0
        for layer in trace.layers {
            let c = integerPruneCounts(layer)
            valid += c.valid; pruned += c.pruned
        }
        return TraceSummary(directory: directory, examples: records.first?.batch ?? 0, bits: bits,
                            integerPruneRate: valid == 0 ? 0 : Double(pruned) / Double(valid), modelPruneRate: modelPruneRate)
    }
}
