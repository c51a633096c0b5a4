/* The kernel's strategic step (docs/model.md, "Strategic actors"): the rest of a
 * step with a strategic actor on, after the events, written plainly on x (a
 * nation at a time, every term evaluated), as docs/model.md orders it. The
 * equations are in model_terms.h; model.c runs this step when a strategic
 * setting is on, the vectorised step otherwise. */
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
    int nr, nb;  /* nations restricting, banning at X(t) */
    int named;   /* nations named as China's targets (china_target); 0: every nation is one */
    int nrT, nbT; /* China's targets restricting, banning at X(t) */
    double D, R; /* price advantage without the price response, retaliation R(t) */
    double usum; /* china.react: sum over China's targets of the US's Delta P_j(t-1) */
    double Bt;   /* the US budget B(t) (0 under schedule), for the anticipation */
    a5_globals g;
} strat_step;

/* Nation i's inputs, the peer shares (with the influences g') included. */
static void nation_in(const strat_step *ss, int i, a5_nation_in *v)
{
    const a5_model *m = ss->m;
    const a5_work *w = ss->w;
    const double *x = ss->x;
    const int n = ss->n;
    *v = (a5_nation_in){.s = NX(A5_N_POLICY, i), .h = NX(A5_N_HIGH_RISK_SHARE, i),
                        .P = NX(A5_N_US_PRESSURE, i), .xn = w->sxn[i], .rsk = w->srsk[i],
                        .rm = w->lane[L_RM * w->np + (size_t)i]};
#define A5_LOAD_I(name, attr) v->name = NX(attr, i);
    A5_MODEL_NATION_INPUTS(A5_LOAD_I)
#undef A5_LOAD_I
    double V[3] = {0, 0, 0};
    if (ss->peers)
        a5_peer_weights(m->bloc_idx + m->bloc_off[i], m->bloc_off[i + 1] - m->bloc_off[i], w->M,
                        w->T, (int)v->s, w->geff[i], x[A5_G_BASE_TIE], V);
    a5_peer_shares(V[0], V[1], V[2], v->G);
}

/* --- US strategy ---------------------------------------------------------- */

/* Whether nation i is in E(t): not banning at the new policies K and below the
 * pressure ceiling, so pressure on it can still move it. */
static int pressable(const strat_step *ss, const double *K, int i)
{
    const double *x = ss->x;
    const int n = ss->n;
    return K[i] != A5_BAN && NX(A5_N_US_PRESSURE, i) < x[A5_G_US_MAX_PRESSURE];
}

/* The nation the budget of a targeted strategy goes to (pivotal: the largest
 * bloc leverage; wavering: the smallest gap U_i(K_i) - U_i(BAN) >= 0), -1 for
 * none; ne: the nations in E(t) (pressable). */
static int us_target(const strat_step *ss, const double *K, int *ne)
{
    const a5_model *m = ss->m;
    const a5_work *w = ss->w;
    const int n = ss->n;
    int target = -1;
    double best = HUGE_VAL, bestlev = -HUGE_VAL;
    *ne = 0;
    for (int i = 0; i < n; i++) {
        if (!pressable(ss, K, i))
            continue;
        (*ne)++;
        if (ss->us == A5_US_PIVOTAL) {
            const double tie = m->bloc_ties[i] + ss->x[A5_G_BASE_TIE] * (double)(n - 1);
            const double lev = a5_bloc_leverage(w->geff[i], tie);
            if (lev > bestlev) {
                bestlev = lev;
                target = i;
            }
        } else if (ss->us == A5_US_WAVERING) {
            const double gap = w->U[3 * i + (int)K[i]] - w->U[3 * i + A5_BAN];
            if (gap >= 0 && gap < best) {
                best = gap;
                target = i;
            }
        }
    }
    return target;
}

/* What the downgrades in force at X(t) cost the US this step: kappa delta sum
 * of d_i over the downgraded nations, in nation order. */
