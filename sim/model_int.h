/* Private to the model (model.c, the fast kernel; model_strategy.c, the
 * strategic actors' step): the handles and what their files share. */
#ifndef A5_MODEL_INT_H
#define A5_MODEL_INT_H

#include "a5_model.h"
#include "model_terms.h"

#include <stdint.h>

struct a5_model {
    const a5_scenario *s;
    int n, steps, nblocs;
    const int *bloc_off, *bloc_idx;
    int *member_off, *member_idx; /* bloc b's members in nation order: member_idx[member_off[b] ..) */
    double *bloc_ties; /* nation i's count of bloc ties, sum over its blocs of (|b| - 1) */
    unsigned char *follow_pressure; /* P_i(0) := us.pressure after draws */
    int *at_first;                  /* events by step: at_list[at_first[t] .. at_first[t+1]) */
    int *at_list;
    int *hazards;
    int nhazards;
    int strategic; /* a strategic actor can be on in some replicate (else none is ever checked) */
    int reversal;  /* the reversal cost can be on (else V_i stays 0) */
    size_t nover; /* a5_model_override */
    size_t *over_slot;
    double *over_value;
};

/* Per-nation arrays of the step loop, each np = n rounded up to 8 doubles long
 * (one 64-byte vector), so the vectorised loop runs whole vectors only; the
 * lanes past n hold zeros and their results are never used. */
enum {
    L_POL, L_H, L_P, /* state, copied from x and back each step */
    L_XN, L_RSK,     /* natural share, risk scale */
#define A5_LANE(name, attr) L_IN_##name, /* attributes, copied from x */
    A5_MODEL_NATION_INPUTS(A5_LANE)
#undef A5_LANE
    L_G0, L_G1, L_G2, /* peer shares (a5_model_prepare) */
    L_REVIEW, L_UC,                         /* review flag (0/1), choice draw */
    L_DCOST, L_DRISK,                       /* the step's C_i and S_i */
    L_K,                                    /* the step's new policies */
    L_RM, L_MARK, L_MPOL, /* reversal cost: V_i, h^0_i and the policy h^0_i was taken at */
    L_RHO,                /* review rates raised by windows and attention */
    /* Per reviewing nation (q-th reviewer in lane q): utilities and softmax, most
     * of a step's arithmetic, are computed for them alone, a quarter of the
     * nations at the usual review rate. Peer weights (by nation in the strategic
     * step), and the option drawn. */
    C_G0, C_G1, C_G2, C_PICK,
    /* The strategic step's (model_strategy.c): each nation's inputs from the
     * actors, d~_i, Lambda_i, R_i(k) and X_i(k) by option; a lane left at 0; and
     * the utilities of wavering's or deterrent's candidates (w->cand), packed. */
    S_XN, S_RSK, S_D, S_GEFF, /* its x_i, risk scales, D_i and g'_i (w->sxn, ...) */
    S_DT, S_LAM, S_R0, S_R1, S_R2, S_A0, S_A1, S_A2, S_ZERO,
    S_E,   /* 1 for the nations in E(t), which US pressure can still move */
    /* scratch, within one function at a time: the anticipation's sums,
     * china.react's shares, deterrent's gaps, the US strategy's target, the
     * lever's threats falling due (one lane more here made B1's targeted row
     * ~4 % slower: the lanes' placement in the cache) */
    S_TMP,
    /* The lever's status (0 none, 1 threatened, 2 downgraded; -1 a candidate for
     * threats_per_step) and due step of each nation; w->istat mirrors the status. */
    S_ST, S_DUE,
    C_U0, C_U1, C_U2,
    L_COUNT
};

