/* The scenario's `outcomes:` (scenario_outcomes.c), per replicate, from the records
 * a5_model_run just wrote: what the package's compare() computes from a results
 * file, under the same names (tests/python/test_outcomes.py checks one against the
 * other). Sums are taken in double, in nation and step order, then stored as float. */
#include "a5_model.h"

#include <math.h>
#include <stddef.h>

/* The per-nation value v[i] of o's nation, or the sum over all nations. */
static double nation_or_all(const a5_outcome *o, const float *v, int n)
{
    if (o->nation >= 0)
        return (double)v[o->nation];
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)v[i];
    return sum;
}

void a5_model_outcomes(const a5_scenario *s, const a5_records *rec, long j)
{
    const int n = s->n, steps = s->steps;
    const size_t row0 = (size_t)j * (size_t)steps * (size_t)n, nat0 = (size_t)j * (size_t)n;
    float *out = rec->outcomes + (size_t)j * s->noutcomes;
    for (size_t k = 0; k < s->noutcomes; k++) {
        const a5_outcome *o = &s->outcomes[k];
        const int8_t *pol = o->at >= 0 ? rec->policy + row0 + (size_t)o->at * (size_t)n : NULL;
        const int16_t *fb = rec->first_ban + nat0;
        double y = 0;
        switch (o->metric) {
        case A5_OUT_N_BAN:
        case A5_OUT_N_MOVED:
            for (int i = 0; i < n; i++)
                y += o->metric == A5_OUT_N_BAN ? pol[i] == A5_BAN : pol[i] != A5_OPEN;
            break;
        case A5_OUT_BAN: y = pol[o->nation] == A5_BAN; break;
        case A5_OUT_NOT_OPEN: y = pol[o->nation] != A5_OPEN; break;
        case A5_OUT_BANNED_BY: y = fb[o->nation] >= 0 && fb[o->nation] <= o->at; break;
        case A5_OUT_US_PRESSURE:
            y = nation_or_all(o, rec->P + row0 + (size_t)o->at * (size_t)n, n);
            break;
        case A5_OUT_US_SPENT:
            for (int t = 0; t < steps; t++)
                y += nation_or_all(o, rec->P + row0 + (size_t)t * (size_t)n, n);
            break;
        case A5_OUT_CUM_COST: y = nation_or_all(o, rec->cum_cost + nat0, n); break;
        case A5_OUT_CUM_RETALIATION: y = nation_or_all(o, rec->cum_retaliation + nat0, n); break;
        case A5_OUT_CUM_DOWNGRADE: y = nation_or_all(o, rec->cum_downgrade + nat0, n); break;
        default: y = NAN;
        }
        out[k] = (float)y;
    }
}
