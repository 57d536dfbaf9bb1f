#include "trap.h"

volatile struct trap_rec mtrap, strap;
volatile trap_hook_t m_hook, s_hook;

void trap_clear(void)
{
    mtrap.count = mtrap.cause = mtrap.epc = mtrap.tval = mtrap.status = mtrap.vec = 0;
    strap.count = strap.cause = strap.epc = strap.tval = strap.status = strap.vec = 0;
}

void print_trap(const char *tag, volatile struct trap_rec *r)
{
    print(tag);
    print(" n=");
    print_dec((int64_t)r->count);
    print(" cause=");
    print_hex64(r->cause);
    print(" epc=");
    print_hex64(r->epc);
    print(" tval=");
    print_hex64(r->tval);
    putchar_('\n');
}

void s_trap_init(void)
{
    csrw(stvec, (uint64_t)s_trap_entry);
    extern char __strap_stack_top[];
    csrw(sscratch, (uint64_t)__strap_stack_top);
}

void pmp_allow_all(void)
{
    csrw(pmpaddr0, ~0UL);
    csrw(pmpcfg0, 0x1f); /* NAPOT, RWX */
}

static int insn_len_at(uint16_t lo) { return (lo & 3) == 3 ? 4 : 2; }

/* Read the low halfword of the instruction at the trapping epc, using the
 * previous privilege's translation (MPRV) when paging may be in effect. */
static uint16_t m_read_insn(uint64_t epc, uint64_t status)
{
    uint16_t h;
    uint64_t prev = (status >> 11) & 3;
    if (prev != PRV_M && (csrr(satp) >> 60) != 0) {
        uint64_t bits = MSTATUS_MPRV | MSTATUS_MXR | MSTATUS_SUM;
        uint64_t old = csrr(mstatus);
        __asm__ volatile("csrs mstatus, %1\n\tlhu %0, 0(%2)\n\tcsrw mstatus, %3"
                         : "=&r"(h) : "r"(bits), "r"(epc), "r"(old) : "memory");
    } else {
        h = *(volatile uint16_t *)epc;
    }
    return h;
}

static uint16_t s_read_insn(uint64_t epc)
{
    uint16_t h;
    uint64_t bits = MSTATUS_MXR | MSTATUS_SUM;
    uint64_t old = csrr(sstatus);
    __asm__ volatile("csrs sstatus, %1\n\tlhu %0, 0(%2)\n\tcsrw sstatus, %3"
                     : "=&r"(h) : "r"(bits), "r"(epc), "r"(old) : "memory");
    return h;
}

static int is_fetch_fault(uint64_t c) { return c == 0 || c == 1 || c == 12; }

static void record(volatile struct trap_rec *r, struct trap_frame *f)
{
    r->count++;
    r->cause = f->cause;
    r->epc = f->epc;
    r->tval = f->tval;
    r->status = f->status;
    r->vec = f->vec;
}

void m_trap_c(struct trap_frame *f)
{
    if (f->cause == 8 || f->cause == 9 || f->cause == 11 || f->cause == 2) {
        if (f->x[17] == MODE_EXIT_MAGIC)
            mode_return(f->x[10]);
        if (f->x[17] == MODE_EXIT_MAGIC + 1) {
            print("unexpected S-mode trap cause=");
            print_hex64(f->x[10]);
            print(" epc=");
            print_hex64(f->x[11]);
            print(" tval=");
            print_hex64(f->x[12]);
            putchar_('\n');
            exit(6);
        }
    }
    record(&mtrap, f);
    if (m_hook && m_hook(f))
        return;
    if (f->cause & CAUSE_INTR) {
        print("unexpected M-mode interrupt cause=");
        print_hex64(f->cause);
        putchar_('\n');
        exit(5);
    }
    if (mtrap.count > 100000) {
        puts("trap storm");
        exit(4);
    }
    if (is_fetch_fault(f->cause))
        f->epc = f->x[1];
    else
        f->epc += insn_len_at(m_read_insn(f->epc, f->status));
}

void s_trap_c(struct trap_frame *f)
{
    /* Leave to M: by ecall (cause 8 seen here), or, when S-mode ecalls are
     * delegated too (cause 9 seen here), by an illegal instruction (reading
     * mscratch); the M handler recognises a7 == MODE_EXIT_MAGIC on both. */
    if ((f->cause == 8 || f->cause == 9) && f->x[17] == MODE_EXIT_MAGIC) {
        register uint64_t a0 __asm__("a0") = f->x[10];
        register uint64_t a7 __asm__("a7") = MODE_EXIT_MAGIC;
        if (f->cause == 8)
            __asm__ volatile("ecall" :: "r"(a0), "r"(a7));
        __asm__ volatile("csrr zero, mscratch" :: "r"(a0), "r"(a7));
    }
    record(&strap, f);
    if (s_hook && s_hook(f))
        return;
    if ((f->cause & CAUSE_INTR) || strap.count > 100000) {
        register uint64_t a0 __asm__("a0") = f->cause;
        register uint64_t a1 __asm__("a1") = f->epc;
        register uint64_t a2 __asm__("a2") = f->tval;
        register uint64_t a7 __asm__("a7") = MODE_EXIT_MAGIC + 1;
        __asm__ volatile("ecall" :: "r"(a0), "r"(a1), "r"(a2), "r"(a7));
    }
    if (is_fetch_fault(f->cause))
        f->epc = f->x[1];
    else
        f->epc += insn_len_at(s_read_insn(f->epc));
}
