/* sbi_host: checks every SBI function Salus offers its host, against the
 * SBI 2.0 specification, and the isolation Salus gives itself.
 *
 * Loaded as the host "kernel" at 0x80200000 (salus boot --mode salus
 * --kernel sbi_host.elf --mem 128M) and entered in VS-mode, where it sees
 * itself as S-mode, with a0 = hart id and a1 = the host device tree.  Uses
 * the S-mode runtime in cove/ (PASS/FAIL lines, trap recorder) and adds an
 * interrupt-aware trap entry: interrupts are recorded and their source
 * masked, fetch access faults return to the caller, every other exception
 * goes to the runtime's recorder (which skips the faulting instruction).
 *
 * Covered: Base (all FIDs, probes), TIME, IPI, RFENCE (incl. the HFENCE
 * FIDs, which the host must not have), HSM, SRST (argument checks and the
 * final shutdown), DBCN, the legacy calls Salus serves (set_timer, putchar,
 * getchar, clear_ipi) and the ones it does not, unknown EIDs/FIDs; the host
 * device tree (no H, host RAM only, no CLINT); H-extension instructions
 * trapping as illegal; access faults for Salus's memory, holes and the
 * CLINT; WFI; the emulated PLIC supervisor context.  One line per check,
 * then "sbi_host: N checks, M failed" and "All OK"; SRST shutdown with
 * reason 0 (all passed) or 1 (system failure). */
#include "rt.h"

/* The machine salus boot sets up with --mem 128M. */
#define RAM_BASE      0x80000000UL
#define RAM_END       0x88000000UL
#define SALUS_MEM     0x87800000UL   /* Salus keeps the top 8 MiB */
#define SALUS_LAST    0x87fff000UL
#define HOLE          0x40000000UL   /* nothing on the bus */
#define CLINT         0x02000000UL
#define CLINT_MTIMECMP (CLINT + 0x4000)
#define CLINT_MTIME   (CLINT + 0xbff8)
#define PLIC          0x0c000000UL
#define PLIC_S_CTX    (PLIC + 0x201000)  /* hart 0, context 1 (S-mode): emulated by Salus */
#define PLIC_S_ENABLE (PLIC + 0x2080)    /* context 1's enable bits 0..31 (mapped for the host) */
#define PLIC_PRIORITY(src) (PLIC + 4 * (src))
#define UART          0x10000000UL
#define UART_IER      1
#define UART_IER_THRI 0x02
#define UART_IRQ      10

/* SBI extensions and functions beyond cove.h */
#define EID_LEGACY_SET_TIMER 0x00UL
#define EID_LEGACY_GETCHAR   0x02UL
#define EID_LEGACY_CLEAR_IPI 0x03UL
#define EID_LEGACY_SEND_IPI  0x04UL
#define EID_LEGACY_FENCE_I   0x05UL
#define EID_LEGACY_SFENCE    0x06UL
#define EID_LEGACY_SFENCE_ASID 0x07UL
#define EID_LEGACY_SHUTDOWN  0x08UL
#define EID_TIME  0x54494D45UL
#define EID_IPI   0x00735049UL
#define EID_RFNC  0x52464E43UL
#define EID_HSM   0x0048534DUL
#define EID_PMU   0x00504D55UL
#define EID_SUSP  0x53555350UL
#define EID_CPPC  0x43505043UL
#define EID_STA   0x00535441UL
#define EID_UNKNOWN 0x0BADBAD0UL
#define BASE_IMPL_VERSION 2
#define BASE_MVENDORID    4
#define BASE_MARCHID      5
#define BASE_MIMPID       6
#define HSM_HART_START  0
#define HSM_HART_STOP   1
#define HSM_GET_STATUS  2
#define HSM_SUSPEND     3
#define HSM_STARTED     0
#define SBI_SPEC_2_0    0x02000000UL
/* Salus's implementation ID ("SALU") and version 0.1 (runtime/firmware/sbi.ts). */
#define SALUS_IMPL_ID      0x53414C55UL
#define SALUS_IMPL_VERSION 0x00000001UL
/* The emulated hart's machine IDs (runtime/csr.ts): mvendorid 0 ("not
 * implemented"), marchid and mimpid those of QEMU 7.2's virt machine. */
#define HART_MVENDORID 0UL
#define HART_MARCHID   0x70216UL
#define HART_MIMPID    0x70216UL

#define SIE_SSIE (1UL << 1)
#define SIE_STIE (1UL << 5)
#define SIE_SEIE (1UL << 9)
#define SSTATUS_SIE (1UL << 1)
#define IRQ_S_SOFT  (CAUSE_INTERRUPT | 1)
#define IRQ_S_TIMER (CAUSE_INTERRUPT | 5)
#define IRQ_S_EXT   (CAUSE_INTERRUPT | 9)
#define CAUSE_FETCH_ACCESS 1
#define CAUSE_ILLEGAL      2

/* con_putc: cove/dbcn_console.c */

/* ---- trap entry: interrupts and fetch faults here, the rest to trap_entry ---- */
struct irq_rec { uint64_t count, cause, time; };
volatile struct irq_rec irq_rec;
struct fetch_rec { uint64_t count, epc, tval; };
volatile struct fetch_rec fetch_rec;
uint64_t host_trap_save[2];
static unsigned long expected_irqs, expected_fetch_faults;

