/* HDF5 results file that xarray opens with the netcdf4 and h5netcdf engines.
 * See a5_output.h and ../shared/FIELD-NOTES.md for why each property is set:
 * creation-order tracking everywhere, a dimension scale on every axis,
 * variable-length UTF-8 strings, numbered API names, no object timestamps. */
#include "a5_output.h"

#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_version.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifdef A5_MPI
#include <mpi.h>
#endif
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml.h>

extern char **environ;

#ifndef A5_VERSION
#define A5_VERSION "0.0.0"
#endif
#include "a5_gitrev.h" /* generated at build time: A5_GIT_REVISION */

#define A5_MODEL_ID "allied5g-reference-1 (shared/MODEL.md)"

enum { D_POINT, D_REPLICATE, D_STEP, D_NATION, D_OPTION, D_QUANTILE, D_BLOC, D_COUNT };
enum { V_POLICY, V_H, V_P, V_FIRST_BAN, V_FINAL, V_COST, V_RISK, V_SHARE, V_MEAN, V_QUANT, V_FAILED, V_COUNT };

static const char *const var_names[V_COUNT] = {
    "policy", "high_risk_share", "us_pressure", "first_ban_step", "final_policy", "cum_cost",
    "cum_risk", "policy_share", "high_risk_share_mean", "high_risk_share_quantiles",
    "failed_replicates"};

struct a5_output {
    const a5_scenario *s;
    char *path, *tmp, *state; /* OUT, OUT.partial, OUT.partial.state */
    hid_t file;
    hid_t dim[D_COUNT];
    hid_t var[V_COUNT];
    hid_t vlen_str;
    int full;
    int live; /* SWMR writer */
    int rank, size; /* team mode (MPI): this process among size; size 1 otherwise */
    hid_t dxpl;     /* data transfer: collective in team mode, else H5P_DEFAULT */
    hid_t sxpl;     /* data transfer of the name lists written at creation */
    char err[512];
};

/* Keep the most telling line of HDF5's error stack: the system error when there is
 * one (e.g. "errno = 28, error message = 'No space left on device'"). */
static herr_t walk_error(unsigned n, const H5E_error2_t *e, void *data)
{
    a5_output *o = data;
    if (e->desc && (strstr(e->desc, "errno") || !o->err[0]))
        snprintf(o->err, sizeof o->err, "%s", e->desc);
    return 0;
}

static void capture_error(a5_output *o, const char *what)
{
    o->err[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_error, o);
    char detail[512];
    snprintf(detail, sizeof detail, "%s", o->err);
    /* HDF5's system-error line is long; its "error message = '...'" part says it. */
    const char *m = strstr(detail, "error message = '");
    if (m) {
        m += strlen("error message = '");
        const char *e = strchr(m, '\'');
        memmove(detail, m, e ? (size_t)(e - m) : strlen(m));
        detail[e ? (size_t)(e - m) : strlen(m)] = 0;
    }
    snprintf(o->err, sizeof o->err, "%s %.200s%s%.280s", what, o->tmp, detail[0] ? ": " : "", detail);
}

const char *a5_output_error(const a5_output *o) { return o->err; }

const char *a5_output_partial_path(const a5_output *o) { return o->tmp; }

/* Once, before HDF5 initialises: no automatic error printing (we report errors
 * ourselves), and no library shutdown at exit: after a failed close (a full disk),
 * HDF5 1.10's shutdown handler can crash on the half-closed file. */
static void h5_setup(void)
{
    static int done = 0;
    if (done)
        return;
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    done = 1;
}

/* Dataset access without a chunk cache: every write covers whole chunks, so there
 * is nothing to gain from caching, and a cache would defer compressing them to
 * the close (serial, after the last block) instead of the overlapped writes. */
static hid_t chunk_access(void)
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
    if (H5Pset_attr_creation_order(p, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0 ||
        H5Pset_obj_track_times(p, 0) < 0 || H5Pset_attr_phase_change(p, 64, 48) < 0)
        goto fail;
    if (chunk) {
        CK(H5Pset_chunk(p, rank, chunk));
        if (deflate) {
            CK(H5Pset_shuffle(p));
            CK(H5Pset_deflate(p, (unsigned)deflate));
        }
    }
    return p;
fail:
    H5Pclose(p);
    return -1;
}

static int attr_str(hid_t obj, hid_t vstr, const char *name, const char *value)
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

static int attr_num(hid_t obj, const char *name, hid_t type, const void *v, hsize_t n)
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

static int describe(hid_t obj, hid_t vstr, const char *long_name, const char *units,
                    const char *desc)
{
    if (attr_str(obj, vstr, "long_name", long_name) < 0 || attr_str(obj, vstr, "units", units) < 0 ||
        attr_str(obj, vstr, "description", desc) < 0)
        return -1;
    return 0;
}

/* A 1-D coordinate dataset made a dimension scale. */
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

