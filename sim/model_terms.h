/* The reference model's equations, written once (private to sim/ and the tests).
 *
 * Each function below is one line of docs/model.md, over a general option k
 * (OPEN = 0, RESTRICT = 1, BAN = 2). The fast kernel in model.c calls these same
 * functions with a constant k, and the compiler specialises each call; the plain
 * scalar reference step in tests/test_model_reference.c calls them with any k.
 *
 * Contracts that keep results bit-identical everywhere:
 * - Every expression is evaluated in the order written (-ffp-contract=off: no FMA),
 *   so the fast kernel, every vector width and the reference step agree bit for bit.
 * - Inputs are finite, x_i, h_i and H_i lie in [0, 1] and weights times attributes
 *   are finite (the parameter table bounds them), so some terms are exactly +0 at
 *   OPEN or BAN; a5_utility may leave those out (u - (+0) == u, bit for bit). */
#ifndef A5_MODEL_TERMS_H
#define A5_MODEL_TERMS_H

#include "a5_model.h"
#include "a5_param.h"

#include <Random123/philox.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- The inputs, listed once -------------------------------------------------
 *
 * Nation attributes a decision reads, X(field, attribute): each becomes a field
 * of a5_nation_in, a lane of the kernel's scratch (copied from the parameter
 * vector when parameters change) and a parameter of the vectorised decision loop.
 * Globals a decision reads, X(field, slot): each becomes a field of a5_globals.
 * Adding an input is one X(...) line here (docs/extending.md). */
#ifdef A5_MODEL_EXTENSION_TEST /* docs/extending.md's example, built by test_model_ext */
#define A5_EXT_NATION_INPUTS(X) X(tech, A5_N_TECH)
#define A5_EXT_GLOBAL_INPUTS(X) X(wtech, A5_G_W_TECH) X(wfirst, A5_G_W_FIRST)
#else
#define A5_EXT_NATION_INPUTS(X)
#define A5_EXT_GLOBAL_INPUTS(X)
#endif

#define A5_MODEL_NATION_INPUTS(X)                                                                  \
    X(b, A5_N_COST_SENSITIVITY) /* b_i */                                                          \
    X(ties, A5_N_US_TIES)       /* a_i */                                                          \
    X(intel, A5_N_INTEL)        /* d_i */                                                          \
    X(ctrade, A5_N_CHINA_TRADE) /* c_i */                                                          \
    X(home, A5_N_HOME_VENDOR)   /* home_i */                                                       \
    A5_EXT_NATION_INPUTS(X)

#define A5_MODEL_GLOBAL_INPUTS(X)                                                                  \
    X(theta, A5_G_INTEL_THREAT)                                                                    \
    X(kappa, A5_G_RESTRICT_CAP)                                                                    \
    X(psi, A5_G_RESTRICT_COMPLIANCE)                                                               \
    X(zeta, A5_G_REPLACE_COST)                                                                     \
    X(nu, A5_G_RAN_WEIGHT)                                                                         \
    X(wc, A5_G_W_COST)                                                                             \
    X(wr, A5_G_W_RISK)                                                                             \
    X(wu, A5_G_W_US)                                                                               \
    X(wch, A5_G_W_CHINA)                                                                           \
    X(wp, A5_G_W_PEER)                                                                             \
    X(wi, A5_G_W_INERTIA)                                                                          \
    X(wh, A5_G_W_HOME)                                                                             \
    X(lambda, A5_G_RATIONALITY)                                                                    \
    X(wrev, A5_G_REVERSAL_COST)                                                                    \
    A5_EXT_GLOBAL_INPUTS(X)

enum { A5_DERIVE_PRICES = 1, A5_DERIVE_POLICIES = 2 };

/* What a5_derive_step gives besides its per-nation arrays. */
typedef struct {
    double D;   /* price advantage max(0, (p_a - p_h) / p_a), without the price response */
    double R;   /* retaliation R(t) = R_0 + e_CN (n_R psi + n_B) / N */
    int nr, nb; /* nations restricting, banning at X(t) */
#ifdef A5_MODEL_EXTENSION_TEST /* docs/extending.md's second example */
    double bshare; /* beta(t) = n_B / N: the share of nations banning at X(t) */
#endif
} a5_derived;

