/* intmix: a mix of integer kernels (linked lists, a small matrix multiply,
 * a token-classifying state machine, bitwise CRC-32), each iteration on fresh
 * pseudo-random input.  Written for Salus in the spirit of CoreMark: no code
 * from it is used. */
#define NAME "intmix"
#define ITERS_FULL  3700
#define ITERS_QUICK 460
#define EXPECT_FULL  0x394ea96f53bb10be
#define EXPECT_QUICK 0x178549745bc3d0f7
#include "bench.h"

/* ---- CRC-32 (IEEE 802.3, reflected, polynomial 0xedb88320), bit by bit ---- */
static uint32_t crc32_bytes(uint32_t crc, const uint8_t *p, unsigned n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
    return ~crc;
}

static uint32_t crc32_word(uint32_t crc, uint32_t w)
{
    uint8_t b[4] = { (uint8_t)w, (uint8_t)(w >> 8), (uint8_t)(w >> 16), (uint8_t)(w >> 24) };
    return crc32_bytes(crc, b, 4);
}

/* ---- Linked lists ---- */
#define NODES 96
struct node {
    struct node *next;
    int32_t key;
    uint32_t idx;
};
static struct node pool[NODES];

static struct node *list_build(uint64_t *rng)
{
    struct node *head = 0;
    for (int i = NODES - 1; i >= 0; i--) {
        pool[i].key = (int32_t)(rng_next(rng) & 0xffff) - 0x8000;
        pool[i].idx = (uint32_t)i;
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

static struct node *list_reverse(struct node *l)
{
    struct node *r = 0;
    while (l) {
        struct node *n = l->next;
        l->next = r;
        r = l;
        l = n;
    }
    return r;
}

static unsigned list_count_below(const struct node *l, int32_t limit)
{
    unsigned c = 0;
    for (; l; l = l->next)
        c += l->key < limit;
    return c;
}

/* Stable merge of two sorted lists; by key (by_idx = 0) or by idx. */
static struct node *list_merge(struct node *a, struct node *b, int by_idx)
{
    struct node head, *t = &head;
    while (a && b) {
        int take_a = by_idx ? a->idx <= b->idx : a->key <= b->key;
        if (take_a) { t->next = a; a = a->next; }
        else { t->next = b; b = b->next; }
        t = t->next;
    }
    t->next = a ? a : b;
    return head.next;
}

/* Bottom-up merge sort with a small array of partial runs (runs of 2^k). */
static struct node *list_sort(struct node *l, int by_idx)
{
    struct node *runs[8] = { 0 };
    while (l) {
        struct node *n = l->next;
        l->next = 0;
        int k = 0;
        for (; k < 7 && runs[k]; k++) {
            l = list_merge(runs[k], l, by_idx);
            runs[k] = 0;
        }
        runs[k] = runs[k] ? list_merge(runs[k], l, by_idx) : l;
        l = n;
    }
    struct node *r = 0;
    for (int k = 0; k < 8; k++)
        if (runs[k])
            r = r ? list_merge(runs[k], r, by_idx) : runs[k];
    return r;
}

static uint32_t list_work(uint64_t *rng)
{
    struct node *l = list_build(rng);
    unsigned below = list_count_below(l, 0);
    l = list_reverse(l);
    CHECK(NAME, 2, "list reverse", l->idx, NODES - 1);
    l = list_sort(l, 0);
    uint32_t crc = 0;
    unsigned n = 0;
    for (const struct node *p = l; p; p = p->next, n++) {
        if (p->next && p->key > p->next->key)
            bench_fail(NAME, 3, "list sort order", (uint64_t)p->key, (uint64_t)p->next->key);
        if ((n & 7) == 0)
            crc = crc32_word(crc, (uint32_t)p->key ^ (p->idx << 24));
    }
    CHECK(NAME, 4, "list length", n, NODES);
    CHECK(NAME, 5, "list count", list_count_below(l, 0), below);
    l = list_sort(l, 1);
    n = 0;
    for (const struct node *p = l; p; p = p->next, n++)
        if (p->idx != n)
            bench_fail(NAME, 6, "list restore", p->idx, n);
    return crc ^ below;
}

/* ---- Matrix multiply (int16 inputs, int32 products) ---- */
#define MN 10
static int16_t ma[MN][MN], mb[MN][MN];
static int32_t mc[MN][MN];

static uint32_t matrix_work(uint64_t *rng)
{
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            uint64_t r = rng_next(rng);
            ma[i][j] = (int16_t)(r & 0x3ff) - 0x200;
            mb[i][j] = (int16_t)((r >> 16) & 0x3ff) - 0x200;
        }
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            int32_t s = 0;
            for (int k = 0; k < MN; k++)
                s += (int32_t)ma[i][k] * mb[k][j];
            mc[i][j] = s;
        }
    /* Check: each row sum of C equals row i of A times the row sums of B. */
    int32_t rowb[MN];
    for (int k = 0; k < MN; k++) {
        int32_t s = 0;
        for (int j = 0; j < MN; j++)
            s += mb[k][j];
        rowb[k] = s;
    }
    uint32_t acc = 0;
    for (int i = 0; i < MN; i++) {
        int32_t sc = 0, sa = 0;
        for (int j = 0; j < MN; j++) {
            sc += mc[i][j];
            acc = acc * 31 + (uint32_t)mc[i][j];
        }
        for (int k = 0; k < MN; k++)
            sa += (int32_t)ma[i][k] * rowb[k];
        if (sc != sa)
            bench_fail(NAME, 7, "matrix row sum", (uint64_t)(int64_t)sc, (uint64_t)(int64_t)sa);
    }
    return acc;
}

