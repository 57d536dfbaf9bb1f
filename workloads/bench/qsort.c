/* qsort: a generic quicksort (comparator through a function pointer,
 * median-of-three pivot, insertion sort for short ranges, recursion on the
 * smaller side) over arrays of records with pseudo-random keys.  Each sort is
 * checked: the result is ordered and is a permutation of the input. */
#define NAME "qsort"
#define ITERS_FULL  188
#define ITERS_QUICK 24
#define EXPECT_FULL  0x87fff08e46c8a1d0
#define EXPECT_QUICK 0x18e6ea5a5f12201a
#include "bench.h"

struct rec {
    uint32_t key;
    uint32_t val;
};

typedef int (*cmp_fn)(const struct rec *, const struct rec *);

static int by_key(const struct rec *a, const struct rec *b)
{
    return a->key < b->key ? -1 : a->key > b->key;
}

/* Descending by the low 8 bits of key, then ascending by val: many ties. */
static int by_bucket(const struct rec *a, const struct rec *b)
{
    uint32_t x = a->key & 0xff, y = b->key & 0xff;
    if (x != y)
        return x > y ? -1 : 1;
    return a->val < b->val ? -1 : a->val > b->val;
}

static inline void swap(struct rec *a, struct rec *b)
{
    struct rec t = *a;
    *a = *b;
    *b = t;
}

static void insertion(struct rec *a, long n, cmp_fn cmp)
{
    for (long i = 1; i < n; i++) {
        struct rec v = a[i];
        long j = i - 1;
        while (j >= 0 && cmp(&a[j], &v) > 0) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void sort(struct rec *a, long n, cmp_fn cmp)
{
    while (n > 12) {
        long m = n / 2;
        if (cmp(&a[m], &a[0]) < 0) swap(&a[m], &a[0]);
        if (cmp(&a[n - 1], &a[m]) < 0) {
            swap(&a[n - 1], &a[m]);
            if (cmp(&a[m], &a[0]) < 0) swap(&a[m], &a[0]);
        }
        struct rec pivot = a[m];
        long i = 0, j = n - 1;
        for (;;) {
            while (cmp(&a[i], &pivot) < 0) i++;
            while (cmp(&pivot, &a[j]) < 0) j--;
            if (i >= j)
                break;
            swap(&a[i], &a[j]);
            i++;
            j--;
        }
        /* [0, j] <= pivot <= [j + 1, n) */
        long left = j + 1, right = n - left;
        if (left < right) {
            sort(a, left, cmp);
            a += left;
            n = right;
        } else {
            sort(a + left, right, cmp);
            n = left;
        }
    }
    insertion(a, n, cmp);
}

#define N 3000
static struct rec arr[N];

/* Order-independent fingerprint of a multiset of records. */
static uint64_t fingerprint(const struct rec *a, long n)
{
    uint64_t s = 0, x = 0;
    for (long i = 0; i < n; i++) {
        uint64_t v = ((uint64_t)a[i].key << 32 | a[i].val) * 0x9e3779b97f4a7c15UL;
        s += v;
        x ^= rotl64(v, 17);
    }
    return s ^ (x * 3);
}

int main(void)
{
    uint64_t rng = 0xb7e151628aed2a6bUL, sum = 0;
    for (unsigned it = 0; it < ITERS; it++) {
        for (long i = 0; i < N; i++) {
            uint64_t r = rng_next(&rng);
            /* Every fourth array has only 64 distinct keys (duplicate-heavy). */
            arr[i].key = (it & 3) == 3 ? (uint32_t)(r >> 58) : (uint32_t)r;
            arr[i].val = (uint32_t)i;
        }
        uint64_t fp = fingerprint(arr, N);
        cmp_fn cmp = (it & 1) ? by_bucket : by_key;
        sort(arr, N, cmp);
        for (long i = 1; i < N; i++)
            if (cmp(&arr[i - 1], &arr[i]) > 0)
                bench_fail(NAME, 2, "order at index", (uint64_t)i, 0);
        CHECK(NAME, 3, "permutation fingerprint", fingerprint(arr, N), fp);
        for (long i = 0; i < N; i += 97)
            sum = mix64(sum, (uint64_t)arr[i].key << 32 | (it & 1 ? arr[i].val : 0));
    }
    return bench_finish(NAME, sum);
}
