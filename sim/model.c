/* The reference model (../shared/MODEL.md). See a5_model.h.
 *
 * Peer term in O(N x blocs): with w_ij = |B_i ∩ B_j| + base_tie,
 *   sum_{j != i} w_ij g_j [s_j = k]
 *     = sum_{b in B_i} (M_bk - g_i [s_i = k]) + base_tie (T_k - g_i [s_i = k])
 * where M_bk sums g_j [s_j = k] over bloc b's members and T_k over all nations.
 * Subtracting i's own term per bloc keeps a lone member's sum exactly 0. */
#include "a5_model.h"
#include "a5_vector.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct a5_model {
    const a5_scenario *s;
    int n, steps, nblocs;
    const int *bloc_off, *bloc_idx;
    int *member_off, *member_idx; /* bloc b's members in nation order: member_idx[member_off[b] ..) */
    unsigned char *follow_pressure; /* P_i(0) := us.pressure after draws */
    int *at_first;                  /* events by step: at_list[at_first[t] .. at_first[t+1]) */
    int *at_list;
    int *hazards;
    int nhazards;
    size_t nover; /* a5_model_override */
    size_t *over_slot;
    double *over_value;
};

/* Per-nation arrays of the step loop, each np = n rounded up to 8 doubles long
 * (one 64-byte vector), so the vectorised loop runs whole vectors only; the
 * lanes past n hold zeros and their results are never used. */
enum {
    L_POL, L_H, L_P,                        /* state, copied from x and back each step */
    L_XN, L_RSK,                            /* natural share, risk scale */
    L_B, L_TIES, L_INTEL, L_CTRADE, L_HOME, /* attributes, copied from x */
    L_G0, L_G1, L_G2,                       /* peer shares (a5_model_prepare) */
    L_REVIEW, L_UC,                         /* review flag (0/1), choice draw */
    L_DCOST, L_DRISK,                       /* the step's C_i and S_i */
    L_K,                                    /* the step's new policies */
    /* Per reviewing nation (q-th reviewer in lane q): utilities and softmax, most
     * of a step's arithmetic, are computed for them alone, a quarter of the
     * nations at the usual review rate. Peer weights, and the option drawn. */
    C_G0, C_G1, C_G2, C_PICK,
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
    double D, R; /* price advantage, retaliation */
    int changed; /* some policy changed in the last step: R and the bloc sums are stale */
    int stale;   /* policies, shares and pressures in x are behind those in the lanes */
    double *cost, *risk;
    /* Random words of the step, taken from a buffer the Philox stream fills a
     * few hundred words at a time (its vectorised form needs that many). */
    uint32_t *words;
    size_t wcap, wpos, wlen;
    int *reviewers; /* the nations that review this step */
    int8_t *spol;    /* records of a5_model_step, which keeps none */
    float *sh;
    gsl_rng *rng;
};

static int targets_slot(const a5_target *t, size_t slot)
{
    for (size_t i = 0; i < t->nslots; i++)
        if (t->slots[i] == slot)
            return 1;
    return 0;
}

