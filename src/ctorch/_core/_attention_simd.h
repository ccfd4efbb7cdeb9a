/* Fused attention kernels (float32 and float64 instances); see _attention_tmpl.h. */
#ifndef CT_ATTENTION_SIMD_H
#define CT_ATTENTION_SIMD_H

#include "_reduction_simd.h"
#include "_attention_avx512.h"

#define T float
#define SFX _f32
#define CTA_FMA(x, y, z) __builtin_fmaf((x), (y), (z))
#ifdef CTA_AVX512
#define CTA_AVX512_F32 1
#endif
#include "_attention_tmpl.h"
#undef CTA_AVX512_F32
#undef CTA_FMA
#undef T
#undef SFX

#define T double
#define SFX _f64
#define CTA_FMA(x, y, z) __builtin_fma((x), (y), (z))
#include "_attention_tmpl.h"
#undef CTA_FMA
#undef T
#undef SFX

#endif
