/* Two-stage address translation (H extension): VS-stage Sv39/48/57 over
 * G-stage Sv39x4/48x4/57x4.  Loads, stores and fetches from VS- and VU-mode
 * against VS-stage and G-stage permissions: page faults (VS-stage, htval 0)
 * and guest-page faults (G-stage: the U bit, R/W/X, reserved encodings,
 * misaligned superpages, guest physical addresses wider than 41 bits) with
 * tval = the guest virtual address, mtval2/htval = the guest physical
 * address >> 2 and GVA = 1; guest-page faults of the VS-stage page-table
 * accesses themselves; hardware A/D updates at both stages; MXR (mstatus for
 * both stages, vsstatus for the VS-stage) and vsstatus.SUM; the x4 root
 * entries; delegation of guest-page faults to HS and of page faults to VS;
 * HFENCE.GVMA/VVMA after remapping; M-mode MPRV with MPV=1; V=0 and V=1
 * translations of one address kept apart. */
#include "hvm.h"

static const char *const PNAME[] = {
    "VS RW, G URWX", "VS RWX U, G URWX", "VS RWX, G UR", "VS RWX, G UX", "VS RWX, G RWX (no U)",
    "VS RWX, G invalid", "VS invalid, G URWX", "VS X, G URWX", "VS RWX no A/D, G URWX no A/D",
    "VS RWX, G UW (reserved)", "VS RWX, G URWX bit 54", "VS RWX U, G UR", "VS RWX U, G UX",
    "VS W (reserved), G URWX", "VS RWX U no A/D, G URWX no A/D",
};
#define NPAGES 15

static void setup_pages(void)
{
    uint64_t V = PTE_V, GU = PTE_V | PTE_U;
    tpage(0, V | PTE_R | PTE_W | AD, GU | RWX | AD);
    tpage(1, V | RWX | PTE_U | AD, GU | RWX | AD);
    tpage(2, V | RWX | AD, GU | PTE_R | AD);
    tpage(3, V | RWX | AD, GU | PTE_X | AD);
    tpage(4, V | RWX | AD, V | RWX | AD);
    tpage(5, V | RWX | AD, 0);
    tpage(6, RWX | AD, GU | RWX | AD);
    tpage(7, V | PTE_X | AD, GU | RWX | AD);
    tpage(8, V | RWX, GU | RWX);
    tpage(9, V | RWX | AD, GU | PTE_W | AD);
    tpage(10, V | RWX | AD, GU | RWX | AD | (1UL << 54));
    tpage(11, V | RWX | PTE_U | AD, GU | PTE_R | AD);
    tpage(12, V | RWX | PTE_U | AD, GU | PTE_X | AD);
    tpage(13, V | PTE_W | AD, GU | RWX | AD);
    tpage(14, V | RWX | PTE_U, GU | RWX);
}

static void permissions(void)
{
    puts("== permissions (traps to M)");
    setup_pages();
    for (int i = 0; i < NPAGES; i++) {
        print("page ");
        print_dec(i);
        putchar_(' ');
        puts(PNAME[i]);
        rwx("  VS", MODE_VS, tva(i));
        putchar_('\n');
        rwx("  VU", MODE_VU, tva(i));
        putchar_('\n');
    }
    puts("A/D after the probes (VS leaf, G leaf):");
    for (int i = 0; i < NPAGES; i++) {
        print_dec(i);
        putchar_(' ');
        print_hex(*vpte(i) & 0xff, 2);
        putchar_(' ');
        print_hex(*gpte(i) & 0xff, 2);
        putchar_('\n');
    }
    /* fresh pages: a load sets A at both stages, a store A and D */
    tpage(8, PTE_V | RWX, PTE_V | PTE_U | RWX);
    tpage(14, PTE_V | RWX, PTE_V | PTE_U | RWX);
    outcome(MODE_VS, t_ld, tva(8), 0);
    outcome(MODE_VS, t_sw, tva(14), 0);
    putchar_('\n');
    pr2("after load: VS, G", *vpte(8) & 0xff, *gpte(8) & 0xff);
    pr2("after store: VS, G", *vpte(14) & 0xff, *gpte(14) & 0xff);
    /* (the VS-stage A/D updates also set D in this G-stage leaf; QEMU 7.2 does not: A only) */
    print("G leaf of the VS page table (A): ");
    print_hex(*gpte(PT0_SLOT) & PTE_A, 2);
    putchar_('\n');
}

