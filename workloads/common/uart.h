#ifndef SALUS_UART_H
#define SALUS_UART_H
#include <stdint.h>

#define UART_BASE     0x10000000UL
#define FINISHER_BASE 0x100000UL
#define CLINT_BASE    0x2000000UL
#define CLINT_MSIP    (CLINT_BASE + 0x0)
#define CLINT_MTIMECMP (CLINT_BASE + 0x4000)
#define CLINT_MTIME   (CLINT_BASE + 0xBFF8)

void putchar_(char c);
void print(const char *s);                 /* no newline */
void puts(const char *s);                  /* with newline */
void print_hex(uint64_t v, int digits);    /* lowercase, zero padded */
void print_hex64(uint64_t v);
void print_dec(int64_t v);
void pr(const char *name, uint64_t v);     /* "name 0123456789abcdef\n" */
void pr32(const char *name, uint64_t v);   /* "name 01234567\n" */
void pr2(const char *name, uint64_t a, uint64_t b); /* "name a b\n" */
void exit(int code) __attribute__((noreturn));

void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
void *memmove(void *d, const void *s, unsigned long n);
int memcmp(const void *a, const void *b, unsigned long n);

static inline uint64_t mmio_read64(uint64_t a) { return *(volatile uint64_t *)a; }
static inline void mmio_write64(uint64_t a, uint64_t v) { *(volatile uint64_t *)a = v; }
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
#endif
