/* Hypervisor extension CSRs: misa.H, read-only and writable bits of the
 * delegation registers, hstatus, hgatp, vsatp, henvcfg, hcounteren, the
 * interrupt registers and their aliases (hvip/hip/hie/mip/mie/vsip/vsie/sip/
 * sie), the VS CSRs seen from HS-mode and as S CSRs from VS-mode, mstatus.MPV/
 * GVA, mtval2/mtinst/htval; who may access them: illegal-instruction from U,
 * virtual-instruction from VS/VU for HS-qualified accesses, hcounteren,
 * hstatus.VTVM for satp, Sstc (vstimecmp via stimecmp) with henvcfg.STCE,
 * htimedelta on time. */
#include "hyp.h"

#define RW(name, csr, v) do { csrw(csr, v); pr(name, csrr(csr)); } while (0)

/* CSR probes, each run in some mode. */
#define PROBE(fname, insn) \
    static uint64_t fname(uint64_t x) { uint64_t v = x; __asm__ volatile(insn : "+r"(v) :: "memory"); return v; }
PROBE(rd_hstatus, "csrr %0, hstatus")
PROBE(wr_hstatus, "csrw hstatus, %0")
PROBE(rd_hgatp, "csrr %0, hgatp")
PROBE(wr_hgatp, "csrw hgatp, %0")
PROBE(rd_vsstatus, "csrr %0, vsstatus")
PROBE(rd_vsatp, "csrr %0, vsatp")
PROBE(rd_hgeip, "csrr %0, hgeip")
PROBE(wr_hgeip, "csrw hgeip, %0")
PROBE(rd_htimedelta, "csrr %0, htimedelta")
PROBE(rd_sstatus, "csrr %0, sstatus")
PROBE(wr_sstatus, "csrw sstatus, %0")
PROBE(rd_sie, "csrr %0, sie")
PROBE(wr_sie, "csrw sie, %0")
PROBE(rd_sip, "csrr %0, sip")
PROBE(wr_sip, "csrw sip, %0")
PROBE(rd_stvec, "csrr %0, stvec")
PROBE(wr_stvec, "csrw stvec, %0")
PROBE(rd_sscratch, "csrr %0, sscratch")
PROBE(wr_sscratch, "csrw sscratch, %0")
PROBE(rd_sepc, "csrr %0, sepc")
PROBE(wr_sepc, "csrw sepc, %0")
PROBE(rd_scause, "csrr %0, scause")
PROBE(rd_stval, "csrr %0, stval")
PROBE(rd_satp, "csrr %0, satp")
PROBE(wr_satp, "csrw satp, %0")
PROBE(rd_scounteren, "csrr %0, scounteren")
PROBE(rd_senvcfg, "csrr %0, senvcfg")
PROBE(rd_stimecmp, "csrr %0, stimecmp")
PROBE(wr_stimecmp, "csrw stimecmp, %0")
PROBE(rd_vstimecmp, "csrr %0, vstimecmp")
PROBE(rd_mstatus, "csrr %0, mstatus")
PROBE(rd_mtval2, "csrr %0, mtval2")
PROBE(rd_cycle, "csrr %0, cycle")
PROBE(rd_instret, "csrr %0, instret")
PROBE(rd_hpm3, "csrr %0, hpmcounter3")
PROBE(wr_cycle, "csrw cycle, %0")
PROBE(rd_fflags, "csrr %0, fflags")
PROBE(wr_fcsr, "csrw fcsr, %0")
PROBE(rd_fcsr, "csrr %0, fcsr")
PROBE(rd_time, "csrr %0, time")

static void probe(const char *tag, int mode, hfn_t fn, uint64_t arg)
{
    print(HMODE[mode]);
    putchar_(' ');
    hclear();
    uint64_t v = run_in(mode, fn, arg);
    hshow(tag, v);
}

static uint64_t time_now(void) { return mmio_read64(CLINT_MTIME); }

