#include "rt.h"

unsigned long n_checks, n_failed, expected_traps;

void print(const char *s)
{
    while (*s)
        con_putc(*s++);
}

void print_hex(uint64_t v)
{
    int i = 60;
    print("0x");
    while (i > 0 && !((v >> i) & 0xF))
        i -= 4;
    for (; i >= 0; i -= 4)
        con_putc("0123456789abcdef"[(v >> i) & 0xF]);
}

void print_signed(long v)
{
    if (v < 0)
        con_putc('-');
    print_hex(v < 0 ? -(uint64_t)v : (uint64_t)v);
}

void print_dec(uint64_t v)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        con_putc(buf[--n]);
}

static void print_val(uint64_t v, int sgn)
{
    if (sgn)
        print_signed((long)v);
    else
        print_hex(v);
}

static int report_(const char *name, int ok, uint64_t got, const char *want_s, uint64_t want, int sgn)
{
    n_checks++;
    if (ok) {
        print("PASS ");
        print(name);
        print("\n");
        return 1;
    }
    n_failed++;
    print("FAIL ");
    print(name);
    print(" (got ");
    print_val(got, sgn);
    print(", want ");
    if (want_s)
        print(want_s);
    else
        print_val(want, sgn);
    print(")\n");
    return 0;
}

int check(const char *name, uint64_t got, uint64_t want) { return report_(name, got == want, got, 0, want, 0); }
int check_err(const char *name, long got, long want) { return report_(name, got == want, got, 0, want, 1); }
int check_true(const char *name, int ok, uint64_t got) { return report_(name, ok, got, "true", 0, 0); }
int check_error(const char *name, long got) { return report_(name, got < 0, got, "an error", 0, 1); }

const char *cat(const char *a, const char *b)
{
    static char buf[96];
    unsigned long n = 0;
    while (*a && n < sizeof buf - 2)
        buf[n++] = *a++;
    buf[n++] = '_';
    while (*b && n < sizeof buf - 1)
        buf[n++] = *b++;
    buf[n] = 0;
    return buf;
}

void *memset(void *d, int c, unsigned long n)
{
    volatile uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
    volatile uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp(const void *a, const void *b, unsigned long n)
{
    const volatile uint8_t *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

unsigned long strlen(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

int all_zero(const void *p, unsigned long n)
{
    const volatile uint64_t *q = p;
    for (n /= 8; n; n--)
        if (*q++)
            return 0;
    return 1;
}

static uint64_t probe_result(uint64_t before)
{
    if (trap_rec.count == before)
        return NO_TRAP;
    expected_traps += trap_rec.count - before;
    return trap_rec.cause;
}

uint64_t probe_load(uint64_t addr)
{
    uint64_t before = trap_rec.count;
    (void)*(volatile uint64_t *)addr;
    return probe_result(before);
}

uint64_t probe_store(uint64_t addr, uint64_t val)
{
    uint64_t before = trap_rec.count;
    *(volatile uint64_t *)addr = val;
    return probe_result(before);
}

void finish(const char *name, unsigned long checks, unsigned long failed)
{
    print(name);
    print(": ");
    print_dec(checks);
    print(" checks, ");
    print_dec(failed);
    print(" failed\n");
    if (!failed)
        print("All OK\n");
    sbi(EID_SRST, 0, SRST_SHUTDOWN, failed ? SRST_REASON_FAILURE : SRST_REASON_NONE);
    for (;;)
        __asm__ volatile("wfi");
}
