/* RV64A: every AMO (.w/.d, with aq/rl/aqrl variants), LR/SC reservation
 * behaviour that QEMU implements deterministically. */
#include "trap.h"

static volatile uint64_t mem[4] __attribute__((aligned(64)));

static const uint64_t V[] = { 0, 1, 0xffffffffffffffffUL, 0x7fffffffffffffffUL,
    0x8000000000000000UL, 0x00000000ffffffffUL, 0x0000000080000000UL, 0x123456789abcdef0UL };
#define NV (sizeof(V) / sizeof(V[0]))

#define DEF(name, op) static uint64_t name(volatile uint64_t *p, uint64_t v) { uint64_t r; \
    __asm__ volatile(op " %0, %2, (%1)" : "=&r"(r) : "r"(p), "r"(v) : "memory"); return r; }
DEF(swap_w, "amoswap.w") DEF(add_w, "amoadd.w") DEF(xor_w, "amoxor.w") DEF(and_w, "amoand.w")
DEF(or_w, "amoor.w") DEF(min_w, "amomin.w") DEF(max_w, "amomax.w") DEF(minu_w, "amominu.w")
DEF(maxu_w, "amomaxu.w")
DEF(swap_d, "amoswap.d") DEF(add_d, "amoadd.d") DEF(xor_d, "amoxor.d") DEF(and_d, "amoand.d")
DEF(or_d, "amoor.d") DEF(min_d, "amomin.d") DEF(max_d, "amomax.d") DEF(minu_d, "amominu.d")
DEF(maxu_d, "amomaxu.d")
DEF(o1, "amoadd.w.aq") DEF(o2, "amoadd.w.rl") DEF(o3, "amoadd.w.aqrl") DEF(o4, "amoswap.d.aq")
DEF(o5, "amoswap.d.rl") DEF(o6, "amoswap.d.aqrl") DEF(o7, "amomax.d.aqrl") DEF(o8, "amominu.w.aq")
DEF(o9, "amoor.d.rl") DEF(o10, "amoand.w.aqrl") DEF(o11, "amoxor.d.aq") DEF(o12, "amomin.w.rl")
DEF(o13, "amomaxu.d.aq") DEF(o14, "amomin.d.aqrl") DEF(o15, "amomaxu.w.rl") DEF(o16, "amoswap.w.aqrl")

typedef uint64_t (*amo_fn)(volatile uint64_t *, uint64_t);
static const struct { const char *n; amo_fn f; int w; } T[] = {
    { "amoswap.w", swap_w, 1 }, { "amoadd.w", add_w, 1 }, { "amoxor.w", xor_w, 1 },
    { "amoand.w", and_w, 1 }, { "amoor.w", or_w, 1 }, { "amomin.w", min_w, 1 },
    { "amomax.w", max_w, 1 }, { "amominu.w", minu_w, 1 }, { "amomaxu.w", maxu_w, 1 },
    { "amoswap.d", swap_d, 0 }, { "amoadd.d", add_d, 0 }, { "amoxor.d", xor_d, 0 },
    { "amoand.d", and_d, 0 }, { "amoor.d", or_d, 0 }, { "amomin.d", min_d, 0 },
    { "amomax.d", max_d, 0 }, { "amominu.d", minu_d, 0 }, { "amomaxu.d", maxu_d, 0 },
    { "amoadd.w.aq", o1, 1 }, { "amoadd.w.rl", o2, 1 }, { "amoadd.w.aqrl", o3, 1 },
    { "amoswap.d.aq", o4, 0 }, { "amoswap.d.rl", o5, 0 }, { "amoswap.d.aqrl", o6, 0 },
    { "amomax.d.aqrl", o7, 0 }, { "amominu.w.aq", o8, 1 }, { "amoor.d.rl", o9, 0 },
    { "amoand.w.aqrl", o10, 1 }, { "amoxor.d.aq", o11, 0 }, { "amomin.w.rl", o12, 1 },
    { "amomaxu.d.aq", o13, 0 }, { "amomin.d.aqrl", o14, 0 }, { "amomaxu.w.rl", o15, 1 },
    { "amoswap.w.aqrl", o16, 1 },
};

static uint64_t lr_d(volatile uint64_t *p) { uint64_t r; __asm__ volatile("lr.d %0, (%1)" : "=r"(r) : "r"(p) : "memory"); return r; }
static uint64_t lr_w(volatile void *p) { uint64_t r; __asm__ volatile("lr.w %0, (%1)" : "=r"(r) : "r"(p) : "memory"); return r; }
static uint64_t sc_d(volatile uint64_t *p, uint64_t v) { uint64_t r; __asm__ volatile("sc.d %0, %2, (%1)" : "=&r"(r) : "r"(p), "r"(v) : "memory"); return r; }
static uint64_t sc_w(volatile void *p, uint64_t v) { uint64_t r; __asm__ volatile("sc.w %0, %2, (%1)" : "=&r"(r) : "r"(p), "r"(v) : "memory"); return r; }

static void show(const char *n, uint64_t rd)
{
    print(n);
    putchar_(' ');
    print_hex64(rd);
    putchar_(' ');
    print_hex64(mem[0]);
    putchar_(' ');
    print_hex64(mem[1]);
    putchar_('\n');
}

