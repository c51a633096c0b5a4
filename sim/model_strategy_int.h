/* Private to the strategic step (model_strategy.c, and model_lever.c, its
 * intelligence lever): what the parts of one step share. */
#ifndef A5_MODEL_STRATEGY_INT_H
#define A5_MODEL_STRATEGY_INT_H

#include "model_int.h"

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

/* Target i's credibility theta_i(t): theta_L(t), or, with per (credibility_scope
 * nation), theta_L(t) + o_i within [0, 1]. */
static inline double lever_credibility(double thL, int per, double oi)
{
    return per ? a5_lever_credibility(thL, oi) : thL;
}

/* The lever's transitions after step 6 (docs/model.md, "Intelligence lever"), in
 * nation order, at the new policies K, and theta_L(t+1) (or the targets' offsets
 * o_i under credibility_scope nation); the side uniforms from rs. */
void a5_mod_lever_transitions(const strat_step *ss, const double *K, int t,
                              const a5_rng_state *rs);

#endif
