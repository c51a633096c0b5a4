/* Writing a results file in the making: blocks of replicates, each point's
 * aggregates, reading a point's final shares back, each flush (a5_output_commit)
 * and its checkpoint, and finishing the file under its own name. */
#include "output_int.h"

#include "a5_sys.h"

#include <errno.h>
#include <hdf5_hl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- writing ----------------------------------------------------------------------- */

/* Write a hyperslab of variable v; on failure say why in err. */
static int write_slab(a5_output *o, int v, const hsize_t *start, const hsize_t *count,
                      const void *buf, char *err, size_t errlen)
{
    const int rank = a5_out_vars[v].rank;
    hid_t ds = o->var[v];
    /* In team mode every rank takes part in every write; one with nothing to write
     * selects nothing (buf NULL or an empty count). */
    int empty = !buf;
    for (int i = 0; i < rank; i++)
        empty |= count[i] == 0;
    hsize_t one[4] = {1, 1, 1, 1};
    a5_out_test_full_hook(o);
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(rank, empty ? one : count, NULL);
    int rc = A5_EHDF5;
    int sel = empty ? (H5Sselect_none(fs) >= 0 && H5Sselect_none(ms) >= 0)
                    : H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0;
    if (fs >= 0 && ms >= 0 && sel &&
        H5Dwrite(ds, a5_out_mem_type(a5_out_vars[v].kind), ms, fs, o->dxpl, buf) >= 0)
        rc = 0;
    else {
        a5_out_capture(o, "cannot write", err, errlen);
        o->broken = 1;
    }
    if (fs >= 0)
        H5Sclose(fs);
    if (ms >= 0)
        H5Sclose(ms);
    return rc;
}

int a5_output_write_block(a5_output *o, long p, long r0, long nr, const a5_records *rec,
                          char *err, size_t errlen)
{
    const hsize_t n = (hsize_t)o->s->n, steps = (hsize_t)o->s->steps;
    hsize_t s4[4] = {(hsize_t)p, (hsize_t)r0, 0, 0}, c4[4] = {1, (hsize_t)nr, steps, n};
    hsize_t s3[3] = {(hsize_t)p, (hsize_t)r0, 0}, c3[3] = {1, (hsize_t)nr, n};
    if (o->full && (write_slab(o, V_POLICY, s4, c4, rec->policy, err, errlen) ||
                    write_slab(o, V_H, s4, c4, rec->h, err, errlen)))
        return A5_EHDF5;
    /* The records a file may hold (--store full, output.record), per step or per run. */
    static const int kept[] = {V_P, V_INTEL, V_RETALIATION, V_US_TARGET, V_CHINA_TARGET,
                               V_CUM_RETALIATION, V_CUM_DOWNGRADE};
    const void *data[] = {rec->P, rec->intel_status, rec->retaliation, rec->us_target,
                          rec->china_target, rec->cum_retaliation, rec->cum_downgrade};
    for (size_t k = 0; k < sizeof kept / sizeof *kept; k++) {
        const int v = kept[k], four = a5_out_vars[v].rank == 4;
        if (a5_out_var_on(o, &a5_out_vars[v]) &&
            write_slab(o, v, four ? s4 : s3, four ? c4 : c3, data[k], err, errlen))
            return A5_EHDF5;
    }
    if (!o->s->store_outcomes &&
        (write_slab(o, V_FIRST_BAN, s3, c3, rec->first_ban, err, errlen) ||
         write_slab(o, V_FIRST_RESTRICT, s3, c3, rec->first_restrict, err, errlen) ||
         write_slab(o, V_FINAL, s3, c3, rec->final_policy, err, errlen) ||
         write_slab(o, V_COST, s3, c3, rec->cum_cost, err, errlen) ||
         write_slab(o, V_RISK, s3, c3, rec->cum_risk, err, errlen)))
        return A5_EHDF5;
    hsize_t so[3] = {(hsize_t)p, (hsize_t)r0, 0}, co[3] = {1, (hsize_t)nr, o->s->noutcomes};
    if (o->s->noutcomes && write_slab(o, V_OUTCOMES, so, co, rec->outcomes, err, errlen))
        return A5_EHDF5;
    return 0;
}

