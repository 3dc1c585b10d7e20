import ConsensusCore
import Foundation
import MVCC

/// What the dashboard reads from one member (`/ui/status`, and every second on `/ui/events`):
/// the member's view of the cluster and its own counters. The page reads every member it knows
/// of and draws the cluster from all of them.
struct DashboardStatus: Encodable, Sendable {
    struct Histogram: Encodable, Sendable {
        var count: Int
        var bucketsSeconds: [Double]
        var counts: [Int]
    }

    struct MemberEntry: Encodable, Sendable {
        var id: String
        var name: String
        var clientURLs: [String]
        var uiURLs: [String]
        var isLearner: Bool
    }

    var id: String
    var name: String
    var clientURLs: [String]
    var uiURLs: [String]
    var role: String
    var term: UInt64
    var leader: String
    var commitIndex: UInt64
    var appliedIndex: UInt64
    var revision: Int64
    var leaderChanges: Int
    var dbSizeBytes: Int
    var puts: Int
    var requestLatency: Histogram
    var walFsync: Histogram
    var members: [MemberEntry]
    var time: String

    static func hex(_ id: UInt64) -> String { String(id, radix: 16) }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}

extension EtcdService {
    /// Now, as RFC 3339 with milliseconds in UTC.
    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}

extension LatencyBuckets {
    var dashboard: DashboardStatus.Histogram {
        let (count, cumulative) = snapshot
        return DashboardStatus.Histogram(count: count, bucketsSeconds: boundsSeconds, counts: cumulative)
    }
}

extension EtcdService {
    /// This member's dashboard status; nil when the loop is too busy to answer.
    func dashboardStatus() async -> DashboardStatus? {
        let status = replica.status
        let ownID = identity.id.rawValue
        guard let state = await onLoop({ service in
            (applied: service.appliedIndex, revision: service.store.revision, bytes: service.store.sizeBytes,
             isLearner: service.store.members.first { $0.id == ownID }?.isLearner ?? false)
        }) else { return nil }
        let role = status.isLeader ? "leader" : state.isLearner ? "learner" : status.leader == nil ? "candidate" : "follower"
        return DashboardStatus(
            id: DashboardStatus.hex(ownID), name: identity.name, clientURLs: identity.clientURLs, uiURLs: dashboardURLs,
            role: role, term: status.term, leader: status.leader.map { DashboardStatus.hex($0.rawValue) } ?? "",
            commitIndex: status.commitIndex, appliedIndex: state.applied, revision: state.revision,
            leaderChanges: leaderChangesCount.load(ordering: .relaxed), dbSizeBytes: state.bytes,
            puts: appliedWrites.load(ordering: .relaxed),
            requestLatency: requestLatency.dashboard, walFsync: walFsyncLatency.dashboard,
            members: members.map { member in
                DashboardStatus.MemberEntry(
                    id: DashboardStatus.hex(member.id), name: member.attributes.name, clientURLs: member.attributes.clientURLs,
                    uiURLs: member.id == ownID ? dashboardURLs : [], isLearner: member.isLearner)
            },
            time: Self.timestamp())
    }
}
