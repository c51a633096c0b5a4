/* HDF5 results file that xarray opens with the netcdf4 and h5netcdf engines:
 * creating it. See a5_output.h; every property set here has its reason:
 * creation-order tracking everywhere, a dimension scale on every axis,
 * variable-length UTF-8 strings, numbered API names, no object timestamps (identical
 * runs give identical files). The variables are one table (a5_out_vars) created by
 * one loop; this file also says how each is stored (a5_out_var_layout) and makes
 * a fresh PATH.partial: dimensions, coordinates, variables, attributes, provenance. */
#include "output_int.h"

#include "a5_sys.h"

#include <errno.h>
#include <gsl/gsl_version.h>
#include <hdf5_hl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#ifndef A5_VERSION
#define A5_VERSION "0.0.0"
#endif
#include "a5_gitrev.h" /* generated at build time: A5_GIT_REVISION */

#define A5_MODEL_ID "allied5g-reference-1 (docs/model.md of allied5g " A5_VERSION ")"

/* --- the variables ------------------------------------------------------------------- */

#define DIMS4 {D_POINT, D_REPLICATE, D_STEP, D_NATION}
#define DIMS3 {D_POINT, D_REPLICATE, D_NATION}

/* In V_* order, which is also the order they appear in the file. */
const var_spec a5_out_vars[V_COUNT] = {
    [V_POLICY] = {"policy", K_I8, 4, DIMS4, CH_REPLICATE, 0, -1, 1, 1, "policy", "",
                  "policy s_i at the end of each step (0 open, 1 restrict, 2 ban)"},
    [V_H] = {"high_risk_share", K_F32, 4, DIMS4, CH_REPLICATE, 0, NAN, 0, 1,
             "high-risk vendor share", "1",
             "installed high-risk vendor share h_i of the radio network"},
    [V_P] = {"us_pressure", K_F32, 4, DIMS4, CH_REPLICATE, 0, NAN, 0, 1, "US pressure", "1",
             "US pressure P_i on the nation", A5_REC_US_PRESSURE},
    [V_FIRST_BAN] = {"first_ban_step", K_I16, 3, DIMS3, CH_REPLICATE, 1, -2, 0, 0,
                     "first ban step", "1",
                     "first step whose recorded policy is ban; -1 if never"},
    [V_FINAL] = {"final_policy", K_I8, 3, DIMS3, CH_REPLICATE, 1, -1, 1, 0, "final policy", "",
                 "policy at the end of the run"},
    [V_COST] = {"cum_cost", K_F32, 3, DIMS3, CH_REPLICATE, 0, NAN, 0, 0, "cumulative cost", "1",
                "sum over steps of C_i at the chosen policy, with step-t terms"},
    [V_RISK] = {"cum_risk", K_F32, 3, DIMS3, CH_REPLICATE, 0, NAN, 0, 0, "cumulative risk", "1",
                "sum over steps of S_i at the chosen policy, with step-t terms"},
    [V_SHARE] = {"policy_share", K_F32, 4, {D_POINT, D_STEP, D_NATION, D_OPTION}, CH_POINT, 0,
                 NAN, 0, 0, "policy share", "1",
                 "share of replicates in each policy at the end of each step"},
    [V_MEAN] = {"high_risk_share_mean", K_F32, 3, {D_POINT, D_STEP, D_NATION}, CH_POINT, 0, NAN,
                0, 0, "mean high-risk share", "1",
                "mean over replicates of high_risk_share (summed in replicate order)"},
    [V_QUANT] = {"high_risk_share_quantiles", K_F32, 4, {D_POINT, D_STEP, D_NATION, D_QUANTILE},
                 CH_POINT, 0, NAN, 0, 0, "high-risk share quantiles", "1",
                 "5/50/95 % quantiles over replicates (linear interpolation between order "
                 "statistics), from per-bin histograms; see attribute max_abs_error"},
    [V_FAILED] = {"failed_replicates", K_I32, 1, {D_POINT}, CH_NONE, 0, -1, 0, 0,
                  "failed replicates", "1",
                  "replicates of the point that produced non-finite values; their records "
                  "are fill values and the aggregates leave them out"},
    [V_INTEL] = {"intel_status", K_I8, 4, DIMS4, CH_REPLICATE, 0, -1, 2, 2,
                 "intelligence lever status", "",
                 "US intelligence lever on the nation at the end of each step (0 none, 1 "
                 "threatened, 2 downgraded)", A5_REC_INTEL},
    [V_FIRST_RESTRICT] = {"first_restrict_step", K_I16, 3, DIMS3, CH_REPLICATE, 1, -2, 0, 0,
                          "first restrict step", "1",
                          "first step whose recorded policy is restrict or ban; -1 if never"},
    [V_RETALIATION] = {"china_retaliation", K_F32, 4, DIMS4, CH_REPLICATE, 0, NAN, 0, 3,
                       "Chinese retaliation", "1",
                       "retaliation China applies to the nation in the step at its new policy, "
                       "phi(K_i) R_i(K_i) (0 when open); the utility's Q_i is c_i times it",
                       A5_REC_RETALIATION},
    [V_US_TARGET] = {"us_target", K_I8, 4, DIMS4, CH_REPLICATE, 0, -1, 3, 3, "US target", "",
                     "1 where the US strategy's budget went to the nation in the step "
                     "(uniform: every nation it can still move; pivotal, wavering: the one)",
                     A5_REC_US_TARGET},
    [V_CHINA_TARGET] = {"china_target", K_I8, 4, DIMS4, CH_REPLICATE, 0, -1, 3, 3,
                        "Chinese target", "",
                        "1 where China's strategy aimed at the nation in the step (targeted: "
                        "its targets; deterrent: the waverer)", A5_REC_CHINA_TARGET},
    [V_CUM_RETALIATION] = {"cum_retaliation", K_F32, 3, DIMS3, CH_REPLICATE, 0, NAN, 0, 3,
                           "cumulative retaliation", "1",
                           "sum over steps of c_i phi(K_i) R_i(K_i), the retaliation the nation "
                           "bore (its utility's Q_i at the chosen policy, unweighted)",
                           A5_REC_CUM_RETALIATION},
    [V_CUM_DOWNGRADE] = {"cum_downgrade", K_F32, 3, DIMS3, CH_REPLICATE, 0, NAN, 0, 3,
                         "cumulative intelligence downgrade", "1",
                         "sum over steps t of delta d_i while a downgrade is in force at X(t) "
                         "(the intelligence lost, the utility's Lambda_i while downgraded)",
                         A5_REC_CUM_DOWNGRADE},
    [V_OUTCOMES] = {"outcomes", K_F32, 3, {D_POINT, D_REPLICATE, D_OUTCOME}, CH_REPLICATE, 0, NAN,
                    0, 4, "outcome", "1",
                    "the scenario's outcomes: per replicate, each metric of the outcome "
                    "coordinate (outcome_metric; docs/robust.md)",
                    0},
};
/* Whether variable vs is in this file. */
int a5_out_var_on(const a5_output *o, const var_spec *vs)
{
    if (vs->record && (o->s->record & vs->record))
        return 1;
    if (vs->full_only == 4)
        return o->s->noutcomes > 0;
    /* store outcomes: no per-replicate finals, no per-point aggregates */
    if (o->s->store_outcomes && (vs->chunk == CH_REPLICATE || vs->chunk == CH_POINT))
        return 0;
    return !vs->full_only ||
           (o->full && (vs->full_only == 1 || (vs->full_only == 2 && a5_model_uses_lever(o->s))));
}