/* A variable over dims d[0..rank), chunked as given, with every axis attached. */
static hid_t variable(a5_output *o, const char *name, hid_t type, int rank, const int *d,
                      const hsize_t *chunk, int deflate, const void *fill)
{
    hsize_t size[4];
    for (int i = 0; i < rank; i++) {
        hid_t sp = H5Dget_space(o->dim[d[i]]);
        if (sp < 0)
            return -1;
        H5Sget_simple_extent_dims(sp, &size[i], NULL);
        H5Sclose(sp);
    }
    hid_t sp = H5Screate_simple(rank, size, NULL), p = dcpl_new(rank, chunk, deflate), ds = -1;
    if (sp < 0 || p < 0)
        goto fail;
    if (fill)
        CK(H5Pset_fill_value(p, type, fill));
    ds = H5Dcreate2(o->file, name, type, sp, H5P_DEFAULT, p, chunk_access());
    if (ds < 0)
        goto fail;
    for (int i = 0; i < rank; i++)
        CK(H5DSattach_scale(ds, o->dim[d[i]], (unsigned)i));
    return created(ds, sp, p, 1);
fail:
    return created(ds, sp, p, 0);
}

static int flags_attr(hid_t ds, hid_t vstr)
{
    const signed char fv[3] = {0, 1, 2};
    if (attr_num(ds, "flag_values", H5T_NATIVE_SCHAR, fv, 3) < 0)
        return -1;
    return attr_str(ds, vstr, "flag_meanings", "open restrict ban");
}

static void iso_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void close_all(a5_output *o)
{
    for (int i = 0; i < V_COUNT; i++)
        if (o->var[i] > 0)
            H5Dclose(o->var[i]);
    for (int i = 0; i < D_COUNT; i++)
        if (o->dim[i] > 0)
            H5Dclose(o->dim[i]);
    if (o->vlen_str > 0)
        H5Tclose(o->vlen_str);
    if (o->file > 0)
        H5Fclose(o->file);
    memset(o->var, 0, sizeof o->var);
    memset(o->dim, 0, sizeof o->dim);
    o->vlen_str = o->file = 0;
}

static void output_free(a5_output *o)
{
    if (o->sxpl > 0)
        H5Pclose(o->sxpl);
    free(o->path);
    free(o->tmp);
    free(o->state);
    free(o);
}

/* path + suffix, malloc'd (NULL if out of memory). */
static char *with_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%s%s", path, suffix);
    return t;
}

const char *a5_output_state_path(const a5_output *o) { return o->state; }

/* Whether PATH.partial (an interrupted run) is there. */
static int partial_exists(const a5_output *o)
{
    struct stat st;
    return stat(o->tmp, &st) == 0;
}

/* A new handle for results file `path` (PATH.partial while written), after
 * checking PATH is not there to be overwritten. Returns 0, A5_EEXIST or A5_ENOMEM. */
static int output_new(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                      a5_output **out, char *err, size_t errlen)
{
    *out = NULL;
    struct stat st;
    if (!meta->force && stat(path, &st) == 0) {
        snprintf(err, errlen, "%s exists; use --force to replace it", path);
        return A5_EEXIST;
    }
    h5_setup();
    a5_output *o = calloc(1, sizeof *o);
    if (!o)
        return A5_ENOMEM;
    o->s = s;
    o->full = s->store_full;
    o->dxpl = H5P_DEFAULT;
    /* HDF5 allocates and clears a 1 MiB conversion buffer for every write that
     * converts types, such as the name lists' strings: 15 ms of page faults and
     * memset per file here. Those lists are small. */
    o->sxpl = H5Pcreate(H5P_DATASET_XFER);
    if (o->sxpl < 0 || H5Pset_buffer(o->sxpl, 64 << 10, NULL, NULL) < 0) {
        output_free(o);
        return A5_ENOMEM;
    }
    o->path = strdup(path);
    o->tmp = with_suffix(path, ".partial");
    o->state = with_suffix(path, ".partial.state");
    if (!o->path || !o->tmp || !o->state) {
        output_free(o);
        return A5_ENOMEM;
    }
    *out = o;
    return 0;
}

/* Open every variable dataset by name (those of the store in use). */
static int open_vars(a5_output *o)
{
    for (int v = 0; v < V_COUNT; v++) {
        if ((v == V_POLICY || v == V_H || v == V_P) && !o->full)
            continue;
        if ((o->var[v] = H5Dopen2(o->file, var_names[v], chunk_access())) < 0)
            return -1;
    }
    return 0;
}

