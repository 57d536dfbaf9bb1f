/* mstatus.FS state machine (Off => illegal FP instructions and FP CSRs,
 * Initial/Clean => Dirty on FP state writes, SD), sstatus.FS from S,
 * mcounteren/scounteren gating of cycle/time/instret (and hpmcounter3) from
 * S and U, menvcfg/senvcfg access from lower modes. */
#include "trap.h"

#define FS_SHIFT 13

static void set_fs(uint64_t fs)
{
    csrc(mstatus, MSTATUS_FS);
    csrs(mstatus, fs << FS_SHIFT);
}
static uint64_t fs(void) { return (csrr(mstatus) >> FS_SHIFT) & 3; }
static uint64_t sd(void) { return csrr(mstatus) >> 63; }

#define FPOP(name, body) static void name(void) { __asm__ volatile(body ::: "ft0", "ft1", "fa0", "a0", "memory"); }
uint64_t fpmem[2];
FPOP(op_fadd, "fadd.s ft0, ft1, ft1")
FPOP(op_fmv_w_x, "fmv.w.x ft0, zero")
FPOP(op_fmv_x_w, "fmv.x.w a0, ft0")
FPOP(op_flw, "la a0, fpmem\n\tflw ft0, 0(a0)")
FPOP(op_fsd, "la a0, fpmem\n\tfsd ft0, 0(a0)")
FPOP(op_cfld, "la a0, fpmem\n\t.option push\n.option rvc\n\tc.fld fa0, 0(a0)\n.option pop")
FPOP(op_csrr_fcsr, "csrr a0, fcsr")
FPOP(op_csrw_fflags, "csrwi fflags, 0")
FPOP(op_csrr_frm, "csrr a0, frm")
FPOP(op_feq, "feq.d a0, ft0, ft0")
FPOP(op_fclass, "fclass.d a0, ft0")
/* An exact conversion: with flags raised the spec wants FS Dirty and QEMU 7.2 leaves it (docs/qemu-deviations.md). */
FPOP(op_fcvt_w, "fmv.d.x ft0, zero\n\tfcvt.w.d a0, ft0")

static const struct { const char *n; void (*f)(void); } OPS[] = {
    { "fadd.s", op_fadd }, { "fmv.w.x", op_fmv_w_x }, { "fmv.x.w", op_fmv_x_w }, { "flw", op_flw },
    { "fsd", op_fsd }, { "c.fld", op_cfld }, { "csrr fcsr", op_csrr_fcsr },
    { "csrwi fflags", op_csrw_fflags }, { "csrr frm", op_csrr_frm }, { "feq.d", op_feq },
    { "fclass.d", op_fclass }, { "fcvt.w.d", op_fcvt_w },
};
#define NOPS (sizeof(OPS) / sizeof(OPS[0]))

static uint64_t run_op(uint64_t i)
{
    OPS[i].f();
    return 0;
}

static uint64_t s_fs_off_then_fp(uint64_t i)
{
    uint64_t st = csrr(sstatus);
    csrc(sstatus, MSTATUS_FS);
    OPS[i].f();
    csrw(sstatus, st);
    return 0;
}

static uint64_t rd_cycle(uint64_t x) { (void)x; return csrr(cycle); }
static uint64_t rd_time(uint64_t x) { (void)x; return csrr(time); }
static uint64_t rd_instret(uint64_t x) { (void)x; return csrr(instret); }
static uint64_t rd_hpm3(uint64_t x) { (void)x; return csrr(hpmcounter3); }
static uint64_t rd_senvcfg(uint64_t x) { (void)x; return csrr(senvcfg); }
static uint64_t rd_menvcfg(uint64_t x) { (void)x; return csrr(menvcfg); }
static uint64_t wr_senvcfg(uint64_t x) { csrw(senvcfg, x); return csrr(senvcfg); }

int main(void)
{
    pmp_allow_all();
    pr("FS at main", fs());

    /* FS=Off: every FP instruction and FP CSR access is illegal */
    for (unsigned i = 0; i < NOPS; i++) {
        set_fs(0);
        trap_clear();
        OPS[i].f();
        print("FS=Off ");
        print(OPS[i].n);
        print(": traps=");
        print_dec((int64_t)mtrap.count);
        print(" cause=");
        print_hex(mtrap.cause, 2);
        print(" tval=");
        print_hex(mtrap.tval, 8);
        print(" FS=");
        print_dec(fs());
        putchar_('\n');
    }
    /* Initial / Clean -> ? after each op */
    for (uint64_t start = 1; start <= 3; start++)
        for (unsigned i = 0; i < NOPS; i++) {
            set_fs(start);
            trap_clear();
            OPS[i].f();
            print("FS=");
            print_dec(start);
            putchar_(' ');
            print(OPS[i].n);
            print(" -> FS=");
            print_dec(fs());
            print(" SD=");
            print_dec(sd());
            print(" traps=");
            print_dec((int64_t)mtrap.count);
            putchar_('\n');
        }
    set_fs(1);
    pr("SD with FS=Initial", sd());
    set_fs(3);
    pr("SD with FS=Dirty", sd());
    pr("sstatus SD/FS", csrr(sstatus) & (MSTATUS_SD | MSTATUS_FS));
    /* FP in U and S with FS=Dirty; S turns FS off through sstatus */
    trap_clear();
    run_mode(PRV_U, run_op, 0);
    run_mode(PRV_S, run_op, 0);
    print_trap("U/S fadd with FS=Dirty", &mtrap);
    run_mode(PRV_S, s_fs_off_then_fp, 0);
    print_trap("S fadd after sstatus.FS=0", &mtrap);
    set_fs(0);
    trap_clear();
    run_mode(PRV_U, run_op, 0);
    print_trap("U fadd with FS=Off", &mtrap);
    set_fs(1);

    /* counter enables */
    static const char *const cn[] = { "cycle", "time", "instret", "hpmcounter3" };
    uint64_t (*const cf[])(uint64_t) = { rd_cycle, rd_time, rd_instret, rd_hpm3 };
    for (int c = 0; c < 4; c++)
        for (int mc = 0; mc < 2; mc++)
            for (int sc = 0; sc < 2; sc++) {
                uint64_t bit = 1UL << (c == 3 ? 3 : c);
                csrw(mcounteren, mc ? bit : 0);
                csrw(scounteren, sc ? bit : 0);
                print(cn[c]);
                print(" mcounteren=");
                print_dec(mc);
                print(" scounteren=");
                print_dec(sc);
                for (int m = 0; m < 2; m++) {
                    trap_clear();
                    run_mode(m, cf[c], 0);
                    print(m ? " S:" : " U:");
                    if (mtrap.count) {
                        print("trap ");
                        print_hex(mtrap.cause, 2);
                        putchar_('/');
                        print_hex(mtrap.tval, 8);
                    } else {
                        print("ok");
                    }
                }
                putchar_('\n');
            }
    csrw(mcounteren, 0);
    csrw(scounteren, 0);

    /* envcfg access */
    trap_clear();
    pr("S senvcfg write 1 -> read", run_mode(PRV_S, wr_senvcfg, 1));
    print_trap("  traps", &mtrap);
    run_mode(PRV_S, rd_menvcfg, 0);
    print_trap("S menvcfg", &mtrap);
    trap_clear();
    run_mode(PRV_U, rd_senvcfg, 0);
    print_trap("U senvcfg", &mtrap);
    pr("senvcfg (M view)", csrr(senvcfg));
    csrw(senvcfg, 0);
    csrw(menvcfg, 1);
    pr("menvcfg FIOM", csrr(menvcfg));
    csrw(menvcfg, 0);
    return 0;
}