a5_model *a5_model_alloc(const a5_scenario *s)
{
    a5_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->s = s;
    m->n = s->n;
    m->steps = s->steps;
    m->nblocs = s->nblocs;
    m->bloc_off = s->bloc_off;
    m->bloc_idx = s->bloc_idx;
    m->follow_pressure = calloc((size_t)s->n, 1);
    m->at_first = calloc((size_t)s->steps + 1, sizeof *m->at_first);
    m->at_list = calloc(s->nevents + 1, sizeof *m->at_list);
    m->hazards = calloc(s->nevents + 1, sizeof *m->hazards);
    m->member_off = calloc((size_t)s->nblocs + 1, sizeof *m->member_off);
    m->member_idx = calloc((size_t)s->bloc_off[s->n] + 1, sizeof *m->member_idx);
    if (!m->follow_pressure || !m->at_first || !m->at_list || !m->hazards || !m->member_off ||
        !m->member_idx) {
        a5_model_free(m);
        return NULL;
    }
    for (int i = 0; i < s->n; i++) {
        size_t slot = a5_param_nslot(A5_N_US_PRESSURE, i, s->n);
        int varied = 0;
        for (size_t u = 0; u < s->nuncertain; u++)
            varied |= targets_slot(&s->uncertain[u].target, slot);
        for (size_t v = 0; v < s->nvaried; v++)
            varied |= targets_slot(&s->varied[v], slot);
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
    int *fill = calloc((size_t)s->steps + 1, sizeof *fill);
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
    free(m->over_slot);
    free(m->over_value);
    free(m);
}

int a5_model_override(a5_model *m, size_t n, const size_t *slots, const double *values)
{
    size_t *sl = malloc((n ? n : 1) * sizeof *sl);
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!sl || !v) {
        free(sl);
        free(v);
        return A5_ENOMEM;
    }
    memcpy(sl, slots, n * sizeof *sl);
    memcpy(v, values, n * sizeof *v);
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
    return aligned_alloc(64, (bytes + 63) / 64 * 64);
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
    }
    w->M = alloc_lines(((size_t)m->nblocs * 3 + 1) * sizeof *w->M);
    w->cost = alloc_lines(n * sizeof *w->cost);
    w->risk = alloc_lines(n * sizeof *w->risk);
    w->wcap = step_words(m) + 512;
    w->words = alloc_lines(w->wcap * sizeof *w->words);
    w->reviewers = alloc_lines(w->np * sizeof *w->reviewers);
    w->spol = alloc_lines(n);
    w->sh = alloc_lines(n * sizeof *w->sh);
    w->rng = a5_rng_alloc();
    if (!w->x || !w->lane || !w->M || !w->cost || !w->risk || !w->words || !w->reviewers ||
        !w->spol || !w->sh || !w->rng) {
        a5_model_work_free(w);
        return NULL;
    }
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
    free(w->spol);
    free(w->sh);
    if (w->rng)
        gsl_rng_free(w->rng);
    free(w);
}

double *a5_model_work_x(a5_work *w) { return w->x; }

void a5_model_init(const a5_model *m, long p, long r, double *x, a5_rng_state *rs)
{
    const a5_scenario *s = m->s;
    a5_scenario_point_params(s, p, x);
    /* rs belongs to a gsl_rng: seek through a throwaway wrapper of the same state. */
    gsl_rng g = {a5_rng_philox, rs};
    a5_rng_seek(&g, s->seed, (uint32_t)p, (uint32_t)r);
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

/* A uniform double in [0, 1) with 53 bits from two words, as a5_rng_uniform. */
static inline double uniform53(uint32_t a, uint32_t b)
{
    return ((double)(int32_t)(a >> 5) * 67108864.0 + (double)(int32_t)(b >> 6)) *
           (1.0 / 9007199254740992.0);
}

/* Step t's events; each hazard draws from two words. Returns how many applied. */
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
        any |= uniform53(words[2 * h], words[2 * h + 1]) < s->events[m->hazards[h]].hazard;
    if (!any)
        return 0;
    state_to_x(m, x, w);
    for (int q = m->at_first[t]; q < m->at_first[t + 1]; q++)
        apply_event(&s->events[m->at_list[q]], x);
    for (int h = 0; h < m->nhazards; h++) {
        const a5_event *e = &s->events[m->hazards[h]];
        if (uniform53(words[2 * h], words[2 * h + 1]) < e->hazard)
            apply_event(e, x);
    }
    return 1;
}

/* Terms that change only when parameters do (draws, events): the price advantage
 * D, the natural shares x_i and the risk scales r_i (1 + sigma) (1 - m_i). */