static uint64_t vs_sum_load(uint64_t va)
{
    csrs(sstatus, MSTATUS_SUM);
    uint64_t v = t_ld(va);
    csrc(sstatus, MSTATUS_SUM);
    return v;
}

static void mxr_sum(void)
{
    puts("== MXR and SUM");
    setup_pages();
    /* (QEMU 7.2 applies vsstatus.MXR to both stages and ignores mstatus.MXR when V=1; the spec has
     * vsstatus.MXR for the VS-stage only and mstatus.MXR for both: see test/hypervisor.test.ts) */
    print("VS X-only page, vsstatus.MXR=1: ");
    csrs(vsstatus, MSTATUS_MXR);
    outcome(MODE_VS, t_ld, tva(7), xform(t_ld_insn[0]));
    csrc(vsstatus, MSTATUS_MXR);
    putchar_('\n');
    print("VS load of U page with vsstatus.SUM=1: ");
    outcome(MODE_VS, vs_sum_load, tva(1), xform(t_ld_insn[0]));
    csrs(mstatus, MSTATUS_SUM);
    print("; with mstatus.SUM=1 only: ");
    outcome(MODE_VS, t_ld, tva(1), xform(t_ld_insn[0]));
    csrc(mstatus, MSTATUS_SUM);
    putchar_('\n');
}

static void page_table_faults(void)
{
    puts("== guest-page faults of VS-stage page-table accesses (tval2 = PTE address >> 2)");
    setup_pages();
    uint64_t slot = *gpte(PT0_SLOT);
    *gpte(PT0_SLOT) = 0;
    hfence_all();
    /* (only loads: QEMU 7.2 reports these faults of stores and fetches with the wrong cause, see
     * test/hypervisor.test.ts) */
    print("G invalid VS table: VS load ");
    outcome(MODE_VS, t_ld, tva(2), 0x3000);
    print(", VU load ");
    outcome(MODE_VU, t_ld, tva(1), 0x3000);
    putchar_('\n');
    *gpte(PT0_SLOT) = PTE(PT0_SPA, PTE_V | PTE_R | PTE_W | AD);
    hfence_all();
    print("G VS table without U: VS load ");
    outcome(MODE_VS, t_ld, tva(2), 0x3000);
    putchar_('\n');
    *gpte(PT0_SLOT) = slot;
    hfence_all();
    print("tinst checks failed: ");
    print_dec(tinst_bad);
    putchar_('\n');
}

static void gpa_width(void)
{
    puts("== guest physical addresses beyond 41 bits, unmapped, misaligned superpages");
    /* (GPAs using the two extra bits of Sv39x4/48x4/57x4 fault on QEMU 7.2: see test/hypervisor.test.ts) */
    setup_pages();
    vmap(21, 1UL << 41, PTE_V | RWX | AD);
    rwx("GPA 2^41", MODE_VS, tva(21));
    putchar_('\n');
    vmap(22, 1UL << 53, PTE_V | RWX | AD);
    rwx("GPA 2^53", MODE_VS, tva(22));
    putchar_('\n');
    vmap(23, 0x40000000UL, PTE_V | RWX | AD);
    rwx("GPA 0x40000000 (unmapped root entry)", MODE_VS, tva(23));
    putchar_('\n');
    /* a G-stage superpage whose PPN is not aligned */
    groot[6] = PTE(0x80001000UL, PTE_V | PTE_U | RWX | AD);
    vmap(24, 0x180000000UL, PTE_V | RWX | AD);
    rwx("G misaligned gigapage", MODE_VS, tva(24));
    putchar_('\n');
    groot[6] = 0;
    hfence_all();
}