int a5_output_create(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                     a5_output **out, char *err, size_t errlen)
{
    a5_output *o;
    int nrc = output_new(path, s, meta, &o, err, errlen);
    if (nrc)
        return nrc;
    if (partial_exists(o)) {
        if (!meta->force) {
            snprintf(err, errlen, "%s holds an interrupted run: add --resume to continue it, "
                                  "or --force to start over", o->tmp);
            output_free(o);
            return A5_EEXIST;
        }
        unlink(o->tmp);
    }
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl < 0 ||
        H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0 ||
        H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0) {
        if (fcpl >= 0)
            H5Pclose(fcpl);
        output_free(o);
        snprintf(err, errlen, "HDF5 could not set up file properties");
        return A5_EHDF5;
    }
    /* SWMR needs the latest file format (readable by netCDF-C 4.9 and h5py alike). */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && meta->live)
        H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    o->live = meta->live;
    o->file = fapl >= 0 ? H5Fcreate(o->tmp, H5F_ACC_TRUNC, fcpl, fapl) : -1;
    H5Pclose(fcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (o->file < 0) {
        snprintf(err, errlen, "cannot create %s: %s", o->tmp, strerror(errno ? errno : EIO));
        unlink(o->tmp);
        output_free(o);
        return A5_EIO;
    }
    o->vlen_str = H5Tcopy(H5T_C_S1);
    CK(o->vlen_str);
    CK(H5Tset_size(o->vlen_str, H5T_VARIABLE));
    CK(H5Tset_cset(o->vlen_str, H5T_CSET_UTF8));

    const int n = s->n, steps = s->steps;
    const hsize_t P = (hsize_t)s->npoints, R = (hsize_t)s->replicates;
    {
        long long *pv = malloc(P * sizeof *pv);
        int *rv = malloc(R * sizeof *rv);
        int *sv = malloc((size_t)steps * sizeof *sv);
        const char **dates = malloc((size_t)steps * sizeof *dates);
        char *dbuf = malloc((size_t)steps * 16);
        int ok = pv && rv && sv && dates && dbuf;
        if (ok) {
            for (hsize_t i = 0; i < P; i++)
                pv[i] = (long long)i;
            for (hsize_t i = 0; i < R; i++)
                rv[i] = (int)i;
            for (int t = 0; t < steps; t++) {
                sv[t] = t;
                a5_scenario_date(s, t, dbuf + 16 * t, 16);
                dates[t] = dbuf + 16 * t;
            }
            static const char *const opts[3] = {"open", "restrict", "ban"};
            static const double qs[3] = {0.05, 0.5, 0.95};
            o->dim[D_POINT] = coord(o, "point", H5T_STD_I64LE, H5T_NATIVE_LLONG, P, pv);
            o->dim[D_REPLICATE] = coord(o, "replicate", H5T_STD_I32LE, H5T_NATIVE_INT, R, rv);
            o->dim[D_STEP] = coord(o, "step", H5T_STD_I32LE, H5T_NATIVE_INT, (hsize_t)steps, sv);
            o->dim[D_NATION] = coord(o, "nation", o->vlen_str, o->vlen_str, (hsize_t)n, s->codes);
            o->dim[D_OPTION] = coord(o, "option", o->vlen_str, o->vlen_str, 3, opts);
            o->dim[D_QUANTILE] = coord(o, "quantile", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, qs);
            if (s->nblocs > 0)
                o->dim[D_BLOC] = coord(o, "bloc", o->vlen_str, o->vlen_str, (hsize_t)s->nblocs,
                                       s->bloc_names);
            ok = (s->nblocs == 0 || o->dim[D_BLOC] > 0) && o->dim[D_POINT] > 0 && o->dim[D_REPLICATE] > 0 && o->dim[D_STEP] > 0 &&
                 o->dim[D_NATION] > 0 && o->dim[D_OPTION] > 0 && o->dim[D_QUANTILE] > 0;
            if (ok) {
                int dn[1] = {D_NATION}, ds_[1] = {D_STEP};
                hid_t nn = variable(o, "nation_name", o->vlen_str, 1, dn, NULL, 0, NULL);
                hid_t dd = variable(o, "date", o->vlen_str, 1, ds_, NULL, 0, NULL);
                ok = nn > 0 && dd > 0 &&
                     H5Dwrite(nn, o->vlen_str, H5S_ALL, H5S_ALL, o->sxpl, s->names) >= 0 &&
                     H5Dwrite(dd, o->vlen_str, H5S_ALL, H5S_ALL, o->sxpl, dates) >= 0 &&
                     describe(nn, o->vlen_str, "nation name", "", "full name of each nation") >= 0 &&
                     describe(dd, o->vlen_str, "quarter", "",
                              "label of each step; row t holds the state at the end of that quarter") >= 0;
                if (ok && s->nblocs > 0) {
                    /* Bloc membership, for cohesion analyses: 1 where nation is in bloc. */
                    int db[2] = {D_NATION, D_BLOC};
                    signed char *mem = calloc((size_t)n * (size_t)s->nblocs, 1);
                    hid_t bm = mem ? variable(o, "bloc_member", H5T_STD_I8LE, 2, db, NULL, 0, NULL) : -1;
                    if (mem)
                        for (int i = 0; i < n; i++)
                            for (int q = s->bloc_off[i]; q < s->bloc_off[i + 1]; q++)
                                mem[(size_t)i * s->nblocs + s->bloc_idx[q]] = 1;
                    ok = bm > 0 && H5Dwrite(bm, H5T_NATIVE_SCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, mem) >= 0 &&
                         describe(bm, o->vlen_str, "bloc membership", "1",
                                  "1 where the nation belongs to the bloc") >= 0 &&
                         describe(o->dim[D_BLOC], o->vlen_str, "bloc", "", "bloc names") >= 0;
                    if (bm > 0)
                        H5Dclose(bm);
                    free(mem);
                }
                if (nn > 0)
                    H5Dclose(nn);
                if (dd > 0)
                    H5Dclose(dd);
            }
            ok = ok &&
                 describe(o->dim[D_STEP], o->vlen_str, "step", "quarter",
                          "row t records the state X(t+1) at the end of step t") >= 0 &&
                 describe(o->dim[D_POINT], o->vlen_str, "design point", "", "index of the design point") >= 0 &&
                 describe(o->dim[D_REPLICATE], o->vlen_str, "replicate", "",
                          "Monte Carlo replicate; its stream is (seed, point, replicate)") >= 0 &&
                 describe(o->dim[D_NATION], o->vlen_str, "nation code", "", "nation code") >= 0 &&
                 describe(o->dim[D_OPTION], o->vlen_str, "policy option", "", "open, restrict, ban") >= 0 &&
                 describe(o->dim[D_QUANTILE], o->vlen_str, "quantile", "1",
                          "probability level of high_risk_share_quantiles") >= 0;
        }
        free(pv);
        free(rv);
        free(sv);
        free(dates);
        free(dbuf);
        if (!ok)
            goto fail;
    }

    /* Per-replicate variables: chunk (1, chunk_reps, steps, nation). */
    long cr = meta->chunk_reps;
    hsize_t c4[4] = {1, (hsize_t)cr, (hsize_t)steps, (hsize_t)n};
    hsize_t c3[3] = {1, (hsize_t)cr, (hsize_t)n};
    int d4[4] = {D_POINT, D_REPLICATE, D_STEP, D_NATION};
    int d3[3] = {D_POINT, D_REPLICATE, D_NATION};
    const float fnan = NAN;
    const signed char pfill = -1;
    const short sfill = -2;
    if (o->full) {
        CK(o->var[V_POLICY] = variable(o, "policy", H5T_STD_I8LE, 4, d4, c4, 0, &pfill));
        CK(flags_attr(o->var[V_POLICY], o->vlen_str));
        CK(describe(o->var[V_POLICY], o->vlen_str, "policy", "",
                    "policy s_i at the end of each step (0 open, 1 restrict, 2 ban)"));
        CK(o->var[V_H] = variable(o, "high_risk_share", H5T_IEEE_F32LE, 4, d4, c4, 0, &fnan));
        CK(describe(o->var[V_H], o->vlen_str, "high-risk vendor share", "1",
                    "installed high-risk vendor share h_i of the radio network"));
        CK(o->var[V_P] = variable(o, "us_pressure", H5T_IEEE_F32LE, 4, d4, c4, 0, &fnan));
        CK(describe(o->var[V_P], o->vlen_str, "US pressure", "1", "US pressure P_i on the nation"));
    }
    CK(o->var[V_FIRST_BAN] = variable(o, "first_ban_step", H5T_STD_I16LE, 3, d3, c3, 1, &sfill));
    CK(describe(o->var[V_FIRST_BAN], o->vlen_str, "first ban step", "step",
                "first step whose recorded policy is ban; -1 if never"));
    CK(o->var[V_FINAL] = variable(o, "final_policy", H5T_STD_I8LE, 3, d3, c3, 1, &pfill));
    CK(flags_attr(o->var[V_FINAL], o->vlen_str));
    CK(describe(o->var[V_FINAL], o->vlen_str, "final policy", "", "policy at the end of the run"));
    CK(o->var[V_COST] = variable(o, "cum_cost", H5T_IEEE_F32LE, 3, d3, c3, 0, &fnan));
    CK(describe(o->var[V_COST], o->vlen_str, "cumulative cost", "1",
                "sum over steps of C_i at the chosen policy, with step-t terms"));
    CK(o->var[V_RISK] = variable(o, "cum_risk", H5T_IEEE_F32LE, 3, d3, c3, 0, &fnan));
    CK(describe(o->var[V_RISK], o->vlen_str, "cumulative risk", "1",
                "sum over steps of S_i at the chosen policy, with step-t terms"));

    hsize_t ca4[4] = {1, (hsize_t)steps, (hsize_t)n, 3}, ca3[3] = {1, (hsize_t)steps, (hsize_t)n};
    int da4[4] = {D_POINT, D_STEP, D_NATION, D_OPTION};
    int dq4[4] = {D_POINT, D_STEP, D_NATION, D_QUANTILE};
    int da3[3] = {D_POINT, D_STEP, D_NATION};
    CK(o->var[V_SHARE] = variable(o, "policy_share", H5T_IEEE_F32LE, 4, da4, ca4, 0, &fnan));
    CK(describe(o->var[V_SHARE], o->vlen_str, "policy share", "1",
                "share of replicates in each policy at the end of each step"));
    CK(o->var[V_MEAN] = variable(o, "high_risk_share_mean", H5T_IEEE_F32LE, 3, da3, ca3, 0, &fnan));
    CK(describe(o->var[V_MEAN], o->vlen_str, "mean high-risk share", "1",
                "mean over replicates of high_risk_share (summed in replicate order)"));
    CK(o->var[V_QUANT] =
           variable(o, "high_risk_share_quantiles", H5T_IEEE_F32LE, 4, dq4, ca4, 0, &fnan));
    CK(describe(o->var[V_QUANT], o->vlen_str, "high-risk share quantiles", "1",
                "5/50/95 % quantiles over replicates (linear interpolation between order "
                "statistics), from per-bin histograms; see attribute max_abs_error"));

    {
        int dp[1] = {D_POINT};
        const int ifill = -1;
        CK(o->var[V_FAILED] = variable(o, "failed_replicates", H5T_STD_I32LE, 1, dp, NULL, 0, &ifill));
        CK(describe(o->var[V_FAILED], o->vlen_str, "failed replicates", "1",
                    "replicates of the point that produced non-finite values; their records "
                    "are fill values and the aggregates leave them out"));
    }

    /* One [point] variable per varied path. */
    for (size_t j = 0; j < s->nvaried; j++) {
        int dp[1] = {D_POINT};
        double *col = malloc(P * sizeof *col);
        if (!col)
            goto fail;
        for (hsize_t p = 0; p < P; p++)
            col[p] = s->points[p * s->nvaried + j];
        hid_t ds = variable(o, s->varied[j].path, H5T_IEEE_F64LE, 1, dp, NULL, 0, NULL);
        int ok = ds > 0 && H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, col) >= 0 &&
                 attr_str(ds, o->vlen_str, "role", "design") >= 0 &&
                 describe(ds, o->vlen_str, s->varied[j].path, s->varied[j].param->units,
                          s->varied[j].param->doc) >= 0;
        free(col);
        if (ds > 0)
            H5Dclose(ds);
        if (!ok)
            goto fail;
    }

    /* Provenance. */
    {
        char created[32], ver[64], libs[256];
        static const char *const dm[] = {"none", "grid", "lhs", "sobol", "saltelli", "file"};
        unsigned maj, min, rel;
        H5get_libversion(&maj, &min, &rel);
        iso_now(created, sizeof created);
        snprintf(ver, sizeof ver, "%s", A5_VERSION);
        snprintf(libs, sizeof libs, "hdf5 %u.%u.%u; gsl %s; libyaml %s", maj, min, rel,
                 GSL_VERSION, yaml_get_version_string());
        long long seed = (long long)s->seed, np = (long long)P, nr = (long long)R;
        int th = meta->threads;
        hid_t f = o->file, v = o->vlen_str;
        CK(attr_str(f, v, "scenario", s->text));
        CK(attr_num(f, "seed", H5T_NATIVE_LLONG, &seed, 0));
        CK(attr_str(f, v, "software_version", ver));
        CK(attr_str(f, v, "git_revision", A5_GIT_REVISION));
        CK(attr_str(f, v, "created", created));
        CK(attr_str(f, v, "command_line", meta->command_line ? meta->command_line : ""));
        CK(attr_str(f, v, "model", A5_MODEL_ID));
        CK(attr_num(f, "threads", H5T_NATIVE_INT, &th, 0));
        CK(attr_str(f, v, "libraries", libs));
        CK(attr_str(f, v, "scenario_name", s->name));
        CK(attr_str(f, v, "scenario_file", s->file));
        CK(attr_str(f, v, "store", o->full ? "full" : "summary"));
        CK(attr_num(f, "points", H5T_NATIVE_LLONG, &np, 0));
        CK(attr_num(f, "replicates", H5T_NATIVE_LLONG, &nr, 0));
        CK(attr_str(f, v, "design_method", dm[s->design]));
        if (s->nvaried) {
            size_t len = 1;
            for (size_t j = 0; j < s->nvaried; j++)
                len += strlen(s->varied[j].path) + 1;
            char *paths = calloc(len, 1);
            if (!paths)
                goto fail;
            for (size_t j = 0; j < s->nvaried; j++) {
                if (j)
                    strcat(paths, " ");
                strcat(paths, s->varied[j].path);
            }
            int arc = attr_str(f, v, "design_paths", paths);
            free(paths);
            CK(arc);
        }
        if (s->design >= A5_DESIGN_LHS) {
            long long dn = s->design_n;
            CK(attr_num(f, "design_n", H5T_NATIVE_LLONG, &dn, 0));
        }
        CK(attr_str(f, v, "start", s->start));
        CK(attr_str(f, v, "complete", "no"));
        CK(attr_str(f, v, "live", o->live ? "yes" : "no"));
    }
    /* Every object and attribute of the run exists now, as SWMR requires. */
    if (o->live)
        CK(H5Fstart_swmr_write(o->file));
    *out = o;
    return 0;
