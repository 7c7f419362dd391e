import ArgumentParser

/// A list of seeds as people write them: "0-7", "3", "1,4,10-12".
struct SeedRange: ExpressibleByArgument, Equatable {
    let seeds: [UInt32]

    init?(argument: String) {
        var out: [UInt32] = []
        for part in argument.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            if bounds.count == 1, let v = UInt32(bounds[0]) {
                out.append(v)
            } else if bounds.count == 2, let a = UInt32(bounds[0]), let b = UInt32(bounds[1]), a <= b, b - a < 100_000 {
                out += Array(a...b)
            } else {
                return nil
            }
        }
        guard !out.isEmpty else { return nil }
        seeds = out
    }
}
