/* fence.i with self-modifying code: generated functions rewritten and
 * re-executed (32-bit and compressed encodings, halfword-wise patches,
 * patching the next instruction of the running code), and code written
 * through one virtual alias and executed through another (Sv39, S-mode). */
#define LEVELS 3
#define SATP_MODE 8UL
#include "vm.h"

static uint32_t code[64] __attribute__((aligned(64)));

static uint32_t addi_a0(int imm) { return ((uint32_t)(imm & 0xfff) << 20) | (10 << 7) | 0x13; } /* addi a0, x0, imm */
#define RET 0x00008067u

static uint64_t call(void *p) { return ((uint64_t (*)(void))p)(); }

extern char patch_site[];

static __attribute__((noinline)) uint64_t patched(void)
{
    uint64_t r;
    __asm__ volatile(".option push\n.option norvc\n"
                     "patch_site: li %0, 1\n"
                     ".option pop" : "=r"(r));
    return r;
}

static uint64_t s_write_exec(uint64_t n)
{
    volatile uint32_t *w = (volatile uint32_t *)(TBASE + 0x10);
    w[0] = addi_a0((int)n);
    w[1] = RET;
    __asm__ volatile("fence.i" ::: "memory");
    return call((void *)(TBASE + 0x1000 + 0x10));
}

int main(void)
{
    for (int i = 0; i < 5; i++) {
        code[0] = addi_a0(100 + i);
        code[1] = RET;
        __asm__ volatile("fence.i" ::: "memory");
        pr("gen", call(code));
    }
    /* compressed: c.li a0, imm ; c.jr ra */
    volatile uint16_t *h = (volatile uint16_t *)code;
    for (int i = 0; i < 3; i++) {
        h[0] = (uint16_t)(0x4501 | ((i + 5) << 2)); /* c.li a0, i+5 */
        h[1] = 0x8082;                               /* c.jr ra */
        __asm__ volatile("fence.i" ::: "memory");
        pr("gen rvc", call(code));
    }
    /* 32-bit instruction written as two halfwords, at a 2-byte offset */
    h[0] = 0x0001; /* c.nop */
    uint32_t ins = addi_a0(-7);
    h[1] = (uint16_t)ins;
    h[2] = (uint16_t)(ins >> 16);
    h[3] = 0x8082;
    __asm__ volatile("fence.i" ::: "memory");
    pr("gen halfwords", call(code));
    /* longer generated loop: sum 1..10 */
    code[0] = 0x00000513; /* li a0, 0 */
    code[1] = 0x00a00593; /* li a1, 10 */
    code[2] = 0x00b50533; /* add a0, a0, a1 */
    code[3] = 0xfff58593; /* addi a1, a1, -1 */
    code[4] = 0xfe059ce3; /* bnez a1, -8 */
    code[5] = RET;
    __asm__ volatile("fence.i" ::: "memory");
    pr("gen loop", call(code));
    code[1] = 0x01400593; /* li a1, 20 */
    __asm__ volatile("fence.i" ::: "memory");
    pr("gen loop patched", call(code));

    /* patch an instruction of compiled code, then run it */
    pr("patched before", patched());
    {
        volatile uint32_t *ps = (volatile uint32_t *)patch_site;
        uint32_t rd = *ps & (0x1fu << 7); /* keep the register the compiler chose */
        *ps = (addi_a0(42) & ~(0x1fu << 7)) | rd;
    }
    __asm__ volatile("fence.i" ::: "memory");
    pr("patched after", patched());

    /* write through a RW alias, execute through an X alias (S-mode, Sv39) */
    pmp_allow_all();
    s_trap_init();
    root = alloc_pt();
    map(0x80000000UL, 0x80000000UL, 2, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
    map(TBASE, DATA, 0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    map(TBASE + 0x1000, DATA, 0, PTE_V | PTE_X | PTE_A);
    csrw(satp, 8UL << 60 | ((uint64_t)root >> 12));
    __asm__ volatile("sfence.vma");
    for (int i = 0; i < 3; i++)
        pr("alias gen", run_mode(PRV_S, s_write_exec, 7 + i));
    csrw(satp, 0);
    __asm__ volatile("sfence.vma");
    print_trap("traps", &mtrap);
    return 0;
}
