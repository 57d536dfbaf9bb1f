/* RV64I loads/stores (all widths, sign/zero extension, offsets), branches
 * (every condition over edge values), JAL/JALR link values and JALR LSB
 * clearing, rd == rs1 for JALR. */
#include "trap.h"

static volatile uint64_t buf[8] __attribute__((aligned(64)));

#define LD(op, off) ({ uint64_t r; __asm__ volatile(#op " %0, " #off "(%1)" : "=r"(r) : "r"(p) : "memory"); \
    pr(#op " " #off, r); })
#define ST(op, off, v) __asm__ volatile(#op " %0, " #off "(%1)" :: "r"((uint64_t)(v)), "r"(p) : "memory")

static const uint64_t BV[] = { 0, 1, 0xffffffffffffffffUL, 0x7fffffffffffffffUL,
    0x8000000000000000UL, 0x00000000ffffffffUL, 0x80000000UL, 2 };
#define NB (sizeof(BV) / sizeof(BV[0]))

#define BR(op) static int br_##op(uint64_t a, uint64_t b) { int r; \
    __asm__ volatile("li %0, 1\n\t" #op " %1, %2, 1f\n\tli %0, 0\n1:" : "=&r"(r) : "r"(a), "r"(b)); return r; }
BR(beq) BR(bne) BR(blt) BR(bge) BR(bltu) BR(bgeu)
static int (*const BRF[])(uint64_t, uint64_t) = { br_beq, br_bne, br_blt, br_bge, br_bltu, br_bgeu };
static const char *const BRN[] = { "beq", "bne", "blt", "bge", "bltu", "bgeu" };

extern char jal_ret1[], jalr_ret1[], jalr_tgt[], jalr_ret2[], back_tgt[];

int main(void)
{
    volatile uint8_t *p = (volatile uint8_t *)buf;
    for (int i = 0; i < 64; i++)
        p[i] = (uint8_t)(0x80 + i * 7);
    LD(lb, 0); LD(lb, 1); LD(lb, 63); LD(lbu, 0); LD(lbu, 5); LD(lbu, 63);
    LD(lh, 0); LD(lh, 2); LD(lh, 62); LD(lhu, 0); LD(lhu, 6); LD(lhu, 62);
    LD(lw, 0); LD(lw, 4); LD(lw, 60); LD(lwu, 0); LD(lwu, 8); LD(lwu, 60);
    LD(ld, 0); LD(ld, 8); LD(ld, 56);
    p += 32;
    LD(lb, -1); LD(lbu, -32); LD(lh, -2); LD(lhu, -30); LD(lw, -4); LD(lwu, -28); LD(ld, -8);
    ST(sb, 0, 0x1122334455667788UL); ST(sb, -1, 0xff); ST(sh, 2, 0xaabbccddUL);
    ST(sw, 4, 0xdeadbeefcafef00dUL); ST(sd, 8, 0x0123456789abcdefUL); ST(sd, -32, 0xfedcba9876543210UL);
    ST(sh, -6, 0x8001); ST(sw, 16, 0x80000000UL);
    for (int i = 0; i < 8; i++)
        pr("mem", buf[i]);
    /* store then load of different widths (byte lanes) */
    buf[0] = 0;
    p = (volatile uint8_t *)buf;
    ST(sb, 7, 0x80); LD(ld, 0); LD(lw, 4); LD(lwu, 4); LD(lh, 6);

    for (int k = 0; k < 6; k++)
        for (unsigned i = 0; i < NB; i++) {
            print(BRN[k]);
            putchar_(' ');
            print_dec(i);
            print(" ");
            for (unsigned j = 0; j < NB; j++)
                putchar_('0' + BRF[k](BV[i], BV[j]));
            putchar_('\n');
        }

    {
        uint64_t l1, l2, l3, t1, t2;
        __asm__ volatile(
            ".option push\n.option norvc\n"
            "jal %0, 1f\n"
            "jal_ret1: j 2f\n"
            "1: mv %3, %0\n\tjalr x0, 0(%0)\n"
            "2: la t0, jalr_tgt\n"
            "addi t0, t0, 1\n"          /* odd target: bit 0 must be cleared */
            "jalr %1, 0(t0)\n"
            "jalr_ret1: j 3f\n"
            "jalr_tgt: mv %4, %1\n\tjalr x0, %1, 0\n"
            "3: la t1, 4f\n"
            "addi t1, t1, -8\n"
            "li %2, 0\n"
            "jalr t1, 8(t1)\n"          /* rd == rs1: target uses old value */
            "jalr_ret2: j 5f\n"
            "4: mv %2, t1\n"
            "5:\n"
            ".option pop\n"
            : "=&r"(l1), "=&r"(l2), "=&r"(l3), "=&r"(t1), "=&r"(t2) :: "t0", "t1", "memory");
        pr("jal link", l1 - (uint64_t)jal_ret1);
        pr("jalr link", l2 - (uint64_t)jalr_ret1);
        pr("jalr rd=rs1 link", l3 - (uint64_t)jalr_ret2);
        pr("jal link abs", l1);
    }
    {
        /* backward branches and a loop */
        uint64_t n = 0, i = 10;
        __asm__ volatile("1: addi %0, %0, 3\n\taddi %1, %1, -1\n\tbnez %1, 1b" : "+r"(n), "+r"(i));
        pr("loop", n);
    }
    return 0;
}
