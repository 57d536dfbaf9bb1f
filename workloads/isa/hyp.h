/* Shared by the h_*.c workloads (hypervisor extension, run on QEMU with
 * h=true and on Salus with --isa rv64gch).
 *
 * Runs functions in M, HS, U, VS and VU mode (run_in) and records the last
 * trap taken in M, HS or VS mode with its H-specific details (hrec).  Every
 * handler skips the trapping instruction (fetch faults return to ra), so a
 * probe is "run fn in a mode, then look at what trapped where".  Guest code
 * runs identity-mapped (VA = GPA = PA) so the handlers can read the trapping
 * instruction.
 *
 * QEMU 7.2 departs from the spec in a few H details (docs/qemu-deviations.md):
 * GVA is set on traps whose tval is not a guest virtual address, htinst and
 * mtinst are written as zero, and so on.  Output masks those: GVA is printed
 * only for address traps, tinst only as "0 or the right value". */
#ifndef SALUS_HYP_H
#define SALUS_HYP_H
#include "trap.h"

#define H_ASM(s) ".option push\n.option arch, +h\n" s "\n.option pop\n"

#define MSTATUS_GVA  (1UL << 38)
#define MSTATUS_MPV  (1UL << 39)
#define HSTATUS_GVA  (1UL << 6)
#define HSTATUS_SPV  (1UL << 7)
#define HSTATUS_SPVP (1UL << 8)
#define HSTATUS_HU   (1UL << 9)
#define HSTATUS_VTVM (1UL << 20)
#define HSTATUS_VTW  (1UL << 21)
#define HSTATUS_VTSR (1UL << 22)
#define MENVCFG_STCE (1UL << 63)

#define IRQ_VSSI 2
#define IRQ_VSTI 6
#define IRQ_VSEI 10

/* run_in modes: the nominal privilege, plus 4 for V=1 */
#define MODE_U  0
#define MODE_HS 1
#define MODE_M  3
#define MODE_VU 4
#define MODE_VS 5

/* Last trap: where it was taken (MODE_M, MODE_HS or MODE_VS), and the CSRs
 * of that level: xtval2 = mtval2/htval, tinst = mtinst/htinst, status =
 * mstatus/sstatus/vsstatus at the trap, hstatus (HS traps). */
struct hrec {
    uint64_t n, where, cause, epc, tval, tval2, tinst, status, hstatus;
};
extern volatile struct hrec hlast;
extern volatile uint64_t hcount;

typedef uint64_t (*hfn_t)(uint64_t);
uint64_t run_in(int mode, hfn_t fn, uint64_t arg);
/* the same, with fn, the stack and the exit stub at +off (an aliased mapping) */
uint64_t run_in_off(int mode, hfn_t fn, uint64_t arg, int64_t off);
void hyp_init(void);
/* optional: called for interrupts (and anything else first) at each level;
 * return non-zero when handled. */
extern volatile trap_hook_t hm_hook, hs_hook, vs_hook;

static const char *const HMODE[] = { "U", "HS", "?", "M", "VU", "VS" };

/* ---- implementation (each h_*.c includes this once) ---- */
volatile struct hrec hlast;
volatile uint64_t hcount;
volatile trap_hook_t hm_hook, hs_hook, vs_hook;

static uint64_t vs_stack[512] __attribute__((aligned(16)));

/* Length of the trapping instruction, read as the trapping mode sees it:
 * level 3 = M (MPRV with the trap's MPP/MPV, MXR), 1 = HS (HLVX from V=1),
 * 5 = VS (SUM and MXR). */
static int insn_len(int level, struct trap_frame *f)
{
    uint64_t epc = f->epc, h;
    if (level == MODE_M && (((f->status >> 39) & 1) || (((f->status >> 11) & 3) != PRV_M && (csrr(satp) >> 60)))) {
        uint64_t bits = MSTATUS_MPRV | MSTATUS_MXR, old = csrr(mstatus), vs = csrr(vsstatus);
        csrs(vsstatus, MSTATUS_SUM);
        __asm__ volatile("csrs mstatus, %1\n\tlhu %0, 0(%2)\n\tcsrw mstatus, %3"
                         : "=&r"(h) : "r"(bits), "r"(epc), "r"(old) : "memory");
        csrw(vsstatus, vs);
    } else if (level == MODE_HS && ((csrr(hstatus) >> 7) & 1)) {
        __asm__ volatile(H_ASM("hlvx.hu %0, (%1)") : "=r"(h) : "r"(epc) : "memory");
    } else if (level == MODE_VS) {
        uint64_t bits = MSTATUS_SUM | MSTATUS_MXR, old = csrr(sstatus);
        __asm__ volatile("csrs sstatus, %1\n\tlhu %0, 0(%2)\n\tcsrw sstatus, %3"
                         : "=&r"(h) : "r"(bits), "r"(epc), "r"(old) : "memory");
    } else {
        h = *(volatile uint16_t *)epc;
    }
    return (h & 3) == 3 ? 4 : 2;
}

