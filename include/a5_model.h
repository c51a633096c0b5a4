/* The reference model of docs/model.md: one step, and one whole replicate.
 *
 * State and parameters of a replicate live in one parameter vector x (a5_param.h);
 * the step updates x in place. a5_model_step and a5_model_run are pure functions of
 * (model, x, random stream): they do no I/O, no allocation and touch no globals;
 * scratch space comes from a per-thread a5_work allocated once. The equations are
 * written once, in sim/model_terms.h (private); docs/extending.md shows how to add
 * a term. */
#ifndef A5_MODEL_H
#define A5_MODEL_H

#include "a5_rng.h"
#include "a5_scenario.h"

#include <stdint.h>

enum { A5_OPEN = 0, A5_RESTRICT = 1, A5_BAN = 2 };

typedef struct a5_model a5_model;
typedef struct a5_work a5_work;

/* Per-replicate records for a block of replicates. Step arrays are
 * [replicate][step][nation] (row t holds X(t+1)); the others [replicate][nation].
 * Step arrays may be NULL except policy and h (aggregates need them).
 * intel_status: the intelligence lever's status (0 none, 1 threatened, 2
 * downgraded; docs/model.md, "Strategic actors"). */
typedef struct {
    int8_t *policy;
    float *h, *P;
    int16_t *first_ban;
    int8_t *final_policy;
    float *cum_cost, *cum_risk;
    int8_t *intel_status;
    int16_t *first_restrict; /* first step at restrict or ban (-1 never); may be NULL */
    /* output.record (each may be NULL; step arrays): the retaliation China applies to
     * the nation at its new policy, phi(K_i) R_i(K_i); 1 where the US strategy's
     * budget went to it (us_target), where China's strategy aimed at it (china_target). */
    float *retaliation;
    int8_t *us_target, *china_target;
    /* [replicate][nation]: realised costs, sums over steps of c_i phi(K_i) R_i(K_i)
     * and of delta d_i while a downgrade is in force at X(t) */
    float *cum_retaliation, *cum_downgrade;
    /* [replicate][outcome]: the scenario's `outcomes:` (NULL when it has none) */
    float *outcomes;
} a5_records;

/* Build the model for a loaded scenario (which must outlive it); NULL if out of
 * memory (every allocation goes through the a5_mem.h hook; nothing leaks). */
a5_model *a5_model_alloc(const a5_scenario *s);
void a5_model_free(a5_model *m);
/* Scratch space for one thread; NULL if out of memory (nothing leaks). */
a5_work *a5_model_work_alloc(const a5_model *m);
void a5_model_work_free(a5_work *w);
/* The parameter vector inside w (nslots doubles) that a5_model_run works on. */
double *a5_model_work_x(a5_work *w);

/* Values written into the vector after the design point's values and the
 * uncertain draws (calibration tries parameter values this way). The model keeps
 * a copy. Returns 0 or A5_ENOMEM. */
int a5_model_override(a5_model *m, size_t n, const size_t *slots, const double *values);

/* Fill x with design point p's parameters and replicate r's uncertain draws, taken
 * from stream (seed, p, r) (or (seed, 0, r) under seed.common) which is left
 * positioned for the steps. */
void a5_model_init(const a5_model *m, long p, long r, double *x, a5_rng_state *rs);

/* Per-step terms every nation's decision shares (price advantage, retaliation,
 * natural shares, peer sums), computed into w from state x. */
void a5_model_prepare(const a5_model *m, const double *x, a5_work *w);
/* U_i(k) for k = open, restrict, ban from the terms a5_model_prepare left in w:
 * every term of docs/model.md evaluated (the kernel leaves out those exactly 0,
 * which gives equal values; test_model_reference checks). */
void a5_model_utility(const a5_model *m, const double *x, const a5_work *w, int i, double U[3]);
/* Probability of each option under softmax(lambda * U), computed stably. */
void a5_model_choice_probs(double lambda, const double U[3], double p[3]);
/* e^x for x <= 0 as the choice probabilities compute it: within about an ulp of
 * libm's exp, the same bits on every machine; 0 below -708. */
double a5_model_exp(double x);

/* One step t: events, then decisions and updates, in place on x. Adds each nation's
 * C_i and S_i at its new policy to cost[i] and risk[i]. Steps of a replicate are
 * run in order from t = 0 right after a5_model_init, with the same w.
 *
 * Random words per step, from the replicate's stream in order: two per hazard
 * event (a 53-bit uniform each, in file order), then two per nation i for a 53-bit
 * uniform u: i reviews when u < rho_i, and then draws its choice with u / rho_i.
 * Words are taken from the stream a few hundred at a time. */
void a5_model_step(const a5_model *m, double *x, int t, a5_rng_state *rs, a5_work *w,
                   double *cost, double *risk);

/* Whether the intelligence lever can be on in some replicate of s (its downgrade
 * is above 0 in the base, a design point, a draw or an event): results then
 * record intel_status. */
int a5_model_uses_lever(const a5_scenario *s);

/* The intelligence lever's status of each nation after the last step run with w
 * (0 none, 1 threatened, 2 downgraded). */
const int8_t *a5_model_intel_status(const a5_work *w);

/* Data assimilation (sim/forecast.c, docs/forecast.md). Between steps a replicate's
 * state is x (policies, shares, pressures, parameters) plus, per nation, the
 * intelligence lever's status and due step kept in w: this copies nation i's lever
 * state from src to dst. After changing x's state between steps, call
 * a5_model_prepare(m, x, w) so the next step starts from x. */
void a5_model_copy_lever(a5_work *dst, const a5_work *src, int i);

/* The scenario's outcomes of replicate j of rec (its records written) into
 * rec->outcomes (sim/outcomes.c); a5_model_run calls it when rec->outcomes is set.
 * Needs rec->P when a5_outcome_needs_pressure(s). */
void a5_model_outcomes(const a5_scenario *s, const a5_records *rec, long j);

/* Run replicate r of point p into slot j of rec. Returns 0, or A5_EFAILED
 * (negative) when any result is not finite (the replicate failed; its records are
 * not to be trusted). */
int a5_model_run(const a5_model *m, long p, long r, a5_work *w, a5_records *rec, long j);

#endif