fail:
    snprintf(err, errlen, "HDF5 error while creating %s", o->tmp);
    close_all(o);
    unlink(o->tmp);
    output_free(o);
    return A5_EHDF5;
}

/* Write a hyperslab; on failure record the cause (before closing anything, which
 * would clear HDF5's error stack). */
static int write_slab(a5_output *o, hid_t ds, hid_t mtype, int rank, const hsize_t *start,
                      const hsize_t *count, const void *buf)
{
    /* In team mode every rank takes part in every write; one with nothing to write
     * selects nothing (buf NULL or an empty count). */
    int empty = !buf;
    for (int i = 0; i < rank; i++)
        empty |= count[i] == 0;
    hsize_t one[4] = {1, 1, 1, 1};
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(rank, empty ? one : count, NULL);
    int rc = -1;
    int sel = empty ? (H5Sselect_none(fs) >= 0 && H5Sselect_none(ms) >= 0)
                    : H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0;
    if (fs >= 0 && ms >= 0 && sel && H5Dwrite(ds, mtype, ms, fs, o->dxpl, buf) >= 0)
        rc = 0;
    else
        capture_error(o, "cannot write");
    if (fs >= 0)
        H5Sclose(fs);
    if (ms >= 0)
        H5Sclose(ms);
    return rc;
}

