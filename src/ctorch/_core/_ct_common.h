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

/* Whether this CPU runs AVX-512F code (the hand-written AVX-512 kernels' run-time check). */
static inline int ct_have_avx512(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
#else
    return 0;
#endif
}

/* Bits [a, b) of a 16-lane mask (a __mmask16), a and b clamped to [0, 16]; 0 when empty. */
static inline unsigned ct_lanes16(int a, int b)
{
    if (a < 0) a = 0;
    if (b > 16) b = 16;
    return b > a ? ((1u << b) - 1u) & ~((1u << a) - 1u) : 0u;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(CT_NO_CLONES)
#define CT_SIMD __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CT_SIMD
#endif

#endif
