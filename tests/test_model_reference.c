/* The plain scalar reference step of docs/model.md, and the fast kernel checked
 * against it bit for bit over many random worlds and steps.
 *
 * a5_model_step_reference below is the model as a reader would write it from
 * docs/model.md: one nation at a time, nothing cached, every utility term
 * evaluated (also those that are exactly 0), random words taken one by one. It
 * calls the equations of sim/model_terms.h, the ones the kernel calls, so what
 * this test checks is everything around them: events, caching of terms until
 * their inputs change, the peer sums by bloc, the packing of the reviewing
 * nations into vectors, the terms the kernel leaves out at OPEN and BAN, the
 * order of random words. The state (policies, shares, pressures) and the sums of
 * cost and risk are compared, so a slip in a utility shows once it changes a
 * choice (a 1 % change in one peer weight does, within these worlds); the
 * utilities with and without the exactly-0 terms are compared value for value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_model.h"
#include "model_terms.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void apply_event(const a5_event *e, double *x)
{
    for (size_t o = 0; o < e->nops; o++) {
        const a5_event_op *op = &e->ops[o];
        for (size_t q = 0; q < op->target.nslots; q++) {
            const size_t slot = op->target.slots[q];
            const double v = op->op == A5_OP_SET ? op->value : x[slot] + op->value;
            x[slot] = a5_param_clamp(op->target.param, v);
        }
    }
}

/* The intelligence lever's state of a replicate (docs/model.md, "Intelligence
 * lever"): status 0 none, 1 threatened, 2 downgraded, and the due step. */
typedef struct {
    int st[64], due[64];
    double mark[64], mpol[64]; /* reversal cost: h^0_i and the policy it was taken at */
    double off[64];            /* o_i: target i's credibility offset (scope nation) */
    double usl[64], cnl[64];   /* the US's Delta P_i, China's A_i of the last step */
} ref_lever;

/* theta_i(t): theta_L(t), or theta_L(t) + o_i within [0, 1] under scope nation. */
static double ref_cred(const double *x, const ref_lever *lv, int i)
{
    if (lround(x[A5_G_LEVER_SCOPE]) != A5_SCOPE_NATION)
        return x[A5_G_LEVER_CREDIBILITY];
    return fmin(1, fmax(0, x[A5_G_LEVER_CREDIBILITY] + lv->off[i]));
}

static double phi_of(double k, double psi) { return k == 0 ? 0.0 : k == 1 ? psi : 1.0; }

/* One step t of docs/model.md on the parameter vector x of scenario s, in place;
 * adds each nation's C_i and S_i at its new policy to cost[i] and risk[i]. With
 * a strategic actor on, the section "Strategic actors" as written there. */