int a5_output_write_block(a5_output *o, long p, long r0, long nr, const a5_records *rec)
{
    const hsize_t n = (hsize_t)o->s->n, steps = (hsize_t)o->s->steps;
    hsize_t s4[4] = {(hsize_t)p, (hsize_t)r0, 0, 0}, c4[4] = {1, (hsize_t)nr, steps, n};
    hsize_t s3[3] = {(hsize_t)p, (hsize_t)r0, 0}, c3[3] = {1, (hsize_t)nr, n};
    if (o->full && (write_slab(o, o->var[V_POLICY], H5T_NATIVE_SCHAR, 4, s4, c4, rec->policy) < 0 ||
                    write_slab(o, o->var[V_H], H5T_NATIVE_FLOAT, 4, s4, c4, rec->h) < 0 ||
                    write_slab(o, o->var[V_P], H5T_NATIVE_FLOAT, 4, s4, c4, rec->P) < 0))
        return A5_EHDF5;
    if (write_slab(o, o->var[V_FIRST_BAN], H5T_NATIVE_SHORT, 3, s3, c3, rec->first_ban) < 0 ||
        write_slab(o, o->var[V_FINAL], H5T_NATIVE_SCHAR, 3, s3, c3, rec->final_policy) < 0 ||
        write_slab(o, o->var[V_COST], H5T_NATIVE_FLOAT, 3, s3, c3, rec->cum_cost) < 0 ||
        write_slab(o, o->var[V_RISK], H5T_NATIVE_FLOAT, 3, s3, c3, rec->cum_risk) < 0)
        return A5_EHDF5;
    return 0;
}

