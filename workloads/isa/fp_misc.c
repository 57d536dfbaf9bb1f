/* FP non-arithmetic ops (S and D): fsgnj/fsgnjn/fsgnjx, fmin/fmax (signed
 * zeros, quiet/signalling NaNs), feq/flt/fle (quiet vs signalling compares),
 * fclass (all ten classes), flw/fsw/fld/fsd (NaN-boxing on flw, raw fsw),
 * fcsr/frm/fflags aliasing and accrual. */
#include "trap.h"

static const uint64_t SV[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x00000001, 0x807fffff, 0x7f7fffff,
    0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0xff800010, 0x00800000,
};
static const uint64_t DV[] = {
    0x0000000000000000UL, 0x8000000000000000UL, 0x3ff0000000000000UL, 0xbff0000000000000UL,
    0x0000000000000001UL, 0x800fffffffffffffUL, 0x7fefffffffffffffUL, 0x7ff0000000000000UL,
    0xfff0000000000000UL, 0x7ff8000000000000UL, 0xfff8000000000001UL, 0x7ff0000000000001UL,
    0xfff0000000000010UL, 0x0010000000000000UL,
};
#define N 14

#define OP2(name, insn, in) static uint64_t name(uint64_t a, uint64_t b, uint64_t *f) { uint64_t r, fl; \
    __asm__ volatile(in " ft0, %2\n\t" in " ft1, %3\n\tcsrw fflags, zero\n\t" insn " ft2, ft0, ft1\n\t" \
        "fmv.x.d %0, ft2\n\tcsrr %1, fflags" : "=r"(r), "=r"(fl) : "r"(a), "r"(b) : "ft0", "ft1", "ft2"); \
    *f = fl; return r; }
#define CMP(name, insn, in) static uint64_t name(uint64_t a, uint64_t b, uint64_t *f) { uint64_t r, fl; \
    __asm__ volatile(in " ft0, %2\n\t" in " ft1, %3\n\tcsrw fflags, zero\n\t" insn " %0, ft0, ft1\n\t" \
        "csrr %1, fflags" : "=r"(r), "=r"(fl) : "r"(a), "r"(b) : "ft0", "ft1"); *f = fl; return r; }

OP2(sgnj_s, "fsgnj.s", "fmv.w.x") OP2(sgnjn_s, "fsgnjn.s", "fmv.w.x") OP2(sgnjx_s, "fsgnjx.s", "fmv.w.x")
OP2(min_s, "fmin.s", "fmv.w.x") OP2(max_s, "fmax.s", "fmv.w.x")
CMP(eq_s, "feq.s", "fmv.w.x") CMP(lt_s, "flt.s", "fmv.w.x") CMP(le_s, "fle.s", "fmv.w.x")
OP2(sgnj_d, "fsgnj.d", "fmv.d.x") OP2(sgnjn_d, "fsgnjn.d", "fmv.d.x") OP2(sgnjx_d, "fsgnjx.d", "fmv.d.x")
OP2(min_d, "fmin.d", "fmv.d.x") OP2(max_d, "fmax.d", "fmv.d.x")
CMP(eq_d, "feq.d", "fmv.d.x") CMP(lt_d, "flt.d", "fmv.d.x") CMP(le_d, "fle.d", "fmv.d.x")

typedef uint64_t (*fn2)(uint64_t, uint64_t, uint64_t *);
static const struct { const char *n; fn2 f; int d; } T[] = {
    { "fsgnj.s", sgnj_s, 0 }, { "fsgnjn.s", sgnjn_s, 0 }, { "fsgnjx.s", sgnjx_s, 0 },
    { "fmin.s", min_s, 0 }, { "fmax.s", max_s, 0 }, { "feq.s", eq_s, 0 }, { "flt.s", lt_s, 0 },
    { "fle.s", le_s, 0 },
    { "fsgnj.d", sgnj_d, 1 }, { "fsgnjn.d", sgnjn_d, 1 }, { "fsgnjx.d", sgnjx_d, 1 },
    { "fmin.d", min_d, 1 }, { "fmax.d", max_d, 1 }, { "feq.d", eq_d, 1 }, { "flt.d", lt_d, 1 },
    { "fle.d", le_d, 1 },
};

static volatile uint64_t mem[4] __attribute__((aligned(16)));