static double lever_cost(const strat_step *ss)
{
    const double *x = ss->x;
    const int n = ss->n;
    double c = 0;
    for (int i = 0; i < n; i++)
        if (ss->w->istat[i] == 2)
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

/* Cost, risk and installed base at the new policies K, and the pressure of step
 * 6 with the US strategy's Delta P_i. */
static void update_state(const strat_step *ss, const double *K, int t, double *cost,
                         double *risk)
{
    double *x = ss->x;
    a5_work *w = ss->w;
    const a5_globals *g = &ss->g;
    const int n = ss->n, us = ss->us;
    double Bt = us == A5_US_SCHEDULE
                    ? 0
                    : a5_us_budget(x[A5_G_US_BUDGET], x[A5_G_US_BUDGET_GROWTH], t);
    if (Bt > 0 && x[A5_G_LEVER_US_COST] > 0) /* downgrades in force cost the US */
        Bt = a5_us_budget_left(Bt, lever_cost(ss));
    int ne;
    const int target = us_target(ss, K, &ne);
    double csum = 0; /* us.react: sum over E(t) of China's A_j(t-1) */
    for (int i = 0; us != A5_US_SCHEDULE && x[A5_G_US_REACT] > 0 && i < n; i++)
        csum += pressable(ss, K, i) ? w->cnl[i] : 0;
    const int react = csum > 0;
    const double esc = x[A5_G_US_ESCALATION], pmax = x[A5_G_US_MAX_PRESSURE];
    /* No nation's pressure below reads a share: the shares first, all at once. */
    update_shares(g, n, K, w->sD, w->sxn, w->srsk, &NX(A5_N_COST_SENSITIVITY, 0),
                  &NX(A5_N_HIGH_RISK_SHARE, 0), x[A5_G_RENEWAL], x[A5_G_PHASE_OUT_STEPS], cost,
                  risk);
    for (int i = 0; i < n; i++) {
        const a5_option o = a5_option_of(K[i], g->kappa, g->psi);
        double dP = 0;
        if (us == A5_US_SCHEDULE)
            dP = esc * (1 - o.phi);
        else if (us == A5_US_UNIFORM)
            dP = pressable(ss, K, i) ? Bt / ne : 0; /* P_i not yet moved */
        else
            dP = i == target ? Bt : 0;
        if (react) /* a share W_US toward the nations China retaliated against */
            dP = a5_react(x[A5_G_US_REACT], dP, Bt, pressable(ss, K, i) ? w->cnl[i] : 0, csum);
        w->usl[i] = dP;
        NX(A5_N_US_PRESSURE, i) = a5_pressure_add(NX(A5_N_US_PRESSURE, i), dP, pmax);
    }
}

/* --- Intelligence lever --------------------------------------------------- */

/* Target i's credibility theta_i(t): theta_L(t), or theta_L(t) + o_i within
 * [0, 1] under credibility_scope nation. */
static double lever_credibility(const strat_step *ss, int i)
{
    const double thL = ss->x[A5_G_LEVER_CREDIBILITY];
    return (int)(ss->x[A5_G_LEVER_SCOPE] + 0.5) == A5_SCOPE_NATION
               ? a5_lever_credibility(thL, ss->w->icred[i])
               : thL;
}

/* Rule 3 under threats_per_step M > 0: of the candidates (status -1), the M with
 * the largest d_i (ties to the lowest index) are threatened, the rest stay none. */
static void lever_stagger(const strat_step *ss, int t)
{
    const double *x = ss->x;
    a5_work *w = ss->w;
    const int n = ss->n;
    for (int m = (int)x[A5_G_LEVER_THREATS]; m > 0; m--) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (w->istat[i] == -1 && (best < 0 || NX(A5_N_INTEL, i) > NX(A5_N_INTEL, best)))
                best = i;
        if (best < 0)
            break;
        w->istat[best] = 1;
        w->idue[best] = t + 1 + (int)x[A5_G_LEVER_LEAD];
    }
    for (int i = 0; i < n; i++)
        if (w->istat[i] == -1)
            w->istat[i] = 0;
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
    int fails = 0, wins = 0;
    for (int i = 0; i < ss->n; i++) {
        const int st = w->istat[i];
        int ns = st;
        if (st == 1 && w->idue[i] <= t + 1) {
            ns = 0;
            if (K[i] == A5_OPEN) {
                const double th = lever_credibility(ss, i);
                const int done = a5_side_uniform(rs->key, rs->ctr[2], rs->ctr[3], t, i) < th;
                if (done) {
                    ns = 2;
                    w->idue[i] = t + 1 + (int)x[A5_G_LEVER_DURATION];
                }
                fails += !done;
                wins += done;
                if (pern) /* theta_i moves by +g_L or -l, within [0, 1] */
                    w->icred[i] = a5_lever_credibility(th, done ? gain : -loss) - thL;
            }
        } else if (st == 2 && (w->idue[i] <= t + 1 || K[i] != A5_OPEN))
            ns = 0; /* over, or ended by complying */
        if (st == 0 && K[i] == A5_OPEN) {
            ns = limit ? -1 : 1; /* -1: a candidate for lever_stagger */
            w->idue[i] = t + 1 + (int)x[A5_G_LEVER_LEAD];
        }
        w->istat[i] = (int8_t)ns;
    }
    if (limit)
        lever_stagger(ss, t);
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
    return !ss->named || NX(A5_N_CHINA_TARGET, i) != 0;
}

