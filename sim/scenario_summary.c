/* The one-screen summary of `allied5g validate`, and the output-size estimate. */
#include "scenario_int.h"

#include <stdio.h>

/* Knows the results file's layout: to move to the output module. */
double a5_scenario_output_bytes(const a5_scenario *s)
{
    double runs = (double)s->npoints * (double)s->replicates;
    double per = (double)s->n * (2 + 2 + 1 + 4 + 4); /* first_ban, first_restrict, final, cum_cost, cum_risk */
    if (s->store_full)
        per += (double)s->steps * s->n * (1 + 4 + 4);
    /* output.record: bytes per nation-step of each record (us_pressure is in full) */
    static const int rb[A5_REC_COUNT] = {4, 1, 4, 1, 1, 4, 4};
    const int per_run = A5_REC_CUM_RETALIATION | A5_REC_CUM_DOWNGRADE; /* per nation, not step */
    for (int b = 0; b < A5_REC_COUNT; b++)
        if ((s->record & (1 << b)) && !((1 << b) == A5_REC_US_PRESSURE && s->store_full))
            per += (double)((1 << b) & per_run ? 1 : s->steps) * s->n * rb[b];
    per += (double)s->noutcomes * 4; /* outcomes */
    if (s->store_outcomes) /* no finals, no aggregates */
        per -= (double)s->n * (2 + 2 + 1 + 4 + 4);
    double agg = s->store_outcomes ? 0 : (double)s->npoints * s->steps * s->n * (3 + 1 + 3) * 4;
    return runs * per + agg;
}

static void human_bytes(double b, char *buf, size_t len)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int i = 0;
    while (b >= 1024 && i < 5) {
        b /= 1024;
        i++;
    }
    snprintf(buf, len, "%.1f %s", b, u[i]);
}

void a5_scenario_summary(const a5_scenario *s, FILE *out)
{
    char last[16], size[32];
    a5_scenario_date(s, s->steps - 1, last, sizeof last);
    fprintf(out, "scenario   %s (%s)\n", s->name, s->file);
    if (s->description[0])
        fprintf(out, "             %.200s\n", s->description);
    fprintf(out, "steps      %d quarters, %s to %s\n", s->steps, s->start, last);
    fprintf(out, "nations    %d:", s->n);
    for (int i = 0; i < s->n && i < 40; i++)
        fprintf(out, " %s", s->codes[i]);
    fprintf(out, "%s\n", s->n > 40 ? " ..." : "");
    fprintf(out, "blocs      %d:", s->nblocs);
    for (int b = 0; b < s->nblocs && b < 20; b++) {
        int m = 0;
        for (int i = 0; i < s->n; i++)
            for (int q = s->bloc_off[i]; q < s->bloc_off[i + 1]; q++)
                m += s->bloc_idx[q] == b;
        fprintf(out, " %s(%d)", s->bloc_names[b], m);
    }
    fprintf(out, "%s\n", s->nblocs > 20 ? " ..." : "");
    fprintf(out, "vendors    %d:", s->nvendors);
    for (int v = 0; v < s->nvendors; v++)
        fprintf(out, " %s%s @ %g", s->vendor_names[v], s->vendor_high_risk[v] ? " (high-risk)" : "",
                s->base[a5_param_vslot(v, s->n)]);
    fprintf(out, "\n");
    static const char *const dn[] = {"none",     "sweep grid", "latin hypercube", "sobol",
                                     "saltelli", "file",       "morris",     "robust"};
    fprintf(out, "design     %ld point%s (%s", s->npoints, s->npoints == 1 ? "" : "s",
            dn[s->design]);
    if (s->design == A5_DESIGN_SALTELLI && s->second_order)
        fprintf(out, ", second order, N = %ld", s->design_n);
    else if (s->design == A5_DESIGN_MORRIS)
        fprintf(out, ", %ld trajectories, %d levels", s->design_n, s->morris_levels);
    if (s->nworlds)
        fprintf(out, ": %ld polic%s x %ld world%s", s->design_n, s->design_n == 1 ? "y" : "ies",
                s->nworlds, s->nworlds == 1 ? "" : "s");
    fprintf(out, ")");
    const size_t shown = s->nworlds ? s->nlevers : s->nvaried;
    for (size_t j = 0; j < shown && j < 6; j++)
        fprintf(out, "%s%s", j ? ", " : s->nworlds ? ": levers " : ": ", s->varied[j].path);
    if (s->nworlds) {
        fprintf(out, "%s; world inputs", shown > 6 ? ", ..." : "");
        for (size_t j = shown; j < s->nvaried && j < shown + 6; j++)
            fprintf(out, "%s%s", j > shown ? ", " : " ", s->varied[j].path);
        fprintf(out, "%s", s->nvaried > shown + 6 ? ", ..." : "");
    }
    fprintf(out, "\n");
    fprintf(out, "replicates %ld per point, seed %llu%s\n", s->replicates,
            (unsigned long long)s->seed,
            s->common     ? ", common random numbers (every point's replicate r on one stream)"
            : s->nworlds ? ", common random numbers within each world (replicate r of world w on "
                           "stream (seed, w, r))"
                         : "");
    if (s->nworlds)
        fprintf(out, "uncertain  drawn once per world (the world inputs above)\n");
    else
        fprintf(out, "uncertain  %zu", s->nuncertain);
    for (size_t j = 0; j < s->nuncertain && j < 6; j++)
        fprintf(out, "%s%s ~ %s", j ? ", " : ": ", s->uncertain[j].target.path,
                a5_sc_dist_names[s->uncertain[j].dist.kind]);
    if (!s->nworlds)
        fprintf(out, "%s\n", s->nuncertain > 6 ? ", ..." : "");
    if (s->noutcomes) {
        fprintf(out, "outcomes   %zu:", s->noutcomes);
        for (size_t k = 0; k < s->noutcomes; k++)
            fprintf(out, "%s %s = %s %s", k ? "," : "", s->outcomes[k].name, s->outcomes[k].expr,
                    s->outcomes[k].maximise ? "(max)" : "(min)");
        fprintf(out, "\n");
    }
    size_t nat = 0;
    for (size_t e = 0; e < s->nevents; e++)
        nat += s->events[e].at >= 0;
    fprintf(out, "events     %zu scheduled, %zu hazard\n", nat, s->nevents - nat);
    if (s->window || s->nattention) { /* docs/model.md, "Timing" */
        size_t cells_in = 0;
        for (size_t c = 0; s->window && c < (size_t)s->steps * (size_t)s->n; c++)
            cells_in += s->window[c];
        fprintf(out, "timing     %zu windows (%zu nation-steps, hazard_boost %g), %zu attention "
                     "events (weight %g, decay %g)\n",
                s->nwindows, cells_in, s->base[A5_G_WINDOW_BOOST], s->nattention,
                s->base[A5_G_ATTENTION_WEIGHT], s->base[A5_G_ATTENTION_DECAY]);
    }
    double cells = (double)s->npoints * (double)s->replicates * s->steps * s->n;
    human_bytes(a5_scenario_output_bytes(s), size, sizeof size);
    fprintf(out, "run size   %.3g nation-steps; output %s uncompressed (store %s)\n", cells, size,
            s->store_full ? "full" : s->store_outcomes ? "outcomes" : "summary");
    if (s->record) {
        fprintf(out, "records   ");
        for (int b = 0; b < A5_REC_COUNT; b++)
            if (s->record & (1 << b))
                fprintf(out, " %s", a5_scenario_record_names[b]);
        fprintf(out, "\n");
    }
}
