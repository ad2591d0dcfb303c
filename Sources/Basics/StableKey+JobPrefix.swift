// Job keys in bulk: many jobs of one kind whose parameters share the same members and differ only in their parent
// and in members named after all of those (Sweep's hardware points, the same under every trace, plus each job's
// seed key). The canonical text of such a key is
//
//   {"kind":K,"leopard":V,"parameters":{<shared members>[,<added members>]},"parent":P}
//
// ("kind" < "leopard" < "parameters" < "parent", and the added names sort after the shared ones), so the SHA-256
// state after its first part can be computed once and copied: each key then encodes and hashes only the rest.
// experiments/paper.json plans 128,000 hardware jobs under 1,008 traces; their parameters are three quarters of the
// bytes its keys hash.

extension StableKey {
    public struct JobPrefix: Sendable {
        public let kind: String
        public let parameters: [String: JSONValue]
        /// The greatest shared member name (UTF-8 order); added names must sort after it.
        private let lastName: String?
        /// SHA-256 of `{"kind":K,"leopard":V,"parameters":{<shared members>`.
        private let hashed: SHA256

        public init(kind: String, parameters: [String: JSONValue]) {
            self.kind = kind
            self.parameters = parameters
            let sorted = parameters.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            lastName = sorted.last?.key
            var text: [UInt8] = Array(#"{"kind":"#.utf8)
            CanonicalJSON.appendEscaped(kind, into: &text)
            text += #","leopard":"#.utf8
            CanonicalJSON.appendEscaped(LeopardVersion.string, into: &text)
            text += #","parameters":{"#.utf8
            for (n, member) in sorted.enumerated() {
                if n > 0 { text.append(UInt8(ascii: ",")) }
                CanonicalJSON.appendMember(member.key, member.value, into: &text)
            }
            var hasher = SHA256()
            hasher.update(text)
            hashed = hasher
        }

        /// `StableKey.job(kind:parameters:parent:)` of the shared parameters plus `added`, whose names must all sort
        /// after the shared ones (a programmer error otherwise).
        public func key(adding added: [String: JSONValue] = [:], parent: String?) -> String {
            var text: [UInt8] = []
            var first = parameters.isEmpty
            for member in added.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                precondition(lastName.map { $0.utf8.lexicographicallyPrecedes(member.key.utf8) } ?? true,
                             "StableKey.JobPrefix: added member \(member.key) does not sort after the shared ones")
                if !first { text.append(UInt8(ascii: ",")) }
                first = false
                CanonicalJSON.appendMember(member.key, member.value, into: &text)
            }
            text += #"},"parent":"#.utf8
            if let parent { CanonicalJSON.appendEscaped(parent, into: &text) } else { text += "null".utf8 }
            text.append(UInt8(ascii: "}"))
            var hasher = hashed
            hasher.update(text)
            return hasher.finalize().hexString
        }
    }
}