/* The file and memory types of an element kind. */
static hid_t file_type(int kind)
{
    switch (kind) {
    case K_I8: return H5T_STD_I8LE;
    case K_I16: return H5T_STD_I16LE;
    case K_I32: return H5T_STD_I32LE;
    case K_F32: return H5T_IEEE_F32LE;
    default: return H5T_IEEE_F64LE;
    }
}

hid_t a5_out_mem_type(int kind)
{
    switch (kind) {
    case K_I8: return H5T_NATIVE_SCHAR;
    case K_I16: return H5T_NATIVE_SHORT;
    case K_I32: return H5T_NATIVE_INT;
    case K_F32: return H5T_NATIVE_FLOAT;
    default: return H5T_NATIVE_DOUBLE;
    }
}

/* v as an element of `kind` in buf (at least 8 bytes). */
static void to_kind(int kind, double v, void *buf)
{
    switch (kind) {
    case K_I8: *(signed char *)buf = (signed char)v; break;
    case K_I16: *(short *)buf = (short)v; break;
    case K_I32: *(int *)buf = (int)v; break;
    case K_F32: *(float *)buf = (float)v; break;
    default: *(double *)buf = v; break;
    }
}

void a5_out_var_layout(int v, const char **name, int *rank, hid_t *mtype, int *chunk)
{
    *name = a5_out_vars[v].name;
    *rank = a5_out_vars[v].rank;
    *mtype = a5_out_mem_type(a5_out_vars[v].kind);
    *chunk = a5_out_vars[v].chunk;
}

/* Dataset access without a chunk cache: every write covers whole chunks, so there
 * is nothing to gain from caching, and a cache would defer compressing them to
 * the close (serial, after the last block) instead of the overlapped writes. */
hid_t a5_out_chunk_access(void)
{
    static hid_t dapl = -1;
    if (dapl < 0) {
        dapl = H5Pcreate(H5P_DATASET_ACCESS);
        if (dapl >= 0 && H5Pset_chunk_cache(dapl, 0, 0, H5D_CHUNK_CACHE_W0_DEFAULT) < 0) {
            H5Pclose(dapl);
            dapl = -1;
        }
    }
    return dapl >= 0 ? dapl : H5P_DEFAULT;
}

#define CK(expr)                                                                                   \
    do {                                                                                           \
        if ((expr) < 0)                                                                            \
            goto fail;                                                                             \
    } while (0)

static hid_t dcpl_new(int rank, const hsize_t *chunk, int deflate)
{
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    if (p < 0)
        return -1;
    CK(H5Pset_attr_creation_order(p, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED));
    CK(H5Pset_obj_track_times(p, 0));
    CK(H5Pset_attr_phase_change(p, 64, 48));
    if (chunk) {
        CK(H5Pset_chunk(p, rank, chunk));
        if (deflate) {
            CK(H5Pset_shuffle(p));
            CK(H5Pset_deflate(p, (unsigned)deflate));
        }
        /* A checksum of every stored chunk (last, over the bytes on disk): damage to
         * the file is found when the chunk is read (a5_output_verify), not passed on
         * as results. It changes the file's bytes, never the values. */
        CK(H5Pset_fletcher32(p));
    }
    return p;
fail:
    H5Pclose(p);
    return -1;
}

