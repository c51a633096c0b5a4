/* The reference model of docs/model.md: the fast kernel. See a5_model.h.
 *
 * The equations themselves are in model_terms.h, one small inline function per
 * line of docs/model.md; this file only arranges the work: per-nation lanes that
 * vectorise, terms cached until their inputs change, the decision computed for
 * the reviewing nations alone, random words taken in blocks.
 *
 * Peer term in O(N x blocs): with w_ij = |B_i ∩ B_j| + base_tie,
 *   sum_{j != i} w_ij g_j [s_j = k]
 *     = sum_{b in B_i} (M_bk - g_i [s_i = k]) + base_tie (T_k - g_i [s_i = k])
 * where M_bk sums g_j [s_j = k] over bloc b's members and T_k over all nations
 * (a5_peer_weights). */
#include "a5_model.h"
#include "a5_error.h"
#include "a5_mem.h"
#include "a5_vector.h"
#include "model_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int slot_can_be_on(const a5_scenario *s, size_t slot);

/* The one predicate "a strategic actor is on" (docs/model.md, "Strategic
 * actors"): one of these settings is on, a setting being on when its slot is not
 * 0 (above 0 where `positive`) and, where it has one, its companion slot `with`
 * is above 0 too (the price response needs its budget). strategic_on() reads it
 * on x at a step; a5_model_alloc and a5_model_override read the same table for
 * m->strategic, "can an actor be on anywhere in this scenario" (its base, points,
 * draws, events, overrides), so the two sides cannot drift apart. */
#define A5_NO_SLOT ((size_t)-1)
static const struct {
    size_t slot;
    int positive;
    size_t with;
} strategic_settings[] = {
    {A5_G_US_STRATEGY, 0, A5_NO_SLOT},     /* not schedule */
    {A5_G_CHINA_STRATEGY, 0, A5_NO_SLOT},  /* not aggregate */
    {A5_G_LEVER_DOWNGRADE, 1, A5_NO_SLOT}, /* the intelligence lever */
    {A5_G_INTEL_STANDING, 0, A5_NO_SLOT},  /* the demonstration effect */
    {A5_G_ANT_HORIZON, 1, A5_NO_SLOT},     /* anticipation */
    {A5_G_PRICE_RESPONSE, 1, A5_G_PRICE_BUDGET},
};
#define A5_NSETTINGS (sizeof strategic_settings / sizeof *strategic_settings)

a5_model *a5_model_alloc(const a5_scenario *s)
{
    a5_model *m = a5_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->s = s;
    m->n = s->n;
    m->steps = s->steps;
    m->nblocs = s->nblocs;
    m->bloc_off = s->bloc_off;
    m->bloc_idx = s->bloc_idx;
    m->follow_pressure = a5_calloc((size_t)s->n, 1);
    m->at_first = a5_calloc((size_t)s->steps + 1, sizeof *m->at_first);
    m->at_list = a5_calloc(s->nevents + 1, sizeof *m->at_list);
    m->hazards = a5_calloc(s->nevents + 1, sizeof *m->hazards);
    m->member_off = a5_calloc((size_t)s->nblocs + 1, sizeof *m->member_off);
    m->member_idx = a5_calloc((size_t)s->bloc_off[s->n] + 1, sizeof *m->member_idx);
    m->bloc_ties = a5_calloc((size_t)s->n + 1, sizeof *m->bloc_ties);
    if (!m->follow_pressure || !m->at_first || !m->at_list || !m->hazards || !m->member_off ||
        !m->member_idx || !m->bloc_ties) {
        a5_model_free(m);
        return NULL;
    }
    for (int i = 0; i < s->n; i++) {
        size_t slot = a5_param_nslot(A5_N_US_PRESSURE, i, s->n);
        int varied = 0;
        for (size_t u = 0; u < s->nuncertain; u++)
            varied |= a5_target_covers(&s->uncertain[u].target, slot);
        for (size_t v = 0; v < s->nvaried; v++)
            varied |= a5_target_covers(&s->varied[v], slot);
        m->follow_pressure[i] = s->pressure_default[i] && !varied;
    }
    /* Scheduled events grouped by step, keeping file order within a step. */
    for (size_t e = 0; e < s->nevents; e++)
        if (s->events[e].at >= 0)
            m->at_first[s->events[e].at + 1]++;
        else
            m->hazards[m->nhazards++] = (int)e;
    for (int t = 0; t < s->steps; t++)
        m->at_first[t + 1] += m->at_first[t];
    int *fill = a5_calloc((size_t)s->steps + 1, sizeof *fill);
    if (!fill) {
        a5_model_free(m);
        return NULL;
    }
    for (size_t e = 0; e < s->nevents; e++)
        if (s->events[e].at >= 0) {
            int t = s->events[e].at;
            m->at_list[m->at_first[t] + fill[t]++] = (int)e;
        }
    free(fill);
    /* The bloc lists turned around: each bloc's members, in nation order. */
    for (int q = 0; q < s->bloc_off[s->n]; q++)
        m->member_off[s->bloc_idx[q] + 1]++;
    for (int b = 0; b < s->nblocs; b++)
        m->member_off[b + 1] += m->member_off[b];
    for (int i = 0; i < s->n; i++)
        for (int q = s->bloc_off[i]; q < s->bloc_off[i + 1]; q++)
            m->member_idx[m->member_off[s->bloc_idx[q]]++] = i;
    for (int b = s->nblocs; b > 0; b--) /* each start was moved on to the next bloc's */
        m->member_off[b] = m->member_off[b - 1];
    m->member_off[0] = 0;
    for (int i = 0; i < s->n; i++) /* whole numbers: the sum is exact in any order */
        for (int q = s->bloc_off[i]; q < s->bloc_off[i + 1]; q++) {
            const int b = s->bloc_idx[q];
            m->bloc_ties[i] += (double)(m->member_off[b + 1] - m->member_off[b] - 1);
        }
    for (size_t q = 0; q < A5_NSETTINGS; q++)
        m->strategic |= slot_can_be_on(s, strategic_settings[q].slot) &&
                        (strategic_settings[q].with == A5_NO_SLOT ||
                         slot_can_be_on(s, strategic_settings[q].with));
    m->reversal = slot_can_be_on(s, A5_G_REVERSAL_COST);
    return m;
}

