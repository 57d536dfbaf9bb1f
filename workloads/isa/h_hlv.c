/* Hypervisor virtual-machine loads and stores: HLV.B/BU/H/HU/W/WU/D,
 * HLVX.HU/WU and HSV.B/H/W/D from M-mode, HS-mode and U-mode with
 * hstatus.HU=1 (illegal with HU=0): two-stage translation with the
 * effective privilege hstatus.SPVP, sign and zero extension, misaligned
 * accesses, hardware A/D at both stages, and guest-page faults (GVA=1, SPV=0,
 * htval/mtval2, tinst) taken in HS-mode and M-mode.
 *
 * QEMU 7.2 gets much of HLV/HLVX/HSV wrong (VS-stage page faults reported as
 * access faults, HLVX without the execute check, SUM and MXR, GVA in M-mode):
 * those cases are left to test/hypervisor.test.ts and listed in
 * docs/qemu-deviations.md. */
#include "hvm.h"

uint64_t h_lb(uint64_t), h_lbu(uint64_t), h_lh(uint64_t), h_lhu(uint64_t), h_lw(uint64_t), h_lwu(uint64_t),
    h_ld(uint64_t), h_lxhu(uint64_t), h_lxwu(uint64_t), h_sb(uint64_t), h_sh(uint64_t), h_sw(uint64_t),
    h_sd(uint64_t);
extern uint32_t h_lb_i[], h_lbu_i[], h_lh_i[], h_lhu_i[], h_lw_i[], h_lwu_i[], h_ld_i[], h_lxhu_i[], h_lxwu_i[],
    h_sb_i[], h_sh_i[], h_sw_i[], h_sd_i[];
volatile uint64_t hsv_value = 0x0123456789abcdefUL;
#define HL(n, insn) #n ":\n" #n "_i: " insn " a0, (a0)\nret\n"
#define HS(n, insn) #n ":\nla t0, hsv_value\nld t0, 0(t0)\n" #n "_i: " insn " t0, (a0)\nli a0, 0\nret\n"
__asm__(".text\n.option push\n.option norvc\n.option arch, +h\n"
        ".globl h_lb, h_lbu, h_lh, h_lhu, h_lw, h_lwu, h_ld, h_lxhu, h_lxwu, h_sb, h_sh, h_sw, h_sd\n"
        ".globl h_lb_i, h_lbu_i, h_lh_i, h_lhu_i, h_lw_i, h_lwu_i, h_ld_i, h_lxhu_i, h_lxwu_i, h_sb_i, h_sh_i, h_sw_i, h_sd_i\n"
        HL(h_lb, "hlv.b") HL(h_lbu, "hlv.bu") HL(h_lh, "hlv.h") HL(h_lhu, "hlv.hu") HL(h_lw, "hlv.w")
        HL(h_lwu, "hlv.wu") HL(h_ld, "hlv.d") HL(h_lxhu, "hlvx.hu") HL(h_lxwu, "hlvx.wu")
        HS(h_sb, "hsv.b") HS(h_sh, "hsv.h") HS(h_sw, "hsv.w") HS(h_sd, "hsv.d")
        ".option pop\n");

static const struct { const char *n; hfn_t f; uint32_t *insn; } LOADS[] = {
    { "hlv.b", h_lb, h_lb_i }, { "hlv.bu", h_lbu, h_lbu_i }, { "hlv.h", h_lh, h_lh_i }, { "hlv.hu", h_lhu, h_lhu_i },
    { "hlv.w", h_lw, h_lw_i }, { "hlv.wu", h_lwu, h_lwu_i }, { "hlv.d", h_ld, h_ld_i },
    { "hlvx.hu", h_lxhu, h_lxhu_i }, { "hlvx.wu", h_lxwu, h_lxwu_i },
};
static const struct { const char *n; hfn_t f; uint32_t *insn; } STORES[] = {
    { "hsv.b", h_sb, h_sb_i }, { "hsv.h", h_sh, h_sh_i }, { "hsv.w", h_sw, h_sw_i }, { "hsv.d", h_sd, h_sd_i },
};

static void setup_pages(void)
{
    uint64_t V = PTE_V, GU = PTE_V | PTE_U;
    tpage(0, V | PTE_R | PTE_W | AD, GU | RWX | AD);
    tpage(1, V | RWX | PTE_U | AD, GU | RWX | AD);
    tpage(2, V | PTE_X | AD, GU | RWX | AD);
    tpage(3, V | RWX | AD, GU | PTE_X | AD);
    tpage(4, V | RWX | AD, GU | PTE_R | AD);
    tpage(5, RWX | AD, GU | RWX | AD);
    tpage(6, V | RWX | AD, 0);
    tpage(7, V | PTE_R | AD, GU | RWX | AD);
    tpage(8, V | RWX, GU | RWX);
    tpage(9, V | RWX | AD, GU | RWX | AD);
}

