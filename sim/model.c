/* The reference model (../shared/MODEL.md). See a5_model.h.
 *
 * Peer term in O(N x blocs): with w_ij = |B_i ∩ B_j| + base_tie,
 *   sum_{j != i} w_ij g_j [s_j = k]
 *     = sum_{b in B_i} (M_bk - g_i [s_i = k]) + base_tie (T_k - g_i [s_i = k])
 * where M_bk sums g_j [s_j = k] over bloc b's members and T_k over all nations.
 * Subtracting i's own term per bloc keeps a lone member's sum exactly 0. */
#include "a5_model.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct a5_model {
    const a5_scenario *s;
    int n, steps, nblocs;
    const int *bloc_off, *bloc_idx;
    unsigned char *follow_pressure; /* P_i(0) := us.pressure after draws */
    int *at_first;                  /* events by step: at_list[at_first[t] .. at_first[t+1]) */
    int *at_list;
    int *hazards;
    int nhazards;
    size_t nover; /* a5_model_override */
    size_t *over_slot;
    double *over_value;
};

struct a5_work {
    double *x;     /* parameter vector of the replicate being run */
    double *xn;    /* natural high-risk share of new builds, per nation */
    /* xn only changes when its inputs do (events, draws): the inputs it was last
     * computed from, so an unchanged nation skips its exp. */
    double c_gamma, c_sigma, c_omega, c_D;
    double *c_thr;
    double *M;     /* nblocs x 3 bloc sums */
    double T[3];   /* sums over all nations */
    double D, R;   /* price advantage, retaliation */
    double *cost, *risk;
    gsl_rng *rng;
};

