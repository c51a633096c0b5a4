/* Counter-based random streams: Philox4x32-10 (Random123) wrapped as a gsl_rng_type.
 *
 * A stream is named by (seed, point, replicate) alone: the 64-bit seed is the
 * Philox key, and point and replicate fill the top half of the 128-bit counter, so
 * no two units of work share a stream and nothing depends on which thread runs
 * them. The low 64 bits count blocks of four 32-bit outputs within a stream.
 *
 * Because it is a gsl_rng, every gsl_ran_* distribution draws from it; the hot
 * path calls the inline a5_rng_uniform to skip GSL's function pointer. */
#ifndef A5_RNG_H
#define A5_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

typedef struct {
    uint32_t key[2];
    uint32_t ctr[4];
    uint32_t out[4];
    int pos; /* next unused word of out; 4 means empty */
} a5_rng_state;

extern const gsl_rng_type *a5_rng_philox;

/* A generator of type a5_rng_philox (gsl_rng_free releases it), or NULL. */
gsl_rng *a5_rng_alloc(void);
/* Position r at the start of stream (seed, point, replicate). */
void a5_rng_seek(gsl_rng *r, uint64_t seed, uint32_t point, uint32_t replicate);
/* Refill s->out from the counter and advance it (out of line: the Philox rounds). */
void a5_rng_refill(a5_rng_state *s);
/* The stream's next n words into out: the same words, in the same order, as n
 * calls of a5_rng_u32, but whole blocks are computed several at a time. */
void a5_rng_fill(a5_rng_state *s, uint32_t *out, size_t n);

static inline uint32_t a5_rng_u32(a5_rng_state *s)
{
    if (s->pos >= 4)
        a5_rng_refill(s);
    return s->out[s->pos++];
}

/* Uniform double in [0, 1) with 53 random bits from two 32-bit words: 27 bits of a,
 * 26 of b. (The shifted words fit in int32_t; converting from a signed type lets the
 * compiler vectorise the loops that call this.) */
static inline double a5_rng_uniform53(uint32_t a, uint32_t b)
{
    return ((double)(int32_t)(a >> 5) * 67108864.0 + (double)(int32_t)(b >> 6)) *
           (1.0 / 9007199254740992.0);
}

/* Uniform double in [0, 1) from the next two words of the stream. */
static inline double a5_rng_uniform(a5_rng_state *s)
{
    uint32_t a = a5_rng_u32(s);
    return a5_rng_uniform53(a, a5_rng_u32(s));
}

static inline a5_rng_state *a5_rng_state_of(gsl_rng *r) { return (a5_rng_state *)r->state; }

/* Distributions for `uncertain:` parameters. */
typedef enum {
    A5_DIST_FIXED,     /* p[0] = value */
    A5_DIST_UNIFORM,   /* p[0] = lo, p[1] = hi */
    A5_DIST_NORMAL,    /* p[0] = mean, p[1] = sd */
    A5_DIST_LOGNORMAL, /* p[0] = mu, p[1] = sigma (of the log) */
    A5_DIST_BETA,      /* p[0] = a, p[1] = b */
    A5_DIST_TRIANGULAR /* p[0] = lo, p[1] = mode, p[2] = hi */
} a5_dist_kind;

typedef struct {
    a5_dist_kind kind;
    double p[3];
    double min, max; /* clip bounds (-inf/inf when absent) */
} a5_dist;

/* One draw from d using r, clipped to [d->min, d->max]. */
double a5_rng_draw(const a5_dist *d, gsl_rng *r);

#endif
