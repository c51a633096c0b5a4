/* Private to the output module: the handle and the helpers its files share. Only
 * the output module includes hdf5.h. Its files call only down this list, never up
 * (tests/python/test_layout.py keeps the call graph between sim/ files acyclic):
 *   output_info.c    `allied5g info`
 *   output_reopen.c  read-back verify, resume, MPI team open
 *   output_write.c   blocks, point aggregates, flush and checkpoint, finish
 *   output_create.c  the variable table and its layout, a new PATH.partial
 *   output_safety.c  lock, hold, room before a flush, abort
 *   output_handle.c  HDF5 set-up, error capture, a new handle and its end
 *   output_journal.c the checkpoint's journal (its HDF5 file driver) */
#ifndef A5_OUTPUT_INT_H
#define A5_OUTPUT_INT_H

#include "a5_output.h"

#include <hdf5.h>

/* The checkpoint's journal (output_journal.c): a kill at any moment, even in the
 * middle of a flush, leaves the last checkpoint whole. */
typedef struct a5_journal a5_journal;
/* A journal for the checkpoint file `state` (NULL if out of memory). */
a5_journal *a5_journal_new(const char *state);
void a5_journal_free(a5_journal *j);
/* Set fapl to open files through j's driver. Returns fapl, or -1. */
hid_t a5_journal_fapl(a5_journal *j, hid_t fapl);
/* The open file's bytes, up to its end of allocation, are the last checkpoint's:
 * from now on writes there wait in the journal until the next commit. */
void a5_journal_protect(a5_journal *j);
/* What closing the file does with waiting writes: commit them (1: a finish) or
 * drop them (0: the default; the disk keeps the last checkpoint). */
void a5_journal_on_close(a5_journal *j, int commit);
/* Why a commit on close failed, or NULL. */
const char *a5_journal_close_failed(const a5_journal *j);
/* Keep a copy of the batch's checkpoint bytes (for commits on close). Returns 0 or
 * A5_ENOMEM. */
int a5_journal_set_batch(a5_journal *j, const void *buf, size_t len);
/* Write the checkpoint file `path`: the batch's bytes and j's waiting writes (j may
 * be NULL: none), atomically. Returns 0 or A5_E* (err says why). */
int a5_journal_write_state(a5_journal *j, const char *path, const void *batch, size_t blen,
                           char *err, size_t errlen);
/* The commit: write the checkpoint (the last batch bytes and the waiting writes),
 * then copy the waiting writes into the file and protect it up to its new end.
 * Returns 0 or A5_E* (err says why). */
int a5_journal_commit(a5_journal *j, char *err, size_t errlen);
/* Split a checkpoint file's bytes into the batch's (buf, *blen) and the journal's
 * (*jbuf, *jlen). Returns 0, or -1 if it is not one (or its checksum fails). */
int a5_journal_split(char *buf, size_t len, size_t *blen, const char **jbuf, size_t *jlen);
/* Write a checkpoint's journal into the file at path (before HDF5 opens it) and
 * sync it. Returns 0 or -1 (errno set). */
int a5_journal_replay(const char *path, const char *jbuf, size_t jlen);

enum { D_POINT, D_REPLICATE, D_STEP, D_NATION, D_OPTION, D_QUANTILE, D_BLOC, D_OUTCOME, D_COUNT };
enum { V_POLICY, V_H, V_P, V_FIRST_BAN, V_FINAL, V_COST, V_RISK, V_SHARE, V_MEAN, V_QUANT,
       V_FAILED, V_INTEL, V_FIRST_RESTRICT, V_RETALIATION, V_US_TARGET, V_CHINA_TARGET,
       V_CUM_RETALIATION, V_CUM_DOWNGRADE, V_OUTCOMES, V_COUNT };

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
    a5_journal *journal; /* a single process's file driver (NULL in team mode) */
};

enum { K_I8, K_I16, K_I32, K_F32, K_F64 };   /* element types */
enum { CH_NONE, CH_REPLICATE, CH_POINT };    /* chunking */

/* One results variable: how it is stored and what it means. */
typedef struct {
    const char *name;
    int kind;       /* K_* */
    int rank;
    int dims[4];    /* D_* */
    int chunk;      /* CH_REPLICATE: (1 point, chunk_reps replicates, all of the rest);
                     * CH_POINT: (1 point, all of the rest); CH_NONE: contiguous */
    int deflate;    /* shuffle + deflate at this level; 0: none */
    double fill;    /* fill value (converted to the type) */
    int flags;      /* CF flag_values 0 1 2 / flag_meanings "open restrict ban" (2: the
                     * lever's "none threatened downgraded"; 3: 0 1 "no yes") */
    int full_only;  /* per-replicate step data: left out by --store summary (2: and
                     * when the scenario cannot switch the intelligence lever on; 3:
                     * only when output.record asks; 4: only when the scenario has outcomes) */
    const char *long_name, *units, *description;
    int record;     /* the A5_REC_* bit of output.record that puts it in any file */
} var_spec;

/* The variables (output_create.c), in V_* order, which is also their order in the file. */
extern const var_spec a5_out_vars[V_COUNT];
/* Whether variable vs is in this file. */
int a5_out_var_on(const a5_output *o, const var_spec *vs);
/* The memory type of element type kind (K_*). */
hid_t a5_out_mem_type(int kind);
/* Dataset access properties of a chunked variable. */
hid_t a5_out_chunk_access(void);
/* Attributes of obj: a string (of type vstr), n numbers of type type. Return 0 or -1. */
int a5_out_attr_str(hid_t obj, hid_t vstr, const char *name, const char *value);
int a5_out_attr_num(hid_t obj, const char *name, hid_t type, const void *v, hsize_t n);
/* Whether something is at path. */
int a5_out_exists(const char *path);

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
