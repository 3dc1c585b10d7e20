import EtcdAPI
import MVCC

/// One response on a Watch stream, as the hub decides it on the replica loop: plain values, so the
/// loop never builds protobuf messages. The stream's writer task turns each into an
/// `Etcdserverpb_WatchResponse` (fragmenting large ones when the watch asked for that).
public enum WatchReply: Sendable, Equatable {
    /// A watch was created (etcd: `created`).
    case created(watchID: Int64, revision: Int64)
    /// A create refused (duplicate id, empty range, a bound): etcd answers created and canceled at
    /// once, with watch id -1 and the reason.
    case refused(reason: String, revision: Int64)
    /// A watch ended: by the client, by compaction (`compactRevision` > 0), or by the server.
    case canceled(watchID: Int64, revision: Int64, compactRevision: Int64 = 0, reason: String = "")
    /// The events of one or more whole revisions, the last of which is `revision`.
    case events(watchID: Int64, revision: Int64, events: [Event], withPrevious: Bool, fragment: Bool)
    /// A progress notification: every event at or below `revision` has been sent (watch id -1
    /// answers a client's progress request for the whole stream).
    case progress(watchID: Int64, revision: Int64)

    /// What the reply holds in memory, roughly: what the stream's byte bound counts.
    package var sizeBytes: Int {
        guard case .events(_, _, let events, let withPrevious, _) = self else { return Self.overheadBytes }
        return events.reduce(Self.overheadBytes) { $0 + Self.sizeBytes(of: $1, withPrevious: withPrevious) }
    }

    package static func sizeBytes(of event: Event, withPrevious: Bool) -> Int {
        var bytes = eventOverheadBytes + event.kv.key.count + event.kv.value.count
        if withPrevious, let previous = event.previous { bytes += previous.key.count + previous.value.count }
        return bytes
    }

    /// Header, ids and framing of one response; of one event.
    package static let overheadBytes = 64
    package static let eventOverheadBytes = 48

    /// The protobuf responses for this reply: one, or several `fragment` pieces when the watch
    /// asked for fragmentation and the events exceed `fragmentBytesMax` (etcd splits at its
    /// --max-request-bytes). Every piece but the last has `fragment` set.
    package func responses(header: Etcdserverpb_ResponseHeader, fragmentBytesMax: Int) -> [Etcdserverpb_WatchResponse] {
        var response = Etcdserverpb_WatchResponse()
        response.header = header
        switch self {
        case .created(let id, let revision):
            response.header.revision = revision
            response.watchID = id
            response.created = true
        case .refused(let reason, let revision):
            response.header.revision = revision
            response.watchID = -1
            response.created = true
            response.canceled = true
            response.cancelReason = reason
        case .canceled(let id, let revision, let compactRevision, let reason):
            response.header.revision = revision
            response.watchID = id
            response.canceled = true
            response.compactRevision = compactRevision
            response.cancelReason = reason
        case .progress(let id, let revision):
            response.header.revision = revision
            response.watchID = id
        case .events(let id, let revision, let events, let withPrevious, let fragment):
            response.header.revision = revision
            response.watchID = id
            guard fragment, sizeBytes > fragmentBytesMax else {
                response.events = events.map { $0.proto(withPrevious: withPrevious) }
                return [response]
            }
            var pieces: [Etcdserverpb_WatchResponse] = []
            var current = response
            var currentBytes = Self.overheadBytes
            for event in events {
                let eventBytes = Self.sizeBytes(of: event, withPrevious: withPrevious)
                if !current.events.isEmpty && currentBytes + eventBytes > fragmentBytesMax {
                    current.fragment = true
                    pieces.append(current)
                    current = response
                    currentBytes = Self.overheadBytes
                }
                current.events.append(event.proto(withPrevious: withPrevious))
                currentBytes += eventBytes
            }
            pieces.append(current)
            return pieces
        }
        return [response]
    }
}
