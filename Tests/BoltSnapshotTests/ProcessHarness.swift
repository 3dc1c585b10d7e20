import Foundation
import XCTest

/// Runs etcd and etcdctl for the interoperability tests. Every wait is bounded; every process a
/// test starts is killed when the test ends, whether it passed or not.
enum ProcessHarness {
    static let etcdPath = "/usr/bin/etcd"
    static let etcdctlPath = "/usr/bin/etcdctl"
    static let commandTimeoutSeconds = 60.0
    static let startupTimeoutSeconds = 30.0

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Fails the test (rather than skipping it) when the etcd binaries are missing: the
    /// interoperability claims are only proven when these tests run.
    static func requireEtcdBinaries(file: StaticString = #filePath, line: UInt = #line) throws {
        for path in [etcdPath, etcdctlPath] where !FileManager.default.isExecutableFile(atPath: path) {
            XCTFail("\(path) is missing: install etcd 3.4 (etcd-server and etcd-client) to run the interoperability tests", file: file, line: line)
            throw CancellationError()
        }
    }

    /// Runs a command to completion, killing it if it outlives `timeoutSeconds`.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeoutSeconds: Double = commandTimeoutSeconds) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var processEnvironment = ProcessInfo.processInfo.environment
        processEnvironment["ETCDCTL_API"] = "3"
        processEnvironment.merge(environment) { $1 }
        process.environment = processEnvironment
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bolt-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Output goes to files, not pipes, so that a chatty process cannot block on a full pipe.
        let stdoutURL = directory.appendingPathComponent("stdout")
        let stderrURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)
        defer {
            try? stdoutHandle.close()
            try? stderrHandle.close()
        }
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw HarnessError("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeoutSeconds) s")
        }
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "")
    }

    /// Runs etcdctl and returns its standard output, throwing with its error output on failure.
    @discardableResult
    static func etcdctl(_ arguments: [String]) throws -> String {
        let output = try run(etcdctlPath, arguments)
        guard output.status == 0 else {
            throw HarnessError("etcdctl \(arguments.joined(separator: " ")) exited \(output.status): \(output.stderr)\(output.stdout)")
        }
        return output.stdout
    }

    static func makeTemporaryDirectory(_ label: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bolt-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func parseJSON(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }
}

/// One etcd server on loopback ports, stopped by `stop()` (call it in a `defer`).
final class EtcdServerProcess {
    let clientURL: String
    private let process = Process()
    private let logURL: URL

    init(name: String, dataDirectory: URL, clientPort: Int, peerPort: Int, logDirectory: URL) throws {
        clientURL = "http://127.0.0.1:\(clientPort)"
        let peerURL = "http://127.0.0.1:\(peerPort)"
        logURL = logDirectory.appendingPathComponent("etcd-\(name).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: ProcessHarness.etcdPath)
        process.arguments = [
            "--name", name, "--data-dir", dataDirectory.path,
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", "\(name)=\(peerURL)",
        ]
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try waitUntilHealthy()
    }

    private func waitUntilHealthy() throws {
        let deadline = Date().addingTimeInterval(ProcessHarness.startupTimeoutSeconds)
        while Date() < deadline {
            guard process.isRunning else {
                throw HarnessError("etcd exited during startup: \(log)")
            }
            if let output = try? ProcessHarness.run(ProcessHarness.etcdctlPath, ["--endpoints", clientURL, "--dial-timeout", "1s", "--command-timeout", "2s", "endpoint", "health"], timeoutSeconds: 10),
               output.status == 0 {
                return
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        stop()
        throw HarnessError("etcd did not become healthy within \(ProcessHarness.startupTimeoutSeconds) s: \(log)")
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// etcdctl against this server.
    @discardableResult
    func etcdctl(_ arguments: [String]) throws -> String {
        try ProcessHarness.etcdctl(["--endpoints", clientURL, "--dial-timeout", "5s", "--command-timeout", "30s"] + arguments)
    }

    /// Terminates etcd, and kills it if it has not exited within five seconds.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
