/* Shared body of sv39.c / sv48.c / sv57.c (define LEVELS and SATP_MODE).
 * S/U-mode paging: identity-mapped kernel gigapage, U alias, 4 KiB test
 * pages with every interesting permission combination, hardware A/D
 * updates (QEMU sets A/D in the PTE, no fault), page faults with scause/
 * mcause and stval, superpages at every level incl. misaligned ones,
 * reserved PTE encodings/bits, non-canonical addresses, SUM, MXR, MPRV,
 * TVM, sfence.vma, delegated page faults. */
#include "trap.h"

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_G (1UL << 5)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)

#define DATA 0x80400000UL            /* physical test pages (outside image) */
#define TBASE 0x10000000UL           /* VA of the 4 KiB test pages */
#define ALIAS 0x40000000UL           /* U-mode alias of the kernel gigapage */
#define AOFF ((int64_t)(ALIAS - 0x80000000UL))

static uint64_t pool[32][512] __attribute__((aligned(4096)));
static int npool;
static uint64_t *root;

static uint64_t *alloc_pt(void)
{
    uint64_t *p = pool[npool++];
    for (int i = 0; i < 512; i++)
        p[i] = 0;
    return p;
}

static unsigned vpn(uint64_t va, int lvl) { return (va >> (12 + 9 * lvl)) & 0x1ff; }

/* returns a pointer to the PTE for va at level lvl, creating tables */
static volatile uint64_t *pte_ptr(uint64_t va, int lvl)
{
    uint64_t *t = root;
    for (int l = LEVELS - 1; l > lvl; l--) {
        uint64_t e = t[vpn(va, l)];
        if (!(e & PTE_V)) {
            uint64_t *n = alloc_pt();
            e = (((uint64_t)n >> 12) << 10) | PTE_V;
            t[vpn(va, l)] = e;
        }
        t = (uint64_t *)((e >> 10) << 12);
    }
    return &t[vpn(va, lvl)];
}

static void map(uint64_t va, uint64_t pa, int lvl, uint64_t flags)
{
    *pte_ptr(va, lvl) = ((pa >> 12) << 10) | flags;
    __asm__ volatile("sfence.vma" ::: "memory");
}

static uint64_t ld(uint64_t a) { return *(volatile uint64_t *)a; }
static uint64_t st(uint64_t a) { *(volatile uint64_t *)a = 0x00008067UL; return 0; }
uint64_t ex(uint64_t a);
__asm__(".text\n.globl ex\nex:\n\tmv t1, ra\n\tjalr a0\n\tmv ra, t1\n\tret\n");

static const char *const MN[] = { "U", "S", "", "M" };

static char try1(int mode, uint64_t (*fn)(uint64_t), uint64_t va, char ok)
{
    uint64_t n = mtrap.count, ns = strap.count;
    if (mode == PRV_U)
        run_mode_off(mode, fn, va, AOFF);
    else
        run_mode(mode, fn, va);
    volatile struct trap_rec *r = strap.count != ns ? &strap : &mtrap;
    if (mtrap.count == n && strap.count == ns)
        return ok;
    if (r->tval != va)
        return '?';
    return "0123456789abcdef"[r->cause & 0xf];
}

static void probe(const char *tag, uint64_t va)
{
    print(tag);
    for (int m = 0; m < 2; m++) {
        putchar_(' ');
        print(MN[m]);
        putchar_(':');
        putchar_(try1(m, ld, va, 'r'));
        putchar_(try1(m, st, va, 'w'));
        putchar_(try1(m, ex, va, 'x'));
    }
    putchar_('\n');
}

static void show_pte(const char *tag, uint64_t va, int lvl)
{
    print(tag);
    print(" pte=");
    print_hex64(*pte_ptr(va, lvl));
    putchar_('\n');
}

static uint64_t satp_val(void) { return SATP_MODE << 60 | ((uint64_t)root >> 12); }

static uint64_t s_satp_rw(uint64_t v)
{
    uint64_t old = csrr(satp);
    csrw(satp, v);
    return old;
}
static uint64_t s_sfence(uint64_t v)
{
    __asm__ volatile("sfence.vma %0, zero" :: "r"(v) : "memory");
    return 0;
}
static uint64_t s_sum_load(uint64_t va)
{
    csrs(sstatus, MSTATUS_SUM);
    uint64_t v = *(volatile uint64_t *)va;
    csrc(sstatus, MSTATUS_SUM);
    return v;
}
static uint64_t s_mxr_load(uint64_t va)
{
    csrs(sstatus, MSTATUS_MXR);
    uint64_t v = *(volatile uint64_t *)va;
    csrc(sstatus, MSTATUS_MXR);
    return v;
}

