/* Small runtime shared by tellus and guestvm: console printing, PASS/FAIL
 * checks, memory helpers and a trap recorder (cove/crt0.S installs a stvec
 * handler that records the trap and skips the faulting instruction). */
#ifndef COVE_RT_H
#define COVE_RT_H
#include <stdint.h>
#include "cove.h"

/* Provided by each program: write one console character. */
void con_putc(char c);

void print(const char *s);
void print_hex(uint64_t v);     /* "0x1f" */
void print_signed(long v);      /* "-0x3" */
void print_dec(uint64_t v);

/* Checks: one line each, "PASS name" or "FAIL name (got 0x.., want 0x..)". */
extern unsigned long n_checks, n_failed;
int check(const char *name, uint64_t got, uint64_t want);
int check_err(const char *name, long got, long want);     /* SBI error codes, printed signed */
int check_true(const char *name, int ok, uint64_t got);  /* want printed as "true" */
int check_error(const char *name, long got);              /* any negative error */
/* The host programs' end: "name: N checks, M failed", "All OK" if none failed, then SRST shutdown with reason
 * none or system failure. */
__attribute__((noreturn)) void finish(const char *name, unsigned long checks, unsigned long failed);
/* "a_b" in a static buffer (valid until the next call) */
const char *cat(const char *a, const char *b);

void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
int memcmp(const void *a, const void *b, unsigned long n);
unsigned long strlen(const char *s);
int all_zero(const void *p, unsigned long n);

/* Trap recorder (filled by trap_entry in crt0.S). */
struct trap_rec { uint64_t count, cause, epc, tval; };
extern volatile struct trap_rec trap_rec;
extern unsigned long expected_traps;
#define NO_TRAP (~0UL)
/* Access addr; return the trap cause (trap_rec.tval = address) or NO_TRAP. */
uint64_t probe_load(uint64_t addr);
uint64_t probe_store(uint64_t addr, uint64_t val);

static inline uint64_t rd64(uint64_t a) { return *(volatile uint64_t *)a; }
static inline void wr64(uint64_t a, uint64_t v) { *(volatile uint64_t *)a = v; }
#define csrr(csr) ({ uint64_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_) :: "memory"); v_; })
#endif