int a5_out_attr_str(hid_t obj, hid_t vstr, const char *name, const char *value)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = -1;
    int rc = -1;
    if (sp < 0)
        return -1;
    a = H5Acreate2(obj, name, vstr, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0 && H5Awrite(a, vstr, &value) >= 0)
        rc = 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

int a5_out_attr_num(hid_t obj, const char *name, hid_t type, const void *v, hsize_t n)
{
    hid_t sp = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL), a = -1;
    int rc = -1;
    if (sp < 0)
        return -1;
    a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0 && H5Awrite(a, type, v) >= 0)
        rc = 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

static int describe(const a5_output *o, hid_t obj, const char *long_name, const char *units,
                    const char *desc)
{
    /* CF: no units on text, indices or flags (""), else a UDUNITS string. */
    if (a5_out_attr_str(obj, o->vlen_str, "long_name", long_name) < 0 ||
        (units[0] && a5_out_attr_str(obj, o->vlen_str, "units", units) < 0) ||
        a5_out_attr_str(obj, o->vlen_str, "description", desc) < 0)
        return -1;
    return 0;
}

/* End of making dataset ds with dataspace sp and creation list p: close those two,
 * and ds too unless ok. Returns ds, or -1 when not ok. */
static hid_t created(hid_t ds, hid_t sp, hid_t p, int ok)
{
    if (!ok && ds >= 0)
        H5Dclose(ds);
    if (sp >= 0)
        H5Sclose(sp);
    if (p >= 0)
        H5Pclose(p);
    return ok ? ds : -1;
}

/* A 1-D coordinate dataset of n values made a dimension scale. */
static hid_t coord(a5_output *o, const char *name, hid_t ftype, hid_t mtype, hsize_t n,
                   const void *data)
{
    hid_t sp = H5Screate_simple(1, &n, NULL), p = dcpl_new(1, NULL, 0), ds = -1;
    if (sp < 0 || p < 0)
        goto fail;
    ds = H5Dcreate2(o->file, name, ftype, sp, H5P_DEFAULT, p, H5P_DEFAULT);
    if (ds < 0)
        goto fail;
    if (n > 0)
        CK(H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5Tis_variable_str(mtype) > 0 ? o->sxpl : H5P_DEFAULT,
                    data));
    CK(H5DSset_scale(ds, name));
    return created(ds, sp, p, 1);
fail:
    return created(ds, sp, p, 0);
}

/* A variable over dims d[0..rank), chunked as given (NULL: contiguous), with every
 * axis attached; fill (NULL: none) is one element of memory type mtype. */
static hid_t variable(a5_output *o, const char *name, hid_t type, int rank, const int *d,
                      const hsize_t *chunk, int deflate, hid_t mtype, const void *fill)
{
    hsize_t size[4];
    for (int i = 0; i < rank; i++) {
        hid_t sp = H5Dget_space(o->dim[d[i]]);
        if (sp < 0)
            return -1;
        int r = H5Sget_simple_extent_dims(sp, &size[i], NULL);
        H5Sclose(sp);
        if (r < 0)
            return -1;
    }
    hid_t sp = H5Screate_simple(rank, size, NULL), p = dcpl_new(rank, chunk, deflate), ds = -1;
    if (sp < 0 || p < 0)
        goto fail;
    if (fill)
        CK(H5Pset_fill_value(p, mtype, fill));
    ds = H5Dcreate2(o->file, name, type, sp, H5P_DEFAULT, p, a5_out_chunk_access());
    if (ds < 0)
        goto fail;
    for (int i = 0; i < rank; i++)
        CK(H5DSattach_scale(ds, o->dim[d[i]], (unsigned)i));
    return created(ds, sp, p, 1);
fail:
    return created(ds, sp, p, 0);
}

/* A small 1-D (over dimension d) or 2-D variable written whole at creation, with
 * its description; NULL long_name: none. Returns 0 or -1. */
static int static_var(a5_output *o, const char *name, hid_t ftype, hid_t mtype, int rank,
                      const int *d, const void *data, const char *long_name, const char *units,
                      const char *desc)
{
    hid_t ds = variable(o, name, ftype, rank, d, NULL, 0, mtype, NULL);
    hid_t xpl = H5Tis_variable_str(mtype) > 0 ? o->sxpl : H5P_DEFAULT;
    int ok = ds >= 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, xpl, data) >= 0 &&
             (!long_name || describe(o, ds, long_name, units, desc) == 0);
    if (ds >= 0)
        H5Dclose(ds);
    return ok ? 0 : -1;
}

/* --- creating the file ------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard
 * Hinnant's days_from_civil). */
static long days_from_civil(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* CF time of step t: the last day of its quarter (the row holds the state at the
 * end of that quarter), in days since 1970-01-01. */
static int quarter_end_day(const a5_scenario *s, int t)
{
    long q = (long)s->start_quarter - 1 + t; /* quarters after the start year's first */
    long y = s->start_year + q / 4;
    int qq = (int)(q % 4) + 1;
    /* The day before the next quarter's first day. */
    long next = qq == 4 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, 3 * qq + 1, 1);
    return (int)(next - 1);
}

