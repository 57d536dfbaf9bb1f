/* sha256: SHA-256 (FIPS 180-4) written from the specification, checked
 * against the standard's example digests, then used to hash a 4 KiB buffer
 * over and over, each digest feeding the next message. */
#define NAME "sha256"
#define ITERS_FULL  434
#define ITERS_QUICK 54
#define EXPECT_FULL  0x751a74454f32a00f
#define EXPECT_QUICK 0xec8d236c543f9609
#include "bench.h"

struct sha256 {
    uint32_t h[8];
    uint8_t buf[64];
    uint64_t len;
    unsigned fill;
};

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static void compress(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr32(w[t - 15], 7) ^ rotr32(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr32(w[t - 2], 17) ^ rotr32(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = k + (rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
        uint32_t t2 = (rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

static void sha_init(struct sha256 *s)
{
    static const uint32_t H0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    for (int i = 0; i < 8; i++)
        s->h[i] = H0[i];
    s->len = 0;
    s->fill = 0;
}

static void sha_update(struct sha256 *s, const uint8_t *p, unsigned long n)
{
    s->len += n;
    while (n) {
        if (s->fill == 0 && n >= 64) {
            compress(s->h, p);
            p += 64;
            n -= 64;
            continue;
        }
        s->buf[s->fill++] = *p++;
        n--;
        if (s->fill == 64) {
            compress(s->h, s->buf);
            s->fill = 0;
        }
    }
}

static void sha_final(struct sha256 *s, uint8_t out[32])
{
    uint64_t bits = s->len * 8;
    uint8_t pad = 0x80;
    sha_update(s, &pad, 1);
    pad = 0;
    while (s->fill != 56)
        sha_update(s, &pad, 1);
    uint8_t lenb[8];
    for (int i = 0; i < 8; i++)
        lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha_update(s, lenb, 8);
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void check_vector(int code, const char *msg, unsigned long n, uint64_t w0, uint64_t w3)
{
    struct sha256 s;
    uint8_t d[32];
    sha_init(&s);
    sha_update(&s, (const uint8_t *)msg, n);
    sha_final(&s, d);
    CHECK(NAME, code, "test vector (first 8 bytes)", be64(d), w0);
    CHECK(NAME, code, "test vector (last 8 bytes)", be64(d + 24), w3);
}

#define BUF 4096
static uint8_t msg[BUF] __attribute__((aligned(64)));

int main(void)
{
    /* FIPS 180-4 examples: "abc" (one block) and the 448-bit two-block message. */
    check_vector(2, "abc", 3, 0xba7816bf8f01cfeaUL, 0xb410ff61f20015adUL);
    check_vector(3, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
                 0x248d6a61d20638b8UL, 0xf6ecedd419db06c1UL);
    check_vector(4, "", 0, 0xe3b0c44298fc1c14UL, 0xa495991b7852b855UL);

    uint64_t rng = 0x3c6ef372fe94f82bUL;
    for (int i = 0; i < BUF; i++)
        msg[i] = (uint8_t)rng_next(&rng);
    uint8_t d[32] = { 0 };
    uint64_t sum = 0;
    for (unsigned it = 0; it < ITERS; it++) {
        struct sha256 s;
        for (int i = 0; i < 32; i++)
            msg[(it * 32 + i) % BUF] ^= d[i];
        sha_init(&s);
        /* An odd split exercises the buffered path too. */
        sha_update(&s, msg, 100);
        sha_update(&s, msg + 100, BUF - 100);
        sha_final(&s, d);
        sum = mix64(sum, be64(d) ^ be64(d + 8));
    }
    return bench_finish(NAME, sum);
}
