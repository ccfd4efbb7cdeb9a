/* Shared C helpers for ctorch's CPU kernels.
 *
 * - OpenMP thread control that also compiles without OpenMP (serial build).
 * - CT_SIMD: marks an inner loop for run-time SIMD dispatch.  GCC/clang emit an
 *   AVX-512, an AVX2 and a baseline clone and pick one at load time (ifunc), so a
 *   single wheel runs on every x86-64 and still uses the widest vectors present.
 *   Never build with -march=native.
 */
#ifndef CT_COMMON_H
#define CT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <math.h>

#ifdef _OPENMP
#include <omp.h>
static inline int ct_max_threads(void) { return omp_get_max_threads(); }
static inline void ct_set_threads(int n) { omp_set_num_threads(n); }
static inline int ct_have_openmp(void) { return 1; }
#else
static inline int ct_max_threads(void) { return 1; }
static inline void ct_set_threads(int n) { (void)n; }
static inline int ct_have_openmp(void) { return 0; }
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(CT_NO_CLONES)
#define CT_SIMD __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CT_SIMD
#endif

#endif