static void registers(void)
{
    puts("== registers (M-mode)");
    pr("misa.H", (csrr(misa) >> 7) & 1);
    csrw(mideleg, 0);
    pr("mideleg after 0", csrr(mideleg));
    csrw(mideleg, 0x222);
    pr("mideleg after 0x222", csrr(mideleg));
    csrw(mideleg, 0);
    /* bit 11 (ecall from M) is writable on QEMU 7.2; the spec makes it read-only zero */
    csrw(medeleg, ~0UL);
    pr("medeleg ~0 (bit 11 masked)", csrr(medeleg) & ~(1UL << 11));
    csrw(medeleg, 0);
    RW("hedeleg ~0", hedeleg, ~0UL);
    RW("hedeleg 0", hedeleg, 0);
    RW("hideleg ~0", hideleg, ~0UL);
    RW("hideleg 0", hideleg, 0);
    pr("hstatus reset", csrr(hstatus));
    RW("hstatus fields", hstatus, HSTATUS_GVA | HSTATUS_SPV | HSTATUS_SPVP | HSTATUS_HU | HSTATUS_VTVM | HSTATUS_VTW | HSTATUS_VTSR);
    /* QEMU 7.2 keeps every other bit (WPRI) and any VGEIN; with GEILEN = 0 both read as zero on Salus */
    csrw(hstatus, ~0UL);
    pr("hstatus ~0 (defined fields but VGEIN)", csrr(hstatus) & 0x3007003e0UL);
    RW("hstatus 0", hstatus, 0);
    RW("hgeie ~0", hgeie, ~0UL);
    pr("hgeip", csrr(hgeip));
    /* hgatp: each paging mode, the 14-bit VMID, a 16 KiB-aligned root */
    RW("hgatp Sv39x4", hgatp, (8UL << 60) | (0x3fffUL << 44) | 0x80004UL);
    RW("hgatp Sv48x4", hgatp, (9UL << 60) | (0x1234UL << 44) | 0x80008UL);
    RW("hgatp Sv57x4", hgatp, (10UL << 60) | (0x1UL << 44) | 0x8000cUL);
    RW("hgatp Bare VMID", hgatp, 0x3fffUL << 44);
    RW("hgatp 0", hgatp, 0);
    RW("vsatp Sv39", vsatp, (8UL << 60) | (0xffffUL << 44) | 0x80001UL);
    RW("vsatp Sv48", vsatp, (9UL << 60) | 0x80002UL);
    RW("vsatp Sv57", vsatp, (10UL << 60) | 0x80003UL);
    RW("vsatp 0", vsatp, 0);
    /* henvcfg: FIOM and STCE (QEMU 7.2 also keeps PBMTE and the CBO fields; STCE is read-only zero while
     * menvcfg.STCE = 0, which QEMU 7.2 does not do) */
    csrw(menvcfg, MENVCFG_STCE);
    csrw(henvcfg, ~0UL);
    pr("henvcfg ~0 (FIOM, STCE)", csrr(henvcfg) & (MENVCFG_STCE | 1));
    RW("henvcfg 0", henvcfg, 0);
    csrw(hcounteren, ~0UL);
    pr("hcounteren ~0 (low 32)", csrr(hcounteren) & 0xffffffffUL);
    RW("hcounteren 5", hcounteren, 5);
    RW("htimedelta", htimedelta, 0x123456789abcdef0UL);
    csrw(htimedelta, 0);
    RW("htval", htval, 0x0123456789abcdefUL);
    RW("mtval2", mtval2, 0xfedcba9876543210UL);
    RW("mtinst", mtinst, 0x00003003UL);
    RW("vstvec direct", vstvec, 0x80001000UL);
    RW("vstvec vectored", vstvec, 0x80001101UL);
    RW("vsscratch", vsscratch, 0x5555aaaa5555aaaaUL);
    RW("vsepc", vsepc, 0x80002346UL);
    RW("vscause", vscause, 0x8000000000000005UL);
    RW("vstval", vstval, 0xdeadbeefcafeUL);
    RW("vstimecmp", vstimecmp, 0x1122334455667788UL);
    /* vsstatus: the sstatus fields (QEMU 7.2 keeps every bit and shows UXL=3 after writing 0: UXL masked) */
    /* (SD too: QEMU 7.2 does not compute vsstatus.SD) */
    uint64_t vsmask = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | (3UL << 9) | MSTATUS_FS | MSTATUS_XS |
                      MSTATUS_SUM | MSTATUS_MXR;
    csrw(vsstatus, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_FS);
    pr("vsstatus fields", csrr(vsstatus) & vsmask);
    csrw(vsstatus, 1UL << 13);
    pr("vsstatus FS=1", csrr(vsstatus) & vsmask);
    uint64_t ms = csrr(mstatus);
    csrs(mstatus, MSTATUS_MPV | MSTATUS_GVA);
    pr("mstatus MPV|GVA", csrr(mstatus) & (MSTATUS_MPV | MSTATUS_GVA));
    csrw(mstatus, ms);
    pr("mstatus MPV|GVA cleared", csrr(mstatus) & (MSTATUS_MPV | MSTATUS_GVA));
    pr("sstatus hides MPV/GVA", csrr(sstatus) & (MSTATUS_MPV | MSTATUS_GVA));
}

