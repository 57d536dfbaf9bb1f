/* PMP: 16 entries; OFF/TOR/NA4/NAPOT matching, lowest entry wins, partial
 * matches fail, no match => S/U denied / M allowed, R/W/X denial faults from
 * S and U (cause 1/5/7, mtval = address), M-mode unaffected unless L=1,
 * locked entries (ignored writes, TOR lock of previous pmpaddr), MPRV making
 * M loads/stores use MPP's privilege. */
#include "trap.h"

#define PBUF 0x80400000UL   /* 64 KiB test area, outside the program image */
#define IMG_NAPOT ((0x80000000UL >> 2) | ((0x200000UL >> 3) - 1)) /* 2 MiB image */
#define R 1
#define W 2
#define X 4
#define A_TOR (1 << 3)
#define A_NA4 (2 << 3)
#define A_NAPOT (3 << 3)
#define L (1 << 7)

static uint64_t do_load(uint64_t a) { return *(volatile uint32_t *)a; }
static uint64_t do_load_d(uint64_t a) { return *(volatile uint64_t *)a; }
static uint64_t do_load_w(uint64_t a) { return *(volatile uint32_t *)a; }
/* stores write back the "ret" instruction so that execution still works */
static uint64_t do_store(uint64_t a) { *(volatile uint32_t *)a = 0x00008067; return 0; }
static uint64_t do_store_w(uint64_t a) { *(volatile uint32_t *)a = 0x5678; return 0; }
/* leaf (no stack use): fence.i; call a; a fetch fault returns to ra */
uint64_t do_exec(uint64_t a);
__asm__(".text\n.globl do_exec\ndo_exec:\n\tfence.i\n\tmv t1, ra\n\tjalr a0\n\tmv ra, t1\n\tret\n");

static uint64_t cfg[2];
static void set_cfg(int i, uint8_t v)
{
    int r = i / 8, s = (i % 8) * 8;
    cfg[r] = (cfg[r] & ~(0xffUL << s)) | ((uint64_t)v << s);
    if (r == 0) csrw(pmpcfg0, cfg[0]); else csrw(pmpcfg2, cfg[1]);
    __asm__ volatile("sfence.vma" ::: "memory"); /* synchronise PMP changes */
}
static void set_addr(int i, uint64_t a)
{
    switch (i) {
    case 0: csrw(pmpaddr0, a); break;
    case 1: csrw(pmpaddr1, a); break;
    case 2: csrw(pmpaddr2, a); break;
    case 3: csrw(pmpaddr3, a); break;
    case 14: csrw(pmpaddr14, a); break;
    case 15: csrw(pmpaddr15, a); break;
    }
    __asm__ volatile("sfence.vma" ::: "memory");
}
static uint64_t napot(uint64_t base, uint64_t size) { return (base >> 2) | ((size >> 3) - 1); }

static void reset_pmp(void)
{
    cfg[0] = cfg[1] = 0;
    csrw(pmpcfg0, 0);
    csrw(pmpcfg2, 0);
    for (int i = 0; i < 4; i++)
        set_addr(i, 0);
    set_addr(15, IMG_NAPOT);
    set_cfg(15, A_NAPOT | R | W | X);
}

/* one access in one mode: returns a letter for the outcome */
static char try1(int mode, uint64_t (*fn)(uint64_t), uint64_t a, char ok)
{
    uint64_t n = mtrap.count;
    if (mode == PRV_M)
        fn(a);
    else
        run_mode(mode, fn, a);
    if (mtrap.count == n)
        return ok;
    if (mtrap.tval != a)
        return '?';
    return "0123456789abcdef"[mtrap.cause & 0xf];
}

static void probe(const char *tag, uint64_t a)
{
    static const char *const MN[] = { "U", "S", "", "M" };
    print(tag);
    for (int m = 0; m < 4; m++) {
        if (m == 2)
            continue;
        putchar_(' ');
        print(MN[m]);
        putchar_(':');
        putchar_(try1(m, do_load, a, 'r'));
        putchar_(try1(m, do_store, a, 'w'));
        putchar_(try1(m, do_exec, a, 'x'));
    }
    putchar_('\n');
}

