// The word tokenizer of Leopard's from-scratch text models (MemN2N on bAbI, the small encoders on GLUE):
// Unicode-lower-cased words split on whitespace, and every punctuation character as a token of its own
// (`"Where is Mary?"` → `where is mary ?`, `won't` → `won ' t`). Punctuation is BERT's definition: the ASCII
// punctuation ranges plus every Unicode P* category. Deterministic and table-free.

public struct WordTokenizer: Sendable, Equatable {
    public var lowercase: Bool
    public var splitPunctuation: Bool

    public init(lowercase: Bool = true, splitPunctuation: Bool = true) {
        self.lowercase = lowercase
        self.splitPunctuation = splitPunctuation
    }

    public func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var word = String.UnicodeScalarView()
        func flush() {
            guard !word.isEmpty else { return }
            let text = String(word)
            tokens.append(lowercase ? text.lowercased() : text)
            word.removeAll(keepingCapacity: true)
        }
        for scalar in text.unicodeScalars {
            if UnicodeClasses.isWhitespace(scalar) {
                flush()
            } else if splitPunctuation && UnicodeClasses.isPunctuation(scalar) {
                flush()
                tokens.append(String(scalar))
            } else {
                word.append(scalar)
            }
        }
        flush()
        return tokens
    }
}

/// Character classes shared by the word and WordPiece tokenizers.
enum UnicodeClasses {
    /// BERT's punctuation: ASCII 33–47, 58–64, 91–96, 123–126, or any Unicode punctuation category (P*).
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// Tab, LF, CR, or the Unicode White_Space property (which includes the Zs category).
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }
}
