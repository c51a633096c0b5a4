/* The kernel's strategic step (docs/model.md, "Strategic actors"): the rest of a
 * step with a strategic actor on, after the events, in the order docs/model.md
 * gives. The equations are in model_terms.h; model.c runs this step when a
 * strategic setting is on, its plain step otherwise. The decisions run on lanes
 * of the nations' inputs, several nations per vector instruction, as the plain
 * step's do; the other passes over the nations are loops without a branch on the
 * data; the state is read from and written to x. */
#include "model_int.h"

#include "a5_vector.h"

#include <math.h>
#include <string.h>

/* Nation i's attribute attr in x (needs x and n in scope). */
#define NX(attr, i) x[a5_param_nslot(attr, i, n)]

/* What the parts of one strategic step share. */
typedef struct {
    const a5_model *m;
    double *x;
    a5_work *w;
    int n;
    int us, cn;  /* strategy codes, rounded to the nearest (calibration tries values in between) */
    int peers;   /* the peer term is on */
    int named;   /* nations named as China's targets (china_target); 0: every nation is one */
    int nrT, nbT; /* China's targets restricting, banning at X(t) */
    double R;    /* retaliation R(t) */
    double usum; /* china.react: sum over China's targets of the US's Delta P_j(t-1) */
    double Bt;   /* the US budget B(t) (0 under schedule), for the anticipation */
    a5_globals g;
} strat_step;

/* Lane k of the step's scratch. */
static inline double *lane_of(const strat_step *ss, int k)
{
    return ss->w->lane + (size_t)k * ss->w->np;
}

/* --- US strategy ---------------------------------------------------------- */

/* Whether nation i is in E(t), the nations pressure can still move: not banning
 * at its new policy k, below the pressure ceiling pmax at its pressure p. */
static inline int in_E(double k, double p, double pmax) { return (k != A5_BAN) & (p < pmax); }

/* E(t), the nations pressure can still move (not banning at the new policies K
 * and below the pressure ceiling pmax), as 1 or 0 into E; returns how many. */
A5_VECTOR_CLONES static int pressable(int n, const double *restrict K, const double *restrict P,
                                      double pmax, double *restrict E)
{
    int ne = 0;
    for (int i = 0; i < n; i++) {
        const int e = in_E(K[i], P[i], pmax);
        E[i] = e ? 1.0 : 0.0;
        ne += e;
    }
    return ne;
}

/* A key of double v whose order as a signed integer is v's (no NaN; -0 before +0). */
static inline int64_t order_key(double v)
{
    int64_t b;
    memcpy(&b, &v, sizeof b);
    return b ^ ((b >> 63) & INT64_MAX);
}

/* The first i at which v[i] is the smallest of v[0 .. n) (no NaN), where it is
 * below +inf; -1 for none. Picks what a scan keeping the first strictly smaller
 * value picks (-0 and +0 being equal), in two passes without a branch on the
 * data, each a reduction the compiler vectorises (inlined in the callers' loops). */
static inline __attribute__((always_inline)) int first_min(const double *restrict v, int n)
{
    int64_t lo = order_key(HUGE_VAL);
    for (int i = 0; i < n; i++) {
        const int64_t k = order_key(v[i]);
        lo = k < lo ? k : lo;
    }
    double lv;
    const int64_t b = lo ^ ((lo >> 63) & INT64_MAX); /* the key's inverse is itself */
    memcpy(&lv, &b, sizeof lv);
    int at = n;
    for (int i = 0; i < n; i++) {
        const int j = v[i] == lv ? i : n;
        at = j < at ? j : at;
    }
    return lv < HUGE_VAL ? at : -1;
}

/* U(k) - U(BAN) at option k, from a nation's three utilities. */
static inline double ban_gap(double k, double u0, double u1, double u2)
{
    return (k == A5_OPEN ? u0 : k == A5_RESTRICT ? u1 : u2) - u2;
}

/* wavering's target among the candidates i = cand[q], q < nc (their utilities in
 * U0..U2[q]; nq: nc padded to whole vectors): the smallest gap U_i(K_i) -
 * U_i(BAN) >= 0 over those in E(t) (new policies K, pressures P), the first on
 * ties; -1 for none. V: scratch of nq. */
A5_VECTOR_CLONES static int wavering_target(size_t nq, int nc, const int *restrict cand,
                                            const double *restrict K, const double *restrict P,
                                            double pmax, const double *restrict U0,
                                            const double *restrict U1,
                                            const double *restrict U2, double *restrict V)
{
    for (size_t q = 0; q < nq; q++) {
        const int i = cand[q];
        const double gap = ban_gap(K[i], U0[q], U1[q], U2[q]);
        V[q] = (in_E(K[i], P[i], pmax) & (gap >= 0)) ? gap : HUGE_VAL;
    }
    const int q = first_min(V, nc);
    return q >= 0 ? cand[q] : -1;
}

/* pivotal's target among nations 0..n-1: the largest bloc leverage pi_i
 * (influences g, bloc ties plus base) over E(t) (new policies K, pressures P),
 * the first on ties; -1 for none. V: scratch of n. */
A5_VECTOR_CLONES static int pivotal_target(int n, const double *restrict g,
                                           const double *restrict ties, double base,
                                           const double *restrict K, const double *restrict P,
                                           double pmax, double *restrict V)
{
    for (int i = 0; i < n; i++) { /* -pi_i: the largest is the smallest */
        const double lev = a5_bloc_leverage(g[i], ties[i] + base);
        V[i] = (in_E(K[i], P[i], pmax) & (lev > -HUGE_VAL)) ? -lev : HUGE_VAL;
    }
    return first_min(V, n);
}