static void prepare_params(const a5_model *m, const double *x, a5_work *w)
{
    const a5_scenario *s = m->s;
    const int n = m->n;
    /* Price advantage D from the cheapest high-risk and cheapest trusted vendor. */
    double ph = HUGE_VAL, pa = HUGE_VAL;
    for (int v = 0; v < s->nvendors; v++) {
        double price = x[a5_param_vslot(v, n)];
        if (s->vendor_high_risk[v])
            ph = price < ph ? price : ph;
        else
            pa = price < pa ? price : pa;
    }
    double D = (pa - ph) / pa;
    w->D = D > 0 ? D : 0;
    const double *thr = x + a5_param_nslot(A5_N_THREAT, 0, n);
    const double *mit = x + a5_param_nslot(A5_N_MITIGATION, 0, n);
    const double gamma = x[A5_G_PRICE_ELASTICITY], sigma = x[A5_G_SUPPLY_RISK],
                 omega = x[A5_G_OPERATOR_RISK_WEIGHT];
    for (int i = 0; i < n; i++) {
        w->xn[i] = 1.0 / (1.0 + exp(-gamma * (w->D - sigma - omega * thr[i])));
        w->rsk[i] = thr[i] * (1 + sigma) * (1 - mit[i]);
    }
    static const int attr[][2] = {{L_B, A5_N_COST_SENSITIVITY}, {L_TIES, A5_N_US_TIES},
                                  {L_INTEL, A5_N_INTEL}, {L_CTRADE, A5_N_CHINA_TRADE},
                                  {L_HOME, A5_N_HOME_VENDOR}};
    for (size_t a = 0; a < sizeof attr / sizeof *attr; a++)
        memcpy(w->lane + (size_t)attr[a][0] * w->np, x + a5_param_nslot(attr[a][1], 0, n),
               (size_t)n * sizeof *w->lane);
}

/* Peer weights of nation i by option, sum_{j != i} w_ij g_j [s_j = k], into V[k].
 * One pass over i's blocs; for i's own policy each bloc's sum has g_i taken off
 * before adding, exactly as the formula in the file header, so a lone member gets
 * 0 (up to rounding, which peer_normalize clears). */
static inline void peer_weights(const a5_model *m, const double *x, const a5_work *w, int i,
                                double *V0, double *V1, double *V2)
{
    const int n = m->n;
    const int s = (int)w->lane[L_POL * w->np + (size_t)i];
    const double gi = x[a5_param_nslot(A5_N_INFLUENCE, i, n)], bt = x[A5_G_BASE_TIE];
    double v0 = 0, v1 = 0, v2 = 0, vs = 0;
    for (int q = m->bloc_off[i]; q < m->bloc_off[i + 1]; q++) {
        const double *Mb = w->M + 3 * m->bloc_idx[q];
        v0 += Mb[0];
        v1 += Mb[1];
        v2 += Mb[2];
        vs += Mb[s] - gi;
    }
    v0 = s == 0 ? vs : v0;
    v1 = s == 1 ? vs : v1;
    v2 = s == 2 ? vs : v2;
    if (bt != 0) {
        v0 += bt * (w->T[0] - (s == 0 ? gi : 0));
        v1 += bt * (w->T[1] - (s == 1 ? gi : 0));
        v2 += bt * (w->T[2] - (s == 2 ? gi : 0));
    }
    *V0 = v0;
    *V1 = v1;
    *V2 = v2;
}

/* Peer shares G_i(k) from the weights (all 0 when i has no weighted peers).
 * Without branches: decide_packed runs it on vectors. */
static inline void peer_normalize(double v0, double v1, double v2, double G[3])
{
    /* Rounding can leave -1e-17 where the true sum is 0. */
    v0 = v0 > 0 ? v0 : 0;
    v1 = v1 > 0 ? v1 : 0;
    v2 = v2 > 0 ? v2 : 0;
    const double den = v0 + v1 + v2, one = den > 0 ? den : 1, inv = 1 / one;
    G[0] = den > 0 ? v0 * inv : 0;
    G[1] = den > 0 ? v1 * inv : 0;
    G[2] = den > 0 ? v2 * inv : 0;
}

