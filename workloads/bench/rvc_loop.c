/* rvc_loop: a loop made only of compressed instructions (rvc_loop.S), run
 * for ITERS rounds.  Its semantics are checked first against the same
 * computation in C over a few rounds. */
#define NAME "rvc_loop"
#define ITERS_FULL  406000
#define ITERS_QUICK 51000
#define EXPECT_FULL  0xca29b9a070b4df7d
#define EXPECT_QUICK 0xb6273101a2abed1a
#include "bench.h"

uint64_t rvc_kernel(uint32_t state[64], long rounds);

/* The kernel in C, register by register (64-bit registers, lw sign-extends,
 * sw keeps the low 32 bits, *w instructions sign-extend their 32-bit result). */
static uint64_t rvc_reference(uint32_t *st, long rounds)
{
    int64_t a2 = 1;
    for (; rounds > 0; rounds--) {
        for (uint32_t *p = st; p < st + 64; p += 4) {
            int64_t a4 = (int32_t)p[0], s0 = (int32_t)p[1], s1;
            a4 += a2;
            s0 ^= a4;
            a4 = (int64_t)((uint64_t)a4 << 5);
            s0 = (int64_t)((uint64_t)s0 >> 3);
            a4 -= s0;
            p[0] = (uint32_t)a4;
            s0 = (int32_t)(uint32_t)(s0 + a2);
            p[1] = (uint32_t)s0;
            s1 = (int32_t)p[2];
            a4 = (int32_t)p[3];
            s1 >>= 1;
            a4 |= s1;
            s1 &= -7;
            a4 = (int32_t)(uint32_t)(a4 - s1);
            s1 ^= a4;
            p[2] = (uint32_t)s1;
            p[3] = (uint32_t)a4;
            a2 ^= a4;
            a2 = (int32_t)(uint32_t)(a2 + 13);
        }
        uint64_t w = ((uint64_t)st[1] << 32 | st[0]) >> 1;
        w += (uint64_t)(int64_t)(int32_t)(0x12u << 12);
        st[62] = (uint32_t)w;
        st[63] = (uint32_t)(w >> 32);
    }
    return (uint64_t)a2;
}

static uint32_t state[64] __attribute__((aligned(8)));
static uint32_t ref[64] __attribute__((aligned(8)));

int main(void)
{
    uint64_t rng = 0x6a09e667f3bcc908UL;
    for (int i = 0; i < 64; i++)
        ref[i] = state[i] = (uint32_t)rng_next(&rng);
    for (long r = 1; r <= 3; r++) {
        uint64_t a = rvc_kernel(state, r), b = rvc_reference(ref, r);
        CHECK(NAME, 2, "kernel result vs C", a, b);
        for (int i = 0; i < 64; i++)
            CHECK(NAME, 3, "kernel state vs C", state[i], ref[i]);
    }
    uint64_t sum = rvc_kernel(state, ITERS);
    for (int i = 0; i < 64; i++)
        sum = mix64(sum, state[i]);
    return bench_finish(NAME, sum);
}