int a5_output_write_point(a5_output *o, long p, const float *share, const float *mean,
                          const float *quant, long failed)
{
    const hsize_t n = (hsize_t)o->s->n, steps = (hsize_t)o->s->steps;
    hsize_t s4[4] = {(hsize_t)p, 0, 0, 0}, c4[4] = {1, steps, n, 3};
    hsize_t s3[3] = {(hsize_t)p, 0, 0}, c3[3] = {1, steps, n};
    hsize_t s1[1] = {(hsize_t)p}, c1[1] = {1};
    int nf = (int)failed;
    if (write_slab(o, o->var[V_SHARE], H5T_NATIVE_FLOAT, 4, s4, c4, share) < 0 ||
        write_slab(o, o->var[V_MEAN], H5T_NATIVE_FLOAT, 3, s3, c3, mean) < 0 ||
        write_slab(o, o->var[V_QUANT], H5T_NATIVE_FLOAT, 4, s4, c4, quant) < 0 ||
        write_slab(o, o->var[V_FAILED], H5T_NATIVE_INT, 1, s1, c1, share ? &nf : NULL) < 0)
        return A5_EHDF5;
    return 0;
}

int a5_output_read_final(a5_output *o, long p, float *share, float *mean)
{
    const hsize_t n = (hsize_t)o->s->n, t = (hsize_t)o->s->steps - 1;
    hsize_t s4[4] = {(hsize_t)p, t, 0, 0}, c4[4] = {1, 1, n, 3};
    hsize_t s3[3] = {(hsize_t)p, t, 0}, c3[3] = {1, 1, n};
    int rc = 0;
    hid_t ids[2] = {o->var[V_SHARE], o->var[V_MEAN]};
    void *bufs[2] = {share, mean};
    for (int v = 0; v < 2 && !rc; v++) {
        hid_t fs = H5Dget_space(ids[v]), ms = H5Screate_simple(v ? 3 : 4, v ? c3 : c4, NULL);
        if (fs < 0 || ms < 0 ||
            H5Sselect_hyperslab(fs, H5S_SELECT_SET, v ? s3 : s4, NULL, v ? c3 : c4, NULL) < 0 ||
            H5Dread(ids[v], H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, bufs[v]) < 0)
            rc = A5_EHDF5;
        if (fs >= 0)
            H5Sclose(fs);
        if (ms >= 0)
            H5Sclose(ms);
    }
    return rc;
}