static void skip(int level, struct trap_frame *f)
{
    uint64_t c = f->cause;
    if (c == 0 || c == 1 || c == 12 || c == 20)
        f->epc = f->x[1];
    else
        f->epc += insn_len(level, f);
}

static int hm_trap(struct trap_frame *f)
{
    if (f->cause == 10 && f->x[17] == MODE_EXIT_MAGIC)
        mode_return(f->x[10]);
    if (f->cause == 10 && f->x[17] == MODE_EXIT_MAGIC + 1) {
        pr("unexpected VS-mode trap cause", f->x[10]);
        exit(6);
    }
    if (hm_hook && hm_hook(f))
        return 1;
    hcount++;
    hlast.n = hcount;
    hlast.where = MODE_M;
    hlast.cause = f->cause;
    hlast.epc = f->epc;
    hlast.tval = f->tval;
    hlast.tval2 = csrr(mtval2);
    hlast.tinst = csrr(mtinst);
    hlast.status = f->status;
    hlast.hstatus = csrr(hstatus);
    if (f->cause & CAUSE_INTR)
        return 0; /* trap.c reports it and exits */
    skip(MODE_M, f);
    return 1;
}

static int hs_trap(struct trap_frame *f)
{
    if (f->cause == 10 && f->x[17] == MODE_EXIT_MAGIC) {
        /* a VS-mode exit delegated to HS: pass it on to M */
        register uint64_t a0 __asm__("a0") = f->x[10];
        register uint64_t a7 __asm__("a7") = MODE_EXIT_MAGIC;
        __asm__ volatile("ecall" :: "r"(a0), "r"(a7));
    }
    if (hs_hook && hs_hook(f))
        return 1;
    hcount++;
    hlast.n = hcount;
    hlast.where = MODE_HS;
    hlast.cause = f->cause;
    hlast.epc = f->epc;
    hlast.tval = f->tval;
    hlast.tval2 = csrr(htval);
    hlast.tinst = csrr(htinst);
    hlast.status = f->status;
    hlast.hstatus = csrr(hstatus);
    if (f->cause & CAUSE_INTR)
        return 0;
    skip(MODE_HS, f);
    return 1;
}

void vs_trap_c(struct trap_frame *f)
{
    if (f->cause == 8 && f->x[17] == MODE_EXIT_MAGIC) {
        /* a VU-mode exit delegated to VS: pass it on */
        register uint64_t a0 __asm__("a0") = f->x[10];
        register uint64_t a7 __asm__("a7") = MODE_EXIT_MAGIC;
        __asm__ volatile("ecall" :: "r"(a0), "r"(a7));
    }
    if (vs_hook && vs_hook(f))
        return;
    hcount++;
    hlast.n = hcount;
    hlast.where = MODE_VS;
    hlast.cause = f->cause;
    hlast.epc = f->epc;
    hlast.tval = f->tval;
    hlast.tval2 = 0;
    hlast.tinst = 0;
    hlast.status = f->status;
    hlast.hstatus = 0;
    if (f->cause & CAUSE_INTR) {
        /* unexpected: leave through M with the VS-mode exit path's error code */
        register uint64_t a0 __asm__("a0") = f->cause;
        register uint64_t a7 __asm__("a7") = MODE_EXIT_MAGIC + 1;
        __asm__ volatile("ecall" :: "r"(a0), "r"(a7));
    }
    skip(MODE_VS, f);
}

/* VS-mode trap entry: the same frame as trap.S, on the vsscratch stack. */
__asm__(
    ".text\n.balign 64\n.globl vs_trap_entry\nvs_trap_entry:\n"
    "csrrw sp, sscratch, sp\n"
    "addi sp, sp, -304\n"
    ".irp r,1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "sd x\\r, \\r*8(sp)\n.endr\n"
    "csrr t0, sscratch\nsd t0, 16(sp)\n"
    "csrr t0, scause\nsd t0, 256(sp)\n"
    "csrr t0, sepc\nsd t0, 264(sp)\n"
    "csrr t0, stval\nsd t0, 272(sp)\n"
    "csrr t0, sstatus\nsd t0, 280(sp)\n"
    "li t0, -1\nsd t0, 288(sp)\n"
    "mv a0, sp\ncall vs_trap_c\n"
    "ld t0, 264(sp)\ncsrw sepc, t0\n"
    "ld t0, 280(sp)\ncsrw sstatus, t0\n"
    "addi t0, sp, 304\ncsrw sscratch, t0\n"
    ".irp r,1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "ld x\\r, \\r*8(sp)\n.endr\n"
    "ld sp, 16(sp)\n"
    "sret\n");