static void a5_model_step_reference(const a5_scenario *s, double *x, int t, a5_rng_state *rs,
                                    double *cost, double *risk, ref_lever *lv)
{
    const int n = s->n;
#define NX(attr, i) x[a5_param_nslot(attr, i, n)]
    /* 1. Events: scheduled ones at t in file order, then each hazard event that
     *    fires; every hazard event's uniform is drawn, fired or not. */
    double *uh = calloc(s->nevents + 1, sizeof *uh);
    for (size_t e = 0; e < s->nevents; e++)
        if (s->events[e].at < 0)
            uh[e] = a5_rng_uniform(rs);
    for (size_t e = 0; e < s->nevents; e++)
        if (s->events[e].at == t)
            apply_event(&s->events[e], x);
    for (size_t e = 0; e < s->nevents; e++)
        if (s->events[e].at < 0 && uh[e] < s->events[e].hazard)
            apply_event(&s->events[e], x);
    free(uh);
    /* Reversal cost: V_i, the share removed since the policy took force (its h at
     * the start of its first step in force, after that step's events). */
    double *rm = calloc((size_t)n, sizeof *rm);
    for (int i = 0; i < n; i++) {
        if (t == 0 || NX(A5_N_POLICY, i) != lv->mpol[i]) {
            lv->mark[i] = NX(A5_N_HIGH_RISK_SHARE, i);
            lv->mpol[i] = NX(A5_N_POLICY, i);
        }
        rm[i] = a5_removed(lv->mark[i], NX(A5_N_HIGH_RISK_SHARE, i));
    }
    /* Timing: a(t) and the windows raise the review rates. */
    const double att = a5_attention(s->att_step, s->att_salience, s->nattention,
                                    x[A5_G_ATTENTION_WEIGHT], x[A5_G_ATTENTION_DECAY], t);
    const int us = (int)lround(x[A5_G_US_STRATEGY]), cn = (int)lround(x[A5_G_CHINA_STRATEGY]);
    const double delta = x[A5_G_LEVER_DOWNGRADE], eta = x[A5_G_INTEL_STANDING];
    const int price = x[A5_G_PRICE_RESPONSE] > 0 && x[A5_G_PRICE_BUDGET] > 0;
    const int strategic =
        us != 0 || cn != 0 || delta > 0 || eta != 0 || price || x[A5_G_ANT_HORIZON] > 0;
    if (!(delta > 0)) /* the lever off: no threat or downgrade stands */
        memset(lv->st, 0, sizeof lv->st); /* (mark, mpol: the reversal cost's, kept) */
    if (!strategic) { /* nothing to react to after a step without strategic actors */
        memset(lv->usl, 0, sizeof lv->usl);
        memset(lv->cnl, 0, sizeof lv->cnl);
    }

    /* 2. Price advantage D (D_i under the vendor's price response), natural shares,
     *    risk scales, R(t) = retaliation + escalation * mean phi(s_j) and the
     *    influences g_j' = g_j (1 + eta d_j) of the nations that have moved: the
     *    model's one function for these (a5_derive_step), on arrays of X(t). */
    double *pol = calloc((size_t)n, sizeof *pol), *hh = calloc((size_t)n, sizeof *hh);
    for (int i = 0; i < n; i++) {
        pol[i] = NX(A5_N_POLICY, i);
        hh[i] = NX(A5_N_HIGH_RISK_SHARE, i);
    }
    double *Di = calloc((size_t)n, sizeof *Di), *xn = calloc((size_t)n, sizeof *xn),
           *rsk = calloc((size_t)n, sizeof *rsk), *gq = calloc((size_t)n, sizeof *gq);
    a5_derived dv;
    a5_derive_step(s, x, pol, hh, A5_DERIVE_PRICES | A5_DERIVE_POLICIES, &dv, Di, xn, rsk,
                   strategic ? gq : NULL);
    for (int j = 0; !strategic && j < n; j++)
        gq[j] = NX(A5_N_INFLUENCE, j);
    free(pol);
    free(hh);
    const double R = dv.R, psi = x[A5_G_RESTRICT_COMPLIANCE];
    /* Peer sums: M[b][k] = sum of g_j [s_j = k] over bloc b's members, T[k] over
     * everyone, each in nation order. */
    double *M = calloc(3 * (size_t)s->nblocs + 1, sizeof *M), T[3] = {0, 0, 0};
    for (int j = 0; j < n; j++) {
        const int k = (int)NX(A5_N_POLICY, j);
        T[k] += gq[j];
        for (int q = s->bloc_off[j]; q < s->bloc_off[j + 1]; q++)
            M[3 * s->bloc_idx[q] + k] += gq[j];
    }

    /* China's targets T: the nations named (china_target), or every nation. */
    int named = 0, *inT = calloc((size_t)n, sizeof *inT);
    for (int i = 0; i < n; i++)
        named += NX(A5_N_CHINA_TARGET, i) != 0;
    for (int i = 0; i < n; i++)
        inT[i] = !named || NX(A5_N_CHINA_TARGET, i) != 0;

    /* 3. Decisions, all on X(t). */
    a5_globals g;
    a5_globals_of(x, &dv, &g);
    a5_nation_in *v = calloc((size_t)n, sizeof *v);
    a5_strat_in *sv = calloc((size_t)n, sizeof *sv);
    for (int i = 0; i < n; i++) {
        v[i] = (a5_nation_in){.s = NX(A5_N_POLICY, i), .h = NX(A5_N_HIGH_RISK_SHARE, i),
                              .P = NX(A5_N_US_PRESSURE, i), .xn = xn[i], .rsk = rsk[i],
                              .rm = rm[i]};
#define A5_LOAD(name, attr) v[i].name = NX(attr, i);
        A5_MODEL_NATION_INPUTS(A5_LOAD)
#undef A5_LOAD
        double V[3] = {0, 0, 0};
        if (x[A5_G_W_PEER] != 0 || !strategic)
            a5_peer_weights(s->bloc_idx + s->bloc_off[i], s->bloc_off[i + 1] - s->bloc_off[i], M,
                            T, (int)v[i].s, gq[i], x[A5_G_BASE_TIE], V);
        a5_peer_shares(V[0], V[1], V[2], v[i].G);
        sv[i].D = Di[i];
        sv[i].intel = NX(A5_N_INTEL, i);
        sv[i].lam = 0;
        if (lv->st[i] == 2)
            sv[i].intel = NX(A5_N_INTEL, i) * (1 - delta);
        if (lv->st[i] == 1)
            sv[i].lam = ref_cred(x, lv, i) * delta * NX(A5_N_INTEL, i);
        if (lv->st[i] == 2)
            sv[i].lam = delta * NX(A5_N_INTEL, i);
        for (int k = 0; k < 3; k++)
            sv[i].R[k] = cn == A5_CN_AGGREGATE ? R : x[A5_G_CHINA_RETALIATION];
        /* Anticipated escalation: a_i (1 - phi_k) sum_h d^h (min(Pmax, P + h eps_k) - P). */
        const int H = (int)x[A5_G_ANT_HORIZON];
        double B0 = x[A5_G_US_BUDGET];
        for (int q = 0; q < t; q++)
            B0 *= 1 + x[A5_G_US_BUDGET_GROWTH];
        for (int k = 0; k < 3 && H > 0; k++) {
            const double eps = us == A5_US_SCHEDULE ? x[A5_G_US_ESCALATION] * (1 - phi_of(k, psi))
                                                    : (k != A5_BAN) * B0 / n;
            double sum = 0, dh = 1;
            for (int h = 1; h <= H; h++) {
                dh *= x[A5_G_ANT_DISCOUNT];
                sum += dh * (fmin(NX(A5_N_US_PRESSURE, i) + h * eps, x[A5_G_US_MAX_PRESSURE]) -
                             NX(A5_N_US_PRESSURE, i));
            }
            sv[i].ant[k] = NX(A5_N_US_TIES, i) * (1 - phi_of(k, psi)) * sum;
        }
        if (cn == A5_CN_TARGETED && inT[i]) { /* Phi_-i over China's targets T */
            int nrT = 0, nbT = 0; /* counted as docs/model.md computes Phi_-i */
            for (int j = 0; j < n; j++) {
                nrT += j != i && inT[j] && NX(A5_N_POLICY, j) == A5_RESTRICT;
                nbT += j != i && inT[j] && NX(A5_N_POLICY, j) == A5_BAN;
            }
            const double Phim = nrT * psi + nbT;
            for (int k = 0; k < 3; k++)
                sv[i].R[k] = a5_retaliation_targeted(x[A5_G_CHINA_RETALIATION],
                                                     x[A5_G_CHINA_BUDGET], phi_of(k, psi), Phim);
        }
    }
    if (cn == A5_CN_DETERRENT) { /* the waverer, in the utilities with R_i = R_0 */
        int wv = -1;
        double best = HUGE_VAL;
        for (int i = 0; i < n; i++) {
            if (v[i].s == A5_BAN || !inT[i])
                continue;
            const double gap = a5_utility_s(&g, &v[i], &sv[i], (int)v[i].s, 0) -
                               a5_utility_s(&g, &v[i], &sv[i], A5_BAN, 0);
            if (gap >= 0 && gap < best) {
                best = gap;
                wv = i;
            }
        }
        if (wv >= 0)
            for (int k = 0; k < 3; k++)
                sv[wv].R[k] = x[A5_G_CHINA_RETALIATION] + x[A5_G_CHINA_BUDGET];
    }
    /* china.react: R_i(k) = R_0 + (1 - W)(R_i(k) - R_0) + W B_CN u_i / sum_T u_j. */
    double usum = 0;
    for (int i = 0; cn != A5_CN_AGGREGATE && x[A5_G_CHINA_REACT] > 0 && i < n; i++)
        usum += inT[i] ? lv->usl[i] : 0;
    for (int i = 0; usum > 0 && i < n; i++)
        for (int k = 0; k < 3; k++) {
            const double R0 = x[A5_G_CHINA_RETALIATION], W = x[A5_G_CHINA_REACT];
            sv[i].R[k] = R0 + ((1 - W) * (sv[i].R[k] - R0) +
                               W * x[A5_G_CHINA_BUDGET] * ((inT[i] ? lv->usl[i] : 0) / usum));
        }
    double *K = calloc((size_t)n, sizeof *K), *U = calloc(3 * (size_t)n, sizeof *U);
    for (int i = 0; i < n; i++) {
        const int win = s->window && s->window[(size_t)t * (size_t)n + (size_t)i];
        const double u = a5_rng_uniform(rs),
                     rho = a5_review_rate(NX(A5_N_REVIEW_RATE, i),
                                          win ? x[A5_G_WINDOW_BOOST] : 0, att);
        K[i] = NX(A5_N_POLICY, i);
        for (int k = 0; k < 3; k++)
            U[3 * i + k] = strategic ? a5_utility_s(&g, &v[i], &sv[i], k, 0)
                                     : a5_utility(&g, &v[i], k, 0);
        if (!(u < rho))
            continue;
        const double c = fmin(u / rho, 0x1.fffffffffffffp-1); /* uniform on [0, 1) */
        K[i] = strategic ? a5_decide_s(&g, &v[i], &sv[i], c, 0) : a5_decide(&g, &v[i], c, 0);
    }

    /* The US budget's target (pivotal, wavering) among the nations not banning. */
    double Bt = x[A5_G_US_BUDGET];
    for (int q = 0; q < t; q++)
        Bt *= 1 + x[A5_G_US_BUDGET_GROWTH];
    if (Bt > 0 && x[A5_G_LEVER_US_COST] > 0) { /* downgrades in force at X(t) cost the US */
        double c = 0;
        for (int i = 0; i < n; i++)
            if (lv->st[i] == 2)
                c += x[A5_G_LEVER_US_COST] * delta * NX(A5_N_INTEL, i);
        Bt = fmax(0, Bt - c);
    }
    int ne = 0, target = -1;
    double best = 0, csum = 0;
    /* E(t): not banning, and below the ceiling at P_i(t). */
    int *inE = calloc((size_t)n, sizeof *inE);
    for (int i = 0; i < n; i++)
        inE[i] = K[i] != A5_BAN && NX(A5_N_US_PRESSURE, i) < x[A5_G_US_MAX_PRESSURE];
    for (int i = 0; i < n; i++) {
        if (!inE[i])
            continue;
        ne++;
        double key = 0;
        int ok = 1;
        if (us == A5_US_PIVOTAL) { /* g_i sum_{j != i} w_ij, counted pair by pair */
            double tie = 0;
            for (int j = 0; j < n; j++) {
                if (j == i)
                    continue;
                int shared = 0;
                for (int q = s->bloc_off[i]; q < s->bloc_off[i + 1]; q++)
                    for (int r2 = s->bloc_off[j]; r2 < s->bloc_off[j + 1]; r2++)
                        shared += s->bloc_idx[q] == s->bloc_idx[r2];
                tie += shared;
            }
            key = -(gq[i] * (tie + x[A5_G_BASE_TIE] * (n - 1)));
        } else if (us == A5_US_WAVERING) {
            key = U[3 * i + (int)K[i]] - U[3 * i + A5_BAN];
            ok = key >= 0;
        }
        if (ok && (target < 0 || key < best)) {
            best = key;
            target = i;
        }
    }

    for (int i = 0; us != A5_US_SCHEDULE && x[A5_G_US_REACT] > 0 && i < n; i++)
        csum += inE[i] ? lv->cnl[i] : 0;
    /* 4, 5, 6. Cost and risk at the new policy, installed base, pressure. */
    for (int i = 0; i < n; i++) {
        const a5_option o = a5_option_of(K[i], g.kappa, g.psi);
        const double h = NX(A5_N_HIGH_RISK_SHARE, i);
        cost[i] += a5_cost_at(Di[i], g.zeta, NX(A5_N_COST_SENSITIVITY, i), xn[i], h, o.cap);
        risk[i] += a5_risk(&g, rsk[i], xn[i], h, o);
        NX(A5_N_HIGH_RISK_SHARE, i) = a5_installed_base(h, xn[i], o.cap, x[A5_G_RENEWAL],
                                                         x[A5_G_PHASE_OUT_STEPS]);
        double dP = x[A5_G_US_ESCALATION] * (1 - o.phi);
        if (us == A5_US_UNIFORM)
            dP = inE[i] ? Bt / ne : 0;
        else if (us != A5_US_SCHEDULE)
            dP = i == target ? Bt : 0;
        if (csum > 0) { /* us.react: a share W toward the nations China retaliated against */
            const double W = x[A5_G_US_REACT];
            dP = (1 - W) * dP + W * Bt * ((inE[i] ? lv->cnl[i] : 0) / csum);
        }
        lv->usl[i] = dP;
        NX(A5_N_US_PRESSURE, i) = us == A5_US_SCHEDULE
                                      ? a5_pressure(NX(A5_N_US_PRESSURE, i), x[A5_G_US_ESCALATION],
                                                    x[A5_G_US_MAX_PRESSURE], o.phi)
                                      : fmin(NX(A5_N_US_PRESSURE, i) + dP, x[A5_G_US_MAX_PRESSURE]);
    }
    /* China's allocation A_i = phi(K_i) (R_i(K_i) - R_0), for us.react next step. */
    for (int i = 0; i < n; i++)
        lv->cnl[i] = x[A5_G_US_REACT] > 0 ? phi_of(K[i], psi) *
                                               (sv[i].R[(int)K[i]] - x[A5_G_CHINA_RETALIATION])
                                         : 0;
    /* The lever's transitions, after the pressure. */
    if (delta > 0) {
        const double thL = x[A5_G_LEVER_CREDIBILITY], loss = x[A5_G_LEVER_LOSS],
                     gain = x[A5_G_LEVER_GAIN];
        const int pern = lround(x[A5_G_LEVER_SCOPE]) == A5_SCOPE_NATION;
        int fails = 0, wins = 0, cand[64] = {0};
        for (int i = 0; i < n; i++) {
            const int st = lv->st[i];
            if (st == 1 && lv->due[i] <= t + 1) {
                lv->st[i] = 0;
                if (K[i] == A5_OPEN) {
                    const double th = ref_cred(x, lv, i);
                    if (a5_side_uniform(rs->key, rs->ctr[2], rs->ctr[3], t, i) < th) {
                        lv->st[i] = 2;
                        lv->due[i] = t + 1 + (int)x[A5_G_LEVER_DURATION];
                        wins++;
                        if (pern) /* theta_i up by g_L, at most 1 */
                            lv->off[i] = fmin(1, fmax(0, th + gain)) - thL;
                    } else {
                        fails++;
                        if (pern) /* theta_i down by l, at least 0 */
                            lv->off[i] = fmin(1, fmax(0, th - loss)) - thL;
                    }
                }
            }
            if (st == 2 && (lv->due[i] <= t + 1 || K[i] != A5_OPEN))
                lv->st[i] = 0;
            cand[i] = st == 0 && K[i] == A5_OPEN;
        }
        /* Rule 3: every candidate, or the M with the largest d_i (ties to the
         * lowest index). */
        int mt = (int)x[A5_G_LEVER_THREATS], nc = 0;
        for (int i = 0; i < n; i++)
            nc += cand[i];
        if (mt == 0 || mt > nc)
            mt = nc;
        for (int m = 0; m < mt; m++) {
            int top = -1;
            for (int i = 0; i < n; i++)
                if (cand[i] == 1 && (top < 0 || NX(A5_N_INTEL, i) > NX(A5_N_INTEL, top)))
                    top = i;
            cand[top] = 2;
            lv->st[top] = 1;
            lv->due[top] = t + 1 + (int)x[A5_G_LEVER_LEAD];
        }
        if (!pern)
            x[A5_G_LEVER_CREDIBILITY] = fmin(1, fmax(0, thL - loss * fails + gain * wins));
    }
    for (int i = 0; i < n; i++)
        NX(A5_N_POLICY, i) = K[i];
#undef NX
    free(Di), free(xn), free(rsk), free(gq), free(M), free(v), free(sv), free(K), free(U), free(rm), free(inE), free(inT);
}

