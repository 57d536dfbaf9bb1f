    .file "csr_probe.S"
/* 4096 read stubs "csrr a0, N; ret" (8 bytes each), N = 0x000..0xfff. */
    .text
    .option norvc
    .balign 8
    .global csr_read_table
csr_read_table:
    .set n, 0
    .rept 4096
    csrr a0, n
    ret
    .set n, n + 1
    .endr