/* Sums of g_i by policy, one option per lane of a vector (the fourth unused). */
typedef double sum3 __attribute__((vector_size(32)));
typedef int64_t mask3 __attribute__((vector_size(32)));

/* sum += (g in lane k, +0 in the others): adding +0 leaves a sum of non-negative
 * terms unchanged, bit for bit, so each lane gets exactly the sum, in order, of
 * the g with that policy. */
static inline __attribute__((always_inline)) void add_to_lane(sum3 *sum, double g, int k)
{
    static const mask3 lane[3] = {{-1, 0, 0, 0}, {0, -1, 0, 0}, {0, 0, -1, 0}};
    const sum3 gv = {g, g, g, g};
    *sum += (sum3)((mask3)gv & lane[k]);
}

/* Terms that change when policies do: retaliation R and the bloc sums. Each sum
 * runs over nations in nation order in a register (accumulating into M by each
 * nation's blocs, additions went through memory: this takes ~1.5 % fewer
 * instructions and a smaller share of the profile, same bits). */
A5_VECTOR_CLONES static void prepare_policies(const a5_model *m, const double *x, a5_work *w)
{
    const int n = m->n;
    const double *pol = w->lane + L_POL * w->np; /* the current policies */
    const double *g = x + a5_param_nslot(A5_N_INFLUENCE, 0, n);
    int restrict_n = 0, ban_n = 0;
    for (int i = 0; i < n; i++) {
        restrict_n += pol[i] == A5_RESTRICT;
        ban_n += pol[i] == A5_BAN;
    }
    sum3 t = {0, 0, 0, 0};
    if (x[A5_G_W_PEER] != 0) {
        for (int i = 0; i < n; i++)
            add_to_lane(&t, g[i], (int)pol[i]);
        for (int b = 0; b < m->nblocs; b++) {
            sum3 sb = {0, 0, 0, 0};
            for (int q = m->member_off[b]; q < m->member_off[b + 1]; q++) {
                const int i = m->member_idx[q];
                add_to_lane(&sb, g[i], (int)pol[i]);
            }
            for (int k = 0; k < 3; k++)
                w->M[3 * b + k] = sb[k];
        }
    }
    for (int k = 0; k < 3; k++)
        w->T[k] = t[k];
    double phisum = restrict_n * x[A5_G_RESTRICT_COMPLIANCE] + ban_n;
    w->R = x[A5_G_CHINA_RETALIATION] + x[A5_G_CHINA_ESCALATION] * (phisum / n);
}

void a5_model_prepare(const a5_model *m, const double *x, a5_work *w)
{
    state_from_x(m, x, w);
    prepare_params(m, x, w);
    prepare_policies(m, x, w);
    const int peers = x[A5_G_W_PEER] != 0;
    for (int i = 0; i < m->n; i++) {
        double v[3] = {0, 0, 0}, G[3];
        if (peers)
            peer_weights(m, x, w, i, &v[0], &v[1], &v[2]);
        peer_normalize(v[0], v[1], v[2], G);
        for (int k = 0; k < 3; k++)
            w->G[(size_t)k * w->np + i] = G[k];
    }
    w->changed = 0;
}

/* Everything a step's decisions share. */
typedef struct {
    double D, R, theta, kappa, psi, zeta, nu, wc, wr, wu, wch, wp, wi, wh, lambda;
} globals;

