/* Scores of the model and every baseline on the scored rows: overall, on changed and
 * unchanged rows (the observed policy is or is not the nation's starting policy), the
 * within-date AUC of "has moved" and the timing curve around observed changes
 * (issue 23). See a5_calibrate.h and docs/calibration.md. */
#include "calibrate_int.h"

#include "a5_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const model_name[A5_CALIB_NMODELS] = {
    "model", "base rate by date", "base rate overall", "keep initial policy", "bloc majority",
    "base rate date+start", "smoothed persistence"};

typedef struct {
    double score;
    int moved;
} auc_row;

static int cmp_auc(const void *a, const void *b)
{
    double x = ((const auc_row *)a)->score, y = ((const auc_row *)b)->score;
    return (x > y) - (x < y);
}

/* Model m's within-date AUC of "has moved": over pairs of a changed and an unchanged
 * scored row of one date, the share where the changed row has the higher
 * 1 - p(starting policy), ties counting one half; pairs pooled over dates. v: scratch
 * of c->nobs rows. */
static void auc_moved(const calib *c, const int *fold, const double *P, int m, auc_row *v,
                      a5_calib_score *sc)
{
    double conc = 0;
    size_t pairs = 0;
    for (int t = 0; t <= c->tmax; t++) {
        size_t k = 0, movers = 0;
        for (size_t q = c->off[t]; q < c->off[t + 1]; q++) {
            size_t i = c->idx[q];
            if (fold[i] < 0)
                continue;
            int st = a5c_start(c->s, c->obs[i].nation);
            v[k].score = 1 - P[(i * A5_CALIB_NMODELS + (size_t)m) * 3 + (size_t)st];
            v[k].moved = c->obs[i].policy != st;
            movers += (size_t)v[k++].moved;
        }
        qsort(v, k, sizeof *v, cmp_auc);
        double below = 0; /* unchanged rows with a lower score */
        for (size_t g = 0; g < k;) {
            size_t h = g;
            double mv = 0, sy = 0;
            for (; h < k && v[h].score == v[g].score; h++) {
                mv += v[h].moved;
                sy += !v[h].moved;
            }
            conc += mv * below + 0.5 * mv * sy;
            below += sy;
            g = h;
        }
        pairs += movers * (k - movers);
    }
    sc->auc_moved = pairs ? conc / (double)pairs : NAN;
    sc->auc_pairs = pairs;
}

/* The timing curve of every model: around each observed change (rows in order of
 * nation, date: `order`), the probability of the new policy at the nation's scored
 * row A5_CALIB_TIMING_OFFSET(j) steps away. Undefined (NaN) when a nation and date
 * are observed more than once. */
static void timing(const calib *c, const int *fold, const double *P, const size_t *order,
                   a5_calib_score *sc)
{
    double sum[A5_CALIB_NMODELS][A5_CALIB_NTIMING] = {{0}};
    size_t cnt[A5_CALIB_NTIMING] = {0};
    const a5_obs *obs = c->obs;
    int repeated = 0;
    for (size_t q = 1; q < c->nobs; q++)
        repeated |= obs[order[q]].nation == obs[order[q - 1]].nation &&
                    obs[order[q]].step == obs[order[q - 1]].step;
    for (size_t g = 0; g < c->nobs && !repeated;) {
        int nat = obs[order[g]].nation, prev = a5c_start(c->s, nat);
        size_t h = g;
        while (h < c->nobs && obs[order[h]].nation == nat)
            h++;
        for (size_t q = g; q < h; q++) {
            const a5_obs *o = &obs[order[q]];
            if (o->policy == prev)
                continue;
            prev = o->policy;
            for (int j = 0; j < A5_CALIB_NTIMING; j++) {
                int want = o->step + A5_CALIB_TIMING_OFFSET(j);
                size_t lo = g, hi = h; /* the nation's rows are by date: bisect */
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (obs[order[mid]].step < want)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                if (lo == h || obs[order[lo]].step != want || fold[order[lo]] < 0)
                    continue;
                cnt[j]++;
                for (int m = 0; m < A5_CALIB_NMODELS; m++)
                    sum[m][j] += P[(order[lo] * A5_CALIB_NMODELS + (size_t)m) * 3 +
                                   (size_t)o->policy];
            }
        }
        g = h;
    }
    for (int m = 0; m < A5_CALIB_NMODELS; m++)
        for (int j = 0; j < A5_CALIB_NTIMING; j++) {
            sc[m].timing_n[j] = repeated ? 0 : cnt[j];
            sc[m].timing[j] = !repeated && cnt[j] ? sum[m][j] / (double)cnt[j] : NAN;
        }
}

