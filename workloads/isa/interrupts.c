/* Interrupts: CLINT timer (mtimecmp) and software (msip) interrupts, WFI
 * wake-up (M with MIE=0, S with TW=0, TW=1 illegal), priorities among
 * pending interrupts, mideleg delegation to S (taken in S with SIE, always in
 * U, never in M), M-level interrupts in S with MIE=0, mip/sip writability,
 * vectored mtvec/stvec (vector index), Sstc stimecmp (menvcfg.STCE,
 * mcounteren.TM).  Interrupts are only enabled once already pending so the
 * trap point is deterministic. */
#include "trap.h"

#define MIP_SSIP (1UL << 1)
#define MIP_MSIP (1UL << 3)
#define MIP_STIP (1UL << 5)
#define MIP_MTIP (1UL << 7)
#define MIP_SEIP (1UL << 9)
#define MENVCFG_STCE (1UL << 63)

static volatile char logbuf[64];
static volatile int nlog;
static volatile uint64_t last_epc;

static void logc(char lvl, uint64_t cause)
{
    if (nlog < 60) {
        logbuf[nlog++] = lvl;
        logbuf[nlog++] = "0123456789abcdef"[cause & 0xf];
    }
}

static void show_log(const char *tag)
{
    print(tag);
    print(": [");
    for (int i = 0; i < nlog; i += 2) {
        if (i)
            putchar_(' ');
        putchar_(logbuf[i]);
        putchar_(logbuf[i + 1]);
    }
    puts("]");
    nlog = 0;
}

static int m_int(struct trap_frame *f)
{
    if (!(f->cause & CAUSE_INTR))
        return 0;
    uint64_t c = f->cause & 0xff;
    logc('M', c);
    last_epc = f->epc;
    switch (c) {
    case 3: mmio_write32(CLINT_MSIP, 0); break;
    case 7: mmio_write64(CLINT_MTIMECMP, ~0UL); break;
    case 1: csrc(mip, MIP_SSIP); break;
    case 5:
        if (csrr(menvcfg) & MENVCFG_STCE)
            csrw(0x14d, ~0UL);
        else
            csrc(mip, MIP_STIP);
        break;
    case 9: csrc(mip, MIP_SEIP); break;
    default: puts("bad M interrupt"); exit(7);
    }
    return 1;
}

static int s_int(struct trap_frame *f)
{
    if (!(f->cause & CAUSE_INTR))
        return 0;
    uint64_t c = f->cause & 0xff;
    logc('S', c);
    last_epc = f->epc;
    switch (c) {
    case 1: csrc(sip, MIP_SSIP); break;
    case 5: csrc(sie, MIP_STIP); break;  /* STIP is M-owned: mask it */
    case 9: csrc(sie, MIP_SEIP); break;
    default: break;
    }
    return 1;
}

static uint64_t mtime(void) { return mmio_read64(CLINT_MTIME); }

extern char l_a[], l_b[], l_c[], l_d[], l_e[], l_wfi_s[], l_sstc[];

static uint64_t s_enable_sie(uint64_t x)
{
    __asm__ volatile("csrsi sstatus, 2\nl_d:\n\tcsrci sstatus, 2" ::: "memory");
    return x;
}
static uint64_t nop_fn(uint64_t x)
{
    __asm__ volatile("nop");
    return x;
}
static uint64_t s_wfi(uint64_t x)
{
    __asm__ volatile(".option push\n.option norvc\nl_wfi_s: wfi\n.option pop" ::: "memory");
    return x;
}
static uint64_t s_wfi_sstc(uint64_t delta)
{
    csrw(0x14d, csrr(time) + delta);
    do
        __asm__ volatile("wfi");
    while (!(csrr(sip) & MIP_STIP));
    return csrr(sip);
}
static uint64_t s_read_stimecmp(uint64_t x)
{
    (void)x;
    return csrr(0x14d);
}
static uint64_t s_sstc(uint64_t delta)
{
    csrw(0x14d, csrr(time) + delta);
    csrs(sie, MIP_STIP);
    uint64_t n = 0;
    while (!(csrr(sip) & MIP_STIP))
        n++;
    __asm__ volatile("csrsi sstatus, 2\nl_sstc:\n\tcsrci sstatus, 2" ::: "memory");
    return csrr(sip);
}

