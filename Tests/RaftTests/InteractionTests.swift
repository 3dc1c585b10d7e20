import Foundation
import Testing

/// Golden-file interaction tests: every script in testdata/ must produce exactly its recorded output.
@Suite struct InteractionTests {
    static let scripts: [String] = (try? FileManager.default.contentsOfDirectory(atPath: InteractionScript.testdataDirectory.path))?
        .filter { $0.hasSuffix(".txt") }.sorted() ?? []

    @Test func testdataIsPresent() {
        #expect(Self.scripts.count >= 6, "interaction scripts are missing from \(InteractionScript.testdataDirectory.path)")
    }

    @Test(arguments: scripts)
    func script(_ name: String) throws {
        let url = InteractionScript.testdataDirectory.appendingPathComponent(name)
        let blocks = InteractionScript.parse(try String(contentsOf: url, encoding: .utf8))
        let outputs = try InteractionScript.run(blocks)
        if ProcessInfo.processInfo.environment["SYNOD_REWRITE_GOLDEN"] == "1" {
            let header = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n").prefix { $0.hasPrefix("#") }
            let text = (header.isEmpty ? "" : header.joined(separator: "\n") + "\n\n") + InteractionScript.render(blocks, outputs: outputs)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        for (block, output) in zip(blocks, outputs) {
            #expect(output == block.expected, "\(name): '\(block.command)' produced\n\(output)\nexpected\n\(block.expected)")
        }
    }
}
