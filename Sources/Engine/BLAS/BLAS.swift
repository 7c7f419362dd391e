import COpenBLAS

/// Single-precision matrix multiply through OpenBLAS, opened on first use (see `COpenBLAS`).
public enum BLAS {
    /// Opens OpenBLAS; nil on success, else the reason. Evaluated once (Swift globals are lazy and thread-safe).
    private static let openError: String? = {
        var buffer = [CChar](repeating: 0, count: 512)
        let status = linstory_blas_open(&buffer, buffer.count)
        return status == 0 ? nil : String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// Throws a one-line error when OpenBLAS cannot be opened. Call before any `sgemm`.
    public static func load() throws {
        if let message = openError { throw LinstoryError(.tool, message) }
    }

    /// What OpenBLAS reports it runs (`openblas_get_corename`), e.g. "Haswell".
    public static var coreName: String { _ = openError; return String(cString: linstory_blas_corename()) }
    /// The kernel linstory asked for, or the environment's own OPENBLAS_CORETYPE.
    public static var requestedCore: String { _ = openError; return String(cString: linstory_blas_requested_core()) }
    public static var coreFromEnvironment: Bool { _ = openError; return linstory_blas_core_from_environment() != 0 }
    public static var libraryPath: String { _ = openError; return String(cString: linstory_blas_library_path()) }

    public static var threads: Int {
        get { _ = openError; return Int(linstory_blas_get_threads()) }
        set { _ = openError; linstory_blas_set_threads(Int32(newValue)) }
    }

    /// Row-major C[m, n] = alpha * op(A) * op(B) + beta * C. op(A) is [m, k], op(B) is [k, n].
    @inline(__always)
    public static func sgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            // BLAS leaves C untouched for k = 0 only when beta = 1; be explicit.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        linstory_sgemm(
            transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
    }
}
