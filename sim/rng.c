/* Philox4x32-10 as a gsl_rng_type, and the scenario distributions. See a5_rng.h. */
#include "a5_rng.h"

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
