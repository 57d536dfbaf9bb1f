/* matmul_d: double-precision 48x48 matrix multiply, alternating an axpy
 * formulation (i-k-j) and a dot-product one against a transposed copy
 * (i-j-k).  Entries are small multiples of 1/4, so every product is exact and
 * each result is checked exactly with Freivalds' test: C v == A (B v). */
#define NAME "matmul_d"
#define ITERS_FULL  224
#define ITERS_QUICK 28
#define EXPECT_FULL  0x9bf1d77a6a443b38
#define EXPECT_QUICK 0x9ea8e077ea18d048
#include "bench.h"

#define N 48
static double A[N][N], B[N][N], BT[N][N], C[N][N];

static void mul_axpy(void)
{
    for (int i = 0; i < N; i++) {
        double *c = C[i];
        for (int j = 0; j < N; j++)
            c[j] = 0;
        for (int k = 0; k < N; k++) {
            double a = A[i][k];
            const double *b = B[k];
            for (int j = 0; j < N; j++)
                c[j] += a * b[j];
        }
    }
}

static void mul_dot(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            const double *a = A[i], *b = BT[j];
            double s0 = 0, s1 = 0;
            for (int k = 0; k < N; k += 2) {
                s0 += a[k] * b[k];
                s1 += a[k + 1] * b[k + 1];
            }
            C[i][j] = s0 + s1;
        }
}

static uint64_t bits(double d)
{
    union { double d; uint64_t u; } u = { d };
    return u.u;
}

static void freivalds(unsigned it)
{
    double v[N], bv[N];
    for (int j = 0; j < N; j++)
        v[j] = (double)((j * 7 + it) % 13) - 6;
    for (int k = 0; k < N; k++) {
        double s = 0;
        for (int j = 0; j < N; j++)
            s += B[k][j] * v[j];
        bv[k] = s;
    }
    for (int i = 0; i < N; i++) {
        double cv = 0, abv = 0;
        for (int j = 0; j < N; j++) {
            cv += C[i][j] * v[j];
            abv += A[i][j] * bv[j];
        }
        if (cv != abv)
            bench_fail(NAME, 2, "Freivalds row (bits)", bits(cv), bits(abv));
    }
}

int main(void)
{
    uint64_t rng = 0x1f83d9ab5be0cd19UL;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            uint64_t r = rng_next(&rng);
            A[i][j] = (double)((int)(r & 31) - 16) * 0.25;
            B[i][j] = (double)((int)((r >> 8) & 31) - 16) * 0.25;
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            BT[j][i] = B[i][j];
    uint64_t sum = 0;
    for (unsigned it = 0; it < ITERS; it++) {
        A[it % N][(it * 7) % N] += 0.25;
        if (it & 1)
            mul_dot();
        else
            mul_axpy();
        freivalds(it);
        double tr = 0;
        for (int i = 0; i < N; i++)
            tr += C[i][i] + C[i][(i + it) % N];
        sum = mix64(sum, bits(tr));
    }
    return bench_finish(NAME, sum);
}
