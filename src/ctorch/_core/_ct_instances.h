/* Instantiates a dtype template header twice: for float (T float, SFX _f32, LMS f: the libm
 * suffix) and for double (T double, SFX _f64, LMS empty).  Use:
 *     #define CT_TMPL "_x_tmpl.h"
 *     #include "_ct_instances.h"
 * No include guard: each family's header includes it once for its own template. */
#define T float
#define SFX _f32
#define LMS f
#include CT_TMPL
#undef T
#undef SFX
#undef LMS

#define T double
#define SFX _f64
#define LMS
#include CT_TMPL
#undef T
#undef SFX
#undef LMS

#undef CT_TMPL