/* Nation i's strategic inputs (the R_i(k) of deterrent for the waverer wv, -1 for
 * none; R0only: every R_i(k) = R_0, the utilities w is chosen from). */
static void strat_in(const strat_step *ss, int i, int wv, int R0only, double Phim,
                     a5_strat_in *sv)
{
    const double *x = ss->x;
    const a5_work *w = ss->w;
    const int n = ss->n;
    const double R0 = x[A5_G_CHINA_RETALIATION], B = x[A5_G_CHINA_BUDGET],
                 psi = x[A5_G_RESTRICT_COMPLIANCE];
    sv->D = w->sD[i];
    a5_lever_terms(w->istat[i], NX(A5_N_INTEL, i), x[A5_G_LEVER_DOWNGRADE],
                   lever_credibility(ss, i), &sv->intel, &sv->lam);
    const int H = (int)x[A5_G_ANT_HORIZON];
    for (int k = 0; k < 3; k++) {
        const double phik = k == 0 ? 0.0 : k == 1 ? psi : 1.0;
        const double eps = ss->us == A5_US_SCHEDULE ? x[A5_G_US_ESCALATION] * (1 - phik)
                                                    : (k != A5_BAN) * ss->Bt / n;
        sv->ant[k] = H > 0 ? a5_anticipation(H, x[A5_G_ANT_DISCOUNT], NX(A5_N_US_TIES, i), phik,
                                             NX(A5_N_US_PRESSURE, i),
                                             x[A5_G_US_MAX_PRESSURE], eps)
                           : 0;
        if (R0only)
            sv->R[k] = R0;
        else if (ss->cn == A5_CN_TARGETED)
            sv->R[k] = cn_target(ss, i) ? a5_retaliation_targeted(R0, B, phik, Phim) : R0;
        else if (ss->cn == A5_CN_DETERRENT)
            sv->R[k] = i == wv ? R0 + B : R0;
        else
            sv->R[k] = ss->R;
        if (!R0only && ss->usum > 0) /* a share W_CN toward the nations the US pressed */
            sv->R[k] = R0 + a5_react(x[A5_G_CHINA_REACT], sv->R[k] - R0, B,
                                     cn_target(ss, i) ? w->usl[i] : 0, ss->usum);
    }
}