/* ---- random worlds ---------------------------------------------------------- */

static uint64_t rng_state = 88172645463325252ull;
static double rnd(void) /* xorshift64: the worlds are fixed by the seed above */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-53;
}
static double pick_zero(double v) { return rnd() < 0.2 ? 0 : v; } /* exercise the zero paths */

/* The windows file of the worlds with timing (written once by the test). */
static char winfile[64] = "";

/* A value of parameter p for an event: its choices, true/false, or a number in its
 * range (at most 2 wide, whole numbers at most 6 apart, so that worlds stay sane). */
static void table_value(const a5_param *p, char *buf, size_t len)
{
    int nc;
    const char *const *names = a5_param_choices(p, &nc);
    if (names)
        snprintf(buf, len, "%s", names[(int)(rnd() * nc)]);
    else if (p->type == A5_T_BOOL)
        snprintf(buf, len, "%s", rnd() < 0.5 ? "true" : "false");
    else if (p->type == A5_T_INT)
        snprintf(buf, len, "%d", (int)p->lo + (int)(rnd() * fmin(p->hi - p->lo + 1, 6)));
    else {
        const double lo = p->lo_open ? p->lo + 0.01 : p->lo;
        snprintf(buf, len, "%.3f", lo + pick_zero(rnd()) * fmin(p->hi - lo, 2));
    }
}