int main(void)
{
    for (unsigned t = 0; t < sizeof(T) / sizeof(T[0]); t++)
        for (int i = 0; i < N; i++) {
            print(T[t].n); putchar_(' '); print_dec(i);
            for (int j = 0; j < N; j++) {
                uint64_t f, r = T[t].f(T[t].d ? DV[i] : SV[i], T[t].d ? DV[j] : SV[j], &f);
                putchar_(' ');
                if (T[t].n[1] == 'e' || T[t].n[1] == 'l')
                    print_hex(r, 1);
                else
                    print_hex(T[t].d ? r : (r & 0xffffffffUL) | ((r >> 32) == 0xffffffffUL ? 0 : 1UL << 63), T[t].d ? 16 : 8);
                putchar_('/');
                print_hex(f, 2);
            }
            putchar_('\n');
        }
    /* fsgnj with a non-boxed operand: canonical NaN is used for it */
    {
        uint64_t r;
        __asm__ volatile("li t0, 0x3f800000\n\tfmv.d.x ft0, t0\n\tli t0, 0xbf800000\n\tfmv.w.x ft1, t0\n\t"
                         "fsgnjn.s ft2, ft1, ft0\n\tfmv.x.d %0, ft2" : "=r"(r) :: "t0", "ft0", "ft1", "ft2");
        pr("fsgnjn.s unboxed rs2", r);
        __asm__ volatile("li t0, 0x3f800000\n\tfmv.d.x ft0, t0\n\tli t0, 0xbf800000\n\tfmv.w.x ft1, t0\n\t"
                         "fsgnj.s ft2, ft0, ft1\n\tfmv.x.d %0, ft2" : "=r"(r) :: "t0", "ft0", "ft1", "ft2");
        pr("fsgnj.s unboxed rs1", r);
    }
    /* fclass */
    for (int i = 0; i < N; i++) {
        uint64_t rs, rd;
        __asm__ volatile("fmv.w.x ft0, %2\n\tfclass.s %0, ft0\n\tfmv.d.x ft1, %3\n\tfclass.d %1, ft1"
                         : "=r"(rs), "=r"(rd) : "r"(SV[i]), "r"(DV[i]) : "ft0", "ft1");
        print("fclass "); print_dec(i); putchar_(' '); print_hex(rs, 3); putchar_(' ');
        print_hex(rd, 3); putchar_('\n');
    }
    /* loads and stores */
    mem[0] = 0x123456787f800001UL;
    mem[1] = 0xfff0000000000001UL;
    {
        uint64_t a, b, c, d;
        __asm__ volatile("flw ft0, 0(%4)\n\tfmv.x.d %0, ft0\n\tflw ft1, 4(%4)\n\tfmv.x.d %1, ft1\n\t"
                         "fld ft2, 8(%4)\n\tfmv.x.d %2, ft2\n\tfsw ft2, 16(%4)\n\tfsd ft0, 24(%4)\n\t"
                         "fsw ft0, 20(%4)\n\tld %3, 16(%4)"
                         : "=r"(a), "=r"(b), "=r"(c), "=r"(d) : "r"(mem) : "ft0", "ft1", "ft2", "memory");
        pr("flw", a); pr("flw+4", b); pr("fld", c); pr("fsw/fsw", d); pr("fsd", mem[3]);
        __asm__ volatile("flw ft0, -4(%1)\n\tfmv.x.d %0, ft0" : "=r"(a) : "r"(&mem[1]) : "ft0");
        pr("flw -4", a);
        __asm__ volatile("fsd ft0, 8(%0)" :: "r"(&mem[1]) : "memory");
        pr("fsd boxed", mem[2]);
    }
    /* fcsr / frm / fflags */
    {
        __asm__ volatile("csrw fcsr, %0" :: "r"(0xffffffffUL));
        pr("fcsr after write ~0", csrr(fcsr));
        pr("frm", csrr(frm));
        pr("fflags", csrr(fflags));
        __asm__ volatile("csrw frm, %0" :: "r"(0x1a));
        pr("fcsr after frm=0x1a", csrr(fcsr));
        __asm__ volatile("csrw fflags, %0" :: "r"(0x3a));
        pr("fcsr after fflags=0x3a", csrr(fcsr));
        uint64_t old;
        __asm__ volatile("csrrci %0, fflags, 0x1a" : "=r"(old));
        pr("csrrci old", old);
        pr("fcsr", csrr(fcsr));
        __asm__ volatile("csrrsi %0, frm, 0x3" : "=r"(old));
        pr("csrrsi frm old", old);
        pr("fcsr", csrr(fcsr));
        __asm__ volatile("csrw fcsr, zero");
        /* accrual: flags are OR-ed, never cleared by an op */
        __asm__ volatile("li t0, 0x3f800000\n\tfmv.w.x ft0, t0\n\tfmv.w.x ft1, zero\n\t"
                         "fdiv.s ft2, ft0, ft1\n\tfsqrt.s ft2, ft1\n\tli t0, 0xbf800000\n\t"
                         "fmv.w.x ft1, t0\n\tfsqrt.s ft2, ft1\n\tfadd.s ft2, ft0, ft0" ::: "t0", "ft0", "ft1", "ft2");
        pr("accrued", csrr(fflags));
        __asm__ volatile("csrw fcsr, zero");
    }
    return 0;
}