/* Phi_-i over China's targets, from the policies at X(t). */
static double phi_others(const strat_step *ss, int i)
{
    const double *x = ss->x;
    const int n = ss->n;
    const double pol = NX(A5_N_POLICY, i);
    const int own = cn_target(ss, i);
    return (ss->nrT - (own && pol == A5_RESTRICT)) * x[A5_G_RESTRICT_COMPLIANCE] +
           (ss->nbT - (own && pol == A5_BAN));
}

/* us.react: China's allocation of the step, A_i = phi(K_i) (R_i(K_i) - R_0), into
 * A (the US reacts to it next step). */
static void cn_allocation(const strat_step *ss, int wv, const double *K, double *A)
{
    const double *x = ss->x;
    for (int i = 0; i < ss->n; i++) {
        a5_strat_in sv;
        strat_in(ss, i, wv, 0, phi_others(ss, i), &sv);
        const int k = (int)K[i];
        const double phik = k == 0 ? 0.0 : k == 1 ? x[A5_G_RESTRICT_COMPLIANCE] : 1.0;
        A[i] = phik * (sv.R[k] - x[A5_G_CHINA_RETALIATION]);
    }
}

/* output.record: the retaliation each nation bears at its new policy K_i,
 * phi(K_i) R_i(K_i) (on the R_i(k) of the decisions, so before w->usl moves on),
 * and the nations China's strategy aims its budget at, when it has one (targeted:
 * its targets; deterrent: the waverer wv). */
static void record_china(const strat_step *ss, int wv, const double *K)
{
    const double *x = ss->x;
    a5_work *w = ss->w;
    for (int i = 0; i < ss->n; i++) {
        if (ss->m->s->record & (A5_REC_RETALIATION | A5_REC_CUM_RETALIATION)) {
            a5_strat_in sv;
            strat_in(ss, i, wv, 0, phi_others(ss, i), &sv);
            w->rret[i] = a5_option_of(K[i], ss->g.kappa, ss->g.psi).phi * sv.R[(int)K[i]];
        }
        w->rct[i] = (int8_t)(!(x[A5_G_CHINA_BUDGET] > 0) ? 0 /* nothing to aim */
                             : ss->cn == A5_CN_TARGETED  ? cn_target(ss, i)
                             : ss->cn == A5_CN_DETERRENT ? i == wv
                                                         : 0);
    }
}

/* deterrent: the waverer, from the utilities with R_i = R_0 for all; -1 for none. */
static int waverer(const strat_step *ss)
{
    const double *x = ss->x;
    const int n = ss->n;
    int wv = -1;
    double best = HUGE_VAL;
    for (int i = 0; i < n; i++) {
        if (NX(A5_N_POLICY, i) == A5_BAN || !cn_target(ss, i))
            continue;
        a5_nation_in v;
        a5_strat_in sv;
        nation_in(ss, i, &v);
        strat_in(ss, i, -1, 1, 0, &sv);
        const double gap = a5_utility_s(&ss->g, &v, &sv, (int)v.s, 1) -
                           a5_utility_s(&ss->g, &v, &sv, A5_BAN, 1);
        if (gap >= 0 && gap < best) {
            best = gap;
            wv = i;
        }
    }
    return wv;
}

/* The new policies K of the reviewing nations (every nation's utilities into
 * w->U when wavering is on), from the review flags and choice draws. */
static void decide(const strat_step *ss, int wv, const double *review, const double *uc,
                   double *K)
{
    const double *x = ss->x;
    a5_work *w = ss->w;
    const int n = ss->n;
    for (int i = 0; i < n; i++) {
        const double pol = NX(A5_N_POLICY, i);
        K[i] = pol;
        if (!review[i] && ss->us != A5_US_WAVERING)
            continue;
        a5_nation_in v;
        a5_strat_in sv;
        nation_in(ss, i, &v);
        strat_in(ss, i, wv, 0, phi_others(ss, i), &sv);
        double e[3];
        for (int k = 0; k < 3; k++)
            w->U[3 * i + k] = a5_utility_s(&ss->g, &v, &sv, k, 1);
        if (review[i])
            K[i] = a5_pick(uc[i], e, a5_softmax3(ss->g.lambda, w->U + 3 * i, e));
    }
}

