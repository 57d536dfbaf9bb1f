    .file "crt0.S"
/* S-mode start-up for tellus and guestvm (both run in VS-mode but see
 * themselves as S-mode): a0/a1 from the loader are passed to main.
 * Sets sp, zeroes .bss, enables the FPU, installs trap_entry, calls
 * main(a0, a1), and spins if main returns. */
    .section .text.init, "ax"
    .option norvc
    .global _start
_start:
    mv      s0, a0
    mv      s1, a1
    la      sp, __stack_top
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  la      t0, trap_entry
    csrw    stvec, t0
    li      t0, (1 << 13)           /* sstatus.FS = Initial */
    csrs    sstatus, t0
    mv      a0, s0
    mv      a1, s1
    call    main
3:  wfi
    j       3b

/* Trap recorder: store scause/sepc/stval in trap_rec, count the trap and
 * resume after the faulting instruction (2 or 4 bytes).  Uses no stack. */
    .text
    .balign 4
    .global trap_entry
trap_entry:
    csrw    sscratch, t0
    la      t0, trap_save
    sd      t1, 0(t0)
    sd      t2, 8(t0)
    la      t0, trap_rec
    ld      t1, 0(t0)
    addi    t1, t1, 1
    sd      t1, 0(t0)
    csrr    t1, scause
    sd      t1, 8(t0)
    csrr    t2, stval
    sd      t2, 24(t0)
    csrr    t2, sepc
    sd      t2, 16(t0)
    bltz    t1, 4f                  /* interrupt: resume as is */
    lhu     t1, 0(t2)
    andi    t1, t1, 3
    addi    t2, t2, 2
    li      t0, 3
    bne     t1, t0, 3f
    addi    t2, t2, 2
3:  csrw    sepc, t2
4:  la      t0, trap_save
    ld      t1, 0(t0)
    ld      t2, 8(t0)
    csrr    t0, sscratch
    sret

    .section .bss
    .balign 8
    .global trap_rec
trap_rec:  .dword 0, 0, 0, 0
trap_save: .dword 0, 0
