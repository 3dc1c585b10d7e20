/// The identity of one member of a consensus group.
///
/// A distinct type rather than a bare integer, so that a node id can never be passed where a term or
/// an index is expected. Zero is reserved to mean "no node" on the wire, so valid ids start at 1.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(_ rawValue: UInt64) {
        precondition(rawValue != 0, "NodeID 0 is reserved for 'no node'")
        self.rawValue = rawValue
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "n\(rawValue)" }
}

/// Identifies one client request (a proposal or a read) submitted to one engine.
///
/// Engines echo it back in the action that answers the request, including across forwarding to a
/// leader, so the shell can match answers to callers. It is chosen by the shell and opaque to engines.
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public var description: String { "r\(rawValue)" }
}
