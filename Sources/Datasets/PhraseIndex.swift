// Which rows of a corpus are contiguous token sub-sequences ("phrases") of which others — what SST-2's sentence
// validation split needs (Task+SentenceValidation.swift).
//
// Rows become sequences of token ids (words split at spaces). A table maps the hash of each row's WHOLE sequence to
// the rows with that hash. Any contiguous sub-sequence [i, j) of a row is hashed in O(1) from the row's prefix
// hashes (polynomial, mod 2^64):
//   P[0] = 0,  P[k+1] = P[k]·b + (id_k + 1)           hash[i, j) = P[j] − P[i]·b^(j−i)
// and looked up; a hit is confirmed token by token, so a hash collision can cost time but never change a result.
// Enumerating every sub-sequence of a row of L tokens is L(L+1)/2 look-ups.

/// Rows as token-id sequences with a hash table of whole rows.
struct PhraseIndex {
    /// Every row's token ids, concatenated; row r is `tokens[starts[r] ..< starts[r + 1]]`.
    private(set) var tokens: [Int32] = []
    private(set) var starts: [Int] = [0]
    /// Row r's prefix hashes P[0 ... L] at `prefixes[starts[r] + r ...]` (one more entry per row than tokens).
    private var prefixes: [UInt64] = []
    /// b^k for k = 0 ... longest row.
    private var powers: [UInt64] = [1]
    /// Whole-row hash → the last row with it; `nextWithSameHash[r]` chains to the previous one (−1 ends).
    private var rowsByHash: [UInt64: Int32] = [:]
    private var nextWithSameHash: [Int32] = []

    /// An odd 64-bit multiplier (the golden-ratio constant); token ids enter as id + 1 so that no token hashes to 0.
    private static let base: UInt64 = 0x9E37_79B9_7F4A_7C15

    var rowCount: Int { starts.count - 1 }
    func length(_ row: Int) -> Int { starts[row + 1] - starts[row] }

    /// Indexes `rows`, each a string of space-separated words (runs of spaces count as one separator).
    init(rows: [String]) {
        var ids: [Substring: Int32] = [:]
        for row in rows {
            for word in row.split(separator: " ") {
                if let id = ids[word] {
                    tokens.append(id)
                } else {
                    ids[word] = Int32(ids.count)
                    tokens.append(Int32(ids.count - 1))
                }
            }
            starts.append(tokens.count)
        }
        let longest = (0..<rowCount).map(length).max() ?? 0
        for _ in 0..<longest { powers.append(powers[powers.count - 1] &* Self.base) }
        prefixes.reserveCapacity(tokens.count + rowCount)
        nextWithSameHash.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var hash: UInt64 = 0
            prefixes.append(hash)
            for k in starts[row]..<starts[row + 1] {
                hash = hash &* Self.base &+ UInt64(tokens[k] + 1)
                prefixes.append(hash)
            }
            nextWithSameHash.append(rowsByHash[hash] ?? -1)
            rowsByHash[hash] = Int32(row)
        }
    }

    /// Calls `body` with every row whose token sequence equals a contiguous sub-sequence of `row` (the row itself
    /// and its exact duplicates included); a row is reported once per place it occurs.
    func forEachRow(containedIn row: Int, _ body: (Int) -> Void) {
        let length = length(row), start = starts[row], prefixStart = start + row
        tokens.withUnsafeBufferPointer { tokens in
            prefixes.withUnsafeBufferPointer { prefixes in
                for i in 0..<length {
                    let head = prefixes[prefixStart + i]
                    for j in (i + 1)...length {
                        let span = j - i
                        let hash = prefixes[prefixStart + j] &- head &* powers[span]
                        guard var candidate = rowsByHash[hash].map(Int.init) else { continue }
                        while candidate >= 0 {
                            let candidateStart = starts[candidate]
                            if starts[candidate + 1] - candidateStart == span
                                && (0..<span).allSatisfy({ tokens[candidateStart + $0] == tokens[start + i + $0] }) {
                                body(candidate)
                            }
                            candidate = Int(nextWithSameHash[candidate])
                        }
                    }
                }
            }
        }
    }

    /// `maximal[r]`: row r is a contiguous sub-sequence of no OTHER row (an exact duplicate counts as another row,
    /// so duplicated rows are never maximal). Rows are visited longest first; a row not yet found inside another
    /// marks every row it contains. A row already marked need not enumerate: whatever it contains, the longer row
    /// (or earlier duplicate) that contains it contains too. So only the maximal rows are enumerated.
    func maximalRows() -> [Bool] {
        var maximal = [Bool](repeating: true, count: rowCount)
        let longestFirst = (0..<rowCount).sorted { (length($0), $1) > (length($1), $0) }
        for row in longestFirst where maximal[row] {
            forEachRow(containedIn: row) { contained in
                if contained != row { maximal[contained] = false }
                // A duplicate of `row` (same length, other index) contains `row` as well.
                if contained != row && length(contained) == length(row) { maximal[row] = false }
            }
        }
        return maximal
    }
}
