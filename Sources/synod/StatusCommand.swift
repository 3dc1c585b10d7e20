import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `synod status --endpoints …`: the dashboard's data on one terminal screen, refreshed in place:
/// every member with its role, term, commit and applied index and lag behind the leader, read from
/// each endpoint's `/ui/status` (which the client port serves over plain HTTP).
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "A live one-screen view of a cluster: members, roles, terms, indexes and lag.")

    @Option(help: "Comma-separated host:port (or URL) list of members' client or metrics listeners.")
    var endpoints: String = "127.0.0.1:2379"
    @Option(help: "Seconds between refreshes.") var interval: Double = 1
    @Flag(help: "Print one screen and exit (for scripts).") var once = false
    @Option(help: "Stop after this many refreshes (0: until interrupted).") var count: Int = 0

    /// Endpoints one view reads.
    static let endpointsMax = 64

    struct MemberStatus: Decodable {
        var id: String
        var name: String
        var role: String
        var term: UInt64
        var leader: String
        var commitIndex: UInt64
        var appliedIndex: UInt64
        var revision: Int64
        var dbSizeBytes: Int
    }

    func run() async throws {
        let urls = endpoints.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { $0.hasPrefix("http") ? $0 : "http://\($0)" }
        guard !urls.isEmpty, urls.count <= Self.endpointsMax else { throw ValidationError("--endpoints must list 1 to \(Self.endpointsMax) members") }
        guard interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be between 0.1 and 3600 seconds") }
        let session = URLSession(configuration: .ephemeral)
        var refreshes = 0
        while true {
            var rows: [(endpoint: String, status: MemberStatus?)] = []
            for url in urls { rows.append((url, await Self.fetch(url, session: session))) }
            let screen = Self.render(rows)
            // Clear the screen and home the cursor, so the view refreshes in place.
            FileHandle.standardOutput.write(Data((once ? screen : "\u{1B}[H\u{1B}[2J" + screen).utf8))
            refreshes += 1
            if once || (count > 0 && refreshes >= count) { return }
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }

    static func fetch(_ url: String, session: URLSession) async -> MemberStatus? {
        guard let target = URL(string: url + "/ui/status") else { return nil }
        var request = URLRequest(url: target)
        request.timeoutInterval = 1
        guard let (data, response) = try? await session.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 else { return nil }
        return try? JSONDecoder().decode(MemberStatus.self, from: data)
    }

    static func render(_ rows: [(endpoint: String, status: MemberStatus?)]) -> String {
        let answering = rows.compactMap(\.status)
        let topTerm = answering.map(\.term).max() ?? 0
        let leader = answering.first { $0.role == "leader" && $0.term == topTerm }
        var lines = ["synod status  \(Date().formatted(date: .omitted, time: .standard))  leader: \(leader.map { "\($0.name) (\($0.id))" } ?? "none")  term: \(topTerm)", ""]
        lines.append(pad(["ENDPOINT", "NAME", "ID", "ROLE", "TERM", "COMMIT", "APPLIED", "LAG", "REVISION", "DB"]))
        for (endpoint, status) in rows {
            guard let status else {
                lines.append(pad([endpoint, "-", "-", "unreachable", "-", "-", "-", "-", "-", "-"]))
                continue
            }
            let lag = leader.map { $0.commitIndex > status.appliedIndex ? String($0.commitIndex - status.appliedIndex) : "0" } ?? "?"
            lines.append(pad([endpoint, status.name, status.id, status.role, String(status.term), String(status.commitIndex),
                              String(status.appliedIndex), lag, String(status.revision), "\(status.dbSizeBytes / 1024) KiB"]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func pad(_ columns: [String]) -> String {
        let widths = [26, 10, 17, 12, 6, 10, 10, 6, 10, 10]
        return zip(columns, widths).map { column, width in column.count >= width ? column + " " : column + String(repeating: " ", count: width - column.count) }.joined()
    }
}