void a5_model_free(a5_model *m)
{
    if (!m)
        return;
    free(m->follow_pressure);
    free(m->at_first);
    free(m->at_list);
    free(m->hazards);
    free(m->member_off);
    free(m->member_idx);
    free(m->bloc_ties);
    free(m->over_slot);
    free(m->over_value);
    free(m);
}

int a5_model_override(a5_model *m, size_t n, const size_t *slots, const double *values)
{
    size_t *sl = a5_malloc((n ? n : 1) * sizeof *sl);
    double *v = a5_malloc((n ? n : 1) * sizeof *v);
    if (!sl || !v) {
        free(sl);
        free(v);
        return A5_ENOMEM;
    }
    memcpy(sl, slots, n * sizeof *sl);
    memcpy(v, values, n * sizeof *v);
    for (size_t o = 0; o < n; o++) /* calibration may switch a strategic actor on */
        for (size_t q = 0; q < A5_NSETTINGS; q++)
            m->strategic |= (slots[o] == strategic_settings[q].slot ||
                             slots[o] == strategic_settings[q].with) && values[o] != 0;
    for (size_t o = 0; o < n; o++)
        m->reversal |= slots[o] == A5_G_REVERSAL_COST && values[o] != 0;
    free(m->over_slot);
    free(m->over_value);
    m->over_slot = sl;
    m->over_value = v;
    m->nover = n;
    return 0;
}

/* Whole cache lines, so no two threads' scratch arrays ever share one. */
static void *alloc_lines(size_t bytes)
{
    return a5_aligned_alloc(64, bytes);
}

/* Random words per step: two per hazard event, two per nation. */
static size_t step_words(const a5_model *m)
{
    return 2 * (size_t)m->nhazards + 2 * (size_t)m->n;
}

a5_work *a5_model_work_alloc(const a5_model *m)
{
    a5_work *w = alloc_lines(sizeof *w);
    if (!w)
        return NULL;
    memset(w, 0, sizeof *w);
    size_t n = (size_t)m->n;
    w->x = alloc_lines(m->s->nslots * sizeof *w->x);
    w->np = (n + 7) / 8 * 8;
    w->lane = alloc_lines(L_COUNT * w->np * sizeof *w->lane);
    if (w->lane) { /* all finite from the start: padding lanes are computed on */
        memset(w->lane, 0, L_COUNT * w->np * sizeof *w->lane);
        w->xn = w->lane + L_XN * w->np;
        w->rsk = w->lane + L_RSK * w->np;
        w->G = w->lane + L_G0 * w->np;
        w->sxn = w->lane + S_XN * w->np;
        w->srsk = w->lane + S_RSK * w->np;
        w->sD = w->lane + S_D * w->np;
        w->geff = w->lane + S_GEFF * w->np;
    }
    w->M = alloc_lines(((size_t)m->nblocs * 3 + 1) * sizeof *w->M);
    w->cost = alloc_lines(n * sizeof *w->cost);
    w->risk = alloc_lines(n * sizeof *w->risk);
    w->wcap = step_words(m) + 512;
    w->words = alloc_lines(w->wcap * sizeof *w->words);
    w->reviewers = alloc_lines(w->np * sizeof *w->reviewers);
    w->cand = alloc_lines(w->np * sizeof *w->cand);
    w->upos = alloc_lines(w->np * sizeof *w->upos);
    w->flags = alloc_lines(w->np * sizeof *w->flags);
    w->spol = alloc_lines(n);
    w->sh = alloc_lines(n * sizeof *w->sh);
    w->rng = a5_rng_alloc();
    w->istat = alloc_lines(n + 1);
    w->icred = alloc_lines((n + 1) * sizeof *w->icred);
    w->usl = alloc_lines((n + 1) * sizeof *w->usl);
    w->cnl = alloc_lines((n + 1) * sizeof *w->cnl);
    w->ties = alloc_lines((n + 1) * sizeof *w->ties);
    w->rret = alloc_lines((n + 1) * sizeof *w->rret);
    w->rdown = alloc_lines((n + 1) * sizeof *w->rdown);
    w->cret = alloc_lines((n + 1) * sizeof *w->cret);
    w->cdown = alloc_lines((n + 1) * sizeof *w->cdown);
    w->rut = alloc_lines(n + 1);
    w->rct = alloc_lines(n + 1);
    if (!w->rret || !w->rdown || !w->cret || !w->cdown || !w->rut || !w->rct || !w->x || !w->lane || !w->M || !w->cost || !w->risk || !w->words || !w->reviewers || !w->cand || !w->upos || !w->flags ||
        !w->spol || !w->sh || !w->rng || !w->istat || !w->icred || !w->usl || !w->cnl || !w->ties) {
        a5_model_work_free(w);
        return NULL;
    }
    memset(w->istat, 0, n + 1);
    memset(w->icred, 0, (n + 1) * sizeof *w->icred);
    memset(w->usl, 0, (n + 1) * sizeof *w->usl);
    memset(w->cnl, 0, (n + 1) * sizeof *w->cnl);
    memset(w->rret, 0, (n + 1) * sizeof *w->rret);
    memset(w->rdown, 0, (n + 1) * sizeof *w->rdown);
    memset(w->rut, 0, n + 1);
    memset(w->rct, 0, n + 1);
    return w;
}

