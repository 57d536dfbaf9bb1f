/* Shared body of fp_arith_s.c / fp_arith_d.c (define FSFX, FMVIN, FW first).
 * Every arithmetic op with a rounding mode (fadd fsub fmul fdiv fsqrt fmadd
 * fmsub fnmsub fnmadd) under all five static rounding modes (with frm set to
 * a different mode, to check that the static mode wins) and under dyn with
 * frm = 0..4; fflags after every op.  Results are read with fmv.x.d so that
 * the NaN-boxing of single-precision results is visible. */
#include "trap.h"

#define RMS(X, ...) X(rne, __VA_ARGS__) X(rtz, __VA_ARGS__) X(rdn, __VA_ARGS__) \
    X(rup, __VA_ARGS__) X(rmm, __VA_ARGS__) X(dyn, __VA_ARGS__)

struct res { uint64_t v, f; };

#define BIN(rm, op) static struct res op##_##rm(uint64_t a, uint64_t b, uint64_t c) { struct res r; (void)c; \
    __asm__ volatile(FMVIN " ft0, %2\n\t" FMVIN " ft1, %3\n\tcsrw fflags, zero\n\t" \
        #op "." FSFX " ft2, ft0, ft1, " #rm "\n\tfmv.x.d %0, ft2\n\tcsrr %1, fflags" \
        : "=r"(r.v), "=r"(r.f) : "r"(a), "r"(b) : "ft0", "ft1", "ft2"); return r; }
#define UN(rm, op) static struct res op##_##rm(uint64_t a, uint64_t b, uint64_t c) { struct res r; (void)b; (void)c; \
    __asm__ volatile(FMVIN " ft0, %2\n\tcsrw fflags, zero\n\t" \
        #op "." FSFX " ft2, ft0, " #rm "\n\tfmv.x.d %0, ft2\n\tcsrr %1, fflags" \
        : "=r"(r.v), "=r"(r.f) : "r"(a) : "ft0", "ft2"); return r; }