/* The time axis's other coordinates (step numbers, quarter labels), nation names and
 * bloc membership. */
static int create_labels(a5_output *o, const char *const *dates, const int *sv)
{
    const a5_scenario *s = o->s;
    int dn[1] = {D_NATION}, dt[1] = {D_STEP};
    CK(static_var(o, "nation_name", o->vlen_str, o->vlen_str, 1, dn, s->names, "nation name", "",
                  "full name of each nation"));
    CK(static_var(o, "step", H5T_STD_I32LE, H5T_NATIVE_INT, 1, dt, sv, "step", "1",
                  "quarters since the start; row t records the state X(t+1) at the end of "
                  "step t"));
    CK(static_var(o, "date", o->vlen_str, o->vlen_str, 1, dt, dates, "quarter", "",
                  "label of each step; row t holds the state at the end of that quarter"));
    if (s->nblocs > 0) {
        /* Bloc membership, for cohesion analyses: 1 where nation is in bloc. */
        int db[2] = {D_NATION, D_BLOC};
        signed char *mem = calloc((size_t)s->n * (size_t)s->nblocs, 1);
        if (!mem)
            return -1;
        for (int i = 0; i < s->n; i++)
            for (int q = s->bloc_off[i]; q < s->bloc_off[i + 1]; q++)
                mem[(size_t)i * (size_t)s->nblocs + (size_t)s->bloc_idx[q]] = 1;
        int rc = static_var(o, "bloc_member", H5T_STD_I8LE, H5T_NATIVE_SCHAR, 2, db, mem,
                            "bloc membership", "1", "1 where the nation belongs to the bloc");
        free(mem);
        CK(rc);
        CK(describe(o, o->dim[D_BLOC], "bloc", "", "bloc names"));
    }
    return 0;
fail:
    return -1;
}

/* The outcome axis: the outcomes' names, with their metric (as the package's
 * compare() names it), direction and threshold (NaN: none) along it. */
static int create_outcomes(a5_output *o)
{
    const a5_scenario *s = o->s;
    const size_t k = s->noutcomes;
    const char **names = malloc(3 * k * sizeof *names);
    double *thr = malloc(k * sizeof *thr);
    int ok = names && thr, d1[1] = {D_OUTCOME};
    for (size_t j = 0; ok && j < k; j++) {
        names[j] = s->outcomes[j].name;
        names[k + j] = s->outcomes[j].expr;
        names[2 * k + j] = s->outcomes[j].maximise ? "max" : "min";
        thr[j] = s->outcomes[j].threshold;
    }
    hid_t v = o->vlen_str;
    ok = ok && (o->dim[D_OUTCOME] = coord(o, "outcome", v, v, (hsize_t)k, names)) > 0 &&
         describe(o, o->dim[D_OUTCOME], "outcome", "", "names of the scenario's outcomes") == 0 &&
         static_var(o, "outcome_metric", v, v, 1, d1, names + k, "outcome metric", "",
                    "what each outcome measures, as allied5g.compare names it") == 0 &&
         static_var(o, "outcome_direction", v, v, 1, d1, names + 2 * k, "outcome direction", "",
                    "max: more is better; min: less is better") == 0 &&
         static_var(o, "outcome_threshold", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, d1, thr,
                    "outcome threshold", "1",
                    "the value an outcome must reach (max) or stay under (min) to satisfice; "
                    "NaN: none") == 0;
    free(names);
    free(thr);
    return ok ? 0 : -1;
}

/* Every dimension's coordinate, then the step labels (create_labels). */
static int create_coords(a5_output *o)
{
    const a5_scenario *s = o->s;
    const hsize_t P = (hsize_t)s->npoints, R = (hsize_t)s->replicates, T = (hsize_t)s->steps;
    int *sv = malloc(T * sizeof *sv), *days = malloc(T * sizeof *days);
    const char **dates = malloc(T * sizeof *dates);
    char *dbuf = malloc(T * 16);
    int ok = sv && days && dates && dbuf;
    if (ok) {
        for (int t = 0; t < s->steps; t++) {
            sv[t] = t;
            days[t] = quarter_end_day(s, t);
            a5_scenario_date(s, t, dbuf + 16 * t, 16);
            dates[t] = dbuf + 16 * t;
        }
        static const char *const opts[3] = {"open", "restrict", "ban"};
        static const double qs[3] = {0.05, 0.5, 0.95};
        hid_t v = o->vlen_str;
        o->dim[D_POINT] = a5_out_coord_iota(o, "point", P, 1);
        o->dim[D_REPLICATE] = a5_out_coord_iota(o, "replicate", R, 0);
        o->dim[D_STEP] = coord(o, "time", H5T_STD_I32LE, H5T_NATIVE_INT, T, days);
        o->dim[D_NATION] = coord(o, "nation", v, v, (hsize_t)s->n, s->codes);
        o->dim[D_OPTION] = coord(o, "option", v, v, 3, opts);
        o->dim[D_QUANTILE] = coord(o, "quantile", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, qs);
        if (s->nblocs > 0)
            o->dim[D_BLOC] = coord(o, "bloc", v, v, (hsize_t)s->nblocs, s->bloc_names);
        if (s->noutcomes > 0)
            ok = ok && create_outcomes(o) == 0;
        for (int d = 0; d < D_COUNT; d++)
            ok = ok && (o->dim[d] > 0 || (d == D_BLOC && s->nblocs == 0) ||
                        (d == D_OUTCOME && s->noutcomes == 0));
        hid_t tv = o->dim[D_STEP];
        ok = ok && create_labels(o, dates, sv) == 0 &&
             describe(o, tv, "end of quarter", "days since 1970-01-01",
                      "last day of each step's quarter; row t holds the state at its end") == 0 &&
             a5_out_attr_str(tv, v, "calendar", "proleptic_gregorian") == 0 &&
             a5_out_attr_str(tv, v, "standard_name", "time") == 0 &&
             a5_out_attr_str(tv, v, "axis", "T") == 0 &&
             describe(o, o->dim[D_POINT], "design point", "", "index of the design point") == 0 &&
             describe(o, o->dim[D_REPLICATE], "replicate", "",
                      "Monte Carlo replicate; stream (seed, point or 0 if CRN, replicate)") == 0 &&
             describe(o, o->dim[D_NATION], "nation code", "", "nation code") == 0 &&
             describe(o, o->dim[D_OPTION], "policy option", "", "open, restrict, ban") == 0 &&
             describe(o, o->dim[D_QUANTILE], "quantile", "1",
                      "probability level of high_risk_share_quantiles") == 0;
    }
    free(sv);
    free(days);
    free(dates);
    free(dbuf);
    return ok ? 0 : -1;
}