/* Everything a step's decisions share: the listed globals, plus the price
 * advantage D and the retaliation R(t), which are derived each step (d, from
 * a5_derive_step). */
typedef struct {
    double D, R;
#ifdef A5_MODEL_EXTENSION_TEST
    double bshare;
#endif
#define A5_FIELD(name, slot) double name;
    A5_MODEL_GLOBAL_INPUTS(A5_FIELD)
#undef A5_FIELD
} a5_globals;

static inline void a5_globals_of(const double *x, const a5_derived *d, a5_globals *g)
{
    g->D = d->D;
    g->R = d->R;
#ifdef A5_MODEL_EXTENSION_TEST
    g->bshare = d->bshare;
#endif
#define A5_LOAD(name, slot) g->name = x[slot];
    A5_MODEL_GLOBAL_INPUTS(A5_LOAD)
#undef A5_LOAD
}

/* One nation's inputs to its decision, all from X(t): policy s_i, installed share
 * h_i, pressure P_i, natural share x_i, risk scale r_i (1 + sigma)(1 - m_i), the
 * share removed since the policy took force V_i (a5_removed; 0 unless the reversal
 * cost is on), the listed attributes and the peer shares G_i(k). */
typedef struct {
    double s, h, P, xn, rsk, rm;
#define A5_FIELD(name, attr) double name;
    A5_MODEL_NATION_INPUTS(A5_FIELD)
#undef A5_FIELD
    double G[3];
} a5_nation_in;

/* A nation's inputs from the strategic actors (docs/model.md, "Strategic actors"):
 * its price advantage D_i, the intelligence still at stake d~_i, the lever's term
 * Lambda_i and the retaliation R_i(k) it expects at each option. The plain model
 * passes none (NULL), and then the utility is exactly the one above. */
typedef struct {
    double D, intel, lam, R[3];
    double ant[3]; /* anticipated escalation (decision.anticipation), +0 when off */
} a5_strat_in;

/* ---- Policy constants (docs/model.md, "Policy constants") ------------------ */

typedef struct {
    double cap;  /* cap_k: highest high-risk share the policy allows */
    double phi;  /* phi(k): compliance with the US */
    double core; /* core_k: 1 when the core network is open to the vendor */
} a5_option;

/* k may be an int constant (folded) or a double lane value (selects). */
static inline a5_option a5_option_of(double k, double kappa, double psi)
{
    return (a5_option){.cap = k == 0 ? 1.0 : k == 1 ? kappa : 0.0,
                       .phi = k == 0 ? 0.0 : k == 1 ? psi : 1.0,
                       .core = k == 0 ? 1.0 : 0.0};
}

/* ---- Terms that change only with parameters (step 2) ----------------------- */

/* x_i = 1 / (1 + exp(-gamma (D - sigma - omega r_i))) */
static inline double a5_natural_share(double gamma, double D, double sigma, double omega, double r)
{
    return 1.0 / (1.0 + exp(-gamma * (D - sigma - omega * r)));
}

/* r_i (1 + sigma) (1 - m_i): the factor of S_i(k) that does not depend on k. */
static inline double a5_risk_scale(double r, double sigma, double m) { return r * (1 + sigma) * (1 - m); }

/* ---- The utility's terms (step 3) ------------------------------------------ */

/* C_i(k) = b_i (D max(0, x_i - cap_k) + zeta max(0, h_i - cap_k)) */
static inline double a5_cost_at(double D, double zeta, double b, double xn, double h, double cap)
{
    const double a = xn - cap, e = h - cap;
    return b * (D * (a > 0 ? a : 0) + zeta * (e > 0 ? e : 0));
}
static inline double a5_cost(const a5_globals *g, double b, double xn, double h, double cap)
{
    return a5_cost_at(g->D, g->zeta, b, xn, h, cap);
}

/* S_i(k) = rsk_i (core_k + nu min(H_i, cap_k)), H_i = max(h_i, x_i) */
static inline double a5_risk(const a5_globals *g, double rsk, double xn, double h, a5_option o)
{
    const double H = h > xn ? h : xn;
    return rsk * (o.core + g->nu * (H < o.cap ? H : o.cap));
}

