/* Hypervisor extension traps: delegation M -> HS (medeleg) -> VS (hedeleg)
 * of exceptions taken with V=1, the state each level records (mstatus.MPV/
 * MPP, hstatus.SPV/SPVP, sstatus.SPP, vsstatus.SPP, cause, epc, tval,
 * mtval2/htval and mtinst/htinst zero), ecall causes 8/9/10, mret and sret
 * restoring V, and the virtual-instruction exceptions: WFI (VTW, VU), SRET
 * (VTSR, VU), SFENCE.VMA (VTVM, VU), hypervisor instructions in VS/VU,
 * against the illegal-instruction cases (mstatus.TW, HFENCE in U, TVM for
 * HFENCE.GVMA, MRET). */
#include "hyp.h"

#define INSN(fname, s) \
    static uint64_t fname(uint64_t x) { __asm__ volatile(".option push\n.option norvc\n" H_ASM(s) ".option pop" ::: "memory"); return x; }
INSN(do_ecall, "ecall")
INSN(do_ebreak, "ebreak")
INSN(do_illegal, ".4byte 0xffffffff")
INSN(do_wfi, "wfi")
INSN(do_sret, "sret")
INSN(do_mret, "mret")
INSN(do_sfence, "sfence.vma")
INSN(do_hfence_vvma, "hfence.vvma")
INSN(do_hfence_gvma, "hfence.gvma")
INSN(do_hlv, "hlv.w zero, (sp)")
INSN(do_hlvx, "hlvx.hu zero, (sp)")
INSN(do_hsv, "hsv.d zero, (sp)")

static uint64_t do_lr_misaligned(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("lr.w %0, (%1)" : "=r"(v) : "r"(a) : "memory");
    return v;
}

/* PMP: a 4 KiB region without permissions for S/U (entry 0), everything else RWX (entry 1). */
#define DENIED 0x80200000UL
static void pmp_deny_page(void)
{
    csrw(pmpaddr0, (DENIED >> 2) | 0x1ff);
    csrw(pmpaddr1, ~0UL);
    csrw(pmpcfg0, 0x18 | (0x1fUL << 8));
}
static uint64_t do_load(uint64_t a) { return *(volatile uint32_t *)a; }

static void probe(const char *tag, int mode, hfn_t fn, uint64_t arg)
{
    print(HMODE[mode]);
    putchar_(' ');
    hclear();
    uint64_t v = run_in(mode, fn, arg);
    hshow(tag, v);
}

/* the trap-level CSRs that must be zero for traps that are not guest-page faults */
static void show_zero_extras(void)
{
    print("  tval2=");
    print_hex64(hlast.tval2);
    print(" tinst=");
    print_hex64(hlast.tinst);
    putchar_('\n');
}

