import Foundation

/// Deliberate defects of one member's etcd service, for showing that checkers catch what they
/// check: the live suites set them through the environment, the simulator's mutation tests through
/// `EtcdService`'s initialiser. A production node sets none.
public struct EtcdServiceFaults: Sendable, Equatable {
    /// The member applies every put with its value changed (`SYNOD_STORE_FAULT=alter-puts`): a
    /// replica whose keyspace diverges.
    public var alterPuts = false
    /// The member answers linearizable ranges from its own store without confirming it leads
    /// (`SYNOD_STORE_FAULT=stale-reads`): reads that may be stale.
    public var staleReads = false
    /// The leader answers keep-alives with the lease's TTL but does not renew it
    /// (`SYNOD_STORE_FAULT=ignore-lease-renewals`): leases kept alive expire.
    public var ignoreLeaseRenewals = false
    /// A broken watch (`SYNOD_WATCH_FAULT`; see `WatchFault`).
    public var watch: WatchFault?

    public init(alterPuts: Bool = false, staleReads: Bool = false, ignoreLeaseRenewals: Bool = false, watch: WatchFault? = nil) {
        self.alterPuts = alterPuts
        self.staleReads = staleReads
        self.ignoreLeaseRenewals = ignoreLeaseRenewals
        self.watch = watch
    }

    public static let storeEnvironmentVariable = "SYNOD_STORE_FAULT"

    /// The faults the environment asks for, and the names it gave that are no fault.
    public static func fromEnvironment() -> (faults: EtcdServiceFaults, unknown: [String]) {
        let environment = ProcessInfo.processInfo.environment
        var faults = EtcdServiceFaults()
        var unknown: [String] = []
        switch environment[storeEnvironmentVariable] ?? "" {
        case "": break
        case "alter-puts": faults.alterPuts = true
        case "stale-reads": faults.staleReads = true
        case "ignore-lease-renewals": faults.ignoreLeaseRenewals = true
        case let other: unknown.append("\(storeEnvironmentVariable)=\(other)")
        }
        let watch = WatchFault.fromEnvironment()
        faults.watch = watch.fault
        if let name = watch.unknown { unknown.append("\(WatchFault.environmentVariable)=\(name)") }
        return (faults, unknown)
    }

    public var isEmpty: Bool { self == EtcdServiceFaults() }
}
