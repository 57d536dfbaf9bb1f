/* FP conversions in every rounding mode (static + dyn via frm), with fflags:
 * fcvt.{w,wu,l,lu}.{s,d} (saturation on NaN/inf/out of range),
 * fcvt.{s,d}.{w,wu,l,lu}, fcvt.s.d / fcvt.d.s, fmv.x.w/fmv.w.x/fmv.x.d/fmv.d.x,
 * and the rm field of conversions that are always exact. */
#include "trap.h"

struct res { uint64_t v, f; };

#define RMS(X, ...) X(rne, __VA_ARGS__) X(rtz, __VA_ARGS__) X(rdn, __VA_ARGS__) \
    X(rup, __VA_ARGS__) X(rmm, __VA_ARGS__) X(dyn, __VA_ARGS__)
#define RM_rne 0
#define RM_rtz 1
#define RM_rdn 2
#define RM_rup 3
#define RM_rmm 4
#define RM_dyn 7

/* float -> int: input via fmv (in), output integer register */
#define F2I(rm, name, insn, in) static struct res name##_##rm(uint64_t a) { struct res r; \
    __asm__ volatile(in " ft0, %2\n\tcsrw fflags, zero\n\t" insn " %0, ft0, " #rm "\n\tcsrr %1, fflags" \
        : "=r"(r.v), "=r"(r.f) : "r"(a) : "ft0"); return r; }
/* int -> float, or float -> float: result read with fmv.x.d */
#define I2F(rm, name, insn, in) static struct res name##_##rm(uint64_t a) { struct res r; \
    __asm__ volatile("csrw fflags, zero\n\t" insn " ft1, %2, " #rm "\n\tfmv.x.d %0, ft1\n\tcsrr %1, fflags" \
        : "=r"(r.v), "=r"(r.f) : "r"(a) : "ft1"); return r; }
#define F2F(rm, name, insn, in) static struct res name##_##rm(uint64_t a) { struct res r; \
    __asm__ volatile(in " ft0, %2\n\tcsrw fflags, zero\n\t" insn " ft1, ft0, " #rm "\n\tfmv.x.d %0, ft1\n\tcsrr %1, fflags" \
        : "=r"(r.v), "=r"(r.f) : "r"(a) : "ft0", "ft1"); return r; }

/* exact conversions: the assembler refuses an rm operand, encode with .insn
 * (funct7, rs2 selector) */
#define I2FX(rm, name, f7, rs2) static struct res name##_##rm(uint64_t a) { struct res r; \
    __asm__ volatile("csrw fflags, zero\n\t.insn r 0x53, " STR(RM_##rm) ", " #f7 ", ft1, %2, " #rs2 \
        "\n\tfmv.x.d %0, ft1\n\tcsrr %1, fflags" : "=r"(r.v), "=r"(r.f) : "r"(a) : "ft1"); return r; }
#define F2FX(rm, name, f7, rs2) static struct res name##_##rm(uint64_t a) { struct res r; \
    __asm__ volatile("fmv.w.x ft0, %2\n\tcsrw fflags, zero\n\t.insn r 0x53, " STR(RM_##rm) ", " #f7 ", ft1, ft0, " #rs2 \
        "\n\tfmv.x.d %0, ft1\n\tcsrr %1, fflags" : "=r"(r.v), "=r"(r.f) : "r"(a) : "ft0", "ft1"); return r; }

RMS(F2I, w_s, "fcvt.w.s", "fmv.w.x") RMS(F2I, wu_s, "fcvt.wu.s", "fmv.w.x")
RMS(F2I, l_s, "fcvt.l.s", "fmv.w.x") RMS(F2I, lu_s, "fcvt.lu.s", "fmv.w.x")
RMS(F2I, w_d, "fcvt.w.d", "fmv.d.x") RMS(F2I, wu_d, "fcvt.wu.d", "fmv.d.x")
RMS(F2I, l_d, "fcvt.l.d", "fmv.d.x") RMS(F2I, lu_d, "fcvt.lu.d", "fmv.d.x")
RMS(I2F, s_w, "fcvt.s.w", "") RMS(I2F, s_wu, "fcvt.s.wu", "") RMS(I2F, s_l, "fcvt.s.l", "")
RMS(I2F, s_lu, "fcvt.s.lu", "") RMS(I2FX, d_w, 0x69, x0) RMS(I2FX, d_wu, 0x69, x1)
RMS(I2F, d_l, "fcvt.d.l", "") RMS(I2F, d_lu, "fcvt.d.lu", "")
RMS(F2F, s_d, "fcvt.s.d", "fmv.d.x") RMS(F2FX, d_s, 0x21, f0)

