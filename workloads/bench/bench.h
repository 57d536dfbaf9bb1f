/* Salus benchmarks: shared helpers.
 *
 * Every benchmark is self-checking.  It verifies invariants of its own
 * computation while it runs (sortedness, conservation laws, known test
 * vectors, a second implementation of the same function) and, at the end,
 * compares a 64-bit checksum of everything it computed with the value QEMU
 * 7.2 (the project's oracle) produces for the same build.  It then prints
 * exactly one line
 *
 *     <name>: ok <checksum as 16 hex digits>
 *
 * and exits with finisher code 0, or prints "<name>: FAIL ..." and exits with
 * a non-zero code (1: final checksum, 2 and up: an invariant).
 *
 * The amount of work is a compile-time constant: ITERS_FULL for
 * bench/bin/<name>.elf, ITERS_QUICK for bench/bin/quick/<name>.elf (built
 * with -DQUICK); EXPECT_FULL / EXPECT_QUICK are the matching checksums. */
#ifndef SALUS_BENCH_H
#define SALUS_BENCH_H
#include <stdint.h>
#include "uart.h"

#ifdef QUICK
#define ITERS  ITERS_QUICK
#define EXPECT EXPECT_QUICK
#else
#define ITERS  ITERS_FULL
#define EXPECT EXPECT_FULL
#endif

/* Keep the compiler from folding a value computed from constants. */
#define OPAQUE(v) __asm__ volatile("" : "+r"(v))

static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint32_t rotr32(uint32_t x, int k) { return (x >> k) | (x << (32 - k)); }

/* xorshift64* pseudo-random numbers (state must be non-zero). */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dUL;
}

/* Order-dependent 64-bit mixing of a value into a running checksum. */
static inline uint64_t mix64(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15UL + (h << 6) + (h >> 2);
    return rotl64(h * 0xff51afd7ed558ccdUL, 29);
}

static void bench_fail(const char *name, int code, const char *what, uint64_t got, uint64_t want)
    __attribute__((noreturn, noinline));
static void bench_fail(const char *name, int code, const char *what, uint64_t got, uint64_t want)
{
    print(name);
    print(": FAIL ");
    print(what);
    print(" got ");
    print_hex64(got);
    print(" want ");
    print_hex64(want);
    putchar_('\n');
    exit(code);
}

/* Check an invariant; on failure print and exit with `code`. */
#define CHECK(name, code, what, got, want)                                      \
    do {                                                                        \
        uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                   \
        if (g_ != w_)                                                           \
            bench_fail(name, code, what, g_, w_);                               \
    } while (0)

/* Compare the final checksum with the oracle's and report. */
static int bench_finish(const char *name, uint64_t sum)
{
    if (sum != (uint64_t)(EXPECT))
        bench_fail(name, 1, "checksum", sum, (uint64_t)(EXPECT));
    print(name);
    print(": ok ");
    print_hex64(sum);
    putchar_('\n');
    return 0;
}
#endif
