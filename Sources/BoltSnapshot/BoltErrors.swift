/// A bbolt file that cannot be read: corrupt, truncated, or not a bbolt file at all. The message
/// names what is wrong and where (a page id, an element index, a bucket), for an operator to act on.
public struct BoltFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "bbolt format error: \(message)" }
}

/// Contents the writer refuses because bbolt could not hold them: empty or oversized keys, a key
/// given twice in one bucket, oversized values, or a file too large to address.
public struct BoltWriteError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "bbolt write error: \(message)" }
}