int a5_output_write_point(a5_output *o, long p, const float *share, const float *mean,
                          const float *quant, long failed, char *err, size_t errlen)
{
    const hsize_t n = (hsize_t)o->s->n, steps = (hsize_t)o->s->steps;
    hsize_t s4[4] = {(hsize_t)p, 0, 0, 0}, c4[4] = {1, steps, n, 3};
    hsize_t s3[3] = {(hsize_t)p, 0, 0}, c3[3] = {1, steps, n};
    hsize_t s1[1] = {(hsize_t)p}, c1[1] = {1};
    int nf = (int)failed;
    if ((!o->s->store_outcomes && (write_slab(o, V_SHARE, s4, c4, share, err, errlen) ||
                                   write_slab(o, V_MEAN, s3, c3, mean, err, errlen) ||
                                   write_slab(o, V_QUANT, s4, c4, quant, err, errlen))) ||
        write_slab(o, V_FAILED, s1, c1, share ? &nf : NULL, err, errlen))
        return A5_EHDF5;
    return 0;
}

int a5_output_read_final(a5_output *o, long p, float *share, float *mean, char *err,
                         size_t errlen)
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
            H5Dread(ids[v], H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, bufs[v]) < 0) {
            a5_out_capture(o, "cannot read", err, errlen);
            rc = A5_EHDF5;
        }
        if (fs >= 0)
            H5Sclose(fs);
        if (ms >= 0)
            H5Sclose(ms);
    }
    return rc;
}

/* --- finishing ----------------------------------------------------------------------- */

/* Remove attribute `name` of obj if it is there. */
static void drop_attr(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) > 0)
        (void)H5Adelete(obj, name);
}

int a5_output_finish(a5_output *o, double quantile_error, double failed, double seconds,
                     char *err, size_t errlen)
{
    int rc = A5_EHDF5;
    long long nf = (long long)failed;
    int reopen = o->live, team = o->size > 1;
    /* From here on, closing the file commits its last writes (then copies them in). */
    a5_journal_on_close(o->journal, 1);
    if (o->size > 1) {
        /* Close the shared file together; rank 0 then finishes it alone. */
        a5_out_close_all(o);
        if (o->dxpl > 0)
            H5Pclose(o->dxpl);
        o->dxpl = H5P_DEFAULT;
        if (o->rank != 0) {
            a5_out_free(o);
            return 0;
        }
        o->size = 1;
        reopen = 1;
    }
    if (reopen) {
        /* Attributes cannot change under SWMR (nor, here, through MPI-IO): close, then
         * reopen alone for the last ones. */
        a5_out_close_all(o);
        o->live = 0;
        hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
        o->file = a5_journal_close_failed(o->journal) || fapl < 0 || a5_journal_fapl(o->journal, fapl) < 0
                      ? -1 : H5Fopen(o->tmp, H5F_ACC_RDWR, fapl);
        if (fapl >= 0)
            H5Pclose(fapl);
        if (o->file >= 0 && o->size == 1 && o->rank == 0 && !team)
            a5_journal_protect(o->journal);
        if (o->file < 0 || (!o->s->store_outcomes &&
                            (o->var[V_QUANT] = H5Dopen2(o->file, a5_out_vars[V_QUANT].name,
                                                        H5P_DEFAULT)) < 0)) {
            a5_out_capture(o, "cannot reopen", err, errlen);
            goto fail;
        }
    }
    /* "complete" flips to yes only now: replace the attribute. */
    if (a5_out_reserve(o) != 0) {
        snprintf(err, errlen, "cannot finish %.200s: %s", o->tmp, strerror(errno));
        rc = A5_EIO;
        goto fail;
    }
    /* A resume after a kill during an earlier finish's last commit finds them written. */
    drop_attr(o->file, "failed_replicates");
    drop_attr(o->file, "run_seconds");
    /* (store outcomes has no quantiles) */
    const int quant = !o->s->store_outcomes;
    if (quant)
        drop_attr(o->var[V_QUANT], "max_abs_error");
    if (H5Adelete(o->file, "complete") < 0 || a5_out_attr_str(o->file, o->vlen_str, "complete", "yes") < 0 ||
        (quant && a5_out_attr_num(o->var[V_QUANT], "max_abs_error", H5T_NATIVE_DOUBLE,
                                  &quantile_error, 0) < 0) ||
        a5_out_attr_num(o->file, "failed_replicates", H5T_NATIVE_LLONG, &nf, 0) < 0 ||
        a5_out_attr_num(o->file, "run_seconds", H5T_NATIVE_DOUBLE, &seconds, 0) < 0 ||
        H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) {
        a5_out_capture(o, "cannot finish", err, errlen);
        goto fail;
    }
    a5_out_close_all(o);
    if (a5_journal_close_failed(o->journal)) {
        snprintf(err, errlen, "cannot finish %.200s: %s", o->tmp, a5_journal_close_failed(o->journal));
        rc = A5_EIO;
        goto fail;
    }
    if ((rc = a5_out_still_ours(o, err, errlen)) != 0) {
        /* Another process's files now: leave them (and ours, unnamed) alone. */
        a5_out_free(o);
        return rc;
    }
    if ((rc = a5_sys_commit_rename(o->tmp, o->path, err, errlen)) != 0)
        goto fail;
    /* The results are in place: the checkpoint has nothing left to resume. */
    (void)a5_sys_remove(o->state);
    (void)a5_sys_remove_tmp(o->state); /* a checkpoint's, left by a kill while it was written */
    a5_out_free(o);
    return 0;
fail:
    /* With a checkpoint the run can still be resumed (from it): keep both files. */
    o->broken = 1;
    a5_output_abort(o, a5_out_exists(o->state));
    return rc;
}


