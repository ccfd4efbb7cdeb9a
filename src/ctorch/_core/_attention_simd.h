/* Fused attention kernels (float32 and float64 instances); see _attention_tmpl.h. */
#ifndef CT_ATTENTION_SIMD_H
#define CT_ATTENTION_SIMD_H

#include "_reduction_simd.h"

#define T float
#define SFX _f32
#include "_attention_tmpl.h"
#undef T
#undef SFX

#define T double
#define SFX _f64
#include "_attention_tmpl.h"
#undef T
#undef SFX

#endif
