/* CSR basics: reset values visible to a -bios none program, ID CSRs, misa
 * (and WARL writes), WARL behaviour of mstatus/sstatus, medeleg/mideleg,
 * mie/mip/sie/sip, mtvec/stvec modes, mepc/sepc alignment, satp modes,
 * counteren, envcfg, csrrw/csrrs/csrrc(+i) semantics incl. x0 forms and
 * read-only CSR writes, counters increasing. */
#include "trap.h"

#define SHOWW(csr, val) do { csrw(csr, val); pr(#csr " <- " #val, csrr(csr)); } while (0)
/* QEMU 7.2 keeps some bits that the spec makes read-only (e.g. mstatus
 * UXL/MPV/GVA, medeleg[11], VS-level bits of mideleg/mie/mip without H,
 * upper bits of mcounteren/mcountinhibit, menvcfg.PBMTE/CBIE without the
 * extensions).  Those are masked out of the printed value so the emulator is
 * free to implement the architectural behaviour. */
#define SHOWM(csr, val, mask) do { csrw(csr, val); pr(#csr " <- " #val " (& " #mask ")", csrr(csr) & (mask)); } while (0)
/* mstatus bits written by the all-ones tests: not UXL/SXL/SBE/MBE/GVA/MPV
 * (bits 32-39) and not VS (bits 9-10; the spec lets VS be read-only zero or
 * writable without the V extension, QEMU 7.2 makes it writable) */
#define MS_MASK (~(0xffUL << 32) & ~(3UL << 9))

