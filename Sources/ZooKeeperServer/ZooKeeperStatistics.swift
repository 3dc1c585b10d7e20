/// Request latencies as ZooKeeper's four-letter words report them: whole milliseconds, from a
/// request's arrival to its answer being ready.
struct ZooKeeperLatency: Sendable {
    var count: Int64 = 0
    var totalMillis: Int64 = 0
    var minMillis: Int64 = 0
    var maxMillis: Int64 = 0
    var lastMillis: Int64 = 0

    mutating func record(_ elapsed: Duration) {
        let millis = max(0, elapsed.wholeMilliseconds)
        minMillis = count == 0 ? millis : min(minMillis, millis)
        maxMillis = max(maxMillis, millis)
        totalMillis &+= millis
        count &+= 1
        lastMillis = millis
    }

    /// ZooKeeper prints "min/avg/max" with the average as a decimal.
    var summary: String { "\(minMillis)/\(averageText)/\(maxMillis)" }

    var averageText: String {
        guard count > 0 else { return "0.0" }
        let hundredths = totalMillis &* 100 / count
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// What `cons` reports of one connection, kept on the replica's thread.
struct ZooKeeperConnectionStatistics: Sendable {
    var received: Int64 = 0
    var sent: Int64 = 0
    /// ZooKeeper's short name of the last operation received ("NA" before any).
    var lastOperation = "NA"
    var lastCxid: Int32 = 0
    var lastZxid: Int64 = -1
    var lastResponseAt: ContinuousClock.Instant?
    var latency = ZooKeeperLatency()

    /// ZooKeeper's four-letter names of operations, as `cons` prints them (FinalRequestProcessor's).
    static func shortName(of operation: Int32) -> String {
        switch operation {
        case 11: "PING"
        case -11: "CLOS"
        case 1, 15, 19, 21: "CREA"
        case 2: "DELE"
        case 3: "EXIS"
        case 4: "GETD"
        case 5: "SETD"
        case 6: "GETA"
        case 7: "SETA"
        case 8, 12: "GETC"
        case 9: "SYNC"
        case 13: "CHEC"
        case 14: "MULT"
        case 22: "MLTR"
        case 100: "AUTH"
        case 101, 105: "SETW"
        case 103: "GETE"
        case 104: "GETACN"
        case 106: "ADDW"
        case 107: "WHOA"
        case 17, 18: "REMW"
        default: "\(operation)"
        }
    }
}

/// The member's totals over every connection, on the replica's thread; published to
/// `ZooKeeperFigures` with the session scan.
final class ZooKeeperTraffic {
    var received: Int64 = 0
    var sent: Int64 = 0
    var latency = ZooKeeperLatency()
}

extension Duration {
    /// Whole milliseconds, rounded toward zero; wrapping rather than trapping far out of range.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000 &+ attoseconds / 1_000_000_000_000_000
    }
}