/* ---- State machine: classify comma-separated tokens ---- */
enum { T_INT, T_DEC, T_SCI, T_HEX, T_BAD, T_KINDS };
#define TEXT 320
static char text[TEXT + 32];

static int put_digits(char *p, uint64_t r, int n)
{
    for (int i = 0; i < n; i++, r >>= 4)
        p[i] = (char)('0' + (r & 15) % 10);
    return n;
}

/* Fill text with tokens; counts[] receives how many of each kind it wrote. */
static int make_text(uint64_t *rng, unsigned counts[T_KINDS])
{
    int n = 0;
    while (n < TEXT) {
        uint64_t r = rng_next(rng);
        int kind = (int)((r & 0xff) % T_KINDS);
        r >>= 8;
        if (r & 1) text[n++] = (r & 2) ? '-' : '+';
        r >>= 2;
        switch (kind) {
        case T_INT: n += put_digits(text + n, r, 1 + (int)(r & 3)); break;
        case T_DEC:
            n += put_digits(text + n, r, 1 + (int)(r & 1));
            text[n++] = '.';
            n += put_digits(text + n, r >> 8, 1 + (int)((r >> 4) & 3));
            break;
        case T_SCI:
            n += put_digits(text + n, r, 1);
            text[n++] = '.';
            n += put_digits(text + n, r >> 8, 2);
            text[n++] = (r & 0x100) ? 'e' : 'E';
            if (r & 0x200) text[n++] = '-';
            n += put_digits(text + n, r >> 12, 1 + (int)((r >> 10) & 1));
            break;
        case T_HEX:
            text[n++] = '0';
            text[n++] = 'x';
            for (int i = 0; i < 1 + (int)(r & 3); i++, r >>= 5)
                text[n++] = "0123456789abcdefABCDEF"[(r >> 2) % 22];
            break;
        default: /* malformed: digits with a stray letter or a second point */
            n += put_digits(text + n, r, 2);
            text[n++] = (r & 0x40) ? '.' : 'q';
            n += put_digits(text + n, r >> 8, 1);
            if (r & 0x40) { text[n++] = '.'; n += put_digits(text + n, r >> 16, 1); }
            break;
        }
        text[n++] = ',';
        counts[kind]++;
    }
    return n;
}

enum { S_START, S_SIGN, S_ZERO, S_INT, S_POINT, S_FRAC, S_E, S_ESIGN, S_EXP, S_X, S_HEX, S_BAD };

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static int final_kind(int s)
{
    switch (s) {
    case S_ZERO: case S_INT: return T_INT;
    case S_FRAC: return T_DEC;
    case S_EXP: return T_SCI;
    case S_HEX: return T_HEX;
    default: return T_BAD;
    }
}

static uint32_t scan(int len, unsigned counts[T_KINDS], uint32_t *transitions)
{
    int s = S_START;
    uint32_t tr = 0;
    for (int i = 0; i < len; i++) {
        char c = text[i];
        if (c == ',') {
            counts[final_kind(s)]++;
            s = S_START;
            continue;
        }
        int prev = s;
        switch (s) {
        case S_START:
            s = (c == '+' || c == '-') ? S_SIGN : c == '0' ? S_ZERO : is_digit(c) ? S_INT : S_BAD;
            break;
        case S_SIGN: s = c == '0' ? S_ZERO : is_digit(c) ? S_INT : S_BAD; break;
        case S_ZERO: s = (c == 'x' || c == 'X') ? S_X : is_digit(c) ? S_INT : c == '.' ? S_POINT : S_BAD; break;
        case S_INT: s = is_digit(c) ? S_INT : c == '.' ? S_POINT : S_BAD; break;
        case S_POINT: s = is_digit(c) ? S_FRAC : S_BAD; break;
        case S_FRAC: s = is_digit(c) ? S_FRAC : (c == 'e' || c == 'E') ? S_E : S_BAD; break;
        case S_E: s = (c == '+' || c == '-') ? S_ESIGN : is_digit(c) ? S_EXP : S_BAD; break;
        case S_ESIGN: case S_EXP: s = is_digit(c) ? S_EXP : S_BAD; break;
        case S_X: case S_HEX: s = is_hex(c) ? S_HEX : S_BAD; break;
        default: break;
        }
        tr += s != prev;
    }
    *transitions += tr;
    return tr;
}

static uint32_t state_work(uint64_t *rng)
{
    unsigned made[T_KINDS] = { 0 }, seen[T_KINDS] = { 0 };
    uint32_t transitions = 0;
    int len = make_text(rng, made);
    scan(len, seen, &transitions);
    for (int k = 0; k < T_KINDS; k++)
        if (seen[k] != made[k])
            bench_fail(NAME, 8 + k, "token kind count", seen[k], made[k]);
    return transitions ^ (seen[T_HEX] << 16) ^ (seen[T_BAD] << 24);
}

int main(void)
{
    static const uint8_t check[] = "123456789";
    CHECK(NAME, 14, "crc32 test vector", crc32_bytes(0, check, 9), 0xcbf43926u);

    uint64_t rng = 0x243f6a8885a308d3UL, sum = 0;
    uint32_t crc = 0;
    for (unsigned it = 0; it < ITERS; it++) {
        uint32_t a = list_work(&rng);
        uint32_t b = matrix_work(&rng);
        uint32_t c = state_work(&rng);
        crc = crc32_word(crc32_word(crc32_word(crc, a), b), c);
        sum = mix64(sum, crc);
    }
    return bench_finish(NAME, sum);
}