static void globals_of(const double *x, const a5_work *w, globals *g)
{
    *g = (globals){.D = w->D,
                   .R = w->R,
                   .theta = x[A5_G_INTEL_THREAT],
                   .kappa = x[A5_G_RESTRICT_CAP],
                   .psi = x[A5_G_RESTRICT_COMPLIANCE],
                   .zeta = x[A5_G_REPLACE_COST],
                   .nu = x[A5_G_RAN_WEIGHT],
                   .wc = x[A5_G_W_COST],
                   .wr = x[A5_G_W_RISK],
                   .wu = x[A5_G_W_US],
                   .wch = x[A5_G_W_CHINA],
                   .wp = x[A5_G_W_PEER],
                   .wi = x[A5_G_W_INERTIA],
                   .wh = x[A5_G_W_HOME],
                   .lambda = x[A5_G_RATIONALITY]};
}

/* U_i(k) for the three options of a nation with policy s, installed share h,
 * natural share xn, risk scale rsk, cost sensitivity b, US term
 * a_i P_i + d_i theta, China term c_i R, home flag and peer shares G. Because
 * x_i, h_i and H_i lie in [0, 1], the open option has no cost term (cap 1) and the
 * ban option no risk term (cap 0), and phi is 0 or 1 for them: the terms that
 * MODEL.md's formula makes exactly 0 are left out and the rest evaluated in the
 * formula's order, so the values are the same, bit for bit, as the general
 * expression (test_model checks this). Written without branches: the compiler
 * evaluates it for several nations per vector instruction. */
static inline void utility3(const globals *g, double s, double h, double xn, double rsk, double b,
                            double us, double ct, double home, double G0, double G1, double G2,
                            double U[3])
{
    const double H = h > xn ? h : xn;
    const double r0 = rsk * (1 + g->nu * (H < 1 ? H : 1));
    const double r1 = rsk * (0 + g->nu * (H < g->kappa ? H : g->kappa));
    const double a1 = xn - g->kappa, b1 = h - g->kappa;
    const double c1 = b * (g->D * (a1 > 0 ? a1 : 0) + g->zeta * (b1 > 0 ? b1 : 0));
    const double c2 = b * (g->D * (xn > 0 ? xn : 0) + g->zeta * (h > 0 ? h : 0));
    U[0] = -g->wr * r0 - g->wu * us + g->wp * G0 + g->wi * (double)(s == 0);
    U[1] = -g->wc * c1 - g->wr * r1 - g->wu * us * (1 - g->psi) - g->wch * ct * g->psi + g->wp * G1 +
           g->wi * (double)(s == 1) + g->wh * home * g->psi;
    U[2] = -g->wc * c2 - g->wch * ct + g->wp * G2 + g->wi * (double)(s == 2) + g->wh * home;
}

void a5_model_utility(const a5_model *m, const double *x, const a5_work *w, int i, double U[3])
{
    const int n = m->n;
    globals g;
    globals_of(x, w, &g);
    const double *v = x + a5_param_nslot(0, i, n); /* attribute k of nation i is v[k * n] */
    const size_t N = (size_t)n;
    double us = v[A5_N_US_TIES * N] * v[A5_N_US_PRESSURE * N] + v[A5_N_INTEL * N] * g.theta;
    double ct = v[A5_N_CHINA_TRADE * N] * g.R;
    utility3(&g, v[A5_N_POLICY * N], v[A5_N_HIGH_RISK_SHARE * N], w->xn[i], w->rsk[i],
             v[A5_N_COST_SENSITIVITY * N], us, ct, v[A5_N_HOME_VENDOR * N], w->G[i],
             w->G[w->np + i], w->G[2 * w->np + i], U);
}

/* e^x for x <= 0 (0 below -708, where the result would be subnormal), within about
 * an ulp of the true value. Written out instead of calling libm's exp so that it
 * vectorises and gives the same bits at every vector width and on every machine:
 * x = k ln2 + r with |r| <= ln2 / 2 (Cody-Waite: ln2 split in two so k ln2 is
 * exact), e^r by its Taylor series to r^13 (truncation < 1e-17), then 2^k put into
 * the exponent field. The rounding of x log2(e) to k uses the 1.5 * 2^52 shift,
 * which leaves k in the low bits of the sum. */