#define NAME_LEN 128 /* a design variable's file name, at most */

/* Whether name is one of the file's own variables (the table, the coordinates and
 * labels), which a design variable's name must not take. */
static int file_variable(const char *name)
{
    static const char *const own[] = {"point", "replicate", "time", "nation", "option",
                                      "quantile", "bloc", "nation_name", "step", "date",
                                      "bloc_member", "outcome", "outcome_metric",
                                      "outcome_direction", "outcome_threshold", "policy_index",
                                      "world_index"};
    for (size_t k = 0; k < sizeof own / sizeof *own; k++)
        if (strcmp(name, own[k]) == 0)
            return 1;
    for (int v = 0; v < V_COUNT; v++)
        if (strcmp(name, a5_out_vars[v].name) == 0)
            return 1;
    return 0;
}

/* The file names of the design variables, NAME_LEN bytes each (NULL if out of
 * memory): each path with every character other than a letter, digit or underscore
 * made '_' ('*' made "all"), so that CF and netCDF tools accept it (nations.*.threat:
 * nations_all_threat); "_2", "_3".. set apart a name the file's own variables or an
 * earlier path already took (us.pressure: us_pressure_2). The path itself is the
 * variable's attribute `path`. */
static char *design_names(const a5_scenario *s)
{
    char *names = calloc(s->nvaried + 1, NAME_LEN), base[NAME_LEN];
    for (size_t j = 0; names && j < s->nvaried; j++) {
        size_t k = 0;
        for (const char *c = s->varied[j].path; *c && k < 100; c++) {
            if (*c == '*') {
                memcpy(base + k, "all", 3);
                k += 3;
                continue;
            }
            int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || *c == '_';
            base[k++] = ok ? *c : '_';
        }
        base[k] = 0;
        char *name = names + j * NAME_LEN;
        for (int n = 1, taken = 1; taken; n++) {
            if (n == 1)
                snprintf(name, NAME_LEN, "%s", base);
            else
                snprintf(name, NAME_LEN, "%.100s_%d", base, n);
            taken = file_variable(name);
            for (size_t i = 0; i < j; i++)
                taken |= strcmp(names + i * NAME_LEN, name) == 0;
        }
    }
    return names;
}

/* CF `coordinates` of variable vs: the auxiliary coordinates along its axes (step
 * and date on time, nation_name on nation, the design variables on point), so that
 * plain xarray makes them coordinates. */
static int coordinates_attr(a5_output *o, hid_t ds, const var_spec *vs, const char *names)
{
    const a5_scenario *s = o->s;
    int has[D_COUNT] = {0};
    for (int i = 0; i < vs->rank; i++)
        has[vs->dims[i]] = 1;
    size_t len = 128 + (has[D_POINT] ? s->nvaried * (NAME_LEN + 1) : 0);
    char *c = calloc(len, 1);
    if (!c)
        return -1;
    if (has[D_STEP])
        strcat(c, "step date");
    if (has[D_NATION])
        strcat(strcat(c, c[0] ? " " : ""), "nation_name");
    if (has[D_OUTCOME])
        strcat(strcat(c, c[0] ? " " : ""), "outcome_metric outcome_direction outcome_threshold");
    for (size_t j = 0; has[D_POINT] && j < s->nvaried; j++)
        strcat(strcat(c, c[0] ? " " : ""), names + j * NAME_LEN);
    if (has[D_POINT] && s->nworlds)
        strcat(strcat(c, c[0] ? " " : ""), "policy_index world_index");
    int rc = c[0] ? a5_out_attr_str(ds, o->vlen_str, "coordinates", c) : 0;
    free(c);
    return rc;
}

