/* The intelligence lever of the strategic step (docs/model.md, "Intelligence
 * lever"): the statuses of its threats and downgrades, their transitions after
 * a step, and the credibility theta. The terms it puts into the utilities are
 * model_strategy.c's (lever_lanes). */
#include "model_strategy_int.h"

#include "a5_vector.h"

#include <string.h>

/* Rule 3 under threats_per_step M > 0: of the candidates (status -1), the M with
 * the largest d_i (ties to the lowest index) are threatened, the rest stay none. */
static void lever_stagger(const strat_step *ss, int t)
{
    const double *x = ss->x;
    const int n = ss->n;
    double *st = lane_of(ss, S_ST), *due = lane_of(ss, S_DUE);
    for (int m = (int)x[A5_G_LEVER_THREATS]; m > 0; m--) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (st[i] == -1 && (best < 0 || NX(A5_N_INTEL, i) > NX(A5_N_INTEL, best)))
                best = i;
        if (best < 0)
            break;
        st[best] = 1;
        due[best] = t + 1 + (int)x[A5_G_LEVER_LEAD];
    }
    for (int i = 0; i < n; i++)
        st[i] = st[i] == -1 ? 0 : st[i];
}

/* Rules 1 to 3 of the lever for nations 0..np-1 (every lane): each status st
 * and due step at the new policies K, without a branch on the data; called[i]
 * gets 1 where a threatened nation still OPEN has its threat fall due (whether it
 * is carried out is drawn after: st stays 0 until then). start: the status a new
 * threat gets (1, or -1 for a candidate of lever_stagger), lead its due step.
 * Returns how many of nations 0..n-1 have their threat called. */
A5_VECTOR_CLONES static int lever_status(size_t np, int n, double t1, double start, double lead,
                                         const double *restrict K, double *restrict st,
                                         double *restrict due, double *restrict called)
{
    int nc = 0;
    for (size_t i = 0; i < np; i++) {
        const double s0 = st[i];
        const int open = K[i] == A5_OPEN, fall = due[i] <= t1;
        const int falls = (s0 == 1) & fall; /* the threat falls due */
        called[i] = falls & open ? 1.0 : 0.0;
        double ns = falls ? 0.0 : s0;
        ns = (s0 == 2) & (fall | !open) ? 0.0 : ns; /* over, or ended by complying */
        const int begin = (s0 == 0) & open;
        ns = begin ? start : ns;
        due[i] = begin ? lead : due[i];
        st[i] = ns;
        nc += falls & open & (i < (size_t)n);
    }
    return nc;
}

/* The lever's statuses st of nations 0..n-1 as int8 (w->istat). */
A5_VECTOR_CLONES static void lever_mirror(int n, const double *restrict st, int8_t *restrict is)
{
    for (int i = 0; i < n; i++)
        is[i] = (int8_t)st[i];
}

void a5_mod_lever_clear(a5_work *w, int n)
{
    memset(w->istat, 0, (size_t)n);
    memset(w->lane + S_ST * w->np, 0, w->np * sizeof *w->lane);
}

/* The lever's transitions after step 6, in nation order, and theta_L(t+1) (or
 * the targets' offsets o_i under credibility_scope nation). */
void a5_mod_lever_transitions(const strat_step *ss, const double *K, int t,
                              const a5_rng_state *rs)
{
    double *x = ss->x;
    a5_work *w = ss->w;
    const double thL = x[A5_G_LEVER_CREDIBILITY], loss = x[A5_G_LEVER_LOSS],
                 gain = x[A5_G_LEVER_GAIN];
    const int pern = (int)(x[A5_G_LEVER_SCOPE] + 0.5) == A5_SCOPE_NATION;
    const int limit = x[A5_G_LEVER_THREATS] > 0;
    const int lead = t + 1 + (int)x[A5_G_LEVER_LEAD], dur = t + 1 + (int)x[A5_G_LEVER_DURATION];
    double *st = lane_of(ss, S_ST), *due = lane_of(ss, S_DUE), *falls = lane_of(ss, S_TMP);
    int *called = w->reviewers; /* the reviewers are done with by now */
    /* First every status at once (rule by rule as docs/model.md lists them), then
     * the threatened nations still OPEN whose threat falls due, in nation order:
     * whether each is carried out. */
    const int ncall = lever_status(w->np, ss->n, t + 1, limit ? -1.0 : 1.0, lead, K, st, due, falls);
    int nc = 0;
    for (int i = 0, n = ss->n; ncall > 0 && i < n; i++) {
        called[nc] = i; /* appended without a branch: kept when its threat falls due */
        nc += falls[i] != 0;
    }
    int fails = 0, wins = 0;
    for (int q = 0; q < nc; q++) {
        const int i = called[q];
        const double th = lever_credibility(thL, pern, w->icred[i]);
        /* u < theta_i with u uniform on [0, 1): certain at theta_i >= 1 and
         * impossible at <= 0, so u is only drawn in between (a side uniform: no
         * stream moves either way) */
        const int done =
            th >= 1 || (th > 0 && a5_side_uniform(rs->key, rs->ctr[2], rs->ctr[3], t, i) < th);
        if (done) {
            st[i] = 2;
            due[i] = dur;
        }
        fails += !done;
        wins += done;
        if (pern) /* theta_i moves by +g_L or -l, within [0, 1] */
            w->icred[i] = a5_lever_credibility(th, done ? gain : -loss) - thL;
    }
    if (limit)
        lever_stagger(ss, t);
    lever_mirror(ss->n, st, w->istat);
    if (!pern) {
        const double th = thL - loss * fails + gain * wins;
        x[A5_G_LEVER_CREDIBILITY] = th > 0 ? (th < 1 ? th : 1) : 0;
    }
}