void a5_model_work_free(a5_work *w)
{
    if (!w)
        return;
    free(w->x);
    free(w->lane);
    free(w->M);
    free(w->cost);
    free(w->risk);
    free(w->words);
    free(w->reviewers);
    free(w->cand);
    free(w->upos);
    free(w->flags);
    free(w->spol);
    free(w->sh);
    free(w->istat);
    free(w->icred);
    free(w->usl);
    free(w->cnl);
    free(w->ties);
    free(w->rret);
    free(w->rdown);
    free(w->cret);
    free(w->cdown);
    free(w->rut);
    free(w->rct);
    if (w->rng)
        gsl_rng_free(w->rng);
    free(w);
}

double *a5_model_work_x(a5_work *w) { return w->x; }

const int8_t *a5_model_intel_status(const a5_work *w) { return w->istat; }

void a5_model_copy_lever(a5_work *dst, const a5_work *src, int i)
{
    dst->istat[i] = src->istat[i];
    dst->lane[S_ST * dst->np + (size_t)i] = src->lane[S_ST * src->np + (size_t)i];
    dst->lane[S_DUE * dst->np + (size_t)i] = src->lane[S_DUE * src->np + (size_t)i];
    dst->icred[i] = src->icred[i];
    dst->usl[i] = src->usl[i];
    dst->cnl[i] = src->cnl[i];
}

/* Whether global slot can be other than 0 in some replicate of s: not 0 in the
 * base, in a design point, or drawn or changed by an event. */
static int slot_can_be_on(const a5_scenario *s, size_t slot)
{
    int on = s->base[slot] != 0;
    for (size_t u = 0; u < s->nuncertain; u++)
        on |= a5_target_covers(&s->uncertain[u].target, slot);
    for (size_t e = 0; e < s->nevents; e++)
        for (size_t o = 0; o < s->events[e].nops; o++)
            on |= a5_target_covers(&s->events[e].ops[o].target, slot);
    for (size_t v = 0; v < s->nvaried; v++)
        if (a5_target_covers(&s->varied[v], slot))
            for (long p = 0; p < s->npoints; p++)
                on |= s->points[(size_t)p * s->nvaried + v] != 0;
    return on;
}

int a5_model_uses_lever(const a5_scenario *s) { return slot_can_be_on(s, A5_G_LEVER_DOWNGRADE); }

void a5_model_init(const a5_model *m, long p, long r, double *x, a5_rng_state *rs)
{
    const a5_scenario *s = m->s;
    a5_scenario_point_params(s, p, x);
    /* rs belongs to a gsl_rng: seek through a throwaway wrapper of the same state. */
    gsl_rng g = {a5_rng_philox, rs};
    /* seed.common: every point's replicate r shares stream (seed, 0, r); else in a
     * robust design every point of world w, (seed, w, r). */
    const uint32_t stream = s->common ? 0u : s->nworlds ? (uint32_t)(p % s->nworlds) : (uint32_t)p;
    a5_rng_seek(&g, s->seed, stream, (uint32_t)r);
    for (size_t u = 0; u < s->nuncertain; u++) {
        const a5_uncertain *un = &s->uncertain[u];
        for (size_t q = 0; q < un->target.nslots; q++)
            x[un->target.slots[q]] = a5_param_clamp(un->target.param, a5_rng_draw(&un->dist, &g));
    }
    for (size_t o = 0; o < m->nover; o++)
        x[m->over_slot[o]] = m->over_value[o];
    for (int i = 0; i < m->n; i++)
        if (m->follow_pressure[i])
            x[a5_param_nslot(A5_N_US_PRESSURE, i, m->n)] = x[A5_G_US_PRESSURE];
}

