/* MPI team: collectives for the batch driver. See a5_mpi.h. */
#include "a5_mpi.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    a5_batch_team team; /* first: the driver sees only this */
    MPI_Comm comm;
} mpi_team;

static MPI_Comm comm_of(a5_batch_team *t) { return ((mpi_team *)t)->comm; }

static int max_int(a5_batch_team *t, int v)
{
    int r = v;
    MPI_Allreduce(&v, &r, 1, MPI_INT, MPI_MAX, comm_of(t));
    return r;
}

static long sum_long(a5_batch_team *t, long v)
{
    long r = v;
    MPI_Allreduce(&v, &r, 1, MPI_LONG, MPI_SUM, comm_of(t));
    return r;
}

static void bcast(a5_batch_team *t, void *buf, size_t n)
{
    MPI_Bcast(buf, (int)n, MPI_BYTE, 0, comm_of(t));
}

/* Each rank saves its aggregates; rank 0 gathers and merges them (the merge adds
 * integers and exact sums, so the order of ranks does not matter). */
static int merge(a5_batch_team *t, a5_agg *agg, int threads)
{
    MPI_Comm comm = comm_of(t);
    char *buf = NULL;
    size_t len = 0;
    int rc = 0;
    if (t->rank != 0) {
        FILE *m = open_memstream(&buf, &len);
        if (!m || a5_agg_save(agg, m) != 0)
            rc = A5_ENOMEM;
        if (m)
            fclose(m);
    }
    long mine = (long)len, *lens = NULL;
    int *counts = NULL, *displs = NULL;
    char *all = NULL;
    if (t->rank == 0) {
        lens = calloc((size_t)t->size, sizeof *lens);
        counts = calloc((size_t)t->size, sizeof *counts);
        displs = calloc((size_t)t->size, sizeof *displs);
        if (!lens || !counts || !displs)
            rc = A5_ENOMEM;
    }
    MPI_Gather(&mine, 1, MPI_LONG, lens, 1, MPI_LONG, 0, comm);
    long total = 0;
    if (t->rank == 0 && !rc) {
        for (int r = 0; r < t->size; r++) {
            displs[r] = (int)total;
            counts[r] = (int)lens[r];
            total += lens[r];
        }
        all = malloc((size_t)total + 1);
        if (!all)
            rc = A5_ENOMEM;
    }
    MPI_Gatherv(buf, (int)len, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, comm);
    if (t->rank == 0 && !rc)
        for (int r = 1; r < t->size && !rc; r++) {
            FILE *m = fmemopen(all + displs[r], (size_t)counts[r], "rb");
            rc = m ? a5_agg_merge_saved(agg, m) : A5_ENOMEM;
            if (m)
                fclose(m);
        }
    if (t->rank != 0)
        a5_agg_reset(agg, threads);
    free(buf);
    free(all);
    free(lens);
    free(counts);
    free(displs);
    return -max_int(t, -rc);
}

a5_batch_team *a5_mpi_team_alloc(void)
{
    mpi_team *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->comm = MPI_COMM_WORLD;
    MPI_Comm_rank(m->comm, &m->team.rank);
    MPI_Comm_size(m->comm, &m->team.size);
    m->team.max_int = max_int;
    m->team.sum = sum_long;
    m->team.bcast = bcast;
    m->team.merge = merge;
    return &m->team;
}

void a5_mpi_team_free(a5_batch_team *t) { free(t); }

void *a5_mpi_team_comm(a5_batch_team *t) { return &((mpi_team *)t)->comm; }
