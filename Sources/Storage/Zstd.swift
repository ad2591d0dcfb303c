// zstd frames. Compression always sets the content-checksum flag (XXH64 of the content in the frame footer, checked
// by the decoder) and records the content size. Decompression is streaming, so it accepts frames with and without
// a content size in the header (`zstd` piped from stdin writes none) and concatenated frames, and it never grows
// the output past the caller's `maximumOutputBytes`: a hostile or corrupt header cannot trigger a huge allocation.

import Basics
import CZstd

public enum CompressionError: LeopardError, Equatable {
    /// The input ended inside a frame (`inputBytes` were given).
    case truncated(inputBytes: Int)
    /// zstd rejected the data (bad magic, corrupt block, checksum mismatch); `detail` is zstd's error name.
    case corrupted(detail: String)
    /// Decompressed data would exceed the caller's limit.
    case outputLimitExceeded(limitBytes: Int)
    /// Compression itself failed (bad level, out of memory).
    case compressionFailed(detail: String)

    public var message: String {
        switch self {
        case .truncated(let n): return "zstd data is truncated: the frame is incomplete after \(n) bytes"
        case .corrupted(let detail): return "zstd data is corrupt: \(detail)"
        case .outputLimitExceeded(let limit): return "zstd data decompresses to more than the allowed \(limit) bytes"
        case .compressionFailed(let detail): return "zstd compression failed: \(detail)"
        }
    }
}

public enum Zstd {
    public static let defaultLevel = 3
    /// Levels zstd accepts (negative levels are the fast modes).
    public static var levelRange: ClosedRange<Int> { Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel()) }

    /// One frame holding `input`, with content size and content checksum in it.
    public static func compress(_ input: [UInt8], level: Int = defaultLevel) throws -> [UInt8] {
        precondition(levelRange.contains(level), "zstd level \(level) outside \(levelRange)")
        guard let context = ZSTD_createCCtx() else { throw CompressionError.compressionFailed(detail: "out of memory") }
        defer { ZSTD_freeCCtx(context) }
        try checkCompression(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level)))
        try checkCompression(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        try checkCompression(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1))
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                ZSTD_compress2(context, out.baseAddress, out.count, inp.baseAddress, inp.count)
            }
        }
        try checkCompression(written)
        output.removeSubrange(written...)
        return output
    }

    /// The content size a frame header declares, nil when the header has none (or `frame` is not a zstd frame).
    public static func declaredContentSize(_ frame: [UInt8]) -> UInt64? {
        let size = frame.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        // ZSTD_CONTENTSIZE_UNKNOWN = 0ULL - 1, ZSTD_CONTENTSIZE_ERROR = 0ULL - 2 (macros Swift cannot import).
        return size >= UInt64.max - 1 ? nil : size
    }

    /// Decompresses every frame in `input`; throws `CompressionError` for truncated or corrupt data and when the
    /// output would exceed `maximumOutputBytes`.
    public static func decompress(_ input: [UInt8], maximumOutputBytes: Int) throws -> [UInt8] {
        precondition(maximumOutputBytes >= 0)
        guard !input.isEmpty else { throw CompressionError.truncated(inputBytes: 0) }
        guard let context = ZSTD_createDCtx() else { throw CompressionError.corrupted(detail: "out of memory") }
        defer { ZSTD_freeDCtx(context) }

        // Start from the declared size when the header has one (one allocation; +1 leaves room so the decoder can
        // finish the frame's checksum without a full output buffer), never above the limit + 1.
        var capacity = 64 * 1024
        if let declared = declaredContentSize(input) {
            if declared > UInt64(maximumOutputBytes) { throw CompressionError.outputLimitExceeded(limitBytes: maximumOutputBytes) }
            capacity = Int(declared) + 1
        }
        capacity = max(1, min(capacity, maximumOutputBytes + 1))
        var output = [UInt8](repeating: 0, count: capacity)
        var produced = 0
        var lastHint = 0  // zstd's return: 0 when a frame is complete and flushed, else a positive hint

        try input.withUnsafeBytes { inp in
            var source = ZSTD_inBuffer(src: inp.baseAddress, size: inp.count, pos: 0)
            while true {
                if produced == output.count {
                    // Output full: grow geometrically, but never past the limit + 1 (one byte over proves excess).
                    guard output.count <= maximumOutputBytes else {
                        throw CompressionError.outputLimitExceeded(limitBytes: maximumOutputBytes)
                    }
                    let grown = min(max(output.count * 2, 64 * 1024), maximumOutputBytes + 1)
                    output.append(contentsOf: repeatElement(0, count: grown - output.count))
                }
                let before = (source.pos, produced)
                lastHint = try output.withUnsafeMutableBytes { out -> Int in
                    var sink = ZSTD_outBuffer(dst: out.baseAddress! + produced, size: out.count - produced, pos: 0)
                    let hint = ZSTD_decompressStream(context, &sink, &source)
                    produced += sink.pos
                    if ZSTD_isError(hint) != 0 {
                        throw CompressionError.corrupted(detail: String(cString: ZSTD_getErrorName(hint)))
                    }
                    return hint
                }
                if produced > maximumOutputBytes { throw CompressionError.outputLimitExceeded(limitBytes: maximumOutputBytes) }
                let inputDone = source.pos == source.size
                if inputDone && lastHint == 0 { break }          // every frame complete and flushed
                if produced < output.count && inputDone {
                    // Room left in the output, all input consumed, frame still open: the data stops mid-frame.
                    throw CompressionError.truncated(inputBytes: inp.count)
                }
                if (source.pos, produced) == before && produced < output.count {
                    throw CompressionError.truncated(inputBytes: inp.count)  // no progress possible
                }
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    private static func checkCompression(_ code: Int) throws {
        if ZSTD_isError(code) != 0 { throw CompressionError.compressionFailed(detail: String(cString: ZSTD_getErrorName(code))) }
    }
}
