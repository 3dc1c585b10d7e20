import Foundation
import Logging

/// etcd's logging flags: `--logger zap` writes one JSON object per line (etcd 3.4's zap fields:
/// level, ts, caller, msg, then the metadata), `--logger capnslog` the plain text lines; both go
/// to every target of `--log-outputs` (`stderr`, `stdout`, `default` (stderr) or file paths,
/// appended to).
struct NodeLogHandler: LogHandler {
    enum Format: String {
        case zap, capnslog
    }

    /// Where lines go; shared by every logger of the process and serialised by one lock, so lines
    /// from different threads never interleave.
    final class Outputs: @unchecked Sendable {
        private let handles: [FileHandle]
        private let lock = NSLock()

        init(_ targets: [String]) throws {
            handles = try targets.map { target in
                switch target {
                case "stderr", "default": return FileHandle.standardError
                case "stdout": return FileHandle.standardOutput
                default:
                    if !FileManager.default.fileExists(atPath: target) {
                        guard FileManager.default.createFile(atPath: target, contents: nil) else {
                            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: target])
                        }
                    }
                    guard let handle = FileHandle(forWritingAtPath: target) else {
                        throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: target])
                    }
                    handle.seekToEndOfFile()
                    return handle
                }
            }
        }

        func write(_ line: String) {
            let data = Data(line.utf8)
            lock.lock()
            defer { lock.unlock() }
            for handle in handles { handle.write(data) }
        }
    }

    /// The most targets `--log-outputs` may name.
    static let outputsMax = 16

    let label: String
    let format: Format
    let outputs: Outputs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let merged = metadata.merging(explicit ?? [:]) { _, new in new }
        let now = Date()
        switch format {
        case .zap:
            var object: [String: Any] = [
                "level": Self.zapLevel(level), "ts": now.timeIntervalSince1970,
                "caller": "\(source)/\((file as NSString).lastPathComponent):\(line)", "msg": "\(message)", "logger": label,
            ]
            for (key, value) in merged { object[key] = "\(value)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            outputs.write(String(decoding: data, as: UTF8.self) + "\n")
        case .capnslog:
            let fields = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            outputs.write("\(Self.timestamp(now)) \(level) \(label):\(fields) [\(source)] \(message)\n")
        }
    }

    /// zap's level names.
    static func zapLevel(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: return "debug"
        case .info, .notice: return "info"
        case .warning: return "warn"
        case .error: return "error"
        case .critical: return "fatal"
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
