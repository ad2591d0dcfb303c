// Deterministic vocabularies built from training data only. Order: the special tokens first (in the order
// given), then every other token by descending training frequency, ties broken by the token's UTF-8 bytes
// (ascending), so the same training data always gives the same ids, whatever the hash seed or platform.

import Basics

/// The special tokens of Leopard's word vocabularies (BERT's names). `[PAD]` is id 0.
public enum SpecialTokens {
    public static let pad = "[PAD]"
    public static let unknown = "[UNK]"
    public static let classifier = "[CLS]"
    public static let separator = "[SEP]"
    public static let mask = "[MASK]"
    public static let all = [pad, unknown, classifier, separator, mask]
}

public struct Vocabulary: Sendable, Equatable {
    /// Tokens by id.
    public let tokens: [String]
    /// The id that unknown tokens map to, if the vocabulary has an unknown token.
    public let unknownID: Int32?
    private let idOfToken: [String: Int32]

    /// A vocabulary with the given id order. Tokens must be unique; `unknownToken`, if given, must be among them.
    public init(tokens: [String], unknownToken: String?) {
        var index: [String: Int32] = [:]
        index.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            precondition(index.updateValue(Int32(id), forKey: token) == nil, "duplicate vocabulary token \(token)")
        }
        self.tokens = tokens
        self.idOfToken = index
        if let unknownToken {
            guard let id = index[unknownToken] else { preconditionFailure("unknown token \(unknownToken) is not in the vocabulary") }
            self.unknownID = id
        } else {
            self.unknownID = nil
        }
    }

    /// Counts the tokens of the training documents and orders them (see file header). Tokens rarer than
    /// `minimumFrequency` are left out (they will map to the unknown token); `maximumSize` caps the total size,
    /// specials included. `unknownToken` must be a special or occur in the data.
    public static func build<Documents: Sequence>(training documents: Documents,
                                                  specials: [String] = SpecialTokens.all,
                                                  unknownToken: String? = SpecialTokens.unknown,
                                                  minimumFrequency: Int = 1,
                                                  maximumSize: Int? = nil) -> Vocabulary where Documents.Element == [String] {
        precondition(minimumFrequency >= 1, "minimumFrequency must be at least 1")
        var counts: [String: Int] = [:]
        for document in documents {
            for token in document { counts[token, default: 0] += 1 }
        }
        return build(counts: counts, specials: specials, unknownToken: unknownToken,
                     minimumFrequency: minimumFrequency, maximumSize: maximumSize)
    }

    public static func build(counts: [String: Int], specials: [String], unknownToken: String?,
                             minimumFrequency: Int, maximumSize: Int?) -> Vocabulary {
        let specialSet = Set(specials)
        var ranked = counts.filter { $0.value >= minimumFrequency && !specialSet.contains($0.key) }
            .map { (token: $0.key, count: $0.value, bytes: Array($0.key.utf8)) }
        ranked.sort { a, b in
            a.count != b.count ? a.count > b.count : a.bytes.lexicographicallyPrecedes(b.bytes)
        }
        var tokens = specials
        let room = maximumSize.map { max(0, $0 - specials.count) } ?? ranked.count
        tokens.append(contentsOf: ranked.prefix(room).map(\.token))
        return Vocabulary(tokens: tokens, unknownToken: unknownToken)
    }

    public var count: Int { tokens.count }

    public func id(of token: String) -> Int32? { idOfToken[token] }

    /// Ids of the tokens; a token outside the vocabulary maps to `unknownID` (it traps if there is none — build
    /// the vocabulary with an unknown token when unseen tokens can occur).
    public func encode(_ tokens: [String]) -> [Int32] {
        tokens.map { token in
            if let id = idOfToken[token] { return id }
            guard let unknownID else { preconditionFailure("token \(token) is not in a vocabulary without an unknown token") }
            return unknownID
        }
    }

    public func decode(_ ids: [Int32]) -> [String] { ids.map { tokens[Int($0)] } }

    /// Ids of the standard specials, when present.
    public var padID: Int32? { id(of: SpecialTokens.pad) }
    public var classifierID: Int32? { id(of: SpecialTokens.classifier) }
    public var separatorID: Int32? { id(of: SpecialTokens.separator) }
    public var maskID: Int32? { id(of: SpecialTokens.mask) }
}
