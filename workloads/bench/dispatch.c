/* dispatch: a bytecode interpreter (a switch over 22 opcodes on a stack
 * machine with 8 registers), the dispatch pattern of language VMs.  It runs
 * two bytecode programs, a hash-mixing loop and Collatz step counting, and
 * checks both results against the same computations written in C. */
#define NAME "dispatch"
#define ITERS_FULL  24
#define ITERS_QUICK 3
#define EXPECT_FULL  0x7c0a6e131631ea05
#define EXPECT_QUICK 0xeae41db8e03bb512
#include "bench.h"

enum op {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_AND, OP_OR, OP_XOR,
    OP_SHL, OP_SHR, OP_DUP, OP_DROP, OP_SWAP, OP_JMP, OP_JZ, OP_JNZ, OP_LT, OP_INC, OP_DEC, OP_EQ,
};

static uint8_t code[512];
static unsigned ncode;

static void emit(uint8_t b) { code[ncode++] = b; }
static void emit16(unsigned v) { emit((uint8_t)v); emit((uint8_t)(v >> 8)); }
static void op1(enum op o, unsigned a) { emit(o); emit((uint8_t)a); }
static void push(unsigned v) { emit(OP_PUSH); emit16(v); }
/* A jump with a 16-bit absolute target, patched later if needed. */
static unsigned jump(enum op o, unsigned target) { emit(o); emit16(target); return ncode - 2; }
static void patch(unsigned at, unsigned target) { code[at] = (uint8_t)target; code[at + 1] = (uint8_t)(target >> 8); }

static uint32_t vm(unsigned pc, uint32_t *reg)
{
    uint32_t stack[32];
    int sp = 0;
    uint32_t a, b;
    for (;;) {
        uint8_t o = code[pc++];
        switch (o) {
        case OP_HALT: return sp ? stack[sp - 1] : 0;
        case OP_PUSH: stack[sp++] = code[pc] | (uint32_t)code[pc + 1] << 8; pc += 2; break;
        case OP_LOAD: stack[sp++] = reg[code[pc++]]; break;
        case OP_STORE: reg[code[pc++]] = stack[--sp]; break;
        case OP_ADD: b = stack[--sp]; stack[sp - 1] += b; break;
        case OP_SUB: b = stack[--sp]; stack[sp - 1] -= b; break;
        case OP_MUL: b = stack[--sp]; stack[sp - 1] *= b; break;
        case OP_AND: b = stack[--sp]; stack[sp - 1] &= b; break;
        case OP_OR: b = stack[--sp]; stack[sp - 1] |= b; break;
        case OP_XOR: b = stack[--sp]; stack[sp - 1] ^= b; break;
        case OP_SHL: stack[sp - 1] <<= code[pc++] & 31; break;
        case OP_SHR: stack[sp - 1] >>= code[pc++] & 31; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_DROP: sp--; break;
        case OP_SWAP: a = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = a; break;
        case OP_JMP: pc = code[pc] | (unsigned)code[pc + 1] << 8; break;
        case OP_JZ: pc = stack[--sp] == 0 ? (code[pc] | (unsigned)code[pc + 1] << 8) : pc + 2; break;
        case OP_JNZ: pc = stack[--sp] != 0 ? (code[pc] | (unsigned)code[pc + 1] << 8) : pc + 2; break;
        case OP_LT: b = stack[--sp]; stack[sp - 1] = stack[sp - 1] < b; break;
        case OP_INC: reg[code[pc++]]++; break;
        case OP_DEC: reg[code[pc++]]--; break;
        case OP_EQ: b = stack[--sp]; stack[sp - 1] = stack[sp - 1] == b; break;
        default: bench_fail(NAME, 2, "bad opcode", o, pc - 1);
        }
    }
}

/* Program 1 (registers: 0 = i, 1 = n, 2 = h):
 *   h = seed; for (i = 0; i < n; i++) h = ((h ^ (i * i)) * 33 + (h >> 7)) & 0xffffff; return h */
