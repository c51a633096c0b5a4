/* Observations by nation and date: an order of the rows built in linear time, the
 * check that one nation and quarter has one policy, and the check of observations at
 * or before the start against the scenario's starting policies. See a5_calibrate.h;
 * issue 25.11 (linear in rows) and issue 23.3. */
#include "calibrate_int.h"

#include "a5_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const policy_word[3] = {"open", "restrict", "ban"};

/* Rows in order of nation, then date, then file order: two stable counting sorts. */
int a5c_obs_order(const a5_scenario *s, const a5_obs *obs, size_t n, size_t *order)
{
    size_t nb = (size_t)(s->steps > s->n ? s->steps : s->n) + 1;
    size_t *cnt = a5_calloc(nb, sizeof *cnt), *tmp = a5_calloc(n ? n : 1, sizeof *tmp);
    if (!cnt || !tmp) {
        free(cnt);
        free(tmp);
        return A5_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        cnt[obs[i].step + 1]++;
    for (size_t k = 1; k < nb; k++)
        cnt[k] += cnt[k - 1];
    for (size_t i = 0; i < n; i++)
        tmp[cnt[obs[i].step]++] = i;
    memset(cnt, 0, nb * sizeof *cnt);
    for (size_t i = 0; i < n; i++)
        cnt[obs[i].nation + 1]++;
    for (size_t k = 1; k < nb; k++)
        cnt[k] += cnt[k - 1];
    for (size_t q = 0; q < n; q++)
        order[cnt[obs[tmp[q]].nation]++] = tmp[q];
    free(cnt);
    free(tmp);
    return 0;
}

int a5c_obs_cell_rank(const a5_scenario *s, const a5_obs *obs, size_t n, int *rank)
{
    size_t *order = a5_calloc(n ? n : 1, sizeof *order);
    if (!order || a5c_obs_order(s, obs, n, order)) {
        free(order);
        return A5_ENOMEM;
    }
    for (size_t q = 0; q < n; q++) {
        const a5_obs *a = &obs[order[q]], *b = q ? &obs[order[q - 1]] : NULL;
        rank[order[q]] = b && a->nation == b->nation && a->step == b->step ? rank[order[q - 1]] + 1
                                                                           : 0;
    }
    free(order);
    return 0;
}

int a5_calib_check_cells(const char *path, const a5_scenario *s, const a5_obs *obs, size_t n,
                         a5_diag *d)
{
    size_t *order = a5_calloc(n ? n : 1, sizeof *order);
    size_t *other = a5_calloc(n ? n : 1, sizeof *other);
    if (!order || !other || a5c_obs_order(s, obs, n, order)) {
        free(order);
        free(other);
        return A5_ENOMEM;
    }
    /* Within a cell (rows in file order), each row against the earliest row before it
     * with another policy: the first row of each policy so far. */
    for (size_t g = 0; g < n;) {
        size_t h = g, first[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
        for (; h < n && obs[order[h]].nation == obs[order[g]].nation &&
               obs[order[h]].step == obs[order[g]].step; h++) {
            size_t j = order[h];
            other[j] = SIZE_MAX;
            for (int k = 0; k < 3; k++)
                if (k != obs[j].policy && first[k] < other[j])
                    other[j] = first[k];
            if (first[obs[j].policy] == SIZE_MAX)
                first[obs[j].policy] = j;
        }
        g = h;
    }
    for (size_t j = 0; j < n; j++) { /* reported in file order, as the first ones are kept */
        size_t i = other[j];
        if (i == SIZE_MAX)
            continue;
        char q[16];
        a5_scenario_date(s, obs[j].step, q, sizeof q);
        a5_diag_add(d, path, obs[j].line, 1, "%s %s is '%s' here but '%s' on line %d: one "
                    "policy per nation and quarter (repeated observations, such as "
                    "simulated worlds: --repeated-observations)", s->codes[obs[j].nation],
                    q, policy_word[obs[j].policy], policy_word[obs[i].policy], obs[i].line);
    }
    free(order);
    free(other);
    return 0;
}

int a5_calib_check_start(const char *path, const a5_scenario *s, const a5_obs *obs, size_t n,
                         a5_diag *w)
{
    for (size_t i = 0; i < n; i++) {
        int st = a5c_start(s, obs[i].nation);
        if (obs[i].step > 0 || obs[i].policy == st)
            continue;
        char q[16];
        a5_scenario_date(s, obs[i].step, q, sizeof q);
        a5_diag_add(w, path, obs[i].line, 1, "%s is '%s' at %s, the scenario's first quarter, "
                    "but %s starts it at '%s': the scenario contradicts the data at its start "
                    "(the model can match this row only by a change in that quarter)",
                    s->codes[obs[i].nation], policy_word[obs[i].policy], q, s->file,
                    policy_word[st]);
    }
    return 0;
}