/* The nation in E(t) the budget of a targeted strategy goes to (pivotal: the
 * largest bloc leverage; wavering: the smallest gap U_i(K_i) - U_i(BAN) >= 0; the
 * first such nation on ties), -1 for none. V: scratch of np. */
static int us_target(const strat_step *ss, const double *K, double *V)
{
    const a5_model *m = ss->m;
    const a5_work *w = ss->w;
    const double *x = ss->x;
    const int n = ss->n;
    const double *P = &NX(A5_N_US_PRESSURE, 0), pmax = x[A5_G_US_MAX_PRESSURE];
    if (ss->us == A5_US_PIVOTAL)
        return pivotal_target(n, w->geff, m->bloc_ties, x[A5_G_BASE_TIE] * (double)(n - 1), K, P,
                              pmax, V);
    if (ss->us == A5_US_WAVERING) /* E(t) is among the candidates (decide) */
        return wavering_target(a5_mod_whole_vectors(w->ncand), w->ncand, w->cand, K, P, pmax,
                               lane_of(ss, C_U0), lane_of(ss, C_U1), lane_of(ss, C_U2), V);
    return -1;
}

/* What the downgrades in force at X(t) cost the US this step: kappa delta sum
 * of d_i over the downgraded nations, in nation order. */
static double lever_cost(const strat_step *ss)
{
    const double *x = ss->x;
    const int n = ss->n;
    double c = 0;
    for (int i = 0; i < n; i++)
        if (lane_of(ss, S_ST)[i] == 2)
            c += x[A5_G_LEVER_US_COST] * x[A5_G_LEVER_DOWNGRADE] * NX(A5_N_INTEL, i);
    return c;
}

/* Cost, risk and installed base of nations 0..n-1 at their new policies K: one
 * loop the compiler vectorises, the same operations per nation as one at a time. */
A5_VECTOR_CLONES static void update_shares(const a5_globals *gp, int n, const double *restrict K,
                                           const double *restrict sD, const double *restrict xn,
                                           const double *restrict rsk, const double *restrict b,
                                           double *restrict h, double renew, double L,
                                           double *restrict cost, double *restrict risk)
{
    const a5_globals g = *gp;
    for (int i = 0; i < n; i++) {
        const a5_option o = a5_option_of(K[i], g.kappa, g.psi);
        const double hi = h[i];
        cost[i] += a5_cost_at(sD[i], g.zeta, b[i], xn[i], hi, o.cap);
        risk[i] += a5_risk(&g, rsk[i], xn[i], hi, o);
        h[i] = a5_installed_base(hi, xn[i], o.cap, renew, L);
    }
}

/* The US's Delta P_i of step 6 of nations 0..n-1 at their new policies K: under
 * schedule e_US (1 - phi(K_i)), one of d0..d2; else the budget Bt at the target
 * (-1: none), share at the other nations in E(t) and 0 elsewhere. */
A5_VECTOR_CLONES static void us_delta(int n, const double *restrict K, const double *restrict E,
                                      int sched, double d0, double d1, double d2, double share,
                                      int target, double Bt, double *restrict dP)
{
    for (int i = 0; i < n; i++) {
        const double k = K[i], ds = k == A5_OPEN ? d0 : k == A5_RESTRICT ? d1 : d2;
        const double dt = i == target ? Bt : E[i] != 0 ? share : 0;
        dP[i] = sched ? ds : dt;
    }
}

/* P_i(t + 1) = min(Pmax, P_i + Delta P_i) of nations 0..n-1. */
A5_VECTOR_CLONES static void pressure_add(int n, double *restrict P, const double *restrict dP,
                                          double pmax)
{
    for (int i = 0; i < n; i++)
        P[i] = a5_pressure_add(P[i], dP[i], pmax);
}

/* us.react's Delta P_i of nations 0..n-1 (a5_react of the strategy's dP_i; o:
 * China's A_i of the last step, summing to osum over E(t)). */
A5_VECTOR_CLONES static void us_react_lane(int n, double W, double Bt, const double *restrict E,
                                           const double *restrict o, double osum,
                                           double *restrict dP)
{
    for (int i = 0; i < n; i++) { /* each load made, then kept or not: no branch */
        const double oi = o[i];
        dP[i] = a5_react(W, dP[i], Bt, E[i] != 0 ? oi : 0, osum);
    }
}

/* Cost, risk and installed base at the new policies K, and the pressure of step
 * 6 with the US strategy's Delta P_i (into w->usl). */