/* A_i(k) = e_i (1 - phi(k)) with e_i = a_i P_i + d_i theta: e_i here. The
 * utility multiplies w_us e_i first, then (1 - phi(k)): that order fixes the bits. */
static inline double a5_us_exposure(const a5_globals *g, const a5_nation_in *v)
{
    return v->ties * v->P + v->intel * g->theta;
}

/* Q_i(k) = c_i R(t) phi(k): c_i R(t) here (w_china c_i R first, then phi(k)). */
static inline double a5_china_exposure(const a5_globals *g, const a5_nation_in *v)
{
    return v->ctrade * g->R;
}

/* G_i(k) from the peer weights V[k] = sum_{j != i} w_ij g_j [s_j = k]; all 0 when
 * i has no weighted peers. Branch-free (it runs on vectors). */
static inline void a5_peer_shares(double v0, double v1, double v2, double G[3])
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

/* Peer weights V[k] of a nation with policy s and influence gi in blocs
 * blocs[0 .. nb), from M[3 b + k] = sum over bloc b's members of g_j [s_j = k]
 * and T[k] = the same over all nations, as in docs/model.md ("Peer term"):
 *   V[k] = sum_{b in B_i} (M_bk - g_i [s_i = k]) + base_tie (T_k - g_i [s_i = k]).
 * For i's own policy each bloc's sum has g_i taken off before adding, so a lone
 * member gets 0 (up to rounding, which a5_peer_shares clears). */
static inline void a5_peer_weights(const int *blocs, int nb, const double *M, const double T[3],
                                   int s, double gi, double bt, double V[3])
{
    double v0 = 0, v1 = 0, v2 = 0, vs = 0;
    for (int q = 0; q < nb; q++) {
        const double *Mb = M + 3 * blocs[q];
        v0 += Mb[0];
        v1 += Mb[1];
        v2 += Mb[2];
        vs += Mb[s] - gi;
    }
    v0 = s == 0 ? vs : v0;
    v1 = s == 1 ? vs : v1;
    v2 = s == 2 ? vs : v2;
    if (bt != 0) {
        v0 += bt * (T[0] - (s == 0 ? gi : 0));
        v1 += bt * (T[1] - (s == 1 ? gi : 0));
        v2 += bt * (T[2] - (s == 2 ? gi : 0));
    }
    V[0] = v0;
    V[1] = v1;
    V[2] = v2;
}

/* The strategic forms of the US and China exposures (sv != NULL): e_i = a_i P_i +
 * d~_i theta, and c_i R_i(k). The lever's Lambda_i is a term of its own, at OPEN
 * only (any other policy satisfies a threat and ends a downgrade). */
static inline double a5_us_exposure_s(const a5_globals *g, const a5_nation_in *v,
                                      const a5_strat_in *sv)
{
    return v->ties * v->P + sv->intel * g->theta;
}

/* ---- Timing and reversal cost (docs/model.md, "Timing", "Reversal cost") --- */

/* a(t) = min(1, w_A sum_{e: t_e <= t} S_e delta_A^(t - t_e)), each power by
 * multiplications in step order, the sum in event order. */
static inline double a5_attention(const int *at, const double *sal, size_t ne, double wA,
                                  double dA, int t)
{
    double sum = 0;
    for (size_t e = 0; e < ne; e++) {
        if (at[e] > t)
            continue;
        double v = sal[e];
        for (int q = at[e]; q < t; q++)
            v *= dA;
        sum += v;
    }
    const double a = wA * sum;
    return a < 1 ? a : 1;
}

/* rho_i(t) = 1 - (1 - rho_i)(1 - bw)(1 - a(t)) with bw = beta_W W_i(t); exactly
 * rho_i when neither raises it. */
static inline double a5_review_rate(double rho, double bw, double a)
{
    return bw == 0 && a == 0 ? rho : 1 - (1 - rho) * (1 - bw) * (1 - a);
}

/* V_i = max(0, h^0_i - h_i): the high-risk share removed since the current policy
 * took force (h^0_i: the share at the start of its first step in force). */
static inline double a5_removed(double mark, double h)
{
    const double r = mark - h;
    return r > 0 ? r : 0;
}

/* The reversal term zeta b_i V_i [k < s_i], charged to an option laxer than the
 * policy: what removing that equipment cost, written off. */
