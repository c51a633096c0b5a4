/* `allied5g info`: what a results file holds and how it was made. */
#include "output_int.h"

#include <stdio.h>
#include <string.h>

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

static herr_t list_var(hid_t g, const char *name, const H5L_info_t *li, void *data)
{
    FILE *out = data;
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
    fprintf(out, "  %-28s %-22s %s%s\n", name, shape, ln, role[0] ? " [design]" : "");
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(ds);
    return 0;
}

int a5_output_info(const char *path, FILE *out, char *err, size_t errlen)
{
    a5_out_h5_setup();
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
    hsize_t idx = 0;
    H5Literate(f, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, list_var, out);
    fprintf(out, "the resolved scenario is in the root attribute 'scenario' "
                 "(h5dump -a /scenario %s)\n", path);
    H5Fclose(f);
    return 0;
}
