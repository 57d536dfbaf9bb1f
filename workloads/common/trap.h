#ifndef SALUS_TRAP_H
#define SALUS_TRAP_H
#include <stdint.h>
#include "uart.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define csrr(csr) ({ uint64_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_) :: "memory"); v_; })
#define csrw(csr, v) __asm__ volatile("csrw " #csr ", %0" :: "rK"((uint64_t)(v)) : "memory")
#define csrs(csr, v) __asm__ volatile("csrs " #csr ", %0" :: "rK"((uint64_t)(v)) : "memory")
#define csrc(csr, v) __asm__ volatile("csrc " #csr ", %0" :: "rK"((uint64_t)(v)) : "memory")
#define csrrw(csr, v) ({ uint64_t v_; __asm__ volatile("csrrw %0, " #csr ", %1" : "=r"(v_) : "r"((uint64_t)(v)) : "memory"); v_; })

#define MSTATUS_SIE  (1UL << 1)
#define MSTATUS_MIE  (1UL << 3)
#define MSTATUS_SPIE (1UL << 5)
#define MSTATUS_UBE  (1UL << 6)
#define MSTATUS_MPIE (1UL << 7)
#define MSTATUS_SPP  (1UL << 8)
#define MSTATUS_MPP  (3UL << 11)
#define MSTATUS_FS   (3UL << 13)
#define MSTATUS_XS   (3UL << 15)
#define MSTATUS_MPRV (1UL << 17)
#define MSTATUS_SUM  (1UL << 18)
#define MSTATUS_MXR  (1UL << 19)
#define MSTATUS_TVM  (1UL << 20)
#define MSTATUS_TW   (1UL << 21)
#define MSTATUS_TSR  (1UL << 22)
#define MSTATUS_SD   (1UL << 63)

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define CAUSE_INTR (1UL << 63)

/* Register frame built by the trap entries in trap.S. */
struct trap_frame {
    uint64_t x[32];
    uint64_t cause, epc, tval, status, vec;
};

/* Last trap taken in M / S (filled by the common handlers). */
struct trap_rec {
    uint64_t count, cause, epc, tval, status, vec;
};
extern volatile struct trap_rec mtrap, strap;

/* Hook: called first for every trap; return non-zero if it fully handled
 * the trap (frame may be edited), zero to continue with the default action:
 * exceptions skip the faulting instruction (fetch faults return to ra),
 * interrupts are reported as unexpected and the program exits with code 5. */
typedef int (*trap_hook_t)(struct trap_frame *f);
extern volatile trap_hook_t m_hook, s_hook;

extern char m_trap_entry[], s_trap_entry[], m_vec_table[], s_vec_table[];
extern uint64_t reset_mstatus, reset_mtvec, boot_hartid;

void trap_clear(void);
/* print "tag count cause epc tval" */
void print_trap(const char *tag, volatile struct trap_rec *r);
/* Install the common S-mode handler (stvec direct) and sscratch. */
void s_trap_init(void);
/* PMP entry 0 = NAPOT over all memory, RWX (needed before mret to S/U). */
void pmp_allow_all(void);

/* Run fn(arg) in privilege `mode` (0 U, 1 S, 3 M); returns fn's result when
 * fn returns (through an ecall with a7 = MODE_EXIT_MAGIC; the S handler
 * forwards it to M, which needs medeleg to not delegate both S-mode ecalls
 * and illegal instructions at the same time).  `off` is added to
 * fn, sp and the return stub (for running through an aliased mapping). */
#define MODE_EXIT_MAGIC 0x5a1a5e817UL
uint64_t run_mode_off(int mode, void *fn, uint64_t arg, int64_t off);
static inline uint64_t run_mode(int mode, void *fn, uint64_t arg) { return run_mode_off(mode, fn, arg, 0); }
void mode_return(uint64_t v) __attribute__((noreturn));
#endif
