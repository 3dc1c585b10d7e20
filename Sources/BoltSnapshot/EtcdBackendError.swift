/// Backend contents that are a valid bbolt file but not a valid etcd 3.4 backend: a key of the
/// wrong shape, a record that does not decode. The message names the bucket and key.
public struct EtcdBackendError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "etcd backend error: \(message)" }
}