__asm__(
    "   .text\n"
    "   .balign 4\n"
    "   .global host_trap\n"
    "host_trap:\n"
    "   csrw    sscratch, t0\n"
    "   la      t0, host_trap_save\n"
    "   sd      t1, 0(t0)\n"
    "   sd      t2, 8(t0)\n"
    "   csrr    t1, scause\n"
    "   bltz    t1, 1f\n"
    "   li      t2, 1\n"                  /* fetch access fault: return to the caller (ra) */
    "   beq     t1, t2, 2f\n"
    "   ld      t1, 0(t0)\n"              /* any other exception: the runtime's recorder */
    "   ld      t2, 8(t0)\n"
    "   csrr    t0, sscratch\n"
    "   j       trap_entry\n"
    /* interrupt: count it, note cause and time, mask its source (sie) and
     * clear it where software can (sip.SSIP) */
    "1: la      t0, irq_rec\n"
    "   ld      t2, 0(t0)\n"
    "   addi    t2, t2, 1\n"
    "   sd      t2, 0(t0)\n"
    "   sd      t1, 8(t0)\n"
    "   rdtime  t2\n"
    "   sd      t2, 16(t0)\n"
    "   andi    t1, t1, 63\n"
    "   li      t2, 1\n"
    "   sll     t2, t2, t1\n"
    "   csrc    sie, t2\n"
    "   csrc    sip, t2\n"
    "   j       3f\n"
    "2: la      t0, fetch_rec\n"
    "   ld      t2, 0(t0)\n"
    "   addi    t2, t2, 1\n"
    "   sd      t2, 0(t0)\n"
    "   csrr    t2, sepc\n"
    "   sd      t2, 8(t0)\n"
    "   csrr    t2, stval\n"
    "   sd      t2, 16(t0)\n"
    "   csrw    sepc, ra\n"
    "3: la      t0, host_trap_save\n"
    "   ld      t1, 0(t0)\n"
    "   ld      t2, 8(t0)\n"
    "   csrr    t0, sscratch\n"
    "   sret\n");
extern char host_trap[];

#define csrw(csr, v) __asm__ volatile("csrw " #csr ", %0" ::"r"((uint64_t)(v)) : "memory")
#define csrs(csr, v) __asm__ volatile("csrs " #csr ", %0" ::"r"((uint64_t)(v)) : "memory")
#define csrc(csr, v) __asm__ volatile("csrc " #csr ", %0" ::"r"((uint64_t)(v)) : "memory")
static inline uint64_t now(void) { uint64_t t; __asm__ volatile("rdtime %0" : "=r"(t)); return t; }
static inline uint32_t rd32(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void wr32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

static uint64_t timebase = 10000000;   /* from /cpus/timebase-frequency */
static uint64_t ms(uint64_t n) { return n * (timebase / 1000); }

/* One check on both halves of an sbiret. */
static int check_ret(const char *name, struct sbiret r, long err, long val)
{
    if (r.error != err)
        return check_err(name, r.error, err);
    return check(name, (uint64_t)r.value, (uint64_t)val);
}

/* A legacy call: the result is in a0 only, a1 must come back unchanged. */
static long legacy(unsigned long eid, unsigned long arg, uint64_t *a1_out)
{
    struct sbiret r = sbi_call(eid, 0, arg, 0x5a5a1234UL, 0, 0, 0, 0);
    if (a1_out)
        *a1_out = (uint64_t)r.value;
    return r.error;
}

/* Run an instruction given as a word; return the trap cause (tval in trap_rec) or NO_TRAP. */
#define PROBE_INSN(word) ({                                            \
    uint64_t before_ = trap_rec.count;                                 \
    __asm__ volatile(".option push\n.option norvc\n.word " #word "\n.option pop" ::: "memory"); \
    uint64_t c_ = trap_rec.count == before_ ? NO_TRAP : trap_rec.cause; \
    expected_traps += trap_rec.count - before_;                        \
    c_; })

static uint64_t probe_load32(uint64_t addr, uint32_t *val)
{
    uint64_t before = trap_rec.count;
    *val = *(volatile uint32_t *)addr;
    if (trap_rec.count == before)
        return NO_TRAP;
    expected_traps += trap_rec.count - before;
    return trap_rec.cause;
}

static uint64_t probe_store32(uint64_t addr, uint32_t val)
{
    uint64_t before = trap_rec.count;
    *(volatile uint32_t *)addr = val;
    if (trap_rec.count == before)
        return NO_TRAP;
    expected_traps += trap_rec.count - before;
    return trap_rec.cause;
}

/* An access fault with stval = the address: one check each. */
static void check_fault(const char *name, uint64_t cause, uint64_t want, uint64_t addr)
{
    check(name, cause, want);
    check(cat(name, "stval"), cause == want ? trap_rec.tval : NO_TRAP, addr);
}

