/* RV64I integer computational instructions: every R/I-type ALU op incl. the
 * W variants, LUI/AUIPC, writes to x0; edge values for shifts/compares. */
#include "trap.h"

static const uint64_t V[] = {
    0, 1, 2, 0xffffffffffffffffUL, 0x7fffffffffffffffUL, 0x8000000000000000UL,
    0x0000000080000000UL, 0x00000000ffffffffUL, 0xffffffff7fffffffUL,
    0x123456789abcdef0UL, 0x3f, 0x20, 0x41, 0xfedcba9876543210UL,
};
#define NV (sizeof(V) / sizeof(V[0]))

#define RR(op) \
    static uint64_t rr_##op(uint64_t a, uint64_t b) { uint64_t r; \
        __asm__ volatile(#op " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
#define RR_LIST(X) X(add) X(sub) X(sll) X(slt) X(sltu) X(xor) X(srl) X(sra) X(or) X(and) \
    X(addw) X(subw) X(sllw) X(srlw) X(sraw)
RR_LIST(RR)

typedef uint64_t (*rr_fn)(uint64_t, uint64_t);
#define RR_ENT(op) { #op, rr_##op },
static const struct { const char *name; rr_fn fn; } RRT[] = { RR_LIST(RR_ENT) };

/* immediate forms: one function per (op, imm) */
#define RI(op, tag, imm) \
    static uint64_t ri_##op##_##tag(uint64_t a) { uint64_t r; \
        __asm__ volatile(#op " %0, %1, " #imm : "=r"(r) : "r"(a)); return r; }
#define IMM_LIST(X, op) X(op, z, 0) X(op, p1, 1) X(op, m1, -1) X(op, max, 2047) \
    X(op, min, -2048) X(op, a, 0x555) X(op, b, -0x556) X(op, c, 31)
#define SH_LIST(X, op) X(op, z, 0) X(op, p1, 1) X(op, c, 31) X(op, d, 32) X(op, e, 63) X(op, f, 17)
#define SHW_LIST(X, op) X(op, z, 0) X(op, p1, 1) X(op, c, 31) X(op, f, 17) X(op, g, 16)

IMM_LIST(RI, addi) IMM_LIST(RI, slti) IMM_LIST(RI, sltiu) IMM_LIST(RI, xori)
IMM_LIST(RI, ori) IMM_LIST(RI, andi) IMM_LIST(RI, addiw)
SH_LIST(RI, slli) SH_LIST(RI, srli) SH_LIST(RI, srai)
SHW_LIST(RI, slliw) SHW_LIST(RI, srliw) SHW_LIST(RI, sraiw)

typedef uint64_t (*ri_fn)(uint64_t);
#define RI_ENT(op, tag, imm) { #op " " #imm, ri_##op##_##tag },
static const struct { const char *name; ri_fn fn; } RIT[] = {
    IMM_LIST(RI_ENT, addi) IMM_LIST(RI_ENT, slti) IMM_LIST(RI_ENT, sltiu)
    IMM_LIST(RI_ENT, xori) IMM_LIST(RI_ENT, ori) IMM_LIST(RI_ENT, andi)
    IMM_LIST(RI_ENT, addiw)
    SH_LIST(RI_ENT, slli) SH_LIST(RI_ENT, srli) SH_LIST(RI_ENT, srai)
    SHW_LIST(RI_ENT, slliw) SHW_LIST(RI_ENT, srliw) SHW_LIST(RI_ENT, sraiw)
};

#define LUI(imm) ({ uint64_t r; __asm__ volatile("lui %0, " #imm : "=r"(r)); pr("lui " #imm, r); })

static void line3(const char *n, unsigned i, unsigned j, uint64_t r)
{
    print(n); putchar_(' '); print_dec(i); putchar_(' '); print_dec(j); putchar_(' ');
    print_hex64(r); putchar_('\n');
}

extern char auipc_lbl[];

int main(void)
{
    for (unsigned k = 0; k < sizeof(RRT) / sizeof(RRT[0]); k++)
        for (unsigned i = 0; i < NV; i++)
            for (unsigned j = 0; j < NV; j++)
                line3(RRT[k].name, i, j, RRT[k].fn(V[i], V[j]));
    for (unsigned k = 0; k < sizeof(RIT) / sizeof(RIT[0]); k++)
        for (unsigned i = 0; i < NV; i++) {
            print(RIT[k].name); putchar_(' '); print_dec(i); putchar_(' ');
            print_hex64(RIT[k].fn(V[i])); putchar_('\n');
        }
    LUI(0); LUI(1); LUI(0x7ffff); LUI(0x80000); LUI(0xfffff); LUI(0x12345);
    {
        uint64_t a, b, c;
        __asm__ volatile(".option push\n.option norvc\n"
                         "auipc_lbl: auipc %0, 0\n\tauipc %1, 1\n\tauipc %2, 0xfffff\n"
                         ".option pop"
                         : "=r"(a), "=r"(b), "=r"(c));
        pr("auipc 0", a - (uint64_t)auipc_lbl);
        pr("auipc 1", b - (uint64_t)auipc_lbl);
        pr("auipc 0xfffff", c - (uint64_t)auipc_lbl);
        pr("auipc abs", a);
    }
    {
        uint64_t r;
        __asm__ volatile("li t0, 5\n\tadd x0, t0, t0\n\taddi x0, x0, 7\n\tlui x0, 5\n\tmv %0, x0"
                         : "=r"(r) :: "t0");
        pr("x0", r);
        /* hint encodings that must execute as no-ops */
        __asm__ volatile("slli x0, x0, 3\n\tslti x0, t0, 1\n\t.word 0x0100000f /* pause */\n\tfence.tso\n\t"
                         "fence\n\tfence r, r\n\tfence w, rw" ::: "memory");
        puts("hints ok");
    }
    return 0;
}
