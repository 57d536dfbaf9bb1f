/* RV64M: every multiply/divide instruction incl. W variants over edge values:
 * division by zero, INT_MIN / -1 overflow, mulh/mulhsu/mulhu signs. */
#include "trap.h"

static const uint64_t V[] = {
    0, 1, 2, 3, 7, 0xffffffffffffffffUL, 0xfffffffffffffffeUL, 0x7fffffffffffffffUL,
    0x8000000000000000UL, 0x0000000080000000UL, 0x00000000ffffffffUL,
    0xffffffff80000000UL, 0x000000007fffffffUL, 0x123456789abcdef0UL, 0xfffffffffffffff9UL,
    0x5555555555555555UL, 0x00000001fffffffdUL,
};
#define NV (sizeof(V) / sizeof(V[0]))

#define RR(op) static uint64_t m_##op(uint64_t a, uint64_t b) { uint64_t r; \
    __asm__ volatile(#op " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
#define LIST(X) X(mul) X(mulh) X(mulhsu) X(mulhu) X(div) X(divu) X(rem) X(remu) \
    X(mulw) X(divw) X(divuw) X(remw) X(remuw)
LIST(RR)
#define ENT(op) { #op, m_##op },
static const struct { const char *n; uint64_t (*f)(uint64_t, uint64_t); } T[] = { LIST(ENT) };

int main(void)
{
    for (unsigned k = 0; k < sizeof(T) / sizeof(T[0]); k++)
        for (unsigned i = 0; i < NV; i++)
            for (unsigned j = 0; j < NV; j++) {
                print(T[k].n); putchar_(' '); print_dec(i); putchar_(' '); print_dec(j);
                putchar_(' '); print_hex64(T[k].f(V[i], V[j])); putchar_('\n');
            }
    /* rd overlapping sources */
    uint64_t a = 0x8000000000000000UL, b = 0xffffffffffffffffUL;
    __asm__ volatile("div %0, %0, %1" : "+r"(a) : "r"(b));
    pr("div overlap", a);
    a = 12345;
    __asm__ volatile("mul %0, %0, %0" : "+r"(a));
    pr("mul square", a);
    return 0;
}
