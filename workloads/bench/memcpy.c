/* memcpy: word-at-a-time memcpy (shift-and-merge when source and destination
 * are aligned differently, as production RISC-V memcpys do, never a
 * misaligned access) and memset, over many sizes and all 8x8 source and
 * destination alignments.  Every copy is checked: guard bytes around the
 * destination, and the copied bytes (all of them on the first pass, a sample
 * afterwards). */
#define NAME "memcpy"
#define ITERS_FULL  98
#define ITERS_QUICK 12
#define EXPECT_FULL  0x6f964009653dfb99
#define EXPECT_QUICK 0x706037b241dbfe90
#include "bench.h"

typedef uint64_t __attribute__((may_alias)) u64a;
typedef unsigned long size_t;

/* Keep GCC from turning the byte loops back into calls to memcpy/memset. */
#define NO_LIBCALL __attribute__((noinline, optimize("no-tree-loop-distribute-patterns")))

static NO_LIBCALL void *bm_memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (n >= 16) {
        while ((uintptr_t)d & 7) {
            *d++ = *s++;
            n--;
        }
        u64a *dw = (u64a *)d;
        unsigned sh = (uintptr_t)s & 7;
        if (sh == 0) {
            const u64a *sw = (const u64a *)s;
            for (; n >= 32; n -= 32, dw += 4, sw += 4) {
                uint64_t a = sw[0], b = sw[1], c = sw[2], e = sw[3];
                dw[0] = a; dw[1] = b; dw[2] = c; dw[3] = e;
            }
            for (; n >= 8; n -= 8)
                *dw++ = *sw++;
            s = (const uint8_t *)sw;
        } else {
            const u64a *sw = (const u64a *)(s - sh);
            unsigned rs = sh * 8, ls = 64 - rs;
            uint64_t cur = *sw++;
            for (; n >= 8; n -= 8, s += 8) {
                uint64_t next = *sw++;
                *dw++ = (cur >> rs) | (next << ls);
                cur = next;
            }
        }
        d = (uint8_t *)dw;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

static NO_LIBCALL void *bm_memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    if (n >= 16) {
        uint64_t v = (uint8_t)c * 0x0101010101010101UL;
        while ((uintptr_t)d & 7) {
            *d++ = (uint8_t)c;
            n--;
        }
        u64a *dw = (u64a *)d;
        for (; n >= 32; n -= 32, dw += 4) {
            dw[0] = v; dw[1] = v; dw[2] = v; dw[3] = v;
        }
        for (; n >= 8; n -= 8)
            *dw++ = v;
        d = (uint8_t *)dw;
    }
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

static const unsigned SIZES[] = { 0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 64, 65,
                                  100, 127, 128, 255, 256, 511, 777, 1024, 1500, 4096 };
#define NSIZES (sizeof(SIZES) / sizeof(SIZES[0]))
#define MAXN 4096
#define GUARD 8

static uint8_t src[MAXN + 64] __attribute__((aligned(64)));
static uint8_t dst[MAXN + 64] __attribute__((aligned(64)));

static uint64_t sum;

static void check_guards(unsigned da, unsigned n, uint8_t g)
{
    for (unsigned k = 0; k < GUARD; k++) {
        if (dst[16 + da - GUARD + k] != g)
            bench_fail(NAME, 2, "guard byte before destination", n, da);
        if (dst[16 + da + n + k] != g)
            bench_fail(NAME, 3, "guard byte after destination", n, da);
    }
}

static void copy_case(unsigned n, unsigned sa, unsigned da, int full, uint8_t g)
{
    uint8_t *d = dst + 16 + da;
    const uint8_t *s = src + sa;
    bm_memset(d - GUARD, g, n + 2 * GUARD);
    bm_memcpy(d, s, n);
    check_guards(da, n, g);
    unsigned step = full ? 1 : 61;
    for (unsigned k = 0; k < n; k += step)
        if (d[k] != s[k])
            bench_fail(NAME, 4, "copied byte", (uint64_t)n << 32 | k, (uint64_t)sa << 8 | da);
    if (n && d[n - 1] != s[n - 1])
        bench_fail(NAME, 4, "last copied byte", n, (uint64_t)sa << 8 | da);
    if (n)
        sum = mix64(sum, d[n / 2] | (uint64_t)d[n - 1] << 8 | (uint64_t)n << 16);
}

static void set_case(unsigned n, unsigned da, int full, uint8_t c, uint8_t g)
{
    uint8_t *d = dst + 16 + da;
    bm_memset(d - GUARD, g, GUARD);
    bm_memset(d + n, g, GUARD);
    bm_memset(d, c, n);
    check_guards(da, n, g);
    unsigned step = full ? 1 : 37;
    for (unsigned k = 0; k < n; k += step)
        if (d[k] != c)
            bench_fail(NAME, 5, "set byte", (uint64_t)n << 32 | k, da);
}

int main(void)
{
    uint64_t rng = 0x9b05688c2b3e6c1fUL;
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)rng_next(&rng);
    for (unsigned it = 0; it < ITERS; it++) {
        int full = it == 0;
        uint8_t g = (uint8_t)(0xa5 ^ it);
        /* Change part of the source each pass so no copy repeats exactly. */
        bm_memset(src + (it * 67) % MAXN, (int)it, 48);
        for (unsigned z = 0; z < NSIZES; z++)
            for (unsigned sa = 0; sa < 8; sa++)
                for (unsigned da = 0; da < 8; da++)
                    copy_case(SIZES[z], sa, da, full, g);
        for (unsigned z = 0; z < NSIZES; z++)
            for (unsigned da = 0; da < 8; da++)
                set_case(SIZES[z], da, full, (uint8_t)(it + z), g);
    }
    return bench_finish(NAME, sum);
}
