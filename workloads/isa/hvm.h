/* Two-stage translation set-up shared by h_vm.c and h_hlv.c (after hyp.h).
 *
 * G-stage (hgatp, Sv39x4; Sv48x4/Sv57x4 roots with the same lower levels):
 *   GPA 0x80000000 gigapage        -> SPA 0x80000000 (the image; U RWX A D)
 *   GPA 0x1ff_c000_0000 gigapage   -> SPA 0x80000000 (root index 2047: the x4 bits)
 *   GPA GBASE + i*4K (gpte(i))     -> SPA DATA + i*4K, flags per test
 *   GPA PT0_GPA (gpte(PT0_SLOT))   -> SPA PT0_SPA: the VS level-0 table (U RW, A/D clear)
 * VS-stage (vsatp, Sv39; Sv48/Sv57 roots above it):
 *   VA 0x80000000 gigapage -> GPA 0x80000000 (S RWX A D: VS-mode code and data)
 *   VA ALIAS gigapage      -> GPA 0x80000000 (U RWX A D: VU-mode code, run through run_vu)
 *   VA TBASE + i*4K (vpte(i), in the table at PT0_GPA) -> per test
 * Test pages hold 0x00008067 (ret) in every word, so they can be executed. */
#ifndef SALUS_HVM_H
#define SALUS_HVM_H
#include "hyp.h"

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_G (1UL << 5)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
#define RWX (PTE_R | PTE_W | PTE_X)
#define AD (PTE_A | PTE_D)

#define DATA     0x80400000UL
#define PT0_SPA  0x80480000UL
#define GBASE    0x100000000UL
#define PT0_GPA  0x100100000UL
#define PT0_SLOT 0x100
#define TBASE    0x10000000UL
#define ALIAS    0x40000000UL
#define AOFF     ((int64_t)(ALIAS - 0x80000000UL))
#define HIGH_GPA 0x1ffc0000000UL

#define PTE(pa, fl) ((((uint64_t)(pa)) >> 12) << 10 | (fl))

static uint64_t groot[2048] __attribute__((aligned(16384)));
static uint64_t groot48[2048] __attribute__((aligned(16384)));
static uint64_t groot57[2048] __attribute__((aligned(16384)));
static uint64_t gtab[4][512] __attribute__((aligned(4096)));
static uint64_t vtab[4][512] __attribute__((aligned(4096)));
#define g2 gtab[0]   /* Sv48x4/57x4 level 2 (a copy of the Sv39x4 root's first entries) */
#define g1 gtab[2]   /* GPA GBASE..: level 1 */
#define g0 gtab[3]   /* level 0 */
#define vroot vtab[0]
#define vroot48 vtab[1]
#define vroot57 vtab[2]
#define v1 vtab[3]
#define v0 ((volatile uint64_t *)PT0_SPA)

static volatile uint64_t *gpte(int i) { return &g0[i]; }
static volatile uint64_t *vpte(int i) { return &v0[i]; }
static uint64_t tva(int i) { return TBASE + 0x1000UL * i + 0x10; }
static uint64_t gpa(int i) { return GBASE + 0x1000UL * i; }

static uint64_t hgatp_sv39x4(void) { return (8UL << 60) | ((uint64_t)groot >> 12); }
static uint64_t vsatp_sv39(void) { return (8UL << 60) | ((uint64_t)vroot >> 12); }

static void hfence_all(void)
{
    __asm__ volatile(H_ASM("hfence.gvma\nhfence.vvma") ::: "memory");
}

/* VS page i: VA tva(i) -> GPA gpa(i) (or ga) with VS flags; G page i: gpa(i) -> DATA + i*4K with G flags */
static void vmap(int i, uint64_t ga, uint64_t fl) { *vpte(i) = PTE(ga, fl); hfence_all(); }
static void gmap(int i, uint64_t fl) { *gpte(i) = PTE(DATA + 0x1000UL * i, fl); hfence_all(); }
static void tpage(int i, uint64_t vfl, uint64_t gfl) { *vpte(i) = PTE(gpa(i), vfl); gmap(i, gfl); }

