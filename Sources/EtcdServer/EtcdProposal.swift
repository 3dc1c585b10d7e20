import ConsensusCore
import MVCC
import Replica

/// What one log entry of the etcd service carries: the id of the request that proposed it, so the
/// node that took the request can answer its client when the entry applies, and the command.
///
///     0  u8   the etcd service's tag (`ServiceTag.etcd`), so it shares the log with other services
///     1  u8   format version (1)
///     2  u64  request id (0 for the leader's own lease revocations, which nobody waits for)
///    10  ...  MVCC.Command
///
/// Entries written before services were tagged start at the format version; they decode alike.
public struct EtcdProposal: Sendable {
    static let formatVersion: UInt8 = 1

    public var requestID: RequestID
    public var command: Command

    public var encoded: [UInt8] {
        var writer = ByteWriter()
        writer.write(ServiceTag.etcd.rawValue)
        writer.write(Self.formatVersion)
        writer.write(requestID.rawValue)
        writer.write(command.encoded)
        return writer.bytes
    }

    /// Decodes a committed entry. Every replica wrote it through `encoded`, and the log checksums
    /// every record, so a failure here is a bug or a different version, never a client's input.
    public init(decoding bytes: [UInt8]) throws {
        var reader = ByteReader(bytes, from: bytes.first == ServiceTag.etcd.rawValue ? 1 : 0)
        guard reader.readByte() == Self.formatVersion, let id = reader.readUInt64() else {
            throw CommandDecodingError.empty
        }
        requestID = RequestID(id)
        command = try Command(decoding: reader.readRest())
    }

    public init(requestID: RequestID, command: Command) {
        self.requestID = requestID
        self.command = command
    }
}