typedef struct res (*cfn)(uint64_t);
#define FNS(n) { n##_rne, n##_rtz, n##_rdn, n##_rup, n##_rmm, n##_dyn }

static const uint64_t FS_[] = { /* single inputs */
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0xbfc00000, 0x40200000,
    0xc0200000, 0x3f000000, 0xbf000000, 0x3f400000, 0x4effffff, 0x4f000000, 0xcf000000,
    0xcf000001, 0x4f800000, 0x5effffff, 0x5f000000, 0xdf000000, 0xdf000001, 0x5f800000,
    0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x00000001, 0x80000001,
    0x4b3fffff, 0xbf7fffff,
};
static const uint64_t FD_[] = { /* double inputs */
    0x0000000000000000UL, 0x8000000000000000UL, 0x3ff0000000000000UL, 0xbff0000000000000UL,
    0x3ff8000000000000UL, 0xbff8000000000000UL, 0x4004000000000000UL, 0xc004000000000000UL,
    0x3fe0000000000000UL, 0xbfe0000000000000UL, 0x41dfffffffc00000UL, 0x41dfffffffe00000UL,
    0x41e0000000000000UL, 0xc1e0000000000000UL, 0xc1e0000000200000UL, 0xc1e0000000100000UL,
    0x41efffffffe00000UL, 0x41f0000000000000UL, 0x43dfffffffffffffUL, 0x43e0000000000000UL,
    0xc3e0000000000000UL, 0xc3e0000000000001UL, 0x43f0000000000000UL, 0x7ff0000000000000UL,
    0xfff0000000000000UL, 0x7ff8000000000000UL, 0xfff8000000000000UL, 0x7ff0000000000001UL,
    0x0000000000000001UL, 0x8000000000000001UL, 0x3fefffffffffffffUL, 0x4330000000000001UL,
    0x47efffffe0000000UL, 0x47effffff0000000UL, 0x36a0000000000000UL, 0x3690000000000000UL,
    0x380fffffffffffffUL, 0xb6a8000000000000UL, 0x3ff0000010000000UL, 0x3ff0000030000000UL,
};
static const uint64_t IV[] = { /* integer inputs */
    0, 1, 0xffffffffffffffffUL, 0x7fffffffffffffffUL, 0x8000000000000000UL, 0x00000000ffffffffUL,
    0x0000000080000000UL, 0xffffffff80000000UL, 0x000000007fffffffUL, 0x0000000001000001UL,
    0x0000000001000003UL, 0x0020000000000001UL, 0x0020000000000003UL, 0xfedcba9876543211UL,
    0x0000000000fffffeUL, 0xffffffff00000003UL, 0x8000000000000401UL,
};

static const struct { const char *n; int kind; cfn f[6]; } T[] = {
    { "fcvt.w.s", 0, FNS(w_s) }, { "fcvt.wu.s", 0, FNS(wu_s) }, { "fcvt.l.s", 0, FNS(l_s) },
    { "fcvt.lu.s", 0, FNS(lu_s) }, { "fcvt.w.d", 1, FNS(w_d) }, { "fcvt.wu.d", 1, FNS(wu_d) },
    { "fcvt.l.d", 1, FNS(l_d) }, { "fcvt.lu.d", 1, FNS(lu_d) },
    { "fcvt.s.w", 2, FNS(s_w) }, { "fcvt.s.wu", 2, FNS(s_wu) }, { "fcvt.s.l", 2, FNS(s_l) },
    { "fcvt.s.lu", 2, FNS(s_lu) }, { "fcvt.d.w", 2, FNS(d_w) }, { "fcvt.d.wu", 2, FNS(d_wu) },
    { "fcvt.d.l", 2, FNS(d_l) }, { "fcvt.d.lu", 2, FNS(d_lu) },
    { "fcvt.s.d", 1, FNS(s_d) }, { "fcvt.d.s", 0, FNS(d_s) },
};
static const char *const RMN[] = { "rne", "rtz", "rdn", "rup", "rmm" };

static void out(const char *n, const char *rm, int d, unsigned i, struct res r)
{
    print(n); putchar_(' '); print(rm);
    if (d >= 0)
        putchar_('0' + d);
    putchar_(' '); print_dec(i); putchar_(' '); print_hex64(r.v); putchar_(' ');
    print_hex(r.f, 2); putchar_('\n');
}