/* --- Vendor price response ------------------------------------------------ */

/* Each nation's price advantage D_i into w->sD (D itself when the price response
 * is off); returns D. */
static double price_advantages(const strat_step *ss)
{
    const a5_scenario *s = ss->m->s;
    const double *x = ss->x;
    a5_work *w = ss->w;
    const int n = ss->n;
    double ph = HUGE_VAL, pa = HUGE_VAL;
    for (int v = 0; v < s->nvendors; v++) {
        const double price = x[a5_param_vslot(v, n)];
        if (s->vendor_high_risk[v])
            ph = price < ph ? price : ph;
        else
            pa = price < pa ? price : pa;
    }
    double D = (pa - ph) / pa;
    D = D > 0 ? D : 0;
    const int price = x[A5_G_PRICE_RESPONSE] > 0 && x[A5_G_PRICE_BUDGET] > 0;
    double hsum = 0;
    for (int i = 0; i < n; i++)
        hsum += NX(A5_N_POLICY, i) != A5_BAN ? NX(A5_N_HIGH_RISK_SHARE, i) : 0;
    for (int i = 0; i < n; i++) {
        double disc = 0;
        if (price && NX(A5_N_POLICY, i) != A5_BAN)
            disc = a5_discount(x[A5_G_PRICE_RESPONSE], x[A5_G_PRICE_BUDGET],
                               NX(A5_N_HIGH_RISK_SHARE, i), hsum);
        w->sD[i] = price ? a5_price_advantage(pa, ph, disc) : D;
    }
    return D;
}

/* --- Demonstration effect ------------------------------------------------- */

/* The influences g' into w->geff and the peer sums with them, in nation order. */
static void influences(const strat_step *ss)
{
    const a5_model *m = ss->m;
    const double *x = ss->x;
    a5_work *w = ss->w;
    const int n = ss->n;
    const double eta = x[A5_G_INTEL_STANDING];
    for (int i = 0; i < n; i++)
        w->geff[i] = a5_influence(NX(A5_N_INFLUENCE, i), eta, NX(A5_N_INTEL, i),
                                  NX(A5_N_POLICY, i));
    memset(w->M, 0, (size_t)m->nblocs * 3 * sizeof *w->M);
    w->T[0] = w->T[1] = w->T[2] = 0;
    for (int j = 0; j < n; j++) {
        const int k = (int)NX(A5_N_POLICY, j);
        w->T[k] += w->geff[j];
        for (int q = m->bloc_off[j]; q < m->bloc_off[j + 1]; q++)
            w->M[3 * m->bloc_idx[q] + k] += w->geff[j];
    }
}

/* --- Order within a step (strategies on) ---------------------------------- */

/* Derived quantities: D_i, natural shares, risk scales, g', R(t) and the
 * globals of the step's decisions. */
