#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Raises this process's open-file limit to its hard limit, as Go's runtime does for etcd at start:
/// every client connection, peer link and log segment holds a descriptor, and the usual soft
/// limit of 1,024 would refuse connections long before `LeanGRPCServer.connectionsMax`.
enum FileDescriptorLimit {
    /// Returns the limit now in force (soft, hard), or nil when it could not be read.
    @discardableResult
    static func raiseToHardLimit() -> (soft: UInt64, hard: UInt64)? {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }
}