static void modes(void)
{
    puts("== other paging modes");
    setup_pages();
    *(volatile uint64_t *)(DATA + 0x10) = 0xfeedfacecafebeefUL;
    const struct { const char *n; uint64_t hgatp, vsatp, ld, probe; } M[] = {
        { "Sv48x4 + Sv39", (9UL << 60) | ((uint64_t)groot48 >> 12), (8UL << 60) | ((uint64_t)vroot >> 12), tva(0), tva(2) },
        { "Sv57x4 + Sv48", (10UL << 60) | ((uint64_t)groot57 >> 12), (9UL << 60) | ((uint64_t)vroot48 >> 12), tva(0), tva(2) },
        { "Sv39x4 + Sv57", (8UL << 60) | ((uint64_t)groot >> 12), (10UL << 60) | ((uint64_t)vroot57 >> 12), tva(0), tva(3) },
        { "Bare + Sv39", 0, (8UL << 60) | ((uint64_t)vroot >> 12), DATA + 0x10, DATA + 0x2010 },
        { "Sv39x4 + Bare", (8UL << 60) | ((uint64_t)groot >> 12), 0, gpa(0) + 0x10, gpa(2) + 0x10 },
    };
    for (unsigned k = 0; k < sizeof(M) / sizeof(M[0]); k++) {
        csrw(hgatp, M[k].hgatp);
        csrw(vsatp, M[k].vsatp);
        hfence_all();
        print(M[k].n);
        hclear();
        uint64_t v = run_in(MODE_VS, t_ld, M[k].ld);
        if (htrapped()) {
            print(" trap ");
            print_hex(hlast.cause, 2);
        } else {
            print(" load ");
            print_hex64(v);
        }
        rwx(" /", MODE_VS, M[k].probe);
        putchar_('\n');
    }
    csrw(hgatp, hgatp_sv39x4());
    csrw(vsatp, vsatp_sv39());
    hfence_all();
    *(volatile uint64_t *)(DATA + 0x10) = 0x0000806700008067UL;
}

static void delegation(void)
{
    puts("== delegation: guest-page faults to HS, page faults to VS");
    setup_pages();
    csrw(medeleg, (1UL << 20) | (1UL << 21) | (1UL << 23) | (1UL << 12) | (1UL << 13) | (1UL << 15));
    rwx("G RWX (no U) -> HS:", MODE_VS, tva(4));
    print(" [");
    print(HMODE[hlast.where]);
    print(" SPV=");
    print_dec((hlast.hstatus >> 7) & 1);
    print(" SPVP=");
    print_dec((hlast.hstatus >> 8) & 1);
    puts("]");
    rwx("VS invalid -> HS:", MODE_VU, tva(6));
    print(" [");
    print(HMODE[hlast.where]);
    puts("]");
    csrw(hedeleg, (1UL << 12) | (1UL << 13) | (1UL << 15));
    rwx("VS invalid -> VS:", MODE_VU, tva(6));
    print(" [");
    print(HMODE[hlast.where]);
    print(" vscause=");
    print_hex(csrr(vscause), 2);
    print(" vstval ok=");
    print_dec(csrr(vstval) == tva(6));
    puts("]");
    rwx("G RWX (no U) stays in HS:", MODE_VS, tva(4));
    print(" [");
    print(HMODE[hlast.where]);
    puts("]");
    csrw(hedeleg, 0);
    csrw(medeleg, 0);
    print("tinst checks failed: ");
    print_dec(tinst_bad);
    putchar_('\n');
}