static inline double a5_reversal(double zeta, double b, double rm, double s, int k)
{
    return zeta * b * rm * (double)(k < s);
}

/* a5_utility_s's `fast` flags: A5_U_FAST leaves out the terms that are exactly +0
 * at OPEN and BAN; A5_U_NO_REVERSAL also leaves out the reversal term, which is +0
 * when w_rev = 0 (the caller checks). The plain kernel's vectorised decision loop
 * runs without the term unless w_rev != 0: with it, the compiler does not
 * vectorise that loop (3 times its instructions). */
enum { A5_U_FAST = 1, A5_U_NO_REVERSAL = 2 };

/* U_i(k) = - w_cost C_i(k) - w_risk S_i(k) - w_us A_i(k) - w_china Q_i(k)
 *          + w_peer G_i(k) + w_inertia [k = s_i] + w_home home_i phi(k)
 *          - w_rev zeta b_i V_i [k < s_i]
 * summed left to right from -0 (the exact empty sum: -0 + y == y for every y).
 * With fast != 0 the terms that are exactly +0 at this k are left out:
 * C(OPEN) (x_i, h_i <= 1 = cap), S(BAN) (cap 0, core 0), A(BAN) and the phi
 * terms at OPEN (phi 0). Subtracting +0 changes no bits, so fast and full agree
 * bit for bit (test_model checks); fast saves the kernel those operations,
 * which the compiler may not drop itself (0 * y is not 0 for every double). */
static inline double a5_utility_s(const a5_globals *g, const a5_nation_in *v,
                                  const a5_strat_in *sv, int k, int fast)
{
    const a5_option o = a5_option_of(k, g->kappa, g->psi);
    const int keep_open = !(fast && k == A5_OPEN), keep_ban = !(fast && k == A5_BAN);
    double u = -0.0;
    if (keep_open)
        u -= g->wc * a5_cost_at(sv ? sv->D : g->D, g->zeta, v->b, v->xn, v->h, o.cap);
    if (keep_ban)
        u -= g->wr * a5_risk(g, v->rsk, v->xn, v->h, o);
    if (keep_ban)
        u -= g->wu * (sv ? a5_us_exposure_s(g, v, sv) : a5_us_exposure(g, v)) * (1 - o.phi);
    if (sv && k == A5_OPEN) /* - w_us Lambda_i [k = OPEN]; Lambda_i = +0 without the lever */
        u -= g->wu * sv->lam;
    if (sv && sv->ant[k] != 0) /* - w_us X_i(k): anticipated escalation */
        u -= g->wu * sv->ant[k];
    if (keep_open)
        u -= g->wch * (sv ? v->ctrade * sv->R[k] : a5_china_exposure(g, v)) * o.phi;
    u += g->wp * v->G[k];
    u += g->wi * (double)(v->s == k);
    if (keep_open)
        u += g->wh * v->home * o.phi;
    if (keep_ban && !(fast & A5_U_NO_REVERSAL)) /* +0 at BAN: no option is laxer */
        u -= g->wrev * a5_reversal(g->zeta, v->b, v->rm, v->s, k);
#ifdef A5_MODEL_EXTENSION_TEST /* docs/extending.md: - w_tech t_i phi(k), +0 at OPEN */
    if (keep_open)
        u -= g->wtech * v->tech * o.phi;
    if (k == A5_BAN) /* the second example: - w_first (1 - beta(t)) [k = BAN] */
        u -= g->wfirst * (1 - g->bshare);
#endif
    return u;
}

/* The plain model's utility (no strategic inputs). */
static inline double a5_utility(const a5_globals *g, const a5_nation_in *v, int k, int fast)
{
    return a5_utility_s(g, v, NULL, k, fast);
}

/* ---- Choice (step 3) ------------------------------------------------------- */

/* e^x for x <= 0 (0 below -708, where the result would be subnormal), within about
 * an ulp of the true value. Written out instead of calling libm's exp so that it
 * vectorises and gives the same bits at every vector width and on every machine:
 * x = k ln2 + r with |r| <= ln2 / 2 (Cody-Waite: ln2 split in two so k ln2 is
 * exact), e^r by its Taylor series to r^13 (truncation < 1e-17), then 2^k put into
 * the exponent field. The rounding of x log2(e) to k uses the 1.5 * 2^52 shift,
 * which leaves k in the low bits of the sum. */