static void interrupts(void)
{
    puts("== interrupt registers");
    csrw(mie, 0);
    /* (QEMU 7.2 does not let hvip.VSTIP be written while menvcfg.STCE = 1) */
    csrw(menvcfg, 0);
    RW("hvip ~0", hvip, ~0UL);
    pr("  hip", csrr(hip));
    pr("  mip VS bits", csrr(mip) & 0x1444);
    pr("  sip", csrr(sip));
    csrw(hip, 0x440);
    pr("hip 0x440: hvip", csrr(hvip));
    csrw(hip, 0x444);
    pr("hip 0x444: hvip", csrr(hvip));
    RW("hvip 0", hvip, 0);
    csrw(mip, 1UL << IRQ_VSSI);
    pr("mip VSSIP: hvip", csrr(hvip));
    csrw(mip, 0);
    pr("mip 0: hvip", csrr(hvip));
    RW("hie ~0", hie, ~0UL);
    pr("  mie", csrr(mie));
    pr("  sie", csrr(sie));
    RW("hie 0", hie, 0);
    /* mie: QEMU 7.2 also keeps LCOFIE (13), masked */
    csrw(mie, ~0UL);
    pr("mie ~0 (13 masked)", csrr(mie) & ~(1UL << 13));
    pr("  hie", csrr(hie));
    csrw(mie, 0);
    /* vsie/vsip are hie/hip bits shifted down, for the delegated ones */
    csrw(hideleg, 0);
    csrw(vsie, ~0UL);
    pr("vsie ~0 with hideleg 0", csrr(vsie));
    pr("  hie", csrr(hie));
    csrw(hideleg, 1UL << IRQ_VSTI);
    csrw(vsie, ~0UL);
    pr("vsie ~0 with hideleg VSTI", csrr(vsie));
    pr("  hie", csrr(hie));
    csrw(hideleg, 0x444);
    csrw(vsie, ~0UL);
    pr("vsie ~0 with hideleg all", csrr(vsie));
    pr("  hie", csrr(hie));
    csrw(vsie, 0);
    csrw(vsip, ~0UL);
    pr("vsip ~0: hvip", csrr(hvip));
    /* QEMU 7.2 shows only SSIP in vsip (STIP/SEIP are aliases of hip.VSTIP/VSEIP): masked */
    pr("  vsip.SSIP", csrr(vsip) & 2);
    csrw(vsip, 0);
    pr("vsip 0: hvip", csrr(hvip));
    csrw(hideleg, 0);
    csrw(hvip, 1UL << IRQ_VSSI);
    pr("vsip.SSIP with hideleg 0", csrr(vsip) & 2);
    csrw(hvip, 0);
}