/* Row i's Brier score under model m. */
static double row_brier(const calib *c, const double *P, size_t i, int m)
{
    const double *p = P + (i * A5_CALIB_NMODELS + (size_t)m) * 3;
    const int y = c->obs[i].policy;
    double b = 0;
    for (int k = 0; k < 3; k++)
        b += (p[k] - (k == y)) * (p[k] - (k == y));
    return b;
}

/* Model m's Brier minus the model's, row by row: the mean and its paired standard
 * error on every scored row (changed 0) or on the changed rows (changed 1). */
static void brier_difference(const calib *c, const int *fold, const double *P, int m,
                             int changed, double *mean, double *se)
{
    double s = 0, s2 = 0;
    size_t n = 0;
    for (size_t i = 0; i < c->nobs; i++) {
        if (fold[i] < 0 || (changed && c->obs[i].policy == a5c_start(c->s, c->obs[i].nation)))
            continue;
        const double d = row_brier(c, P, i, m) - row_brier(c, P, i, A5_CALIB_MODEL);
        s += d;
        s2 += d * d;
        n++;
    }
    *mean = n ? s / (double)n : NAN;
    const double var = n > 1 ? (s2 - s * s / (double)n) / (double)(n - 1) : NAN;
    *se = n > 1 ? sqrt(fmax(var, 0) / (double)n) : NAN;
}

int a5c_score_models(const calib *c, const int *fold, const double *P, double floor,
                     a5_calib_score *sc)
{
    auc_row *v = a5_calloc(c->nobs ? c->nobs : 1, sizeof *v);
    size_t *order = a5_calloc(c->nobs ? c->nobs : 1, sizeof *order);
    if (!v || !order || a5c_obs_order(c->s, c->obs, c->nobs, order)) {
        free(v);
        free(order);
        return A5_ENOMEM;
    }
    for (int m = 0; m < A5_CALIB_NMODELS; m++) {
        double b = 0, l = 0, a = 0, bs[2] = {0, 0}, ls[2] = {0, 0};
        size_t n = 0, ns[2] = {0, 0};
        for (size_t i = 0; i < c->nobs; i++) {
            if (fold[i] < 0)
                continue;
            const double *p = P + (i * A5_CALIB_NMODELS + (size_t)m) * 3;
            int y = c->obs[i].policy, best = 0;
            int changed = y != a5c_start(c->s, c->obs[i].nation);
            for (int k = 1; k < 3; k++)
                if (p[k] > p[best])
                    best = k;
            double bi = 0;
            for (int k = 0; k < 3; k++) { /* b as before, term by term: the same bits */
                b += (p[k] - (k == y)) * (p[k] - (k == y));
                bi += (p[k] - (k == y)) * (p[k] - (k == y));
            }
            double li = log(fmax(p[y], floor));
            l += li;
            bs[changed] += bi;
            ls[changed] += li;
            ns[changed]++;
            a += best == y;
            n++;
        }
        sc[m].name = model_name[m];
        sc[m].n = n;
        sc[m].brier = n ? b / (double)n : NAN;
        sc[m].logscore = n ? l / (double)n : NAN;
        sc[m].accuracy = n ? a / (double)n : NAN;
        sc[m].n_changed = ns[1];
        sc[m].n_unchanged = ns[0];
        sc[m].brier_changed = ns[1] ? bs[1] / (double)ns[1] : NAN;
        sc[m].logscore_changed = ns[1] ? ls[1] / (double)ns[1] : NAN;
        sc[m].brier_unchanged = ns[0] ? bs[0] / (double)ns[0] : NAN;
        sc[m].logscore_unchanged = ns[0] ? ls[0] / (double)ns[0] : NAN;
        auc_moved(c, fold, P, m, v, &sc[m]);
        brier_difference(c, fold, P, m, 0, &sc[m].dbrier, &sc[m].dbrier_se);
        brier_difference(c, fold, P, m, 1, &sc[m].dbrier_changed, &sc[m].dbrier_changed_se);
    }
    timing(c, fold, P, order, sc);
    free(v);
    free(order);
    return 0;
}
