// swift-tools-version: 6.0
import PackageDescription

// Modules follow the purity line: ConsensusCore, Raft and Linearizability are pure (no clocks, I/O,
// threads or global randomness); Simulation is the deterministic shell that drives engines; `synod`
// is the command-line front end.
let package = Package(
    name: "Synod",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "synod", targets: ["synod"]),
        .library(name: "ConsensusCore", targets: ["ConsensusCore"]),
        .library(name: "Raft", targets: ["Raft"]),
        .library(name: "Simulation", targets: ["Simulation"]),
        .library(name: "Linearizability", targets: ["Linearizability"]),
        .library(name: "Storage", targets: ["Storage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        .target(name: "ConsensusCore"),
        .target(name: "Raft", dependencies: ["ConsensusCore"]),
        .target(name: "Linearizability"),
        // The write-ahead log and snapshot files; CSynodCRC holds the one thing Swift cannot express,
        // the SSE4.2 crc32 instruction.
        .target(name: "CSynodCRC"),
        .target(name: "Storage", dependencies: ["ConsensusCore", "CSynodCRC"]),
        .target(name: "MVCC"),
        .target(
            name: "Simulation",
            dependencies: [
                "ConsensusCore", "Raft", "Linearizability",
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        .executableTarget(
            name: "synod",
            dependencies: [
                "ConsensusCore", "Raft", "Simulation", "Linearizability", "Storage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ConsensusCoreTests", dependencies: ["ConsensusCore"]),
        .testTarget(name: "RaftTests", dependencies: ["ConsensusCore", "Raft"], exclude: ["testdata"]),
        .testTarget(name: "SimulationTests", dependencies: ["ConsensusCore", "Raft", "Simulation", "Linearizability"]),
        .testTarget(name: "LinearizabilityTests", dependencies: ["Linearizability"]),
        .testTarget(name: "MVCCTests", dependencies: ["MVCC"]),
        // The crash test runs the `synod` executable as a child process and kills it.
        .testTarget(name: "StorageTests", dependencies: ["ConsensusCore", "Raft", "Simulation", "Storage", "synod"]),
    ],
    swiftLanguageModes: [.v6]
)