/* Events that set every parameter of the table that may vary (globals, and each
 * nation attribute for all nations) once, at a random step: a parameter added to the
 * table is exercised here with no change to this test. The timing section's only in
 * worlds with timing (they need its windows and attention); us.pressure is given in
 * each world's us: section (it is P_i(0), which no event may change). */
static size_t table_events(char *t, size_t cap, int steps, int timing)
{
    size_t k = 0;
    char v[64];
    for (int g = 0; g < A5_G_COUNT; g++) {
        const a5_param *p = &a5_param_global[g];
        if (!(p->flags & A5_PF_VARY) || g == A5_G_US_PRESSURE || /* P_i(0) only: no event */
            (!timing && (!strncmp(p->path, "windows.", 8) || !strncmp(p->path, "attention.", 10))))
            continue;
        table_value(p, v, sizeof v);
        k += (size_t)snprintf(t + k, cap - k, "  - {at: %d, set: {%s: %s}}\n", (int)(rnd() * steps),
                              p->path, v);
    }
    for (int a = 0; a < A5_N_COUNT; a++) {
        const a5_param *p = &a5_param_nation[a];
        if (!(p->flags & A5_PF_VARY))
            continue;
        table_value(p, v, sizeof v);
        k += (size_t)snprintf(t + k, cap - k, "  - {at: %d, set: {nations.*.%s: %s}}\n",
                              (int)(rnd() * steps), p->path, v);
    }
    return k;
}