static inline double a5_exp_nonpos(double x)
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

/* Softmax weights e_k = exp(z_k - max z) with z_k = lambda U_k kept finite, so no
 * finite input gives NaN or Inf. Returns their sum (>= 1). */
static inline double a5_softmax3(double lambda, const double U[3], double e[3])
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
    const double ea = a5_exp_nonpos((im == 0 ? z[1] : z[0]) - zmax);
    const double eb = a5_exp_nonpos((im == 2 ? z[1] : z[2]) - zmax);
    e[0] = im == 0 ? 1.0 : ea;
    e[1] = im == 1 ? 1.0 : im == 0 ? ea : eb;
    e[2] = im == 2 ? 1.0 : eb;
    return e[0] + e[1] + e[2];
}

/* The option drawn with c uniform on [0, 1): the first k with c sum < e_0 + .. + e_k. */
static inline double a5_pick(double c, const double e[3], double sum)
{
    const double u = c * sum, e01 = e[0] + e[1];
    return u < e[0] ? 0.0 : u < e01 ? 1.0 : 2.0;
}

/* A nation's decision: U_i(k) for the three options, softmax, the option drawn. */
static inline double a5_decide_s(const a5_globals *g, const a5_nation_in *v,
                                 const a5_strat_in *sv, double c, int fast)
{
    double U[3], e[3];
    for (int k = 0; k < 3; k++)
        U[k] = a5_utility_s(g, v, sv, k, fast);
    const double sum = a5_softmax3(g->lambda, U, e);
    return a5_pick(c, e, sum);
}
static inline double a5_decide(const a5_globals *g, const a5_nation_in *v, double c, int fast)
{
    return a5_decide_s(g, v, NULL, c, fast);
}


/* ---- State update (steps 4 and 5), at the new policy's option o --------------- */

/* h_i(t+1) = h' - max(0, h' - cap) / L, h' = (1 - phi_b) h_i + phi_b min(x_i, cap).
 * Written as a select: h' - (h' - cap) / L where h' > cap, else h'. */
static inline double a5_installed_base(double h, double xn, double cap, double renew, double L)
{
    const double hp = (1 - renew) * h + renew * (xn < cap ? xn : cap);
    const double phased = hp - (hp - cap) / L;
    return hp > cap ? phased : hp;
}

/* P_i(t+1) = min(P_max, P_i + escalation (1 - phi(k))) */
static inline double a5_pressure(double P, double esc, double pmax, double phi)
{
    const double Pn = P + esc * (1 - phi);
    return Pn < pmax ? Pn : pmax;
}

/* ---- Strategic actors (docs/model.md, "Strategic actors") ------------------ */

/* B(t) = B_0 (1 + gamma_US)^t, by t multiplications in step order. */
static inline double a5_us_budget(double B0, double growth, int t)
{
    double b = B0;
    for (int s = 0; s < t; s++)
        b *= 1 + growth;
    return b;
}

/* P_i(t+1) = min(P_max, P_i + dP_i); schedule's dP_i = e_US (1 - phi(k)) gives
 * a5_pressure's bits. */
static inline double a5_pressure_add(double P, double dP, double pmax)
{
    const double Pn = P + dP;
    return Pn < pmax ? Pn : pmax;
}

/* pi_i = g_i sum_{j != i} w_ij, with ties = sum_{b in B_i} (|b| - 1) + beta (N - 1). */
static inline double a5_bloc_leverage(double gi, double ties) { return gi * ties; }

/* g_j' = g_j (1 + eta d_j) for a nation that has moved (s_j != OPEN), else g_j. */
static inline double a5_influence(double g, double eta, double d, double s)
{
    return s != A5_OPEN ? g * (1 + eta * d) : g;
}

/* delta_i = min(pi, Pi h_i / sum_j h_j) (0 when the sum is 0): the vendor's discount. */
static inline double a5_discount(double pi, double Pi, double h, double hsum)
{
    if (!(hsum > 0))
        return 0;
    const double d = Pi * h / hsum;
    return d < pi ? d : pi;
}

