/*
 * zipf.c - the YCSB zipfian generator: skewed key popularity for workloads.
 *
 * Real key-value traffic is skewed: a few keys are hot, most are cold. YCSB
 * models that with a zipfian distribution over n items, in which the item of
 * rank k (0-based) has probability 1/(k+1)^theta / zeta(n, theta), where
 * zeta(n, theta) = sum over i in 1..n of 1/i^theta. kvbench uses the same
 * generator as YCSB so that its workloads A-F mean what YCSB's mean.
 *
 * Interface: kv_zipf_init() computes the constants once; kv_zipf_next()
 * draws a rank with one uniform double and one pow(); the scrambled and
 * latest variants reshape that rank. kv_zipf_grow() extends n in place.
 *
 * How it works (Gray et al., SIGMOD 1994, section 4, as YCSB's
 * ZipfianGenerator implements it). Draw u uniform in [0, 1) and let
 * uz = u * zeta(n). The first item takes the probability mass [0, 1) of uz,
 * the second [1, 1 + 0.5^theta): those two are exact. Every other u is
 * mapped through a closed-form approximation of the inverse CDF,
 *
 *     rank = floor(n * (eta * u - eta + 1)^alpha),  alpha = 1 / (1 - theta),
 *     eta  = (1 - (2/n)^(1 - theta)) / (1 - zeta(2) / zeta(n)),
 *
 * chosen so that the mapping is continuous at u = (1 + 0.5^theta)/zeta(n),
 * where it gives rank 2, and reaches n as u reaches 1. It treats the
 * discrete tail as a continuous power law, so it is approximate: for
 * n = 1000 and theta = 0.99, rank 2 comes out 17% more often than the exact
 * zipfian law says, ranks 3..13 a few percent more, and ranks 30 and beyond
 * 2-3.5% less often. The test suite checks draws against this exact
 * mapping, and ranks 0 and 1 against the zipfian law itself.
 *
 * How zeta is computed. YCSB sums the n terms one by one, which takes
 * seconds for n = 10^8. Here the first ZETA_DIRECT_TERMS terms are summed
 * directly and the rest of the sum from a to b is the Euler-Maclaurin
 * formula with f(x) = x^-theta:
 *
 *     sum_{i=a+1..b} f(i) = integral_a^b f + (f(b) - f(a))/2
 *                         + (f'(b) - f'(a))/12 - (f'''(b) - f'''(a))/720 + R,
 *
 * whose remainder R is below 1e-20 once a >= 4096. The integral
 * (b^(1-theta) - a^(1-theta)) / (1 - theta) is evaluated as
 * a^(1-theta) * expm1((1-theta) * log1p((b-a)/a)) / (1-theta) so that it
 * keeps its precision when theta is close to 1. kv_zipf_grow() adds the
 * terms between the old and the new n the same way: directly for a short
 * step (one insert at a time, as YCSB does), by the formula for a long one.
 */
#include <math.h>
#include <stddef.h>

#include "kvlabs/error.h"
#include "kvlabs/kv.h"
#include "kvlabs/rng.h"

/* Terms of zeta summed one by one before the Euler-Maclaurin tail. */
#define ZETA_DIRECT_TERMS 4096u

/* sum_{i=lo+1..hi} i^-theta, term by term, smallest terms first. */
static double zeta_direct(uint64_t lo, uint64_t hi, double theta)
{
    double sum = 0.0;
    for (uint64_t i = hi; i > lo; i--)
        sum += pow((double)i, -theta);
    return sum;
}

/* sum_{i=a+1..b} i^-theta by Euler-Maclaurin; needs a >= ZETA_DIRECT_TERMS. */
static double zeta_tail(uint64_t a, uint64_t b, double theta)
{
    const double fa = (double)a, fb = (double)b;
    const double s = 1.0 - theta;
    const double t1 = theta * (theta + 1.0) * (theta + 2.0);
    double integral = pow(fa, s) * expm1(s * log1p((fb - fa) / fa)) / s;
    double ends = (pow(fb, -theta) - pow(fa, -theta)) / 2.0;
    /* f'(x) = -theta x^(-theta-1); f'''(x) = -theta(theta+1)(theta+2) x^(-theta-3). */
    double d1 = -theta * (pow(fb, -theta - 1.0) - pow(fa, -theta - 1.0)) / 12.0;
    double d3 = t1 * (pow(fb, -theta - 3.0) - pow(fa, -theta - 3.0)) / 720.0;
    return integral + ends + d1 + d3;
}