static inline double exp_nonpos(double x)
{
    const double shift = 0x1.8p52;
    const double t = x * 0x1.71547652b82fep0 + shift, k = t - shift;
    const double r = (x - k * 0x1.62e42fee00000p-1) - k * 0x1.a39ef35793c76p-33;
    /* Estrin's scheme (the loops that call this are bound by its latency: a
     * shallower tree than Horner's), and the leading 1 added last, to a small
     * tail, for an error within about an ulp. */
    const double r2 = r * r, r4 = r2 * r2;
    const double q1 = 0.5 + r * (1.0 / 6.0), q2 = 1.0 / 24.0 + r * (1.0 / 120.0),
                 q3 = 1.0 / 720.0 + r * (1.0 / 5040.0), q4 = 1.0 / 40320.0 + r * (1.0 / 362880.0),
                 q5 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0),
                 q6 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
    const double A = q1 + r2 * q2, B = q3 + r2 * q4, C = q5 + r2 * q6;
    const double p = 1.0 + (r + r2 * (A + r4 * (B + r4 * C)));
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    /* Both arms computed, then one picked: no branch, no operation the compiler
     * would have to prove cannot trap before doing it for every vector lane. */
    const double y = p * scale;
    return x < -708.0 ? 0.0 : y;
}

double a5_model_exp(double x) { return exp_nonpos(x); }

/* Softmax weights e_k = exp(z_k - max z) with z_k = lambda U_k kept finite, so no
 * finite input gives NaN or Inf. Returns their sum (>= 1). */
static inline double softmax3(double lambda, const double U[3], double e[3])
{
    double z[3];
    for (int k = 0; k < 3; k++) {
        z[k] = lambda * U[k];
        z[k] = z[k] > -1e300 ? z[k] : -1e300; /* -inf and NaN */
        z[k] = z[k] < 1e300 ? z[k] : 1e300;
    }
    double zmax = z[0] > z[1] ? z[0] : z[1];
    zmax = zmax > z[2] ? zmax : z[2];
    /* The largest gets 1; exp only for the other two (a and b, in index order).
     * A tie for the largest gets exp(0), which is exactly 1 too. */
    const double im = z[0] == zmax ? 0.0 : z[1] == zmax ? 1.0 : 2.0; /* 64-bit lanes */
    const double ea = exp_nonpos((im == 0 ? z[1] : z[0]) - zmax);
    const double eb = exp_nonpos((im == 2 ? z[1] : z[2]) - zmax);
    e[0] = im == 0 ? 1.0 : ea;
    e[1] = im == 1 ? 1.0 : im == 0 ? ea : eb;
    e[2] = im == 2 ? 1.0 : eb;
    return e[0] + e[1] + e[2];
}

void a5_model_choice_probs(double lambda, const double U[3], double p[3])
{
    double e[3], sum = softmax3(lambda, U, e);
    for (int k = 0; k < 3; k++)
        p[k] = e[k] / sum;
}

/* The per-step constants of the state update. */
typedef struct {
    globals g;
    double renew, L, esc, pmax;
} step_consts;

/* The choices of the nq reviewing nations idx[0 .. nq) (inputs in lane idx[q],
 * G0..G2 their peer weights in lane q; PICK[q] gets the option drawn with UC). Written without branches, so the compiler runs it
 * several nations per instruction (A5_VECTOR_CLONES: the widest vectors the
 * machine has; every width gives the same bits, as each lane does the same IEEE
 * operations and nothing is contracted into FMAs). nq is a whole number of
 * vectors; lanes past the reviewers hold finite leftovers whose picks are not
 * used. Only 64-bit lanes: a narrower type in the loop would make the compiler
 * take 16 to 64 nations per iteration, more than most steps have. */
