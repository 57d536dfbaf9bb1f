#!/bin/sh
# Refresh the EXPECT_FULL / EXPECT_QUICK checksums in bench/*.c from QEMU (the
# project's oracle), after changing a benchmark or its ITERS_*: builds with
# the checksums zeroed, runs both builds under QEMU, writes the checksums QEMU
# reports into the sources and rebuilds.  Run from workloads/:
#     sh bench/golden.sh [name...]
# Review the diff: a benchmark that fails an invariant under QEMU is left as is.
set -eu
QEMU=${SALUS_QEMU:-qemu-system-riscv64}
CPU=rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false,debug=false,mvendorid=0,marchid=0x70216,mimpid=0x70216
names=${*:-$(cd bench && ls *.c | sed 's/\.c$//')}
for n in $names; do
  sed -i 's/^#define EXPECT_FULL .*/#define EXPECT_FULL  0x0/; s/^#define EXPECT_QUICK .*/#define EXPECT_QUICK 0x0/' bench/$n.c
done
make -s bench
for n in $names; do
  for v in FULL QUICK; do
    if [ $v = FULL ]; then elf=bench/bin/$n.elf; else elf=bench/bin/quick/$n.elf; fi
    out=$(timeout 120 "$QEMU" -M virt -bios none -nographic -monitor none -cpu $CPU -kernel $elf || true)
    sum=$(printf '%s\n' "$out" | sed -n "s/^$n: FAIL checksum got \([0-9a-f]*\) want 0*\$/\1/p")
    if [ -z "$sum" ]; then echo "$elf: $out" >&2; continue; fi
    sed -i "s/^#define EXPECT_$v .*/#define EXPECT_$v$( [ $v = FULL ] && echo '  ' || echo ' ')0x$sum/" bench/$n.c
    echo "$elf: $sum"
  done
done
make -s bench