static size_t world(char *t, size_t cap, int steps)
{
    static const char *const pol[] = {"open", "restrict", "ban"};
    const int n = 1 + (int)(rnd() * 24);
    size_t k = 0;
#define OUT(...) k += (size_t)snprintf(t + k, cap - k, __VA_ARGS__)
    OUT("steps: %d\n", steps);
    char ant[80] = ""; /* anticipation, in any world (it switches the strategic step on) */
    if (rnd() < 0.3)
        snprintf(ant, sizeof ant, ", anticipation: {horizon: %d, discount: %.3f}",
                 (int)(rnd() * 6), rnd());
    OUT("decision: {rationality: %.3f, weights: {cost: %.3f, risk: %.3f, us: %.3f, china: %.3f,"
        " peer: %.3f, inertia: %.3f, home: %.3f}%s}\n",
        pick_zero(8 * rnd()), 3 * rnd() - 0.5, 3 * rnd() - 0.5, 3 * rnd(), 2 * rnd(),
        pick_zero(3 * rnd()), rnd(), rnd() - 0.3, ant);
    OUT("policy: {restrict_cap: %.3f, restrict_compliance: %.3f, phase_out_steps: %d}\n", rnd(),
        rnd(), 1 + (int)(rnd() * 12));
    OUT("market: {renewal: %.3f, price_elasticity: %.3f, operator_risk_weight: %.3f, replace_cost: %.3f}\n",
        rnd() * 0.3, 10 * rnd(), 2 * rnd(), 2 * rnd());
    OUT("risk: {supply_risk: %.3f, ran_weight: %.3f}\n", pick_zero(rnd()), rnd());
    /* Half the worlds have strategic actors (docs/model.md, "Strategic actors"). */
    static const char *const uss[] = {"schedule", "uniform", "pivotal", "wavering"};
    static const char *const cns[] = {"aggregate", "targeted", "deterrent"};
    const int strat = rnd() < 0.5;
    OUT("us: {pressure: %.3f, escalation: %.3f, max_pressure: %.3f, intel_threat: %.3f", rnd(),
        0.1 * rnd(), 0.5 + rnd(), pick_zero(rnd()));
    if (strat)
        OUT(", strategy: %s, budget: %.3f, budget_growth: %.3f, intel_lever: {credibility: %.3f,"
            " downgrade: %.3f, lead: %d, duration: %d, credibility_loss: %.3f,"
            " threats_per_step: %d, credibility_gain: %.3f, credibility_scope: %s,"
            " us_cost: %.3f}, react: %.3f",
            uss[(int)(rnd() * 4)], pick_zero(0.3 * rnd()), 0.1 * rnd() - 0.03, rnd(),
            pick_zero(rnd()), 1 + (int)(rnd() * 3), 1 + (int)(rnd() * 5), 0.3 * rnd(),
            rnd() < 0.5 ? 0 : 1 + (int)(rnd() * 3), pick_zero(0.3 * rnd()),
            rnd() < 0.5 ? "world" : "nation", pick_zero(rnd()), pick_zero(rnd()));
    OUT("}\n");
    OUT("china: {retaliation: %.3f, escalation: %.3f", rnd(), rnd());
    if (strat)
        OUT(", strategy: %s, budget: %.3f, price_response: %.3f, price_budget: %.3f, react: %.3f",
            cns[(int)(rnd() * 3)], 2 * rnd(), pick_zero(0.5 * rnd()), pick_zero(2 * rnd()),
            pick_zero(rnd()));
    OUT("}\n");
    OUT("peers: {base_tie: %.3f", pick_zero(rnd()));
    if (strat)
        OUT(", intel_standing: %.3f", pick_zero(2 * rnd()));
    OUT("}\n");
    OUT("vendors: [{name: H, price: %.3f, high_risk: true}, {name: E, price: %.3f}]\n", 0.5 + rnd(),
        0.5 + rnd());
    OUT("nations:\n");
    for (int i = 0; i < n; i++) {
        OUT("  - {code: N%d, intel: %.3f, us_ties: %.3f, china_trade: %.3f, cost_sensitivity: %.3f,"
            " mitigation: %.3f, threat: %.3f, influence: %.3f, review_rate: %.3f, home_vendor: %s,"
            " policy: %s, high_risk_share: %.3f",
            i, rnd(), rnd(), rnd(), rnd(), pick_zero(rnd()), rnd(), pick_zero(2 * rnd()),
            rnd() < 0.1 ? 1.0 : pick_zero(rnd()), rnd() < 0.3 ? "true" : "false",
            pol[(int)(rnd() * 3)], pick_zero(rnd()));
        if (rnd() < 0.3)
            OUT(", us_pressure: %.3f", rnd());
        if (rnd() < 0.2)
            OUT(", china_target: true");
        OUT(", blocs: [");
        for (int b = 0, first = 1; b < 4; b++)
            if (rnd() < 0.4) {
                OUT("%sb%d", first ? "" : ", ", b);
                first = 0;
            }
        OUT("]}\n");
    }
    OUT("events:\n");
    OUT("  - {at: %d, set: {nations.N0.policy: %s}}\n", (int)(rnd() * steps), pol[(int)(rnd() * 3)]);
    OUT("  - {at: %d, add: {risk.supply_risk: 0.2, nations.*.threat: -0.1}}\n", (int)(rnd() * steps));
    OUT("  - {at: %d, set: {decision.weights.peer: %.3f}}\n", (int)(rnd() * steps), pick_zero(rnd()));
    OUT("  - {hazard: %.3f, add: {us.intel_threat: 0.1, nations.*.high_risk_share: 0.05}}\n", 0.2 * rnd());
    OUT("  - {hazard: %.3f, set: {nations.*.policy: restrict}}\n", 0.05 * rnd());
    if (strat) { /* switched on and off in mid-run, the lever too (threats pending) */
        OUT("  - {at: %d, set: {us.strategy: %s, china.strategy: %s}}\n", (int)(rnd() * steps),
            uss[(int)(rnd() * 4)], cns[(int)(rnd() * 3)]);
        OUT("  - {at: %d, set: {us.intel_lever.downgrade: 0}}\n"
            "  - {at: %d, set: {us.intel_lever.downgrade: %.3f}}\n",
            1 + (int)(rnd() * steps / 2), steps / 2 + (int)(rnd() * steps / 2), rnd());
    }
    else
        OUT("  - {at: %d, set: {us.strategy: pivotal, peers.intel_standing: 1}}\n"
            "  - {at: %d, set: {us.strategy: schedule, peers.intel_standing: 0}}\n",
            (int)(rnd() * steps / 2), steps / 2 + (int)(rnd() * steps / 2));
    const int timing = rnd() < 0.5;
    if (rnd() < 0.5) /* every parameter of the table, each set once at a random step */
        k += table_events(t + k, cap - k, steps, timing);
    if (timing) { /* timing and reversal cost (docs/model.md, "Timing"), toggled */
        const int t1 = (int)(rnd() * steps / 2), t2 = steps / 2 + (int)(rnd() * steps / 2);
        OUT("  - {at: %d, set: {policy.reversal_cost: %.3f, windows.hazard_boost: %.3f}}\n", t1,
            1 + 5 * rnd(), rnd());
        OUT("  - {at: %d, set: {policy.reversal_cost: %.3f, attention.weight: %.3f}}\n", t2,
            pick_zero(5 * rnd()), pick_zero(rnd()));
        OUT("windows: {file: %s, hazard_boost: %.3f}\n", winfile, pick_zero(rnd()));
        OUT("attention: {events: [{at: %d, salience: %.3f}, {at: %d, salience: %.3f}],"
            " decay: %.3f, weight: %.3f}\n",
            (int)(rnd() * steps), 2 * rnd(), (int)(rnd() * steps), rnd(), rnd(), pick_zero(rnd()));
    }
    OUT("uncertain: {nations.*.threat: {dist: uniform, lo: 0, hi: 1}}\n");
#undef OUT
    return k;
}

