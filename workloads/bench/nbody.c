/* nbody: a softened gravitational N-body system (16 bodies, double
 * precision, kick-drift-kick leapfrog).  Initial conditions are pseudo-random
 * with zero total momentum.  Checked while it runs: total momentum stays zero
 * and total energy stays within 1e-4 relative of its initial value. */
#define NAME "nbody"
#define ITERS_FULL  25000
#define ITERS_QUICK 3200
#define EXPECT_FULL  0x0480de916e7c809e
#define EXPECT_QUICK 0x655010d0b86a7679
#include "bench.h"

#define NB 16
#define EPS2 0.01
#define DT 0.001

static double px[NB], py[NB], pz[NB], vx[NB], vy[NB], vz[NB], ax[NB], ay[NB], az[NB], m[NB];

static inline double sqrt_d(double x)
{
    double r;
    __asm__("fsqrt.d %0, %1" : "=f"(r) : "f"(x));
    return r;
}

static inline double fabs_d(double x) { return x < 0 ? -x : x; }

/* Uniform double in [lo, hi) from 53 random bits. */
static double uniform(uint64_t *rng, double lo, double hi)
{
    return lo + (hi - lo) * (double)(rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

static void accelerations(void)
{
    for (int i = 0; i < NB; i++)
        ax[i] = ay[i] = az[i] = 0;
    for (int i = 0; i < NB; i++)
        for (int j = i + 1; j < NB; j++) {
            double dx = px[j] - px[i], dy = py[j] - py[i], dz = pz[j] - pz[i];
            double r2 = dx * dx + dy * dy + dz * dz + EPS2;
            double inv = 1.0 / (r2 * sqrt_d(r2));
            double si = m[j] * inv, sj = m[i] * inv;
            ax[i] += dx * si; ay[i] += dy * si; az[i] += dz * si;
            ax[j] -= dx * sj; ay[j] -= dy * sj; az[j] -= dz * sj;
        }
}

static double energy(void)
{
    double e = 0;
    for (int i = 0; i < NB; i++) {
        e += 0.5 * m[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
        for (int j = i + 1; j < NB; j++) {
            double dx = px[j] - px[i], dy = py[j] - py[i], dz = pz[j] - pz[i];
            e -= m[i] * m[j] / sqrt_d(dx * dx + dy * dy + dz * dz + EPS2);
        }
    }
    return e;
}

static double momentum(void)
{
    double sx = 0, sy = 0, sz = 0, scale = 0;
    for (int i = 0; i < NB; i++) {
        sx += m[i] * vx[i]; sy += m[i] * vy[i]; sz += m[i] * vz[i];
        scale += m[i] * (fabs_d(vx[i]) + fabs_d(vy[i]) + fabs_d(vz[i]));
    }
    return (fabs_d(sx) + fabs_d(sy) + fabs_d(sz)) / scale;
}

static uint64_t bits(double d)
{
    union { double d; uint64_t u; } u = { d };
    return u.u;
}

int main(void)
{
    uint64_t rng = 0x510e527fade682d1UL;
    double mx = 0, my = 0, mz = 0, mt = 0;
    for (int i = 0; i < NB; i++) {
        m[i] = uniform(&rng, 0.5, 1.5) / NB;
        px[i] = uniform(&rng, -1, 1); py[i] = uniform(&rng, -1, 1); pz[i] = uniform(&rng, -1, 1);
        vx[i] = uniform(&rng, -0.2, 0.2); vy[i] = uniform(&rng, -0.2, 0.2); vz[i] = uniform(&rng, -0.2, 0.2);
        mx += m[i] * vx[i]; my += m[i] * vy[i]; mz += m[i] * vz[i]; mt += m[i];
    }
    for (int i = 0; i < NB; i++) {
        vx[i] -= mx / mt; vy[i] -= my / mt; vz[i] -= mz / mt;
    }
    accelerations();
    double e0 = energy();
    uint64_t sum = bits(e0);
    for (unsigned step = 1; step <= ITERS; step++) {
        for (int i = 0; i < NB; i++) {
            vx[i] += 0.5 * DT * ax[i]; vy[i] += 0.5 * DT * ay[i]; vz[i] += 0.5 * DT * az[i];
            px[i] += DT * vx[i]; py[i] += DT * vy[i]; pz[i] += DT * vz[i];
        }
        accelerations();
        for (int i = 0; i < NB; i++) {
            vx[i] += 0.5 * DT * ax[i]; vy[i] += 0.5 * DT * ay[i]; vz[i] += 0.5 * DT * az[i];
        }
        if (step % 1000 == 0) {
            double e = energy();
            double drift = fabs_d((e - e0) / e0);
            if (!(drift < 1e-4))
                bench_fail(NAME, 2, "energy drift (bits)", bits(drift), bits(1e-4));
            double p = momentum();
            if (!(p < 1e-12))
                bench_fail(NAME, 3, "momentum (bits)", bits(p), bits(1e-12));
            sum = mix64(sum, bits(e) ^ bits(px[step / 1000 % NB]));
        }
    }
    return bench_finish(NAME, sum);
}