static void derive(strat_step *ss)
{
    const double *x = ss->x;
    a5_work *w = ss->w;
    const int n = ss->n;
    const double gamma = x[A5_G_PRICE_ELASTICITY], sigma = x[A5_G_SUPPLY_RISK],
                 omega = x[A5_G_OPERATOR_RISK_WEIGHT], psi = x[A5_G_RESTRICT_COMPLIANCE];
    /* The price response moves D_i with the shares every step; else they and the
     * natural shares and risk scales are those of the last step until an event. */
    const int price = x[A5_G_PRICE_RESPONSE] > 0 && x[A5_G_PRICE_BUDGET] > 0;
    if (!w->scache || price) {
        ss->D = w->sDD = price_advantages(ss);
        for (int i = 0; i < n; i++) {
            w->sxn[i] = a5_natural_share(gamma, w->sD[i], sigma, omega, NX(A5_N_THREAT, i));
            w->srsk[i] = a5_risk_scale(NX(A5_N_THREAT, i), sigma, NX(A5_N_MITIGATION, i));
        }
    } else
        ss->D = w->sDD;
    if (!w->scache) {
        w->snamed = 0;
        for (int i = 0; i < n; i++)
            w->snamed += NX(A5_N_CHINA_TARGET, i) != 0;
    }
    ss->named = w->snamed;
    ss->nr = ss->nb = ss->nrT = ss->nbT = 0;
    for (int i = 0; i < n; i++) {
        const double pol = NX(A5_N_POLICY, i);
        ss->nrT += pol == A5_RESTRICT && cn_target(ss, i);
        ss->nbT += pol == A5_BAN && cn_target(ss, i);
        ss->nr += pol == A5_RESTRICT;
        ss->nb += pol == A5_BAN;
    }
    ss->R = x[A5_G_CHINA_RETALIATION] +
            x[A5_G_CHINA_ESCALATION] * ((ss->nr * psi + ss->nb) / n);
    ss->usum = 0; /* china.react: the US's Delta P_j(t-1) over China's targets */
    for (int i = 0; ss->cn != A5_CN_AGGREGATE && x[A5_G_CHINA_REACT] > 0 && i < n; i++)
        ss->usum += cn_target(ss, i) ? w->usl[i] : 0;
    ss->peers = x[A5_G_W_PEER] != 0;
    if (!w->sinfl) /* else no policy and no parameter moved since they were summed */
        influences(ss);
    a5_globals_of(x, ss->D, ss->R, &ss->g);
}

void a5_mod_step_strategic(const a5_model *m, double *x, int t, const a5_rng_state *rs,
                           a5_work *w, double *cost, double *risk, int8_t *rpol, float *rh)
{
    const int n = m->n;
    strat_step ss = {.m = m, .x = x, .w = w, .n = n};
    ss.us = (int)(x[A5_G_US_STRATEGY] + 0.5);
    ss.cn = (int)(x[A5_G_CHINA_STRATEGY] + 0.5);
    ss.Bt = ss.us == A5_US_SCHEDULE
                ? 0
                : a5_us_budget(x[A5_G_US_BUDGET], x[A5_G_US_BUDGET_GROWTH], t);
    derive(&ss);
    const int wv = ss.cn == A5_CN_DETERRENT ? waverer(&ss) : -1;
    double *K = w->lane + L_K * w->np;
    decide(&ss, wv, w->lane + L_REVIEW * w->np, w->lane + L_UC * w->np, K);
    if (x[A5_G_US_REACT] > 0) /* on the R_i(k) of the decisions (w->usl of t - 1) */
        cn_allocation(&ss, wv, K, w->ties);
    if (m->s->record)
        record_china(&ss, wv, K);
    for (int i = 0; (m->s->record & A5_REC_CUM_DOWNGRADE) && i < n; i++) /* in force at X(t) */
        w->rdown[i] = w->istat[i] == 2 ? x[A5_G_LEVER_DOWNGRADE] * NX(A5_N_INTEL, i) : 0;
    update_state(&ss, K, t, cost, risk); /* reads w->cnl of t - 1, writes w->usl of t */
    for (int i = 0; (m->s->record & A5_REC_US_TARGET) && i < n; i++)
        w->rut[i] = ss.us != A5_US_SCHEDULE && w->usl[i] > 0;
    if (x[A5_G_US_REACT] > 0)
        memcpy(w->cnl, w->ties, (size_t)n * sizeof *w->cnl);
    else
        memset(w->cnl, 0, (size_t)n * sizeof *w->cnl);
    if (x[A5_G_LEVER_DOWNGRADE] > 0)
        lever_transitions(&ss, K, t, rs);
    int moved = 0;
    for (int i = 0; i < n; i++) {
        moved |= NX(A5_N_POLICY, i) != K[i];
        NX(A5_N_POLICY, i) = K[i];
        rpol[i] = (int8_t)(int)K[i];
        rh[i] = (float)NX(A5_N_HIGH_RISK_SHARE, i);
    }
    w->scache = 1;
    w->sinfl = !moved;
}