extern char vs_trap_entry[];

uint64_t run_in(int mode, hfn_t fn, uint64_t arg) { return run_in_off(mode, fn, arg, 0); }

uint64_t run_in_off(int mode, hfn_t fn, uint64_t arg, int64_t off)
{
    if (mode == MODE_M)
        return fn(arg);
    if (mode & 4) {
        csrw(vsscratch, (uint64_t)&vs_stack[512]);
        csrs(mstatus, MSTATUS_MPV);
    } else {
        csrc(mstatus, MSTATUS_MPV);
    }
    uint64_t r = run_mode_off(mode & 3, (void *)fn, arg, off);
    csrc(mstatus, MSTATUS_MPV);
    return r;
}

void hyp_init(void)
{
    pmp_allow_all();
    s_trap_init();
    m_hook = hm_trap;
    s_hook = hs_trap;
    csrw(vstvec, (uint64_t)vs_trap_entry);
    csrw(mideleg, 0);
    csrw(medeleg, 0);
    csrw(hedeleg, 0);
    csrw(hideleg, 0);
    csrw(hgatp, 0);
    csrw(vsatp, 0);
    csrw(hstatus, 0);
    csrw(mcounteren, ~0UL);
    csrw(scounteren, ~0UL);
    csrw(hcounteren, ~0UL);
    csrs(mstatus, MSTATUS_FS);
    csrw(vsstatus, 1UL << 13); /* FS = Initial */
}

/* ---- reporting ---- */
static uint64_t hmark;
/* set to print tval as "masked" (QEMU 7.2 reports stale instruction bits for HLV/HLVX/HSV) */
static int hmask_tval;
static void hclear(void) { hmark = hcount; }
static int htrapped(void) { return hcount != hmark; }

/* "tag: ok <v>" or "tag: trap <where> cause tval", plus the level's mode bits:
 * M: MPV MPP; HS: SPV SPVP SPP; VS: SPP.  (GVA and tinst printed separately.) */
static void hshow(const char *tag, uint64_t v)
{
    print(tag);
    if (!htrapped()) {
        print(": ok ");
        print_hex64(v);
        putchar_('\n');
        return;
    }
    print(": ");
    print(HMODE[hlast.where]);
    print(" cause=");
    print_hex(hlast.cause, hlast.cause >> 63 ? 16 : 2);
    print(" tval=");
    if (hmask_tval)
        print("(masked)");
    else
        print_hex64(hlast.tval);
    if (hlast.where == MODE_M) {
        print(" MPV=");
        print_dec((hlast.status >> 39) & 1);
        print(" MPP=");
        print_dec((hlast.status >> 11) & 3);
    } else if (hlast.where == MODE_HS) {
        print(" SPV=");
        print_dec((hlast.hstatus >> 7) & 1);
        print(" SPVP=");
        print_dec((hlast.hstatus >> 8) & 1);
        print(" SPP=");
        print_dec((hlast.status >> 8) & 1);
    } else {
        print(" SPP=");
        print_dec((hlast.status >> 8) & 1);
    }
    if (hcount - hmark > 1) {
        print(" traps=");
        print_dec((int64_t)(hcount - hmark));
    }
    putchar_('\n');
}

/* GVA of the last trap (M or HS). */
static uint64_t hgva(void)
{
    return hlast.where == MODE_M ? (hlast.status >> 38) & 1 : (hlast.hstatus >> 6) & 1;
}

/* For address traps: GVA and xtval2 (the faulting guest physical address >> 2). */
static void hshow_addr(void)
{
    print("  gva=");
    print_dec((int64_t)hgva());
    print(" tval2=");
    print_hex64(hlast.tval2);
    putchar_('\n');
}

/* tinst is zero on QEMU 7.2; Salus writes the transformed instruction or a
 * pseudoinstruction.  Print whether it is zero or the expected value. */
static void hshow_tinst(uint64_t expected)
{
    print("  tinst 0-or-expected=");
    print_dec(hlast.tinst == 0 || hlast.tinst == expected);
    putchar_('\n');
}

#endif