static const double core_k[3] = {1, 0, 0};

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
    if (!m->follow_pressure || !m->at_first || !m->at_list || !m->hazards) {
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

a5_work *a5_model_work_alloc(const a5_model *m)
{
    a5_work *w = alloc_lines(sizeof *w);
    if (!w)
        return NULL;
    memset(w, 0, sizeof *w);
    size_t n = (size_t)m->n;
    w->x = alloc_lines(m->s->nslots * sizeof *w->x);
    w->xn = alloc_lines(n * sizeof *w->xn);
    w->M = alloc_lines(((size_t)m->nblocs * 3 + 1) * sizeof *w->M);
    w->c_thr = alloc_lines(n * sizeof *w->c_thr);
    w->c_gamma = NAN;
    w->cost = alloc_lines(n * sizeof *w->cost);
    w->risk = alloc_lines(n * sizeof *w->risk);
    w->rng = a5_rng_alloc();
    if (!w->x || !w->xn || !w->c_thr || !w->M || !w->cost || !w->risk || !w->rng) {
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
    free(w->xn);
    free(w->c_thr);
    free(w->M);
    free(w->cost);
    free(w->risk);
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

void a5_model_events(const a5_model *m, double *x, int t, a5_rng_state *rs)
{
    const a5_scenario *s = m->s;
    for (int q = m->at_first[t]; q < m->at_first[t + 1]; q++)
        apply_event(&s->events[m->at_list[q]], x);
    for (int h = 0; h < m->nhazards; h++) {
        const a5_event *e = &s->events[m->hazards[h]];
        if (a5_rng_uniform(rs) < e->hazard)
            apply_event(e, x);
    }
}

void a5_model_prepare(const a5_model *m, const double *x, a5_work *w)
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

    const double *pol = x + a5_param_nslot(A5_N_POLICY, 0, n);
    const double *g = x + a5_param_nslot(A5_N_INFLUENCE, 0, n);
    const double *thr = x + a5_param_nslot(A5_N_THREAT, 0, n);
    const double psi = x[A5_G_RESTRICT_COMPLIANCE];
    /* One pass for the compliance mean and the peer sums. */
    const int peers = x[A5_G_W_PEER] != 0;
    int count[3] = {0, 0, 0};
    w->T[0] = w->T[1] = w->T[2] = 0;
    if (peers)
        memset(w->M, 0, (size_t)m->nblocs * 3 * sizeof *w->M);
    for (int i = 0; i < n; i++) {
        int k = (int)pol[i];
        count[k]++;
        if (peers) {
            w->T[k] += g[i];
            for (int q = m->bloc_off[i]; q < m->bloc_off[i + 1]; q++)
                w->M[m->bloc_idx[q] * 3 + k] += g[i];
        }
    }
    double phisum = count[A5_RESTRICT] * psi + count[A5_BAN];
    w->R = x[A5_G_CHINA_RETALIATION] + x[A5_G_CHINA_ESCALATION] * (phisum / n);

    const double gamma = x[A5_G_PRICE_ELASTICITY], sigma = x[A5_G_SUPPLY_RISK],
                 omega = x[A5_G_OPERATOR_RISK_WEIGHT];
    int all = gamma != w->c_gamma || sigma != w->c_sigma || omega != w->c_omega || w->D != w->c_D;
    for (int i = 0; i < n; i++)
        if (all || thr[i] != w->c_thr[i]) {
            w->xn[i] = 1.0 / (1.0 + exp(-gamma * (w->D - sigma - omega * thr[i])));
            w->c_thr[i] = thr[i];
        }
    w->c_gamma = gamma;
    w->c_sigma = sigma;
    w->c_omega = omega;
    w->c_D = w->D;
}

/* Everything about nation i that the three options share. */
typedef struct {
    double xn, h, H, b, risk_scale, us_term, china_term, inertia_k, home;
    int s;
} nation_terms;

static inline void terms_of(const a5_model *m, const double *x, const a5_work *w, int i,
                            nation_terms *nt)
{
    const int n = m->n;
    nt->s = (int)x[a5_param_nslot(A5_N_POLICY, i, n)];
    nt->xn = w->xn[i];
    nt->h = x[a5_param_nslot(A5_N_HIGH_RISK_SHARE, i, n)];
    nt->H = nt->h > nt->xn ? nt->h : nt->xn;
    nt->b = x[a5_param_nslot(A5_N_COST_SENSITIVITY, i, n)];
    nt->risk_scale = x[a5_param_nslot(A5_N_THREAT, i, n)] * (1 + x[A5_G_SUPPLY_RISK]) *
                     (1 - x[a5_param_nslot(A5_N_MITIGATION, i, n)]);
    nt->us_term = x[a5_param_nslot(A5_N_US_TIES, i, n)] * x[a5_param_nslot(A5_N_US_PRESSURE, i, n)] +
                  x[a5_param_nslot(A5_N_INTEL, i, n)] * x[A5_G_INTEL_THREAT];
    nt->china_term = x[a5_param_nslot(A5_N_CHINA_TRADE, i, n)] * w->R;
    nt->home = x[a5_param_nslot(A5_N_HOME_VENDOR, i, n)];
}

static inline double cost_k(const nation_terms *nt, double D, double zeta, double cap)
{
    double a = nt->xn - cap, b = nt->h - cap;
    return nt->b * (D * (a > 0 ? a : 0) + zeta * (b > 0 ? b : 0));
}

static inline double risk_k(const nation_terms *nt, double nu, double cap, int k)
{
    return nt->risk_scale * (core_k[k] + nu * (nt->H < cap ? nt->H : cap));
}

/* Peer shares G_i(k) into G (all 0 when i has no weighted peers). One pass over
 * i's blocs; for i's own policy each bloc's sum has g_i taken off before adding,
 * exactly as the formula in the file header, so a lone member gets exactly 0. */
static inline void peer_of(const a5_model *m, const double *x, const a5_work *w, int i,
                           const nation_terms *nt, double G[3])
{
    const int n = m->n, s = nt->s;
    const double gi = x[a5_param_nslot(A5_N_INFLUENCE, i, n)], bt = x[A5_G_BASE_TIE];
    double v[3] = {0, 0, 0}, vs = 0;
    for (int q = m->bloc_off[i]; q < m->bloc_off[i + 1]; q++) {
        const double *Mb = w->M + 3 * m->bloc_idx[q];
        v[0] += Mb[0];
        v[1] += Mb[1];
        v[2] += Mb[2];
        vs += Mb[s] - gi;
    }
    v[s] = vs;
    double den = 0;
    for (int k = 0; k < 3; k++) {
        if (bt != 0)
            v[k] += bt * (w->T[k] - (k == s ? gi : 0));
        v[k] = v[k] > 0 ? v[k] : 0; /* rounding can leave -1e-17 where the true sum is 0 */
        den += v[k];
    }
    for (int k = 0; k < 3; k++)
        G[k] = den > 0 ? v[k] / den : 0;
}

/* U_i(k) for the three options. Because x_i, h_i and H_i lie in [0, 1], the open
 * option has no cost term (cap 1) and the ban option no risk term (cap 0), and
 * phi is 0 or 1 for them: the terms that MODEL.md's formula makes exactly 0 are
 * left out and the rest evaluated in the formula's order, so the values are the
 * same, bit for bit, as the general expression. */
static inline void utility_of(const a5_model *m, const double *x, const a5_work *w, int i,
                              const nation_terms *nt, double U[3])
{
    const double kappa = x[A5_G_RESTRICT_CAP], psi = x[A5_G_RESTRICT_COMPLIANCE];
    const double zeta = x[A5_G_REPLACE_COST], nu = x[A5_G_RAN_WEIGHT];
    const double wc = x[A5_G_W_COST], wr = x[A5_G_W_RISK], wu = x[A5_G_W_US],
                 wch = x[A5_G_W_CHINA], wp = x[A5_G_W_PEER], wi = x[A5_G_W_INERTIA],
                 wh = x[A5_G_W_HOME];
    double G[3] = {0, 0, 0};
    if (wp != 0)
        peer_of(m, x, w, i, nt, G);
    U[0] = -wr * risk_k(nt, nu, 1, 0) - wu * nt->us_term + wp * G[0] + wi * (nt->s == 0);
    U[1] = -wc * cost_k(nt, w->D, zeta, kappa) - wr * risk_k(nt, nu, kappa, 1) -
           wu * nt->us_term * (1 - psi) - wch * nt->china_term * psi + wp * G[1] +
           wi * (nt->s == 1) + wh * nt->home * psi;
    U[2] = -wc * cost_k(nt, w->D, zeta, 0) - wch * nt->china_term + wp * G[2] +
           wi * (nt->s == 2) + wh * nt->home;
}

void a5_model_utility(const a5_model *m, const double *x, const a5_work *w, int i, double U[3])
{
    nation_terms nt;
    terms_of(m, x, w, i, &nt);
    utility_of(m, x, w, i, &nt, U);
}

/* Softmax weights e_k = exp(z_k - max z) with z_k = lambda U_k kept finite, so no
 * finite input gives NaN or Inf. Returns their sum (>= 1). */
static inline double softmax_weights(double lambda, const double U[3], double e[3])
{
    double z[3], zmax = -DBL_MAX;
    for (int k = 0; k < 3; k++) {
        z[k] = lambda * U[k];
        if (!(z[k] > -1e300))
            z[k] = -1e300; /* -inf and NaN */
        if (z[k] > 1e300)
            z[k] = 1e300;
        if (z[k] > zmax)
            zmax = z[k];
    }
    double sum = 0;
    for (int k = 0; k < 3; k++) {
        e[k] = z[k] == zmax ? 1.0 : exp(z[k] - zmax);
        sum += e[k];
    }
    return sum;
}

void a5_model_choice_probs(double lambda, const double U[3], double p[3])
{
    double e[3], sum = softmax_weights(lambda, U, e);
    for (int k = 0; k < 3; k++)
        p[k] = e[k] / sum;
}

/* A reviewing nation's choice: utilities, softmax, one 53-bit draw. Kept out of
 * line: most nation-steps do not review, and the hot loop stays small. */
static __attribute__((noinline)) int decide(const a5_model *m, const double *x, const a5_work *w,
                                            int i, a5_rng_state *rs)
{
    nation_terms nt;
    double U[3], e[3];
    terms_of(m, x, w, i, &nt);
    utility_of(m, x, w, i, &nt, U);
    double u = a5_rng_uniform(rs) * softmax_weights(x[A5_G_RATIONALITY], U, e);
    return u < e[0] ? 0 : u < e[0] + e[1] ? 1 : 2;
}

void a5_model_step(const a5_model *m, double *x, int t, a5_rng_state *rs, a5_work *w,
                   double *cost, double *risk)
{
    const int n = m->n;
    a5_model_events(m, x, t, rs);
    a5_model_prepare(m, x, w);

    const double kappa = x[A5_G_RESTRICT_CAP], psi = x[A5_G_RESTRICT_COMPLIANCE],
                 zeta = x[A5_G_REPLACE_COST], nu = x[A5_G_RAN_WEIGHT], renew = x[A5_G_RENEWAL],
                 L = x[A5_G_PHASE_OUT_STEPS], esc = x[A5_G_US_ESCALATION],
                 pmax = x[A5_G_US_MAX_PRESSURE], sig1 = 1 + x[A5_G_SUPPLY_RISK], D = w->D;
    const double cap[3] = {1, kappa, 0}, phi[3] = {0, psi, 1};
    double *pol = x + a5_param_nslot(A5_N_POLICY, 0, n);
    double *hs = x + a5_param_nslot(A5_N_HIGH_RISK_SHARE, 0, n);
    double *ps = x + a5_param_nslot(A5_N_US_PRESSURE, 0, n);
    const double *rho = x + a5_param_nslot(A5_N_REVIEW_RATE, 0, n);
    const double *thr = x + a5_param_nslot(A5_N_THREAT, 0, n);
    const double *mit = x + a5_param_nslot(A5_N_MITIGATION, 0, n);
    const double *bsens = x + a5_param_nslot(A5_N_COST_SENSITIVITY, 0, n);
    const double *xns = w->xn;

    /* Every cross-nation term was computed by prepare from X(t), so updating nation
     * i in place cannot affect nation j's decision: the update is synchronous. */
    for (int i = 0; i < n; i++) {
        int k = (int)pol[i];
        /* The review draw needs no more than 32 bits; the choice draw uses 53. */
        if ((double)a5_rng_u32(rs) * 0x1p-32 < rho[i])
            k = decide(m, x, w, i, rs);
        const double h = hs[i], xn = xns[i], c = cap[k];
        const double a = xn - c, b = h - c, H = h > xn ? h : xn;
        cost[i] += bsens[i] * (D * (a > 0 ? a : 0) + zeta * (b > 0 ? b : 0));
        risk[i] += thr[i] * sig1 * (1 - mit[i]) * (core_k[k] + nu * (H < c ? H : c));
        double hp = (1 - renew) * h + renew * (xn < c ? xn : c);
        if (hp > c)
            hp -= (hp - c) / L;
        hs[i] = hp;
        double P = ps[i] + esc * (1 - phi[k]);
        ps[i] = P < pmax ? P : pmax;
        pol[i] = k;
    }
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
    for (int t = 0; t < steps; t++) {
        a5_model_step(m, x, t, rs, w, w->cost, w->risk);
        size_t row = row0 + (size_t)t * n;
        for (int i = 0; i < n; i++) {
            int k = (int)pol[i];
            rec->policy[row + i] = (int8_t)k;
            rec->h[row + i] = (float)hs[i];
            if (k == A5_BAN && fb[i] < 0)
                fb[i] = (int16_t)t;
        }
        if (rec->P)
            for (int i = 0; i < n; i++)
                rec->P[row + i] = (float)ps[i];
    }
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