/* The same bits (every double of the state, every cost and risk). */
static int same_bits(const double *a, const double *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

static void test_kernel_equals_reference_step(void **state)
{
    (void)state;
    /* Windows for the worlds with timing: nation N0 and everyone, over parts of
     * the 30 quarters from 2019Q1. */
    snprintf(winfile, sizeof winfile, "/tmp/a5_windows_XXXXXX");
    int fd = mkstemp(winfile);
    assert_true(fd >= 0);
    FILE *wf = fdopen(fd, "w");
    assert_non_null(wf);
    fprintf(wf, "code,start,end,known,kind,source\n"
                "N0,2019-04-01,2019-09-30,2018-06-01,auction,https://example.org/a\n"
                "*,2020-01-15,2020-02-15,2019-01-29,deadline,https://example.org/b\n"
                "N0,2021-03-01,2022-06-30,2020-01-01,election,https://example.org/c\n"
                "N0,2023-01-01,2023-01-01,2023-01-01,review,https://example.org/d\n");
    fclose(wf);
    static char text[65536];
    long worlds = 0, steps_checked = 0, reviews = 0;
    for (int wi = 0; wi < 150; wi++) {
        const int steps = 30;
        world(text, sizeof text, steps);
        a5_diag d = {0};
        a5_scenario *s = NULL;
        if (a5_scenario_parse(text, strlen(text), "w.yaml", NULL, 0, &d, &s)) {
            a5_diag_print(&d, stderr);
            fprintf(stderr, "%s", text);
            fail_msg("world %d did not load", wi);
        }
        a5_diag_free(&d);
        a5_model *m = a5_model_alloc(s);
        a5_work *w = a5_model_work_alloc(m);
        gsl_rng *g1 = a5_rng_alloc(), *g2 = a5_rng_alloc();
        const size_t n = (size_t)s->n;
        double *x1 = a5_model_work_x(w), *x2 = calloc(s->nslots, sizeof *x2);
        double *c1 = calloc(n, sizeof *c1), *r1 = calloc(n, sizeof *r1);
        double *c2 = calloc(n, sizeof *c2), *r2 = calloc(n, sizeof *r2);
        for (long r = 0; r < 4; r++) {
            ref_lever lv = {{0}, {0}, {0}, {0}, {0}, {0}, {0}};
            a5_rng_state *rs1 = a5_rng_state_of(g1), *rs2 = a5_rng_state_of(g2);
            a5_model_init(m, 0, r, x1, rs1);
            a5_model_init(m, 0, r, x2, rs2);
            memset(c1, 0, n * sizeof *c1), memset(r1, 0, n * sizeof *r1);
            memset(c2, 0, n * sizeof *c2), memset(r2, 0, n * sizeof *r2);
            for (int t = 0; t < steps; t++) {
                double before[64];
                memcpy(before, x2 + a5_param_nslot(A5_N_POLICY, 0, (int)n), n * sizeof *before);
                a5_model_step(m, x1, t, rs1, w, c1, r1);
                a5_model_step_reference(s, x2, t, rs2, c2, r2, &lv);
                if (!same_bits(x1, x2, s->nslots) || !same_bits(c1, c2, n) || !same_bits(r1, r2, n)) {
                    fprintf(stderr, "%s", text);
                    fail_msg("world %d, replicate %ld, step %d: kernel and reference differ", wi, r, t);
                }
                const int8_t *ist = a5_model_intel_status(w); /* the lever's statuses too */
                for (size_t i = 0; i < n; i++)
                    if (ist[i] != lv.st[i])
                        fail_msg("world %d, replicate %ld, step %d, nation %zu: intel status %d, "
                                 "reference %d", wi, r, t, i, ist[i], lv.st[i]);
                for (size_t i = 0; i < n; i++)
                    reviews += before[i] != x2[a5_param_nslot(A5_N_POLICY, (int)i, (int)n)];
                steps_checked++;
            }
        }
        worlds++;
        free(x2), free(c1), free(r1), free(c2), free(r2);
        gsl_rng_free(g1);
        gsl_rng_free(g2);
        a5_model_work_free(w);
        a5_model_free(m);
        a5_scenario_free(s);
    }
    remove(winfile);
    printf("%ld worlds, %ld steps equal bit for bit; %ld policy changes\n", worlds, steps_checked, reviews);
    assert_true(reviews > 1000); /* the worlds do decide things */
}

/* Leaving out the terms that are exactly 0 at OPEN and BAN gives the same
 * utility as the whole formula, on random inputs including the edges 0 and 1. */
static void test_fast_utility_equals_full(void **state)
{
    (void)state;
    static const double edge[] = {0, 1, 0.5};
    long checked = 0;
    for (int trial = 0; trial < 200000; trial++) {
#define R01() (rnd() < 0.1 ? edge[(int)(rnd() * 3)] : rnd())
        a5_globals g = {.D = R01(), .R = 2 * rnd(), .theta = R01(), .kappa = R01(), .psi = R01(),
                        .zeta = 3 * rnd(), .nu = 2 * R01(), .wc = 4 * rnd() - 1,
                        .wr = 4 * rnd() - 1, .wu = 4 * rnd() - 1, .wch = 4 * rnd() - 1,
                        .wp = 3 * R01(), .wi = 2 * rnd() - 0.5, .wh = R01(), .lambda = 10 * rnd(),
                        .wrev = 3 * R01()};
        a5_nation_in v = {.s = (double)(int)(rnd() * 3), .h = R01(), .P = 2 * R01(), .xn = R01(),
                          .rsk = R01(), .rm = R01()};
#define A5_RANDOM(name, attr) v.name = R01();
        A5_MODEL_NATION_INPUTS(A5_RANDOM)
#undef A5_RANDOM
#undef R01
        a5_peer_shares(rnd(), rnd() < 0.3 ? 0 : rnd(), rnd(), v.G);
        for (int k = 0; k < 3; k++) {
            const double fast = a5_utility(&g, &v, k, 1), full = a5_utility(&g, &v, k, 0);
            if (!(fast == full)) /* +0 and -0 are one value: the choice sees them alike */
                fail_msg("trial %d, option %d: %a != %a", trial, k, fast, full);
            /* With w_rev = 0 the plain kernel leaves the reversal term out too. */
            const double norev = a5_utility(&g, &v, k, A5_U_FAST | A5_U_NO_REVERSAL);
            if (g.wrev == 0 && !(norev == full))
                fail_msg("trial %d, option %d, w_rev 0: %a != %a", trial, k, norev, full);
            checked++;
        }
        double e1[3], e2[3], U1[3], U2[3];
        for (int k = 0; k < 3; k++) {
            U1[k] = a5_utility(&g, &v, k, 1);
            U2[k] = a5_utility(&g, &v, k, 0);
        }
        assert_true(a5_softmax3(g.lambda, U1, e1) == a5_softmax3(g.lambda, U2, e2));
        assert_memory_equal(e1, e2, sizeof e1);
    }
    printf("%ld utilities equal\n", checked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_utility_equals_full),
        cmocka_unit_test(test_kernel_equals_reference_step),
    };
    return cmocka_run_group_tests_name("model_reference", tests, NULL, NULL);
}
