/* Private to the output module (output.c, output_team.c, output_info.c): the
 * handle and the helpers its files share. Only the output module includes hdf5.h. */
#ifndef A5_OUTPUT_INT_H
#define A5_OUTPUT_INT_H

#include "a5_output.h"

#include <hdf5.h>

enum { D_POINT, D_REPLICATE, D_STEP, D_NATION, D_OPTION, D_QUANTILE, D_BLOC, D_COUNT };
enum { V_POLICY, V_H, V_P, V_FIRST_BAN, V_FINAL, V_COST, V_RISK, V_SHARE, V_MEAN, V_QUANT,
       V_FAILED, V_INTEL, V_COUNT };

struct a5_output {
    const a5_scenario *s;
    char *path, *tmp, *state; /* OUT, OUT.partial, OUT.partial.state (the checkpoint) */
    char *lock;               /* OUT.partial.lock: held for the whole run (a5_out_lock) */
    int lockfd;               /* its descriptor, or -1 */
    int tmpfd;                /* OUT.partial, read-locked while ours (a5_out_hold), or -1 */
    int broken;               /* a write failed: the file on disk is left as it is */
    int restarted;            /* a resume with no checkpoint to resume from: started over */
    hid_t file;
    hid_t dim[D_COUNT];
    hid_t var[V_COUNT];
    hid_t vlen_str; /* variable-length UTF-8 string: made once per handle */
    int full;
    int live;       /* SWMR writer */
    int rank, size; /* team mode (MPI): this process among size; size 1 otherwise */
    hid_t dxpl;     /* data transfer: collective in team mode, else H5P_DEFAULT */
    hid_t sxpl;     /* data transfer of the name lists written at creation */
};

/* Once, before HDF5 initialises: no automatic error printing, no shutdown at exit. */
void a5_out_h5_setup(void);
/* A variable-length UTF-8 string type (close with H5Tclose), or -1. */
hid_t a5_out_vstr_new(void);
/* A new handle for results file `path`, after checking PATH is not there to be
 * overwritten. Returns 0, A5_EEXIST or A5_ENOMEM (err says why). */
int a5_out_new(const char *path, const a5_scenario *s, const a5_output_meta *meta,
               a5_output **out, char *err, size_t errlen);
/* How variable v (V_*) is stored: name, rank, memory type, chunking (A5_OUT_CH_*). */
enum { A5_OUT_CH_NONE, A5_OUT_CH_REPLICATE, A5_OUT_CH_POINT };
void a5_out_var_layout(int v, const char **name, int *rank, hid_t *mtype, int *chunk);
/* Before a flush: make sure the file system has room for all HDF5 will write.
 * Returns 0 or -1 (errno set). */
int a5_out_reserve(a5_output *o);
/* The A5_TEST_FULL_AT test hook; call before each write or flush. */
void a5_out_test_full_hook(a5_output *o);
/* Dataset creation properties as every variable has them (chunk NULL: contiguous). */
hid_t a5_out_dcpl(int rank, const hsize_t *chunk, int deflate);
/* "WHAT PATH.partial: CAUSE" into err, the cause from HDF5's error stack. */
void a5_out_capture(const a5_output *o, const char *what, char *err, size_t errlen);
/* The coordinate 0 .. n-1 (64-bit when wide) of a dimension, written in slices. */
hid_t a5_out_coord_iota(a5_output *o, const char *name, hsize_t n, int wide);
/* Take the exclusive lock on PATH.partial.lock for this handle's life. Returns 0;
 * A5_EBUSY ("PATH is being written by process PID") or A5_EIO (err says why). */
int a5_out_lock(a5_output *o, char *err, size_t errlen);
/* Hold o's PATH.partial (just created or reopened): a read lock on it (an OFD
 * lock, apart from HDF5's own) that a5_out_lock of any other process sees, even if
 * the lock file was removed meanwhile. Returns 0 or A5_EIO (err says why). */
int a5_out_hold(a5_output *o, char *err, size_t errlen);
/* Whether the lock file and PATH.partial are still the ones o holds (neither
 * removed nor replaced by another process). Returns 0, or A5_EBUSY (err says why). */
int a5_out_still_ours(const a5_output *o, char *err, size_t errlen);
/* Start o's PATH.partial afresh (o holds the lock): remove an interrupted run's
 * files, create the file. Returns 0, A5_EIO or A5_EHDF5 (err says why). */
int a5_out_start(a5_output *o, const a5_output_meta *meta, char *err, size_t errlen);
/* Open every variable dataset of the store in use. Returns 0 or -1. */
int a5_out_open_vars(a5_output *o);
/* Close every HDF5 object of the file (not the handle's own types and lists). */
void a5_out_close_all(a5_output *o);
/* Free the handle (after a5_out_close_all), releasing its lock. */
void a5_out_free(a5_output *o);

#endif