int main(uint64_t hartid)
{
    /* values at entry (crt0 saved mstatus/mtvec before touching them) */
    pr("a0 hartid", hartid);
    pr("reset mstatus", reset_mstatus);
    pr("reset mtvec", reset_mtvec);
    pr("misa", csrr(misa));
    pr("mvendorid", csrr(mvendorid));
    pr("marchid", csrr(marchid));
    pr("mimpid", csrr(mimpid));
    pr("mhartid", csrr(mhartid));
    pr("mconfigptr", csrr(0xf15));
    pr("mie", csrr(mie));
    pr("mip", csrr(mip));
    pr("medeleg", csrr(medeleg));
    pr("mideleg", csrr(mideleg));
    pr("mcounteren", csrr(mcounteren));
    pr("scounteren", csrr(scounteren));
    pr("menvcfg", csrr(menvcfg));
    pr("senvcfg", csrr(senvcfg));
    pr("mcountinhibit", csrr(mcountinhibit));
    pr("satp", csrr(satp));
    pr("stvec", csrr(stvec));
    pr("sscratch", csrr(sscratch));
    pr("mepc", csrr(mepc));
    pr("mcause", csrr(mcause));
    pr("mtval", csrr(mtval));
    pr("sepc", csrr(sepc));
    pr("scause", csrr(scause));
    pr("stval", csrr(stval));
    pr("pmpcfg0", csrr(pmpcfg0));
    pr("pmpcfg2", csrr(pmpcfg2));
    pr("pmpaddr0", csrr(pmpaddr0));
    pr("pmpaddr15", csrr(pmpaddr15));
    pr("stimecmp", csrr(0x14d));
    pr("fcsr", csrr(fcsr));
    pr("mstatus now", csrr(mstatus));

    /* misa WARL */
    uint64_t misa = csrr(misa);
    SHOWW(misa, 0);
    SHOWW(misa, misa & ~(1UL << 2));
    SHOWW(misa, misa & ~(1UL << 5 | 1UL << 3));
    csrw(misa, misa);

    /* mstatus WARL */
    uint64_t ms = csrr(mstatus);
    SHOWW(mstatus, MS_MASK);
    SHOWW(mstatus, 0UL);
    /* (QEMU 7.2 keeps the reserved MPP=2 value: not tested) */
    SHOWW(mstatus, 1UL << 11);
    SHOWW(mstatus, 3UL << 13); /* FS dirty -> SD */
    SHOWW(mstatus, 1UL << 13);
    SHOWW(mstatus, 3UL << 15); /* XS (read-only 0) */
    SHOWW(mstatus, 1UL << 36 | 1UL << 37);     /* SBE/MBE (little-endian only) */
    SHOWW(mstatus, 1UL << 6);                  /* UBE */
    csrw(mstatus, ms);
    SHOWW(sstatus, MS_MASK);
    pr("  mstatus", csrr(mstatus));
    SHOWW(sstatus, 0UL);
    pr("  mstatus", csrr(mstatus));
    csrw(mstatus, ms);

    /* trap delegation / interrupt enables */
    SHOWM(medeleg, ~0UL, 0xb3ffUL);
    SHOWW(medeleg, 0UL);
    SHOWM(mideleg, ~0UL, 0xaaaUL);
    SHOWM(mie, ~0UL, 0xaaaUL);
    pr("  sie", csrr(sie) & 0x222);
    SHOWW(sie, 0UL);
    pr("  mie", csrr(mie) & 0xaaa);
    SHOWM(sie, ~0UL, 0x222UL);
    pr("  mie", csrr(mie) & 0xaaa);
    SHOWM(mip, ~0UL, 0xaaaUL);
    pr("  sip", csrr(sip) & 0x222);
    SHOWW(sip, 0UL);
    pr("  mip", csrr(mip) & 0xaaa);
    SHOWW(mip, 0UL);
    SHOWW(mideleg, 0UL);
    pr("  sie (mideleg=0)", csrr(sie));
    SHOWW(sie, ~0UL);
    pr("  mie", csrr(mie) & 0xaaa);
    SHOWW(mie, 0UL);
    SHOWW(mideleg, 1UL << 1);
    SHOWW(sip, ~0UL);
    pr("  mip", csrr(mip));
    SHOWW(sip, 0UL);
    SHOWW(mideleg, 0UL);

    /* trap vectors */
    uint64_t mt = csrr(mtvec);
    SHOWW(mtvec, 0x80001001UL);
    SHOWW(mtvec, 0x80001002UL);
    SHOWW(mtvec, 0x80001003UL);
    SHOWW(mtvec, 0x80001104UL);
    SHOWW(mtvec, 0x80001106UL);
    csrw(mtvec, mt);
    SHOWW(stvec, 0x80002001UL);
    SHOWW(stvec, 0x80002002UL);
    SHOWW(stvec, 0x80002007UL);
    SHOWW(stvec, 0UL);
    /* (QEMU 7.2 does not clear bit 0 of mepc/sepc on write: not tested) */
    SHOWW(mepc, ~1UL);
    SHOWW(mepc, 0x80000002UL);
    SHOWW(sepc, ~1UL);
    SHOWW(sepc, 0x80000006UL);
    SHOWW(mcause, ~0UL);
    SHOWW(mcause, 0x800000000000000bUL);
    SHOWW(scause, ~0UL);
    SHOWW(mtval, ~0UL);
    SHOWW(stval, ~0UL);
    SHOWW(mscratch, ~0UL);
    SHOWW(sscratch, 0x123UL);
    csrw(mscratch, (uint64_t)0);
    {
        extern char __mtrap_stack_top[];
        csrw(mscratch, (uint64_t)__mtrap_stack_top);
    }

    /* satp */
    SHOWW(satp, 1UL << 60 | 5);   /* reserved mode 1: ignored */
    SHOWW(satp, 8UL << 60 | 0xffffUL << 44 | 0xfffffffffffUL);
    SHOWW(satp, 9UL << 60 | 0x1234UL << 44 | 0x80000UL);
    SHOWW(satp, 10UL << 60 | 0x80001UL);
    SHOWW(satp, 11UL << 60 | 0x80001UL);
    SHOWW(satp, 15UL << 60);
    SHOWW(satp, 0UL);

    /* counters, envcfg */
    SHOWM(mcounteren, ~0UL, 0xffffffffUL);
    SHOWW(mcounteren, 0UL);
    SHOWM(scounteren, ~0UL, 0xffffffffUL);
    SHOWW(scounteren, 0UL);
    SHOWM(menvcfg, ~0UL, 0x8000000000000001UL);
    SHOWW(menvcfg, 0UL);
    SHOWM(senvcfg, ~0UL, 1UL);
    SHOWW(senvcfg, 0UL);
    SHOWM(mcountinhibit, ~0UL, 0x5UL);
    SHOWW(mcountinhibit, 0UL);

    /* pmp: (QEMU 7.2 stores reserved R=0/W=1 combinations and bits 5-6 as
     * written: not tested) */
    SHOWW(pmpcfg0, 0x0103040507080901UL);
    SHOWW(pmpcfg0, 0x1f1f1f1f1f1f1f1fUL);
    SHOWW(pmpcfg0, 0UL);
    SHOWM(pmpaddr0, ~0UL, (1UL << 54) - 1); /* QEMU 7.2 keeps bits 63:54 */
    SHOWW(pmpaddr0, 0UL);
    SHOWW(pmpcfg2, 0x1f1f1f1f1f1f1f1fUL);
    SHOWW(pmpcfg2, 0UL);

    /* csr instruction forms */
    {
        uint64_t old, r;
        csrw(mscratch, 0xf0f0UL);
        __asm__ volatile("csrrs %0, mscratch, %1" : "=r"(old) : "r"(0x0f00UL));
        pr2("csrrs", old, csrr(mscratch));
        __asm__ volatile("csrrc %0, mscratch, %1" : "=r"(old) : "r"(0x00f0UL));
        pr2("csrrc", old, csrr(mscratch));
        __asm__ volatile("csrrwi %0, mscratch, 0x1f" : "=r"(old));
        pr2("csrrwi", old, csrr(mscratch));
        __asm__ volatile("csrrsi %0, mscratch, 0x10" : "=r"(old));
        pr2("csrrsi", old, csrr(mscratch));
        __asm__ volatile("csrrci %0, mscratch, 0x3" : "=r"(old));
        pr2("csrrci", old, csrr(mscratch));
        __asm__ volatile("csrrw x0, mscratch, %0" :: "r"(0x77UL));
        pr("csrrw x0", csrr(mscratch));
        __asm__ volatile("csrrw %0, mscratch, %0" : "=r"(r) : "0"(0x99UL));
        pr2("csrrw rd=rs1", r, csrr(mscratch));
        extern char __mtrap_stack_top[];
        csrw(mscratch, (uint64_t)__mtrap_stack_top);

        /* read-only CSRs: reads fine, csrrs/csrrc with x0 / zero imm are
         * reads, any write form traps */
        trap_clear();
        __asm__ volatile("csrrs %0, mvendorid, x0" : "=r"(r));
        __asm__ volatile("csrrci %0, mhartid, 0" : "=r"(r));
        print_trap("ro read forms", &mtrap);
        /* (csrrs with rs1 != x0 holding zero on a read-only CSR is a write
         * attempt and must trap; QEMU 7.2 does not trap: not tested) */
        __asm__ volatile("csrrw x0, mhartid, x0");
        print_trap("csrrw mhartid", &mtrap);
        __asm__ volatile("csrrsi %0, cycle, 1" : "=r"(r));
        print_trap("csrrsi cycle", &mtrap);
        __asm__ volatile("csrrw x0, 0xc02, x0");
        print_trap("csrrw instret", &mtrap);
        __asm__ volatile("csrr %0, 0x7c0" : "=r"(r));
        print_trap("csrr 0x7c0 (custom, absent)", &mtrap);
        __asm__ volatile("csrr %0, 0x7a0" : "=r"(r));
        print_trap("csrr tselect", &mtrap);
        __asm__ volatile("csrr %0, 0xb03" : "=r"(r));
        print_trap("csrr mhpmcounter3", &mtrap);
        __asm__ volatile("csrr %0, 0x200" : "=r"(r));
        print_trap("csrr vsstatus", &mtrap);
        __asm__ volatile("csrr %0, 0x600" : "=r"(r));
        print_trap("csrr hstatus", &mtrap);
        __asm__ volatile("csrr %0, 0x747" : "=r"(r));
        print_trap("csrr mseccfg", &mtrap);
    }

    /* counters move */
    {
        uint64_t c0 = csrr(cycle), t0 = csrr(time), i0 = csrr(instret);
        uint64_t m0 = csrr(mcycle), n0 = csrr(minstret);
        for (volatile int i = 0; i < 1000; i++)
            ;
        uint64_t c1 = csrr(cycle), t1 = csrr(time), i1 = csrr(instret);
        uint64_t m1 = csrr(mcycle), n1 = csrr(minstret);
        pr("cycle increased", c1 > c0);
        pr("time increased", t1 > t0);
        pr("instret increased", i1 > i0);
        pr("mcycle increased", m1 > m0);
        pr("minstret increased", n1 > n0);
        csrw(mcycle, 0x100000000000UL);
        csrw(minstret, 0x200000000000UL);
        uint64_t a = csrr(mcycle), b = csrr(minstret);
        pr("mcycle after write >= written", a >= 0x100000000000UL && a < 0x100000000000UL + 0x10000000UL);
        pr("minstret after write >= written", b >= 0x200000000000UL && b < 0x200000000000UL + 0x10000000UL);
        pr("time == mtime (same 10MHz clock, within 1ms)", (int64_t)(csrr(time) - mmio_read64(CLINT_MTIME)) < 10000);
    }
    return 0;
}