static void apply_event(const a5_event *e, double *x)
{
    for (size_t o = 0; o < e->nops; o++) {
        const a5_event_op *op = &e->ops[o];
        for (size_t q = 0; q < op->target.nslots; q++) {
            size_t slot = op->target.slots[q];
            double v = op->op == A5_OP_SET ? op->value : x[slot] + op->value;
            x[slot] = a5_param_clamp(op->target.param, v);
        }
    }
}

/* Bring x's policies, shares and pressures up to the lanes' (a step keeps them
 * in the lanes; x is brought up to date only when it is read). */
static void state_to_x(const a5_model *m, double *x, a5_work *w)
{
    if (!w->stale)
        return;
    const int n = m->n;
    memcpy(x + a5_param_nslot(A5_N_POLICY, 0, n), w->lane + L_POL * w->np, (size_t)n * sizeof *x);
    memcpy(x + a5_param_nslot(A5_N_HIGH_RISK_SHARE, 0, n), w->lane + L_H * w->np,
           (size_t)n * sizeof *x);
    memcpy(x + a5_param_nslot(A5_N_US_PRESSURE, 0, n), w->lane + L_P * w->np, (size_t)n * sizeof *x);
    w->stale = 0;
}

static void state_from_x(const a5_model *m, const double *x, a5_work *w)
{
    const int n = m->n;
    memcpy(w->lane + L_POL * w->np, x + a5_param_nslot(A5_N_POLICY, 0, n), (size_t)n * sizeof *x);
    memcpy(w->lane + L_H * w->np, x + a5_param_nslot(A5_N_HIGH_RISK_SHARE, 0, n),
           (size_t)n * sizeof *x);
    memcpy(w->lane + L_P * w->np, x + a5_param_nslot(A5_N_US_PRESSURE, 0, n), (size_t)n * sizeof *x);
    w->stale = 0;
}

/* Step t's events; each hazard draws from two words. Returns whether any applied
 * (x is then up to date, and the lanes are not). */
static int events(const a5_model *m, double *x, int t, const uint32_t *words, a5_work *w)
{
    const a5_scenario *s = m->s;
    int any = m->at_first[t + 1] > m->at_first[t];
    for (int h = 0; h < m->nhazards; h++)
        any |= a5_rng_uniform53(words[2 * h], words[2 * h + 1]) < s->events[m->hazards[h]].hazard;
    if (!any)
        return 0;
    state_to_x(m, x, w);
    for (int q = m->at_first[t]; q < m->at_first[t + 1]; q++)
        apply_event(&s->events[m->at_list[q]], x);
    for (int h = 0; h < m->nhazards; h++) {
        const a5_event *e = &s->events[m->hazards[h]];
        if (a5_rng_uniform53(words[2 * h], words[2 * h + 1]) < e->hazard)
            apply_event(e, x);
    }
    return 1;
}

/* Terms that change only when parameters do (draws, events): the price advantage
 * D, the natural shares x_i and the risk scales (a5_derive_step), and the lanes of
 * the attributes. */
static void prepare_params(const a5_model *m, const double *x, a5_work *w)
{
    a5_derive_step(m->s, x, NULL, NULL, A5_DERIVE_PRICES, &w->dv, NULL, w->xn, w->rsk, NULL);
    a5_mod_input_lanes(m, x, w);
}

/* Peer weights of nation i by option, sum_{j != i} w_ij g_j [s_j = k], into V[k]. */
static inline void peer_weights(const a5_model *m, const double *x, const a5_work *w, int i,
                                double V[3])
{
    const int s = (int)w->lane[L_POL * w->np + (size_t)i];
    a5_peer_weights(m->bloc_idx + m->bloc_off[i], m->bloc_off[i + 1] - m->bloc_off[i], w->M, w->T,
                    s, x[a5_param_nslot(A5_N_INFLUENCE, i, m->n)], x[A5_G_BASE_TIE], V);
}

/* Terms that change when policies do: retaliation R (a5_derive_step) and the bloc
 * sums. */
A5_VECTOR_CLONES static void prepare_policies(const a5_model *m, const double *x, a5_work *w)
{
    const double *pol = w->lane + L_POL * w->np; /* the current policies */
    a5_derive_step(m->s, x, pol, NULL, A5_DERIVE_POLICIES, &w->dv, NULL, NULL, NULL, NULL);
    if (x[A5_G_W_PEER] != 0)
        a5_mod_peer_sums(m, x + a5_param_nslot(A5_N_INFLUENCE, 0, m->n), pol, w);
    else
        w->T[0] = w->T[1] = w->T[2] = 0;
}

void a5_model_prepare(const a5_model *m, const double *x, a5_work *w)
{
    w->scache = w->sinfl = 0; /* x may hold other parameters and policies now */
    state_from_x(m, x, w);
    prepare_params(m, x, w);
    prepare_policies(m, x, w);
    const int peers = x[A5_G_W_PEER] != 0;
    for (int i = 0; i < m->n; i++) {
        double v[3] = {0, 0, 0}, G[3];
        if (peers)
            peer_weights(m, x, w, i, v);
        a5_peer_shares(v[0], v[1], v[2], G);
        for (int k = 0; k < 3; k++)
            w->G[(size_t)k * w->np + i] = G[k];
    }
    w->changed = 0;
}

