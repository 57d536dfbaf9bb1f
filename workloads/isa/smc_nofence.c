/* Self-modifying code WITHOUT fence.i.  Architecturally the new code need
 * not be seen, but QEMU detects stores to translated code and always
 * executes the new instructions; this program pins that behaviour (a JIT
 * must invalidate translations when their code is stored to). */
#include "trap.h"

static uint32_t code[16] __attribute__((aligned(64)));

static uint64_t call(void *p) { return ((uint64_t (*)(void))p)(); }

int main(void)
{
    for (int i = 0; i < 4; i++) {
        code[0] = ((uint32_t)((200 + i) & 0xfff) << 20) | (10 << 7) | 0x13;
        code[1] = 0x00008067;
        pr("gen without fence.i", call(code));
    }
    /* (a store to an instruction of the currently executing translation
     * block is NOT seen by QEMU 7.2 until the block ends - TB-boundary
     * dependent, so not tested) */
    return 0;
}
