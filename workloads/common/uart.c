#include "uart.h"

#define UART ((volatile uint8_t *)UART_BASE)

void putchar_(char c)
{
    while (!(UART[5] & 0x20))
        ;
    UART[0] = (uint8_t)c;
}

void print(const char *s)
{
    while (*s)
        putchar_(*s++);
}

void puts(const char *s)
{
    print(s);
    putchar_('\n');
}

void print_hex(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        putchar_("0123456789abcdef"[(v >> (i * 4)) & 0xf]);
}

void print_hex64(uint64_t v) { print_hex(v, 16); }

void print_dec(int64_t v)
{
    char buf[24];
    int n = 0;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    if (v < 0)
        putchar_('-');
    do {
        buf[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        putchar_(buf[--n]);
}

void pr(const char *name, uint64_t v)
{
    print(name);
    putchar_(' ');
    print_hex64(v);
    putchar_('\n');
}

void pr32(const char *name, uint64_t v)
{
    print(name);
    putchar_(' ');
    print_hex(v, 8);
    putchar_('\n');
}

void pr2(const char *name, uint64_t a, uint64_t b)
{
    print(name);
    putchar_(' ');
    print_hex64(a);
    putchar_(' ');
    print_hex64(b);
    putchar_('\n');
}

void exit(int code)
{
    volatile uint32_t *fin = (volatile uint32_t *)FINISHER_BASE;
    *fin = code == 0 ? 0x5555u : (((uint32_t)code << 16) | 0x3333u);
    for (;;)
        __asm__ volatile("wfi");
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

void *memmove(void *d, const void *s, unsigned long n)
{
    volatile uint8_t *p = d;
    const uint8_t *q = s;
    if (p < q) {
        while (n--)
            *p++ = *q++;
    } else {
        while (n--)
            p[n] = q[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, unsigned long n)
{
    const uint8_t *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}
