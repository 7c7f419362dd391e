// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "linstory",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "linstory", targets: ["TUI"]),
        .library(name: "Engine", targets: ["Engine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C shims, one per system library. OpenBLAS is opened with dlopen (see COpenBLAS) so that
        // OPENBLAS_CORETYPE can be chosen before the library initialises.
        .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png"), .linkedLibrary("z")]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw"),
        // Built with Swift's checks on in release (bounds, overflow, preconditions): Engine parses files
        // users download (pickle, zip, safetensors, npy/npz, PNG, sessions, cut lists, ffprobe output).
        // -Ounchecked bought nothing measurable: the kernels index through unsafe pointers (README: Speed).
        .target(name: "Engine", dependencies: ["COpenBLAS", "CPNG", "CZlib"]),
        .executableTarget(
            name: "TUI",
            dependencies: [
                "Engine", "CNcursesw",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["Engine"], path: "Tests/TestSupport"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"]),
        .testTarget(name: "TUITests", dependencies: ["TUI", "Engine", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