/* Every variable of a5_out_vars in the store in use: one loop. */
static int create_vars(a5_output *o, long chunk_reps, const char *names)
{
    static const signed char fv[3] = {0, 1, 2};
    for (int v = 0; v < V_COUNT; v++) {
        const var_spec *vs = &a5_out_vars[v];
        if (!a5_out_var_on(o, vs))
            continue;
        hsize_t chunk[4];
        for (int i = 0; i < vs->rank; i++) {
            hsize_t n = 0;
            hid_t sp = H5Dget_space(o->dim[vs->dims[i]]);
            CK(sp);
            int r = H5Sget_simple_extent_dims(sp, &n, NULL);
            H5Sclose(sp);
            CK(r);
            chunk[i] = vs->dims[i] == D_POINT ? 1
                       : vs->dims[i] == D_REPLICATE && vs->chunk == CH_REPLICATE ? (hsize_t)chunk_reps
                                                                                 : n;
        }
        double fill[1];
        to_kind(vs->kind, vs->fill, fill);
        hid_t ds = variable(o, vs->name, file_type(vs->kind), vs->rank, vs->dims,
                            vs->chunk == CH_NONE ? NULL : chunk, vs->deflate, a5_out_mem_type(vs->kind),
                            fill);
        CK(o->var[v] = ds);
        if (vs->flags) {
            static const char *const fm[4] = {"", "open restrict ban", "none threatened downgraded",
                                              "no yes"};
            CK(a5_out_attr_num(ds, "flag_values", H5T_NATIVE_SCHAR, fv, vs->flags == 3 ? 2 : 3));
            CK(a5_out_attr_str(ds, o->vlen_str, "flag_meanings", fm[vs->flags]));
        }
        CK(describe(o, ds, vs->long_name, vs->units, vs->description));
        CK(coordinates_attr(o, ds, vs, names));
    }
    return 0;
fail:
    return -1;
}

/* A robust design's policy_index and world_index of every point (p / M, p % M). */
static int robust_index(a5_output *o)
{
    const a5_scenario *s = o->s;
    int dp[1] = {D_POINT};
    int *idx = malloc(2 * (size_t)s->npoints * sizeof *idx);
    if (!idx)
        return -1;
    for (long p = 0; p < s->npoints; p++) {
        idx[p] = (int)(p / s->nworlds);
        idx[s->npoints + p] = (int)(p % s->nworlds);
    }
    int rc = static_var(o, "policy_index", H5T_STD_I32LE, H5T_NATIVE_INT, 1, dp, idx, "policy", "",
                        "the policy (a setting of the levers) of each point") ||
             static_var(o, "world_index", H5T_STD_I32LE, H5T_NATIVE_INT, 1, dp, idx + s->npoints,
                        "world", "",
                        "the world (a draw of the uncertain inputs) of each point; its "
                        "replicate r runs on stream (seed, world, r)");
    free(idx);
    return rc ? -1 : 0;
}

/* One [point] variable per varied path (named as design_names says), with role:
 * design and its path; a categorical one (a strategy) holds its choices' names. */
static int create_design_vars(a5_output *o, const char *dnames)
{
    const a5_scenario *s = o->s;
    int dp[1] = {D_POINT};
    double *col = malloc((size_t)s->npoints * sizeof *col);
    const char **text = malloc((size_t)s->npoints * sizeof *text);
    int ok = col && text;
    for (size_t j = 0; ok && j < s->nvaried; j++) {
        const a5_param *par = s->varied[j].param;
        int nc;
        const char *const *names = a5_param_choices(par, &nc);
        for (long p = 0; p < s->npoints; p++) {
            col[p] = s->points[(size_t)p * s->nvaried + j];
            if (names) /* a design holds a choice's index, 0..nc-1 */
                text[p] = names[(int)col[p] >= 0 && (int)col[p] < nc ? (int)col[p] : 0];
        }
        hid_t ft = names ? o->vlen_str : H5T_IEEE_F64LE, mt = names ? o->vlen_str : H5T_NATIVE_DOUBLE;
        hid_t ds = variable(o, dnames + j * NAME_LEN, ft, 1, dp, NULL, 0, mt, NULL);
        ok = ds >= 0 &&
             H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, names ? o->sxpl : H5P_DEFAULT,
                      names ? (const void *)text : (const void *)col) >= 0 &&
             a5_out_attr_str(ds, o->vlen_str, "role", "design") >= 0 &&
             (!s->nworlds || a5_out_attr_str(ds, o->vlen_str, "robust_role",
                                             j < s->nlevers ? "lever" : "uncertain") >= 0) &&
             a5_out_attr_str(ds, o->vlen_str, "path", s->varied[j].path) >= 0 &&
             describe(o, ds, s->varied[j].path, names ? "" : "1", par->doc) >= 0;
        /* The parameter table's units (1/step, steps, share..) are the model's, not
         * UDUNITS strings: CF's units say dimensionless, model_units say which. */
        if (ok && !names && strcmp(par->units, "1") != 0 && par->units[0])
            ok = a5_out_attr_str(ds, o->vlen_str, "model_units", par->units) >= 0;
        if (ok && names) { /* every choice, in order (the codes of experiments) */
            char all[256] = "";
            for (int k = 0; k < nc; k++)
                snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", k ? " " : "", names[k]);
            ok = a5_out_attr_str(ds, o->vlen_str, "categories", all) >= 0;
        }
        if (ds >= 0)
            H5Dclose(ds);
    }
    free(col);
    free(text);
    return ok && s->nworlds ? robust_index(o) : ok ? 0 : -1;
}