int main(void)
{
    /* fill the test area with "ret" instructions */
    for (uint64_t p = PBUF; p < PBUF + 0x10000; p += 4)
        *(volatile uint32_t *)p = 0x00008067;
    __asm__ volatile("fence.i");
    trap_clear();

    reset_pmp();
    probe("no entry matches", PBUF + 0x100);

    set_addr(0, napot(PBUF, 0x1000));
    for (int perm = 0; perm < 8; perm++) {
        if ((perm & (R | W)) == W)
            continue; /* R=0,W=1 is reserved */
        set_cfg(0, A_NAPOT | perm);
        print("napot4k perm=");
        print_dec(perm);
        probe("", PBUF + 0x800);
    }
    probe("napot4k outside", PBUF + 0x1000);
    probe("napot4k last word", PBUF + 0xff8);

    reset_pmp();
    set_addr(0, (PBUF + 0x100) >> 2);
    set_cfg(0, A_NA4 | X);
    probe("na4 X at", PBUF + 0x100);
    probe("na4 X next", PBUF + 0x104);
    set_cfg(0, A_NA4 | R | W | X);
    print("na4 RWX partial (8-byte load):");
    putchar_(try1(PRV_S, do_load_d, PBUF + 0x100, 'r'));
    putchar_(try1(PRV_M, do_load_d, PBUF + 0x100, 'r'));
    print(" 4-byte:");
    putchar_(try1(PRV_S, do_load_w, PBUF + 0x100, 'r'));
    putchar_(try1(PRV_S, do_store_w, PBUF + 0x100, 'w'));
    putchar_('\n');

    reset_pmp();
    set_addr(0, PBUF >> 2);
    set_addr(1, (PBUF + 0x2000) >> 2);
    set_cfg(1, A_TOR | R | W);
    probe("tor [pbuf,+8k) RW start", PBUF);
    probe("tor end-8", PBUF + 0x1ff8);
    probe("tor end", PBUF + 0x2000);
    probe("tor below", PBUF - 8);
    set_addr(1, (PBUF + 0x10) >> 2);
    set_cfg(1, A_TOR | X);
    probe("tor 16 bytes X", PBUF + 0x8);
    /* (an empty TOR range, pmpaddr[i-1] == pmpaddr[i], still allows
     * instruction fetches on QEMU 7.2: not tested) */
    reset_pmp();
    set_addr(0, (PBUF + 0x1000) >> 2);
    set_cfg(0, A_TOR | R | X);
    probe("tor entry0 [0,pbuf+4k) RX", PBUF + 0x800);

    /* priority: lowest-numbered matching entry wins */
    reset_pmp();
    set_addr(0, napot(PBUF, 0x1000));
    set_cfg(0, A_NAPOT);
    set_addr(1, napot(PBUF, 0x2000));
    set_cfg(1, A_NAPOT | R | W | X);
    probe("prio entry0 none over entry1 rwx", PBUF + 0x10);
    probe("prio entry1 only", PBUF + 0x1010);
    set_cfg(0, 0);
    probe("prio entry0 off", PBUF + 0x10);

    /* MPRV: M loads/stores with MPP's privilege */
    reset_pmp();
    set_addr(0, napot(PBUF, 0x1000));
    set_cfg(0, A_NAPOT | R);
    for (int mpp = 0; mpp < 4; mpp++) {
        if (mpp == 2)
            continue;
        uint64_t n = mtrap.count;
        csrc(mstatus, MSTATUS_MPP);
        csrs(mstatus, (uint64_t)mpp << 11 | MSTATUS_MPRV);
        *(volatile uint32_t *)(PBUF + 0x20) = 0x00008067;
        uint64_t st = csrr(mstatus);
        csrc(mstatus, MSTATUS_MPRV);
        print("mprv mpp=");
        print_dec(mpp);
        print(" store faults=");
        print_dec((int64_t)(mtrap.count - n));
        if (mtrap.count != n) {
            print(" cause=");
            print_hex(mtrap.cause, 2);
            print(" tval-ok=");
            print_dec(mtrap.tval == PBUF + 0x20);
        }
        print(" mstatus.MPP after=");
        print_dec((st >> 11) & 3);
        putchar_('\n');
    }
    csrc(mstatus, MSTATUS_MPP);
    csrs(mstatus, MSTATUS_MPP);

    /* locked entries (sticky until reset: done last) */
    reset_pmp();
    set_addr(2, napot(PBUF + 0x4000, 0x1000));
    set_cfg(2, A_NAPOT | R | L);
    probe("locked R", PBUF + 0x4008);
    csrw(pmpaddr2, napot(PBUF + 0x8000, 0x1000));
    pr("locked pmpaddr2 after write", csrr(pmpaddr2));
    set_cfg(2, A_NAPOT | R | W | X);
    pr("pmpcfg0 after write to locked", csrr(pmpcfg0));
    /* TOR entry 3 locked: pmpaddr2 (its base) is locked as well; here 2 is
     * already locked, so use entries 0/1 */
    set_addr(0, (PBUF + 0x6000) >> 2);
    set_addr(1, (PBUF + 0x7000) >> 2);
    set_cfg(1, A_TOR | X | L);
    probe("locked tor X", PBUF + 0x6008);
    csrw(pmpaddr0, 0x1234);
    pr("pmpaddr0 under locked TOR entry1", csrr(pmpaddr0));
    set_cfg(0, A_NAPOT | R | W | X);
    pr("pmpcfg0 entry0 still writable", csrr(pmpcfg0));
    print_trap("last", &mtrap);
    return 0;
}