static int fsync_path(const char *path, int dir)
{
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int a5_output_commit(a5_output *o)
{
    if (H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) {
        capture_error(o, "cannot flush");
        return A5_EHDF5;
    }
    if (o->rank == 0 && fsync_path(o->tmp, 0) < 0) {
        snprintf(o->err, sizeof o->err, "cannot sync %s: %s", o->tmp, strerror(errno));
        return A5_EIO;
    }
    return 0;
}

int a5_output_finish(a5_output *o, double quantile_error, double failed, double seconds,
                     char *err, size_t errlen)
{
    int rc = A5_EHDF5;
    long long nf = (long long)failed;
    int reopen = o->live;
    if (o->size > 1) {
        /* Close the shared file together; rank 0 then finishes it alone. */
        close_all(o);
        if (o->dxpl > 0)
            H5Pclose(o->dxpl);
        o->dxpl = H5P_DEFAULT;
        if (o->rank != 0) {
            output_free(o);
            return 0;
        }
        o->size = 1;
        reopen = 1;
    }
    if (reopen) {
        /* Attributes cannot change under SWMR (nor, here, through MPI-IO): close, then
         * reopen alone for the last ones. */
        close_all(o);
        o->live = 0;
        o->file = H5Fopen(o->tmp, H5F_ACC_RDWR, H5P_DEFAULT);
        o->vlen_str = H5Tcopy(H5T_C_S1);
        if (o->file < 0 || o->vlen_str < 0 || H5Tset_size(o->vlen_str, H5T_VARIABLE) < 0 ||
            H5Tset_cset(o->vlen_str, H5T_CSET_UTF8) < 0 ||
            (o->var[V_QUANT] = H5Dopen2(o->file, var_names[V_QUANT], H5P_DEFAULT)) < 0) {
            capture_error(o, "cannot reopen");
            snprintf(err, errlen, "%s", o->err);
            goto fail;
        }
    }
    /* "complete" flips to yes only now: replace the attribute. */
    if (H5Adelete(o->file, "complete") < 0 || attr_str(o->file, o->vlen_str, "complete", "yes") < 0 ||
        attr_num(o->var[V_QUANT], "max_abs_error", H5T_NATIVE_DOUBLE, &quantile_error, 0) < 0 ||
        attr_num(o->file, "failed_replicates", H5T_NATIVE_LLONG, &nf, 0) < 0 ||
        attr_num(o->file, "run_seconds", H5T_NATIVE_DOUBLE, &seconds, 0) < 0 ||
        H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) {
        capture_error(o, "cannot finish");
        snprintf(err, errlen, "%s", o->err);
        goto fail;
    }
    close_all(o);
    if (fsync_path(o->tmp, 0) < 0) {
        snprintf(err, errlen, "cannot sync %s: %s", o->tmp, strerror(errno));
        rc = A5_EIO;
        goto fail;
    }
    if (rename(o->tmp, o->path) < 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", o->tmp, o->path, strerror(errno));
        rc = A5_EIO;
        goto fail;
    }
    char *d = strdup(o->path);
    if (d) {
        fsync_path(dirname(d), 1);
        free(d);
    }
    output_free(o);
    return 0;
fail:
    a5_output_abort(o, 0);
    return rc;
}

void a5_output_abort(a5_output *o, int keep)
{
    if (!o)
        return;
    close_all(o);
    if (o->dxpl > 0)
        H5Pclose(o->dxpl);
    if (!keep && o->rank == 0)
        unlink(o->tmp);
    output_free(o);
}

/* A live (SWMR) file killed mid-run keeps an "in use" flag that stops HDF5 from
 * opening it again; HDF5's own h5clear tool (Debian hdf5-tools) clears it, and
 * --increment moves the end-of-file mark past anything half-written. Returns 0 if
 * h5clear ran and succeeded. */
static int clear_in_use_flag(const char *path)
{
    char *argv[] = {"h5clear", "-s", "--increment", (char *)path, NULL};
    pid_t pid;
    int status;
    if (posix_spawnp(&pid, "h5clear", NULL, NULL, argv, environ) != 0)
        return -1;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int a5_output_reopen(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                     a5_output **out, char *err, size_t errlen)
{
    a5_output *o;
    int nrc = output_new(path, s, meta, &o, err, errlen);
    if (nrc)
        return nrc;
    if (!partial_exists(o)) {
        snprintf(err, errlen, "nothing to resume: %s does not exist", o->tmp);
        output_free(o);
        return A5_ERESUME;
    }
    o->file = H5Fopen(o->tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    if (o->file < 0 && clear_in_use_flag(o->tmp) == 0)
        o->file = H5Fopen(o->tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    if (o->file < 0) {
        snprintf(err, errlen, "%s is damaged (HDF5 cannot open it); start over with --force",
                 o->tmp);
        output_free(o);
        return A5_ERESUME;
    }
    o->vlen_str = H5Tcopy(H5T_C_S1);
    char *text = NULL;
    hid_t a = -1;
    int ok = o->vlen_str >= 0 && H5Tset_size(o->vlen_str, H5T_VARIABLE) >= 0 &&
             H5Tset_cset(o->vlen_str, H5T_CSET_UTF8) >= 0 &&
             (a = H5Aopen(o->file, "scenario", H5P_DEFAULT)) >= 0 &&
             H5Aread(a, o->vlen_str, &text) >= 0 && text;
    int same = ok && strcmp(text, s->text) == 0;
    if (text)
        H5free_memory(text);
    if (a >= 0)
        H5Aclose(a);
    ok = ok && (!same || open_vars(o) == 0);
    if (!ok || !same) {
        snprintf(err, errlen, ok ? "%s was written for another scenario or other --set options"
                                 : "%s is damaged or incomplete; start over with --force",
                 o->tmp);
        close_all(o);
        output_free(o);
        return A5_ERESUME;
    }
    char live[8];
    hid_t la = H5Aexists(o->file, "live") > 0 ? H5Aopen(o->file, "live", H5P_DEFAULT) : -1;
    char *lv = NULL;
    if (la >= 0 && H5Aread(la, o->vlen_str, &lv) >= 0 && lv) {
        snprintf(live, sizeof live, "%s", lv);
        H5free_memory(lv);
    } else
        live[0] = 0;
    if (la >= 0)
        H5Aclose(la);
    if (strcmp(live, "yes") == 0) {
        /* Continue in SWMR mode, as the run began. */
        for (int v = 0; v < V_COUNT; v++)
            if (o->var[v] > 0) {
                H5Dclose(o->var[v]);
                o->var[v] = 0;
            }
        H5Fclose(o->file);
        o->file = H5Fopen(o->tmp, H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE, H5P_DEFAULT);
        o->live = 1;
        if (o->file < 0 || open_vars(o) != 0) {
            snprintf(err, errlen, "%s cannot be reopened for writing (after a crash, "
                                  "'h5clear -s --increment %s' clears its in-use flag)",
                     o->tmp, o->tmp);
            close_all(o);
            output_free(o);
            return A5_ERESUME;
        }
    }
    *out = o;
    return 0;
}

/* --- info --------------------------------------------------------------------------- */

static int read_attr_str(hid_t obj, const char *name, char *buf, size_t len)
{
    buf[0] = 0;
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = -1, vs = -1;
    int rc = -1;
    if (a < 0)
        return -1;
    t = H5Aget_type(a);
    if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
        vs = H5Tcopy(H5T_C_S1);
        H5Tset_size(vs, H5T_VARIABLE);
        H5Tset_cset(vs, H5Tget_cset(t));
        char *v = NULL;
        if (H5Tis_variable_str(t) > 0 && H5Aread(a, vs, &v) >= 0 && v) {
            snprintf(buf, len, "%s", v);
            H5free_memory(v);
            rc = 0;
        }
    } else if (t >= 0 && H5Tget_class(t) == H5T_INTEGER) {
        long long v;
        if (H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0) {
            snprintf(buf, len, "%lld", v);
            rc = 0;
        }
    } else if (t >= 0 && H5Tget_class(t) == H5T_FLOAT) {
        double v;
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0) {
            snprintf(buf, len, "%.6g", v);
            rc = 0;
        }
    }
    if (vs >= 0)
        H5Tclose(vs);
    if (t >= 0)
        H5Tclose(t);
    H5Aclose(a);
    return rc;
}

typedef struct {
    FILE *out;
} info_ctx;

static herr_t list_var(hid_t g, const char *name, const H5L_info_t *li, void *data)
{
    info_ctx *c = data;
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    if (ds < 0)
        return 0;
    hid_t sp = H5Dget_space(ds);
    hsize_t dims[8];
    int rank = sp >= 0 ? H5Sget_simple_extent_dims(sp, dims, NULL) : -1;
    char role[32], ln[128];
    read_attr_str(ds, "role", role, sizeof role);
    read_attr_str(ds, "long_name", ln, sizeof ln);
    char shape[128] = "";
    size_t off = 0;
    for (int i = 0; i < rank && off < sizeof shape; i++)
        off += (size_t)snprintf(shape + off, sizeof shape - off, "%s%llu", i ? " x " : "",
                                (unsigned long long)dims[i]);
    fprintf(c->out, "  %-28s %-22s %s%s\n", name, shape, ln, role[0] ? " [design]" : "");
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(ds);
    return 0;
}

int a5_output_info(const char *path, FILE *out, char *err, size_t errlen)
{
    h5_setup();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        snprintf(err, errlen, "cannot open %s as an HDF5 results file", path);
        return A5_EIO;
    }
    static const char *const keys[] = {"scenario_name", "scenario_file", "model", "software_version",
                                       "git_revision", "created", "command_line", "seed",
                                       "points", "replicates", "store", "design_method",
                                       "threads", "run_seconds", "libraries", "complete"};
    char buf[4096];
    fprintf(out, "%s\n", path);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (read_attr_str(f, keys[i], buf, sizeof buf) == 0)
            fprintf(out, "  %-17s %s\n", keys[i], buf);
    fprintf(out, "variables:\n");
    info_ctx c = {out};
    hsize_t idx = 0;
    H5Literate(f, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, list_var, &c);
    fprintf(out, "the resolved scenario is in the root attribute 'scenario' "
                 "(h5dump -a /scenario %s)\n", path);
    H5Fclose(f);
    return 0;
}

#ifdef A5_MPI
int a5_output_open_team(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                        int resume, void *comm_ptr, a5_output **out, char *err, size_t errlen)
{
    MPI_Comm comm = *(MPI_Comm *)comm_ptr;
    int rank, size, rc = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    *out = NULL;
    err[0] = 0;
    if (meta->live) {
        snprintf(err, errlen, "--live is not available with MPI (SWMR needs a single writer)");
        return A5_EUSAGE;
    }
    /* Rank 0 creates the file (or checks the one to resume) with the serial driver:
     * variable-length strings cannot be written through MPI-IO. */
    if (rank == 0) {
        a5_output *o0 = NULL;
        rc = resume ? a5_output_reopen(path, s, meta, &o0, err, errlen)
                    : a5_output_create(path, s, meta, &o0, err, errlen);
        if (!rc) {
            close_all(o0);
            output_free(o0);
        }
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    MPI_Bcast(err, (int)errlen, MPI_CHAR, 0, comm);
    if (rc)
        return rc;
    a5_output_meta again = *meta;
    again.force = 1; /* rank 0 has checked PATH already */
    a5_output *o = NULL;
    int ok = output_new(path, s, &again, &o, err, errlen) == 0;
    if (ok) {
        o->rank = rank;
        o->size = size;
    }
    hid_t fapl = ok ? H5Pcreate(H5P_FILE_ACCESS) : -1;
    ok = ok && fapl >= 0 && H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) >= 0;
    if (ok)
        o->file = H5Fopen(o->tmp, H5F_ACC_RDWR, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    ok = ok && o->file >= 0;
    if (ok) {
        o->vlen_str = H5Tcopy(H5T_C_S1);
        o->dxpl = H5Pcreate(H5P_DATASET_XFER);
        ok = o->vlen_str >= 0 && H5Tset_size(o->vlen_str, H5T_VARIABLE) >= 0 &&
             o->dxpl >= 0 && H5Pset_dxpl_mpio(o->dxpl, H5FD_MPIO_COLLECTIVE) >= 0;
    }
    ok = ok && open_vars(o) == 0;
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, comm);
    if (!all) {
        snprintf(err, errlen, "cannot open %s for parallel writing", o ? o->tmp : path);
        if (o) {
            close_all(o);
            if (o->dxpl > 0)
                H5Pclose(o->dxpl);
            output_free(o);
        }
        return A5_EHDF5;
    }
    *out = o;
    return 0;
}
#endif