static void delegation(void)
{
    puts("== ecall and delegation");
    probe("ecall", MODE_VS, do_ecall, 0);
    show_zero_extras();
    probe("ecall", MODE_VU, do_ecall, 0);
    probe("ecall", MODE_HS, do_ecall, 0);
    probe("ecall", MODE_U, do_ecall, 0);
    /* hedeleg alone does not delegate: medeleg first */
    csrw(hedeleg, 1UL << 8);
    probe("ecall hedeleg only", MODE_VU, do_ecall, 0);
    csrw(medeleg, (1UL << 8) | (1UL << 10));
    probe("ecall medeleg", MODE_VS, do_ecall, 0);
    show_zero_extras();
    probe("ecall medeleg+hedeleg", MODE_VU, do_ecall, 0);
    pr("  vscause", csrr(vscause));
    pr("  vsepc is do_ecall", csrr(vsepc) == (uint64_t)do_ecall);
    probe("ecall medeleg (V=0)", MODE_U, do_ecall, 0);
    csrw(hedeleg, 0);
    probe("ecall medeleg", MODE_VU, do_ecall, 0);
    csrw(medeleg, 0);

    puts("== exceptions at each level");
    probe("illegal", MODE_VS, do_illegal, 0);
    show_zero_extras();
    probe("illegal", MODE_VU, do_illegal, 0);
    csrw(medeleg, 1UL << 2);
    probe("illegal medeleg", MODE_VS, do_illegal, 0);
    show_zero_extras();
    probe("illegal medeleg", MODE_VU, do_illegal, 0);
    probe("illegal medeleg (V=0)", MODE_HS, do_illegal, 0);
    probe("illegal medeleg (V=0)", MODE_U, do_illegal, 0);
    /* (exceptions 2 and 6 delegated to VS-mode are reported with cause 1 and 5 by QEMU 7.2: see
     * test/hypervisor.test.ts) */
    csrw(hedeleg, 1UL << 2);
    probe("illegal medeleg+hedeleg (V=0)", MODE_HS, do_illegal, 0);
    csrw(hedeleg, 0);
    csrw(medeleg, 0);
    csrw(medeleg, 1UL << 3);
    csrw(hedeleg, 1UL << 3);
    probe("ebreak medeleg+hedeleg", MODE_VS, do_ebreak, 0);
    csrw(hedeleg, 0);
    probe("ebreak medeleg", MODE_VS, do_ebreak, 0);
    csrw(medeleg, 0);
    /* SPVP is left alone by traps from V=0 */
    csrw(medeleg, 1UL << 2);
    csrw(hstatus, HSTATUS_SPVP);
    probe("illegal SPVP=1 kept (V=0)", MODE_U, do_illegal, 0);
    csrw(hstatus, 0);
    probe("illegal SPVP=0 kept (V=0)", MODE_HS, do_illegal, 0);
    csrw(medeleg, 0);

    puts("== address traps from V=1 write a guest virtual address (GVA=1)");
    probe("misaligned lr", MODE_VS, do_lr_misaligned, 0x80100002UL);
    hshow_addr();
    probe("misaligned lr", MODE_VU, do_lr_misaligned, 0x80100001UL);
    hshow_addr();
    csrw(medeleg, 1UL << 4);
    probe("misaligned lr medeleg", MODE_VS, do_lr_misaligned, 0x80100006UL);
    hshow_addr();
    probe("misaligned lr medeleg", MODE_VU, do_lr_misaligned, 0x80100005UL);
    hshow_addr();
    probe("misaligned lr medeleg (V=0)", MODE_HS, do_lr_misaligned, 0x80100003UL);
    hshow_addr();
    csrw(hedeleg, 1UL << 4);
    probe("misaligned lr medeleg+hedeleg", MODE_VS, do_lr_misaligned, 0x8010000aUL);
    pr("  vstval", csrr(vstval));
    probe("misaligned lr medeleg+hedeleg", MODE_VU, do_lr_misaligned, 0x8010000bUL);
    csrw(hedeleg, 0);
    csrw(medeleg, 0);
    /* PMP access faults (with V=1 QEMU 7.2 reports a PMP failure of the final access as a guest-page fault:
     * see test/hypervisor.test.ts) */
    pmp_deny_page();
    csrw(medeleg, 1UL << 5);
    probe("load access fault medeleg (V=0)", MODE_HS, do_load, DENIED + 0x08);
    hshow_addr();
    csrw(medeleg, 0);
    probe("load access fault (V=0)", MODE_U, do_load, DENIED + 0x10);
    /* (GVA here: QEMU 7.2 may set it after an earlier two-stage access) */
    pr("  tval2", hlast.tval2);
    pmp_allow_all();
}

/* ---- xRET ---- */


static uint64_t vu_done(uint64_t x) { return x + 1; }

/* In VS-mode: sret to VU-mode (vsstatus.SPP = 0) at vu_done, with ra = the exit stub. */
static uint64_t vs_sret_to_vu(uint64_t x)
{
    register uint64_t a0 __asm__("a0") = x;
    __asm__ volatile(
        "csrw sepc, %1\n"
        "li t0, 0x100\n"
        "csrc sstatus, t0\n"
        "sret\n"
        : "+r"(a0) : "r"((uint64_t)vu_done) : "t0", "memory");
    return a0;
}

/* In HS-mode: sret with hstatus.SPV = 1 into VS-mode at vu_done. */
static uint64_t hs_sret_to_vs(uint64_t x)
{
    register uint64_t a0 __asm__("a0") = x;
    __asm__ volatile(
        "csrw sepc, %1\n"
        "li t0, 0x100\n"
        "csrs sstatus, t0\n"
        "li t0, 0x80\n"
        "csrs hstatus, t0\n"
        "sret\n"
        : "+r"(a0) : "r"((uint64_t)vu_done) : "t0", "memory");
    return a0;
}

static void xret(void)
{
    puts("== mret and sret restore V");
    csrw(vsstatus, MSTATUS_SPP | (1UL << 13));
    hclear();
    uint64_t r = run_in(MODE_VS, vs_sret_to_vu, 41);
    hshow("VS sret to VU, then exit (ecall from VU)", r);
    pr("  vsstatus.SPP|SPIE", csrr(vsstatus) & (MSTATUS_SPP | MSTATUS_SPIE));
    hclear();
    r = run_in(MODE_HS, hs_sret_to_vs, 7);
    hshow("HS sret with SPV=1 to VS, then exit", r);
    pr("  hstatus.SPV cleared by sret", (csrr(hstatus) >> 7) & 1);
    /* (mret with MPP=M must leave V=0 whatever MPV is; QEMU 7.2 enters V=1: see test/hypervisor.test.ts) */
}