static void iso_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Root attributes: how the file was made (CONTRACT.md, "Results file"). */
static int write_provenance(a5_output *o, const a5_output_meta *meta, const char *dnames)
{
    const a5_scenario *s = o->s;
    char created[32], libs[256];
    static const char *const dm[] = {"none",     "grid", "lhs",   "sobol",
                                     "saltelli", "file", "morris", "robust"};
    unsigned maj, min, rel;
    CK(H5get_libversion(&maj, &min, &rel));
    iso_now(created, sizeof created);
    snprintf(libs, sizeof libs, "hdf5 %u.%u.%u; gsl %s; libyaml %s", maj, min, rel, GSL_VERSION,
             yaml_get_version_string());
    long long seed = (long long)s->seed, np = (long long)s->npoints, nr = (long long)s->replicates;
    int th = meta->threads, crn = s->common;
    hid_t f = o->file, v = o->vlen_str;
    CK(a5_out_attr_str(f, v, "Conventions", "CF-1.8"));
    CK(a5_out_attr_str(f, v, "title", s->name));
    CK(a5_out_attr_str(f, v, "source", "allied5g " A5_VERSION));
    CK(a5_out_attr_str(f, v, "scenario", s->text));
    CK(a5_out_attr_num(f, "seed", H5T_NATIVE_LLONG, &seed, 0));
    CK(a5_out_attr_num(f, "common_random_numbers", H5T_NATIVE_INT, &crn, 0));
    CK(a5_out_attr_str(f, v, "software_version", A5_VERSION));
    CK(a5_out_attr_str(f, v, "git_revision", A5_GIT_REVISION));
    CK(a5_out_attr_str(f, v, "created", created));
    CK(a5_out_attr_str(f, v, "command_line", meta->command_line ? meta->command_line : ""));
    CK(a5_out_attr_str(f, v, "model", A5_MODEL_ID));
    CK(a5_out_attr_num(f, "threads", H5T_NATIVE_INT, &th, 0));
    CK(a5_out_attr_str(f, v, "libraries", libs));
    CK(a5_out_attr_str(f, v, "scenario_name", s->name));
    CK(a5_out_attr_str(f, v, "scenario_file", s->file));
    CK(a5_out_attr_str(f, v, "store", o->full ? "full" : o->s->store_outcomes ? "outcomes" : "summary"));
    CK(a5_out_attr_num(f, "points", H5T_NATIVE_LLONG, &np, 0));
    CK(a5_out_attr_num(f, "replicates", H5T_NATIVE_LLONG, &nr, 0));
    CK(a5_out_attr_str(f, v, "design_method", dm[s->design]));
    if (s->nworlds) { /* a robust design: policies x worlds, the levers first */
        long long pw[3] = {(long long)s->design_n, (long long)s->nworlds, (long long)s->nlevers};
        CK(a5_out_attr_num(f, "robust_policies", H5T_NATIVE_LLONG, pw, 0));
        CK(a5_out_attr_num(f, "robust_worlds", H5T_NATIVE_LLONG, pw + 1, 0));
        CK(a5_out_attr_num(f, "robust_levers", H5T_NATIVE_LLONG, pw + 2, 0));
    }
    if (s->nvaried) {
        size_t len = 1;
        for (size_t j = 0; j < s->nvaried; j++)
            len += strlen(s->varied[j].path) + NAME_LEN + 1; /* room for either list */
        char *paths = calloc(len, 1);
        if (!paths)
            return -1;
        for (size_t j = 0; j < s->nvaried; j++) {
            if (j)
                strcat(paths, " ");
            strcat(paths, s->varied[j].path);
        }
        int arc = a5_out_attr_str(f, v, "design_paths", paths);
        if (arc == 0) { /* the same order, as the file names them */
            paths[0] = 0;
            for (size_t j = 0; j < s->nvaried; j++)
                strcat(strcat(paths, j ? " " : ""), dnames + j * NAME_LEN);
            arc = a5_out_attr_str(f, v, "design_variables", paths);
        }
        free(paths);
        CK(arc);
    }
    if (s->design >= A5_DESIGN_LHS) {
        long long dn = s->design_n;
        CK(a5_out_attr_num(f, "design_n", H5T_NATIVE_LLONG, &dn, 0));
    }
    if (s->design == A5_DESIGN_SALTELLI && s->second_order) {
        int so = 1;
        CK(a5_out_attr_num(f, "saltelli_second_order", H5T_NATIVE_INT, &so, 0));
    }
    if (s->design == A5_DESIGN_MORRIS) {
        long long mr = s->design_n;
        int ml = s->morris_levels;
        CK(a5_out_attr_num(f, "morris_trajectories", H5T_NATIVE_LLONG, &mr, 0));
        CK(a5_out_attr_num(f, "morris_levels", H5T_NATIVE_INT, &ml, 0));
    }
    CK(a5_out_attr_str(f, v, "start", s->start));
    CK(a5_out_attr_str(f, v, "complete", "no"));
    CK(a5_out_attr_str(f, v, "live", o->live ? "yes" : "no"));
    return 0;
fail:
    return -1;
}

