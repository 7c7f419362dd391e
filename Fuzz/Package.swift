// swift-tools-version: 6.0
// libFuzzer targets for the readers of untrusted files (checkpoints, zip, npy/npz, sessions, cut lists); not part of the main build or `make test`.
// Each target compiles the Engine's sources itself (through the `Engine` symlink in its folder), with
// bounds and overflow checks on (no -Ounchecked), so that a read the code forgot to check traps here
// instead of reading out of bounds. Build and run from this folder:
//
//   swift build -c release --scratch-path .build-asan -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   swift build -c release --scratch-path .build-release -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
//   bash run.sh 300 .build-asan      # every target, 300 s each, two at a time, seeded from seeds/
//   bash run.sh 300 .build-release   # the same against the release configuration (checks on, no ASan)
import PackageDescription

let package = Package(
    name: "linstory-fuzz",
    targets: [
        .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png"), .linkedLibrary("z")]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "CFuzzDriver"),
        .executableTarget(name: "PickleFuzz", dependencies: ["COpenBLAS", "CPNG", "CZlib", "CFuzzDriver"]),
        .executableTarget(name: "SafeTensorsFuzz", dependencies: ["COpenBLAS", "CPNG", "CZlib", "CFuzzDriver"]),
        .executableTarget(name: "ZipFuzz", dependencies: ["COpenBLAS", "CPNG", "CZlib", "CFuzzDriver"]),
        .executableTarget(name: "NpyFuzz", dependencies: ["COpenBLAS", "CPNG", "CZlib", "CFuzzDriver"]),
        .executableTarget(name: "SessionFuzz", dependencies: ["COpenBLAS", "CPNG", "CZlib", "CFuzzDriver"]),
        .executableTarget(name: "CutListFuzz", dependencies: ["COpenBLAS", "CPNG", "CZlib", "CFuzzDriver"]),
    ],
    swiftLanguageModes: [.v6]
)