/* sum_{i=lo+1..hi} i^-theta (0 when hi <= lo). */
static double zeta_range(uint64_t lo, uint64_t hi, double theta)
{
    if (hi <= lo)
        return 0.0;
    if (hi - lo <= ZETA_DIRECT_TERMS)
        return zeta_direct(lo, hi, theta);
    uint64_t mid = lo < ZETA_DIRECT_TERMS ? ZETA_DIRECT_TERMS : lo;
    return zeta_direct(lo, mid, theta) + zeta_tail(mid, hi, theta);
}

/* Gray's eta for the current n and zeta; unused (0) when n <= 2. */
static double zipf_eta(const kv_zipf *z)
{
    if (z->n <= 2)
        return 0.0;
    return (1.0 - pow(2.0 / (double)z->n, 1.0 - z->theta)) / (1.0 - z->zeta2 / z->zetan);
}

int kv_zipf_init(kv_zipf *z, uint64_t n, double theta)
{
    if (z == NULL)
        return kv_fail(KV_EINVAL, "kv_zipf_init: NULL distribution");
    if (n == 0)
        return kv_fail(KV_EINVAL, "kv_zipf_init: n must be at least 1");
    if (!(theta > 0.0 && theta < 1.0))
        return kv_fail(KV_EINVAL, "kv_zipf_init: theta %g is not in (0, 1)", theta);

    kv_zipf t;
    t.n = n;
    t.theta = theta;
    t.alpha = 1.0 / (1.0 - theta);
    t.half_pow_theta = pow(0.5, theta);
    t.zeta2 = 1.0 + t.half_pow_theta;
    t.zetan = zeta_range(0, n, theta);
    t.eta = zipf_eta(&t);
    *z = t;
    return KV_OK;
}

int kv_zipf_grow(kv_zipf *z, uint64_t new_n)
{
    if (z == NULL)
        return kv_fail(KV_EINVAL, "kv_zipf_grow: NULL distribution");
    if (new_n < z->n)
        return kv_fail(KV_EINVAL, "kv_zipf_grow: new n %llu is below the current %llu",
                       (unsigned long long)new_n, (unsigned long long)z->n);
    z->zetan += zeta_range(z->n, new_n, z->theta);
    z->n = new_n;
    z->eta = zipf_eta(z);
    return KV_OK;
}

uint64_t kv_zipf_next(const kv_zipf *z, kv_rng *r)
{
    const uint64_t last = z->n - 1;
    const double u = kv_rng_double(r);
    const double uz = u * z->zetan;

    if (uz < 1.0)
        return 0;
    if (uz < 1.0 + z->half_pow_theta)
        return last < 1 ? last : 1;
    double x = (double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha);
    if (!(x < (double)z->n)) /* rounding at u near 1; also guards the cast */
        return last;
    uint64_t rank = (uint64_t)x;
    return rank > last ? last : rank;
}

/* FNV-1a 64 over the 8 little-endian bytes of v. */
static uint64_t fnv1a64_u64(uint64_t v)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xffu;
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t kv_zipf_next_scrambled(const kv_zipf *z, kv_rng *r)
{
    return fnv1a64_u64(kv_zipf_next(z, r)) % z->n;
}

uint64_t kv_zipf_next_latest(const kv_zipf *z, kv_rng *r, uint64_t max_inserted)
{
    if (max_inserted == 0)
        return 0;
    uint64_t rank = kv_zipf_next(z, r);
    if (rank >= max_inserted)
        return 0;
    return max_inserted - 1 - rank;
}