/* D_i = max(0, (p_a - p_h (1 - delta_i)) / p_a). */
static inline double a5_price_advantage(double pa, double ph, double disc)
{
    const double D = (pa - ph * (1 - disc)) / pa;
    return D > 0 ? D : 0;
}

/* targeted: R_i(k) = R_0 + B_CN / max(1, Phi_-i + phi(k)); the China term multiplies
 * by phi(k) once, so a complier's expected retaliation is c_i (R_0 + B_CN phi(k) /
 * max(1, Phi_-i + phi(k))): its share of the budget. */
static inline double a5_retaliation_targeted(double R0, double B, double phik, double Phim)
{
    const double den = Phim + phik;
    return R0 + B / (den > 1 ? den : 1);
}

/* The lever's terms of a nation with status st (0 none, 1 threatened, 2
 * downgraded): d~_i and Lambda_i. */
static inline void a5_lever_terms(double st, double d, double delta, double thetaL, double *dt,
                                  double *lam)
{
    *dt = st == 2 ? d * (1 - delta) : d;
    *lam = st == 1 ? thetaL * delta * d : st == 2 ? delta * d : 0.0;
}

/* A reacting actor's allocation to nation i (us.react, china.react): its own
 * strategy's a_i scaled by (1 - W), plus the share W of its budget B spread in
 * proportion to what the other actor gave i last step, o_i / sum_j o_j; in two
 * parts, the share (which does not depend on a: the kernel computes it once for
 * China's three options) and (1 - W) a plus it. */
static inline double a5_react_share(double W, double B, double oi, double osum)
{
    return W * B * (oi / osum);
}
static inline double a5_react_with(double W, double a, double share) { return (1 - W) * a + share; }
static inline double a5_react(double W, double a, double B, double oi, double osum)
{
    return a5_react_with(W, a, a5_react_share(W, B, oi, osum));
}

/* Term h of the anticipated escalation's sum (without d^h): min(Pmax, P + h eps)
 * - P, at pressure P growing by eps a step. */
static inline double a5_anticipation_term(int h, double P, double Pmax, double eps)
{
    const double Ph = P + h * eps;
    return (Ph < Pmax ? Ph : Pmax) - P;
}

/* X_i(k) from the discounted sum: a_i (1 - phi) sum. */
static inline double a5_anticipation_of(double a, double phi, double sum)
{
    return a * (1 - phi) * sum;
}

/* The anticipated escalation X_i(k) = a_i (1 - phi) sum_{h=1..H} d^h (min(Pmax,
 * P + h eps) - P) of a nation at pressure P whose pressure grows by eps a step
 * while it stays at an option of compliance phi; d^h by repeated
 * multiplication, the sum in h order (the kernel sums every nation's at once,
 * in the same order: model_strategy.c). */
static inline double a5_anticipation(int H, double d, double a, double phi, double P,
                                     double Pmax, double eps)
{
    double sum = 0, dh = 1;
    for (int h = 1; h <= H; h++) {
        dh *= d;
        sum += dh * a5_anticipation_term(h, P, Pmax, eps);
    }
    return a5_anticipation_of(a, phi, sum);
}

/* The US budget left once downgrades in force cost c: max(0, B - c). */
static inline double a5_us_budget_left(double B, double c) { return B - c > 0 ? B - c : 0.0; }

/* Target i's credibility under credibility_scope nation: theta_L + o_i within
 * [0, 1]. */
static inline double a5_lever_credibility(double thetaL, double off)
{
    const double th = thetaL + off;
    return th < 0 ? 0.0 : th > 1 ? 1.0 : th;
}

/* The lever's uniform for nation i at step t: the 53-bit uniform of the first two
 * words of Philox4x32-10 with the replicate's key and counter (t, 2^31 + i, r, p),
 * outside the replicate's own stream (whose counters stay far below 2^31 in their
 * second word). */
static inline double a5_side_uniform(const uint32_t key[2], uint32_t r, uint32_t p, int t, int i)
{
    philox4x32_ctr_t c = {{(uint32_t)t, 0x80000000u + (uint32_t)i, r, p}};
    philox4x32_key_t k = {{key[0], key[1]}};
    philox4x32_ctr_t o = philox4x32_R(10, c, k);
    return a5_rng_uniform53(o.v[0], o.v[1]);
}

