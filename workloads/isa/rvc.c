/* RVC: every RV64C instruction written with explicit c.* mnemonics
 * (quadrants 0-2, incl. FP loads/stores, sp-relative forms, jumps/branches
 * with link values, c.ebreak). */
#include "trap.h"

static uint64_t area[16] __attribute__((aligned(64)));

#define R1(name, body) do { uint64_t r_; \
    __asm__ volatile(".option push\n.option rvc\n" body "\n\tmv %0, a0\n.option pop" \
                     : "=r"(r_) : "r"(area) : "a0", "a1", "a2", "a3", "a4", "a5", "s0", "s1", "t0", "t1", "fa0", "fa1", "memory"); \
    pr(name, r_); } while (0)

extern char cj_from[], cjalr_ret[], cjr_t[];

int main(void)
{
    for (int i = 0; i < 16; i++)
        area[i] = 0x0101010101010101UL * (uint64_t)(i + 0x80) ^ 0x8000000080008000UL;
    /* quadrant 0 */
    R1("c.addi4spn", "mv t0, sp\n\tli sp, 0x1000\n\tc.addi4spn a0, sp, 1020\n\tmv sp, t0");
    R1("c.addi4spn 4", "mv t0, sp\n\tli sp, -64\n\tc.addi4spn a0, sp, 4\n\tmv sp, t0");
    R1("c.lw", "mv a1, %1\n\tc.lw a0, 8(a1)");
    R1("c.lw max", "mv a1, %1\n\tc.lw a0, 124(a1)");
    R1("c.ld", "mv a1, %1\n\tc.ld a0, 16(a1)");
    R1("c.ld max", "mv a1, %1\n\tc.ld a0, 120(a1)");
    R1("c.fld", "mv a1, %1\n\tc.fld fa0, 24(a1)\n\tfmv.x.d a0, fa0");
    R1("c.sw", "mv a1, %1\n\tli a2, -2\n\tc.sw a2, 4(a1)\n\tld a0, 0(a1)");
    R1("c.sd", "mv a1, %1\n\tli a2, 0x1234\n\tc.sd a2, 32(a1)\n\tld a0, 32(a1)");
    R1("c.fsd", "mv a1, %1\n\tli a2, -3\n\tfmv.d.x fa1, a2\n\tc.fsd fa1, 40(a1)\n\tld a0, 40(a1)");
    /* quadrant 1 */
    R1("c.nop", "li a0, 7\n\tc.nop");
    R1("c.addi", "li a0, 7\n\tc.addi a0, -32");
    R1("c.addi 31", "li a0, -1\n\tc.addi a0, 31");
    R1("c.addiw", "li a0, 0x7fffffff\n\tc.addiw a0, 1");
    R1("c.addiw 0 (sext.w)", "li a0, 0x1ffffffff\n\tc.addiw a0, 0");
    R1("c.li", "c.li a0, -32");
    R1("c.li 31", "c.li a0, 31");
    R1("c.addi16sp", "mv t0, sp\n\tli sp, 0x10000\n\tc.addi16sp sp, -512\n\tmv a0, sp\n\tmv sp, t0");
    R1("c.addi16sp max", "mv t0, sp\n\tli sp, 0x10000\n\tc.addi16sp sp, 496\n\tmv a0, sp\n\tmv sp, t0");
    R1("c.lui", "c.lui a0, 0x1f");
    R1("c.lui neg", "c.lui a0, 0xfffe0");
    R1("c.lui 1", "c.lui a0, 1");
    R1("c.srli", "li a0, -1\n\tc.srli a0, 1");
    R1("c.srli 63", "li a0, -1\n\tc.srli a0, 63");
    R1("c.srli 32", "li a0, -16\n\tc.srli a0, 32");
    R1("c.srai", "li a0, -256\n\tc.srai a0, 4");
    R1("c.srai 63", "li a0, 0x8000000000000000\n\tc.srai a0, 63");
    R1("c.andi", "li a0, -1\n\tc.andi a0, -17");
    R1("c.andi 0", "li a0, -1\n\tc.andi a0, 0");
    R1("c.sub", "li a0, 5\n\tli a1, 7\n\tc.sub a0, a1");
    R1("c.xor", "li a0, 0xff0\n\tli a1, 0x0ff\n\tc.xor a0, a1");
    R1("c.or", "li a0, 0xf00\n\tli a1, 0x0f0\n\tc.or a0, a1");
    R1("c.and", "li a0, 0xff0\n\tli a1, 0x0ff\n\tc.and a0, a1");
    R1("c.subw", "li a0, 0x80000000\n\tli a1, 1\n\tc.subw a0, a1");
    R1("c.addw", "li a0, 0x7fffffff\n\tli a1, 1\n\tc.addw a0, a1");
    R1("c.addw sext", "li a0, 0x100000000\n\tli a1, -1\n\tc.addw a0, a1");
    R1("c.j", "li a0, 1\n\tc.j 1f\n\tli a0, 2\n1:");
    R1("c.j back", "li a0, 0\n\tc.j 2f\n1:\tc.addi a0, 1\n\tc.j 3f\n2:\tc.addi a0, 2\n\tc.j 1b\n3:");
    R1("c.beqz taken", "li a0, 0\n\tli s0, 0\n\tc.beqz s0, 1f\n\tli a0, 2\n1:");
    R1("c.beqz not", "li a0, 0\n\tli s0, 1\n\tc.beqz s0, 1f\n\tli a0, 2\n1:");
    R1("c.bnez taken", "li a0, 0\n\tli s1, -1\n\tc.bnez s1, 1f\n\tli a0, 2\n1:");
    R1("c.bnez not", "li a0, 0\n\tli s1, 0\n\tc.bnez s1, 1f\n\tli a0, 2\n1:");
    /* quadrant 2 */
    R1("c.slli", "li a0, 3\n\tc.slli a0, 63");
    R1("c.slli 1", "li a0, -3\n\tc.slli a0, 1");
    R1("c.slli 32", "li a0, 0x12345\n\tc.slli a0, 32");
    R1("c.lwsp", "mv t0, sp\n\tmv sp, %1\n\tc.lwsp a0, 12(sp)\n\tmv sp, t0");
    R1("c.lwsp max", "mv t0, sp\n\tmv sp, %1\n\taddi sp, sp, -128\n\tc.lwsp a0, 252(sp)\n\tmv sp, t0");
    R1("c.ldsp", "mv t0, sp\n\tmv sp, %1\n\tc.ldsp a0, 48(sp)\n\tmv sp, t0");
    R1("c.ldsp max", "mv t0, sp\n\tmv sp, %1\n\taddi sp, sp, -384\n\tc.ldsp a0, 504(sp)\n\tmv sp, t0");
    R1("c.fldsp", "mv t0, sp\n\tmv sp, %1\n\tc.fldsp fa0, 56(sp)\n\tfmv.x.d a0, fa0\n\tmv sp, t0");
    R1("c.swsp", "mv t0, sp\n\tmv sp, %1\n\tli a1, 0x8badf00d\n\tc.swsp a1, 64(sp)\n\tmv sp, t0\n\tld a0, 64(%1)");
    R1("c.sdsp", "mv t0, sp\n\tmv sp, %1\n\tli a1, -77\n\tc.sdsp a1, 72(sp)\n\tmv sp, t0\n\tld a0, 72(%1)");
    R1("c.fsdsp", "mv t0, sp\n\tmv sp, %1\n\tli a1, 0x400921fb54442d18\n\tfmv.d.x fa1, a1\n\t"
                  "c.fsdsp fa1, 80(sp)\n\tmv sp, t0\n\tld a0, 80(%1)");
    R1("c.mv", "li a1, 0x55\n\tc.mv a0, a1");
    R1("c.add", "li a0, 0x7fffffffffffffff\n\tli a1, 2\n\tc.add a0, a1");
    R1("c.jr", "la a1, 1f\n\tli a0, 3\n\tc.jr a1\n\tli a0, 4\n1:");
    R1("c.jalr link", "la a1, 1f\n\tc.jalr a1\n2:\tj 3f\n1:\tla a2, 2b\n\tsub a0, ra, a2\n\tc.jr ra\n3:");
    /* c.ebreak: M-mode handler skips the 2-byte instruction */
    trap_clear();
    {
        uint64_t at;
        __asm__ volatile(".option push\n.option rvc\nla %0, 1f\n1:\tc.ebreak\n.option pop" : "=r"(at) :: "memory");
        print_trap("c.ebreak", &mtrap);
        pr("c.ebreak epc-at", mtrap.epc - at);
        __asm__ volatile(".option push\n.option norvc\nla %0, 1f\n1:\tebreak\n.option pop" : "=r"(at) :: "memory");
        print_trap("ebreak", &mtrap);
        pr("ebreak epc-at", mtrap.epc - at);
    }
    /* mixing 16/32-bit instructions at 2-byte alignment */
    R1("mixed", "li a0, 0\n\tc.addi a0, 1\n\t.option norvc\n\taddi a0, a0, 2\n\t.option rvc\n\tc.addi a0, 4\n\t"
                ".option norvc\n\taddi a0, a0, 8\n\t.option rvc\n\tc.nop");
    return 0;
}