int main(void)
{
    for (unsigned t = 0; t < sizeof(T) / sizeof(T[0]); t++) {
        const uint64_t *in = T[t].kind == 0 ? FS_ : T[t].kind == 1 ? FD_ : IV;
        unsigned n = T[t].kind == 0 ? sizeof(FS_) / 8 : T[t].kind == 1 ? sizeof(FD_) / 8 : sizeof(IV) / 8;
        for (unsigned i = 0; i < n; i++) {
            for (int m = 0; m < 5; m++) {
                __asm__ volatile("csrw frm, %0" :: "r"((uint64_t)(m == 1 ? 2 : 1)));
                out(T[t].n, RMN[m], -1, i, T[t].f[m](in[i]));
            }
            for (int m = 0; m < 5; m++) {
                __asm__ volatile("csrw frm, %0" :: "r"((uint64_t)m));
                out(T[t].n, "dyn", m, i, T[t].f[5](in[i]));
            }
        }
    }
    __asm__ volatile("csrw frm, zero");
    /* moves never touch fflags and never canonicalise */
    {
        uint64_t a = 0x7f800001UL, b = 0xfff0000000000001UL, r1, r2, r3, r4, f;
        __asm__ volatile("csrw fflags, zero\n\tfmv.w.x ft0, %[a]\n\tfmv.x.w %[r1], ft0\n\tfmv.x.d %[r2], ft0\n\t"
                         "fmv.d.x ft1, %[b]\n\tfmv.x.d %[r3], ft1\n\tfmv.x.w %[r4], ft1"
                         : [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3), [r4] "=&r"(r4)
                         : [a] "r"(a), [b] "r"(b) : "ft0", "ft1");
        pr("fmv.x.w(snan)", r1); pr("fmv.x.d(boxed)", r2); pr("fmv.x.d(dnan)", r3); pr("fmv.x.w(d)", r4);
        __asm__ volatile("csrr %0, fflags" : "=r"(f));
        pr("fflags", f);
        a = 0x80000000UL;
        __asm__ volatile("fmv.w.x ft0, %1\n\tfmv.x.w %0, ft0" : "=r"(r1) : "r"(a) : "ft0");
        pr("fmv.x.w sign-extends", r1);
    }
    /* rm field validity for conversions that are exact (fcvt.d.s, fcvt.d.w) */
    trap_clear();
    __asm__ volatile(".insn r 0x53, 5, 0x21, ft1, ft0, f0" ::: "ft1"); /* fcvt.d.s rm=5 */
    print_trap("fcvt.d.s rm=5", &mtrap);
    __asm__ volatile(".insn r 0x53, 6, 0x69, ft1, zero, f0" ::: "ft1"); /* fcvt.d.w rm=6 */
    print_trap("fcvt.d.w rm=6", &mtrap);
    __asm__ volatile(".insn r 0x53, 5, 0x60, a0, ft0, f0" ::: "a0"); /* fcvt.w.s rm=5 */
    print_trap("fcvt.w.s rm=5", &mtrap);
    /* the assembler encodes exact conversions with rm=0 (rne) */
    __asm__ volatile("csrwi frm, 7\n\tfcvt.d.s ft1, ft0\n\tfcvt.d.w ft1, zero\n\tcsrwi frm, 0" ::: "ft1");
    print_trap("fcvt.d.s/fcvt.d.w (rm=0) frm=7", &mtrap);
    for (int m = 5; m < 8; m++) {
        trap_clear();
        __asm__ volatile("csrw frm, %0" :: "r"((uint64_t)m));
        __asm__ volatile(".insn r 0x53, 7, 0x21, ft1, ft0, f0" ::: "ft1"); /* fcvt.d.s dyn */
        print_trap("fcvt.d.s dyn bad frm", &mtrap);
        __asm__ volatile(".insn r 0x53, 7, 0x69, ft1, zero, x1" ::: "ft1"); /* fcvt.d.wu dyn */
        print_trap("fcvt.d.wu dyn bad frm", &mtrap);
        __asm__ volatile("fcvt.s.d ft1, ft0, dyn" ::: "ft1");
        print_trap("fcvt.s.d dyn bad frm", &mtrap);
    }
    __asm__ volatile("csrwi frm, 0");
    return 0;
}