/* ---- Step 2: the terms derived from X(t), in one place ------------------------ */

/* Step 2 of docs/model.md ("Order within a step"), for the fast kernel, the
 * strategic step and the reference test alike: the terms derived from the
 * parameters x and the policies pol and shares h of X(t) (n each).
 *  - A5_DERIVE_PRICES: D into d; the price advantages D_i into Di when it is not
 *    NULL (the vendor's price response moves them with the shares; without it,
 *    D for all), else D is every nation's; the natural shares x_i into xn and the
 *    risk scales r_i (1 + sigma)(1 - m_i) into rsk.
 *  - A5_DERIVE_POLICIES: R(t) and the counts into d; the influences g'_i into
 *    geff when it is not NULL (g_i where intel_standing is 0 or s_i is OPEN).
 * The cache rule, which the callers keep: PRICES hold while no parameter moves
 * (draws, events), or for one step under the price response; POLICIES while,
 * besides, no policy moves. A new per-step term goes here, with its rule. */
static inline void a5_derive_step(const a5_scenario *s, const double *x, const double *pol,
                                  const double *h, int parts, a5_derived *d, double *Di,
                                  double *xn, double *rsk, double *geff)
{
    const int n = s->n;
    if (parts & A5_DERIVE_PRICES) {
        double ph = HUGE_VAL, pa = HUGE_VAL; /* the cheapest high-risk and trusted vendor */
        for (int v = 0; v < s->nvendors; v++) {
            const double price = x[a5_param_vslot(v, n)];
            if (s->vendor_high_risk[v])
                ph = price < ph ? price : ph;
            else
                pa = price < pa ? price : pa;
        }
        const double D = (pa - ph) / pa;
        d->D = D > 0 ? D : 0;
        if (Di) {
            const int price = x[A5_G_PRICE_RESPONSE] > 0 && x[A5_G_PRICE_BUDGET] > 0;
            double hsum = 0;
            for (int i = 0; i < n; i++)
                hsum += pol[i] != A5_BAN ? h[i] : 0;
            for (int i = 0; i < n; i++) {
                double disc = 0;
                if (price && pol[i] != A5_BAN)
                    disc = a5_discount(x[A5_G_PRICE_RESPONSE], x[A5_G_PRICE_BUDGET], h[i], hsum);
                Di[i] = price ? a5_price_advantage(pa, ph, disc) : d->D;
            }
        }
        const double gamma = x[A5_G_PRICE_ELASTICITY], sigma = x[A5_G_SUPPLY_RISK],
                     omega = x[A5_G_OPERATOR_RISK_WEIGHT];
        const double *thr = x + a5_param_nslot(A5_N_THREAT, 0, n),
                     *mit = x + a5_param_nslot(A5_N_MITIGATION, 0, n);
        for (int i = 0; i < n; i++) {
            xn[i] = a5_natural_share(gamma, Di ? Di[i] : d->D, sigma, omega, thr[i]);
            rsk[i] = a5_risk_scale(thr[i], sigma, mit[i]);
        }
    }
    if (parts & A5_DERIVE_POLICIES) {
        int nr = 0, nb = 0;
        for (int i = 0; i < n; i++) {
            nr += pol[i] == A5_RESTRICT;
            nb += pol[i] == A5_BAN;
        }
        d->nr = nr;
        d->nb = nb;
        d->R = x[A5_G_CHINA_RETALIATION] +
               x[A5_G_CHINA_ESCALATION] * ((nr * x[A5_G_RESTRICT_COMPLIANCE] + nb) / n);
#ifdef A5_MODEL_EXTENSION_TEST /* docs/extending.md's second example */
        d->bshare = (double)nb / n;
#endif
        if (geff) {
            const double eta = x[A5_G_INTEL_STANDING];
            const double *g = x + a5_param_nslot(A5_N_INFLUENCE, 0, n),
                         *dd = x + a5_param_nslot(A5_N_INTEL, 0, n);
            for (int i = 0; i < n; i++)
                geff[i] = a5_influence(g[i], eta, dd[i], pol[i]);
        }
    }
}

#endif