static void hvm_init(void)
{
    for (uint64_t p = DATA; p < DATA + 0x40000; p += 8)
        *(volatile uint64_t *)p = 0x0000806700008067UL;
    for (int i = 0; i < 512; i++)
        v0[i] = 0;
    __asm__ volatile("fence.i");
    uint64_t G = PTE_V | RWX | PTE_U | AD;
    groot[2] = PTE(0x80000000UL, G);
    groot[4] = PTE(g1, PTE_V);
    groot[2047] = PTE(0x80000000UL, G);
    g1[0] = PTE(g0, PTE_V);
    g0[PT0_SLOT] = PTE(PT0_SPA, PTE_V | PTE_R | PTE_W | PTE_U);
    /* Sv48x4: level 3 (root, 2048 entries) -> level 2 = the Sv39x4 root's first 512 entries */
    for (int i = 0; i < 512; i++)
        g2[i] = groot[i];
    groot48[0] = PTE(g2, PTE_V);
    groot48[1024] = PTE(g2, PTE_V);  /* GPA bit 49 (an x4 bit of Sv48x4): the same */
    /* Sv57x4: root -> the Sv48x4 root's first 512 entries as level 3 */
    groot57[0] = PTE(groot48, PTE_V);
    groot57[2047] = PTE(groot48, PTE_V); /* GPA bits 58:48 all ones */
    /* VS-stage */
    vroot[2] = PTE(0x80000000UL, PTE_V | RWX | AD | PTE_G);
    vroot[1] = PTE(0x80000000UL, PTE_V | RWX | PTE_U | AD);
    vroot[0] = PTE(v1, PTE_V);
    v1[TBASE >> 21] = PTE(PT0_GPA, PTE_V);
    vroot48[0] = PTE(vroot, PTE_V);
    vroot57[0] = PTE(vroot48, PTE_V);
    csrw(hgatp, hgatp_sv39x4());
    csrw(vsatp, vsatp_sv39());
    hfence_all();
}

/* Accesses used as probes (no compressed forms: the expected tinst is known). */
uint64_t t_ld(uint64_t a), t_sw(uint64_t a), t_ex(uint64_t a);
extern uint32_t t_ld_insn[], t_sw_insn[];
__asm__(".text\n.option push\n.option norvc\n"
        ".globl t_ld, t_sw, t_ex, t_ld_insn, t_sw_insn\n"
        "t_ld:\nt_ld_insn: ld a0, 0(a0)\nret\n"
        "t_sw:\nli t0, 0x8067\nt_sw_insn: sw t0, 0(a0)\nli a0, 0\nret\n"
        "t_ex:\nmv t1, ra\njalr a0\nmv ra, t1\nret\n"
        ".option pop\n");

/* The transformed instruction of a trapping load/store/AMO/HLV/HSV (offset 0). */
static uint64_t xform(uint32_t raw)
{
    switch (raw & 0x7f) {
    case 0x03: case 0x07: return raw & 0x7fff;
    case 0x23: case 0x27: return raw & 0x01f0707f;
    case 0x2f: case 0x73: return raw & ~(31u << 15);
    }
    return 0;
}

/* Run fn(va) in a mode (VU through the U alias) and print its outcome:
 * "ok", or "<cause>" with "@<xtval2>" for guest-page faults, "+g" if GVA=1 and
 * "?" if tval is not va.  mtinst/htinst must be zero or `tinst` (else counted in
 * tinst_bad; QEMU 7.2 writes zero). */
static int tinst_bad;
/* set to leave GVA out (QEMU 7.2 does not set it for HLV/HSV faults taken in M-mode) */
static int hmask_gva;
static void outcome(int mode, hfn_t fn, uint64_t va, uint64_t tinst)
{
    hclear();
    if (mode == MODE_VU)
        run_in_off(mode, fn, va, AOFF);
    else
        run_in(mode, fn, va);
    if (!htrapped()) {
        print("ok");
        return;
    }
    print_hex(hlast.cause, 2);
    if (hlast.cause == 20 || hlast.cause == 21 || hlast.cause == 23) {
        putchar_('@');
        print_hex(hlast.tval2, 9);
    }
    if (hlast.where != MODE_VS && hgva() && !hmask_gva)
        print("+g");
    if (hlast.tval != va)
        putchar_('?');
    if (hlast.where != MODE_VS && hlast.tinst != 0 && hlast.tinst != tinst)
        tinst_bad++;
}

/* pseudo: 0 for faults of the access itself, else the tinst pseudoinstruction expected for a guest-page
 * fault of a VS-level page-table access (0x3000 read, 0x3020 write) */
static void rwx_p(const char *tag, int mode, uint64_t va, uint64_t pseudo)
{
    print(tag);
    print(" r=");
    outcome(mode, t_ld, va, pseudo ? pseudo : xform(t_ld_insn[0]));
    print(" w=");
    outcome(mode, t_sw, va, pseudo ? pseudo : xform(t_sw_insn[0]));
    print(" x=");
    outcome(mode, t_ex, va, pseudo);
}
static void rwx(const char *tag, int mode, uint64_t va) { rwx_p(tag, mode, va, 0); }

#endif