static void update_state(const strat_step *ss, const double *K, double *cost, double *risk)
{
    double *x = ss->x;
    a5_work *w = ss->w;
    const a5_globals *g = &ss->g;
    const int n = ss->n, us = ss->us;
    double Bt = ss->Bt;
    if (Bt > 0 && x[A5_G_LEVER_US_COST] > 0) /* downgrades in force cost the US */
        Bt = a5_us_budget_left(Bt, lever_cost(ss));
    double *E = lane_of(ss, S_E), *dP = w->usl, *P = &NX(A5_N_US_PRESSURE, 0);
    const double pmax = x[A5_G_US_MAX_PRESSURE];
    /* E(t) as a lane where uniform's share or us.react reads it (schedule presses all) */
    const int react = us != A5_US_SCHEDULE && x[A5_G_US_REACT] > 0;
    const int ne = us == A5_US_UNIFORM || react ? pressable(n, K, P, pmax, E) : 0;
    double csum = 0; /* us.react: sum over E(t) of China's A_j(t-1) */
    for (int i = 0; react && i < n; i++)
        csum += E[i] != 0 ? w->cnl[i] : 0;
    /* No nation's pressure below reads a share: the shares first, all at once. */
    update_shares(g, n, K, w->sD, w->sxn, w->srsk, &NX(A5_N_COST_SENSITIVITY, 0),
                  &NX(A5_N_HIGH_RISK_SHARE, 0), x[A5_G_RENEWAL], x[A5_G_PHASE_OUT_STEPS], cost,
                  risk);
    const double esc = us == A5_US_SCHEDULE ? x[A5_G_US_ESCALATION] : 0;
    const double d0 = esc * (1 - a5_option_of(A5_OPEN, g->kappa, g->psi).phi),
                 d1 = esc * (1 - a5_option_of(A5_RESTRICT, g->kappa, g->psi).phi),
                 d2 = esc * (1 - a5_option_of(A5_BAN, g->kappa, g->psi).phi);
    const int target = us == A5_US_PIVOTAL || us == A5_US_WAVERING
                           ? us_target(ss, K, lane_of(ss, S_TMP))
                           : -1;
    const double share = us == A5_US_UNIFORM && ne > 0 ? Bt / ne : 0;
    us_delta(n, K, E, us == A5_US_SCHEDULE, d0, d1, d2, share, target, Bt, dP);
    if (csum > 0) /* us.react: a share W_US toward the nations China retaliated against */
        us_react_lane(n, x[A5_G_US_REACT], Bt, E, w->cnl, csum, dP);
    pressure_add(n, P, dP, pmax);
}

/* --- Intelligence lever --------------------------------------------------- */

/* Target i's credibility theta_i(t): theta_L(t), or, with per (credibility_scope
 * nation), theta_L(t) + o_i within [0, 1]. */
