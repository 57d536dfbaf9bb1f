    .file "trap.S"
/* Common trap entries (M and S, direct and vectored) and privilege helpers. */
#define FRAME   (8 * 38)
#define O_CAUSE (8 * 32)
#define O_EPC   (8 * 33)
#define O_TVAL  (8 * 34)
#define O_STAT  (8 * 35)
#define O_VEC   (8 * 36)

.macro SAVE_REGS
    sd x1, 8(sp)
    sd x3, 24(sp)
    sd x4, 32(sp)
    sd x5, 40(sp)
    sd x6, 48(sp)
    sd x7, 56(sp)
    sd x8, 64(sp)
    sd x9, 72(sp)
    sd x10, 80(sp)
    sd x11, 88(sp)
    sd x12, 96(sp)
    sd x13, 104(sp)
    sd x14, 112(sp)
    sd x15, 120(sp)
    sd x16, 128(sp)
    sd x17, 136(sp)
    sd x18, 144(sp)
    sd x19, 152(sp)
    sd x20, 160(sp)
    sd x21, 168(sp)
    sd x22, 176(sp)
    sd x23, 184(sp)
    sd x24, 192(sp)
    sd x25, 200(sp)
    sd x26, 208(sp)
    sd x27, 216(sp)
    sd x28, 224(sp)
    sd x29, 232(sp)
    sd x30, 240(sp)
    sd x31, 248(sp)
.endm

.macro RESTORE_REGS
    ld x1, 8(sp)
    ld x3, 24(sp)
    ld x4, 32(sp)
    ld x5, 40(sp)
    ld x6, 48(sp)
    ld x7, 56(sp)
    ld x8, 64(sp)
    ld x9, 72(sp)
    ld x10, 80(sp)
    ld x11, 88(sp)
    ld x12, 96(sp)
    ld x13, 104(sp)
    ld x14, 112(sp)
    ld x15, 120(sp)
    ld x16, 128(sp)
    ld x17, 136(sp)
    ld x18, 144(sp)
    ld x19, 152(sp)
    ld x20, 160(sp)
    ld x21, 168(sp)
    ld x22, 176(sp)
    ld x23, 184(sp)
    ld x24, 192(sp)
    ld x25, 200(sp)
    ld x26, 208(sp)
    ld x27, 216(sp)
    ld x28, 224(sp)
    ld x29, 232(sp)
    ld x30, 240(sp)
    ld x31, 248(sp)
.endm

/* p = m or s; vec = vector index recorded in the frame (-1 for direct). */
.macro TRAP_BODY p, vec
    csrrw sp, \p\()scratch, sp
    addi sp, sp, -FRAME
    SAVE_REGS
    csrr t0, \p\()scratch
    sd t0, 16(sp)
    csrr t0, \p\()cause
    sd t0, O_CAUSE(sp)
    csrr t0, \p\()epc
    sd t0, O_EPC(sp)
    csrr t0, \p\()tval
    sd t0, O_TVAL(sp)
    csrr t0, \p\()status
    sd t0, O_STAT(sp)
    li t0, \vec
    sd t0, O_VEC(sp)
    mv a0, sp
    call \p\()_trap_c
    j \p\()_trap_exit
.endm

.macro TRAP_EXIT p
\p\()_trap_exit:
    ld t0, O_EPC(sp)
    csrw \p\()epc, t0
    ld t0, O_STAT(sp)
    csrw \p\()status, t0
    addi t0, sp, FRAME
    csrw \p\()scratch, t0
    RESTORE_REGS
    ld sp, 16(sp)
    \p\()ret
.endm

    .text
    .option norvc
    .balign 64
    .global m_trap_entry
m_trap_entry:
    TRAP_BODY m, -1
    TRAP_EXIT m

    .balign 64
    .global s_trap_entry
s_trap_entry:
    TRAP_BODY s, -1
    TRAP_EXIT s

/* Vector tables: 16 entries of one 4-byte jump each. */
.macro VEC_TABLE p
    .balign 256
    .global \p\()_vec_table
\p\()_vec_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    j \p\()_vec_\n
    .endr
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
\p\()_vec_\n:
    TRAP_BODY \p, \n
    .endr
.endm
    VEC_TABLE m
    VEC_TABLE s

/* uint64_t run_mode_off(int mode, void *fn, uint64_t arg, int64_t off) */
    .global run_mode_off
run_mode_off:
    addi sp, sp, -112
    sd ra, 0(sp)
    sd s0, 8(sp)
    sd s1, 16(sp)
    sd s2, 24(sp)
    sd s3, 32(sp)
    sd s4, 40(sp)
    sd s5, 48(sp)
    sd s6, 56(sp)
    sd s7, 64(sp)
    sd s8, 72(sp)
    sd s9, 80(sp)
    sd s10, 88(sp)
    sd s11, 96(sp)
    la t0, run_ctx_sp
    sd sp, 0(t0)
    la t0, __mtrap_stack_top
    csrw mscratch, t0
    la t0, __strap_stack_top
    csrw sscratch, t0
    li t0, (3 << 11)
    csrc mstatus, t0
    andi a0, a0, 3
    slli a0, a0, 11
    csrs mstatus, a0
    add a1, a1, a3
    csrw mepc, a1
    mv a0, a2
    li a7, 0
    la ra, mode_exit_stub
    add ra, ra, a3
    add sp, sp, a3
    mret

    .balign 4
    .global mode_exit_stub
mode_exit_stub:
    li a7, 0x5a1a5e817
    ecall
1:  j 1b

/* void mode_return(uint64_t v): called in M-mode (from the M trap handler). */
    .global mode_return
mode_return:
    la t0, run_ctx_sp
    ld sp, 0(t0)
    la t0, __mtrap_stack_top
    csrw mscratch, t0
    la t0, __strap_stack_top
    csrw sscratch, t0
    ld ra, 0(sp)
    ld s0, 8(sp)
    ld s1, 16(sp)
    ld s2, 24(sp)
    ld s3, 32(sp)
    ld s4, 40(sp)
    ld s5, 48(sp)
    ld s6, 56(sp)
    ld s7, 64(sp)
    ld s8, 72(sp)
    ld s9, 80(sp)
    ld s10, 88(sp)
    ld s11, 96(sp)
    addi sp, sp, 112
    li a7, 0
    ret

    .section .bss
    .balign 8
run_ctx_sp: .dword 0