int main(void)
{
    pmp_allow_all();
    s_trap_init();
    m_hook = m_int;
    s_hook = s_int;
    mmio_write64(CLINT_MTIMECMP, ~0UL);
    pr("mip after mtimecmp=~0", csrr(mip));

    /* A: timer, WFI wake-up with MIE=0 */
    csrw(mie, MIP_MTIP);
    mmio_write64(CLINT_MTIMECMP, mtime() + 200);
    while (!(csrr(mip) & MIP_MTIP))
        __asm__ volatile("wfi");
    pr("A mip", csrr(mip));
    show_log("A before MIE");
    __asm__ volatile("csrsi mstatus, 8\nl_a:\n\tcsrci mstatus, 8" ::: "memory");
    show_log("A timer");
    pr("A epc-label", last_epc - (uint64_t)l_a);
    pr("A mip after", csrr(mip));

    /* B: software interrupt */
    mmio_write32(CLINT_MSIP, 1);
    pr("B msip", mmio_read32(CLINT_MSIP));
    pr("B mip", csrr(mip));
    csrw(mie, MIP_MSIP);
    __asm__ volatile("csrsi mstatus, 8\nl_b:\n\tcsrci mstatus, 8" ::: "memory");
    show_log("B software");
    pr("B epc-label", last_epc - (uint64_t)l_b);
    pr("B mip after", csrr(mip));

    /* C: priorities (nothing delegated).  QEMU 7.2 without AIA takes the
     * lowest-numbered pending interrupt first, which differs from the
     * architectural order (MEI MSI MTI SEI SSI STI) when M- and S-level
     * interrupts or SEI/STI are mixed; only pairs on which both orders agree
     * are tested: MSI before MTI, SSI before STI. */
    mmio_write32(CLINT_MSIP, 1);
    mmio_write64(CLINT_MTIMECMP, 0);
    csrw(mie, MIP_MSIP | MIP_MTIP);
    pr("C mip", csrr(mip));
    __asm__ volatile("csrsi mstatus, 8\n\tcsrci mstatus, 8" ::: "memory");
    show_log("C priority MSI/MTI");
    csrs(mip, MIP_SSIP | MIP_STIP);
    csrw(mie, MIP_SSIP | MIP_STIP);
    pr("C mip", csrr(mip));
    __asm__ volatile("csrsi mstatus, 8\nl_c:\n\tcsrci mstatus, 8" ::: "memory");
    show_log("C priority SSI/STI");
    pr("C epc-label", last_epc - (uint64_t)l_c);
    pr("C mip after", csrr(mip));

    /* D: delegated to S, taken in S when SIE=1 */
    csrw(mideleg, MIP_SSIP | MIP_STIP | MIP_SEIP);
    csrs(mip, MIP_SSIP | MIP_STIP);
    csrw(mie, MIP_SSIP | MIP_STIP | MIP_SEIP);
    pr("D sip", csrr(sip));
    pr("D sie", csrr(sie));
    run_mode(PRV_S, s_enable_sie, 0);
    show_log("D in S");
    pr("D epc-label", last_epc - (uint64_t)l_d);
    pr("D mip after", csrr(mip));
    csrc(mip, MIP_STIP);
    csrs(mip, MIP_SEIP);
    csrw(mie, MIP_SSIP | MIP_STIP | MIP_SEIP);

    /* E: delegated interrupts are taken in U even with SIE=0 */
    csrc(mstatus, MSTATUS_SIE);
    run_mode(PRV_U, nop_fn, 0);
    show_log("E in U");
    pr("E epc-fn", last_epc - (uint64_t)nop_fn);

    /* G: delegated interrupts are not taken in M (even with MIE=1, SIE=1) */
    csrs(sip, MIP_SSIP);
    csrs(mstatus, MSTATUS_SIE);
    __asm__ volatile("csrsi mstatus, 8\n\tnop\n\tcsrci mstatus, 8" ::: "memory");
    show_log("G in M");
    pr("G mip", csrr(mip));
    csrc(mstatus, MSTATUS_SIE);
    csrc(sip, MIP_SSIP);

    /* F: M timer while in S with MIE=0 */
    csrw(mie, MIP_MTIP);
    mmio_write64(CLINT_MTIMECMP, 0);
    run_mode(PRV_S, nop_fn, 0);
    show_log("F M-int in S");
    pr("F epc-fn", last_epc - (uint64_t)nop_fn);

    /* H: vectored modes */
    csrw(mtvec, (uint64_t)m_vec_table | 1);
    mmio_write64(CLINT_MTIMECMP, 0);
    __asm__ volatile("csrsi mstatus, 8\nl_e:\n\tcsrci mstatus, 8" ::: "memory");
    show_log("H vectored M timer");
    pr("H vec", mtrap.vec);
    pr("H epc-label", last_epc - (uint64_t)l_e);
    csrw(stvec, (uint64_t)s_vec_table | 1);
    csrw(mie, MIP_SSIP);
    csrs(sip, MIP_SSIP);
    run_mode(PRV_U, nop_fn, 0);
    show_log("H vectored S soft");
    pr("H vec", strap.vec);
    csrw(mtvec, (uint64_t)m_trap_entry);
    s_trap_init();

    /* I: WFI in S (TW=0) wakes on a pending-and-enabled interrupt even when
     * it is not taken (delegated STIP from Sstc, SIE=0); with TW=1 wfi in S
     * traps as illegal */
    csrw(menvcfg, MENVCFG_STCE);
    csrw(mcounteren, 2);
    csrw(mideleg, MIP_STIP);
    csrw(mie, MIP_STIP);
    csrc(mstatus, MSTATUS_SIE);
    trap_clear();
    pr("I sip after wfi in S", run_mode(PRV_S, s_wfi_sstc, 300));
    show_log("I wfi in S");
    print_trap("I traps", &mtrap);
    csrw(0x14d, ~0UL);
    csrw(menvcfg, 0);
    csrw(mcounteren, 0);
    csrw(mideleg, 0);
    csrw(mie, MIP_MTIP);
    csrs(mstatus, MSTATUS_TW);
    trap_clear();
    run_mode(PRV_S, s_wfi, 0);
    print_trap("I wfi in S, TW=1", &mtrap);
    pr("I epc-wfi", mtrap.epc - (uint64_t)l_wfi_s);
    trap_clear();
    mmio_write64(CLINT_MTIMECMP, mtime() + 300);
    __asm__ volatile("wfi");
    pr("I wfi in M with TW=1 woke, traps", mtrap.count);
    while (!(csrr(mip) & MIP_MTIP))
        ;
    mmio_write64(CLINT_MTIMECMP, ~0UL);
    csrc(mstatus, MSTATUS_TW);
    show_log("I end");

    /* J: Sstc */
    csrw(mideleg, MIP_STIP);
    csrw(mie, MIP_STIP);
    trap_clear();
    run_mode(PRV_S, s_read_stimecmp, 0);
    print_trap("J S stimecmp, STCE=0", &mtrap);
    csrw(menvcfg, MENVCFG_STCE);
    trap_clear();
    run_mode(PRV_S, s_read_stimecmp, 0);
    print_trap("J S stimecmp, STCE=1 TM=0", &mtrap);
    csrw(mcounteren, 2);
    trap_clear();
    run_mode(PRV_S, s_read_stimecmp, 0);
    print_trap("J S stimecmp, STCE=1 TM=1", &mtrap);
    csrw(0x14d, ~0UL);
    pr("J mip (stimecmp=~0)", csrr(mip));
    csrs(mip, MIP_STIP);
    pr("J mip after setting STIP by csr", csrr(mip));
    csrw(0x14d, 0);
    pr("J mip (stimecmp=0)", csrr(mip));
    csrc(mip, MIP_STIP);
    pr("J mip after clearing STIP by csr", csrr(mip));
    csrw(0x14d, ~0UL);
    uint64_t sip = run_mode(PRV_S, s_sstc, 200);
    show_log("J sstc timer in S");
    pr("J epc-label", last_epc - (uint64_t)l_sstc);
    pr("J sip after", sip);
    csrw(0x14d, ~0UL);
    csrw(menvcfg, 0);
    csrw(mcounteren, 0);
    csrw(mideleg, 0);
    csrw(mie, 0);
    m_hook = 0;
    s_hook = 0;
    return 0;
}