static void values(void)
{
    puts("== values (M-mode, SPVP=1)");
    setup_pages();
    csrw(hstatus, HSTATUS_SPVP);
    *(volatile uint64_t *)(DATA + 0x10) = 0x8899aabbccddeeffUL;
    *(volatile uint64_t *)(DATA + 0x18) = 0x7766554433221100UL;
    *(volatile uint64_t *)(DATA + 0x9010) = 0x8899aabbccddeeffUL;
    for (unsigned k = 0; k < sizeof(LOADS) / sizeof(LOADS[0]); k++) {
        hclear();
        uint64_t v = LOADS[k].f(tva(9));
        hshow(LOADS[k].n, v);
    }
    *(volatile uint64_t *)(DATA + 0x9010) = 0x0000806700008067UL;
    /* misaligned */
    hclear();
    hshow("hlv.d +3", h_ld(tva(0) + 3));
    hclear();
    hshow("hlv.w +6", h_lw(tva(0) + 6));
    hclear();
    hshow("hlv.hu +1", h_lhu(tva(0) + 1));
    for (unsigned k = 0; k < sizeof(STORES) / sizeof(STORES[0]); k++) {
        *(volatile uint64_t *)(DATA + 0x10) = 0;
        hclear();
        STORES[k].f(tva(0));
        print(STORES[k].n);
        pr(": memory", *(volatile uint64_t *)(DATA + 0x10));
    }
    *(volatile uint64_t *)(DATA + 0x10) = 0;
    h_sd(tva(0) + 5);
    pr2("hsv.d +5: memory", *(volatile uint64_t *)(DATA + 0x10), *(volatile uint64_t *)(DATA + 0x18));
    *(volatile uint64_t *)(DATA + 0x10) = 0x0000806700008067UL;
    *(volatile uint64_t *)(DATA + 0x18) = 0x0000806700008067UL;
    /* hardware A/D: HLV sets A, HSV sets A and D, at both stages */
    hclear();
    h_ld(tva(8));
    pr2("A/D after hlv: VS, G", *vpte(8) & 0xff, *gpte(8) & 0xff);
    h_sd(tva(8));
    pr2("A/D after hsv: VS, G", *vpte(8) & 0xff, *gpte(8) & 0xff);
    hshow("  traps", 0);
    csrw(hstatus, 0);
}

static void access_one(int mode, hfn_t f, uint64_t va, uint32_t *insn)
{
    outcome(mode, f, va, xform(insn[0]));
}

static void faults(void)
{
    setup_pages();
    csrw(medeleg, (1UL << 5) | (1UL << 7) | (1UL << 13) | (1UL << 15) | (1UL << 21) | (1UL << 23));
    puts("== SPVP=1 (as VS-mode), from HS-mode, faults in HS");
    csrw(hstatus, HSTATUS_SPVP);
    print("VS RW, G URWX: ld=");
    access_one(MODE_HS, h_ld, tva(0), h_ld_i);
    print(" sd=");
    access_one(MODE_HS, h_sd, tva(0), h_sd_i);
    print("\nVS RWX, G UX: ld=");
    access_one(MODE_HS, h_ld, tva(3), h_ld_i);
    print(" sd=");
    access_one(MODE_HS, h_sd, tva(3), h_sd_i);
    print("\nVS RWX, G UR: ld=");
    access_one(MODE_HS, h_ld, tva(4), h_ld_i);
    print(" sd=");
    access_one(MODE_HS, h_sd, tva(4), h_sd_i);
    print(" hsv.b=");
    access_one(MODE_HS, h_sb, tva(4), h_sb_i);
    print("\nVS RWX, G invalid: ld=");
    access_one(MODE_HS, h_ld, tva(6), h_ld_i);
    print(" lw=");
    access_one(MODE_HS, h_lw, tva(6), h_lw_i);
    print(" sd=");
    access_one(MODE_HS, h_sd, tva(6), h_sd_i);
    print("\nVS R, G URWX: ld=");
    access_one(MODE_HS, h_ld, tva(7), h_ld_i);
    putchar_('\n');
    print("last trap: SPV=");
    print_dec((hlast.hstatus >> 7) & 1);
    print(" SPVP=");
    print_dec((hlast.hstatus >> 8) & 1);
    print(" GVA=");
    print_dec((hlast.hstatus >> 6) & 1);
    putchar_('\n');
    puts("== SPVP=0 (as VU-mode)");
    csrw(hstatus, 0);
    print("VS RWX U, G URWX: ld=");
    access_one(MODE_HS, h_ld, tva(1), h_ld_i);
    print(" sd=");
    access_one(MODE_HS, h_sd, tva(1), h_sd_i);
    putchar_('\n');
    puts("== from U-mode (V=0) with hstatus.HU=1");
    csrw(hstatus, HSTATUS_SPVP | HSTATUS_HU);
    print("page 0 ld=");
    access_one(MODE_U, h_ld, tva(0), h_ld_i);
    print(" G invalid ld=");
    access_one(MODE_U, h_ld, tva(6), h_ld_i);
    print(" G UR sd=");
    access_one(MODE_U, h_sd, tva(4), h_sd_i);
    putchar_('\n');
    csrw(hstatus, HSTATUS_SPVP);
    print("HU=0 ld=");
    hmask_tval = 1;
    hclear();
    run_in(MODE_U, h_ld, tva(0));
    hshow("", 0);
    hmask_tval = 0;
    csrw(medeleg, 0);
    puts("== guest-page faults in M-mode");
    hmask_gva = 1;
    print("G invalid ld=");
    access_one(MODE_M, h_ld, tva(6), h_ld_i);
    print(" G UR sd=");
    access_one(MODE_M, h_sd, tva(4), h_sd_i);
    print(" G UX ld=");
    access_one(MODE_M, h_ld, tva(3), h_ld_i);
    print(" MPV=");
    print_dec((hlast.status >> 39) & 1);
    putchar_('\n');
    hmask_gva = 0;
    csrw(hstatus, 0);
    print("tinst checks failed: ");
    print_dec(tinst_bad);
    putchar_('\n');
}

int main(void)
{
    hyp_init();
    hvm_init();
    values();
    faults();
    return 0;
}
