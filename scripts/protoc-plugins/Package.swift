// swift-tools-version:6.0
// Build-only package: pins the protoc plugins used by scripts/generate-protos.sh.
// It has no products of its own; the script builds the plugin executables
// that these dependencies vend (protoc-gen-swift, protoc-gen-grpc-swift-2).
import PackageDescription

let package = Package(
    name: "protoc-plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
    ],
    targets: []
)
