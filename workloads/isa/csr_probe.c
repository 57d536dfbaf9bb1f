/* CSR existence map: which CSR numbers are readable from M, S and U mode
 * (csrr of every number 0x000-0xfff; an illegal-instruction trap means
 * "absent/inaccessible").  Printed as ranges.  S/U maps are taken with
 * mcounteren = scounteren = 0, and for 0xc00.. again with both = ~0. */
#include "trap.h"

extern char csr_read_table[];
static uint8_t ok[4096];

/* probe CSR numbers [lo, 0x1000) */
static uint64_t probe(uint64_t lo)
{
    for (int i = 0; i < (int)lo; i++)
        ok[i] = 0;
    for (int i = (int)lo; i < 4096; i++) {
        uint64_t before = mtrap.count;
        ((uint64_t (*)(void))(csr_read_table + 8 * i))();
        ok[i] = mtrap.count == before;
        /* QEMU 7.2 exposes vstimecmp (0x24d) in M-mode even with the H
         * extension disabled: not part of the comparison */
        if (i == 0x24d)
            ok[i] = 0;
    }
    return 0;
}

static void dump(const char *tag)
{
    print(tag);
    putchar_(':');
    int n = 0;
    for (int i = 0; i < 4096; i++) {
        if (!ok[i])
            continue;
        int j = i;
        while (j + 1 < 4096 && ok[j + 1])
            j++;
        putchar_(' ');
        print_hex(i, 3);
        if (j > i) {
            putchar_('-');
            print_hex(j, 3);
        }
        n += j - i + 1;
        i = j;
        if ((n & 7) == 0)
            ;
    }
    print(" (");
    print_dec(n);
    puts(")");
}

int main(void)
{
    pmp_allow_all();
    probe(0);
    dump("M");
    run_mode(PRV_S, probe, 0);
    dump("S");
    run_mode(PRV_U, probe, 0);
    dump("U");
    /* with all counters enabled (only the user counter range can change) */
    csrw(mcounteren, ~0UL);
    csrw(scounteren, ~0UL);
    run_mode(PRV_S, probe, 0xc00);
    dump("S counteren=~0, csr >= 0xc00");
    run_mode(PRV_U, probe, 0xc00);
    dump("U counteren=~0, csr >= 0xc00");
    return 0;
}