A5_VECTOR_CLONES static void decide_packed(const globals *gp, size_t nq, const int *restrict idx,
                                           const double *restrict S,
                                           const double *restrict Hs, const double *restrict Ps,
                                           const double *restrict XN, const double *restrict RSK,
                                           const double *restrict Bs, const double *restrict TIES,
                                           const double *restrict INTEL,
                                           const double *restrict CTRADE,
                                           const double *restrict HOME, const double *restrict G0,
                                           const double *restrict G1, const double *restrict G2,
                                           const double *restrict UC, double *restrict PICK)
{
    const globals gl = *gp, *g = &gl; /* a local copy: no store can alias it */
    for (size_t q = 0; q < nq; q++) {
        const int i = idx[q]; /* gathered: vector gathers where the machine has them */
        const double us = TIES[i] * Ps[i] + INTEL[i] * g->theta, ct = CTRADE[i] * g->R;
        double U[3], e[3], G[3];
        peer_normalize(G0[q], G1[q], G2[q], G);
        utility3(g, S[i], Hs[i], XN[i], RSK[i], Bs[i], us, ct, HOME[i], G[0], G[1], G[2], U);
        const double sum = softmax3(g->lambda, U, e);
        const double u = UC[i] * sum, e01 = e[0] + e[1];
        PICK[q] = u < e[0] ? 0.0 : u < e01 ? 1.0 : 2.0;
    }
}

/* The state update of nations 0..np-1 at their new policies K (every lane,
 * padding included). Returns whether any policy changed. */
A5_VECTOR_CLONES static int update_lanes(const step_consts *c, size_t np, double *restrict pol,
                                         double *restrict hs, double *restrict ps,
                                         const double *restrict K, const double *restrict xn,
                                         const double *restrict rsk, const double *restrict bsens,
                                         double *restrict dcost, double *restrict drisk)
{
    const globals gl = c->g, *g = &gl;
    const double renew = c->renew, L = c->L, esc = c->esc, pmax = c->pmax;
    long changed = 0;
    for (size_t i = 0; i < np; i++) {
        const double s = pol[i], h = hs[i], P = ps[i], x = xn[i], k = K[i];
        changed |= k != s;
        const double cap = k == 0 ? 1.0 : k == 1 ? g->kappa : 0.0;
        const double core = k == 0 ? 1.0 : 0.0, phi = k == 0 ? 0.0 : k == 1 ? g->psi : 1.0;
        const double a = x - cap, b = h - cap, H = h > x ? h : x;
        dcost[i] = bsens[i] * (g->D * (a > 0 ? a : 0) + g->zeta * (b > 0 ? b : 0));
        drisk[i] = rsk[i] * (core + g->nu * (H < cap ? H : cap));
        double hp = (1 - renew) * h + renew * (x < cap ? x : cap);
        const double phased = hp - (hp - cap) / L;
        hp = hp > cap ? phased : hp;
        hs[i] = hp;
        const double Pn = P + esc * (1 - phi);
        ps[i] = Pn < pmax ? Pn : pmax;
        pol[i] = k;
    }
    return changed != 0;
}

/* Review flags and choice draws of nations 0..n-1 from two words each. */
A5_VECTOR_CLONES static void draws(const uint32_t *restrict nw, const double *restrict rho, int n,
                                   double *restrict review, double *restrict uc)
{
    for (int i = 0; i < n; i++) {
        const double u = uniform53(nw[2 * i], nw[2 * i + 1]), c = u / rho[i];
        review[i] = u < rho[i];
        uc[i] = c < 0x1.fffffffffffffp-1 ? c : 0x1.fffffffffffffp-1; /* rounding could give 1 */
    }
}

