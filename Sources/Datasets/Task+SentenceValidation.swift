// SST-2's validation split: whole sentences, none of whose phrases is trained on.
//
// Why: SST-2's train.tsv holds the labelled phrases of the treebank's training sentences — each sentence and many
// of its sub-phrases, 67,349 rows of 9.4 words on average — while dev.tsv (our test split) holds 872 whole
// sentences of 19.5 words. A validation split carved at random from train.tsv is mostly short phrases whose
// sentence (or other phrases of it) sit in the training split; it predicted test-split metric loss badly
// (r = 0.48 over 25 pruning settings; r = 0.87 over 43 with the split below, docs/results-pruning.md). So, for
// glue/sst2:
//   validation = the first `validationCount` MAXIMAL rows in the seeded shuffle order of `carve` (a row is maximal
//                when its words are a contiguous sub-sequence of no other row: the full sentences, 6,886 rows of
//                19.4 words on average);
//   train      = the other rows MINUS every row that is a contiguous word sub-sequence of a validation sentence
//                (its phrases), so that — as with dev — no phrase of a validation sentence is trained on.
// Words are the space-separated tokens (SST-2 is pre-tokenised and lower case). Both parts keep file order.

extension TaskCatalog {
    /// The split of `carveSentences`: `removedPhrases` rows are in neither part.
    public struct SentenceCarve<Row> {
        public let train: [Row]
        public let validation: [Row]
        public let removedPhrases: Int
    }

    /// Carves whole-sentence validation rows and drops their phrases from training (see the file header).
    /// `words(row)` is the row's text; fewer than `validationCount` rows are taken only if fewer rows are maximal.
    public static func carveSentences<Row>(_ rows: [Row], validationCount: Int, seedName: String,
                                           words: (Row) -> String) -> SentenceCarve<Row> {
        precondition(validationCount >= 0 && validationCount <= rows.count, "validationCount out of range")
        let index = PhraseIndex(rows: rows.map(words))
        let maximal = index.maximalRows()
        let validationRows = validationOrder(count: rows.count, seedName: seedName)
            .lazy.filter { maximal[$0] }.prefix(validationCount)
        var role = [Role](repeating: .train, count: rows.count)
        for row in validationRows {
            // Validation rows are maximal, so nothing they contain is another validation row.
            index.forEachRow(containedIn: row) { contained in role[contained] = .removedPhrase }
            role[row] = .validation
        }
        var train: [Row] = [], validation: [Row] = []
        var removed = 0
        for (row, example) in rows.enumerated() {
            switch role[row] {
            case .train: train.append(example)
            case .validation: validation.append(example)
            case .removedPhrase: removed += 1
            }
        }
        return SentenceCarve(train: train, validation: validation, removedPhrases: removed)
    }

    private enum Role { case train, validation, removedPhrase }
}
