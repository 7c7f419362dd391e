import Engine

/// Whether two tensors hold the same bits (so -0.0 differs from 0.0 and NaN payloads count).
public func sameBits(_ a: Tensor, _ b: Tensor) -> Bool {
    a.shape == b.shape && a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in
        x.elementsEqual(y) { $0.bitPattern == $1.bitPattern }
    } }
}

/// The message of the `LinstoryError` that `body` throws, or nil when it succeeds. Any other error
/// type is reported as such, so that a test can tell a clean refusal from anything else.
public func linstoryFailure(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let e as LinstoryError {
        return e.message
    } catch {
        return "not a LinstoryError: \(error)"
    }
}