static void add_to(double *restrict a, const double *restrict b, int n)
{
    for (int i = 0; i < n; i++)
        a[i] += b[i];
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
    const int ev = events(m, x, t, words, w);
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
    draws(nw, x + a5_param_nslot(A5_N_REVIEW_RATE, 0, n), n, review, uc);
    int nrev = 0;
    for (int i = 0; i < n; i++) {
        w->reviewers[nrev] = i; /* appended without a branch: kept when i reviews */
        nrev += review[i] != 0;
    }
    step_consts c;
    globals_of(x, w, &c.g);
    c.renew = x[A5_G_RENEWAL];
    c.L = x[A5_G_PHASE_OUT_STEPS];
    c.esc = x[A5_G_US_ESCALATION];
    c.pmax = x[A5_G_US_MAX_PRESSURE];
#define LANE(k) (lane + (size_t)(k) * np)
    /* The reviewing nations' inputs, packed; their peer shares are computed here,
     * where they are used. Lanes past nrev keep whatever they held (finite). */
    const int peers = x[A5_G_W_PEER] != 0;
    for (int q = 0; q < nrev; q++) {
        if (peers)
            peer_weights(m, x, w, w->reviewers[q], &LANE(C_G0)[q], &LANE(C_G1)[q], &LANE(C_G2)[q]);
        else
            LANE(C_G0)[q] = LANE(C_G1)[q] = LANE(C_G2)[q] = 0;
    }
    const size_t nq = ((size_t)nrev + 7) / 8 * 8;
    for (size_t q = (size_t)nrev; q < nq; q++)
        w->reviewers[q] = 0; /* whole vectors: the extra lanes decide for nation 0, unused */
    decide_packed(&c.g, nq, w->reviewers, LANE(L_POL), LANE(L_H), LANE(L_P), LANE(L_XN),
                  LANE(L_RSK), LANE(L_B), LANE(L_TIES), LANE(L_INTEL), LANE(L_CTRADE), LANE(L_HOME),
                  LANE(C_G0), LANE(C_G1), LANE(C_G2), LANE(L_UC), LANE(C_PICK));
    double *K = LANE(L_K);
    memcpy(K, LANE(L_POL), np * sizeof *lane);
    for (int q = 0; q < nrev; q++)
        K[w->reviewers[q]] = LANE(C_PICK)[q];
    /* Every cross-nation term was computed from X(t) before, so updating nation i
     * in place cannot affect nation j's decision: the update is synchronous. */
    w->changed = update_lanes(&c, np, LANE(L_POL), LANE(L_H), LANE(L_P), K, LANE(L_XN),
                              LANE(L_RSK), LANE(L_B), LANE(L_DCOST), LANE(L_DRISK));
    const double *npol = LANE(L_POL), *nh = LANE(L_H);
    add_to(cost, LANE(L_DCOST), n);
    add_to(risk, LANE(L_DRISK), n);
#undef LANE
    w->stale = 1; /* the new state is in the lanes only */
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
    size_t row0 = (size_t)j * (size_t)steps * (size_t)n;
    int16_t *fb = rec->first_ban + (size_t)j * n;
    for (int i = 0; i < n; i++)
        fb[i] = -1;
    const double *pol = x + a5_param_nslot(A5_N_POLICY, 0, n);
    const double *hs = x + a5_param_nslot(A5_N_HIGH_RISK_SHARE, 0, n);
    const double *ps = x + a5_param_nslot(A5_N_US_PRESSURE, 0, n);
    const double *lane_ps = w->lane + L_P * w->np; /* the state lives there during the run */
    for (int t = 0; t < steps; t++) {
        size_t row = row0 + (size_t)t * n;
        step(m, x, t, rs, w, w->cost, w->risk, rec->policy + row, rec->h + row);
        for (int i = 0; i < n; i++) /* stored either way: vectorises */
            fb[i] = rec->policy[row + i] == A5_BAN && fb[i] < 0 ? (int16_t)t : fb[i];
        if (rec->P)
            for (int i = 0; i < n; i++)
                rec->P[row + i] = (float)lane_ps[i];
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
    return bad;
}