/* ---- device tree (a1 at entry) ---- */
static uint32_t be32(const void *p)
{
    const volatile uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int starts_with(const char *s, const char *p)
{
    while (*p)
        if (*s++ != *p++)
            return 0;
    return 1;
}

/* Whether a property value (NUL-separated strings) holds string s. */
static int has_string(const char *v, uint32_t len, const char *s)
{
    for (uint32_t i = 0; i < len;) {
        const char *e = v + i;
        if (!memcmp(e, s, strlen(s) + 1))
            return 1;
        i += strlen(e) + 1;
    }
    return 0;
}

struct fdt_facts {
    int valid, cpus, clints, plics, salus_props, memories;
    const char *isa;
    uint64_t mem_base, mem_size, timebase;
};

static void parse_fdt(uint64_t addr, struct fdt_facts *f)
{
    const uint8_t *fdt = (const uint8_t *)addr;
    memset(f, 0, sizeof *f);
    if (be32(fdt) != 0xd00dfeed)
        return;
    const uint8_t *p = fdt + be32(fdt + 8), *strings = (const uint8_t *)fdt + be32(fdt + 12);
    const uint8_t *end = fdt + be32(fdt + 4);
    const char *path[8] = { 0 };
    int depth = 0;
    while (p < end) {
        uint32_t tok = be32(p);
        p += 4;
        if (tok == 1) {            /* FDT_BEGIN_NODE */
            const char *name = (const char *)p;
            if (depth < 8)
                path[depth] = name;
            depth++;
            if (depth == 3 && starts_with(path[1], "cpus") && starts_with(name, "cpu@"))
                f->cpus++;
            if (depth == 2 && starts_with(name, "memory"))
                f->memories++;
            p += (strlen(name) + 4) & ~3UL;
        } else if (tok == 2) {     /* FDT_END_NODE */
            depth--;
        } else if (tok == 3) {     /* FDT_PROP */
            uint32_t len = be32(p), nameoff = be32(p + 4);
            const char *name = (const char *)strings + nameoff, *v = (const char *)p + 8;
            if (starts_with(name, "salus,"))
                f->salus_props++;
            if (!memcmp(name, "riscv,isa", 10) && depth == 3 && starts_with(path[2], "cpu@0"))
                f->isa = v;
            if (!memcmp(name, "compatible", 11)) {
                f->clints += has_string(v, len, "riscv,clint0") || has_string(v, len, "sifive,clint0");
                f->plics += has_string(v, len, "riscv,plic0");
            }
            if (!memcmp(name, "reg", 4) && depth == 2 && starts_with(path[1], "memory") && len >= 16) {
                f->mem_base = (uint64_t)be32(v) << 32 | be32(v + 4);
                f->mem_size = (uint64_t)be32(v + 8) << 32 | be32(v + 12);
            }
            if (!memcmp(name, "timebase-frequency", 19) && depth == 2 && starts_with(path[1], "cpus") && len == 4)
                f->timebase = be32(v);
            p += 8 + ((len + 3) & ~3UL);
        } else if (tok == 4) {     /* FDT_NOP */
        } else {                   /* FDT_END or garbage */
            break;
        }
    }
    f->valid = depth == 0;
}

/* The ISA string has no single-letter 'h' (before the first '_') and no "_h..." extension of the hypervisor. */
static int isa_without_h(const char *isa)
{
    if (!isa || !starts_with(isa, "rv64"))
        return 0;
    const char *s = isa + 4;
    for (; *s && *s != '_'; s++)
        if (*s == 'h')
            return 0;
    for (; *s; s++)
        if (s[0] == '_' && s[1] == 'h' && (s[2] == '_' || s[2] == 0))
            return 0;
    return 1;
}

static void test_devicetree(uint64_t hartid, uint64_t dtb)
{
    struct fdt_facts f;
    check("entry_a0_hartid", hartid, 0);
    check_true("entry_a1_in_host_ram", dtb >= RAM_BASE && dtb < SALUS_MEM, dtb);
    parse_fdt(dtb, &f);
    if (!check_true("fdt_valid", f.valid, be32((void *)dtb)))
        return;
    if (f.timebase)
        timebase = f.timebase;
    check("fdt_one_cpu", f.cpus, 1);
    check_true("fdt_isa_present", f.isa != 0, 0);
    if (f.isa) {
        print("sbi_host: riscv,isa = ");
        print(f.isa);
        print("\n");
    }
    check_true("fdt_isa_no_h", isa_without_h(f.isa), 0);
    check("fdt_one_memory_node", f.memories, 1);
    check("fdt_memory_base", f.mem_base, RAM_BASE);
    check("fdt_memory_size_host_only", f.mem_size, SALUS_MEM - RAM_BASE);
    check("fdt_no_clint", f.clints, 0);
    check("fdt_plic", f.plics, 1);
    check("fdt_no_salus_properties", f.salus_props, 0);
    check_true("fdt_timebase", f.timebase != 0, f.timebase);
}

/* ---- Base ---- */
static void test_base(void)
{
    static const struct { const char *name; unsigned long eid; long want; } probes[] = {
        { "base", EID_BASE, 1 }, { "time", EID_TIME, 1 }, { "ipi", EID_IPI, 1 }, { "rfence", EID_RFNC, 1 },
        { "hsm", EID_HSM, 1 }, { "srst", EID_SRST, 1 }, { "dbcn", EID_DBCN, 1 },
        { "legacy_set_timer", EID_LEGACY_SET_TIMER, 1 }, { "legacy_putchar", EID_LEGACY_PUTCHAR, 1 },
        { "legacy_getchar", EID_LEGACY_GETCHAR, 1 }, { "legacy_clear_ipi", EID_LEGACY_CLEAR_IPI, 1 },
        { "legacy_shutdown", EID_LEGACY_SHUTDOWN, 1 },
        /* the TSM's extensions for the host (tellus exercises them) */
        { "covh", EID_COVH, 1 }, { "nacl", EID_NACL, 1 }, { "supd", EID_SUPD, 1 },
        /* not offered to the host */
        { "legacy_send_ipi", EID_LEGACY_SEND_IPI, 0 }, { "legacy_remote_fence_i", EID_LEGACY_FENCE_I, 0 },
        { "legacy_remote_sfence_vma", EID_LEGACY_SFENCE, 0 },
        { "legacy_remote_sfence_vma_asid", EID_LEGACY_SFENCE_ASID, 0 },
        { "pmu", EID_PMU, 0 }, { "susp", EID_SUSP, 0 }, { "cppc", EID_CPPC, 0 }, { "sta", EID_STA, 0 },
        { "covg", EID_COVG, 0 }, { "covi", EID_COVI, 0 }, { "unknown", EID_UNKNOWN, 0 },
    };

    check_ret("base_spec_version", sbi(EID_BASE, BASE_SPEC_VERSION), 0, SBI_SPEC_2_0);
    check_ret("base_impl_id", sbi(EID_BASE, BASE_IMPL_ID), 0, SALUS_IMPL_ID);
    check_ret("base_impl_version", sbi(EID_BASE, BASE_IMPL_VERSION), 0, SALUS_IMPL_VERSION);
    for (unsigned i = 0; i < sizeof probes / sizeof probes[0]; i++)
        check_ret(cat("probe", probes[i].name), sbi(EID_BASE, BASE_PROBE_EXT, probes[i].eid), 0, probes[i].want);
    /* the EID is 32 bits wide: upper bits of a0 are ignored */
    check_ret("probe_upper_bits_ignored", sbi(EID_BASE, BASE_PROBE_EXT, 0xFFFFFFFF00000000UL | EID_TIME), 0, 1);
    check_ret("base_mvendorid", sbi(EID_BASE, BASE_MVENDORID), 0, HART_MVENDORID);
    check_ret("base_marchid", sbi(EID_BASE, BASE_MARCHID), 0, HART_MARCHID);
    check_ret("base_mimpid", sbi(EID_BASE, BASE_MIMPID), 0, HART_MIMPID);
    check_err("base_unknown_fid", sbi(EID_BASE, 7).error, SBI_ERR_NOT_SUPPORTED);
    check_err("base_unknown_fid_large", sbi(EID_BASE, 0x12345).error, SBI_ERR_NOT_SUPPORTED);

    /* All registers but a0 and a1 survive a call (one Salus forwards to the firmware). */
    {
        register unsigned long a0 __asm__("a0") = 0, a1 __asm__("a1") = 0;
        register unsigned long a2 __asm__("a2") = 0x2222, a3 __asm__("a3") = 0x3333;
        register unsigned long a4 __asm__("a4") = 0x4444, a5 __asm__("a5") = 0x5555;
        register unsigned long a6 __asm__("a6") = BASE_MARCHID, a7 __asm__("a7") = EID_BASE;
        __asm__ volatile("ecall" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5), "+r"(a6), "+r"(a7)
                         :: "memory");
        check_true("base_registers_preserved",
                   a2 == 0x2222 && a3 == 0x3333 && a4 == 0x4444 && a5 == 0x5555 && a6 == BASE_MARCHID &&
                       a7 == EID_BASE, a2 ^ a3 ^ a4 ^ a5);
    }
}