static inline double lever_credibility(double thL, int per, double oi)
{
    return per ? a5_lever_credibility(thL, oi) : thL;
}

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
static void lever_transitions(const strat_step *ss, const double *K, int t,
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

/* --- China's strategy ----------------------------------------------------- */

/* Whether nation i is one of China's targets (every nation when none is named). */
static int cn_target(const strat_step *ss, int i)
{
    const double *x = ss->x;
    const int n = ss->n;
    return !ss->named | (NX(A5_N_CHINA_TARGET, i) != 0); /* no branch: loops vectorise */
}

/* targeted's R_i(k) at option k (compliance phik) of nations 0..n-1 into R: at
 * China's targets (every nation when none is named) R_0 + B / max(1, Phi_-i +
 * phi(k)), Phi_-i the sum of phi over China's other targets at X(t), from the
 * counts nrT and nbT less the nation's own policy; else R_0. Phi_-i takes one of
 * three values, by the nation's policy, so R does too: each is computed once. */
A5_VECTOR_CLONES static void targeted_lane(int n, const double *restrict pol,
                                           const double *restrict tg, int named, int nrT, int nbT,
                                           double psi, double R0, double B, double phik,
                                           double *restrict R)
{
    const double rO = a5_retaliation_targeted(R0, B, phik, nrT * psi + nbT),
                 rR = a5_retaliation_targeted(R0, B, phik, (nrT - 1) * psi + nbT),
                 rB = a5_retaliation_targeted(R0, B, phik, nrT * psi + (nbT - 1));
    for (int i = 0; i < n; i++) {
        const double p = pol[i], r = p == A5_OPEN ? rO : p == A5_RESTRICT ? rR : rB;
        R[i] = (!named | (tg[i] != 0)) ? r : R0;
    }
}

/* The retaliation R_i(k) each nation expects at each option, into lanes S_R0..S_R2:
 * that of China's strategy (deterrent: the waverer wv, -1 for none), moved by
 * china.react; or R_0 for all (R0only: the utilities the waverer is chosen from). */
A5_VECTOR_CLONES static void retaliation_lanes(const strat_step *ss, int wv, int R0only)
{
    const double *x = ss->x;
    const int n = ss->n;
    const double R0 = x[A5_G_CHINA_RETALIATION], B = x[A5_G_CHINA_BUDGET],
                 psi = x[A5_G_RESTRICT_COMPLIANCE], W = x[A5_G_CHINA_REACT];
    const int react = !R0only && ss->usum > 0; /* a share W_CN toward the nations the US pressed */
    const int same = R0only || ss->cn == A5_CN_AGGREGATE; /* one value for all: R_0 or R(t) */
    const int one = !same && ss->cn == A5_CN_DETERRENT;   /* R_0 but at the waverer */
    const double r = R0only || one ? R0 : ss->R;
    a5_work *w = ss->w;
    if ((same || one) && !react && w->srfill && w->srval == r) {
        /* The lanes hold r but at nation srdev: only that nation and the waverer move. */
        for (int k = 0; w->srdev >= 0 && k < 3; k++)
            lane_of(ss, S_R0 + k)[w->srdev] = r;
        w->srdev = one ? wv : -1;
        for (int k = 0; one && wv >= 0 && k < 3; k++)
            lane_of(ss, S_R0 + k)[wv] = R0 + B;
        return;
    }
    w->srfill = (same || one) && !react;
    w->srval = r;
    w->srdev = one ? wv : -1;
    double *sh = lane_of(ss, S_TMP);
    if (react) /* each load made, then kept or not: the loop vectorises */
        for (int i = 0; i < n; i++) {
            const double o = w->usl[i];
            sh[i] = a5_react_share(W, B, cn_target(ss, i) ? o : 0, ss->usum);
        }
    for (int k = 0; k < 3; k++) {
        const double phik = a5_option_of(k, 0, psi).phi;
        double *R = lane_of(ss, S_R0 + k);
        if (same) /* aggregate: R(t) for all */
            for (int i = 0; i < n; i++)
                R[i] = r;
        else if (ss->cn == A5_CN_TARGETED)
            targeted_lane(n, &NX(A5_N_POLICY, 0), &NX(A5_N_CHINA_TARGET, 0), ss->named, ss->nrT,
                          ss->nbT, psi, R0, B, phik, R);
        else
            for (int i = 0; i < n; i++)
                R[i] = i == wv ? R0 + B : R0;
        for (int i = 0; react && i < n; i++) /* a5_react, its share computed once */
            R[i] = R0 + a5_react_with(W, R[i] - R0, sh[i]);
    }
}

/* The actors' other inputs of every nation: d~_i and Lambda_i (the lever), X_i(k)
 * (the anticipation), into lanes, or, when their setting is off, the attribute
 * d_i and the zero lane (the values the terms then take). */
typedef struct {
    const double *DT, *LAM, *A[3];
} strat_lanes;

/* The lever's d~_i and Lambda_i of nations 0..n-1 at their statuses st. */
A5_VECTOR_CLONES static void lever_lanes(int n, const double *restrict st, const double *restrict d,
                                         double delta, double thL, int per,
                                         const double *restrict off, double *restrict DT,
                                         double *restrict LAM)
{
    for (int i = 0; i < n; i++) {
        double dt, lam;
        a5_lever_terms(st[i], d[i], delta, lever_credibility(thL, per, off[i]), &dt, &lam);
        DT[i] = dt;
        LAM[i] = lam;
    }
}

/* The discounted sums of a5_anticipation of nations 0..n-1 (pressures P,
 * growing by eps) into S: taken for every nation at once, h by h, each nation's
 * in h order as a5_anticipation's, so the loops run several nations per
 * instruction. */
A5_VECTOR_CLONES static void anticipation_sum(int n, int H, double d, const double *restrict P,
                                              double Pmax, double eps, double *restrict S)
{
    for (int i = 0; i < n; i++)
        S[i] = 0;
    double dh = 1;
    for (int h = 1; h <= H; h++) {
        dh *= d;
        for (int i = 0; i < n; i++)
            S[i] += dh * a5_anticipation_term(h, P[i], Pmax, eps);
    }
}

/* X_i(k) of nations 0..n-1 (ties a, compliance phi) from their sums S into A. */
A5_VECTOR_CLONES static void anticipation_lane(int n, const double *restrict a, double phi,
                                               const double *restrict S, double *restrict A)
{
    for (int i = 0; i < n; i++)
        A[i] = a5_anticipation_of(a[i], phi, S[i]);
}

A5_VECTOR_CLONES static void other_lanes(const strat_step *ss, strat_lanes *sl)
{
    const double *x = ss->x;
    const int n = ss->n;
    const double *d = lane_of(ss, L_IN_intel);
    sl->DT = d;
    sl->LAM = sl->A[0] = sl->A[1] = sl->A[2] = lane_of(ss, S_ZERO);
    if (x[A5_G_LEVER_DOWNGRADE] > 0) { /* else every status is none: d~_i = d_i, Lambda_i = 0 */
        double *DT = lane_of(ss, S_DT), *LAM = lane_of(ss, S_LAM);
        lever_lanes(n, lane_of(ss, S_ST), d, x[A5_G_LEVER_DOWNGRADE],
                    x[A5_G_LEVER_CREDIBILITY], (int)(x[A5_G_LEVER_SCOPE] + 0.5) == A5_SCOPE_NATION,
                    ss->w->icred, DT, LAM);
        sl->DT = DT;
        sl->LAM = LAM;
    }
    const int H = (int)x[A5_G_ANT_HORIZON];
    double last = 0; /* the eps whose sums S holds (k > 0) */
    for (int k = 0; H > 0 && k < 3; k++) {
        const double phik = a5_option_of(k, 0, x[A5_G_RESTRICT_COMPLIANCE]).phi;
        const double eps = ss->us == A5_US_SCHEDULE ? x[A5_G_US_ESCALATION] * (1 - phik)
                                                    : (k != A5_BAN) * ss->Bt / n;
        double *A = lane_of(ss, S_A0 + k), *S = lane_of(ss, S_TMP);
        /* The sums depend on k only through eps: OPEN's serve RESTRICT under a US
         * strategy (the same eps, bit for bit). */
        if (k == 0 || memcmp(&eps, &last, sizeof eps) != 0)
            anticipation_sum(n, H, x[A5_G_ANT_DISCOUNT], &NX(A5_N_US_PRESSURE, 0),
                             x[A5_G_US_MAX_PRESSURE], eps, S);
        last = eps;
        anticipation_lane(n, &NX(A5_N_US_TIES, 0), phik, S, A);
        sl->A[k] = A;
    }
}

/* The utilities of nations idx[0 .. nq) at once (gathered), and with `pick`
 * their decisions: its option drawn with UC into PICK[q]; without, its utilities
 * U(k) into U0..U2[q]. The strategic form of the plain kernel's decide_packed
 * (model.c), on the same equations (a5_utility_s, a5_softmax3, a5_pick), so the
 * compiler runs it several nations per instruction with every width giving the
 * same bits. The peer weights G0..G2 are by nation, as the other inputs. */
#define S_DECIDE_PARAMS                                                                            \
    A5_DECIDE_IN_PARAMS const double *restrict SD, const double *restrict DT,                      \
        const double *restrict LAM, const double *restrict R0, const double *restrict R1,          \
        const double *restrict R2, const double *restrict A0, const double *restrict A1,           \
        const double *restrict A2, const double *restrict G0, const double *restrict G1,           \
        const double *restrict G2, const double *restrict UC, double *restrict PICK,               \
        double *restrict U0, double *restrict U1, double *restrict U2
#define S_DECIDE_ARGS                                                                              \
    A5_DECIDE_IN_ARGS SD, DT, LAM, R0, R1, R2, A0, A1, A2, G0, G1, G2, UC, PICK, U0, U1, U2
static inline __attribute__((always_inline)) void decide_s_at(int fast, int pick,
                                                              S_DECIDE_PARAMS)
{
    const a5_globals g = *gp; /* a local copy: no store can alias it */
    for (size_t q = 0; q < nq; q++) {
        const int i = idx[q];
        A5_DECIDE_NATION_IN(v, i)
        a5_peer_shares(G0[i], G1[i], G2[i], v.G);
        const a5_strat_in sv = {.D = SD[i], .intel = DT[i], .lam = LAM[i],
                                .R = {R0[i], R1[i], R2[i]}, .ant = {A0[i], A1[i], A2[i]}};
        double U[3], e[3]; /* each option written out: a loop over k stays a loop */
        U[0] = a5_utility_s(&g, &v, &sv, A5_OPEN, fast);
        U[1] = a5_utility_s(&g, &v, &sv, A5_RESTRICT, fast);
        U[2] = a5_utility_s(&g, &v, &sv, A5_BAN, fast);
        if (pick)
            PICK[q] = a5_pick(UC[i], e, a5_softmax3(g.lambda, U, e));
        else {
            U0[q] = U[0];
            U1[q] = U[1];
            U2[q] = U[2];
        }
    }
}
/* The decisions, or the utilities; without the reversal term (w_rev = 0, where
 * it is exactly +0) or with it. */
A5_VECTOR_CLONES static void decide_s_pick(S_DECIDE_PARAMS)
{
    decide_s_at(A5_U_FAST | A5_U_NO_REVERSAL, 1, S_DECIDE_ARGS);
}
A5_VECTOR_CLONES static void decide_s_pick_rev(S_DECIDE_PARAMS)
{
    decide_s_at(A5_U_FAST, 1, S_DECIDE_ARGS);
}
A5_VECTOR_CLONES static void decide_s_util(S_DECIDE_PARAMS)
{
    decide_s_at(A5_U_FAST | A5_U_NO_REVERSAL, 0, S_DECIDE_ARGS);
}
A5_VECTOR_CLONES static void decide_s_util_rev(S_DECIDE_PARAMS)
{
    decide_s_at(A5_U_FAST, 0, S_DECIDE_ARGS);
}
#undef S_DECIDE_ARGS
#undef S_DECIDE_PARAMS

/* The decisions of nations idx[0 .. nq) from their utilities U0..U2[upos[q]]:
 * the option drawn with UC into PICK[q]. */
A5_VECTOR_CLONES static void pick_packed(double lambda, size_t nq, const int *restrict idx,
                                         const int *restrict upos, const double *restrict U0,
                                         const double *restrict U1, const double *restrict U2,
                                         const double *restrict UC, double *restrict PICK)
{
    for (size_t q = 0; q < nq; q++) {
        const int i = idx[q], p = upos[q];
        const double U[3] = {U0[p], U1[p], U2[p]};
        double e[3];
        PICK[q] = a5_pick(UC[i], e, a5_softmax3(lambda, U, e));
    }
}

/* Runs the decision loop on nations idx[0 .. nq), nq a whole number of vectors
 * (pick: their decisions into C_PICK; else their utilities into C_U0..C_U2), on
 * the lanes (the state and attributes of X(t), the actors' inputs of sl and
 * S_R0..S_R2, the peer weights in C_G0..C_G2). */
static void decide_lanes(const strat_step *ss, const strat_lanes *sl, const int *idx, size_t nq,
                         int pick)
{
    const a5_work *w = ss->w;
#define L(k) lane_of(ss, k)
#define A5_ARG(name, attr) L(L_IN_##name),
#define S_CALL(f)                                                                                  \
    f(&ss->g, nq, idx, L(L_POL), L(L_H), L(L_P), w->sxn, w->srsk, L(L_RM),                         \
      A5_MODEL_NATION_INPUTS(A5_ARG) w->sD, sl->DT, sl->LAM, L(S_R0), L(S_R1), L(S_R2), sl->A[0],  \
      sl->A[1], sl->A[2], L(C_G0), L(C_G1), L(C_G2), L(L_UC), L(C_PICK), L(C_U0), L(C_U1),         \
      L(C_U2))
    const int rev = ss->g.wrev != 0;
    if (pick && rev)
        S_CALL(decide_s_pick_rev);
    else if (pick)
        S_CALL(decide_s_pick);
    else if (rev)
        S_CALL(decide_s_util_rev);
    else
        S_CALL(decide_s_util);
#undef S_CALL
#undef A5_ARG
#undef L
}

/* deterrent's waverer among the candidates i = cand[q], q < nc (their utilities
 * in U0..U2[q]; nq: nc padded to whole vectors): the smallest gap U_i(s_i) -
 * U_i(BAN) >= 0 at their policies pol, the first on ties; -1 for none. V:
 * scratch of nq. */
A5_VECTOR_CLONES static int deterrent_target(size_t nq, int nc, const int *restrict cand,
                                             const double *restrict pol,
                                             const double *restrict U0,
                                             const double *restrict U1,
                                             const double *restrict U2, double *restrict V)
{
    for (size_t q = 0; q < nq; q++) {
        const double gap = ban_gap(pol[cand[q]], U0[q], U1[q], U2[q]);
        V[q] = gap >= 0 ? gap : HUGE_VAL;
    }
    const int q = first_min(V, nc);
    return q >= 0 ? cand[q] : -1;
}

/* deterrent: the waverer, the first of China's targets not banning (the nc in
 * w->cand) with the smallest gap U_i(s_i) - U_i(BAN) >= 0 on the utilities with
 * R_i = R_0 for all; -1 for none. Only those nations' utilities are computed. */
static int waverer(const strat_step *ss, const strat_lanes *sl, int nc)
{
    const double *x = ss->x;
    const int n = ss->n;
    a5_work *w = ss->w;
    const size_t nq = a5_mod_pad(w->cand, nc);
    decide_lanes(ss, sl, w->cand, nq, 0);
    return deterrent_target(nq, nc, w->cand, &NX(A5_N_POLICY, 0), lane_of(ss, C_U0),
                            lane_of(ss, C_U1), lane_of(ss, C_U2), lane_of(ss, S_TMP));
}

/* The peer weights of nq nations (nation idx[q], or q without idx) into their
 * lanes of C_G0..C_G2, with the influences g'. */
static void peer_lanes(const strat_step *ss, const int *idx, int nq)
{
    const a5_model *m = ss->m;
    const a5_work *w = ss->w;
    const double *x = ss->x;
    const int n = ss->n;
    double *G[3] = {lane_of(ss, C_G0), lane_of(ss, C_G1), lane_of(ss, C_G2)};
    for (int q = 0; q < nq; q++) {
        const int i = idx ? idx[q] : q;
        double V[3] = {0, 0, 0};
        if (ss->peers)
            a5_peer_weights(m->bloc_idx + m->bloc_off[i], m->bloc_off[i + 1] - m->bloc_off[i],
                            w->M, w->T, (int)NX(A5_N_POLICY, i), w->geff[i], x[A5_G_BASE_TIE], V);
        for (int k = 0; k < 3; k++)
            G[k][i] = V[k];
    }
}

/* wavering: the reviewers (packed into w->reviewers; returns how many) and their
 * decisions, from the utilities of the candidates for the US's target (w->cand,
 * w->ncand): the reviewers and the nations neither banning nor at the pressure
 * ceiling (the others are not in E(t) whatever the draws), their utilities in
 * C_U0..C_U2 in that order. */
static int wavering_decide(const strat_step *ss, const strat_lanes *sl, const double *review)
{
    const double *x = ss->x;
    a5_work *w = ss->w;
    const int n = ss->n;
    const double *pol = &NX(A5_N_POLICY, 0), *P = &NX(A5_N_US_PRESSURE, 0),
                 pmax = x[A5_G_US_MAX_PRESSURE];
    int *cand = w->cand, *upos = w->upos, *idx = w->reviewers, nc = 0, nr = 0;
    for (int i = 0; i < n; i++) { /* appended without a branch, as decide's reviewers */
        const int rv = review[i] != 0;
        cand[nc] = i;
        idx[nr] = i;
        upos[nr] = nc;
        nc += rv | in_E(pol[i], P[i], pmax); /* K_i = s_i unless i reviews */
        nr += rv;
    }
    const size_t nq = a5_mod_pad(idx, nr);
    for (size_t q = (size_t)nr; q < nq; q++)
        upos[q] = 0; /* the reviewers' padding, as theirs */
    w->ncand = nc;
    decide_lanes(ss, sl, cand, a5_mod_pad(cand, nc), 0);
    pick_packed(ss->g.lambda, nq, idx, upos, lane_of(ss, C_U0), lane_of(ss, C_U1),
                lane_of(ss, C_U2), lane_of(ss, L_UC), lane_of(ss, C_PICK));
    return nr;
}

/* deterrent's flags of nations 0..n-1 into f: 1 where the nation reviews (and
 * rv: wavering takes the reviewers itself), 2 where it is one of China's targets
 * (every: all are) not banning, a candidate for the waverer: the packing loop
 * then reads ints (a deterrent run of B1: 3 % faster than comparing doubles in it). */
A5_VECTOR_CLONES static void det_flags(int n, int rv, int every, const double *restrict review,
                                       const double *restrict pol, const double *restrict tg,
                                       int *restrict f)
{
    for (int i = 0; i < n; i++)
        f[i] = (rv & (review[i] != 0)) | (((pol[i] != A5_BAN) & (every | (tg[i] != 0))) << 1);
}

/* The new policies K of the reviewing nations, from the review flags and choice
 * draws. Under wavering, the utilities of the nations that may be the US's
 * target are computed too (wavering_decide); under deterrent, China's waverer is
 * chosen first. Returns the waverer of deterrent (-1 for none or another
 * strategy); leaves each nation's R_i(k) of the decisions in S_R0..S_R2;
 * *movedp: whether a policy moved. */
static int decide(const strat_step *ss, const double *review, double *K, int *movedp)
{
    const double *x = ss->x;
    a5_work *w = ss->w;
    const int n = ss->n;
    const int wav = ss->us == A5_US_WAVERING, det = ss->cn == A5_CN_DETERRENT, all = wav || det;
    const double *pol = x + a5_param_nslot(A5_N_POLICY, 0, n),
                 *tg = x + a5_param_nslot(A5_N_CHINA_TARGET, 0, n);
    const int every = !ss->named; /* a local: the stores below are ints, as ss->named */
    int *idx = w->reviewers, *cand = w->cand, nrev = 0, nc = 0;
    /* The reviewers (wavering packs them with its candidates), and deterrent's
     * candidates for the waverer, China's targets not banning, in the same pass. */
    if (det)
        det_flags(n, !wav, every, review, pol, tg, w->flags);
    for (int i = 0; det && i < n; i++) {
        const int f = w->flags[i];
        idx[nrev] = i; /* appended without a branch: kept when i reviews */
        cand[nc] = i;  /* ... when i may waver */
        nrev += f & 1;
        nc += f >> 1;
    }
    for (int i = 0; !det && !wav && i < n; i++) {
        idx[nrev] = i;
        nrev += review[i] != 0;
    }
    const size_t nq = a5_mod_pad(idx, nrev); /* the extra lanes decide for nation 0, unused */
    /* Every nation's peer weights hold while no policy and no parameter moved. */
    if (!(all && w->sinfl && w->speer))
        peer_lanes(ss, all ? NULL : idx, all ? n : nrev);
    w->speer = all;
    strat_lanes sl;
    other_lanes(ss, &sl);
    int wv = -1;
    if (ss->cn == A5_CN_DETERRENT) {
        retaliation_lanes(ss, -1, 1);
        wv = waverer(ss, &sl, nc);
    }
    retaliation_lanes(ss, wv, 0);
    if (wav)
        nrev = wavering_decide(ss, &sl, review);
    else
        decide_lanes(ss, &sl, idx, nq, 1);
    const double *pick = lane_of(ss, C_PICK);
    memcpy(K, pol, (size_t)n * sizeof *K);
    int moved = 0; /* only a reviewer can move */
    for (int q = 0; q < nrev; q++) {
        moved |= pick[q] != pol[idx[q]];
        K[idx[q]] = pick[q];
    }
    *movedp = moved;
    return wv;
}

/* us.react: China's allocation of the step, A_i = phi(K_i) (R_i(K_i) - R_0), into
 * A (the US reacts to it next step), on the R_i(k) of the decisions. */
A5_VECTOR_CLONES static void cn_allocation_lane(int n, double psi, double R0,
                                                const double *restrict K,
                                                const double *restrict Ro,
                                                const double *restrict Rr,
                                                const double *restrict Rb, double *restrict A)
{
    for (int i = 0; i < n; i++) { /* R_i(K_i) selected from the three loads: no branch */
        const double k = K[i], ro = Ro[i], rr = Rr[i], rb = Rb[i];
        const double r = k == A5_OPEN ? ro : k == A5_RESTRICT ? rr : rb;
        A[i] = a5_option_of(k, 0, psi).phi * (r - R0);
    }
}

static void cn_allocation(const strat_step *ss, const double *K, double *A)
{
    const double *x = ss->x;
    cn_allocation_lane(ss->n, x[A5_G_RESTRICT_COMPLIANCE], x[A5_G_CHINA_RETALIATION], K,
                       lane_of(ss, S_R0), lane_of(ss, S_R1), lane_of(ss, S_R2), A);
}

/* output.record: the retaliation each nation bears at its new policy K_i,
 * phi(K_i) R_i(K_i) (on the R_i(k) of the decisions, so before w->usl moves on),
 * and the nations China's strategy aims its budget at, when it has one (targeted:
 * its targets; deterrent: the waverer wv). */
static void record_china(const strat_step *ss, int wv, const double *K)
{
    const double *x = ss->x;
    a5_work *w = ss->w;
    const double *R[3] = {lane_of(ss, S_R0), lane_of(ss, S_R1), lane_of(ss, S_R2)};
    for (int i = 0; i < ss->n; i++) {
        if (ss->m->s->record & (A5_REC_RETALIATION | A5_REC_CUM_RETALIATION))
            w->rret[i] = a5_option_of(K[i], ss->g.kappa, ss->g.psi).phi * R[(int)K[i]][i];
        w->rct[i] = (int8_t)(!(x[A5_G_CHINA_BUDGET] > 0) ? 0 /* nothing to aim */
                             : ss->cn == A5_CN_TARGETED  ? cn_target(ss, i)
                             : ss->cn == A5_CN_DETERRENT ? i == wv
                                                         : 0);
    }
}

/* --- Order within a step (strategies on) ---------------------------------- */

/* Step 2 (a5_derive_step): D_i, natural shares, risk scales, R(t), g' and the
 * peer sums with them, kept by the cache rule (w->scache, w->sinfl); China's
 * targets; the globals of the step's decisions. */
A5_VECTOR_CLONES static void derive(strat_step *ss)
{
    const double *x = ss->x;
    a5_work *w = ss->w;
    const int n = ss->n;
    const double *pol = x + a5_param_nslot(A5_N_POLICY, 0, n),
                 *h = x + a5_param_nslot(A5_N_HIGH_RISK_SHARE, 0, n),
                 *tg = x + a5_param_nslot(A5_N_CHINA_TARGET, 0, n);
    /* The price response moves D_i with the shares every step; else they and the
     * natural shares and risk scales are those of the last step until an event. */
    const int price = x[A5_G_PRICE_RESPONSE] > 0 && x[A5_G_PRICE_BUDGET] > 0;
    ss->peers = x[A5_G_W_PEER] != 0;
    /* R(t), the counts and g' while a policy or a parameter moved since the last step */
    const int parts = (w->sinfl ? 0 : A5_DERIVE_POLICIES) |
                      (!w->scache || price ? A5_DERIVE_PRICES : 0);
    a5_derive_step(ss->m->s, x, pol, h, parts, &w->sdv, w->sD, w->sxn, w->srsk,
                   w->sinfl ? NULL : w->geff);
    const a5_derived d = w->sdv;
    if (!w->sinfl && ss->peers)
        a5_mod_peer_sums(ss->m, w->geff, pol, w);
    if (!w->scache) { /* the decisions read the attributes from lanes, as the plain step's */
        a5_mod_input_lanes(ss->m, x, w);
        w->snamed = 0;
        for (int i = 0; i < n; i++)
            w->snamed += tg[i] != 0;
    }
    ss->named = w->snamed;
    if (!w->sinfl) {
        int nrT = 0, nbT = 0;
        for (int i = 0; ss->named && i < n; i++) {
            nrT += pol[i] == A5_RESTRICT && tg[i] != 0;
            nbT += pol[i] == A5_BAN && tg[i] != 0;
        }
        w->snrT = ss->named ? nrT : d.nr; /* no target named: every nation is one */
        w->snbT = ss->named ? nbT : d.nb;
    }
    ss->nrT = w->snrT;
    ss->nbT = w->snbT;
    ss->R = d.R;
    double usum = 0; /* china.react: the US's Delta P_j(t-1) over China's targets */
    if (ss->cn != A5_CN_AGGREGATE && x[A5_G_CHINA_REACT] > 0)
        for (int i = 0; i < n; i++) { /* in nation order, as a local */
            const double u = w->usl[i];
            usum += cn_target(ss, i) ? u : 0;
        }
    ss->usum = usum;
    a5_globals_of(x, &d, &ss->g);
}

/* The new policies K and shares h of nations 0..n-1 into the records rpol, rh. */
A5_VECTOR_CLONES static void record_state(int n, const double *restrict K,
                                          const double *restrict h, int8_t *restrict rpol,
                                          float *restrict rh)
{
    for (int i = 0; i < n; i++) /* one type per loop: each vectorises */
        rpol[i] = (int8_t)(int)K[i];
    for (int i = 0; i < n; i++)
        rh[i] = (float)h[i];
}

void a5_mod_step_strategic(const a5_model *m, double *x, int t, const a5_rng_state *rs,
                           a5_work *w, double *cost, double *risk, int8_t *rpol, float *rh)
{
    const int n = m->n;
    strat_step ss = {.m = m, .x = x, .w = w, .n = n};
    ss.us = (int)(x[A5_G_US_STRATEGY] + 0.5);
    ss.cn = (int)(x[A5_G_CHINA_STRATEGY] + 0.5);
    ss.Bt = 0;
    if (ss.us != A5_US_SCHEDULE) { /* B(t) from B(t - 1) while B_0 and the growth hold */
        const double B0 = x[A5_G_US_BUDGET], gr = x[A5_G_US_BUDGET_GROWTH];
        const int next = t > 0 && w->sbt == t - 1 && w->sb0 == B0 && w->sbg == gr;
        ss.Bt = next ? w->sbB * (1 + gr) : a5_us_budget(B0, gr, t);
        w->sbt = t;
        w->sb0 = B0;
        w->sbg = gr;
        w->sbB = ss.Bt;
    } else
        w->sbt = -1;
    derive(&ss);
    double *K = w->lane + L_K * w->np;
    int moved;
    const int wv = decide(&ss, w->lane + L_REVIEW * w->np, K, &moved);
    if (x[A5_G_US_REACT] > 0) /* on the R_i(k) of the decisions (w->usl of t - 1) */
        cn_allocation(&ss, K, w->ties);
    if (m->s->record)
        record_china(&ss, wv, K);
    for (int i = 0; (m->s->record & A5_REC_CUM_DOWNGRADE) && i < n; i++) /* in force at X(t) */
        w->rdown[i] = lane_of(&ss, S_ST)[i] == 2 ? x[A5_G_LEVER_DOWNGRADE] * NX(A5_N_INTEL, i) : 0;
    update_state(&ss, K, cost, risk); /* reads w->cnl of t - 1, writes w->usl of t */
    for (int i = 0; (m->s->record & A5_REC_US_TARGET) && i < n; i++)
        w->rut[i] = ss.us != A5_US_SCHEDULE && w->usl[i] > 0;
    if (x[A5_G_US_REACT] > 0)
        memcpy(w->cnl, w->ties, (size_t)n * sizeof *w->cnl);
    else
        memset(w->cnl, 0, (size_t)n * sizeof *w->cnl);
    if (x[A5_G_LEVER_DOWNGRADE] > 0)
        lever_transitions(&ss, K, t, rs);
    double *pol = x + a5_param_nslot(A5_N_POLICY, 0, n);
    const double *h = x + a5_param_nslot(A5_N_HIGH_RISK_SHARE, 0, n);
    memcpy(pol, K, (size_t)n * sizeof *pol);
    record_state(n, K, h, rpol, rh);
    w->scache = 1;
    w->sinfl = moved == 0;
}