static void access_rules(void)
{
    puts("== access from HS and U");
    probe("csrr hstatus", MODE_HS, rd_hstatus, 0);
    probe("csrw hstatus", MODE_HS, wr_hstatus, HSTATUS_VTW);
    pr("  hstatus", csrr(hstatus));
    csrw(hstatus, 0);
    probe("csrr vsstatus", MODE_HS, rd_vsstatus, 0);
    probe("csrr hgeip", MODE_HS, rd_hgeip, 0);
    probe("csrw hgeip", MODE_HS, wr_hgeip, 0);
    probe("csrr hgatp", MODE_HS, rd_hgatp, 0);
    /* (hgatp with mstatus.TVM=1 is illegal in HS-mode; QEMU 7.2 allows it: see test/hypervisor.test.ts) */
    csrs(mstatus, MSTATUS_TVM);
    probe("csrr vsatp TVM", MODE_HS, rd_vsatp, 0);
    csrc(mstatus, MSTATUS_TVM);
    probe("csrr mtval2", MODE_HS, rd_mtval2, 0);
    probe("csrr hstatus", MODE_U, rd_hstatus, 0);
    probe("csrr vsstatus", MODE_U, rd_vsstatus, 0);
    csrs(hstatus, HSTATUS_HU);
    probe("csrr hstatus HU=1", MODE_U, rd_hstatus, 0);
    csrc(hstatus, HSTATUS_HU);

    puts("== access from VS");
    probe("csrr hstatus", MODE_VS, rd_hstatus, 0);
    probe("csrw hstatus", MODE_VS, wr_hstatus, 0);
    probe("csrr vsstatus", MODE_VS, rd_vsstatus, 0);
    probe("csrr vsatp", MODE_VS, rd_vsatp, 0);
    probe("csrr hgatp", MODE_VS, rd_hgatp, 0);
    probe("csrr htimedelta", MODE_VS, rd_htimedelta, 0);
    probe("csrr hgeip", MODE_VS, rd_hgeip, 0);
    probe("csrw hgeip", MODE_VS, wr_hgeip, 0);
    probe("csrr mstatus", MODE_VS, rd_mstatus, 0);
    probe("csrr mtval2", MODE_VS, rd_mtval2, 0);
    /* S CSRs from VS-mode are the VS CSRs */
    csrw(vsstatus, MSTATUS_SPP | MSTATUS_SUM | (1UL << 13));
    probe("csrr sstatus", MODE_VS, rd_sstatus, 0);
    probe("csrw sstatus", MODE_VS, wr_sstatus, MSTATUS_MXR | MSTATUS_SPIE | (1UL << 13));
    pr("  vsstatus (UXL masked)", csrr(vsstatus) & ~(3UL << 32));
    pr("  sstatus (SUM|MXR|SPIE)", csrr(sstatus) & (MSTATUS_SUM | MSTATUS_MXR | MSTATUS_SPIE));
    csrw(vsstatus, 1UL << 13);
    csrw(vstvec, 0x80003000UL);
    probe("csrr stvec", MODE_VS, rd_stvec, 0);
    probe("csrw stvec", MODE_VS, wr_stvec, 0x80004001UL);
    pr("  vstvec", csrr(vstvec));
    pr("  stvec unchanged", csrr(stvec) == (uint64_t)s_trap_entry);
    csrw(vstvec, (uint64_t)vs_trap_entry);
    probe("csrw sscratch", MODE_VS, wr_sscratch, 0x1234);
    pr("  vsscratch", csrr(vsscratch));
    probe("csrr sscratch", MODE_VS, rd_sscratch, 0);
    csrw(vsepc, 0x80005000UL);
    probe("csrr sepc", MODE_VS, rd_sepc, 0);
    probe("csrw sepc", MODE_VS, wr_sepc, 0x80006002UL);
    pr("  vsepc", csrr(vsepc));
    csrw(vscause, 13);
    probe("csrr scause", MODE_VS, rd_scause, 0);
    csrw(vstval, 0xabc);
    probe("csrr stval", MODE_VS, rd_stval, 0);
    /* the HS-level satp is not used while V=1: satp in VS-mode is vsatp */
    csrw(satp, (8UL << 60) | 0x12345);
    csrw(vsatp, 0);
    probe("csrr satp", MODE_VS, rd_satp, 0);
    /* a write selecting an unsupported mode is ignored (V=1) */
    probe("csrw satp mode 1", MODE_VS, wr_satp, (1UL << 60) | 0x777);
    pr("  vsatp", csrr(vsatp));
    /* (hstatus.VTVM and mstatus.TVM for satp in VS-mode: QEMU 7.2 applies TVM instead of VTVM; see
     * test/hypervisor.test.ts) */
    probe("csrw satp 0", MODE_VS, wr_satp, 0);
    pr("  satp unchanged", csrr(satp));
    csrw(satp, 0);
    csrw(scounteren, 0x5);
    probe("csrr scounteren", MODE_VS, rd_scounteren, 0);
    csrw(scounteren, ~0UL);
    probe("csrr senvcfg", MODE_VS, rd_senvcfg, 0);
    /* sie/sip in VS-mode: vsie/vsip (hideleg decides which bits exist) */
    csrw(hideleg, 0x444);
    probe("csrw sie", MODE_VS, wr_sie, ~0UL);
    pr("  hie", csrr(hie));
    /* (reading sie/sip in VS-mode gives 0 on QEMU 7.2: read through vsie/vsip from M instead) */
    pr("  vsie", csrr(vsie));
    probe("csrw sip", MODE_VS, wr_sip, ~0UL);
    pr("  hvip", csrr(hvip));
    pr("  vsip.SSIP", csrr(vsip) & 2);
    csrw(hvip, 0);
    csrw(hie, 0);
    csrw(hideleg, 0);
    probe("csrw sie hideleg 0", MODE_VS, wr_sie, ~0UL);
    pr("  hie", csrr(hie));

    puts("== counters and time");
    csrw(mcounteren, 0);
    probe("cycle mcounteren=0", MODE_VS, rd_cycle, 0);
    csrw(mcounteren, ~0UL);
    csrw(hcounteren, 0);
    probe("cycle hcounteren=0", MODE_VS, rd_cycle, 0);
    probe("instret hcounteren=0", MODE_VU, rd_instret, 0);
    probe("hpmcounter3 hcounteren=0", MODE_VS, rd_hpm3, 0);
    csrw(hcounteren, ~0UL);
    csrw(scounteren, 0);
    probe("hpmcounter3 scounteren=0", MODE_VS, rd_hpm3, 0);
    probe("hpmcounter3 scounteren=0", MODE_VU, rd_hpm3, 0);
    csrw(scounteren, ~0UL);
    probe("hpmcounter3", MODE_VU, rd_hpm3, 0);
    probe("csrw cycle", MODE_VS, wr_cycle, 0);
    csrw(hcounteren, 0);
    probe("csrw cycle hcounteren=0", MODE_VS, wr_cycle, 0);
    csrw(hcounteren, ~0UL);
    /* time in V=1 is time + htimedelta */
    csrw(htimedelta, 1000000000000UL);
    hclear();
    uint64_t t0 = time_now();
    uint64_t tv = run_in(MODE_VS, rd_time, 0);
    uint64_t t1 = time_now();
    pr("time in VS ahead by htimedelta", !htrapped() && tv - 1000000000000UL >= t0 && tv - 1000000000000UL <= t1);
    csrw(htimedelta, -(int64_t)(t0 + 100000000));
    tv = run_in(MODE_VU, rd_time, 0);
    pr("time in VU with negative delta wraps", !htrapped() && (tv >> 63) == 1);
    csrw(htimedelta, 0);

    puts("== Sstc: stimecmp in VS is vstimecmp");
    csrw(menvcfg, 0);
    csrw(henvcfg, 0);
    probe("stimecmp menvcfg.STCE=0", MODE_VS, rd_stimecmp, 0);
    probe("vstimecmp menvcfg.STCE=0", MODE_HS, rd_vstimecmp, 0);
    csrw(menvcfg, MENVCFG_STCE);
    probe("stimecmp henvcfg.STCE=0", MODE_VS, rd_stimecmp, 0);
    probe("vstimecmp from HS", MODE_HS, rd_vstimecmp, 0);
    csrw(henvcfg, MENVCFG_STCE);
    csrw(vstimecmp, 0x42);
    probe("stimecmp", MODE_VS, rd_stimecmp, 0);
    probe("csrw stimecmp", MODE_VS, wr_stimecmp, -1UL);
    pr("  vstimecmp", csrr(vstimecmp));
    pr("  stimecmp", csrr(stimecmp));
    csrw(hcounteren, ~2UL);
    probe("stimecmp hcounteren.TM=0", MODE_VS, rd_stimecmp, 0);
    csrw(hcounteren, ~0UL);
    csrw(mcounteren, ~2UL);
    probe("stimecmp mcounteren.TM=0", MODE_VS, rd_stimecmp, 0);
    probe("vstimecmp mcounteren.TM=0", MODE_HS, rd_vstimecmp, 0);
    csrw(mcounteren, ~0UL);
    csrw(henvcfg, 0);
    csrw(menvcfg, 0);

    puts("== access from VU");
    /* (S CSRs from VU-mode are virtual-instruction exceptions; QEMU 7.2 raises illegal instruction: see
     * test/hypervisor.test.ts) */
    probe("csrr stimecmp (Sstc off)", MODE_VU, rd_stimecmp, 0);
    probe("csrr hstatus", MODE_VU, rd_hstatus, 0);
    probe("csrr vsstatus", MODE_VU, rd_vsstatus, 0);
    probe("csrr mstatus", MODE_VU, rd_mstatus, 0);
    hclear();
    run_in(MODE_VU, rd_cycle, 0);
    pr("VU csrr cycle: traps", hcount - hmark);

    puts("== FP CSRs need FS on in sstatus and vsstatus");
    csrw(vsstatus, 0);
    probe("csrr fflags vsstatus.FS=0", MODE_VS, rd_fflags, 0);
    probe("csrr fflags vsstatus.FS=0", MODE_VU, rd_fflags, 0);
    csrw(vsstatus, 1UL << 13);
    csrc(mstatus, MSTATUS_FS);
    probe("csrr fflags mstatus.FS=0", MODE_VS, rd_fflags, 0);
    csrs(mstatus, 1UL << 13);
    probe("csrw fcsr", MODE_VS, wr_fcsr, 0x25);
    /* (mstatus.FS becomes Dirty as well, and vsstatus.SD is set; QEMU 7.2 does neither) */
    pr("  vsstatus.FS", (csrr(vsstatus) >> 13) & 3);
    probe("csrr fcsr", MODE_VU, rd_fcsr, 0);
    csrw(fcsr, 0);
    csrw(vsstatus, 1UL << 13);
    csrc(mstatus, MSTATUS_FS);
    csrs(mstatus, 1UL << 13);
}

int main(void)
{
    hyp_init();
    registers();
    interrupts();
    access_rules();
    return 0;
}
