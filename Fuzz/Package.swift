// swift-tools-version: 6.0
// libFuzzer targets for the checkpoint readers; not part of the main build or `make test`.
// Each target compiles the Engine's sources itself (through the `Engine` symlink in its folder), with
// bounds and overflow checks on (no -Ounchecked), so that a read the code forgot to check traps here
// instead of reading out of bounds. Build and run from this folder:
//
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   bash run.sh 300        # both targets, 300 s each, seeded from seeds/
import PackageDescription

let package = Package(
    name: "linstory-fuzz",
    targets: [
        .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png"), .linkedLibrary("z")]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .executableTarget(name: "PickleFuzz", dependencies: ["COpenBLAS", "CPNG", "CZlib"]),
        .executableTarget(name: "SafeTensorsFuzz", dependencies: ["COpenBLAS", "CPNG", "CZlib"]),
    ],
    swiftLanguageModes: [.v6]
)