static void virtual_instructions(void)
{
    puts("== virtual-instruction exceptions (tval = the instruction)");
    /* a pending but disabled interrupt lets wfi complete */
    csrw(hideleg, 1UL << IRQ_VSSI);
    csrw(hie, 1UL << IRQ_VSSI);
    csrw(hvip, 1UL << IRQ_VSSI);
    csrw(vsstatus, 1UL << 13);
    probe("wfi", MODE_VS, do_wfi, 0);
    csrw(hstatus, HSTATUS_VTW);
    probe("wfi VTW", MODE_VS, do_wfi, 0);
    show_zero_extras();
    csrs(mstatus, MSTATUS_TW);
    probe("wfi VTW TW", MODE_VS, do_wfi, 0);
    csrc(mstatus, MSTATUS_TW);
    csrw(hstatus, 0);
    /* in VU-mode that interrupt would be taken: none pending from here on */
    csrw(hvip, 0);
    csrw(hie, 0);
    csrw(hideleg, 0);
    probe("wfi", MODE_VU, do_wfi, 0);
    /* (QEMU 7.2 departs from the spec for these, see test/hypervisor.test.ts: WFI in VU-mode with TW=1 is
     * illegal; SRET, SFENCE.VMA and HFENCE in VU-mode are virtual instructions; mstatus.TVM does not affect
     * SFENCE.VMA in VS-mode) */
    /* sret: VTSR; mstatus.TSR has no effect in VS-mode.  sret from VS returns into VS at vsepc = the
     * instruction after it (the guest's own sret "handler" state), so only the trap cases matter. */
    csrw(hstatus, HSTATUS_VTSR);
    probe("sret VTSR", MODE_VS, do_sret, 0);
    csrw(hstatus, 0);
    csrw(hstatus, HSTATUS_VTVM);
    probe("sfence.vma VTVM", MODE_VS, do_sfence, 0);
    csrw(hstatus, 0);
    probe("hfence.vvma", MODE_VS, do_hfence_vvma, 0);
    probe("hfence.gvma", MODE_VS, do_hfence_gvma, 0);
    /* (tval of HLV/HLVX/HSV traps is stale on QEMU 7.2) */
    hmask_tval = 1;
    probe("hlv.w", MODE_VS, do_hlv, 0);
    probe("hlvx.hu", MODE_VU, do_hlvx, 0);
    probe("hsv.d", MODE_VS, do_hsv, 0);
    hmask_tval = 0;
    probe("mret", MODE_VS, do_mret, 0);
    csrw(medeleg, 1UL << 22);
    probe("hfence.gvma medeleg", MODE_VS, do_hfence_gvma, 0);
    show_zero_extras();
    /* virtual instruction cannot go to VS-mode */
    csrw(hedeleg, ~0UL);
    probe("hfence.gvma medeleg+hedeleg", MODE_VS, do_hfence_gvma, 0);
    csrw(hedeleg, 0);
    csrw(medeleg, 0);

    puts("== hypervisor instructions outside V=1");
    probe("hfence.vvma", MODE_HS, do_hfence_vvma, 0);
    probe("hfence.gvma", MODE_HS, do_hfence_gvma, 0);
    probe("hfence.gvma", MODE_M, do_hfence_gvma, 0);
    csrs(mstatus, MSTATUS_TVM);
    probe("hfence.gvma TVM", MODE_HS, do_hfence_gvma, 0);
    probe("hfence.vvma TVM", MODE_HS, do_hfence_vvma, 0);
    probe("hfence.gvma TVM", MODE_M, do_hfence_gvma, 0);
    csrc(mstatus, MSTATUS_TVM);
    probe("hfence.vvma", MODE_U, do_hfence_vvma, 0);
    probe("hfence.gvma", MODE_U, do_hfence_gvma, 0);
    csrw(hstatus, HSTATUS_HU);
    probe("hfence.vvma HU=1", MODE_U, do_hfence_vvma, 0);
    csrw(hstatus, 0);
    hmask_tval = 1;
    probe("hlv.w", MODE_U, do_hlv, 0);
    hmask_tval = 0;
    probe("wfi", MODE_U, do_wfi, 0);
    probe("sret", MODE_U, do_sret, 0);
    probe("sfence.vma", MODE_U, do_sfence, 0);
}

int main(void)
{
    hyp_init();
    delegation();
    xret();
    virtual_instructions();
    return 0;
}