int main(void)
{
    for (unsigned k = 0; k < sizeof(T) / sizeof(T[0]); k++)
        for (unsigned i = 0; i < NV; i++)
            for (unsigned j = 0; j < NV; j++) {
                mem[0] = V[i];
                mem[1] = 0x5a5a5a5a5a5a5a5aUL;
                /* .w ops also on the upper word of mem[0] */
                uint64_t r = T[k].f(mem, V[j]);
                print(T[k].n); putchar_(' '); print_dec(i); putchar_(' '); print_dec(j);
                putchar_(' '); print_hex64(r); putchar_(' '); print_hex64(mem[0]); putchar_('\n');
                if (T[k].w && i == 2) {
                    mem[0] = 0x8000000100000002UL;
                    r = T[k].f((volatile uint64_t *)((uintptr_t)mem + 4), V[j]);
                    print(T[k].n); print(" hi "); print_dec(j); putchar_(' ');
                    print_hex64(r); putchar_(' '); print_hex64(mem[0]); putchar_('\n');
                }
            }
    {
        uint64_t r;
        mem[0] = 5;
        __asm__ volatile("amoadd.d x0, %1, (%0)" :: "r"(mem), "r"(3UL) : "memory");
        show("amoadd rd=x0", 0);
        uint64_t v = 9;
        __asm__ volatile("amoswap.d %0, %0, (%1)" : "+r"(v) : "r"(mem) : "memory");
        show("amoswap rd=rs2", v);
        (void)r;
    }

    /* LR/SC */
    mem[0] = 0x1111; mem[1] = 0x2222;
    uint64_t a = lr_d(mem), b = sc_d(mem, 0x3333);
    show("lr/sc ok lr", a); show("lr/sc ok sc", b);
    b = sc_d(mem, 0x4444);
    show("sc again (no reservation)", b);
    lr_d(mem);
    b = sc_d(mem + 1, 0x5555);
    show("sc other address", b);
    b = sc_d(mem, 0x6666);
    show("sc after failed sc", b);
    lr_d(mem);
    lr_d(mem + 1);
    b = sc_d(mem, 0x7777);
    show("sc to first of two lr", b);
    lr_d(mem);
    lr_d(mem + 1);
    b = sc_d(mem + 1, 0x8888);
    show("sc to second of two lr", b);
    a = lr_w(mem);
    b = sc_w(mem, 0xfffffffff0000001UL);
    show("lr.w/sc.w", b);
    mem[0] = 0x00000000f0000000UL;
    a = lr_w(mem);
    show("lr.w sign-extends", a);
    b = sc_w(mem, 0x12345678UL);
    show("sc.w", b);
    a = lr_w((volatile uint8_t *)mem + 4);
    b = sc_w((volatile uint8_t *)mem + 4, 0xabcdUL);
    show("lr.w/sc.w upper word", b);
    /* QEMU implements SC as compare-and-swap against the value loaded by LR:
     * a store by this hart of a different value makes SC fail, the same
     * value lets it succeed. */
    mem[0] = 1;
    lr_d(mem);
    mem[0] = 2;
    b = sc_d(mem, 3);
    show("sc after own store (different value)", b);
    mem[0] = 1;
    lr_d(mem);
    mem[0] = 1;
    b = sc_d(mem, 4);
    show("sc after own store (same value)", b);
    mem[0] = 1;
    lr_d(mem);
    mem[1] = 7;
    b = sc_d(mem, 5);
    show("sc after store elsewhere", b);
    /* aq/rl variants */
    mem[0] = 10;
    __asm__ volatile("lr.d.aq %0, (%1)" : "=r"(a) : "r"(mem) : "memory");
    __asm__ volatile("sc.d.rl %0, %2, (%1)" : "=&r"(b) : "r"(mem), "r"(11UL) : "memory");
    show("lr.aq/sc.rl", b);
    __asm__ volatile("lr.w.aqrl %0, (%1)" : "=r"(a) : "r"(mem) : "memory");
    __asm__ volatile("sc.w.aqrl %0, %2, (%1)" : "=&r"(b) : "r"(mem), "r"(12UL) : "memory");
    show("lr.aqrl/sc.aqrl", b);
    /* trap (ecall to M and back via mret) between LR and SC */
    mem[0] = 20;
    lr_d(mem);
    __asm__ volatile("ecall" ::: "memory");
    b = sc_d(mem, 21);
    show("sc after ecall+mret", b);
    mem[0] = 25;
    lr_d(mem);
    __asm__ volatile("csrw mscratch, zero\n\tcsrw mscratch, %0\n\tfence\n\tfence.i" :: "r"(csrr(mscratch)) : "memory");
    b = sc_d(mem, 26);
    show("sc after csr write/fence/fence.i", b);
    /* mret to M-mode itself (no trap) between LR and SC */
    mem[0] = 30;
    lr_d(mem);
    __asm__ volatile("la t0, 1f\n\tcsrw mepc, t0\n\tli t0, 0x1800\n\tcsrs mstatus, t0\n\tmret\n1:"
                     ::: "t0", "memory");
    b = sc_d(mem, 31);
    show("sc after mret only", b);
    /* a retry loop as used by real code */
    mem[0] = 100;
    __asm__ volatile("1: lr.d t0, (%0)\n\taddi t0, t0, 1\n\tsc.d t1, t0, (%0)\n\tbnez t1, 1b"
                     :: "r"(mem) : "t0", "t1", "memory");
    show("lr/sc loop", 0);
    return 0;
}