/* Create the empty HDF5 file PATH.partial. Returns 0 or A5_EIO/A5_EHDF5 (err). */
static int create_file(a5_output *o, int live, char *err, size_t errlen)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS);
    int ok = fcpl >= 0 && fapl >= 0 &&
             H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0 &&
             H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0 &&
             /* SWMR needs the latest file format (readable by netCDF-C 4.9 and h5py). */
             (!live || H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) >= 0) &&
             a5_journal_fapl(o->journal, fapl) >= 0;
    errno = 0;
    if (ok)
        o->file = H5Fcreate(o->tmp, H5F_ACC_TRUNC, fcpl, fapl);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (!ok) {
        snprintf(err, errlen, "HDF5 could not set up file properties");
        return A5_EHDF5;
    }
    if (o->file < 0) {
        snprintf(err, errlen, "cannot create %s: %s", o->tmp, strerror(errno ? errno : EIO));
        return A5_EIO;
    }
    o->live = live;
    return 0;
}

/* Start o's file afresh (o holds the lock): remove an interrupted run's files,
 * then create PATH.partial with everything but the results. */
int a5_out_start(a5_output *o, const a5_output_meta *meta, char *err, size_t errlen)
{
    int rc;
    if (a5_sys_remove(o->tmp) || a5_sys_remove(o->state) || a5_sys_remove_tmp(o->state)) {
        snprintf(err, errlen, "cannot remove the interrupted run %s: %s", o->tmp, strerror(errno));
        return A5_EIO;
    }
    if ((rc = create_file(o, meta->live, err, errlen)) != 0) {
        unlink(o->tmp);
        return rc;
    }
    if ((rc = a5_out_hold(o, err, errlen)) != 0) {
        a5_out_close_all(o);
        unlink(o->tmp);
        return rc;
    }
    char *dnames = design_names(o->s);
    if (!dnames || create_coords(o) || create_vars(o, meta->chunk_reps, dnames) ||
        create_design_vars(o, dnames) || write_provenance(o, meta, dnames) ||
        /* Every object and attribute of the run exists now, as SWMR requires. */
        (o->live && H5Fstart_swmr_write(o->file) < 0)) {
        free(dnames);
        a5_out_capture(o, "HDF5 error while creating", err, errlen);
        a5_out_close_all(o);
        unlink(o->tmp);
        return A5_EHDF5;
    }
    free(dnames);
    return 0;
}

int a5_output_create(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                     a5_output **out, char *err, size_t errlen)
{
    a5_output *o;
    int rc = a5_out_new(path, s, meta, &o, err, errlen);
    if (rc)
        return rc;
    if ((rc = a5_out_lock(o, err, errlen)) != 0) {
        a5_out_free(o);
        return rc;
    }
    if (!meta->force && a5_out_exists(path)) {
        /* Another run finished it while this one waited for the lock. */
        snprintf(err, errlen, "%s exists; use --force to replace it", path);
        a5_out_free(o);
        return A5_EEXIST;
    }
    if (a5_out_exists(o->tmp) && !meta->force) {
        snprintf(err, errlen, "%s holds an interrupted run: add --resume to continue it, "
                              "or --force to start over", o->tmp);
        a5_out_free(o);
        return A5_EEXIST;
    }
    if ((rc = a5_out_start(o, meta, err, errlen)) != 0) {
        a5_out_free(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* A 1-D coordinate 0, 1, ..., n-1 (64-bit when wide), written in slices so that
 * memory stays small whatever n (a billion replicates is 4 GB of indices). */
hid_t a5_out_coord_iota(a5_output *o, const char *name, hsize_t n, int wide)
{
    hid_t ft = wide ? H5T_STD_I64LE : H5T_STD_I32LE, mt = wide ? H5T_NATIVE_LLONG : H5T_NATIVE_INT;
    const hsize_t slice = 1 << 16;
    hid_t sp = H5Screate_simple(1, &n, NULL), p = dcpl_new(1, NULL, 0), ds = -1, ms = -1;
    long long *v = malloc(slice * sizeof *v);
    if (sp < 0 || p < 0 || !v)
        goto fail;
    if ((ds = H5Dcreate2(o->file, name, ft, sp, H5P_DEFAULT, p, H5P_DEFAULT)) < 0)
        goto fail;
    for (hsize_t i = 0; i < n; i += slice) {
        hsize_t k = n - i < slice ? n - i : slice;
        for (hsize_t j = 0; j < k; j++) {
            if (wide)
                v[j] = (long long)(i + j);
            else
                ((int *)v)[j] = (int)(i + j);
        }
        if ((ms = H5Screate_simple(1, &k, NULL)) < 0 ||
            H5Sselect_hyperslab(sp, H5S_SELECT_SET, &i, NULL, &k, NULL) < 0 ||
            H5Dwrite(ds, mt, ms, sp, H5P_DEFAULT, v) < 0)
            goto fail;
        H5Sclose(ms);
        ms = -1;
    }
    if (H5DSset_scale(ds, name) < 0)
        goto fail;
    free(v);
    H5Sclose(sp);
    H5Pclose(p);
    return ds;
fail:
    if (ms >= 0)
        H5Sclose(ms);
    if (ds >= 0)
        H5Dclose(ds);
    if (sp >= 0)
        H5Sclose(sp);
    if (p >= 0)
        H5Pclose(p);
    free(v);
    return -1;
}