/* Nation i's decision inputs from state x and the terms a5_model_prepare left in w. */
static void nation_in(const a5_model *m, const double *x, const a5_work *w, int i, a5_nation_in *v)
{
    const int n = m->n;
    v->s = x[a5_param_nslot(A5_N_POLICY, i, n)];
    v->h = x[a5_param_nslot(A5_N_HIGH_RISK_SHARE, i, n)];
    v->P = x[a5_param_nslot(A5_N_US_PRESSURE, i, n)];
    v->xn = w->xn[i];
    v->rsk = w->rsk[i];
    v->rm = w->lane[L_RM * w->np + (size_t)i];
#define A5_LOAD(name, attr) v->name = x[a5_param_nslot(attr, i, n)];
    A5_MODEL_NATION_INPUTS(A5_LOAD)
#undef A5_LOAD
    for (int k = 0; k < 3; k++)
        v->G[k] = w->G[(size_t)k * w->np + (size_t)i];
}

void a5_model_utility(const a5_model *m, const double *x, const a5_work *w, int i, double U[3])
{
    a5_globals g;
    a5_globals_of(x, &w->dv, &g);
    a5_nation_in v;
    nation_in(m, x, w, i, &v);
    for (int k = 0; k < 3; k++)
        U[k] = a5_utility(&g, &v, k, 0);
}

double a5_model_exp(double x) { return a5_exp_nonpos(x); }

void a5_model_choice_probs(double lambda, const double U[3], double p[3])
{
    double e[3], sum = a5_softmax3(lambda, U, e);
    for (int k = 0; k < 3; k++)
        p[k] = e[k] / sum;
}

/* The per-step constants of the state update. */
typedef struct {
    a5_globals g;
    double renew, L, esc, pmax;
} step_consts;

/* The choices of the nq reviewing nations idx[0 .. nq): inputs in lane idx[q]
 * (the listed attributes in_*), G0..G2 their peer weights in lane q; PICK[q]
 * gets the option drawn with UC. a5_decide is branch-free, so the compiler runs
 * it several nations per instruction (A5_VECTOR_CLONES: the widest vectors the
 * machine has; every width gives the same bits, as each lane does the same IEEE
 * operations and nothing is contracted into FMAs). nq is a whole number of
 * vectors; lanes past the reviewers hold finite leftovers whose picks are not
 * used. Only 64-bit lanes: a narrower type in the loop would make the compiler
 * take 16 to 64 nations per iteration, more than most steps have. */
#define A5_DECIDE_PARAMS                                                                           \
    A5_DECIDE_IN_PARAMS const double *restrict G0, const double *restrict G1,                      \
        const double *restrict G2, const double *restrict UC, double *restrict PICK
#define A5_DECIDE_ARGS A5_DECIDE_IN_ARGS G0, G1, G2, UC, PICK
static inline __attribute__((always_inline)) void decide_packed_at(int fast, A5_DECIDE_PARAMS)
{
    const a5_globals g = *gp; /* a local copy: no store can alias it */
    for (size_t q = 0; q < nq; q++) {
        const int i = idx[q]; /* gathered: vector gathers where the machine has them */
        A5_DECIDE_NATION_IN(v, i)
        a5_peer_shares(G0[q], G1[q], G2[q], v.G);
        PICK[q] = a5_decide(&g, &v, UC[i], fast);
    }
}
/* Without the reversal term (w_rev = 0, where it is exactly +0), and with it. */
A5_VECTOR_CLONES static void decide_packed(A5_DECIDE_PARAMS)
{
    decide_packed_at(A5_U_FAST | A5_U_NO_REVERSAL, A5_DECIDE_ARGS);
}
A5_VECTOR_CLONES static void decide_packed_rev(A5_DECIDE_PARAMS)
{
    decide_packed_at(A5_U_FAST, A5_DECIDE_ARGS);
}
#undef A5_DECIDE_ARGS
#undef A5_DECIDE_PARAMS

/* The state update of nations 0..np-1 at their new policies K (every lane,
 * padding included): the step's C_i and S_i at the new policy, then h_i and P_i.
 * Returns whether any policy changed. */
A5_VECTOR_CLONES static int update_lanes(const step_consts *c, size_t np, double *restrict pol,
                                         double *restrict hs, double *restrict ps,
                                         const double *restrict K, const double *restrict xn,
                                         const double *restrict rsk, const double *restrict bsens,
                                         double *restrict dcost, double *restrict drisk)
{
    const a5_globals g = c->g;
    const double renew = c->renew, L = c->L, esc = c->esc, pmax = c->pmax;
    long changed = 0;
    for (size_t i = 0; i < np; i++) {
        const double s = pol[i], h = hs[i], k = K[i];
        changed |= k != s;
        const a5_option o = a5_option_of(k, g.kappa, g.psi);
        dcost[i] = a5_cost(&g, bsens[i], xn[i], h, o.cap);
        drisk[i] = a5_risk(&g, rsk[i], xn[i], h, o);
        hs[i] = a5_installed_base(h, xn[i], o.cap, renew, L);
        ps[i] = a5_pressure(ps[i], esc, pmax, o.phi);
        pol[i] = k;
    }
    return changed != 0;
}