#define TER(rm, op) static struct res op##_##rm(uint64_t a, uint64_t b, uint64_t c) { struct res r; \
    __asm__ volatile(FMVIN " ft0, %2\n\t" FMVIN " ft1, %3\n\t" FMVIN " ft3, %4\n\tcsrw fflags, zero\n\t" \
        #op "." FSFX " ft2, ft0, ft1, ft3, " #rm "\n\tfmv.x.d %0, ft2\n\tcsrr %1, fflags" \
        : "=r"(r.v), "=r"(r.f) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3"); return r; }

RMS(BIN, fadd) RMS(BIN, fsub) RMS(BIN, fmul) RMS(BIN, fdiv) RMS(UN, fsqrt)
RMS(TER, fmadd) RMS(TER, fmsub) RMS(TER, fnmsub) RMS(TER, fnmadd)

typedef struct res (*ffn)(uint64_t, uint64_t, uint64_t);
#define FNS(op) { op##_rne, op##_rtz, op##_rdn, op##_rup, op##_rmm, op##_dyn }
static const struct { const char *name; int arity; ffn f[6]; } OPS[] = {
    { "fadd", 2, FNS(fadd) }, { "fsub", 2, FNS(fsub) }, { "fmul", 2, FNS(fmul) },
    { "fdiv", 2, FNS(fdiv) }, { "fsqrt", 1, FNS(fsqrt) }, { "fmadd", 3, FNS(fmadd) },
    { "fmsub", 3, FNS(fmsub) }, { "fnmsub", 3, FNS(fnmsub) }, { "fnmadd", 3, FNS(fnmadd) },
};
static const char *const RMN[] = { "rne", "rtz", "rdn", "rup", "rmm", "dyn" };

static void set_frm(uint64_t m) { __asm__ volatile("csrw frm, %0" :: "r"(m)); }

static void line(const char *op, const char *rm, int dynv, int i, int j, int k, int arity, struct res r)
{
    print(op); putchar_('.'); print(FSFX); putchar_(' '); print(rm);
    if (dynv >= 0)
        putchar_('0' + dynv);
    putchar_(' '); print_dec(i);
    if (arity > 1) { putchar_(' '); print_dec(j); }
    if (arity > 2) { putchar_(' '); print_dec(k); }
    putchar_(' '); print_hex64(r.v); putchar_(' '); print_hex(r.f, 2); putchar_('\n');
}

/* all rounding modes for one operand tuple */
static void all_rm(int op, int i, int j, int k, uint64_t a, uint64_t b, uint64_t c)
{
    for (int m = 0; m < 5; m++) {
        set_frm(m == 4 ? 0 : 4);
        line(OPS[op].name, RMN[m], -1, i, j, k, OPS[op].arity, OPS[op].f[m](a, b, c));
    }
    for (int m = 0; m < 5; m++) {
        set_frm(m);
        line(OPS[op].name, "dyn", m, i, j, k, OPS[op].arity, OPS[op].f[5](a, b, c));
    }
    set_frm(0);
}

/* illegal rounding modes: static 5/6 and dyn with frm 5..7 */
static int ill_hook(struct trap_frame *f)
{
    (void)f;
    return 0; /* default: record and skip */
}

static void bad_rm(void)
{
    m_hook = ill_hook;
    uint64_t one = FONE;
    __asm__ volatile(FMVIN " ft0, %0\n\t" FMVIN " ft1, %0" :: "r"(one) : "ft0", "ft1");
    trap_clear();
    __asm__ volatile(".insn r 0x53, 5, " FADD_F7 ", ft2, ft0, ft1" ::: "ft2");
    print_trap("fadd rm=5", &mtrap);
    __asm__ volatile(".insn r 0x53, 6, " FADD_F7 ", ft2, ft0, ft1" ::: "ft2");
    print_trap("fadd rm=6", &mtrap);
    __asm__ volatile(".insn r4 0x43, 5, " FMT_F2 ", ft2, ft0, ft1, ft0" ::: "ft2");
    print_trap("fmadd rm=5", &mtrap);
    for (int m = 5; m < 8; m++) {
        trap_clear();
        set_frm(m);
        pr("frm", csrr(frm));
        __asm__ volatile("fadd." FSFX " ft2, ft0, ft1, dyn" ::: "ft2");
        print_trap("fadd dyn", &mtrap);
        __asm__ volatile("fsqrt." FSFX " ft2, ft0, dyn" ::: "ft2");
        print_trap("fsqrt dyn", &mtrap);
        __asm__ volatile("fmadd." FSFX " ft2, ft0, ft1, ft0, dyn" ::: "ft2");
        print_trap("fmadd dyn", &mtrap);
        __asm__ volatile("fsgnj." FSFX " ft2, ft0, ft1" ::: "ft2");
        print_trap("fsgnj (no rm)", &mtrap);
        __asm__ volatile("fmin." FSFX " ft2, ft0, ft1" ::: "ft2");
        print_trap("fmin (no rm)", &mtrap);
        pr("fcsr", csrr(fcsr));
    }
    set_frm(0);
    m_hook = 0;
}

static void run_all(void)
{
    /* specials: all tuples under RNE (dyn, frm = 0) */
    for (unsigned op = 0; op < sizeof(OPS) / sizeof(OPS[0]); op++) {
        int ar = OPS[op].arity;
        unsigned n = ar == 3 ? NT : NS;
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < (ar > 1 ? n : 1); j++)
                for (unsigned k = 0; k < (ar > 2 ? n : 1); k++) {
                    uint64_t a = ar == 3 ? TV[i] : SV[i], b = ar == 3 ? TV[j] : SV[j];
                    line(OPS[op].name, "sp", -1, i, j, k, ar, OPS[op].f[5](a, b, TV[k]));
                }
    }
    /* rounding-sensitive tuples under every rounding mode */
    for (unsigned op = 0; op < sizeof(OPS) / sizeof(OPS[0]); op++)
        for (unsigned t = 0; t < NR; t++)
            all_rm(op, t, t, t, RV[t][0], RV[t][1], RV[t][2]);
    bad_rm();
}
