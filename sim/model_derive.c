/* Step 2's terms that the fast kernel (model.c) and the strategic step
 * (model_strategy.c) both keep in their scratch: the peer sums by bloc, and the
 * lanes of the attributes the decisions read. The other terms of step 2 are
 * a5_derive_step (model_terms.h), which the reference test calls too. */
#include "model_int.h"

#include "a5_vector.h"

#include <string.h>

void a5_mod_input_lanes(const a5_model *m, const double *x, a5_work *w)
{
    const int n = m->n;
#define A5_COPY(name, attr)                                                                        \
    memcpy(w->lane + (size_t)L_IN_##name * w->np, x + a5_param_nslot(attr, 0, n),                   \
           (size_t)n * sizeof *w->lane);
    A5_MODEL_NATION_INPUTS(A5_COPY)
#undef A5_COPY
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

/* The peer sums of influences g at policies pol: T_k over all nations, M_bk over
 * bloc b's members, each in nation order in a register (accumulating into M by
 * each nation's blocs, additions went through memory: this takes ~1.5 % fewer
 * instructions and a smaller share of the profile, same bits). The plain step
 * sums the influences g_i, the strategic step g'_i. */
A5_VECTOR_CLONES void a5_mod_peer_sums(const a5_model *m, const double *g, const double *pol,
                                       a5_work *w)
{
    const int n = m->n;
    sum3 t = {0, 0, 0, 0};
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
    for (int k = 0; k < 3; k++)
        w->T[k] = t[k];
}