/* ---- TIME ---- */
static int stip(void) { return (csrr(sip) & SIE_STIE) != 0; }

/* Wait for one interrupt with SIE set only around wfi, so it cannot slip in between the test and the wfi. */
static int wait_irq(uint64_t before, uint64_t limit)
{
    for (;;) {
        csrc(sstatus, SSTATUS_SIE);
        if (irq_rec.count != before)
            return 1;
        if (now() > limit)
            return 0;
        wfi();
        csrs(sstatus, SSTATUS_SIE);
    }
}

static void test_time(void)
{
    struct sbiret r;
    uint64_t t, deadline, before;

    csrw(sie, 0);
    check_ret("time_set_timer_far", sbi(EID_TIME, 0, ~0UL >> 1), 0, 0);
    check("time_far_not_pending", stip(), 0);

    /* A deadline in the past: STIP at once; set_timer(~0) cancels and clears it. */
    check_ret("time_set_timer_past", sbi(EID_TIME, 0, now()), 0, 0);
    check("time_past_pending", stip(), 1);
    check_ret("time_set_timer_cancel", sbi(EID_TIME, 0, ~0UL), 0, 0);
    check("time_cancel_clears_pending", stip(), 0);

    /* Armed, then cancelled before it fires: nothing pends after the old deadline. */
    deadline = now() + ms(2);
    sbi(EID_TIME, 0, deadline);
    sbi(EID_TIME, 0, ~0UL);
    while (now() <= deadline + ms(1))
        ;
    check("time_cancelled_never_fires", stip(), 0);

    /* A timer a few ms ahead, delivered through the trap handler. */
    before = irq_rec.count;
    t = now();
    deadline = t + ms(5);
    r = sbi(EID_TIME, 0, deadline);
    check_ret("time_set_timer", r, 0, 0);
    check("time_not_yet_pending", stip(), 0);
    csrw(sie, SIE_STIE);
    int got = wait_irq(before, t + ms(2000));
    csrw(sie, 0);
    expected_irqs += irq_rec.count - before;
    check("time_interrupt_arrived", got, 1);
    check("time_interrupt_count", irq_rec.count - before, 1);
    check("time_interrupt_cause", irq_rec.cause, IRQ_S_TIMER);
    check_true("time_interrupt_not_early", irq_rec.time >= deadline, irq_rec.time - deadline);
    check_ret("time_cancel_after_irq", sbi(EID_TIME, 0, ~0UL), 0, 0);
    check("time_cancel_after_irq_clears", stip(), 0);
    check_err("time_unknown_fid", sbi(EID_TIME, 1, 0).error, SBI_ERR_NOT_SUPPORTED);

    /* Legacy set_timer: same effect, result in a0 only. */
    uint64_t a1;
    long e = legacy(EID_LEGACY_SET_TIMER, now(), &a1);
    check_true("legacy_set_timer", e == 0 && a1 == 0x5a5a1234UL && stip(), (uint64_t)e);
    e = legacy(EID_LEGACY_SET_TIMER, ~0UL, &a1);
    check_true("legacy_set_timer_cancel", e == 0 && a1 == 0x5a5a1234UL && !stip(), (uint64_t)e);
}