static unsigned prog_hash(void)
{
    unsigned start = ncode;
    push(0); op1(OP_STORE, 0);
    unsigned top = ncode;
    op1(OP_LOAD, 0); op1(OP_LOAD, 1); emit(OP_LT);
    unsigned exit_at = jump(OP_JZ, 0);
    op1(OP_LOAD, 0); emit(OP_DUP); emit(OP_MUL); op1(OP_LOAD, 2); emit(OP_SWAP); emit(OP_XOR);
    push(33); emit(OP_MUL);
    op1(OP_LOAD, 2); op1(OP_SHR, 7); emit(OP_ADD);
    push(0xffff); op1(OP_SHL, 8); push(0xff); emit(OP_OR); emit(OP_AND);
    op1(OP_STORE, 2);
    op1(OP_INC, 0);
    jump(OP_JMP, top);
    patch(exit_at, ncode);
    op1(OP_LOAD, 2); emit(OP_HALT);
    return start;
}

static uint32_t c_hash(uint32_t h, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        h = ((h ^ (i * i)) * 33 + (h >> 7)) & 0xffffff;
    return h;
}

/* Program 2 (registers: 0 = x, 1 = limit, 3 = steps, 4 = k):
 *   steps = 0; for (k = 1; k < limit; k++) for (x = k; x != 1; steps++) x = x & 1 ? 3x + 1 : x >> 1 */
static unsigned prog_collatz(void)
{
    unsigned start = ncode;
    push(0); op1(OP_STORE, 3);
    push(1); op1(OP_STORE, 4);
    unsigned outer = ncode;
    op1(OP_LOAD, 4); op1(OP_LOAD, 1); emit(OP_LT);
    unsigned done = jump(OP_JZ, 0);
    op1(OP_LOAD, 4); op1(OP_STORE, 0);
    unsigned inner = ncode;
    op1(OP_LOAD, 0); push(1); emit(OP_EQ);
    unsigned next = jump(OP_JNZ, 0);
    op1(OP_INC, 3);
    op1(OP_LOAD, 0); push(1); emit(OP_AND);
    unsigned odd = jump(OP_JNZ, 0);
    op1(OP_LOAD, 0); op1(OP_SHR, 1); op1(OP_STORE, 0);
    jump(OP_JMP, inner);
    patch(odd, ncode);
    op1(OP_LOAD, 0); emit(OP_DUP); emit(OP_DUP); emit(OP_ADD); emit(OP_ADD); push(1); emit(OP_ADD);
    op1(OP_STORE, 0);
    jump(OP_JMP, inner);
    patch(next, ncode);
    op1(OP_INC, 4);
    jump(OP_JMP, outer);
    patch(done, ncode);
    op1(OP_LOAD, 3); push(7); emit(OP_DROP); emit(OP_HALT);
    return start;
}

static uint32_t c_collatz(uint32_t limit)
{
    uint32_t steps = 0;
    for (uint32_t k = 1; k < limit; k++)
        for (uint32_t x = k; x != 1; steps++)
            x = x & 1 ? 3 * x + 1 : x >> 1;
    return steps;
}

int main(void)
{
    unsigned p_hash = prog_hash(), p_collatz = prog_collatz();
    uint64_t sum = 0;
    for (unsigned it = 0; it < ITERS; it++) {
        uint32_t reg[8] = { 0 };
        uint32_t n = 2000 + it % 7, seed = it * 2654435761u & 0xffffff;
        reg[1] = n;
        reg[2] = seed;
        uint32_t h = vm(p_hash, reg);
        CHECK(NAME, 3, "hash program", h, c_hash(seed, n));
        uint32_t limit = 300 + it % 5;
        uint32_t reg2[8] = { 0 };
        reg2[1] = limit;
        reg2[3] = 12345; /* the program must reset it */
        uint32_t steps = vm(p_collatz, reg2);
        CHECK(NAME, 4, "collatz program", steps, c_collatz(limit));
        sum = mix64(mix64(sum, h), steps);
    }
    return bench_finish(NAME, sum);
}
