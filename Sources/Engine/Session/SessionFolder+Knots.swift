extension SessionFolder {
    /// The first frame of every piece the method's saved frames lie on (window numbering, sorted):
    /// the scene method's polylines store a piece per knot (`FrameInversion.segment`), so a piece
    /// that starts after its scene's first frame starts at a knot. From the assembled latents' one
    /// header when the run is finished, else each saved frame's header (`within`: only those frames).
    public func pieceStarts(method: InversionMethod, count: Int, within: [Int]? = nil) -> [Int] {
        let first = manifest.first
        var starts = Set<Int>()
        if within == nil, manifest[method]?.complete == true, let latents = try? SafeTensorsRows(path: latentsPath(method: method)) {
            for text in (latents.metadata["segments"] ?? "").split(separator: ",") {
                if let s = Self.segment(String(text)) { starts.insert(s.lowerBound - first) }
            }
            return starts.sorted()
        }
        for i in within ?? savedFrameIndices(method: method, count: count) {
            if let text = frameHeader(index: i, method: method)?.metadata["segment"], let s = Self.segment(text) { starts.insert(s.lowerBound - first) }
        }
        return starts.sorted()
    }
}
