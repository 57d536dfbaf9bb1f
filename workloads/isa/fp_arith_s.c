/* Single-precision arithmetic in every rounding mode, see fp_arith.h. */
#define FSFX "s"
#define FMVIN "fmv.w.x"
#define FONE 0x3f800000UL
#define FADD_F7 "0x00"
#define FMT_F2 "0"
#include "trap.h"

/* specials, all pairs */
static const uint64_t SV[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbfc00000, 0x3eaaaaab, 0x7f7fffff, 0xff7fffff,
    0x00800000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001,
    0xffc12345, 0x40400000,
};
#define NS (sizeof(SV) / sizeof(SV[0]))
/* specials for the fused ops, all triples */
static const uint64_t TV[] = { 0x00000000, 0x80000000, 0x3f800001, 0xbf800000, 0x7f800000,
    0xff800000, 0x7f800001, 0x00800000 };
#define NT (sizeof(TV) / sizeof(TV[0]))
/* rounding-sensitive tuples (a, b, c) */
static const uint64_t RV[][3] = {
    { 0x3f800000, 0x3eaaaaab, 0x3eaaaaab },   /* 1, 1/3 */
    { 0x3eaaaaab, 0x40400000, 0xbf800000 },   /* 1/3, 3, -1 */
    { 0xbeaaaaab, 0x40400000, 0x3f800000 },
    { 0x3f800000, 0x33800000, 0x33800000 },   /* 1 + 2^-24: tie to even */
    { 0x3f800001, 0x33800000, 0xb3800000 },   /* tie, odd */
    { 0xbf800000, 0xb3800000, 0x33000000 },   /* negative tie */
    { 0x7f7fffff, 0x7f7fffff, 0xff7fffff },   /* overflow */
    { 0xff7fffff, 0x7f7fffff, 0x7f7fffff },
    { 0x00800000, 0x3f000000, 0x80000001 },   /* underflow / subnormal */
    { 0x00000003, 0x3f000000, 0x00000001 },   /* subnormal tie */
    { 0x3f800001, 0xbf800001, 0x3f800001 },   /* x - x (sign of zero) */
    { 0x40000000, 0x3fb504f3, 0x40490fdb },   /* 2, sqrt2 ~, pi */
    { 0x4b7fffff, 0x3f400000, 0xcb7fffff },
    { 0x3f7fffff, 0x3f800001, 0xbf800000 },   /* fma exact vs product rounding */
};
#define NR (sizeof(RV) / sizeof(RV[0]))

#include "fp_arith.h"

static void nanbox(void)
{
    /* single-precision ops reading a register that is not NaN-boxed see the
     * canonical NaN */
    uint64_t vals[] = { 0x000000003f800000UL, 0xfffffffe3f800000UL, 0x7fffffff3f800000UL,
                        0xffffffff3f800000UL };
    for (unsigned i = 0; i < 4; i++) {
        uint64_t r1, r2, r3, r4, r5, f;
        __asm__ volatile("fmv.d.x ft0, %6\n\tcsrw fflags, zero\n\t"
                         "fadd.s ft1, ft0, ft0\n\tfmv.x.d %0, ft1\n\t"
                         "fmv.x.w %1, ft0\n\t"
                         "fsgnj.s ft2, ft0, ft0\n\tfmv.x.d %2, ft2\n\t"
                         "fclass.s %3, ft0\n\t"
                         "fcvt.d.s ft3, ft0\n\tfmv.x.d %4, ft3\n\t"
                         "fsd ft0, 0(%7)\n\tld %5, 0(%7)"
                         : "=&r"(r1), "=&r"(r2), "=&r"(r3), "=&r"(r4), "=&r"(r5), "=&r"(f)
                         : "r"(vals[i]), "r"(&f)
                         : "ft0", "ft1", "ft2", "ft3", "memory");
        __asm__ volatile("csrr %0, fflags" : "=r"(f));
        print("nanbox "); print_hex64(vals[i]); putchar_('\n');
        pr("  fadd.s", r1); pr("  fmv.x.w", r2); pr("  fsgnj.s", r3); pr("  fclass.s", r4);
        pr("  fcvt.d.s", r5); pr("  fflags", f);
    }
}

int main(void)
{
    run_all();
    nanbox();
    return 0;
}