/* Review flags and choice draws of nations 0..n-1 from two words each. */
A5_VECTOR_CLONES static void draws(const uint32_t *restrict nw, const double *restrict rho, int n,
                                   double *restrict review, double *restrict uc)
{
    for (int i = 0; i < n; i++) {
        const double u = a5_rng_uniform53(nw[2 * i], nw[2 * i + 1]), c = u / rho[i];
        review[i] = u < rho[i];
        uc[i] = c < 0x1.fffffffffffffp-1 ? c : 0x1.fffffffffffffp-1; /* rounding could give 1 */
    }
}

static void add_to(double *restrict a, const double *restrict b, int n)
{
    for (int i = 0; i < n; i++)
        a[i] += b[i];
}

/* The review rates of step t: rho_i, raised by the windows and the attention
 * (docs/model.md, "Timing"); x's own when neither is on (the same bits). */
static const double *review_rates(const a5_model *m, const double *x, int t, a5_work *w)
{
    const a5_scenario *s = m->s;
    const int n = m->n;
    const double *rho = x + a5_param_nslot(A5_N_REVIEW_RATE, 0, n);
    if (!s->window && !s->nattention)
        return rho;
    const double bw = s->window ? x[A5_G_WINDOW_BOOST] : 0;
    const double a = a5_attention(s->att_step, s->att_salience, s->nattention,
                                  x[A5_G_ATTENTION_WEIGHT], x[A5_G_ATTENTION_DECAY], t);
    if (bw == 0 && a == 0)
        return rho;
    const unsigned char *win = s->window ? s->window + (size_t)t * (size_t)n : NULL;
    double *r = w->lane + L_RHO * w->np;
    for (int i = 0; i < n; i++)
        r[i] = a5_review_rate(rho[i], win && win[i] ? bw : 0, a);
    return r;
}

void a5_mod_removed_shares(a5_work *w, int n, const double *pol, const double *h, int t)
{
    double *mark = w->lane + L_MARK * w->np, *mpol = w->lane + L_MPOL * w->np,
           *rm = w->lane + L_RM * w->np;
    for (int i = 0; i < n; i++) {
        if (t == 0 || pol[i] != mpol[i]) {
            mark[i] = h[i];
            mpol[i] = pol[i];
        }
        rm[i] = a5_removed(mark[i], h[i]);
    }
}

/* Whether any strategic actor is on at this step (strategic_settings). */
static inline int strategic_on(const double *x)
{
    int on = 0;
    for (size_t q = 0; q < A5_NSETTINGS; q++) {
        const double v = x[strategic_settings[q].slot];
        on |= (strategic_settings[q].positive ? v > 0 : v != 0) &&
              (strategic_settings[q].with == A5_NO_SLOT || x[strategic_settings[q].with] > 0);
    }
    return on;
}

/* Step t with a strategic actor on, after the events (a5_mod_step_strategic in
 * model_strategy.c). nw: the nations' two words each; fresh: x's state moved since
 * the lanes last held it (a new replicate, or an event). */
static void step_strategic(const a5_model *m, double *x, int t, const a5_rng_state *rs,
                           const uint32_t *nw, a5_work *w, double *cost, double *risk,
                           int8_t *rpol, float *rh, int fresh)
{
    state_to_x(m, x, w);
    if (fresh) /* the decisions read the state from the lanes too */
        state_from_x(m, x, w);
    if (m->reversal)
        a5_mod_removed_shares(w, m->n, x + a5_param_nslot(A5_N_POLICY, 0, m->n),
                              x + a5_param_nslot(A5_N_HIGH_RISK_SHARE, 0, m->n), t);
    draws(nw, review_rates(m, x, t, w), m->n, w->lane + L_REVIEW * w->np, w->lane + L_UC * w->np);
    a5_mod_step_strategic(m, x, t, rs, w, cost, risk, rpol, rh);
    state_from_x(m, x, w);
    w->dirty = 1;
}

