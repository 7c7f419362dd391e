#ifndef LINSTORY_COPENBLAS_H
#define LINSTORY_COPENBLAS_H
// OpenBLAS, opened at run time.
//
// Debian's OpenBLAS reads OPENBLAS_CORETYPE once, while it loads, and on CPUs it does not know it
// falls back to slow generic kernels. Linking it normally would load it before any Swift code runs,
// so this shim picks the kernel from the CPU's features first and then opens the library itself.
// A value already set in the environment is always left alone: some machines set it on purpose.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Opens OpenBLAS once (thread-safe). Returns 0 on success; otherwise writes a one-line reason to `err`.
int linstory_blas_open(char *err, size_t err_len);

/// The core type this process asked for ("Haswell", ...), the environment's own value, or "" if none.
const char *linstory_blas_requested_core(void);
/// 1 when the requested core came from the environment, 0 when linstory chose it.
int linstory_blas_core_from_environment(void);
/// What OpenBLAS reports it runs (openblas_get_corename), or "" before opening.
const char *linstory_blas_corename(void);
/// The path of the library that was opened.
const char *linstory_blas_library_path(void);

void linstory_blas_set_threads(int n);
int linstory_blas_get_threads(void);

/// Row-major C = alpha * op(A) * op(B) + beta * C. trans_a / trans_b: 0 = no transpose, 1 = transpose.
void linstory_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                    const float *b, int ldb, float beta, float *c, int ldc);

#ifdef __cplusplus
}
#endif
#endif