static void tp(int i, uint64_t flags) { map(TBASE + 0x1000UL * i, DATA + 0x1000UL * i, 0, flags); }
static uint64_t tva(int i) { return TBASE + 0x1000UL * i + 0x10; }

static void vm_tests(void)
{
    pmp_allow_all();
    s_trap_init();
    for (uint64_t p = DATA; p < DATA + 0x40000; p += 8)
        *(volatile uint64_t *)p = 0x0000806700008067UL ^ ((p & 0xff000) << 20);
    __asm__ volatile("fence.i");

    root = alloc_pt();
    /* kernel: identity gigapage (S only, A/D preset), U alias gigapage */
    map(0x80000000UL, 0x80000000UL, 2, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G);
    map(ALIAS, 0x80000000UL, 2, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
    uint64_t V = PTE_V, RWX = PTE_R | PTE_W | PTE_X, AD = PTE_A | PTE_D;
    tp(0, V | PTE_R);                     /* A/D clear */
    tp(1, V | PTE_R | PTE_W);             /* A/D clear */
    tp(2, V | PTE_R | AD);
    tp(3, V | PTE_X | AD);
    tp(4, V | PTE_R | PTE_W | PTE_U | AD);
    tp(5, PTE_R | PTE_W | PTE_X | AD);    /* V=0 */
    tp(6, V | PTE_W | AD);                /* W without R: reserved */
    tp(7, V | PTE_W | PTE_X | AD);        /* WX without R: reserved */
    tp(8, V | RWX | AD);
    tp(9, V | RWX | PTE_U | AD);
    tp(10, V | RWX | PTE_A);              /* D clear */
    tp(11, V | RWX | AD | (1UL << 61));   /* PBMT bits without Svpbmt */
    tp(12, V | RWX | AD | (1UL << 54));   /* reserved bit 54 */
    tp(13, V | RWX | AD | (1UL << 63));   /* N bit without Svnapot */
    tp(14, V | RWX | AD | (1UL << 8));    /* RSW bits: ignored */
    tp(15, V | PTE_X | PTE_U | AD);       /* U execute-only */
    csrw(satp, satp_val());
    pr("satp", csrr(satp));
    __asm__ volatile("sfence.vma" ::: "memory");

    static const char *const names[] = {
        "R(no A/D)", "RW(no A/D)", "R", "X", "RW U", "invalid", "W only", "WX",
        "RWX", "RWX U", "RWX no D", "PBMT set", "bit54 set", "N set", "RSW set", "X U",
    };
    for (int i = 0; i < 16; i++) {
        print("page ");
        print_dec(i);
        putchar_(' ');
        probe(names[i], tva(i));
    }
    /* A/D state after the probes (and a fresh pair for load-only / store) */
    for (int i = 0; i < 16; i++) {
        print("pte ");
        print_dec(i);
        show_pte("", tva(i), 0);
    }
    tp(0, V | PTE_R | PTE_W);
    tp(1, V | PTE_R | PTE_W);
    run_mode(PRV_S, ld, tva(0));
    run_mode(PRV_S, st, tva(1));
    show_pte("after S load", tva(0), 0);
    show_pte("after S store", tva(1), 0);
    tp(0, V | PTE_R | PTE_W | PTE_A);
    run_mode(PRV_S, st, tva(0));
    show_pte("after S store (A preset)", tva(0), 0);
    tp(1, V | PTE_X | PTE_R);
    run_mode(PRV_S, ex, tva(1));
    show_pte("after S fetch", tva(1), 0);
    tp(1, V | PTE_R);
    uint64_t n0 = mtrap.count;
    run_mode(PRV_S, st, tva(1));
    show_pte("after faulting S store to R page", tva(1), 0);
    pr("  faults", mtrap.count - n0);

    /* SUM / MXR */
    trap_clear();
    pr("SUM load U page", run_mode(PRV_S, s_sum_load, tva(4)));
    print_trap("  traps", &mtrap);
    pr("MXR load X page", run_mode(PRV_S, s_mxr_load, tva(3)));
    print_trap("  traps", &mtrap);
    pr("MXR load X|U page with SUM (S)", 0);
    csrs(mstatus, MSTATUS_SUM);
    pr("  value", run_mode(PRV_S, s_mxr_load, tva(15)));
    print_trap("  traps", &mtrap);
    csrc(mstatus, MSTATUS_SUM);
    trap_clear();
    csrs(mstatus, MSTATUS_MXR);
    print("U load X-only U page with MXR: ");
    putchar_(try1(PRV_U, ld, tva(15), 'r'));
    putchar_('\n');
    csrc(mstatus, MSTATUS_MXR);

    /* superpages: at every level below the root, aligned and misaligned */
    for (int lvl = 1; lvl < LEVELS; lvl++) {
        uint64_t size = 1UL << (12 + 9 * lvl);
        uint64_t va = size * 3;            /* index 3 at that level */
        if (va < TBASE + 0x100000 && va >= TBASE)
            va = size * 5;
        uint64_t pa = DATA & ~(size - 1);
        map(va, pa, lvl, V | RWX | AD);
        print("superpage lvl ");
        print_dec(lvl);
        uint64_t off = DATA + 0x3008 - pa;
        pr(" load", run_mode(PRV_S, ld, va + off));
        map(va, pa + 0x1000, lvl, V | RWX | AD); /* misaligned: PPN low bits set */
        print("misaligned superpage lvl ");
        print_dec(lvl);
        probe("", va + off);
        *pte_ptr(va, lvl) = 0;
        __asm__ volatile("sfence.vma" ::: "memory");
    }

    /* non-leaf PTE at level 0 */
    *pte_ptr(tva(16), 0) = (((uint64_t)pool[npool - 1] >> 12) << 10) | V;
    __asm__ volatile("sfence.vma" ::: "memory");
    probe("non-leaf at level 0", tva(16));

    /* non-canonical virtual address */
    uint64_t nc = 1UL << (12 + 9 * LEVELS);
    probe("non-canonical", nc + 0x10);
    probe("non-canonical high", ~0UL << (11 + 9 * LEVELS) & ~(1UL << 63));

    /* MPRV: M-mode loads through the S translation */
    csrc(mstatus, MSTATUS_MPP);
    csrs(mstatus, (1UL << 11) | MSTATUS_MPRV);
    uint64_t v = *(volatile uint64_t *)tva(2);
    csrc(mstatus, MSTATUS_MPRV);
    pr("MPRV(S) load via VA", v);
    trap_clear();
    csrc(mstatus, MSTATUS_MPP);
    csrs(mstatus, (1UL << 11) | MSTATUS_MPRV);
    v = *(volatile uint64_t *)tva(4);
    csrc(mstatus, MSTATUS_MPRV);
    print_trap("MPRV(S) load of U page, SUM=0", &mtrap);
    csrs(mstatus, MSTATUS_MPP);

    /* sfence.vma after a remap */
    pr("before remap", run_mode(PRV_S, ld, tva(2)));
    *pte_ptr(tva(2), 0) = ((DATA + 0x8000) >> 12) << 10 | V | PTE_R | AD;
    run_mode(PRV_S, s_sfence, tva(2));
    pr("after remap+sfence.vma va", run_mode(PRV_S, ld, tva(2)));

    /* TVM */
    csrs(mstatus, MSTATUS_TVM);
    trap_clear();
    run_mode(PRV_S, s_satp_rw, satp_val());
    print_trap("TVM satp", &mtrap);
    trap_clear();
    run_mode(PRV_S, s_sfence, 0);
    print_trap("TVM sfence.vma", &mtrap);
    csrc(mstatus, MSTATUS_TVM);
    trap_clear();
    pr("satp from S (TVM=0)", run_mode(PRV_S, s_satp_rw, satp_val()));
    print_trap("  traps", &mtrap);

    /* delegated page faults go to S with scause/stval */
    csrw(medeleg, (1UL << 12) | (1UL << 13) | (1UL << 15));
    trap_clear();
    probe("delegated: invalid page", tva(5));
    print_trap("  S", &strap);
    print_trap("  M", &mtrap);
    csrw(medeleg, 0);

    csrw(satp, 0);
    __asm__ volatile("sfence.vma" ::: "memory");
    pr("satp off", csrr(satp));
}