/* Step t, recording the new policies and shares into rpol and rh. */
A5_VECTOR_CLONES static void step(const a5_model *m, double *x, int t, a5_rng_state *rs, a5_work *w, double *cost,
                 double *risk, int8_t *rpol, float *rh)
{
    const int n = m->n;
    const size_t need = step_words(m), np = w->np;
    if (t == 0) /* a new replicate: its stream was just positioned by a5_model_init */
        w->wpos = w->wlen = 0;
    if (w->wlen - w->wpos < need) {
        memmove(w->words, w->words + w->wpos, (w->wlen - w->wpos) * sizeof *w->words);
        w->wlen -= w->wpos;
        w->wpos = 0;
        a5_rng_fill(rs, w->words + w->wlen, w->wcap - w->wlen);
        w->wlen = w->wcap;
    }
    const uint32_t *words = w->words + w->wpos;
    w->wpos += need;

    if (t == 0) /* x holds the state a5_model_init set up */
        w->stale = 0;
    if (t == 0 && m->strategic) {
        w->dirty = 0;
        a5_mod_lever_clear(w, n);
        memset(w->icred, 0, (size_t)n * sizeof *w->icred);
        memset(w->usl, 0, (size_t)n * sizeof *w->usl);
        memset(w->cnl, 0, (size_t)n * sizeof *w->cnl);
    }
    int ev = events(m, x, t, words, w); /* x's parameters are current (only the state may not be) */
    if (m->strategic && !(x[A5_G_LEVER_DOWNGRADE] > 0))
        a5_mod_lever_clear(w, n); /* the lever off: no threat or downgrade stands */
    if (t == 0 || ev) /* a parameter may have moved: the strategic step's caches go */
        w->scache = w->sinfl = 0;
    if (m->strategic) {
        if (strategic_on(x)) {
            step_strategic(m, x, t, rs, words + 2 * m->nhazards, w, cost, risk, rpol, rh,
                           t == 0 || ev);
            return;
        }
        w->scache = w->sinfl = 0; /* this step moves policies the caches do not see */
        /* no strategic step: no allocation for the actors to react to next step */
        memset(w->usl, 0, (size_t)n * sizeof *w->usl);
        memset(w->cnl, 0, (size_t)n * sizeof *w->cnl);
        if (w->dirty) { /* the strategic step ran last: every cached term is stale */
            ev = 1;
            w->dirty = 0;
        }
    }
    if (t == 0 || ev) {
        state_from_x(m, x, w);
        prepare_params(m, x, w);
    }
    if (t == 0 || ev || w->changed)
        prepare_policies(m, x, w);
    double *lane = w->lane;
    /* One 53-bit uniform u per nation: it reviews when u < rho_i, and then
     * u / rho_i, uniform on [0, 1) given that, is its choice draw. */
    const uint32_t *nw = words + 2 * m->nhazards;
    double *review = lane + L_REVIEW * np, *uc = lane + L_UC * np;
    if (m->reversal)
        a5_mod_removed_shares(w, n, lane + L_POL * np, lane + L_H * np, t);
    draws(nw, review_rates(m, x, t, w), n, review, uc);
    int nrev = 0;
    for (int i = 0; i < n; i++) {
        w->reviewers[nrev] = i; /* appended without a branch: kept when i reviews */
        nrev += review[i] != 0;
    }
    step_consts c;
    a5_globals_of(x, &w->dv, &c.g);
    c.renew = x[A5_G_RENEWAL];
    c.L = x[A5_G_PHASE_OUT_STEPS];
    c.esc = x[A5_G_US_ESCALATION];
    c.pmax = x[A5_G_US_MAX_PRESSURE];
#define LANE(k) (lane + (size_t)(k) * np)
    /* The reviewing nations' inputs, packed; their peer shares are computed here,
     * where they are used. Lanes past nrev keep whatever they held (finite). */
    const int peers = x[A5_G_W_PEER] != 0;
    for (int q = 0; q < nrev; q++) {
        double V[3] = {0, 0, 0};
        if (peers)
            peer_weights(m, x, w, w->reviewers[q], V);
        LANE(C_G0)[q] = V[0];
        LANE(C_G1)[q] = V[1];
        LANE(C_G2)[q] = V[2];
    }
    const size_t nq = a5_mod_pad(w->reviewers, nrev); /* the extra lanes decide, unused */
#define A5_ARG(name, attr) LANE(L_IN_##name),
    (c.g.wrev != 0 ? decide_packed_rev : decide_packed)(&c.g, nq, w->reviewers, LANE(L_POL), LANE(L_H), LANE(L_P), LANE(L_XN),
                  LANE(L_RSK), LANE(L_RM), A5_MODEL_NATION_INPUTS(A5_ARG) LANE(C_G0), LANE(C_G1), LANE(C_G2),
                  LANE(L_UC), LANE(C_PICK));
#undef A5_ARG
    double *K = LANE(L_K);
    memcpy(K, LANE(L_POL), np * sizeof *lane);
    for (int q = 0; q < nrev; q++)
        K[w->reviewers[q]] = LANE(C_PICK)[q];
    /* Every cross-nation term was computed from X(t) before, so updating nation i
     * in place cannot affect nation j's decision: the update is synchronous. */
    w->changed = update_lanes(&c, np, LANE(L_POL), LANE(L_H), LANE(L_P), K, LANE(L_XN),
                              LANE(L_RSK), LANE(L_IN_b), LANE(L_DCOST), LANE(L_DRISK));
    const double *npol = LANE(L_POL), *nh = LANE(L_H);
    add_to(cost, LANE(L_DCOST), n);
    add_to(risk, LANE(L_DRISK), n);
#undef LANE
    w->stale = 1; /* the new state is in the lanes only */
    if (m->s->record & (A5_REC_RETALIATION | A5_REC_CUM_RETALIATION)) /* R_i(k) = R(t) for all */
        for (int i = 0; i < n; i++) {
            w->rret[i] = a5_option_of(npol[i], c.g.kappa, c.g.psi).phi * w->dv.R;
        }
    if (m->s->record & (A5_REC_US_TARGET | A5_REC_CHINA_TARGET)) { /* no strategy aims */
        memset(w->rut, 0, (size_t)n);
        memset(w->rct, 0, (size_t)n);
    }
    if (m->s->record & A5_REC_CUM_DOWNGRADE) /* the lever is off here */
        memset(w->rdown, 0, (size_t)n * sizeof *w->rdown);
    /* One type per loop: each vectorises. */
    for (int i = 0; i < n; i++)
        rpol[i] = (int8_t)(int)npol[i];
    for (int i = 0; i < n; i++)
        rh[i] = (float)nh[i];
}