struct a5_work {
    double *x;    /* parameter vector of the replicate being run */
    size_t np;    /* lane length */
    double *lane; /* L_COUNT arrays of np */
    double *xn;   /* natural high-risk share of new builds (lane L_XN) */
    double *rsk;  /* r_i (1 + sigma) (1 - m_i) (lane L_RSK) */
    double *G;    /* peer shares: G[k * np + i] = G_i(k) (lanes L_G0..L_G2) */
    double *M;    /* nblocs x 3 bloc sums */
    double T[3]; /* sums over all nations */
    a5_derived dv; /* step 2's D (prepare_params), R(t) and counts (prepare_policies) */
    int changed; /* some policy changed in the last step: R and the bloc sums are stale */
    int stale;   /* policies, shares and pressures in x are behind those in the lanes */
    double *cost, *risk;
    /* Random words of the step, taken from a buffer the Philox stream fills a
     * few hundred words at a time (its vectorised form needs that many). */
    uint32_t *words;
    size_t wcap, wpos, wlen;
    int *reviewers; /* the nations that review this step */
    /* wavering and deterrent: the nations whose utilities the strategic step
     * computes (cand, ncand of them; C_U0..C_U2 hold them in that order) and the
     * reviewers' places among them (upos); flags: each nation's bits of
     * what the strategic step packs (reviews, is a candidate) */
    int *cand, *upos, *flags, ncand;
    int8_t *spol;    /* records of a5_model_step, which keeps none */
    float *sh;
    gsl_rng *rng;
    /* Strategic actors: the lever's status per nation as the records and
     * a5_model_intel_status() give it (lane S_ST holds it, with S_DUE), and the
     * strategic step's scratch (n each). */
    int8_t *istat;
    double *icred; /* o_i: target i's credibility offset (credibility_scope nation) */
    double *usl, *cnl; /* the US's Delta P_i and China's A_i of the last step (us/china.react) */
    double *sxn, *srsk, *sD, *geff; /* lanes S_XN, S_RSK, S_D, S_GEFF */
    double *ties; /* China's A_i of the step (us.react) */
    int dirty; /* the strategic step ran: the plain step's cached terms are stale */
    /* The strategic step's caches (docs/model.md, "Order within a step"): its
     * per-nation terms of x's parameters (sD, sxn, srsk and D in sdv) hold while no
     * event moves a parameter (scache); the influences and bloc sums (geff, M, T)
     * while, besides, no policy moved (sinfl). Any other step clears both. */
    int scache, sinfl;
    a5_derived sdv; /* its a5_derive_step results (D by scache, R(t) and counts by sinfl) */
    int snamed; /* China's named targets (scache) */
    int snrT, snbT; /* China's targets restricting, banning (sinfl) */
    int srfill;     /* lanes S_R0..S_R2 hold srval for every nation (R_0, or aggregate's */
    double srval;   /* R(t)) but srdev (-1: none), deterrent's waverer, at srval + B */
    int srdev;
    int speer;  /* C_G0..C_G2 hold every nation's peer weights (valid with sinfl) */
    int sbt;    /* the step of the US budget sbB = B(sbt) from B_0 sb0 and growth sbg, or -1 */
    double sb0, sbg, sbB;
    /* output.record of the step (m->record): phi(K_i) R_i(K_i), and 1 where the US
     * budget went to nation i (rut) or China's strategy aimed at it (rct). */
    double *rret, *rdown; /* rdown: delta d_i when downgraded at X(t), else 0 */
    int8_t *rut, *rct;
    double *cret, *cdown; /* their sums over the replicate's steps (cum_*) */
};

/* The removed shares V_i at the start of step t (lane L_RM) from the policies and
 * shares pol, h (docs/model.md, "Reversal cost"). */
void a5_mod_removed_shares(a5_work *w, int n, const double *pol, const double *h, int t);

/* The peer sums T_k and M_bk (w->T, w->M) of influences g at policies pol, each
 * in nation order (docs/model.md, "Peer term"). */
void a5_mod_peer_sums(const a5_model *m, const double *g, const double *pol, a5_work *w);

/* The attributes the decisions read (A5_MODEL_NATION_INPUTS) from x into their
 * lanes L_IN_*; they hold while no parameter moves. */
void a5_mod_input_lanes(const a5_model *m, const double *x, a5_work *w);

/* The leading parameters of a vectorised decision loop, the plain step's and the
 * strategic step's: the step's globals, the nq nations decided for (idx), and
 * each nation's state and inputs by lane; and the nation_in of lane i from them. */
#define A5_PARAM_IN(name, attr) const double *restrict in_##name,
#define A5_DECIDE_IN_PARAMS                                                                        \
    const a5_globals *gp, size_t nq, const int *restrict idx, const double *restrict S,            \
        const double *restrict Hs, const double *restrict Ps, const double *restrict XN,           \
        const double *restrict RSK, const double *restrict RM, A5_MODEL_NATION_INPUTS(A5_PARAM_IN)
#define A5_ARG_IN(name, attr) in_##name,
#define A5_DECIDE_IN_ARGS gp, nq, idx, S, Hs, Ps, XN, RSK, RM, A5_MODEL_NATION_INPUTS(A5_ARG_IN)
#define A5_LOAD_IN(name, attr) v.name = in_##name[i];
#define A5_DECIDE_NATION_IN(v, i)                                                                  \
    a5_nation_in v = {.s = S[i], .h = Hs[i], .P = Ps[i], .xn = XN[i], .rsk = RSK[i], .rm = RM[i]}; \
    A5_MODEL_NATION_INPUTS(A5_LOAD_IN)

/* n lanes rounded up to whole vectors of 8 (the decision loops run on whole
 * vectors, so no width has a scalar remainder). */
static inline size_t a5_mod_whole_vectors(int n) { return ((size_t)n + 7) / 8 * 8; }

/* Pads the list of nations idx[0 .. n) to whole vectors with nation 0 (its lanes
 * are computed, unused); returns that number of lanes. */
static inline size_t a5_mod_pad(int *idx, int n)
{
    const size_t nq = a5_mod_whole_vectors(n);
    for (size_t q = (size_t)n; q < nq; q++)
        idx[q] = 0;
    return nq;
}

/* No threat or downgrade stands (the lever off, or a new replicate). */
void a5_mod_lever_clear(a5_work *w, int n);

/* The rest of step t with a strategic actor on (docs/model.md, "Strategic
 * actors"), after the events, with x's state current and the lanes L_POL, L_H,
 * L_P holding it too: nations' review flags and choice draws in lanes L_REVIEW
 * and L_UC. Writes the new state into x and records the new policies and shares
 * into rpol and rh; the caller brings the lanes up to x. */
void a5_mod_step_strategic(const a5_model *m, double *x, int t, const a5_rng_state *rs,
                           a5_work *w, double *cost, double *risk, int8_t *rpol, float *rh);

#endif
