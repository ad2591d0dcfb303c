// Basics — the small things every Leopard module shares.
//
// Owns: the seeded random generator, the JSON value type with its position-reporting parser and canonical
// (sorted-key) encoder, SHA-256 and stable keys, the error protocol that carries a user-facing message, and the
// logging sink. Must not import any other Leopard module or C library: everything depends on Basics, it depends
// on nothing but Foundation.

/// Version of the Leopard code, part of every stable key's inputs so that a change of semantics can invalidate keys.
public enum LeopardVersion {
    public static let string = "0.1.0"
}