int a5_output_commit(a5_output *o, char *err, size_t errlen)
{
    int rc;
    /* Another process's file now: write nothing more into its names. */
    if (o->size == 1 && (rc = a5_out_still_ours(o, err, errlen)) != 0) {
        o->broken = 1;
        return rc;
    }
    a5_out_test_full_hook(o);
    if (a5_out_reserve(o) != 0) {
        snprintf(err, errlen, "cannot write %.200s: %s", o->tmp, strerror(errno));
        o->broken = 1;
        return A5_EIO;
    }
    if (H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) {
        a5_out_capture(o, "cannot flush", err, errlen);
        o->broken = 1;
        return A5_EHDF5;
    }
    if (o->rank == 0 && (o->tmpfd >= 0 ? fsync(o->tmpfd) : a5_sys_fsync_path(o->tmp)) != 0) {
        snprintf(err, errlen, "cannot sync %s: %s", o->tmp, strerror(errno));
        o->broken = 1;
        return A5_EIO;
    }
    return 0;
}

/* --- the checkpoint ---------------------------------------------------------------- */

/* The commit: the batch's bytes and the journal's waiting writes go into the
 * checkpoint file at once, then the waiting writes into the results file
 * (output_journal.c). A team's file is written through MPI-IO, without a journal. */
int a5_output_save_state(a5_output *o, const void *buf, size_t len, char *err, size_t errlen)
{
    int rc = a5_journal_set_batch(o->journal, buf, len); /* a team's rank 0 finishes alone */
    if (!rc && o->size > 1)
        return a5_journal_write_state(NULL, o->state, buf, len, err, errlen);
    if (rc)
        snprintf(err, errlen, "out of memory writing the checkpoint");
    else
        rc = a5_journal_commit(o->journal, err, errlen);
    if (rc)
        o->broken = 1; /* the disk holds the last checkpoint (or this one, half-copied: replayed on resume) */
    return rc;
}

/* The batch's bytes of the checkpoint (its journal was replayed by a5_output_reopen).
 * A checkpoint without a valid trailer is passed whole: the batch refuses it. */
int a5_output_load_state(a5_output *o, char **buf, size_t *len, char *err, size_t errlen)
{
    int rc = a5_sys_read_all(o->state, buf, len);
    if (rc == A5_EIO) {
        snprintf(err, errlen, "cannot open checkpoint %s: %s", o->state, strerror(errno));
        return A5_ERESUME;
    }
    size_t blen;
    const char *jbuf;
    size_t jlen;
    if (rc == 0 && a5_journal_split(*buf, *len, &blen, &jbuf, &jlen) == 0)
        *len = blen;
    return rc;
}
