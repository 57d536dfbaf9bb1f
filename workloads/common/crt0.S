    .file "crt0.S"
/* Salus workloads: minimal M-mode start-up.
 * Entered in M-mode with a0 = hart id.  Sets up sp, zeroes .bss, installs the
 * common M-mode trap entry, enables the FPU (mstatus.FS = Initial), calls
 * main(hartid) and exits through the SiFive test finisher with main's value. */
    .section .text.init, "ax"
    .option norvc
    .global _start
_start:
    mv      s0, a0
    csrr    s1, mstatus
    csrr    s2, mtvec
    la      sp, __stack_top
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  la      t0, reset_mstatus
    sd      s1, 0(t0)
    la      t0, reset_mtvec
    sd      s2, 0(t0)
    la      t0, boot_hartid
    sd      s0, 0(t0)
    la      t0, m_trap_entry
    csrw    mtvec, t0
    la      t0, __mtrap_stack_top
    csrw    mscratch, t0
    li      t0, (1 << 13)           /* mstatus.FS = Initial */
    csrs    mstatus, t0
    mv      a0, s0
    call    main
    tail    exit

    .section .bss
    .align 3
    .global reset_mstatus, reset_mtvec, boot_hartid
reset_mstatus: .dword 0
reset_mtvec:   .dword 0
boot_hartid:   .dword 0
