import Foundation
import Raft
import RaftTestKit
import Simulation
import Testing

/// Golden-file interaction tests: every script in testdata/ must produce exactly its recorded output.
/// Set `SYNOD_REWRITE_GOLDEN=1` to write the actual output back into the files and review the change
/// as a diff.
@Suite struct InteractionTests {
    typealias Script = InteractionScript<RaftEngine>

    static let scripts: [String] = (try? FileManager.default.contentsOfDirectory(atPath: RaftScripts.testdataDirectory.path))?
        .filter { $0.hasSuffix(".txt") }.sorted() ?? []

    @Test func testdataIsPresent() {
        #expect(Self.scripts.count >= 6, "interaction scripts are missing from \(RaftScripts.testdataDirectory.path)")
    }

    @Test(arguments: scripts)
    func script(_ name: String) throws {
        let url = RaftScripts.testdataDirectory.appendingPathComponent(name)
        let blocks = try Script.parse(try String(contentsOf: url, encoding: .utf8))
        let outputs = try Script.run(blocks)
        if ProcessInfo.processInfo.environment["SYNOD_REWRITE_GOLDEN"] == "1" {
            let header = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n").prefix { $0.hasPrefix("#") }
            let text = (header.isEmpty ? "" : header.joined(separator: "\n") + "\n\n") + Script.render(blocks, outputs: outputs)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        for (block, output) in zip(blocks, outputs) {
            #expect(output == block.expected, "\(name): '\(block.command)' produced\n\(output)\nexpected\n\(block.expected)")
        }
    }

    /// The harness itself: a command it does not know is an error, not a silent pass.
    @Test func anUnknownCommandIsAnError() throws {
        let blocks = try Script.parse("add-nodes 1\n----\nx\n\nfly 1\n----\nok\n")
        #expect(throws: ScriptError.self) { try Script.run(blocks) }
    }
}
