#!/usr/bin/env bash
# Regenerates the Swift code for Synod's etcd v3 API protos.
#
#   Protos/etcd/**/*.proto  ->  Sources/EtcdAPI/Generated/*.swift
#
# Needs protoc (Debian: `apt-get install -y protobuf-compiler`, protoc 3.21) and
# Swift. The two protoc plugins are built from the versions pinned in
# scripts/protoc-plugins/Package.swift the first time (about 2-3 minutes in
# release on 2 cores) and reused afterwards:
#   protoc-gen-swift         (apple/swift-protobuf 1.39.0)   -> *.pb.swift
#   protoc-gen-grpc-swift-2  (grpc/grpc-swift-protobuf 2.4.1) -> *.grpc.swift
#
# Environment:
#   PROTOC_PLUGINS_SCRATCH  SwiftPM scratch folder for the plugin build
#                           (default: .build-protoc-plugins in the repo, which
#                           .gitignore ignores)
#   PROTOC                  protoc to use (default: protoc on PATH)
#   SWIFT                   swift to use (default: swift on PATH, else
#                           /opt/swift/usr/bin/swift)
#
# The generated files are committed; rerun this after editing a .proto and
# commit the result with it.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
proto_root="$repo/Protos/etcd"
out_dir="$repo/Sources/EtcdAPI/Generated"
tools_pkg="$repo/scripts/protoc-plugins"
scratch="${PROTOC_PLUGINS_SCRATCH:-$repo/.build-protoc-plugins}"

protoc="${PROTOC:-protoc}"
if ! command -v "$protoc" >/dev/null 2>&1; then
    echo "error: protoc not found; install it with: apt-get install -y protobuf-compiler" >&2
    exit 1
fi
swift="${SWIFT:-}"
if [ -z "$swift" ]; then
    if command -v swift >/dev/null 2>&1; then swift=swift; else swift=/opt/swift/usr/bin/swift; fi
fi

# Build the plugins if they are not there yet. `nice` keeps a 2-core machine
# usable while it compiles.
build_plugin() {
    local product="$1"
    nice -n 19 "$swift" build -c release \
        --package-path "$tools_pkg" --scratch-path "$scratch" --product "$product"
}
bin_dir="$("$swift" build -c release --package-path "$tools_pkg" --scratch-path "$scratch" --show-bin-path)"
for product in protoc-gen-swift protoc-gen-grpc-swift-2; do
    if [ ! -x "$bin_dir/$product" ]; then
        echo "Building $product (release) in $scratch ..."
        build_plugin "$product"
    fi
done

# Proto files, relative to the import root, in a stable order.
mapfile -t protos < <(cd "$proto_root" && find . -name '*.proto' | sed 's#^\./##' | LC_ALL=C sort)
if [ "${#protos[@]}" -eq 0 ]; then
    echo "error: no .proto files under $proto_root" >&2
    exit 1
fi

# Generate into a temporary folder and then replace the old output, so that a
# file whose proto was removed does not linger.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(
    cd "$proto_root"
    "$protoc" \
        --proto_path=. \
        --plugin=protoc-gen-swift="$bin_dir/protoc-gen-swift" \
        --plugin=protoc-gen-grpc-swift-2="$bin_dir/protoc-gen-grpc-swift-2" \
        --swift_out="$tmp" \
        --swift_opt=Visibility=Public \
        --swift_opt=FileNaming=PathToUnderscores \
        --grpc-swift-2_out="$tmp" \
        --grpc-swift-2_opt=Visibility=Public \
        --grpc-swift-2_opt=Server=true \
        --grpc-swift-2_opt=Client=true \
        --grpc-swift-2_opt=FileNaming=PathToUnderscores \
        "${protos[@]}"
)

mkdir -p "$out_dir"
find "$out_dir" -maxdepth 1 -name '*.swift' -delete
cp "$tmp"/*.swift "$out_dir"/
echo "Generated:"
(cd "$repo" && ls -1 "${out_dir#"$repo"/}"/*.swift)
