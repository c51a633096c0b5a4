/* Philox4x32-10 as a gsl_rng_type, and the scenario distributions. See a5_rng.h. */
#include "a5_rng.h"
#include "a5_vector.h"

#include <Random123/philox.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <string.h>

void a5_rng_refill(a5_rng_state *s)
{
    philox4x32_ctr_t c = {{s->ctr[0], s->ctr[1], s->ctr[2], s->ctr[3]}};
    philox4x32_key_t k = {{s->key[0], s->key[1]}};
    philox4x32_ctr_t o = philox4x32_R(10, c, k);
    memcpy(s->out, o.v, sizeof s->out);
    if (++s->ctr[0] == 0)
        ++s->ctr[1];
    s->pos = 0;
}

/* Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy
 * as 1, 2, 3", SC'11) on nb consecutive counters whose low 64 bits start at lo,
 * written as one loop over independent blocks so the compiler can run several
 * blocks per vector instruction. test_rng checks it against Random123's
 * philox4x32_R word for word. */
#define PHILOX_BLOCKS_MAX 64
A5_VECTOR_CLONES static void philox_blocks(const uint32_t key[2], uint64_t lo, uint32_t c2, uint32_t c3, int nb,
                          uint32_t *restrict out)
{
    uint32_t w0[PHILOX_BLOCKS_MAX], w1[PHILOX_BLOCKS_MAX], w2[PHILOX_BLOCKS_MAX],
        w3[PHILOX_BLOCKS_MAX];
    for (int j = 0; j < nb; j++) {
        uint64_t c = lo + (uint64_t)j;
        uint32_t a = (uint32_t)c, b = (uint32_t)(c >> 32), d = c2, e = c3;
        uint32_t k0 = key[0], k1 = key[1];
        for (int r = 0; r < 10; r++) {
            uint64_t p0 = (uint64_t)0xD2511F53u * a, p1 = (uint64_t)0xCD9E8D57u * d;
            uint32_t na = (uint32_t)(p1 >> 32) ^ b ^ k0, nd = (uint32_t)(p0 >> 32) ^ e ^ k1;
            b = (uint32_t)p1;
            e = (uint32_t)p0;
            a = na;
            d = nd;
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        w0[j] = a;
        w1[j] = b;
        w2[j] = d;
        w3[j] = e;
    }
    for (int j = 0; j < nb; j++) {
        out[4 * j] = w0[j];
        out[4 * j + 1] = w1[j];
        out[4 * j + 2] = w2[j];
        out[4 * j + 3] = w3[j];
    }
}

void a5_rng_fill(a5_rng_state *s, uint32_t *out, size_t n)
{
    size_t i = 0;
    while (i < n && s->pos < 4)
        out[i++] = s->out[s->pos++];
    while (n - i >= 4) {
        size_t nb = (n - i) / 4;
        if (nb > PHILOX_BLOCKS_MAX)
            nb = PHILOX_BLOCKS_MAX;
        uint64_t lo = (uint64_t)s->ctr[0] | (uint64_t)s->ctr[1] << 32;
        philox_blocks(s->key, lo, s->ctr[2], s->ctr[3], (int)nb, out + i);
        lo += nb;
        s->ctr[0] = (uint32_t)lo;
        s->ctr[1] = (uint32_t)(lo >> 32);
        i += 4 * nb;
    }
    if (i < n) {
        a5_rng_refill(s);
        while (i < n)
            out[i++] = s->out[s->pos++];
    }
}

/* gsl_rng_set: a plain 32-bit seed selects stream (seed, 0, 0). */
static void philox_set(void *state, unsigned long seed)
{
    a5_rng_state *s = state;
    memset(s, 0, sizeof *s);
    s->key[0] = (uint32_t)seed;
    s->key[1] = (uint32_t)((uint64_t)seed >> 32);
    s->pos = 4;
}

static unsigned long philox_get(void *state) { return a5_rng_u32(state); }

static double philox_get_double(void *state) { return a5_rng_uniform(state); }

static const gsl_rng_type philox_type = {"philox4x32-10", 0xffffffffUL, 0, sizeof(a5_rng_state),
                                         philox_set, philox_get, philox_get_double};

const gsl_rng_type *a5_rng_philox = &philox_type;

gsl_rng *a5_rng_alloc(void) { return gsl_rng_alloc(a5_rng_philox); }

void a5_rng_seek(gsl_rng *r, uint64_t seed, uint32_t point, uint32_t replicate)
{
    a5_rng_state *s = r->state;
    s->key[0] = (uint32_t)seed;
    s->key[1] = (uint32_t)(seed >> 32);
    s->ctr[0] = 0;
    s->ctr[1] = 0;
    s->ctr[2] = replicate;
    s->ctr[3] = point;
    s->pos = 4;
}

double a5_rng_draw(const a5_dist *d, gsl_rng *r)
{
    double x;
    switch (d->kind) {
    case A5_DIST_FIXED:
        x = d->p[0];
        break;
    case A5_DIST_UNIFORM:
        x = d->p[0] + (d->p[1] - d->p[0]) * gsl_rng_uniform(r);
        break;
    case A5_DIST_NORMAL:
        x = d->p[0] + gsl_ran_gaussian_ziggurat(r, d->p[1]);
        break;
    case A5_DIST_LOGNORMAL:
        x = exp(d->p[0] + gsl_ran_gaussian_ziggurat(r, d->p[1]));
        break;
    case A5_DIST_BETA:
        x = gsl_ran_beta(r, d->p[0], d->p[1]);
        break;
    case A5_DIST_TRIANGULAR: {
        /* Inverse CDF (GSL has no triangular distribution). */
        double lo = d->p[0], mode = d->p[1], hi = d->p[2], u = gsl_rng_uniform(r);
        double w = hi - lo;
        if (w <= 0) {
            x = lo;
            break;
        }
        double fm = (mode - lo) / w;
        x = u < fm ? lo + sqrt(u * w * (mode - lo)) : hi - sqrt((1 - u) * w * (hi - mode));
        break;
    }
    default:
        x = NAN;
    }
    if (x < d->min)
        x = d->min;
    if (x > d->max)
        x = d->max;
    return x;
}
