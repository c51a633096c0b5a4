/* `allied5g info`: what a results file holds and how it was made. */
#include "output_int.h"

#include "a5_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Attribute `name` of obj as text into buf. Returns 0, or -1 (buf "") when absent
 * or of another kind. */
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
        vs = a5_out_vstr_new();
        char *v = NULL;
        if (vs >= 0 && H5Tset_cset(vs, H5Tget_cset(t)) >= 0 && H5Tis_variable_str(t) > 0 &&
            H5Aread(a, vs, &v) >= 0 && v) {
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

/* Read every value of dataset ds, in slices of at most 16 MiB, so that a damaged
 * chunk (checksum, compression, a chunk index pointing nowhere) shows. Strings
 * are left out (small name lists, read when the file opens). Returns 0 or -1. */
static int read_all_of(hid_t ds)
{
    hid_t ft = H5Dget_type(ds), mt = -1, fs = H5Dget_space(ds), ms = -1;
    hsize_t dims[8], start[8] = {0}, count[8];
    int rank = fs >= 0 ? H5Sget_simple_extent_ndims(fs) : -1, rc = 0;
    if (ft < 0 || rank < 0 || rank > 8 || H5Sget_simple_extent_dims(fs, dims, NULL) < 0) {
        rc = -1;
        goto done;
    }
    if (H5Tget_class(ft) == H5T_STRING || rank == 0)
        goto done;
    if ((mt = H5Tget_native_type(ft, H5T_DIR_ASCEND)) < 0) {
        rc = -1;
        goto done;
    }
    size_t row = H5Tget_size(mt);
    for (int i = 1; i < rank; i++)
        row *= (size_t)dims[i];
    hsize_t step = row ? (16u << 20) / row : 1;
    if (step < 1)
        step = 1;
    void *buf = malloc((step < dims[0] ? step : dims[0]) * row + 1);
    if (!buf) {
        rc = -1;
        goto done;
    }
    for (hsize_t i = 0; i < dims[0] && !rc; i += step) {
        for (int k = 0; k < rank; k++)
            start[k] = 0, count[k] = dims[k];
        start[0] = i;
        count[0] = dims[0] - i < step ? dims[0] - i : step;
        ms = H5Screate_simple(rank, count, NULL);
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(ds, mt, ms, fs, H5P_DEFAULT, buf) < 0)
            rc = -1;
        if (ms >= 0)
            H5Sclose(ms);
    }
    free(buf);
done:
    if (mt >= 0)
        H5Tclose(mt);
    if (ft >= 0)
        H5Tclose(ft);
    if (fs >= 0)
        H5Sclose(fs);
    return rc;
}

typedef struct {
    FILE *out;
    char bad[256]; /* the first dataset that does not read back */
} listing;

static herr_t list_var(hid_t g, const char *name, const H5L_info_t *li, void *data)
{
    listing *L = data;
    FILE *out = L->out;
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    if (ds < 0) {
        if (!L->bad[0])
            snprintf(L->bad, sizeof L->bad, "%s", name);
        return 0;
    }
    if (!L->bad[0] && read_all_of(ds) != 0)
        snprintf(L->bad, sizeof L->bad, "%s", name);
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
    char sn[300], sl[300];
    fprintf(out, "  %-28s %-22s %s%s\n", a5_escape(name, 120, sn, sizeof sn), shape,
            a5_escape(ln, 120, sl, sizeof sl), role[0] ? " [design]" : "");
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(ds);
    return 0;
}

/* The process writing path when path is a run's OUT.partial and the run that holds
 * its lock (OUT.partial.lock, holding the writer's PID) is alive; else 0. */
static long partial_writer(const char *path)
{
    size_t n = strlen(path);
    if (n < 8 || strcmp(path + n - 8, ".partial") != 0)
        return 0;
    char *lock = malloc(n + 6);
    if (!lock)
        return 0;
    snprintf(lock, n + 6, "%s.lock", path);
    int fd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    free(lock);
    if (fd < 0)
        return 0;
    char buf[32] = "";
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    long pid = k > 0 ? atol(buf) : 0;
    if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno != EPERM))
        return 0;
    return pid;
}