static void fences(void)
{
    puts("== HFENCE after remapping");
    setup_pages();
    *(volatile uint64_t *)(DATA + 0x1010) = 0x1111111111111111UL;
    *(volatile uint64_t *)(DATA + 0x2010) = 0x2222222222222222UL;
    *(volatile uint64_t *)(DATA + 0x4010) = 0x4444444444444444UL;
    tpage(1, PTE_V | RWX | AD, PTE_V | PTE_U | RWX | AD);
    gmap(4, PTE_V | PTE_U | RWX | AD);
    hclear();
    pr("before", run_in(MODE_VS, t_ld, tva(1)));
    /* G-stage: gpa(1) now -> DATA + 0x2000 */
    *gpte(1) = PTE(DATA + 0x2000, PTE_V | PTE_U | RWX | AD);
    __asm__ volatile(H_ASM("hfence.gvma zero, zero") ::: "memory");
    pr("after G remap + hfence.gvma", run_in(MODE_VS, t_ld, tva(1)));
    /* VS-stage: tva(1) now -> gpa(4) (-> DATA + 0x4000) */
    *vpte(1) = PTE(gpa(4), PTE_V | RWX | AD);
    __asm__ volatile(H_ASM("hfence.vvma zero, zero") ::: "memory");
    pr("after VS remap + hfence.vvma", run_in(MODE_VS, t_ld, tva(1)));
    pr("  traps", hcount - hmark);
    *(volatile uint64_t *)(DATA + 0x1010) = 0x0000806700008067UL;
    *(volatile uint64_t *)(DATA + 0x2010) = 0x0000806700008067UL;
    *(volatile uint64_t *)(DATA + 0x4010) = 0x0000806700008067UL;
}

/* M-mode loads with MPRV=1 translate as MPP/MPV; an HS page table maps TBASE elsewhere. */
static uint64_t hs_root[512] __attribute__((aligned(4096)));
static uint64_t hs_l1[512] __attribute__((aligned(4096)));
static uint64_t hs_l0[512] __attribute__((aligned(4096)));

static uint64_t mprv_load(uint64_t va, int mpp, int mpv)
{
    uint64_t old = csrr(mstatus), v;
    uint64_t s = (old & ~(MSTATUS_MPP | MSTATUS_MPV)) | ((uint64_t)mpp << 11) | (mpv ? MSTATUS_MPV : 0) | MSTATUS_MPRV;
    __asm__ volatile("li %0, 0\n\tcsrw mstatus, %1\n\tld %0, 0(%2)\n\tcsrw mstatus, %3" : "=&r"(v) : "r"(s), "r"(va), "r"(old) : "memory");
    return v;
}

static void mprv(void)
{
    puts("== MPRV with MPV, and V=0 / V=1 translations of one address");
    setup_pages();
    *(volatile uint64_t *)(DATA + 0x1010) = 0x1111111111111111UL;
    *(volatile uint64_t *)(DATA + 0x5010) = 0x5555555555555555UL;
    tpage(1, PTE_V | RWX | AD, PTE_V | PTE_U | RWX | AD);
    hs_root[0] = PTE(hs_l1, PTE_V);
    hs_root[2] = PTE(0x80000000UL, PTE_V | RWX | AD);
    hs_l1[TBASE >> 21] = PTE(hs_l0, PTE_V);
    hs_l0[1] = PTE(DATA + 0x5000, PTE_V | RWX | AD);
    csrw(satp, (8UL << 60) | ((uint64_t)hs_root >> 12));
    __asm__ volatile("sfence.vma" ::: "memory");
    hclear();
    for (int k = 0; k < 2; k++) {
        pr("MPRV MPP=S MPV=1", mprv_load(tva(1), 1, 1));
        pr("MPRV MPP=S MPV=0", mprv_load(tva(1), 1, 0));
        pr("VS load", run_in(MODE_VS, t_ld, tva(1)));
        pr("HS load", run_in(MODE_HS, t_ld, tva(1)));
    }
    pr("MPRV MPP=U MPV=1 of a non-U page", mprv_load(tva(1), 0, 1));
    hshow("  ", 0);
    hshow_addr();
    hclear();
    pr("MPRV MPP=M MPV=1: no translation", mprv_load(DATA + 0x5010, 3, 1));
    hshow("  ", 0);
    csrw(satp, 0);
    __asm__ volatile("sfence.vma" ::: "memory");
    *(volatile uint64_t *)(DATA + 0x1010) = 0x0000806700008067UL;
    *(volatile uint64_t *)(DATA + 0x5010) = 0x0000806700008067UL;
}

int main(void)
{
    hyp_init();
    hvm_init();
    permissions();
    mxr_sum();
    page_table_faults();
    gpa_width();
    modes();
    delegation();
    fences();
    mprv();
    return 0;
}
