    .file "rvc_loop.S"
/* uint64_t rvc_kernel(uint32_t state[64], long rounds)
 * Every instruction is a compressed (16-bit) one.  One round walks the 64
 * words in 16 groups of four, mixing them with a running accumulator (a2),
 * then stores a 64-bit value derived from words 0-1 into words 62-63.
 * rvc_loop.c has the same function in C (rvc_reference) to check it. */
    .text
    .option rvc
    .balign 4
    .global rvc_kernel
rvc_kernel:
    c.addi  sp, -16
    c.sdsp  s0, 0(sp)
    c.sdsp  s1, 8(sp)
    c.li    a2, 1
1:  c.mv    a3, a0
    c.li    a5, 16
2:  c.lw    a4, 0(a3)
    c.lw    s0, 4(a3)
    c.add   a4, a2
    c.xor   s0, a4
    c.slli  a4, 5
    c.srli  s0, 3
    c.sub   a4, s0
    c.sw    a4, 0(a3)
    c.addw  s0, a2
    c.sw    s0, 4(a3)
    c.lw    s1, 8(a3)
    c.lw    a4, 12(a3)
    c.srai  s1, 1
    c.or    a4, s1
    c.andi  s1, -7
    c.subw  a4, s1
    c.xor   s1, a4
    c.sw    s1, 8(a3)
    c.sw    a4, 12(a3)
    c.xor   a2, a4
    c.addiw a2, 13
    c.addi  a3, 16
    c.addi  a5, -1
    c.bnez  a5, 2b
    c.ld    a4, 0(a0)
    c.srli  a4, 1
    c.lui   s0, 0x12
    c.add   a4, s0
    c.sd    a4, 248(a0)
    c.addi  a1, -1
    c.beqz  a1, 3f
    c.j     1b
3:  c.mv    a0, a2
    c.ldsp  s0, 0(sp)
    c.ldsp  s1, 8(sp)
    c.addi  sp, 16
    c.jr    ra
