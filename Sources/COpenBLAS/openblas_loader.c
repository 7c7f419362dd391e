#define _GNU_SOURCE
#include "copenblas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// CBLAS enum values, fixed by the CBLAS standard.
enum { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);
typedef char *(*corename_fn)(void);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int open_status = -1;
static char open_error[512];
static char requested_core[64];
static int core_from_env;
static char library_path[512];
static sgemm_fn p_sgemm;
static corename_fn p_corename;
static set_threads_fn p_set_threads;
static get_threads_fn p_get_threads;

// The fastest kernel family OpenBLAS 0.3.x has for this CPU, or NULL to let it decide.
static const char *choose_core(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
  return NULL;
}

static void open_once(void) {
  const char *env = getenv("OPENBLAS_CORETYPE");
  int we_set = 0;
  if (env && *env) {
    core_from_env = 1;
    snprintf(requested_core, sizeof requested_core, "%s", env);
  } else {
    const char *core = choose_core();
    if (core) {
      snprintf(requested_core, sizeof requested_core, "%s", core);
      setenv("OPENBLAS_CORETYPE", core, 0);
      we_set = 1;
    }
  }
  static const char *candidates[] = {
      "libopenblas.so.0",
      "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
      "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
      "libopenblas.so",
      "libopenblasp.so.0",
      "libopenblas.dylib",
  };
  void *handle = NULL;
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && !handle; i++) {
    handle = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
    if (handle) snprintf(library_path, sizeof library_path, "%s", candidates[i]);
  }
  // Child processes (ffmpeg, the PyTorch reference) must see the environment the user gave us.
  if (we_set) unsetenv("OPENBLAS_CORETYPE");
  if (!handle) {
    snprintf(open_error, sizeof open_error,
             "OpenBLAS not found (libopenblas.so.0); install it with: apt-get install libopenblas0-pthread");
    return;
  }
  p_sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
  p_corename = (corename_fn)dlsym(handle, "openblas_get_corename");
  p_set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
  p_get_threads = (get_threads_fn)dlsym(handle, "openblas_get_num_threads");
  if (!p_sgemm) {
    snprintf(open_error, sizeof open_error, "%s has no cblas_sgemm", library_path);
    return;
  }
  // linstory parallelises around BLAS calls itself; OpenBLAS's own threads would spin against ours.
  if (p_set_threads) p_set_threads(1);
  open_status = 0;
}

int linstory_blas_open(char *err, size_t err_len) {
  pthread_once(&once, open_once);
  if (open_status != 0 && err && err_len) snprintf(err, err_len, "%s", open_error);
  return open_status;
}

const char *linstory_blas_requested_core(void) { return requested_core; }
int linstory_blas_core_from_environment(void) { return core_from_env; }
const char *linstory_blas_corename(void) {
  return (open_status == 0 && p_corename) ? p_corename() : "";
}
const char *linstory_blas_library_path(void) { return library_path; }

void linstory_blas_set_threads(int n) {
  if (open_status == 0 && p_set_threads) p_set_threads(n);
}
int linstory_blas_get_threads(void) {
  return (open_status == 0 && p_get_threads) ? p_get_threads() : 1;
}

void linstory_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                    const float *b, int ldb, float beta, float *c, int ldc) {
  if (!p_sgemm) {
    // Callers are expected to have checked linstory_blas_open; this is the last line of defence.
    pthread_once(&once, open_once);
    if (!p_sgemm) {
      fprintf(stderr, "linstory: %s\n", open_error);
      abort();
    }
  }
  p_sgemm(kRowMajor, trans_a ? kTrans : kNoTrans, trans_b ? kTrans : kNoTrans, m, n, k, alpha, a, lda, b,
          ldb, beta, c, ldc);
}
