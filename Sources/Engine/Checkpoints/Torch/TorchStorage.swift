/// A torch storage as a checkpoint describes it: an element type, the element count its record
/// claims, and where its bytes are. Claims are checked against the bytes before anything is allocated.
public struct TorchStorage: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// Already located and size-checked (nested and legacy streams).
        case bytes(ArraySlice<UInt8>)
        /// `<prefix>data/<key>` in a zip-format torch.save archive, read when a tensor needs it.
        case archive(key: String)
        /// A legacy stream's storage record, located once the stream's data section has been read;
        /// `view` is (offset, count) in elements for the rare views of another storage.
        case legacy(key: String, view: (offset: Int, count: Int)?)

        public static func == (a: Source, b: Source) -> Bool {
            switch (a, b) {
            case (.bytes(let x), .bytes(let y)): x == y
            case (.archive(let x), .archive(let y)): x == y
            case (.legacy(let x, let v), .legacy(let y, let w)): x == y && v?.offset == w?.offset && v?.count == w?.count
            default: false
            }
        }
    }

    public let dtype: TorchDType
    /// Elements, as the record claims; tensors are checked against this, and it against the bytes.
    public let count: Int
    public internal(set) var source: Source
}