/* ---- IPI ---- */
static int ssip(void) { return (csrr(sip) & SIE_SSIE) != 0; }

static void test_ipi(void)
{
    uint64_t before = irq_rec.count, a1;

    csrw(sie, SIE_SSIE);
    csrs(sstatus, SSTATUS_SIE);
    struct sbiret r = sbi(EID_IPI, 0, 1, 0);   /* hart 0: taken right after the ecall */
    csrc(sstatus, SSTATUS_SIE);
    csrw(sie, 0);
    expected_irqs += irq_rec.count - before;
    check_ret("ipi_send_self", r, 0, 0);
    check("ipi_interrupt_count", irq_rec.count - before, 1);
    check("ipi_interrupt_cause", irq_rec.cause, IRQ_S_SOFT);
    check("ipi_cleared_by_handler", ssip(), 0);

    /* hart_mask_base = -1: all harts, i.e. this one */
    check_ret("ipi_send_all", sbi(EID_IPI, 0, 0, ~0UL), 0, 0);
    check("ipi_send_all_pending", ssip(), 1);
    check_true("legacy_clear_ipi", legacy(EID_LEGACY_CLEAR_IPI, 0, &a1) == 0 && a1 == 0x5a5a1234UL, a1);
    check("legacy_clear_ipi_cleared", ssip(), 0);

    check_err("ipi_bad_mask", sbi(EID_IPI, 0, 2, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("ipi_bad_base", sbi(EID_IPI, 0, 1, 1).error, SBI_ERR_INVALID_PARAM);
    check("ipi_bad_no_ipi", ssip(), 0);
    check_err("ipi_unknown_fid", sbi(EID_IPI, 1, 1, 0).error, SBI_ERR_NOT_SUPPORTED);
    /* Legacy send_ipi is not offered (probe says 0): NOT_SUPPORTED in a0. */
    check_err("legacy_send_ipi_not_supported", legacy(EID_LEGACY_SEND_IPI, 0, 0), SBI_ERR_NOT_SUPPORTED);
    check("legacy_send_ipi_no_ipi", ssip(), 0);
}

/* ---- RFENCE ---- */
static uint32_t code_buf[1024] __attribute__((aligned(4096)));   /* a page of its own */
static uint64_t pt_root[512] __attribute__((aligned(4096)));
static uint64_t pt_l1[512] __attribute__((aligned(4096)));
static uint64_t pt_l0[512] __attribute__((aligned(4096)));
static uint64_t page_a[512] __attribute__((aligned(4096)));
static uint64_t page_b[512] __attribute__((aligned(4096)));
#define TEST_VA  0xC0000000UL
#define PTE_V 1UL
#define PTE_LEAF (PTE_V | 2 | 4 | 8 | 64 | 128)   /* V R W X A D */
#define PTE(pa, fl) ((((uint64_t)(pa)) >> 12) << 10 | (fl))
#define SATP_SV39 (8UL << 60)

/* Write "addi a0, zero, imm; ret", make it visible with remote_fence_i, run it n times; the sum of results. */
static long run_code(uint32_t imm, int n)
{
    long sum = 0;
    code_buf[0] = (imm << 20) | (10 << 7) | 0x13;
    code_buf[1] = 0x00008067;
    sbi(EID_RFNC, 0, 1, 0);
    while (n--)
        sum += ((long (*)(void))(uintptr_t)code_buf)();
    return sum;
}

static void test_rfence(void)
{
    static const char *hfence[] = { "hfence_gvma_vmid", "hfence_gvma", "hfence_vvma_asid", "hfence_vvma" };

    check_ret("rfence_fence_i", sbi(EID_RFNC, 0, 1, 0), 0, 0);
    check_ret("rfence_sfence_vma", sbi(EID_RFNC, 1, 1, 0, 0, ~0UL), 0, 0);
    check_ret("rfence_sfence_vma_asid", sbi(EID_RFNC, 2, 1, 0, 0, ~0UL, 0), 0, 0);
    check_ret("rfence_fence_i_all", sbi(EID_RFNC, 0, 0, ~0UL), 0, 0);
    for (unsigned i = 0; i < 4; i++)
        check_err(cat("rfence", hfence[i]), sbi(EID_RFNC, 3 + i, 1, 0, 0, ~0UL, 0).error, SBI_ERR_NOT_SUPPORTED);
    check_err("rfence_unknown_fid", sbi(EID_RFNC, 7, 1, 0).error, SBI_ERR_NOT_SUPPORTED);
    check_err("rfence_bad_mask", sbi(EID_RFNC, 0, 2, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("rfence_sfence_bad_base", sbi(EID_RFNC, 1, 1, 5, 0, ~0UL).error, SBI_ERR_INVALID_PARAM);

    /* remote_fence_i makes rewritten code visible to instruction fetch (run often enough to be compiled). */
    long first = run_code(1, 1000), second = run_code(2, 1);
    check_true("rfence_fence_i_effective", first == 1000 && second == 2, (uint64_t)second);

    /* remote_sfence_vma(_asid) makes a changed VS-stage PTE visible: Sv39 with the
     * code's gigapage identity-mapped and TEST_VA on page_a, then page_b, then page_a. */
    page_a[0] = 0xAAAA;
    page_b[0] = 0xBBBB;
    pt_root[2] = PTE(RAM_BASE, PTE_LEAF);
    pt_root[TEST_VA >> 30] = PTE(pt_l1, PTE_V);
    pt_l1[0] = PTE(pt_l0, PTE_V);
    pt_l0[0] = PTE(page_a, PTE_LEAF);
    uint64_t satp = SATP_SV39 | ((uint64_t)pt_root >> 12);
    csrw(satp, satp);
    __asm__ volatile("sfence.vma" ::: "memory");
    uint64_t got_satp = csrr(satp);
    uint64_t v1 = 0, v2 = 0, v3 = 0;
    struct sbiret r1 = { 0, 0 }, r2 = { 0, 0 };
    if (got_satp == satp) {
        v1 = rd64(TEST_VA);
        pt_l0[0] = PTE(page_b, PTE_LEAF);
        r1 = sbi(EID_RFNC, 1, 1, 0, TEST_VA, 4096);
        v2 = rd64(TEST_VA);
        pt_l0[0] = PTE(page_a, PTE_LEAF);
        r2 = sbi(EID_RFNC, 2, 1, 0, TEST_VA, 4096, 0);
        v3 = rd64(TEST_VA);
    }
    csrw(satp, 0);
    __asm__ volatile("sfence.vma" ::: "memory");
    check("vs_sv39_enabled", got_satp, satp);
    check("vs_sv39_first_mapping", v1, 0xAAAA);
    check_err("rfence_sfence_vma_range", r1.error, 0);
    check("rfence_sfence_vma_effective", v2, 0xBBBB);
    check_err("rfence_sfence_vma_asid_range", r2.error, 0);
    check("rfence_sfence_vma_asid_effective", v3, 0xAAAA);
}

/* ---- HSM ---- */
static void test_hsm(void)
{
    check_ret("hsm_get_status_self", sbi(EID_HSM, HSM_GET_STATUS, 0), 0, HSM_STARTED);
    check_err("hsm_get_status_bad_hart", sbi(EID_HSM, HSM_GET_STATUS, 1).error, SBI_ERR_INVALID_PARAM);
    check_err("hsm_get_status_hart_minus_1", sbi(EID_HSM, HSM_GET_STATUS, ~0UL).error, SBI_ERR_INVALID_PARAM);
    check_err("hsm_start_self", sbi(EID_HSM, HSM_HART_START, 0, 0x80200000UL, 0).error, SBI_ERR_ALREADY_AVAILABLE);
    check_err("hsm_start_bad_hart", sbi(EID_HSM, HSM_HART_START, 1, 0x80200000UL, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("hsm_suspend_reserved_type", sbi(EID_HSM, HSM_SUSPEND, 1, 0, 0).error, SBI_ERR_INVALID_PARAM);
    /* Default non-retentive suspend (0x80000000) is a defined type; Salus does not offer it.  It must not
     * succeed (it would resume at resume_addr = 0); SBI 2.0 gives NOT_SUPPORTED or INVALID_PARAM. */
    long e = sbi(EID_HSM, HSM_SUSPEND, 0x80000000UL, 0, 0).error;
    check_true("hsm_suspend_non_retentive_refused", e == SBI_ERR_NOT_SUPPORTED || e == SBI_ERR_INVALID_PARAM,
               (uint64_t)e);
    check_err("hsm_unknown_fid", sbi(EID_HSM, 7).error, SBI_ERR_NOT_SUPPORTED);

    /* Retentive suspend: returns SUCCESS once an (enabled) interrupt is pending. */
    csrw(sie, SIE_STIE);
    uint64_t deadline = now() + ms(5);
    sbi(EID_TIME, 0, deadline);
    struct sbiret r = sbi(EID_HSM, HSM_SUSPEND, 0, 0, 0);
    uint64_t t = now();
    int pending = stip();
    sbi(EID_TIME, 0, ~0UL);
    csrw(sie, 0);
    check_ret("hsm_suspend_retentive", r, 0, 0);
    check_true("hsm_suspend_waited", t >= deadline, deadline - t);
    check("hsm_suspend_woken_by_timer", pending, 1);
    check_ret("hsm_get_status_after_suspend", sbi(EID_HSM, HSM_GET_STATUS, 0), 0, HSM_STARTED);
}

/* ---- WFI (a virtual-instruction trap to Salus) ---- */
static void test_wfi(void)
{
    csrw(sie, SIE_STIE);
    uint64_t deadline = now() + ms(5);
    sbi(EID_TIME, 0, deadline);
    wfi();
    uint64_t t = now();
    int pending = stip();
    check_true("wfi_waited_for_timer", t >= deadline, deadline - t);
    check("wfi_timer_pending", pending, 1);
    wfi();   /* an interrupt is pending: returns at once */
    check("wfi_returns_when_pending", stip(), 1);
    sbi(EID_TIME, 0, ~0UL);
    csrw(sie, 0);
    check("wfi_no_interrupt_taken", irq_rec.count, expected_irqs);
}

/* ---- DBCN and legacy console ---- */
static char dbuf[64];

static void test_console(void)
{
    static const char msg[] = "sbi_host: dbcn console_write\n";
    uint64_t a1;

    check_ret("dbcn_write", sbi(EID_DBCN, DBCN_WRITE, sizeof msg - 1, (uint64_t)msg, 0), 0, sizeof msg - 1);
    check_ret("dbcn_write_zero", sbi(EID_DBCN, DBCN_WRITE, 0, (uint64_t)msg, 0), 0, 0);
    static const char wb[] = "sbi_host: dbcn write_byte\n";
    long e = 0;
    for (const char *p = wb; *p; p++)
        e |= sbi(EID_DBCN, DBCN_WRITE_BYTE, (unsigned char)*p).error;
    check_err("dbcn_write_byte", e, 0);
    memset(dbuf, 0x55, sizeof dbuf);
    check_ret("dbcn_read_nothing", sbi(EID_DBCN, DBCN_READ, sizeof dbuf, (uint64_t)dbuf, 0), 0, 0);
    check("dbcn_read_buffer_untouched", (uint8_t)dbuf[0], 0x55);
    check_err("dbcn_write_salus_memory", sbi(EID_DBCN, DBCN_WRITE, 16, SALUS_MEM, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_salus_last_page", sbi(EID_DBCN, DBCN_WRITE, 16, SALUS_LAST + 0xff0, 0).error,
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_read_salus_memory", sbi(EID_DBCN, DBCN_READ, 16, SALUS_MEM, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_straddles_salus", sbi(EID_DBCN, DBCN_WRITE, 32, SALUS_MEM - 16, 0).error,
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_hole", sbi(EID_DBCN, DBCN_WRITE, 16, HOLE, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_addr_hi", sbi(EID_DBCN, DBCN_WRITE, 16, (uint64_t)msg, 1).error, SBI_ERR_INVALID_PARAM);
    check_err("dbcn_unknown_fid", sbi(EID_DBCN, 3).error, SBI_ERR_NOT_SUPPORTED);

    static const char lp[] = "sbi_host: legacy console_putchar\n";
    int ok = 1;
    for (const char *p = lp; *p; p++)
        ok &= legacy(EID_LEGACY_PUTCHAR, (unsigned char)*p, &a1) == 0 && a1 == 0x5a5a1234UL;
    check_true("legacy_putchar", ok, a1);
    check_true("legacy_getchar_none", legacy(EID_LEGACY_GETCHAR, 0, &a1) == -1 && a1 == 0x5a5a1234UL, a1);
}

/* ---- other calls ---- */
static void test_misc(void)
{
    check_err("unknown_eid", sbi(EID_UNKNOWN, 0).error, SBI_ERR_NOT_SUPPORTED);
    check_err("unknown_eid_after_legacy", sbi(0x09, 0).error, SBI_ERR_NOT_SUPPORTED);
    check_err("covi_not_offered", sbi(EID_COVI, 0).error, SBI_ERR_NOT_SUPPORTED);
    check_err("pmu_not_offered", sbi(EID_PMU, 0).error, SBI_ERR_NOT_SUPPORTED);
    check_err("legacy_remote_fence_i_not_supported", legacy(EID_LEGACY_FENCE_I, 0, 0), SBI_ERR_NOT_SUPPORTED);
    check_err("srst_reserved_type", sbi(EID_SRST, 0, 3, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("srst_reserved_reason", sbi(EID_SRST, 0, 0, 2).error, SBI_ERR_INVALID_PARAM);
    check_err("srst_unknown_fid", sbi(EID_SRST, 1, 0, 0).error, SBI_ERR_NOT_SUPPORTED);
}

/* ---- no H extension in VS-mode ---- */
static void test_no_h(void)
{
    /* csrrs zero, <csr>, zero: a read of an H or M CSR from VS-mode */
    uint64_t c = PROBE_INSN(0x60002073);          /* hstatus */
    check("hstatus_illegal", c, CAUSE_ILLEGAL);
    check("hstatus_illegal_tval", c == CAUSE_ILLEGAL ? trap_rec.tval : NO_TRAP, 0x60002073);
    c = PROBE_INSN(0x68002073);                   /* hgatp */
    check("hgatp_illegal", c, CAUSE_ILLEGAL);
    c = PROBE_INSN(0x22000073);                   /* hfence.vvma zero, zero */
    check("hfence_vvma_illegal", c, CAUSE_ILLEGAL);
    c = PROBE_INSN(0x30102073);                   /* misa */
    check("misa_illegal", c, CAUSE_ILLEGAL);
}

/* ---- isolation ---- */
static void test_isolation(void)
{
    check_fault("load_salus_memory", probe_load(SALUS_MEM), CAUSE_LOAD_ACCESS, SALUS_MEM);
    check_fault("store_salus_memory", probe_store(SALUS_MEM, 0xdead), CAUSE_STORE_ACCESS, SALUS_MEM);
    check_fault("load_salus_pool", probe_load(SALUS_MEM + 0x400000), CAUSE_LOAD_ACCESS, SALUS_MEM + 0x400000);
    check_fault("load_salus_last_page", probe_load(SALUS_LAST + 0xff8), CAUSE_LOAD_ACCESS, SALUS_LAST + 0xff8);
    check_fault("store_salus_last_page", probe_store(SALUS_LAST, 0xdead), CAUSE_STORE_ACCESS, SALUS_LAST);
    check_fault("load_beyond_ram", probe_load(RAM_END), CAUSE_LOAD_ACCESS, RAM_END);
    check_fault("load_hole", probe_load(HOLE), CAUSE_LOAD_ACCESS, HOLE);
    check_fault("store_hole", probe_store(HOLE, 1), CAUSE_STORE_ACCESS, HOLE);
    check_fault("load_clint_msip", probe_load(CLINT), CAUSE_LOAD_ACCESS, CLINT);
    check_fault("load_clint_mtime", probe_load(CLINT_MTIME), CAUSE_LOAD_ACCESS, CLINT_MTIME);
    check_fault("store_clint_mtimecmp", probe_store(CLINT_MTIMECMP, 0), CAUSE_STORE_ACCESS, CLINT_MTIMECMP);
    check("load_last_host_page", probe_load(SALUS_MEM - 8), NO_TRAP);

    /* Fetch from Salus's memory: an instruction access fault (the handler returns to the caller).  Only
     * tried if a load there faults: otherwise it would run whatever is there. */
    uint64_t before = fetch_rec.count;
    if (probe_load(SALUS_MEM) == CAUSE_LOAD_ACCESS)
        ((void (*)(void))SALUS_MEM)();
    expected_fetch_faults += fetch_rec.count - before;
    check("fetch_salus_memory", fetch_rec.count - before, 1);
    check("fetch_salus_memory_stval", fetch_rec.tval, SALUS_MEM);
}

/* ---- PLIC: the hart's S-mode context page, emulated by Salus ---- */
static void test_plic(void)
{
    uint32_t v = 0xffffffff, back = 0, claim = 0xffffffff;
    check("plic_threshold_read", probe_load32(PLIC_S_CTX, &v), NO_TRAP);
    check("plic_threshold_initial", v, 0);
    check("plic_threshold_write", probe_store32(PLIC_S_CTX, 5), NO_TRAP);
    probe_load32(PLIC_S_CTX, &back);
    check("plic_threshold_readback", back, 5);
    probe_store32(PLIC_S_CTX, 0);
    check("plic_claim_read", probe_load32(PLIC_S_CTX + 4, &claim), NO_TRAP);
    check("plic_claim_nothing", claim, 0);

    /* A real external interrupt: the UART's THR-empty interrupt (PLIC source 10) for the S context.  Salus
     * turns the PLIC's supervisor interrupt into the host's VSEIP and emulates claim and complete.  Nothing
     * is printed while the UART interrupt is enabled. */
    uint64_t before = irq_rec.count, seip_before, seip_raised = 0, seip_after_claim, seip_after_complete;
    uint32_t claimed, cause_ok;
    wr32(PLIC_PRIORITY(UART_IRQ), 1);
    wr32(PLIC_S_ENABLE, 1U << UART_IRQ);
    seip_before = csrr(sip) & SIE_SEIE;
    csrw(sie, SIE_SEIE);
    *(volatile uint8_t *)(UART + UART_IER) = UART_IER_THRI;
    for (int i = 0; i < 100000 && !seip_raised; i++)
        seip_raised = csrr(sip) & SIE_SEIE;
    csrs(sstatus, SSTATUS_SIE);   /* taken here; the handler masks sie.SEIE */
    csrc(sstatus, SSTATUS_SIE);
    cause_ok = irq_rec.count - before == 1 && irq_rec.cause == IRQ_S_EXT;
    claimed = rd32(PLIC_S_CTX + 4);
    seip_after_claim = csrr(sip) & SIE_SEIE;
    *(volatile uint8_t *)(UART + UART_IER) = 0;
    wr32(PLIC_S_CTX + 4, claimed);   /* complete */
    seip_after_complete = csrr(sip) & SIE_SEIE;
    wr32(PLIC_S_ENABLE, 0);
    wr32(PLIC_PRIORITY(UART_IRQ), 0);
    csrw(sie, 0);
    expected_irqs += irq_rec.count - before;
    check("plic_seip_idle", seip_before, 0);
    check("plic_uart_seip_raised", seip_raised, SIE_SEIE);
    check_true("plic_external_interrupt_taken", cause_ok, irq_rec.cause);
    check("plic_claim_uart", claimed, UART_IRQ);
    check("plic_seip_low_after_claim", seip_after_claim, 0);
    check("plic_seip_low_after_complete", seip_after_complete, 0);
    check("plic_claim_after_complete", rd32(PLIC_S_CTX + 4), 0);
}

int main(unsigned long hartid, unsigned long dtb)
{
    csrw(stvec, host_trap);
    csrw(sie, 0);
    print("sbi_host: SBI checks for the Salus host on hart ");
    print_dec(hartid);
    print("\n");

    test_devicetree(hartid, dtb);
    test_base();
    test_time();
    test_ipi();
    test_rfence();
    test_hsm();
    test_wfi();
    test_console();
    test_misc();
    test_no_h();
    test_isolation();
    test_plic();
    check("no_unexpected_traps", trap_rec.count, expected_traps);
    check("no_unexpected_interrupts", irq_rec.count, expected_irqs);
    check("no_unexpected_fetch_faults", fetch_rec.count, expected_fetch_faults);

    finish("sbi_host", n_checks, n_failed);
}