int a5_output_info(const char *path, FILE *out, char *err, size_t errlen)
{
    a5_out_h5_setup();
    char shown[600];
    a5_escape(path, 240, shown, sizeof shown);
    /* Look before HDF5 does: only a regular file, and only HDF5. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    unsigned char sig[8] = {0};
    if (fd < 0) {
        int e = errno;
        size_t n = strlen(path) + 9;
        char *partial = malloc(n);
        long writer = 0;
        if (partial && e == ENOENT) {
            snprintf(partial, n, "%s.partial", path);
            writer = partial_writer(partial);
        }
        free(partial);
        if (writer)
            snprintf(err, errlen, "cannot open %s: %s (a run in progress, process %ld, is "
                                  "writing %s.partial)", shown, strerror(e), writer, shown);
        else
            snprintf(err, errlen, "cannot open %s: %s", shown, strerror(e));
        return A5_EIO;
    }
    int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    ssize_t got = regular ? read(fd, sig, sizeof sig) : 0;
    close(fd);
    if (!regular) {
        snprintf(err, errlen, "%s is %s, not an allied5g results file", shown,
                 a5_sys_kind((unsigned)st.st_mode));
        return A5_EIO;
    }
    if (got != 8 || memcmp(sig, "\211HDF\r\n\032\n", 8) != 0) {
        snprintf(err, errlen, "%s is not an allied5g results file (not HDF5)", shown);
        return A5_EIO;
    }
    long writer = partial_writer(path);
    if (writer) {
        snprintf(err, errlen, "%s is being written by process %ld (a run in progress); wait for "
                              "it to finish, or follow it with allied5g.load_live", shown, writer);
        return A5_EBUSY;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        snprintf(err, errlen, "%s is damaged: HDF5 cannot open it (truncated or overwritten?)",
                 shown);
        return A5_EIO;
    }
    char model[256];
    if (read_attr_str(f, "model", model, sizeof model) != 0 || strncmp(model, "allied5g", 8) != 0 ||
        H5Aexists(f, "scenario") <= 0) {
        snprintf(err, errlen, "%s is not an allied5g results file (an HDF5 file without "
                              "allied5g's attributes)", shown);
        H5Fclose(f);
        return A5_EIO;
    }
    /* Every results file has policy_share, or (store outcomes) outcomes. */
    if (H5Lexists(f, "policy_share", H5P_DEFAULT) <= 0 && H5Lexists(f, "outcomes", H5P_DEFAULT) <= 0) {
        snprintf(err, errlen, "%s is not a complete allied5g results file: it has allied5g's "
                              "attributes but no policy_share (every results file has it, or "
                              "outcomes under store outcomes)", shown);
        H5Fclose(f);
        return A5_EIO;
    }
    static const char *const keys[] = {"scenario_name", "scenario_file", "model", "software_version",
                                       "git_revision", "created", "command_line", "seed",
                                       "common_random_numbers",
                                       "points", "replicates", "store", "design_method",
                                       "threads", "run_seconds", "libraries", "complete"};
    char buf[4096], esc[1024];
    fprintf(out, "%s\n", shown);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (read_attr_str(f, keys[i], buf, sizeof buf) == 0)
            fprintf(out, "  %-17s %s\n", keys[i], a5_escape(buf, 300, esc, sizeof esc));
    fprintf(out, "variables:\n");
    hsize_t idx = 0;
    listing L = {out, ""};
    if (H5Literate(f, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, list_var, &L) < 0 && !L.bad[0])
        snprintf(L.bad, sizeof L.bad, "its list of variables");
    H5Fclose(f);
    if (L.bad[0]) {
        snprintf(err, errlen, "%s is damaged at %.200s (its data do not read back: checksum or "
                              "structure)", shown, L.bad);
        return A5_EIO;
    }
    fprintf(out, "the resolved scenario is in the root attribute 'scenario' "
                 "(h5dump -a /scenario %s)\n", shown);
    return 0;
}