void a5_model_step(const a5_model *m, double *x, int t, a5_rng_state *rs, a5_work *w,
                   double *cost, double *risk)
{
    step(m, x, t, rs, w, cost, risk, w->spol, w->sh);
    state_to_x(m, x, w);
}

int a5_model_run(const a5_model *m, long p, long r, a5_work *w, a5_records *rec, long j)
{
    const int n = m->n, steps = m->steps;
    double *x = w->x;
    a5_rng_state *rs = a5_rng_state_of(w->rng);
    a5_model_init(m, p, r, x, rs);
    memset(w->cost, 0, (size_t)n * sizeof *w->cost);
    memset(w->risk, 0, (size_t)n * sizeof *w->risk);
    memset(w->cret, 0, (size_t)n * sizeof *w->cret);
    memset(w->cdown, 0, (size_t)n * sizeof *w->cdown);
    size_t row0 = (size_t)j * (size_t)steps * (size_t)n;
    int16_t *fb = rec->first_ban + (size_t)j * n;
    int16_t *fr = rec->first_restrict ? rec->first_restrict + (size_t)j * n : NULL;
    for (int i = 0; i < n; i++)
        fb[i] = -1;
    if (fr)
        for (int i = 0; i < n; i++)
            fr[i] = -1;
    const double *pol = x + a5_param_nslot(A5_N_POLICY, 0, n);
    const double *hs = x + a5_param_nslot(A5_N_HIGH_RISK_SHARE, 0, n);
    const double *ps = x + a5_param_nslot(A5_N_US_PRESSURE, 0, n);
    const double *lane_ps = w->lane + L_P * w->np; /* the state lives there during the run */
    for (int t = 0; t < steps; t++) {
        size_t row = row0 + (size_t)t * n;
        step(m, x, t, rs, w, w->cost, w->risk, rec->policy + row, rec->h + row);
        for (int i = 0; i < n; i++) /* stored either way: vectorises */
            fb[i] = rec->policy[row + i] == A5_BAN && fb[i] < 0 ? (int16_t)t : fb[i];
        if (fr)
            for (int i = 0; i < n; i++)
                fr[i] = rec->policy[row + i] >= A5_RESTRICT && fr[i] < 0 ? (int16_t)t : fr[i];
        if (rec->P)
            for (int i = 0; i < n; i++)
                rec->P[row + i] = (float)lane_ps[i];
        if (rec->intel_status)
            memcpy(rec->intel_status + row, w->istat, (size_t)n);
        if (rec->retaliation)
            for (int i = 0; i < n; i++)
                rec->retaliation[row + i] = (float)w->rret[i];
        if (rec->us_target)
            memcpy(rec->us_target + row, w->rut, (size_t)n);
        if (rec->china_target)
            memcpy(rec->china_target + row, w->rct, (size_t)n);
        if (m->s->record & (A5_REC_CUM_RETALIATION | A5_REC_CUM_DOWNGRADE))
            for (int i = 0; i < n; i++) { /* c_i as it stands after step t's events */
                w->cret[i] += x[a5_param_nslot(A5_N_CHINA_TRADE, i, n)] * w->rret[i];
                w->cdown[i] += w->rdown[i];
            }
    }
    for (int i = 0; i < n; i++) {
        if (rec->cum_retaliation)
            rec->cum_retaliation[(size_t)j * n + i] = (float)w->cret[i];
        if (rec->cum_downgrade)
            rec->cum_downgrade[(size_t)j * n + i] = (float)w->cdown[i];
    }
    state_to_x(m, x, w);
    /* NaN and Inf propagate into the sums and the final state, so checking those
     * catches a non-finite value anywhere in the run. */
    int bad = 0;
    for (int i = 0; i < n; i++) {
        rec->final_policy[(size_t)j * n + i] = (int8_t)pol[i];
        rec->cum_cost[(size_t)j * n + i] = (float)w->cost[i];
        rec->cum_risk[(size_t)j * n + i] = (float)w->risk[i];
        bad |= !isfinite(w->cost[i]) || !isfinite(w->risk[i]) || !isfinite(hs[i]) || !isfinite(ps[i]);
    }
    if (rec->outcomes)
        a5_model_outcomes(m->s, rec, j);
    return bad ? A5_EFAILED : 0;
}
