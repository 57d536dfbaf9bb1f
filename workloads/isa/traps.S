    .file "traps.S"
/* uint64_t sret_test(uint64_t): runs in S-mode; sets SPP=S, SPIE=1, SIE=0,
 * executes sret to the next instruction and returns sstatus. */
    .text
    .option norvc
    .global sret_test
sret_test:
    li t0, 0x2          /* SIE */
    csrc sstatus, t0
    li t0, 0x120        /* SPP | SPIE */
    csrs sstatus, t0
    la t0, 1f
    csrw sepc, t0
    sret
1:  csrr a0, sstatus
    li t0, 0x2
    csrc sstatus, t0
    ret
